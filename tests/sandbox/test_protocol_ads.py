"""Ads API: headers and scope, /v2/profiles, SP v3 lists (filters, paging, media types) and 207 mutations."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from sandbox.credentials import AUTHORIZATIONS, SECOND_CLIENT

KW = "application/vnd.spKeyword.v3+json"


def test_every_response_has_request_id(sandbox, ads):
    for r in (
        ads.get("/v2/profiles"),
        requests.get(sandbox.url + "/nope", timeout=5),
        requests.post(sandbox.url + "/auth/o2/token", data={}, timeout=5),
    ):
        assert r.headers.get("x-amzn-RequestId")


def test_missing_or_bad_bearer_401(sandbox, ads):
    r = requests.get(
        sandbox.url + "/v2/profiles", headers={"Amazon-Advertising-API-ClientId": ads.client_id}, timeout=5
    )
    assert r.status_code == 401 and r.json()["code"] == "UNAUTHORIZED" and r.json()["message"]
    r = requests.get(
        sandbox.url + "/v2/profiles",
        timeout=5,
        headers={"Authorization": "Bearer Atza|forged", "Amazon-Advertising-API-ClientId": ads.client_id},
    )
    assert r.status_code == 401
    assert r.json()["details"] == "Not authorized to access this advertiser"


def test_client_id_header_required_and_must_match(sandbox, ads):
    r = requests.get(sandbox.url + "/v2/profiles", headers={"Authorization": f"Bearer {ads.token}"}, timeout=5)
    assert r.status_code == 400 and "Amazon-Advertising-API-ClientId" in r.json()["message"]
    r = requests.get(
        sandbox.url + "/v2/profiles",
        timeout=5,
        headers={"Authorization": f"Bearer {ads.token}", "Amazon-Advertising-API-ClientId": SECOND_CLIENT["client_id"]},
    )
    assert r.status_code == 401 and r.json()["code"] == "UNAUTHORIZED"


def test_scope_header(sandbox, ads, make_ads):
    r = ads.post("/sp/campaigns/list", {})
    assert r.status_code == 401 and r.json()["message"] == "Scope header is missing"
    second = make_ads(sandbox.url, AUTHORIZATIONS["second"]["refresh_token"])
    ca = second.profile_id("CA")
    r = ads.post("/sp/campaigns/list", {}, profile_id=ca)  # another seller's profile
    assert r.status_code == 401 and r.json()["message"] == f"Not authorized to access scope {ca}"
    uk = ads.profile_id("UK")
    r = ads.post("/na/sp/campaigns/list", {}, profile_id=uk)  # EU profile on the NA host
    assert r.status_code == 401 and r.json()["message"] == f"Not authorized to access scope {uk}"
    assert ads.post("/eu/sp/campaigns/list", {}, profile_id=uk).status_code == 200
    assert ads.post("/sp/campaigns/list", {}, profile_id=uk).status_code == 200  # no prefix: every region


def test_profiles_by_region_and_filters(sandbox, ads):
    all_ = ads.profiles()
    assert {p["countryCode"] for p in all_} == {"US", "UK", "DE"}
    assert all(isinstance(p["profileId"], int) for p in all_)
    assert {p["countryCode"] for p in ads.profiles("/na")} == {"US"}
    assert {p["countryCode"] for p in ads.profiles("/eu")} == {"UK", "DE"}
    assert ads.profiles("/fe") == []
    r = ads.get("/v2/profiles?profileTypeFilter=vendor")
    assert r.status_code == 200 and r.json() == []
    assert ads.get("/v2/profiles?apiProgram=bogus").status_code == 400
    pid = all_[0]["profileId"]
    r = ads.get(f"/v2/profiles/{pid}")
    assert r.status_code == 200 and r.json() == all_[0]
    assert ads.get("/v2/profiles/123").status_code == 404


def test_list_paging_vendor_types(sandbox, ads):
    pid = ads.profile_id()
    total = len(sandbox.world.entities(pid, "keywords"))
    seen, token, pages = [], None, 0
    while True:
        body = {"maxResults": 50, **({"nextToken": token} if token else {})}
        r = ads.post("/sp/keywords/list", body, profile_id=pid, **{"Content-Type": KW, "Accept": KW})
        assert r.status_code == 200 and r.headers["Content-Type"] == KW
        j = r.json()
        assert j["totalResults"] == total
        seen += [k["keywordId"] for k in j["keywords"]]
        pages += 1
        token = j.get("nextToken")
        if token is None:
            break
        assert "nextToken" in j
    assert len(seen) == len(set(seen)) == total and pages == -(-total // 50)
    assert all(isinstance(k, str) for k in seen)


def test_list_defaults_and_extended_data(sandbox, ads):
    pid = ads.profile_id()
    r = ads.post("/sp/campaigns/list", {}, profile_id=pid)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    camps = r.json()["campaigns"]
    assert "nextToken" not in r.json() and all("extendedData" not in c for c in camps)
    r = ads.post("/sp/campaigns/list", {"includeExtendedDataFields": True}, profile_id=pid)
    assert all("extendedData" in c for c in r.json()["campaigns"])
    r = ads.s.post(sandbox.url + "/sp/campaigns/list", headers=ads.headers(pid), timeout=10)  # no body at all
    assert r.status_code == 200


def test_list_filters(sandbox, ads):
    pid = ads.profile_id()
    kws = sandbox.world.entities(pid, "keywords")
    k0 = kws[0]
    j = ads.post("/sp/keywords/list", {"keywordIdFilter": {"include": [k0["keywordId"]]}}, profile_id=pid).json()
    assert [k["keywordId"] for k in j["keywords"]] == [k0["keywordId"]]
    j = ads.post(
        "/sp/keywords/list",
        {"adGroupIdFilter": {"include": [k0["adGroupId"]]}, "matchTypeFilter": [k0["matchType"]]},
        profile_id=pid,
    ).json()
    assert j["keywords"] and all(
        k["adGroupId"] == k0["adGroupId"] and k["matchType"] == k0["matchType"] for k in j["keywords"]
    )
    j = ads.post(
        "/sp/keywords/list",
        {"keywordTextFilter": {"include": [k0["keywordText"]], "queryTermMatchType": "EXACT_MATCH"}},
        profile_id=pid,
    ).json()
    assert j["keywords"] and all(k["keywordText"].lower() == k0["keywordText"].lower() for k in j["keywords"])
    word = k0["keywordText"].split()[0]
    j = ads.post(
        "/sp/keywords/list",
        {"keywordTextFilter": {"include": [word], "queryTermMatchType": "BROAD_MATCH"}},
        profile_id=pid,
    ).json()
    assert j["totalResults"] >= 1 and all(word.lower() in k["keywordText"].lower() for k in j["keywords"])
    states = {k["state"] for k in kws}
    for st in states:
        j = ads.post("/sp/keywords/list", {"stateFilter": {"include": [st]}}, profile_id=pid).json()
        assert j["totalResults"] == sum(k["state"] == st for k in kws)
    j = ads.post("/sp/targets/list", {"expressionTypeFilter": {"include": ["AUTO"]}}, profile_id=pid).json()
    assert all(t["expressionType"] == "AUTO" for t in j["targetingClauses"])
    camp = sandbox.world.entities(pid, "campaigns")[0]
    j = ads.post(
        "/sp/campaigns/list",
        {"nameFilter": {"include": [camp["name"]], "queryTermMatchType": "EXACT_MATCH"}},
        profile_id=pid,
    ).json()
    assert [c["campaignId"] for c in j["campaigns"]] == [camp["campaignId"]]
    j = ads.post("/sp/adGroups/list", {"campaignIdFilter": {"include": [camp["campaignId"]]}}, profile_id=pid).json()
    assert all(a["campaignId"] == camp["campaignId"] for a in j["adGroups"])
    j = ads.post("/sp/adGroups/list", {"campaignTargetingTypeFilter": camp["targetingType"]}, profile_id=pid).json()
    assert j["totalResults"] >= 1


def test_lowercase_state_filter_400(sandbox, ads):
    pid = ads.profile_id()
    r = ads.post("/sp/campaigns/list", {"stateFilter": {"include": ["enabled"]}}, profile_id=pid)
    assert r.status_code == 400
    assert r.json()["code"] == "INVALID_ARGUMENT"
    assert r.json()["message"].startswith(
        "1 validation error detected: Value '[enabled]' at 'stateFilter.include' failed to satisfy constraint: "
    )
    # Airbyte's comma-joined string
    r = ads.post("/sp/campaigns/list", {"stateFilter": {"include": "enabled,paused"}}, profile_id=pid)
    assert r.status_code == 400


def test_list_validation_errors(sandbox, ads):
    pid = ads.profile_id()
    assert ads.post("/sp/keywords/list", {"maxResults": 5000}, profile_id=pid).status_code == 400
    assert ads.post("/sp/keywords/list", {"nextToken": "garbage"}, profile_id=pid).status_code == 400
    assert ads.post("/sp/keywords/list", {"keywordTextFilter": {"include": ["x"]}}, profile_id=pid).status_code == 400
    assert ads.post("/sp/keywords/list", {"matchTypeFilter": ["exact"]}, profile_id=pid).status_code == 400
    r = ads.post("/sp/keywords/list", {"campaignIdFilter": {"include": [str(i) for i in range(101)]}}, profile_id=pid)
    assert r.status_code == 400
    # a token from other filters is refused
    t = ads.post("/sp/keywords/list", {"maxResults": 1}, profile_id=pid).json()["nextToken"]
    r = ads.post("/sp/keywords/list", {"maxResults": 1, "nextToken": t, "matchTypeFilter": ["EXACT"]}, profile_id=pid)
    assert r.status_code == 400


def test_media_types_415_406_and_malformed_json(sandbox, ads):
    pid = ads.profile_id()
    h = ads.headers(pid)
    r = requests.post(
        sandbox.url + "/sp/keywords/list", data="{}", headers={**h, "Content-Type": "text/plain"}, timeout=5
    )
    assert r.status_code == 415 and r.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    r = requests.post(
        sandbox.url + "/sp/keywords/list",
        data="{}",
        timeout=5,
        headers={**h, "Content-Type": "application/vnd.spCampaign.v3+json"},
    )
    assert r.status_code == 415
    r = requests.post(
        sandbox.url + "/sp/keywords/list",
        json={},
        timeout=5,
        headers={**h, "Accept": "application/vnd.spCampaign.v3+json"},
    )
    assert r.status_code == 406
    r = requests.post(
        sandbox.url + "/sp/keywords/list",
        data="{not json",
        timeout=5,
        headers={**h, "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["code"] == "INVALID_ARGUMENT"


def test_unknown_path_and_method(sandbox, ads):
    r = requests.get(sandbox.url + "/sp/nothing", timeout=5)
    assert r.status_code == 404 and "traceback" not in r.text.lower()
    r = requests.get(sandbox.url + "/sp/keywords/list", headers=ads.headers(), timeout=5)
    assert r.status_code == 405 and "POST" in r.headers["Allow"]
    assert requests.get(sandbox.url + "/xx/v2/profiles", timeout=5).status_code == 404
    assert requests.post(sandbox.url + "/na/auth/o2/token", timeout=5).status_code == 404


# ---------------------------------------------------------------------------------------------- mutations
def _first(world, pid, kind, state="ENABLED"):
    return next(e for e in world.entities(pid, kind) if e["state"] == state)


def test_create_keywords_207_mixed(own, own_ads):
    w, ads = own.world, own_ads
    pid = ads.profile_id()
    kinds = {c["campaignId"]: c["targetingType"] for c in w.entities(pid, "campaigns")}
    ag = next(a for a in w.entities(pid, "adGroups") if a["state"] == "ENABLED" and kinds[a["campaignId"]] == "MANUAL")
    auto_ag = next(a for a in w.entities(pid, "adGroups") if kinds[a["campaignId"]] == "AUTO")
    good = {
        "campaignId": ag["campaignId"],
        "adGroupId": ag["adGroupId"],
        "keywordText": "sandbox brand new term",
        "matchType": "EXACT",
        "state": "ENABLED",
        "bid": 0.55,
    }
    items = [
        good,
        {**good, "keywordText": "other", "bid": 5000},  # bid out of range
        {**good, "adGroupId": "999"},  # parent not found
        {k: v for k, v in good.items() if k != "matchType"},  # missing value
        {**good, "keywordText": "x" * 81},  # too long
        {**good, "matchType": "exact"},  # lowercase enum
        dict(good),  # duplicate of item 0
        {**good, "campaignId": auto_ag["campaignId"], "adGroupId": auto_ag["adGroupId"]},  # auto: no keywords
    ]
    r = ads.post("/sp/keywords", {"keywords": items}, profile_id=pid, **{"Content-Type": KW, "Accept": KW})
    assert r.status_code == 207
    j = r.json()["keywords"]
    assert [s["index"] for s in j["success"]] == [0]
    assert "keyword" not in j["success"][0] and j["success"][0]["keywordId"].isdigit()
    errs = {e["index"]: e["errors"][0] for e in j["error"]}
    assert set(errs) == {1, 2, 3, 4, 5, 6, 7}
    b = errs[1]["errorValue"]["biddingError"]
    assert errs[1]["errorType"] == "biddingError" and b["reason"] == "BID_OUT_OF_MARKET_PLACE_RANGE"
    assert (b["lowerLimit"], b["upperLimit"]) == ("0.02", "1000.0")
    assert errs[2]["errorValue"]["entityNotFoundError"]["entityType"] == "AD_GROUP"
    assert errs[3]["errorValue"]["missingValueError"]["reason"] == "MISSING_VALUE"
    assert errs[4]["errorValue"]["malformedValueError"]["reason"] == "TOO_LONG"
    assert errs[5]["errorValue"]["rangeError"]["reason"] == "INVALID_ENUM_VALUE"
    assert errs[6]["errorType"] == "duplicateValueError"
    # Amazon takes keywords in manual campaigns only: the error and reason are the spec's keyword mutation ones
    setup = errs[7]["errorValue"]["targetingClauseSetupError"]
    assert setup["reason"] == "TARGETING_TYPE_NOT_ALLOWED_FOR_AUTO_TARGETING_CAMPAIGN"
    spec = json.loads((Path(__file__).parents[1] / "specs" / "SponsoredProducts.json").read_text())["components"]
    schemas = spec["schemas"]
    assert "targetingClauseSetupError" in schemas["SponsoredProductsKeywordMutationErrorSelector"]["properties"]
    assert setup["reason"] in schemas["SponsoredProductsTargetingClauseSetupErrorReason"]["enum"]
    for e in errs.values():
        assert list(e["errorValue"]) == [e["errorType"]]
    new_id = j["success"][0]["keywordId"]
    assert w.get_entity(pid, "keywords", new_id)["keywordText"] == "sandbox brand new term"


def test_update_archive_and_representation(own, own_ads):
    w, ads = own.world, own_ads
    pid = ads.profile_id()
    kw = _first(w, pid, "keywords")
    r = ads.put(
        "/sp/keywords",
        {
            "keywords": [
                {"keywordId": kw["keywordId"], "bid": 1.23},
                {"keywordId": "424242", "bid": 1.0},
                {"bid": 1.0},
                {"keywordId": kw["keywordId"], "bid": 0.01},
            ]
        },
        profile_id=pid,
        Prefer="return=representation",
    )
    assert r.status_code == 207
    j = r.json()["keywords"]
    assert j["success"][0]["index"] == 0 and j["success"][0]["keyword"]["bid"] == 1.23
    errs = {e["index"]: e["errors"][0]["errorType"] for e in j["error"]}
    assert errs == {1: "entityNotFoundError", 2: "missingValueError", 3: "duplicateValueError"}
    assert w.get_entity(pid, "keywords", kw["keywordId"])["bid"] == 1.23
    r = ads.post("/sp/keywords/delete", {"keywordIdFilter": {"include": [kw["keywordId"], "424242"]}}, profile_id=pid)
    assert r.status_code == 207
    j = r.json()["keywords"]
    assert j["success"] == [{"index": 0, "keywordId": kw["keywordId"]}]
    assert j["error"][0]["errors"][0]["errorType"] == "entityNotFoundError"
    assert w.get_entity(pid, "keywords", kw["keywordId"])["state"] == "ARCHIVED"
    r = ads.put("/sp/keywords", {"keywords": [{"keywordId": kw["keywordId"], "state": "ENABLED"}]}, profile_id=pid)
    e = r.json()["keywords"]["error"][0]["errors"][0]
    assert e["errorType"] == "entityStateError"
    assert e["errorValue"]["entityStateError"]["reason"] == "ARCHIVED_ENTITY_CANNOT_BE_MODIFIED"


def test_campaign_create_validation(own, own_ads):
    w, ads = own.world, own_ads
    pid = ads.profile_id()
    base = {
        "name": "Sandbox New Campaign",
        "state": "ENABLED",
        "targetingType": "MANUAL",
        "budget": {"budget": 25, "budgetType": "DAILY"},
        "dynamicBidding": {
            "strategy": "LEGACY_FOR_SALES",
            "placementBidding": [{"placement": "PLACEMENT_TOP", "percentage": 50}],
        },
    }
    items = [
        base,
        {**base, "name": "B1", "budget": {"budget": 0.5, "budgetType": "DAILY"}},
        {
            **base,
            "name": "B2",
            "dynamicBidding": {
                "strategy": "LEGACY_FOR_SALES",
                "placementBidding": [{"placement": "PLACEMENT_TOP", "percentage": 901}],
            },
        },
        {**base, "name": "B3", "state": "enabled"},
        {**base, "name": "B4", "startDate": "2001-01-01"},
        {k: v for k, v in base.items() if k != "budget"},
    ]
    r = ads.post("/sp/campaigns", {"campaigns": items}, profile_id=pid, Prefer="return=representation")
    j = r.json()["campaigns"]
    assert r.status_code == 207 and [s["index"] for s in j["success"]] == [0]
    assert j["success"][0]["campaign"]["name"] == "Sandbox New Campaign"
    errs = {e["index"]: e["errors"][0] for e in j["error"]}
    assert errs[1]["errorValue"]["rangeError"]["reason"] == "TOO_LOW"
    assert errs[1]["errorValue"]["rangeError"]["lowerLimit"] == "1.0"
    assert errs[2]["errorValue"]["rangeError"]["upperLimit"] == "900"
    assert errs[3]["errorType"] == "rangeError" and errs[5]["errorType"] == "missingValueError"
    assert 4 in errs
    # the name is now taken
    r = ads.post("/sp/campaigns", {"campaigns": [base]}, profile_id=pid)
    assert r.json()["campaigns"]["error"][0]["errors"][0]["errorType"] == "duplicateValueError"
    cid = j["success"][0]["campaignId"]
    assert any(c["campaignId"] == cid for c in w.entities(pid, "campaigns"))


def test_other_kinds_create(own, own_ads):
    w, ads = own.world, own_ads
    pid = ads.profile_id()
    ag = _first(w, pid, "adGroups")
    parent = {"campaignId": ag["campaignId"], "adGroupId": ag["adGroupId"], "state": "ENABLED"}
    r = ads.post(
        "/sp/negativeKeywords",
        {
            "negativeKeywords": [
                {**parent, "keywordText": "sandbox free", "matchType": "NEGATIVE_EXACT"},
                {**parent, "keywordText": "cheap", "matchType": "EXACT"},
            ]
        },
        profile_id=pid,
    )
    j = r.json()["negativeKeywords"]
    assert r.status_code == 207 and "negativeKeywordId" in j["success"][0] and j["error"][0]["index"] == 1
    r = ads.post(
        "/sp/adGroups",
        {"adGroups": [{"campaignId": ag["campaignId"], "name": "Sandbox AG", "defaultBid": 0.001, "state": "ENABLED"}]},
        profile_id=pid,
    )
    assert r.json()["adGroups"]["error"][0]["errors"][0]["errorType"] == "biddingError"
    r = ads.post("/sp/productAds", {"productAds": [dict(parent)]}, profile_id=pid)
    assert r.json()["productAds"]["error"][0]["errors"][0]["errorType"] == "missingValueError"
    r = ads.post(
        "/sp/targets",
        {
            "targetingClauses": [
                {
                    **parent,
                    "expressionType": "MANUAL",
                    "bid": 0.5,
                    "expression": [{"type": "ASIN_SAME_AS", "value": "B0SANDBOX1"}],
                }
            ]
        },
        profile_id=pid,
    )
    assert r.status_code == 207 and "targetId" in r.json()["targetingClauses"]["success"][0]


def test_mutation_request_errors(sandbox, ads):
    pid = ads.profile_id()
    r = ads.post("/sp/keywords", {"keywords": [{}] * 1001}, profile_id=pid)
    assert r.status_code == 400 and r.json()["code"] == "INVALID_ARGUMENT"
    assert ads.post("/sp/keywords", {"nope": []}, profile_id=pid).status_code == 400
    assert ads.post("/sp/keywords/delete", {"keywordIdFilter": {}}, profile_id=pid).status_code == 400
    r = requests.put(
        sandbox.url + "/sp/keywords",
        data="{}",
        timeout=5,
        headers={**ads.headers(pid), "Content-Type": "application/xml"},
    )
    assert r.status_code == 415


def test_internal_error_never_leaks_a_traceback(own, own_ads, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("secret Atza|should-not-leak")

    pid = own_ads.profile_id()
    monkeypatch.setattr(own.world, "entities", boom)
    r = own_ads.post("/sp/keywords/list", {}, profile_id=pid)
    assert r.status_code == 500
    assert r.json() == {"code": "INTERNAL_ERROR", "message": "Service Error", "details": "Service Error"}
    assert "Traceback" not in r.text and "Atza" not in r.text
