"""Reporting v3 lifecycle and errors, downloads, SP-API Reports 2021-06-30, faults and admin endpoints."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import time

import pytest
import requests

RPT = "application/vnd.createasyncreportrequest.v3+json"


def report_body(today: dt.date, **cfg):
    configuration = {
        "adProduct": "SPONSORED_PRODUCTS",
        "reportTypeId": "spCampaigns",
        "groupBy": ["campaign"],
        "columns": ["date", "campaignId", "impressions", "clicks", "cost"],
        "timeUnit": "DAILY",
        "format": "GZIP_JSON",
    }
    configuration.update(cfg)
    return {
        "name": "t",
        "startDate": str(today - dt.timedelta(days=7)),
        "endDate": str(today - dt.timedelta(days=1)),
        "configuration": configuration,
    }


def wait(ads, rid, pid, want=("COMPLETED", "FAILED"), timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        j = ads.get(f"/reporting/reports/{rid}", profile_id=pid).json()
        if j["status"] in want:
            return j
        time.sleep(0.05)
    raise AssertionError(f"report stuck in {j['status']}")


def test_report_lifecycle_and_download(sandbox, ads):
    pid = ads.profile_id()
    body = report_body(sandbox.world.today, columns=["date", "campaignId", "campaignName", "impressions", "clicks"])
    r = ads.post("/reporting/reports", body, profile_id=pid, **{"Content-Type": RPT})
    assert r.status_code == 200
    j = r.json()
    assert j["status"] == "PENDING" and j["configuration"]["filters"] is None
    assert j["url"] is None and j["fileSize"] is None and j["failureReason"] is None
    assert j["createdAt"].endswith("Z")
    seen = {j["status"]}
    end = time.time() + 5
    while j["status"] != "COMPLETED" and time.time() < end:
        time.sleep(0.03)
        j = ads.get(f"/reporting/reports/{j['reportId']}", profile_id=pid).json()
        seen.add(j["status"])
    assert "PROCESSING" in seen and j["status"] == "COMPLETED"
    assert j["fileSize"] > 0 and j["generatedAt"] and j["urlExpiresAt"]
    assert "X-Amz-Expires=3599" in j["url"] and f"report-{j['reportId']}.json.gz" in j["url"]
    d = requests.get(j["url"], timeout=10)  # no auth at all
    assert d.status_code == 200
    rows = json.loads(gzip.decompress(d.content))
    assert rows and set(rows[0]) == {"date", "campaignId", "campaignName", "impressions", "clicks"}
    assert isinstance(rows[0]["campaignId"], int)
    assert len(d.content) == j["fileSize"]


def test_report_duplicate_425_and_cancel(sandbox, ads, monkeypatch):
    pid = ads.profile_id("UK")
    monkeypatch.setattr(sandbox.state, "report_latency", 30.0)
    body = report_body(
        sandbox.world.today, reportTypeId="spTargeting", groupBy=["targeting"], columns=["date", "keywordId", "clicks"]
    )
    first = ads.post("/reporting/reports", body, profile_id=pid).json()
    r = ads.post("/reporting/reports", body, profile_id=pid)
    assert r.status_code == 425
    assert r.json()["code"] == "425"
    assert r.json()["detail"] == f"The Request is a duplicate of : {first['reportId']}"
    r = ads.delete(f"/reporting/reports/{first['reportId']}", profile_id=pid)
    assert r.status_code == 200 and r.json()["reportId"] == first["reportId"]
    assert ads.get(f"/reporting/reports/{first['reportId']}", profile_id=pid).status_code == 404
    assert ads.post("/reporting/reports", body, profile_id=pid).status_code == 200  # no longer a duplicate


@pytest.mark.parametrize(
    "change, needle",
    [
        ({"startDate": None}, "startDate"),
        ({"endDate": "2020-13-01"}, "endDate"),
        ({"span": 31}, "31 days"),
        ({"old": 96}, "too far in the past"),
        ({"swap": True}, "endDate"),
        ({"adProduct": "SPONSORED_BRANDS"}, "SPONSORED_BRANDS"),
        ({"reportTypeId": "spNope"}, "reportTypeId"),
        ({"groupBy": ["searchTerm"]}, "groupBy"),
        ({"groupBy": []}, "groupBy"),
        ({"columns": ["date", "notAColumn"]}, "notAColumn"),
        ({"columns": []}, "columns"),
        ({"timeUnit": "WEEKLY"}, "timeUnit"),
        ({"timeUnit": "SUMMARY"}, "date"),
        ({"format": "CSV"}, "format"),
        ({"filters": [{"field": "keywordType", "values": ["EXACT"]}]}, "keywordType"),
    ],
)
def test_report_validation_400(sandbox, ads, change, needle):
    pid = ads.profile_id()
    today = sandbox.world.today
    body = report_body(today)
    for k, v in change.items():
        if k in ("startDate", "endDate"):
            body[k] = v
        elif k == "span":
            body["startDate"], body["endDate"] = (
                str(today - dt.timedelta(days=v + 1)),
                str(today - dt.timedelta(days=1)),
            )
        elif k == "old":
            body["startDate"], body["endDate"] = (
                str(today - dt.timedelta(days=v)),
                str(today - dt.timedelta(days=v - 3)),
            )
        elif k == "swap":
            body["startDate"], body["endDate"] = body["endDate"], body["startDate"]
        else:
            body["configuration"][k] = v
    body = {k: v for k, v in body.items() if v is not None}
    r = ads.post("/reporting/reports", body, profile_id=pid)
    assert r.status_code == 400, r.text
    j = r.json()
    assert j["code"] == "400" and needle in j["detail"] and j["details"] == j["detail"]


def test_report_errors_auth_415_404(sandbox, ads):
    pid = ads.profile_id()
    body = report_body(sandbox.world.today)
    r = requests.post(
        sandbox.url + "/reporting/reports",
        json=body,
        timeout=5,
        headers={**ads.headers(pid), "Authorization": "Bearer Atza|bad"},
    )
    assert r.status_code == 401 and r.json()["code"] == "401"
    r = requests.post(
        sandbox.url + "/reporting/reports",
        data=json.dumps(body),
        timeout=5,
        headers={**ads.headers(pid), "Content-Type": "text/csv"},
    )
    assert r.status_code == 415 and r.json()["code"] == "415"
    assert ads.get("/reporting/reports/nope", profile_id=pid).status_code == 404


def test_filters_echoed_and_accepted(sandbox, ads):
    pid = ads.profile_id()
    f = [{"field": "campaignStatus", "values": ["ENABLED"]}]
    j = ads.post(
        "/reporting/reports",
        report_body(
            sandbox.world.today, filters=f, timeUnit="SUMMARY", columns=["campaignId", "startDate", "endDate", "cost"]
        ),
        profile_id=pid,
    ).json()
    assert j["configuration"]["filters"] == f
    assert wait(ads, j["reportId"], pid)["status"] == "COMPLETED"


def test_failed_report_and_expired_download(own, own_ads):
    url, ads = own.url, own_ads
    pid = ads.profile_id()
    requests.post(url + "/_sandbox/faults", json={"fail_next_reports": 1}, timeout=5)
    j = ads.post("/reporting/reports", report_body(own.world.today), profile_id=pid).json()
    j = wait(ads, j["reportId"], pid)
    assert j["status"] == "FAILED" and j["failureReason"] and j["url"] is None
    j = ads.post("/reporting/reports", report_body(own.world.today, columns=["date", "clicks"]), profile_id=pid).json()
    j = wait(ads, j["reportId"], pid)
    assert j["status"] == "COMPLETED"
    requests.post(url + "/_sandbox/faults", json={"expire_download_urls": True}, timeout=5)
    d = requests.get(j["url"], timeout=5)
    assert d.status_code == 400 and d.headers["Content-Type"] == "application/xml"
    assert "<Code>AccessDenied</Code><Message>Request has expired</Message>" in d.text
    requests.delete(url + "/_sandbox/faults", timeout=5)
    assert requests.get(j["url"], timeout=5).status_code == 200
    bad = j["url"].replace("X-Amz-Signature=", "X-Amz-Signature=00")
    assert requests.get(bad, timeout=5).status_code == 403
    # a URL past its urlExpiresAt
    for rec in own.state.downloads.values():
        rec["expires_at"] = time.time() - 1
    own.state.ads_reports[j["reportId"]]["url_expires"] = time.time() - 1
    d = requests.get(j["url"], timeout=5)
    assert d.status_code == 400 and "Request has expired" in d.text
    j2 = ads.get(f"/reporting/reports/{j['reportId']}", profile_id=pid).json()  # a fresh URL on the next poll
    assert j2["url"] != j["url"] and requests.get(j2["url"], timeout=5).status_code == 200


def test_stuck_reports(own, own_ads):
    requests.post(own.url + "/_sandbox/faults", json={"stuck_reports": True}, timeout=5)
    pid = own_ads.profile_id()
    j = own_ads.post("/reporting/reports", report_body(own.world.today), profile_id=pid).json()
    time.sleep(0.4)
    assert own_ads.get(f"/reporting/reports/{j['reportId']}", profile_id=pid).json()["status"] == "PROCESSING"


# ---------------------------------------------------------------------------------------------- SP-API
def sp(url, token, method, path, **kw):
    return requests.request(method, url + path, headers={"x-amz-access-token": token}, timeout=10, **kw)


def sp_wait(url, token, rid, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        j = sp(url, token, "GET", f"/reports/2021-06-30/reports/{rid}").json()
        if j["processingStatus"] in ("DONE", "FATAL", "CANCELLED"):
            return j
        time.sleep(0.05)
    raise AssertionError("SP-API report stuck")


def sp_document(url, token, did):
    j = sp(url, token, "GET", f"/reports/2021-06-30/documents/{did}").json()
    assert j["compressionAlgorithm"] == "GZIP" and j["reportDocumentId"] == did
    d = requests.get(j["url"], timeout=10)
    assert d.status_code == 200
    return json.loads(gzip.decompress(d.content).decode("utf-8"))


def test_spapi_coupon_report(sandbox, ads):
    url, tok = sandbox.url, ads.token
    opts = {"couponStartDateFrom": "2020-01-01T00:00:00Z", "couponStartDateTo": f"{sandbox.world.today}T23:59:59Z"}
    r = sp(
        url,
        tok,
        "POST",
        "/na/reports/2021-06-30/reports",
        json={
            "reportType": "GET_COUPON_PERFORMANCE_REPORT",
            "marketplaceIds": ["ATVPDKIKX0DER"],
            "reportOptions": opts,
        },
    )
    assert r.status_code == 202 and set(r.json()) == {"reportId"}
    first = sp(url, tok, "GET", f"/reports/2021-06-30/reports/{r.json()['reportId']}").json()
    assert first["processingStatus"] in ("IN_QUEUE", "IN_PROGRESS")
    j = sp_wait(url, tok, r.json()["reportId"])
    assert j["processingStatus"] == "DONE" and j["reportDocumentId"]
    doc = sp_document(url, tok, j["reportDocumentId"])
    assert doc["reportSpecification"] == {
        "reportType": "GET_COUPON_PERFORMANCE_REPORT",
        "reportOptions": opts,
        "marketplaceIds": ["ATVPDKIKX0DER"],
    }
    assert isinstance(doc["coupons"], list)


def test_spapi_deal_report_and_fatal(sandbox, ads):
    url, tok = sandbox.url, ads.token
    r = sp(
        url,
        tok,
        "POST",
        "/reports/2021-06-30/reports",
        json={
            "reportType": "GET_PROMOTION_PERFORMANCE_REPORT",
            "marketplaceIds": ["ATVPDKIKX0DER"],
            "reportOptions": {
                "promotionStartDateFrom ": "2026-01-01T00:00:00Z",  # trailing space: models #2048
                "promotionStartDateTo": "2026-02-01T00:00:00Z",
            },
        },
    )
    assert r.status_code == 202
    j = sp_wait(url, tok, r.json()["reportId"])
    assert j["processingStatus"] == "FATAL" and j["reportDocumentId"]
    doc = sp_document(url, tok, j["reportDocumentId"])
    assert "promotionStartDateFrom and promotionStartDateTo" in doc["errorDetails"]
    r = sp(
        url,
        tok,
        "POST",
        "/reports/2021-06-30/reports",
        json={
            "reportType": "GET_PROMOTION_PERFORMANCE_REPORT",
            "marketplaceIds": ["ATVPDKIKX0DER"],
            "reportOptions": {
                "promotionStartDateFrom": "2020-01-01T00:00:00Z",
                "promotionStartDateTo": f"{sandbox.world.today}T00:00:00Z",
            },
        },
    )
    doc = sp_document(url, tok, sp_wait(url, tok, r.json()["reportId"])["reportDocumentId"])
    assert isinstance(doc["promotions"], list)


def test_spapi_errors(sandbox, ads):
    url, tok = sandbox.url, ads.token
    denied = {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}]}
    r = requests.post(url + "/reports/2021-06-30/reports", json={}, timeout=5)
    assert r.status_code == 403 and r.json() == denied
    r = sp(url, "Atza|bogus", "GET", "/reports/2021-06-30/reports/1")
    assert r.status_code == 403 and r.json() == denied
    ok = {"reportType": "GET_COUPON_PERFORMANCE_REPORT", "marketplaceIds": ["ATVPDKIKX0DER"]}
    for bad in (
        {**ok, "reportOptions": [["couponStartDateFrom", "x"]]},  # python-amazon-sp-api #624
        {**ok, "reportOptions": {"couponStartDateFrom": 5}},
        {"reportType": "GET_COUPON_PERFORMANCE_REPORT"},
        {**ok, "marketplaceIds": ["A1VC38T7YXB528"]},
    ):  # JP: not this seller's
        r = sp(url, tok, "POST", "/reports/2021-06-30/reports", json=bad)
        assert r.status_code == 400 and r.json()["errors"][0]["code"] == "InvalidInput", bad
    r = sp(url, tok, "POST", "/eu/reports/2021-06-30/reports", json=ok)  # US marketplace on the EU host
    assert r.status_code == 400
    assert sp(url, tok, "GET", "/reports/2021-06-30/reports/999").status_code == 404
    assert sp(url, tok, "GET", "/reports/2021-06-30/documents/nope").status_code == 404
    r = sp(
        url,
        tok,
        "POST",
        "/reports/2021-06-30/reports",
        data="{oops",
    )
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "InvalidInput"


# ---------------------------------------------------------------------------------------------- faults, admin
def test_fault_rules(own, own_ads):
    url, ads = own.url, own_ads
    pid = ads.profile_id("UK")
    plan = {
        "rules": [
            {"method": "POST", "path": "/sp/keywords/list", "status": 429, "retry_after": 1, "times": 2},
            {"path": "/reporting/reports", "status": 500, "times": 1},
            {"path": "/reports/2021-06-30/reports", "status": 503},
        ]
    }
    assert requests.post(url + "/_sandbox/faults", json=plan, timeout=5).status_code == 200
    assert len(requests.get(url + "/_sandbox/faults", timeout=5).json()["rules"]) == 3
    for prefix in ("", "/eu"):  # path matching ignores the region prefix
        r = ads.post(prefix + "/sp/keywords/list", {}, profile_id=pid)
        assert r.status_code == 429 and r.headers["Retry-After"] == "1"
        assert r.headers["amazon-advertising-api-throttled"] == "true"
        assert r.json()["message"] == "Too Many Requests"
    assert ads.post("/sp/keywords/list", {}, profile_id=pid).status_code == 200
    r = ads.post("/reporting/reports", report_body(own.world.today), profile_id=pid)
    assert r.status_code == 500 and r.json()["code"] == "500"
    r = sp(url, ads.token, "POST", "/reports/2021-06-30/reports", json={})
    assert r.status_code == 503 and r.json()["errors"][0]["code"] == "ServiceUnavailable"
    assert requests.get(url + "/_sandbox/faults", timeout=5).json()["rules"] == []
    assert requests.post(url + "/_sandbox/faults", json={"bogus": 1}, timeout=5).status_code == 400
    assert requests.delete(url + "/_sandbox/faults", timeout=5).json()["fail_next_reports"] == 0


def test_random_faults_are_seeded(own, monkeypatch):
    import random

    monkeypatch.setattr(own.state, "fault_rate", 0.5)

    def run():
        own.state.rng = random.Random("faults/3")
        return [requests.get(own.url + "/v2/profiles", timeout=5) for _ in range(40)]

    a, b = run(), run()
    codes = [r.status_code for r in a]
    assert codes == [r.status_code for r in b]
    assert {429, 401} <= set(codes) and set(codes) <= {401, 429, 500, 503}
    t = [r for r in a if r.status_code == 429]
    assert any("Retry-After" in r.headers for r in t) and any("Retry-After" not in r.headers for r in t)
    assert all(r.headers["amazon-advertising-api-throttled"] == "true" for r in t)
    assert all(r.json()["code"] == "INTERNAL_ERROR" for r in a if r.status_code == 500)


def test_admin_state_advance_and_coupon_upload(own):
    url, w = own.url, own.world
    s = requests.get(url + "/_sandbox/state", timeout=5).json()
    assert s["today"] == str(w.today) and s["seed"] == 11 and s["scale"] == "demo"
    s2 = requests.post(url + "/_sandbox/advance", json={"days": 2}, timeout=60).json()
    assert s2["today"] == str(dt.date.fromisoformat(s["today"]) + dt.timedelta(days=2))
    assert requests.post(url + "/_sandbox/advance", json={"days": "x"}, timeout=5).status_code == 400
    seller = w.sellers()[0]["sellerId"]
    pid = w.sellers()[0]["profileIds"][0]
    asin = (
        next(a["asin"] for a in w.entities(pid, "productAds") if a.get("asin"))
        if any(a.get("asin") for a in w.entities(pid, "productAds"))
        else None
    )
    if asin is None:
        asin = w.coupons(
            seller, "ATVPDKIKX0DER", dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
        )[0]["asins"][0]["asin"]
    start, end = w.today + dt.timedelta(days=3), w.today + dt.timedelta(days=20)
    csv_ok = (
        "ASIN list,Discount type,% off value,Money-off value,Title suffix,Budget,Start date,End date,"
        "Customer segment,Once per customer\n"
        f"{asin},Percentage Off,15,,Sandbox test coupon,500,{start},{end},All (Default),Yes\n"
    )
    r = requests.post(
        f"{url}/_sandbox/coupons/upload?seller={seller}&marketplaceId=ATVPDKIKX0DER",
        data=csv_ok.encode(),
        headers={"Content-Type": "text/csv"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["couponIds"]) == 1
    csv_bad = (
        "ASIN list,Discount type,Percentage off,Money off,Title suffix,Budget,Start date,End date\n"
        f"{asin},Half Off,,,x,500,{start},{end}\n"
    )
    r = requests.post(
        f"{url}/_sandbox/coupons/upload?seller={seller}&marketplaceId=ATVPDKIKX0DER", data=csv_bad.encode(), timeout=10
    )
    assert r.status_code == 400 and r.json()["errors"][0]["row"] == 2
    r = requests.post(
        f"{url}/_sandbox/coupons/upload?seller=nobody&marketplaceId=ATVPDKIKX0DER", data=csv_ok, timeout=10
    )
    assert r.status_code == 400
