"""Report catalogue, coupon/deal documents against Amazon's schemas, and the large scale."""

from __future__ import annotations

import datetime as dt
import json

import jsonschema
import numpy as np
import pytest

from sandbox.constants import PLACEMENTS
from sandbox.report_columns import REPORT_TYPES, allowed_columns
from sandbox.world import World

TODAY = dt.date(2025, 6, 1)
LO, HI = dt.datetime(2020, 1, 1), dt.datetime(2030, 1, 1)


@pytest.fixture(scope="module")
def world():
    return World(seed=7, scale="demo", today=TODAY)


def _item_validator(specs_dir, name, item_def):
    schema = json.loads((specs_dir / name).read_text())
    return jsonschema.Draft7Validator(
        {"$ref": f"#/definitions/{item_def}", "definitions": schema["definitions"]}
    ), schema


def test_catalogue():
    assert set(REPORT_TYPES) == {
        "spCampaigns",
        "spTargeting",
        "spSearchTerm",
        "spAdvertisedProduct",
        "spPurchasedProduct",
    }
    assert REPORT_TYPES["spCampaigns"]["groupBy"] == {"campaign", "adGroup", "campaignPlacement"}
    c = allowed_columns("spCampaigns", ["campaign", "campaignPlacement"])
    assert {"placementClassification", "campaignBudgetAmount", "topOfSearchImpressionShare", "purchases7d"} <= c
    assert "keywordId" not in c
    assert "searchTerm" in allowed_columns("spSearchTerm", ["searchTerm"])
    assert "searchTerm" not in allowed_columns("spTargeting", ["targeting"])
    assert {"advertisedAsin", "advertisedSku", "adId"} <= allowed_columns("spAdvertisedProduct", ["advertiser"])
    assert "purchasedAsin" in allowed_columns("spPurchasedProduct", ["asin"])


def test_rows_keys_types_and_placements(world):
    pid = world.sellers()[0]["profileIds"][0]
    cols = ["date", "campaignId", "placementClassification", "impressions", "clicks", "cost", "sales7d"]
    rows = world.report_rows(
        pid,
        "spCampaigns",
        ["campaign", "campaignPlacement"],
        "DAILY",
        TODAY - dt.timedelta(7),
        TODAY - dt.timedelta(1),
        cols,
    )
    assert rows and all(list(r) == cols for r in rows)
    assert {r["placementClassification"] for r in rows} == set(PLACEMENTS)
    assert all(type(r["campaignId"]) is int and type(r["clicks"]) is int for r in rows)
    assert all(round(r["cost"], 2) == r["cost"] for r in rows)
    st = world.report_rows(
        pid,
        "spSearchTerm",
        ["searchTerm"],
        "DAILY",
        TODAY - dt.timedelta(31),
        TODAY - dt.timedelta(1),
        ["date", "keywordId", "keywordType", "matchType", "searchTerm", "clicks"],
    )
    assert min(r["clicks"] for r in st) >= 1
    kt = {r["keywordType"] for r in st}
    assert {"BROAD", "PHRASE", "EXACT", "TARGETING_EXPRESSION", "TARGETING_EXPRESSION_PREDEFINED"} <= kt
    assert any(r["searchTerm"].startswith("b0") for r in st if r["keywordType"] == "TARGETING_EXPRESSION")
    summ = world.report_rows(
        pid,
        "spTargeting",
        ["targeting"],
        "SUMMARY",
        TODAY - dt.timedelta(10),
        TODAY - dt.timedelta(1),
        ["startDate", "endDate", "keywordId", "clicks"],
    )
    assert {r["startDate"] for r in summ} == {(TODAY - dt.timedelta(10)).isoformat()}
    assert len({r["keywordId"] for r in summ}) == len(summ)
    flt = world.report_rows(
        pid,
        "spTargeting",
        ["targeting"],
        "SUMMARY",
        TODAY - dt.timedelta(10),
        TODAY - dt.timedelta(1),
        ["keywordType", "clicks"],
        [{"field": "keywordType", "values": ["EXACT"]}],
    )
    assert flt and {r["keywordType"] for r in flt} == {"EXACT"}
    pp = world.report_rows(
        pid,
        "spPurchasedProduct",
        ["asin"],
        "SUMMARY",
        TODAY - dt.timedelta(30),
        TODAY - dt.timedelta(1),
        ["advertisedAsin", "purchasedAsin", "salesOtherSku7d"],
    )
    assert pp and all(r["advertisedAsin"] != r["purchasedAsin"] for r in pp)


def test_coupons_validate_and_follow_rules(world, specs_dir):
    v, _ = _item_validator(specs_dir, "sellerCouponReport.json", "CouponDetails")
    seller = world.sellers()[0]["sellerId"]
    items = world.coupons(seller, "ATVPDKIKX0DER", LO, HI)
    assert len(items) >= 4
    for it in items:
        v.validate(it)
        assert it["budgetRemaining"] == round(it["budget"] - it["budgetSpent"], 2)
        assert it["budgetSpent"] >= it["totalDiscount"]  # fees included
        assert 0 <= it["budgetPercentageUsed"] <= 100
        assert it["redemptions"] <= it["clips"] or it["redemptions"] == 0
    assert {i["customerSegment"] for i in items} <= {"All (Default)", "Amazon Prime", "Amazon Student"}
    assert {i["discountType"] for i in world.coupons(seller, "A1PA6795UKMFR9", LO, HI) + items} == {
        "PERCENT_OFF_LIST_PRICE",
        "AMOUNT_OFF_LIST_PRICE",
    }
    # selection by start date-time
    mid = [i for i in items if i["startDateTime"] >= "2025-05-01"]
    assert len(world.coupons(seller, "ATVPDKIKX0DER", dt.datetime(2025, 5, 1, tzinfo=dt.UTC), HI)) == len(mid)
    assert world.coupons("NOPE", "ATVPDKIKX0DER", LO, HI) == []


def test_deals_validate(world, specs_dir):
    v, _ = _item_validator(specs_dir, "promotionReport.json", "DetailsByPromotion")
    seller = world.sellers()[0]["sellerId"]
    deals = world.deals(seller, "ATVPDKIKX0DER", LO, HI)
    assert {d["type"] for d in deals} == {"BEST_DEAL", "LIGHTNING_DEAL"}
    for d in deals:
        v.validate(d)
        assert "amountSpent" not in d and d["unitsSold"] == sum(p["productUnitsSold"] for p in d["includedProducts"])


def test_upload_coupons_then_advance(specs_dir):
    w = World(seed=9, today=TODAY)
    seller = w.sellers()[0]["sellerId"]
    asin = w.truth_products(w.sellers()[0]["profileIds"][0])["asin"].iloc[0]
    ids = w.upload_coupons(
        seller,
        "ATVPDKIKX0DER",
        [
            {
                "asins": [asin],
                "discount_type": "Percentage Off",
                "discount_value": 15.0,
                "title": "Summer 15% off",
                "budget": 500.0,
                "start_date": TODAY,
                "end_date": TODAY + dt.timedelta(days=20),
                "customer_segment": "Amazon Prime",
                "once_per_customer": True,
            }
        ],
    )
    assert len(ids) == 1
    got = [c for c in w.coupons(seller, "ATVPDKIKX0DER", LO, HI) if c["couponId"] == ids[0]][0]
    assert got["name"] == "Summer 15% off" and got["redemptions"] == 0 and got["customerSegment"] == "Amazon Prime"
    w.advance(5)
    got = [c for c in w.coupons(seller, "ATVPDKIKX0DER", LO, HI) if c["couponId"] == ids[0]][0]
    v, _ = _item_validator(specs_dir, "sellerCouponReport.json", "CouponDetails")
    v.validate(got)
    assert got["budgetSpent"] > 0 and got["discountType"] == "PERCENT_OFF_LIST_PRICE"


@pytest.mark.slow
def test_large_scale():
    # sizes only: how long the large world takes to build is measured by `make bench` ("large world build"),
    # not asserted here, where the machine's load decides it
    w = World(seed=7, scale="large", today=TODAY)
    pid = w.sellers()[0]["profileIds"][0]
    assert len(w.entities(pid, "campaigns")) >= 500
    assert len(w.entities(pid, "keywords")) + len(w.entities(pid, "targets")) >= 50000
    p = w._p(pid)
    ev = p.slice("ev", TODAY - dt.timedelta(95), TODAY)
    key = ev["day"].astype(np.int64) * len(p.term_t) + ev["term"]
    assert len(np.unique(key)) >= 1_000_000
    for other in w.sellers()[0]["profileIds"][1:]:
        assert len(w.entities(other, "campaigns")) <= 30
    rows = w.report_rows(
        pid,
        "spSearchTerm",
        ["searchTerm"],
        "DAILY",
        TODAY - dt.timedelta(31),
        TODAY - dt.timedelta(1),
        ["date", "keywordId", "searchTerm", "clicks", "cost"],
    )
    assert len(rows) > 100_000


def test_search_terms_once_per_date_target_and_text(world):
    """Amazon reports a search term once per date and target: no two rows share (date, keywordId, searchTerm), and
    the terms' clicks and spend add up to the campaigns' (the sync's store keeps one row per natural key)."""
    end = TODAY - dt.timedelta(days=1)
    start = end - dt.timedelta(days=30)
    for prof in world.profiles():
        pid = str(prof["profileId"])
        cols = ["date", "keywordId", "searchTerm", "clicks", "cost"]
        rows = world.report_rows(pid, "spSearchTerm", ["searchTerm"], "DAILY", start, end, cols)
        keys = [(r["date"], r["keywordId"], r["searchTerm"]) for r in rows]
        assert rows and len(keys) == len(set(keys)), pid
        camp = world.report_rows(pid, "spCampaigns", ["campaign"], "DAILY", start, end, ["date", "cost", "clicks"])
        assert sum(r["clicks"] for r in rows) == sum(r["clicks"] for r in camp), pid
        assert round(sum(r["cost"] for r in rows), 2) == round(sum(r["cost"] for r in camp), 2), pid
