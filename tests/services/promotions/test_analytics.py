"""Promotion analytics and the draft/export/link store on a hand-filled store (no sandbox)."""

import json
import re
from datetime import date, timedelta

import pandas as pd
import pytest

from services import promotions as pr
from services.analytics.charts import timeline_figure
from services.promotions import store as ps
from services.promotions.drafts import CouponDraft, PedDraft
from services.promotions.files import COUPON_FILE_COLUMNS, read_back
from services.promotions.suggestions import SUGGESTION_COLUMNS, change_text, suggest
from services.store import open_db, upsert_rows, write

TODAY = date(2026, 3, 20)
PID = "P1"


def coupon_row(
    cid,
    start,
    end,
    budget,
    spent,
    red,
    clips,
    disc,
    sales,
    asins=("B0AAAAAAA1",),
    name=None,
    dtype="PERCENT_OFF_LIST_PRICE",
    amount=10,
):
    return {
        "coupon_id": cid,
        "account_id": "A",
        "profile_id": PID,
        "marketplace_id": "ATVPDKIKX0DER",
        "currency_code": "USD",
        "name": name or f"coupon {cid}",
        "website_message": f"Save on {cid}",
        "start_date_time": f"{start}T00:00:00Z",
        "end_date_time": f"{end}T23:59:59Z",
        "customer_segment": "All (Default)",
        "discount_type": dtype,
        "discount_amount": amount,
        "budget": budget,
        "clips": clips,
        "redemptions": red,
        "total_discount": disc,
        "budget_spent": spent,
        "budget_remaining": budget - spent,
        "budget_percentage_used": 100 * spent / budget,
        "sales": sales,
        "asins": json.dumps(list(asins)),
    }


@pytest.fixture()
def db(tmp_path):
    d = open_db(tmp_path / "s.db")
    with write(d):
        upsert_rows(
            d,
            "profiles",
            [
                {
                    "profile_id": PID,
                    "account_id": None,
                    "country_code": "US",
                    "currency_code": "USD",
                    "marketplace_id": "ATVPDKIKX0DER",
                }
            ],
        ) if False else None
        rows = [
            # 10 of 30 days gone, 70 % of budget: too fast
            coupon_row("FAST", TODAY - timedelta(days=10), TODAY + timedelta(days=19), 200, 140, 40, 100, 120, 1800),
            # 10 of 30 days gone, 5 % of 2,000
            coupon_row(
                "SLOW",
                TODAY - timedelta(days=10),
                TODAY + timedelta(days=19),
                2000,
                100,
                10,
                50,
                80,
                700,
                asins=("B0BBBBBBB2",),
            ),
            coupon_row("SOON", TODAY + timedelta(days=5), TODAY + timedelta(days=20), 500, 0, 0, 0, 0, 0),
            coupon_row("OLD", TODAY - timedelta(days=60), TODAY - timedelta(days=40), 500, 300, 50, 200, 250, 2000),
        ]
        upsert_rows(d, "coupons", rows)
        snaps = []
        for i in range(3):
            snaps.append(
                {
                    "coupon_id": "FAST",
                    "snapshot_date": (TODAY - timedelta(days=2 - i)).isoformat(),
                    "clips": 80 + 10 * i,
                    "redemptions": 30 + 5 * i,
                    "budget_spent": 110 + 15 * i,
                    "sales": 1400 + 200 * i,
                    "budget": 200,
                    "total_discount": 90 + 15 * i,
                }
            )
        upsert_rows(d, "coupon_snapshots", snaps)
        ads = []
        for k in range(40, 0, -1):
            day = TODAY - timedelta(days=k)
            during = day >= TODAY - timedelta(days=10)
            for asin, units in (("B0AAAAAAA1", 8 if during else 4), ("B0BBBBBBB2", 2)):
                orders = units
                ads.append(
                    {
                        "profile_id": PID,
                        "date": day.isoformat(),
                        "ad_id": f"ad-{asin}",
                        "asin": asin,
                        "ad_group_id": "AG1",
                        "campaign_id": "C1",
                        "impressions": 1000,
                        "clicks": 40,
                        "cost": 20.0,
                        "purchases_7d": orders,
                        "sales_7d": orders * (15.0 if during else 20.0),
                        "units_7d": units,
                    }
                )
        upsert_rows(d, "advertised_product_day", ads)
        upsert_rows(
            d,
            "campaign_day",
            [
                {"profile_id": PID, "date": r["date"], "campaign_id": "C1", "cost": 20, "sales_7d": r["sales_7d"]}
                for r in ads
                if r["asin"] == "B0AAAAAAA1"
            ],
        )
        upsert_rows(
            d,
            "product_ads",
            [
                {
                    "profile_id": PID,
                    "ad_id": "ad-B0AAAAAAA1",
                    "ad_group_id": "AG1",
                    "campaign_id": "C1",
                    "asin": "B0AAAAAAA1",
                    "sku": "SKU-A",
                },
                {
                    "profile_id": PID,
                    "ad_id": "ad-B0BBBBBBB2",
                    "ad_group_id": "AG1",
                    "campaign_id": "C1",
                    "asin": "B0BBBBBBB2",
                    "sku": "SKU-B",
                },
            ],
        )
    return d


def test_status_boundaries():
    s, e = date(2026, 3, 10), date(2026, 3, 12)
    assert pr.promotion_status(s, e, date(2026, 3, 9)) == "scheduled"
    assert pr.promotion_status(s, e, s) == "live"
    assert pr.promotion_status(s, e, e) == "live"
    assert pr.promotion_status(s, e, date(2026, 3, 13)) == "ended"


def test_coupon_kpis_follow_the_reference_formulas():
    row = coupon_row("X", date(2026, 3, 1), date(2026, 3, 30), 1000, 400, 100, 400, 300, 3000)
    k = pr.coupon_kpis(row, date(2026, 3, 11))  # 10 of 30 days reported
    assert k["clip_to_redeem"] == 0.25
    assert k["budget_used"] == 0.4 and k["time_elapsed"] == pytest.approx(1 / 3)
    assert k["pace"] == pytest.approx(1.2)
    assert k["cost_per_redemption"] == 4.0
    assert k["fee_share"] == 0.25
    assert k["sales_per_spend"] == 7.5
    assert k["effective_depth"] == pytest.approx(300 / 3300)
    assert k["projected_spend"] == pytest.approx(1200)
    assert k["days_to_offline"] == pytest.approx(10.0)
    assert k["fee"] == 5 + 75 and "5 Nov" in k["fee_model"]


def test_kpis_with_zeros_are_missing_not_errors():
    k = pr.coupon_kpis(coupon_row("Z", TODAY, TODAY + timedelta(days=3), 100, 0, 0, 0, 0, 0), TODAY)
    assert k["clip_to_redeem"] is None and k["pace"] is None and k["cost_per_redemption"] is None
    assert k["status"] == "live" and k["elapsed_days"] == 0


def test_overview_lists_coupons_and_records_with_statuses(db):
    rid = ps.save_draft(db, CouponDraft(asins=["B0AAAAAAA1"], title_suffix=""), profile_id=PID)  # invalid, saved
    ov = pr.promotions_overview(db, PID)
    assert set(ov.columns) == set(pr.OVERVIEW_COLUMNS)
    by = {r["promotion_id"] or r["record_id"]: r for r in ov.to_dict("records")}
    assert by["FAST"]["status"] == "live" and by["SOON"]["status"] == "scheduled" and by["OLD"]["status"] == "ended"
    assert by[rid]["status"] == "draft"
    assert by["FAST"]["pace"] == pytest.approx(0.7 / (10 / 30))
    assert by["FAST"]["audience"] == "All customers" and by["FAST"]["discount"] == "10 % off"


def test_history_has_daily_increments(db):
    h = pr.coupon_history(db, "FAST")
    assert h["new_redemptions"].tolist() == [30, 5, 5] and h["new_spend"].tolist() == [110, 15, 15]
    assert h["pace"].notna().all()


def test_timeline_frames_feed_the_chart(db):
    promos, sales = pr.timeline_frames(db, PID)
    assert {"label", "start", "end"} <= set(promos.columns) and {"date", "sales"} <= set(sales.columns)
    assert promos["label"].is_unique and len(promos) == 4
    fig = timeline_figure(promos, sales)
    assert len(fig.data) == 1 + len(promos)
    bars, (ad_sales,) = fig.data[:-1], fig.data[-1:]
    # the bars sit on the promotions' axis; the ad sales on their own small chart below, titled with what they are
    assert {b.yaxis for b in bars} == {"y"} and ad_sales.yaxis == "y2" and ad_sales.xaxis == "x2"
    assert "7-day average" in ad_sales.name and fig.layout.yaxis2.overlaying is None


def test_promoted_asin_performance_before_and_during(db):
    perf = pr.promoted_asin_performance(db, PID, ["B0AAAAAAA1"], TODAY - timedelta(days=10), TODAY + timedelta(days=19))
    a = perf[perf["asin"] == "B0AAAAAAA1"].iloc[0]
    assert a["aov_before"] == 20.0 and a["aov_during"] == 15.0 and a["aov_change"] == pytest.approx(-0.25)
    assert a["lift"] == pytest.approx(2.0)
    assert a["cvr_during"] == pytest.approx(8 / 40) and a["acos_during"] == pytest.approx(20 / 120)


def test_suggestions_flag_fast_and_slow_with_numbers(db):
    df = suggest(db, PID)
    assert list(df.columns) == SUGGESTION_COLUMNS
    types = {(r["type"], r["entity_id"]) for r in df.to_dict("records")}
    assert ("coupon_budget_warning", "FAST") in types
    assert ("raise_coupon_budget", "FAST") in types
    assert ("coupon_underpacing", "SLOW") in types
    assert ("cut_bids_aov_drop", "B0AAAAAAA1") in types
    raise_ = df[(df["type"] == "raise_coupon_budget")].iloc[0]
    assert raise_["current_value"] == 200 and raise_["proposed_value"] > 200
    assert raise_["evidence"]["pace"] == pytest.approx(2.1) and raise_["evidence"]["incremental_return"] > 0
    for r in df.to_dict("records"):
        assert r["reason"].endswith(".") and r["expected_effect"] and 0 <= r["confidence"] <= 1
    # Why: "One suggestion proposes cutting a live coupon's budget from 1,677 to 330" (Amazon only allows raising)
    slow = df[df["type"] == "coupon_underpacing"].iloc[0]
    assert pd.isna(slow["proposed_value"]) and slow["evidence"]["next_coupon_budget"] < slow["current_value"]
    budgets = df[df["type"].isin(["raise_coupon_budget", "coupon_underpacing"])]
    assert all(pd.isna(p) or p > c for c, p in zip(budgets["current_value"], budgets["proposed_value"]))
    # Why: '"0.8432 → 0.8" reads as nothing': every change reads in units
    changes = {r["type"]: change_text(r) for r in df.to_dict("records")}
    assert changes["raise_coupon_budget"].startswith("Budget $200.00 → $")
    assert re.fullmatch(r"\d+% of the budget used · offline at 80%", changes["coupon_budget_warning"])
    assert changes["coupon_underpacing"].startswith("Keep this coupon's $")
    assert re.fullmatch(r"Bids × 0\.\d\d \(\u2212\d+%\)", changes["cut_bids_aov_drop"])


def test_merge_suggestion_saves_fixed_fees(db):
    with write(db):
        upsert_rows(
            db,
            "coupons",
            [
                coupon_row(
                    "M1",
                    TODAY + timedelta(days=3),
                    TODAY + timedelta(days=10),
                    100,
                    0,
                    0,
                    0,
                    0,
                    0,
                    asins=("B0CCCCCCC3",),
                ),
                coupon_row(
                    "M2",
                    TODAY + timedelta(days=5),
                    TODAY + timedelta(days=12),
                    100,
                    0,
                    0,
                    0,
                    0,
                    0,
                    asins=("B0DDDDDDD4",),
                ),
            ],
        )
    df = suggest(db, PID)
    m = df[df["type"] == "merge_coupons"]
    assert len(m) == 1 and set(m.iloc[0]["entity_ids"]) == {"SOON", "M1", "M2"}
    assert m.iloc[0]["evidence"]["fees_separately"] - m.iloc[0]["evidence"]["fees_merged"] == pytest.approx(10.0)


# ---- store: drafts, export, linking


def valid_draft(**kw):
    base = dict(
        asins=["B0AAAAAAA1"],
        discount_type="percent",
        percent_off=15,
        title_suffix="Acme hose",
        budget=300,
        start_date=TODAY + timedelta(days=2),
        end_date=TODAY + timedelta(days=20),
        customer_segment="Prime",
    )
    base.update(kw)
    return CouponDraft(**base)


def test_schema_is_idempotent(db):
    ps.ensure_schema(db)
    ps.ensure_schema(db)
    assert not ps.migrations.pending(db)


def test_invalid_draft_is_saved_and_export_refused(db):
    rid = ps.save_draft(db, valid_draft(percent_off=95, title_suffix="=cmd"), profile_id=PID)
    assert ps.get_draft(db, rid).percent_off == 95  # nothing typed is lost
    res = ps.export_coupons(db, [rid], today=TODAY)
    assert not res.ok and res.data is None
    assert {"percent_off", "title_suffix"} <= set(res.results[rid].errors)
    assert ps.get_record(db, rid)["status"] == "draft"


def test_export_uses_account_asins_and_moves_to_exported(db):
    unknown = ps.save_draft(db, valid_draft(asins=["B0ZZZZZZZ9"]), profile_id=PID)
    assert "asins" in ps.export_coupons(db, [unknown], today=TODAY).results[unknown].errors
    rid = ps.save_draft(db, valid_draft(), profile_id=PID)
    res = ps.export_coupons(db, [rid], today=TODAY, fmt="xlsx")
    assert res.ok and res.filename.endswith(".xlsx")
    assert list(read_back(res.data, "xlsx").columns) == COUPON_FILE_COLUMNS
    assert ps.get_record(db, rid)["status"] == "exported"
    ov = pr.promotions_overview(db, PID)
    assert ov[ov["record_id"] == rid].iloc[0]["status"] == "exported"


def test_link_by_name_asins_and_start(db):
    rid = ps.save_draft(db, valid_draft(), profile_id=PID)
    assert ps.export_coupons(db, [rid], today=TODAY).ok
    start, end = TODAY + timedelta(days=2), TODAY + timedelta(days=20)
    with write(db):
        upsert_rows(
            db,
            "coupons",
            [
                coupon_row("WRONGDATE", start + timedelta(days=1), end, 300, 0, 0, 0, 0, 0, name="Acme hose"),
                coupon_row("WRONGASIN", start, end, 300, 0, 0, 0, 0, 0, name="Acme hose", asins=("B0BBBBBBB2",)),
                coupon_row("WRONGNAME", start, end, 300, 0, 0, 0, 0, 0, name="Other"),
            ],
        )
    assert ps.link_coupons(db, PID) == []
    with write(db):
        upsert_rows(db, "coupons", [coupon_row("NEW1", start, end, 300, 0, 0, 0, 0, 0, name="  acme  HOSE ")])
    assert ps.link_coupons(db, PID) == [(rid, "NEW1")]
    assert ps.link_coupons(db, PID) == []  # idempotent
    ov = pr.promotions_overview(db, PID)
    row = ov[ov["promotion_id"] == "NEW1"].iloc[0]
    assert row["record_id"] == rid and row["status"] == "scheduled"
    assert (ov["record_id"] == rid).sum() == 1  # shown once, as the coupon
    with pytest.raises(ValueError):
        ps.save_draft(db, valid_draft(), record_id=rid)


def test_ped_export(db):
    rid = ps.save_draft(
        db,
        PedDraft(
            name="Spring PED",
            skus=["SKU-A"],
            discount_value=12,
            start=TODAY + timedelta(days=1),
            end=TODAY + timedelta(days=8),
        ),
        profile_id=PID,
    )
    res = ps.export_ped(db, rid, today=TODAY)
    assert res.ok and list(read_back(res.data).columns) == ["sku", "Discount Type", "Discount Value"]
    assert ps.get_record(db, rid)["status"] == "exported"
    bad = ps.save_draft(
        db, PedDraft(name="x", skus=["SKU-Q"], discount_value=5, start=TODAY, end=TODAY), profile_id=PID
    )
    res = ps.export_ped(db, bad, today=TODAY)
    assert not res.ok and {"skus", "discount_value"} <= set(res.results[bad].errors)


def test_export_n_ped_drafts_exports_every_valid_one(db):
    """ "Export N PED drafts" (the page calls form.export) gives a file for each draft, not only the first."""
    import io
    import zipfile

    from services.promotions import form

    def ped(name, sku, value):
        draft = PedDraft(
            name=name, skus=[sku], discount_value=value, start=TODAY + timedelta(days=1), end=TODAY + timedelta(days=8)
        )
        return ps.save_draft(db, draft, profile_id=PID)

    ids = [ped("Spring PED", "SKU-A", 12), ped("Summer PED", "SKU-B", 20)]
    unknown = ped("Autumn PED", "SKU-C", 15)  # not in the catalogue: stays a draft, the others still go out
    res = form.export(db, [*ids, unknown], "ped", "csv", "US", today=TODAY)
    assert res.ok and res.mime == "application/zip" and "2 Prime Exclusive Discount files" in res.message
    assert "1 other draft(s) need fixing" in res.message and res.results[unknown].errors
    with zipfile.ZipFile(io.BytesIO(res.data)) as z:
        files = {n: read_back(z.read(n)) for n in z.namelist()}
    assert len(files) == 2
    assert sorted(f.iloc[0]["sku"] for f in files.values()) == ["SKU-A", "SKU-B"]
    assert {n.split("_")[1] for n in files} == {"spring-ped", "summer-ped"}
    assert [ps.get_record(db, r)["status"] for r in [*ids, unknown]] == ["exported", "exported", "draft"]

    # one draft alone still gets its plain file
    single = form.export(db, [ped("Winter PED", "SKU-A", 10)], "ped", "xlsx", "US", today=TODAY)
    assert single.ok and single.filename.endswith(".xlsx") and read_back(single.data, "xlsx").iloc[0]["sku"] == "SKU-A"


def test_drafts_that_break_rules_are_named_marked_and_deletable(db):
    """Why: "Drafts that break rules are saved alongside valid ones, can't be deleted, and '11 draft(s) still break
    rules' names none of them"."""
    from services.promotions import form

    good, _ = form.check_and_save(
        db, valid_draft(title_suffix="spring tools"), profile_id=PID, account_id="a", today=TODAY
    )
    bad, result = form.check_and_save(
        db, valid_draft(percent_off=95, title_suffix="too deep"), profile_id=PID, account_id="a", today=TODAY
    )
    assert result.errors
    rows = {r["record_id"]: r for r in form.drafts_table(db, PID)}
    assert rows[good]["check"] == "Ready to export"
    assert rows[bad]["check"] == "Breaks a rule: " + form.first_error(result.errors)
    message = form.failing_drafts_message(list(rows.values()))
    assert (
        message.startswith("1 draft(s) break")
        and "“too deep”" in message
        and form.first_error(result.errors) in message
    )
    assert form.delete_drafts(db, "another-profile", [bad]) == 0  # another profile's page deletes nothing here
    assert form.delete_drafts(db, PID, [bad]) == 1
    assert [r["record_id"] for r in form.drafts_table(db, PID)] == [good]
    assert form.failing_drafts_message(form.drafts_table(db, PID)) is None
