"""The whole flow over real HTTP with nothing but `requests`, as any third-party Amazon client would do it:
LWA token -> profiles -> SP list with paging -> Reporting v3 create/poll/download -> SP-API coupon report."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import subprocess
import sys
import time

import requests

from sandbox import demo_credentials


def test_full_flow_with_plain_requests(sandbox):
    base = sandbox.url  # stands for api.amazon.com, advertising-api.amazon.com and sellingpartnerapi-na
    creds = demo_credentials()
    s = requests.Session()
    tok = s.post(
        base + "/auth/o2/token",
        timeout=10,
        data={
            "grant_type": "refresh_token",
            "refresh_token": creds["refresh_token"],
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
        },
        headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
    ).json()
    access = tok["access_token"]
    hdr = {"Authorization": "Bearer " + access, "Amazon-Advertising-API-ClientId": creds["client_id"]}

    profiles = s.get(base + "/na/v2/profiles", headers=hdr, timeout=10).json()
    us = next(p for p in profiles if p["countryCode"] == "US")
    hdr["Amazon-Advertising-API-Scope"] = str(us["profileId"])

    media = "application/vnd.spKeyword.v3+json"
    keywords, body = [], {"stateFilter": {"include": ["ENABLED", "PAUSED"]}, "maxResults": 100}
    while True:
        r = s.post(
            base + "/na/sp/keywords/list",
            json=body,
            timeout=10,
            headers={**hdr, "Content-Type": media, "Accept": media},
        )
        assert r.status_code == 200
        page = r.json()
        keywords += page["keywords"]
        if "nextToken" not in page:
            break
        body = {**body, "nextToken": page["nextToken"]}
    assert len(keywords) == page["totalResults"] > 100
    assert {k["state"] for k in keywords} <= {"ENABLED", "PAUSED"}

    today = sandbox.world.today
    rep = s.post(
        base + "/na/reporting/reports",
        timeout=10,
        headers={**hdr, "Content-Type": "application/vnd.createasyncreportrequest.v3+json"},
        data=json.dumps(
            {
                "name": "third party",
                "startDate": str(today - dt.timedelta(days=14)),
                "endDate": str(today - dt.timedelta(days=1)),
                "configuration": {
                    "adProduct": "SPONSORED_PRODUCTS",
                    "reportTypeId": "spTargeting",
                    "groupBy": ["targeting"],
                    "timeUnit": "SUMMARY",
                    "columns": [
                        "keywordId",
                        "keyword",
                        "matchType",
                        "impressions",
                        "clicks",
                        "cost",
                        "sales7d",
                        "purchases7d",
                    ],
                    "format": "GZIP_JSON",
                },
            }
        ),
    ).json()
    deadline = time.time() + 10
    while rep["status"] not in ("COMPLETED", "FAILED") and time.time() < deadline:
        time.sleep(0.1)
        rep = s.get(f"{base}/na/reporting/reports/{rep['reportId']}", headers=hdr, timeout=10).json()
    assert rep["status"] == "COMPLETED"
    raw = requests.get(rep["url"], timeout=10)  # pre-signed: no Amazon headers
    rows = json.loads(gzip.decompress(raw.content))
    assert rows and all(isinstance(r["keywordId"], int) for r in rows)
    # spTargeting's keywordId holds keyword and targeting-clause ids alike
    listed = {int(k["keywordId"]) for k in sandbox.world.entities(str(us["profileId"]), "keywords")} | {
        int(t["targetId"]) for t in sandbox.world.entities(str(us["profileId"]), "targets")
    }
    assert {r["keywordId"] for r in rows} <= listed

    sp_hdr = {"x-amz-access-token": access, "Content-Type": "application/json", "user-agent": "third-party/1.0"}
    created = s.post(
        base + "/na/reports/2021-06-30/reports",
        headers=sp_hdr,
        timeout=10,
        json={
            "reportType": "GET_COUPON_PERFORMANCE_REPORT",
            "marketplaceIds": [us["accountInfo"]["marketplaceStringId"]],
            "reportOptions": {
                "couponStartDateFrom": f"{today - dt.timedelta(days=365)}T00:00:00Z",
                "couponStartDateTo": f"{today}T23:59:59Z",
            },
        },
    )
    assert created.status_code == 202
    rid = created.json()["reportId"]
    deadline = time.time() + 10
    while True:
        st = s.get(f"{base}/na/reports/2021-06-30/reports/{rid}", headers=sp_hdr, timeout=10).json()
        if st["processingStatus"] in ("DONE", "FATAL", "CANCELLED") or time.time() > deadline:
            break
        time.sleep(0.1)
    assert st["processingStatus"] == "DONE"
    doc = s.get(f"{base}/na/reports/2021-06-30/documents/{st['reportDocumentId']}", headers=sp_hdr, timeout=10).json()
    body = requests.get(doc["url"], timeout=10).content
    coupons = json.loads(gzip.decompress(body).decode("utf-8"))
    assert coupons["reportSpecification"]["reportType"] == "GET_COUPON_PERFORMANCE_REPORT"
    assert coupons["coupons"] and all(c["merchantId"] == us["accountInfo"]["id"] for c in coupons["coupons"])


def test_cli_credentials_prints_one_json_object():
    out = subprocess.run(
        [sys.executable, "-m", "sandbox", "--credentials"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert json.loads(out) == demo_credentials()
