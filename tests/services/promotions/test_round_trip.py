"""Promotions end to end over the sandbox: sync → suggestions vs the planted truth; export → upload →
sync → linked and scheduled → advance → live with performance."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
import requests
from synchelp import FAST_POLICY, demo_account, vault

from services import promotions as pr
from services.promotions import DEFAULT_SETTINGS
from services.promotions import store as ps
from services.promotions.drafts import CouponDraft
from services.promotions.files import COUPON_FILE_COLUMNS, read_back
from services.promotions.suggestions import suggest
from services.store import open_db


def test_suggestions_flag_the_planted_coupons_with_their_numbers(demo_store):
    path, _, _, sandbox = demo_store
    db = open_db(path)
    profiles = [dict(r) for r in db.query("SELECT profile_id, seller_id, marketplace_id FROM profiles")]
    seller = profiles[0]["seller_id"]
    truth = sandbox.world.truth_coupons(seller)
    assert set(truth["planted"]) >= {"pacing_fast", "pacing_slow"}
    fast_flags, slow_flags = set(), set()
    for p in profiles:
        df = suggest(db, p["profile_id"])
        for r in df.to_dict("records"):
            if r["entity_kind"] != "coupon":
                continue
            pace = r["evidence"].get("pace")
            if (
                r["type"] in ("coupon_budget_warning", "raise_coupon_budget")
                and pace is not None
                and pace >= DEFAULT_SETTINGS.pace_fast
            ):
                fast_flags.add(r["entity_id"])
            if r["type"] == "coupon_underpacing":
                slow_flags.add(r["entity_id"])
                # Amazon only allows raising a live coupon's budget: no cut is proposed for it, only for the next one
                assert r["proposed_value"] is None or pd.isna(r["proposed_value"])
                assert r["evidence"]["next_coupon_budget"] < r["current_value"]
            # the numbers are the report's numbers
            c = dict(next(iter(db.query("SELECT * FROM coupons WHERE coupon_id = ?", [r["entity_id"]]))))
            if "budget_spent" in r["evidence"]:
                assert r["evidence"]["budget_spent"] == pytest.approx(c["budget_spent"])
                assert r["evidence"]["budget"] == pytest.approx(c["budget"])
                assert r["evidence"]["redemptions"] == c["redemptions"]
    planted_fast = set(truth.loc[truth["planted"] == "pacing_fast", "coupon_id"])
    planted_slow = set(truth.loc[truth["planted"] == "pacing_slow", "coupon_id"])
    assert fast_flags == planted_fast
    assert slow_flags == planted_slow


def test_planted_fast_coupon_numbers_match_the_world(demo_store):
    path, _, _, sandbox = demo_store
    db = open_db(path)
    truth = sandbox.world.truth_coupons(next(iter(db.query("SELECT seller_id FROM profiles")))["seller_id"])
    fast = truth.loc[truth["planted"] == "pacing_fast", "coupon_id"].iloc[0]
    c = dict(next(iter(db.query("SELECT * FROM coupons WHERE coupon_id = ?", [fast]))))
    k = pr.coupon_kpis(c, pr.profile_as_of(db, c["profile_id"]))
    assert k["elapsed_days"] == 10 and k["duration_days"] == 30  # planted: started 10 days ago, 30 days long
    assert k["pace"] >= DEFAULT_SETTINGS.pace_fast
    assert k["budget_used"] == pytest.approx(c["budget_percentage_used"] / 100, abs=1e-3)


def _upload(url: str, data: bytes, marketplace: str) -> requests.Response:
    return requests.post(
        f"{url}/_sandbox/coupons/upload",
        params={"seller": "demo", "marketplaceId": marketplace},
        data=data,
        headers={"content-type": "text/csv"},
        timeout=30,
    )


def test_round_trip_export_upload_sync_link_live(fresh_sandbox, tmp_path):
    from services.sync import sync_account

    sb = fresh_sandbox
    path = tmp_path / "rt.db"
    aid = demo_account(path, sb.url)
    assert sync_account(path, aid, vault(), days=1, policy=FAST_POLICY).status == "ok"
    db = open_db(path)
    us = dict(next(iter(db.query("SELECT * FROM profiles WHERE country_code = 'US'"))))
    pid = us["profile_id"]
    today = date.fromisoformat(requests.get(f"{sb.url}/_sandbox/state", timeout=10).json()["today"])
    asins = sorted(ps.account_asins(db, pid))[:2]
    draft = CouponDraft(
        asins=asins,
        discount_type="percent",
        percent_off=20,
        title_suffix="Round trip garden set",
        budget=2500,
        start_date=today + timedelta(days=2),
        end_date=today + timedelta(days=30),
        customer_segment="All",
        once_per_customer=True,
        marketplace_id=us["marketplace_id"],
    )
    rid = ps.save_draft(db, draft, profile_id=pid, account_id=aid)
    res = ps.export_coupons(db, [rid], today=today)
    assert res.ok, {k: v.errors for k, v in res.results.items()}
    assert list(read_back(res.data).columns) == COUPON_FILE_COLUMNS
    assert ps.get_record(db, rid)["status"] == "exported"

    r = _upload(sb.url, res.data, us["marketplace_id"])
    assert r.status_code == 200, r.text
    coupon_id = r.json()["couponIds"][0]

    assert sync_account(path, aid, vault(), days=1, policy=FAST_POLICY).status == "ok"
    db = open_db(path)
    ov = pr.promotions_overview(db, pid)
    row = ov[ov["record_id"] == rid]
    assert len(row) == 1 and row.iloc[0]["promotion_id"] == coupon_id
    assert row.iloc[0]["status"] == "scheduled" and ps.get_record(db, rid)["status"] == "linked"
    assert row.iloc[0]["audience"] == "All customers" and row.iloc[0]["discount"] == "20 % off"

    requests.post(f"{sb.url}/_sandbox/advance", json={"days": 6}, timeout=120).raise_for_status()
    assert sync_account(path, aid, vault(), days=7, policy=FAST_POLICY).status == "ok"
    db = open_db(path)
    ov = pr.promotions_overview(db, pid)
    row = ov[ov["record_id"] == rid].iloc[0]
    assert row["status"] == "live"
    assert row["clips"] > 0 and row["redemptions"] > 0 and row["budget_spent"] > 0
    assert row["pace"] is not None and row["cost_per_redemption"] is not None
    hist = pr.coupon_history(db, coupon_id)
    assert len(hist) == 2 and hist["redemptions"].iloc[-1] == row["redemptions"]
    perf = pr.promoted_asin_performance(db, pid, asins, row["start"], row["end"])
    assert not perf.empty and "All" in set(perf["asin"])
    promos, sales = pr.timeline_frames(db, pid)
    assert any("Round trip garden set" in label for label in promos["label"])
