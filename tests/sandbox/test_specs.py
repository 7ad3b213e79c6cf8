"""Sandbox responses validated against Amazon's own published schemas (specs/ beside the repository).

OpenAPI 3.0 documents (SponsoredProducts, ReportingVersion3, AccountsProfiles) are validated with
openapi-schema-validator's OAS30 validator; their "#/components/..." $refs resolve through a referencing
Registry holding the whole document.  The Swagger 2.0 SP-API model and the draft-07 report documents use
jsonschema with "#/definitions/..." refs resolved the same way.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import time

import pytest
import requests
from jsonschema import Draft7Validator
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT7

_CACHE: dict = {}


def _load(specs_dir, name):
    if name not in _CACHE:
        _CACHE[name] = json.loads((specs_dir / name).read_text())
    return _CACHE[name]


def oas_validate(specs_dir, name: str, schema: dict, instance) -> None:
    doc = _load(specs_dir, name)
    uri = f"urn:spec:{name}"
    registry = Registry().with_resource(uri, Resource.from_contents(doc, default_specification=DRAFT4))
    # resolve "#/components/..." relative to the whole spec document
    validator = OAS30Validator(_rebase(schema, uri), registry=registry)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def _rebase(schema, uri):
    """Make local '#/...' refs absolute (urn:spec:<file>#/...) so they resolve inside the whole document."""
    if isinstance(schema, dict):
        return {
            k: (uri + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rebase(v, uri))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_rebase(x, uri) for x in schema]
    return schema


def response_schema(specs_dir, name, path, method, status, media=None):
    op = _load(specs_dir, name)["paths"][path][method]
    content = op["responses"][str(status)]["content"]
    return content[media] if media else next(iter(content.values()))


def json_validate(specs_dir, name: str, instance, definition: str | None = None) -> None:
    doc = _load(specs_dir, name)
    uri = f"urn:spec:{name}"
    spec = DRAFT7 if "draft-07" in doc.get("$schema", "") else DRAFT4
    registry = Registry().with_resource(uri, Resource.from_contents(doc, default_specification=spec))
    schema = {"$ref": f"{uri}#/definitions/{definition}"} if definition else _rebase(doc, uri)
    errors = list(Draft7Validator(schema, registry=registry).iter_errors(instance))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


SP = "SponsoredProducts.json"


def test_profiles_against_accounts_profiles(specs_dir, ads):
    profiles = ads.profiles()
    sch = response_schema(specs_dir, "AccountsProfiles.json", "/v2/profiles", "get", 200)["schema"]
    oas_validate(specs_dir, "AccountsProfiles.json", sch, profiles)
    one = response_schema(specs_dir, "AccountsProfiles.json", "/v2/profiles/{profileId}", "get", 200)["schema"]
    oas_validate(specs_dir, "AccountsProfiles.json", one, ads.get(f"/v2/profiles/{profiles[0]['profileId']}").json())
    # fields the trimmed spec lacks (reference section 3)
    assert all({"currencyCode", "timezone"} <= set(p) and "marketplaceStringId" in p["accountInfo"] for p in profiles)


@pytest.mark.parametrize(
    "coll,vnd",
    [
        ("campaigns", "spCampaign"),
        ("adGroups", "spAdGroup"),
        ("keywords", "spKeyword"),
        ("targets", "spTargetingClause"),
        ("negativeKeywords", "spNegativeKeyword"),
        ("productAds", "spProductAd"),
    ],
)
@pytest.mark.parametrize("extended", [False, True])
def test_sp_lists_against_spec(specs_dir, ads, coll, vnd, extended):
    pid = ads.profile_id()
    media = f"application/vnd.{vnd}.v3+json"
    body = {"includeExtendedDataFields": True, "maxResults": 200} if extended else {"maxResults": 200}
    r = ads.post(f"/sp/{coll}/list", body, profile_id=pid, **{"Content-Type": media, "Accept": media})
    assert r.status_code == 200
    sch = response_schema(specs_dir, SP, f"/sp/{coll}/list", "post", 200, media)["schema"]
    oas_validate(specs_dir, SP, sch, r.json())


def test_sp_errors_against_spec(specs_dir, ads, sandbox):
    pid = ads.profile_id()
    r = ads.post("/sp/keywords/list", {"stateFilter": {"include": ["enabled"]}}, profile_id=pid)
    oas_validate(specs_dir, SP, response_schema(specs_dir, SP, "/sp/keywords/list", "post", 400)["schema"], r.json())
    r = requests.post(
        sandbox.url + "/sp/keywords/list", json={}, headers={**ads.headers(pid), "Authorization": "x"}, timeout=5
    )
    oas_validate(specs_dir, SP, response_schema(specs_dir, SP, "/sp/keywords/list", "post", 401)["schema"], r.json())
    r = requests.post(
        sandbox.url + "/sp/keywords/list",
        data="{}",
        timeout=5,
        headers={**ads.headers(pid), "Content-Type": "text/plain"},
    )
    oas_validate(specs_dir, SP, response_schema(specs_dir, SP, "/sp/keywords/list", "post", 415)["schema"], r.json())


def test_sp_207_against_spec(specs_dir, own, own_ads):
    w, ads = own.world, own_ads
    pid = ads.profile_id()
    ag = next(a for a in w.entities(pid, "adGroups") if a["state"] == "ENABLED")
    kw = next(k for k in w.entities(pid, "keywords") if k["state"] == "ENABLED")
    media = "application/vnd.spKeyword.v3+json"
    base = {"campaignId": ag["campaignId"], "adGroupId": ag["adGroupId"], "matchType": "PHRASE", "state": "ENABLED"}
    calls = [
        (
            "post",
            "/sp/keywords",
            {
                "keywords": [
                    {**base, "keywordText": "spec check phrase"},
                    {**base, "keywordText": "b", "bid": 9999},
                    {**base, "keywordText": "c", "adGroupId": "1"},
                    {**base, "keywordText": " "},
                ]
            },
        ),
        ("put", "/sp/keywords", {"keywords": [{"keywordId": kw["keywordId"], "bid": 0.8}, {"keywordId": "1"}]}),
        ("post", "/sp/keywords/delete", {"keywordIdFilter": {"include": ["1", kw["keywordId"]]}}),
    ]
    for method, path, body in calls:
        r = getattr(ads, method)(
            path, body, profile_id=pid, Prefer="return=representation", **{"Content-Type": media, "Accept": media}
        )
        assert r.status_code == 207
        assert r.json()["keywords"]["error"]
        sch = response_schema(specs_dir, SP, path, method, 207, media)["schema"]
        oas_validate(specs_dir, SP, sch, r.json())
    camp = {
        "name": "Spec Campaign",
        "state": "PAUSED",
        "targetingType": "AUTO",
        "budget": {"budget": 5, "budgetType": "DAILY"},
    }
    r = ads.post(
        "/sp/campaigns",
        {"campaigns": [camp, {**camp, "name": "x", "budget": {"budget": 0, "budgetType": "DAILY"}}]},
        profile_id=pid,
        Prefer="return=representation",
    )
    oas_validate(specs_dir, SP, response_schema(specs_dir, SP, "/sp/campaigns", "post", 207)["schema"], r.json())


def test_reporting_against_spec(specs_dir, ads, sandbox):
    pid = ads.profile_id("DE")
    today = sandbox.world.today
    body = {
        "name": "spec",
        "startDate": str(today - dt.timedelta(days=3)),
        "endDate": str(today - dt.timedelta(days=1)),
        "configuration": {
            "adProduct": "SPONSORED_PRODUCTS",
            "reportTypeId": "spSearchTerm",
            "groupBy": ["searchTerm"],
            "columns": ["date", "searchTerm", "clicks", "cost"],
            "timeUnit": "DAILY",
            "format": "GZIP_JSON",
        },
    }
    RV = "ReportingVersion3.json"
    req_schema = _load(specs_dir, RV)["paths"]["/reporting/reports"]["post"]["requestBody"]["content"]
    oas_validate(specs_dir, RV, next(iter(req_schema.values()))["schema"], body)  # our own test body is valid
    r = ads.post("/reporting/reports", body, profile_id=pid)
    oas_validate(specs_dir, RV, response_schema(specs_dir, RV, "/reporting/reports", "post", 200)["schema"], r.json())
    rid = r.json()["reportId"]
    end = time.time() + 5
    while True:
        g = ads.get(f"/reporting/reports/{rid}", profile_id=pid)
        oas_validate(
            specs_dir,
            RV,
            response_schema(specs_dir, RV, "/reporting/reports/{reportId}", "get", 200)["schema"],
            g.json(),
        )
        if g.json()["status"] == "COMPLETED" or time.time() > end:
            break
        time.sleep(0.05)
    assert g.json()["status"] == "COMPLETED"
    dup = ads.post("/reporting/reports", {**body, "name": "other"}, profile_id=pid)
    err = ads.post("/reporting/reports", {**body, "startDate": "2001-01-01"}, profile_id=pid)
    for resp in (err,) + ((dup,) if dup.status_code != 200 else ()):
        oas_validate(specs_dir, RV, {"$ref": "#/components/schemas/AsyncReportingError"}, resp.json())


def test_spapi_against_spec(specs_dir, ads, sandbox):
    url, tok = sandbox.url, ads.token
    H = {"x-amz-access-token": tok}
    S = "reports_2021-06-30.json"
    today = sandbox.world.today
    for rtype, opts, doc_schema in (
        (
            "GET_COUPON_PERFORMANCE_REPORT",
            {"couponStartDateFrom": "2020-01-01T00:00:00Z", "couponStartDateTo": f"{today}T00:00:00Z"},
            "sellerCouponReport.json",
        ),
        (
            "GET_PROMOTION_PERFORMANCE_REPORT",
            {"promotionStartDateFrom": "2020-01-01T00:00:00Z", "promotionStartDateTo": f"{today}T00:00:00Z"},
            "promotionReport.json",
        ),
    ):
        spec_body = {"reportType": rtype, "marketplaceIds": ["ATVPDKIKX0DER"], "reportOptions": opts}
        json_validate(specs_dir, S, spec_body, "CreateReportSpecification")
        r = requests.post(url + "/reports/2021-06-30/reports", json=spec_body, headers=H, timeout=5)
        assert r.status_code == 202
        json_validate(specs_dir, S, r.json(), "CreateReportResponse")
        rid = r.json()["reportId"]
        end = time.time() + 5
        while True:
            j = requests.get(f"{url}/reports/2021-06-30/reports/{rid}", headers=H, timeout=5).json()
            json_validate(specs_dir, S, j, "Report")
            if j["processingStatus"] in ("DONE", "FATAL") or time.time() > end:
                break
            time.sleep(0.05)
        assert j["processingStatus"] == "DONE"
        d = requests.get(f"{url}/reports/2021-06-30/documents/{j['reportDocumentId']}", headers=H, timeout=5).json()
        json_validate(specs_dir, S, d, "ReportDocument")
        doc = json.loads(gzip.decompress(requests.get(d["url"], timeout=5).content).decode("utf-8"))
        json_validate(specs_dir, doc_schema, doc)
        assert doc[("coupons" if "COUPON" in rtype else "promotions")], f"{rtype}: empty document"
    for bad in (
        requests.post(url + "/reports/2021-06-30/reports", json={}, timeout=5),
        requests.post(url + "/reports/2021-06-30/reports", json={"reportType": "X"}, headers=H, timeout=5),
        requests.get(url + "/reports/2021-06-30/reports/1", headers=H, timeout=5),
    ):
        assert bad.status_code in (400, 403, 404)
        json_validate(specs_dir, S, bad.json(), "ErrorList")
