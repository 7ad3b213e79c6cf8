"""GET_SALES_AND_TRAFFIC_REPORT and Catalog Items 2022-04-01 in the sandbox: Amazon's shapes, the invariants that
tie total sales to ad sales, the ~72 h lag, the missing-role 403 and the catalogue's languages."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import time

import numpy as np
import pytest
import requests

from sandbox import sales_traffic
from sandbox.credentials import AUTHORIZATIONS
from tests.sandbox.conftest import lwa_token
from tests.sandbox.test_specs import json_validate

US, UK, DE = "ATVPDKIKX0DER", "A1F83G8C2ARO7P", "A1PA6795UKMFR9"


def _sp(url, token, method, path, **kw):
    return requests.request(method, url + path, headers={"x-amz-access-token": token}, timeout=30, **kw)


def fetch_report(url, token, start: dt.date, end: dt.date, dg="DAY", ag="CHILD", mkt=US) -> dict:
    r = _sp(
        url,
        token,
        "POST",
        "/reports/2021-06-30/reports",
        json={
            "reportType": "GET_SALES_AND_TRAFFIC_REPORT",
            "marketplaceIds": [mkt],
            "dataStartTime": start.isoformat(),
            "dataEndTime": end.isoformat(),
            "reportOptions": {"dateGranularity": dg, "asinGranularity": ag},
        },
    )
    assert r.status_code == 202, r.text
    rid = r.json()["reportId"]
    for _ in range(100):
        rep = _sp(url, token, "GET", f"/reports/2021-06-30/reports/{rid}").json()
        if rep["processingStatus"] in ("DONE", "FATAL"):
            break
        time.sleep(0.05)
    assert rep["processingStatus"] == "DONE", rep
    doc = _sp(url, token, "GET", f"/reports/2021-06-30/documents/{rep['reportDocumentId']}").json()
    return json.loads(gzip.decompress(requests.get(doc["url"], timeout=30).content))


@pytest.fixture(scope="module")
def token(sandbox):
    return lwa_token(sandbox.url)


@pytest.mark.parametrize("dg,ag", [("DAY", "CHILD"), ("WEEK", "PARENT"), ("MONTH", "SKU")])
def test_document_validates_against_amazons_schema(sandbox, token, specs_dir, dg, ag):
    today = sandbox.world.today
    doc = fetch_report(sandbox.url, token, today - dt.timedelta(days=40), today - dt.timedelta(days=1), dg, ag)
    json_validate(specs_dir, "sellerSalesAndTrafficReport.json", doc)
    assert doc["salesAndTrafficByDate"] and doc["salesAndTrafficByAsin"]
    first = doc["salesAndTrafficByAsin"][0]
    assert ("childAsin" in first) == (ag != "PARENT") and ("sku" in first) == (ag == "SKU")
    dates = [dt.date.fromisoformat(x["date"]) for x in doc["salesAndTrafficByDate"]]
    if dg == "WEEK":
        assert all(d.weekday() == 6 for d in dates)  # Sunday-to-Saturday weeks
    if dg == "MONTH":
        assert all(d.day == 1 for d in dates)
    for x in doc["salesAndTrafficByDate"]:
        t = x["trafficByDate"]
        assert 0 <= t["buyBoxPercentage"] <= 100 and 0 <= t["unitSessionPercentage"] <= 100  # 0-100, not fractions


def test_per_asin_totals_sum_to_the_account_total_and_lag_is_72_hours(sandbox, token):
    today = sandbox.world.today
    doc = fetch_report(sandbox.url, token, today - dt.timedelta(days=30), today - dt.timedelta(days=1))
    by_date = sum(x["salesByDate"]["orderedProductSales"]["amount"] for x in doc["salesAndTrafficByDate"])
    by_asin = sum(x["salesByAsin"]["orderedProductSales"]["amount"] for x in doc["salesAndTrafficByAsin"])
    assert by_asin == pytest.approx(by_date, abs=0.01 * len(doc["salesAndTrafficByAsin"]))
    units = sum(x["salesByAsin"]["unitsOrdered"] for x in doc["salesAndTrafficByAsin"])
    assert units == sum(x["salesByDate"]["unitsOrdered"] for x in doc["salesAndTrafficByDate"])
    last = max(dt.date.fromisoformat(x["date"]) for x in doc["salesAndTrafficByDate"])
    assert last == today - dt.timedelta(days=sales_traffic.LAG_DAYS)


def test_ad_sales_never_exceed_total_sales_and_organic_responds_to_ads(sandbox):
    world = sandbox.world
    for p in world._profiles.values():
        t = sales_traffic.daily_table(world, p)
        total = t["ad_sales"] + t["org_sales"]
        # the advertised-product report's sales at the longest window, per ASIN and click day
        assert (t["ad_sales"] <= total).all()
        assert (t["ad_units"] + t["org_units"] >= t["ad_units"]).all()
        assert (t["sessions"] >= t["ad_clicks"]).all()  # sessions include the ad clicks
        assert (t["buy_box"] < 100).any() and t["refunds"].sum() > 0
        assert t["org_sales"].sum() > 0
    # the advertised-product report agrees with the ad part, per ASIN, over a settled range
    p = next(iter(world._profiles.values()))
    t = sales_traffic.daily_table(world, p)
    a, b = world.today - dt.timedelta(days=60), world.today - dt.timedelta(days=31)
    rows = world.report_rows(
        p.profile_id, "spAdvertisedProduct", ["advertiser"], "SUMMARY", a, b, ["advertisedAsin", "sales30d"]
    )
    reported: dict[str, float] = {}
    for r in rows:
        reported[r["advertisedAsin"]] = reported.get(r["advertisedAsin"], 0) + r["sales30d"]
    i0, i1 = (a - p.start).days, (b - p.start).days + 1
    for j, asin in enumerate(p.p_asin):
        assert t["ad_sales"][i0:i1, j].sum() / 100 == pytest.approx(reported.get(asin, 0.0), abs=0.01 * (i1 - i0))
    # organic units respond to the previous days' ad units: correlation across products is positive
    ad = t["true_ad_units"][i0:i1].sum(0)
    org = t["org_units"][i0:i1].sum(0)
    assert np.corrcoef(ad, org - np.asarray(p.p_base_units) * (i1 - i0))[0, 1] > 0


def test_authorization_without_the_role_gets_amazons_403(sandbox):
    token = lwa_token(sandbox.url, AUTHORIZATIONS["no_sales_role"]["refresh_token"])
    today = sandbox.world.today
    r = _sp(
        sandbox.url,
        token,
        "POST",
        "/reports/2021-06-30/reports",
        json={"reportType": "GET_SALES_AND_TRAFFIC_REPORT", "marketplaceIds": [US],
              "dataStartTime": (today - dt.timedelta(days=5)).isoformat(), "dataEndTime": today.isoformat()},
    )  # fmt: skip
    assert r.status_code == 403
    assert r.json() == {
        "errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}]
    }
    # the same authorization still gets coupon reports
    r = _sp(sandbox.url, token, "POST", "/reports/2021-06-30/reports", json={
        "reportType": "GET_COUPON_PERFORMANCE_REPORT", "marketplaceIds": [US],
        "reportOptions": {"couponStartDateFrom": "2025-01-01T00:00:00Z", "couponStartDateTo": "2025-02-01T00:00:00Z"}})  # fmt: skip
    assert r.status_code == 202


def test_catalog_items_in_each_marketplaces_language(sandbox, token, specs_dir):
    world = sandbox.world
    seller = world.sellers()[0]
    by_mkt = {p.marketplace: p for p in world._profiles.values() if p.seller["sellerId"] == seller["sellerId"]}
    us = by_mkt[US]
    asins = us.p_asin[:20]
    time.sleep(1.0)  # the 2/s bucket is per seller: another catalogue test of this session may have emptied it
    r = _sp(sandbox.url, token, "GET", "/catalog/2022-04-01/items", params={
        "identifiers": ",".join(asins), "identifiersType": "ASIN", "marketplaceIds": US,
        "includedData": "summaries,images"})  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    json_validate(specs_dir, "catalogItems_2022-04-01.json", body, "ItemSearchResults")
    assert body["numberOfResults"] == 20 and [i["asin"] for i in body["items"]] == asins
    first = body["items"][0]
    assert first["summaries"][0]["itemName"] == us.p_title[0] and first["summaries"][0]["brand"]
    assert first["images"][0]["images"][0]["variant"] == "MAIN"
    time.sleep(1.0)  # the 2/s bucket refills
    de = by_mkt[DE]
    one = _sp(sandbox.url, token, "GET", f"/catalog/2022-04-01/items/{de.p_asin[0]}",
              params={"marketplaceIds": DE, "includedData": "summaries,images"})  # fmt: skip
    assert one.status_code == 200, one.text
    json_validate(specs_dir, "catalogItems_2022-04-01.json", one.json(), "Item")
    name = one.json()["summaries"][0]["itemName"]
    german = ("matte", "flasche", "presse", "hülle", "leine", "mühle", "Lichtleiste", "bänder", "brett", "Handyhalt",
              "Rucksack", "kerzen")  # fmt: skip
    assert name != de.p_title[0] and any(w in name for w in german)
    time.sleep(1.0)
    # 21 identifiers is Amazon's 400; the burst of 2 then a 429 QuotaExceeded
    too_many = _sp(sandbox.url, token, "GET", "/catalog/2022-04-01/items", params={
        "identifiers": ",".join(us.p_asin[:21]), "identifiersType": "ASIN", "marketplaceIds": US})  # fmt: skip
    assert too_many.status_code == 400
    codes = [
        _sp(sandbox.url, token, "GET", f"/catalog/2022-04-01/items/{us.p_asin[0]}", params={"marketplaceIds": US}).status_code
        for _ in range(3)
    ]  # fmt: skip
    assert 429 in codes
    missing = _sp(sandbox.url, token, "GET", "/catalog/2022-04-01/items/NOTANASIN1", params={"marketplaceIds": US})
    assert missing.status_code in (404, 429)
