"""Each optimizer rule pinned on small hand-made frames, guards included."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest

from services import optimizer as opt
from services.optimizer import OptimizerInput, Settings, SettingsBook

AS_OF = date(2026, 3, 31)


def _days(n=20, end_offset=4):
    """n dates ending `end_offset` days before AS_OF (outside the settling window)."""
    return [AS_OF - timedelta(days=end_offset + i) for i in range(n)]


def spread(total, n):
    base = [total // n] * n
    for i in range(total % n):
        base[i] += 1
    return base


def target_rows(entity_id, clicks, orders, cost, sales, campaign_id="C1", ad_group_id="G1", n=10, end_offset=4):
    rows = []
    for d, c, o in zip(_days(n, end_offset), spread(clicks, n), spread(orders, n)):
        rows.append(
            {
                "date": d.isoformat(),
                "entity_id": entity_id,
                "campaign_id": campaign_id,
                "ad_group_id": ad_group_id,
                "impressions": c * 50,
                "clicks": c,
                "cost": cost / n,
                "orders": o,
                "sales": sales / n,
            }
        )
    return rows


def make_input(target_rows_list, entities, changes=None, campaigns=None, **extra):
    ents = pd.DataFrame(entities)
    campaigns = (
        campaigns
        if campaigns is not None
        else pd.DataFrame(
            [
                {
                    "campaign_id": "C1",
                    "name": "Camp 1",
                    "state": "enabled",
                    "targeting_type": "MANUAL",
                    "budget": 20.0,
                    "placement_top_pct": 0.0,
                }
            ]
        )
    )
    ad_groups = pd.DataFrame(
        [
            {"ad_group_id": g, "campaign_id": c, "name": f"AG {g}", "state": "enabled", "default_bid": 1.0}
            for g, c in sorted({(e["ad_group_id"], e["campaign_id"]) for e in entities})
        ]
    )
    return OptimizerInput(
        as_of=AS_OF,
        profile_id="P1",
        target_day=pd.DataFrame(target_rows_list),
        entities=ents,
        campaigns=campaigns,
        ad_groups=ad_groups,
        changes=changes if changes is not None else pd.DataFrame(),
        **extra,
    )


def kw(entity_id, bid, campaign_id="C1", ad_group_id="G1", match_type="EXACT", text=None, state="enabled"):
    return {
        "entity_id": entity_id,
        "kind": "keyword",
        "campaign_id": campaign_id,
        "ad_group_id": ad_group_id,
        "text": text or f"kw {entity_id}",
        "match_type": match_type,
        "state": state,
        "bid": bid,
    }


S = Settings(target_acos=0.25)


# ---- shrinkage -----------------------------------------------------------------------------


def test_shrink_ten_clicks_no_order_is_not_zero():
    cvr, weight = opt.shrink(0, 10, 0.10)
    assert 0.03 < float(cvr) < 0.10
    assert 0 < float(weight) < 1


def test_shrink_lots_of_data_approaches_raw():
    cvr, weight = opt.shrink(100, 1000, 0.05)
    assert abs(float(cvr) - 0.1) < 0.01
    assert float(weight) > 0.9


# ---- bids ---------------------------------------------------------------------------------------


def background(n_kw=5, clicks=100, orders=10, cost=60.0, sales=300.0):
    """Keywords that set a 10 % ad-group CVR and $30 AOV (no suggestion expected at bid 0.75)."""
    rows, ents = [], []
    for i in range(n_kw):
        eid = f"B{i}"
        rows += target_rows(eid, clicks, orders, cost, sales)
        ents.append(kw(eid, 0.75))
    return rows, ents


def test_value_bid_raise_capped_by_step():
    rows, ents = background()
    # 100 clicks, 20 orders, AOV 30 -> CVR ~ 0.18 -> value bid ~ 30*0.18*0.25 = 1.35 vs bid 0.75
    rows += target_rows("K1", 100, 20, 60.0, 600.0)
    ents.append(kw("K1", 0.75))
    fixed = opt.bid_suggestions(make_input(rows, ents), SettingsBook(replace(S, max_step_sure=S.max_step)))
    assert fixed[fixed["entity_id"] == "K1"].iloc[0]["proposed_value"] == pytest.approx(0.90)  # +20 % step cap
    out = opt.bid_suggestions(make_input(rows, ents), SettingsBook(S))
    k = out[out["entity_id"] == "K1"].iloc[0]
    # 100 clicks make the conversion rate sure enough for a longer step, never beyond max_step_sure (+50 %)
    assert k["confidence"] > 0.5  # the shrinkage weight of its own clicks
    assert 0.90 < k["proposed_value"] <= 0.75 * (1 + S.max_step_sure) + 0.005
    assert k["proposed_value"] == pytest.approx(0.75 * (1 + 0.2 + 0.3 * k["confidence"]), abs=0.006)
    assert k["value_bid"] > 1.2
    assert k["cvr_raw"] == pytest.approx(0.20)
    assert k["cvr_shrunk"] < 0.20
    assert k["expected_spend_change"] > 0 and k["expected_sales_change"] > 0
    assert "Raise" in k["reason"]
    assert set(out["entity_id"]) == {"K1"}  # background sits in the dead band


def test_dead_band_no_change():
    rows, ents = background()
    out = opt.bid_suggestions(make_input(rows, ents), SettingsBook(S))
    assert out.empty


def test_no_order_lowers_with_shrunk_cvr_not_to_zero():
    rows, ents = background()
    rows += target_rows("K2", 30, 0, 30.0, 0.0)
    ents.append(kw("K2", 1.00))
    out = opt.bid_suggestions(make_input(rows, ents), SettingsBook(S))
    k = out[out["entity_id"] == "K2"].iloc[0]
    # the step cap grows with the evidence (-20 % .. -50 %), never to the minimum bid
    assert k["proposed_value"] == pytest.approx(1.00 * (1 - (0.2 + 0.3 * k["confidence"])), abs=0.006)
    assert k["proposed_value"] > 0.5 > S.min_bid
    assert k["cvr_shrunk"] > 0


def test_min_and_max_bid():
    rows, ents = background()
    rows += target_rows("K3", 200, 0, 50.0, 0.0)
    ents.append(kw("K3", 0.22))
    rows += target_rows("K4", 100, 80, 60.0, 4800.0)
    ents.append(kw("K4", 4.50))
    out = opt.bid_suggestions(
        make_input(rows, ents), SettingsBook(Settings(target_acos=0.25, min_bid=0.20, max_bid=5.0))
    )
    got = out.set_index("entity_id")["proposed_value"]
    assert got["K3"] == pytest.approx(0.20)
    assert got["K4"] == pytest.approx(5.00)


def test_bid_above_max_is_brought_down():
    rows, ents = background()
    rows += target_rows("K5", 100, 10, 60.0, 300.0)
    ents.append(kw("K5", 9.00))
    out = opt.bid_suggestions(make_input(rows, ents), SettingsBook(Settings(target_acos=0.25, max_bid=3.0)))
    k = out.set_index("entity_id").loc["K5"]
    assert k["proposed_value"] == pytest.approx(3.0)
    assert k["rule"] == "bid_limits"


def test_click_gate():
    rows, ents = background()
    rows += target_rows("K6", 5, 0, 5.0, 0.0)
    ents.append(kw("K6", 1.50))
    out = opt.bid_suggestions(make_input(rows, ents), SettingsBook(S))
    assert "K6" not in set(out["entity_id"])


def test_order_gate_for_raises():
    rows, ents = background()
    rows += target_rows("K7", 20, 1, 4.0, 90.0)  # one order, cheap clicks: value says raise, gate says wait
    ents.append(kw("K7", 0.20))
    out = opt.bid_suggestions(make_input(rows, ents), SettingsBook(S))
    assert "K7" not in set(out["entity_id"])


def test_settling_days_left_out():
    rows, ents = background()
    # all of K8's clicks land in the last 3 days: nothing to judge yet
    rows += target_rows("K8", 60, 0, 60.0, 0.0, n=3, end_offset=0)
    ents.append(kw("K8", 1.0))
    out = opt.bid_suggestions(make_input(rows, ents), SettingsBook(S))
    assert "K8" not in set(out["entity_id"])


def test_cooldown_after_recent_change():
    rows, ents = background()
    rows += target_rows("K9", 30, 0, 30.0, 0.0)
    ents.append(kw("K9", 1.0))
    changes = pd.DataFrame(
        [
            {
                "entity_id": "K9",
                "change_type": "bid",
                "applied_at": f"{(AS_OF - timedelta(days=1)).isoformat()}T10:00:00+00:00",
            }
        ]
    )
    out = opt.bid_suggestions(make_input(rows, ents, changes=changes), SettingsBook(S))
    assert "K9" not in set(out["entity_id"])
    old = changes.assign(applied_at=f"{(AS_OF - timedelta(days=10)).isoformat()}T10:00:00+00:00")
    out = opt.bid_suggestions(make_input(rows, ents, changes=old), SettingsBook(S))
    assert "K9" in set(out["entity_id"])


def test_paused_keyword_skipped_and_campaign_override():
    rows, ents = background()
    rows += target_rows("K10", 30, 0, 30.0, 0.0)
    ents.append(kw("K10", 1.0, state="paused"))
    out = opt.bid_suggestions(make_input(rows, ents), SettingsBook(S))
    assert "K10" not in set(out["entity_id"])
    # a campaign override of the target ACOS changes the background's verdict
    book = SettingsBook(S, {"C1": {"target_acos": 0.50}})
    out = opt.bid_suggestions(make_input(rows, ents), book)
    assert (out["proposed_value"] > out["current_value"]).all() and not out.empty


def test_suggestion_has_every_field():
    rows, ents = background()
    rows += target_rows("K1", 100, 20, 60.0, 600.0)
    ents.append(kw("K1", 0.75))
    out = opt.optimize(make_input(rows, ents), S)
    assert list(out.columns) == opt.SUGGESTION_COLUMNS
    r = out.iloc[0]
    for col in (
        "type",
        "entity_id",
        "campaign_name",
        "ad_group_name",
        "current_value",
        "proposed_value",
        "rule",
        "reason",
        "confidence",
        "clicks",
        "orders",
        "spend",
        "sales",
        "acos",
        "cvr_raw",
        "cvr_shrunk",
        "expected_spend_change",
        "expected_sales_change",
        "suggestion_key",
    ):
        assert r[col] is not None and not (isinstance(r[col], float) and pd.isna(r[col])), col
    assert r["reason"].endswith(".")


# ---- targets from margins -------------------------------------------------------------------


def test_target_defaults_to_half_of_break_even():
    # profit-seeking default: half the break-even ACOS (Settings.break_even_share), not break-even minus 5 pts
    rows, ents = background()
    inp = make_input(
        rows,
        ents,
        product_ads=pd.DataFrame([{"campaign_id": "C1", "ad_group_id": "G1", "asin": "A1", "state": "enabled"}]),
        margins=pd.DataFrame([{"asin": "A1", "margin": 0.40}]),
    )
    assert opt.campaign_targets(inp, SettingsBook(Settings()))["C1"] == pytest.approx(0.20)
    assert opt.campaign_targets(inp, SettingsBook(Settings(break_even_share=1.0, below_break_even=0.05)))[
        "C1"
    ] == pytest.approx(0.35)
    assert opt.campaign_targets(inp, SettingsBook(Settings(target_acos=0.2)))["C1"] == pytest.approx(0.2)
    inp.margins = pd.DataFrame()
    assert opt.campaign_targets(inp, SettingsBook(Settings()))["C1"] == pytest.approx(0.15)
    table = opt.break_even_table(pd.DataFrame([{"asin": "A1", "margin": 0.40}]))
    assert table.loc[0, "break_even_acos"] == pytest.approx(0.40)
    assert table.loc[0, "default_target_acos"] == pytest.approx(0.20)


def test_settings_describe_and_roundtrip():
    desc = Settings.describe()
    assert all(d["description"] for d in desc)
    assert {d["name"] for d in desc} >= {"target_acos", "min_bid", "max_bid", "max_step", "lookback_days"}
    s = Settings.from_dict({"min_bid": 0.3, "bogus": 1})
    assert s.min_bid == 0.3 and Settings.from_dict(s.to_dict()) == s
    assert Settings(min_bid=2, max_bid=1).validate()
    assert opt.DEFAULT_SETTINGS == Settings()


# ---- search terms -----------------------------------------------------------------------------


def term_rows(
    term,
    clicks,
    orders,
    cost,
    sales,
    ad_group_id="G1",
    campaign_id="C1",
    match_type="BROAD",
    entity_id="B0",
    n=10,
    end_offset=4,
):
    out = []
    for d, c, o in zip(_days(n, end_offset), spread(clicks, n), spread(orders, n)):
        out.append(
            {
                "date": d.isoformat(),
                "campaign_id": campaign_id,
                "ad_group_id": ad_group_id,
                "entity_id": entity_id,
                "search_term": term,
                "match_type": match_type,
                "impressions": c * 20,
                "clicks": c,
                "cost": cost / n,
                "orders": o,
                "sales": sales / n,
            }
        )
    return out


def terms_input(st_rows, negatives=None, extra_ents=(), product_ads=None, campaigns=None):
    rows, ents = background()
    ents = ents + list(extra_ents)
    return make_input(
        rows,
        ents,
        search_term_day=pd.DataFrame(st_rows),
        negatives=negatives if negatives is not None else pd.DataFrame(),
        product_ads=product_ads if product_ads is not None else pd.DataFrame(),
        campaigns=campaigns,
    )


def test_bleeder_probability_posterior():
    # Gamma(1,1) prior on the term/parent rate ratio: P(ratio < k | 0 orders, E expected) = 1 - exp(-k(1+E))
    assert opt.bleeder_probability(0.0, 0.5) == pytest.approx(1 - math.exp(-0.5))
    assert opt.bleeder_probability(3.6, 0.5) == pytest.approx(0.9, abs=0.001)
    assert opt.bleeder_probability(2.0, 0.5) < 0.9 < opt.bleeder_probability(4.0, 0.5)


def test_bleeder_negated_exact_in_paying_ad_group():
    # ad group CVR 10 %: 40 clicks -> ~4 expected orders (posterior 0.93); 25 clicks -> ~2.6 (0.84): not yet
    inp = terms_input(
        term_rows("yoga mat diy", 40, 0, 24.0, 0.0)
        + term_rows("yoga mat pdf", 25, 0, 15.0, 0.0)
        + term_rows("yoga mat", 40, 5, 24.0, 150.0)
    )
    out = opt.negative_suggestions(inp, SettingsBook(S))
    assert list(out["search_term"]) == ["yoga mat diy"]
    r = out.iloc[0]
    assert r["match_type"] == "NEGATIVE_EXACT" and r["ad_group_id"] == "G1" and r["campaign_id"] == "C1"
    assert r["orders"] == 0 and r["clicks"] == 40 and r["expected_spend_change"] < 0
    assert r["rule"] == "bleeder" and r["confidence"] >= S.bleeder_confidence


def _two_group_terms(extra=()):
    rows, ents = background()
    rows2, ents2 = [], []
    for i in range(5):
        rows2 += target_rows(f"D{i}", 100, 10, 60.0, 300.0, ad_group_id="G2")
        ents2.append(kw(f"D{i}", 0.75, ad_group_id="G2"))
    st = term_rows("yoga mat diy", 25, 0, 15.0, 0.0) + term_rows("yoga mat diy", 25, 0, 15.0, 0.0, ad_group_id="G2")
    return make_input(rows + rows2, ents + ents2, search_term_day=pd.DataFrame(st + list(extra)))


def test_bleeder_evidence_pooled_across_ad_groups():
    # 25 clicks each in two ad groups (~2.6 expected orders each) -> ~5.2 pooled: negated in both
    out = opt.negative_suggestions(_two_group_terms(), SettingsBook(S))
    assert sorted(out["ad_group_id"]) == ["G1", "G2"]
    assert set(out["rule"]) == {"bleeder_pooled"}


def test_term_converting_elsewhere_uses_only_own_evidence():
    # the same term converts in a third ad group: each ad group's own ~2.6 expected orders are not enough
    conv = term_rows("yoga mat diy", 10, 2, 6.0, 60.0, ad_group_id="G3")
    assert opt.negative_suggestions(_two_group_terms(conv), SettingsBook(S)).empty


def test_too_few_clicks_not_negated():
    inp = terms_input(term_rows("rare term", 8, 0, 5.0, 0.0))
    assert opt.negative_suggestions(inp, SettingsBook(S)).empty


def test_converting_term_never_negated():
    # one order long ago in the same ad group (outside the window) still protects it; so does an order today
    old = term_rows("slow seller", 1, 1, 1.0, 30.0, n=1, end_offset=80)
    recent = term_rows("slow seller", 60, 0, 40.0, 0.0)
    settling = term_rows("late order", 1, 1, 1.0, 30.0, n=1, end_offset=0)
    inp = terms_input(old + recent + settling + term_rows("late order", 40, 0, 30.0, 0.0))
    assert opt.negative_suggestions(inp, SettingsBook(S)).empty


def test_already_negated_not_suggested_again():
    negs = pd.DataFrame(
        [
            {
                "campaign_id": "C1",
                "ad_group_id": "G1",
                "keyword_text": "Yoga Mat DIY",
                "match_type": "NEGATIVE_EXACT",
                "state": "enabled",
            }
        ]
    )
    inp = terms_input(term_rows("yoga mat diy", 25, 0, 15.0, 0.0), negatives=negs)
    assert opt.negative_suggestions(inp, SettingsBook(S)).empty


def harvest_setup(st):
    camps = pd.DataFrame(
        [
            {"campaign_id": "C1", "name": "Auto", "state": "enabled", "targeting_type": "AUTO", "budget": 20.0},
            {"campaign_id": "C2", "name": "Exact", "state": "enabled", "targeting_type": "MANUAL", "budget": 20.0},
        ]
    )
    pa = pd.DataFrame(
        [
            {"campaign_id": "C1", "ad_group_id": "G1", "asin": "A1", "state": "enabled"},
            {"campaign_id": "C2", "ad_group_id": "G2", "asin": "A1", "state": "enabled"},
        ]
    )
    extra = [kw("X1", 1.0, campaign_id="C2", ad_group_id="G2", text="yoga mat thick")]
    return terms_input(st, extra_ents=extra, product_ads=pa, campaigns=camps)


def test_harvest_paired_with_isolation_negative():
    inp = harvest_setup(term_rows("cork yoga mat", 30, 4, 18.0, 120.0, match_type="TARGETING_EXPRESSION_PREDEFINED"))
    out = opt.harvest_suggestions(inp, SettingsBook(S))
    assert len(out) == 1
    r = out.iloc[0]
    assert (r["dest_campaign_id"], r["dest_ad_group_id"]) == ("C2", "G2")
    assert (r["campaign_id"], r["ad_group_id"]) == ("C1", "G1")
    assert r["match_type"] == "EXACT" and r["rule"] == "harvest_exact+isolate"
    assert S.min_bid <= r["proposed_value"] <= S.max_bid
    assert r["proposed_value"] == pytest.approx(round(r["value_bid"], 2))


def test_harvest_skips_exact_sources_existing_and_expensive():
    st = (
        term_rows("yoga mat thick", 30, 4, 18.0, 120.0)  # already an exact keyword
        + term_rows("exact term", 30, 4, 18.0, 120.0, match_type="EXACT")
        + term_rows("pricey term", 30, 2, 200.0, 60.0)  # ACOS 333 %: over 3 x break-even (50 %)
        + term_rows("one order", 30, 1, 5.0, 30.0)
    )
    assert opt.harvest_suggestions(harvest_setup(st), SettingsBook(S)).empty


def test_harvest_only_terms_worth_the_min_bid_and_capped_most_valuable_first():
    # "cheap mat": 2 orders in 100 clicks at 17 % ACOS (cheap clicks), but shrunk CVR ~2.7 % x AOV ~$22.5 x 25 %
    # -> value bid ~ $0.15 < min bid: an exact keyword at the min bid would lose money
    st = (
        term_rows("cheap mat", 100, 2, 5.0, 30.0)
        + term_rows("cork yoga mat", 30, 4, 18.0, 120.0)
        + term_rows("jute yoga mat", 60, 9, 30.0, 270.0)
    )
    out = opt.harvest_suggestions(harvest_setup(st), SettingsBook(S))
    assert set(out["search_term"]) == {"cork yoga mat", "jute yoga mat"}
    assert (out["value_bid"] >= S.min_bid).all()
    capped = opt.harvest_suggestions(harvest_setup(st), SettingsBook(Settings(target_acos=0.25, harvest_max_per_run=1)))
    assert list(capped["search_term"]) == ["jute yoga mat"]  # value bid x clicks: the larger expected profit


def test_optimize_drops_negative_that_clashes_with_harvest():
    inp = harvest_setup(term_rows("cork yoga mat", 30, 4, 18.0, 120.0))
    out = opt.optimize(inp, S, types=("negative", "harvest"))
    assert list(out["type"]) == ["harvest"]


# ---- budgets and placements ----------------------------------------------------------------


def campaign_days(campaign_id, budget, cost, sales, orders, clicks, n=14, end_offset=0):
    return [
        {
            "date": (AS_OF - timedelta(days=end_offset + i)).isoformat(),
            "campaign_id": campaign_id,
            "budget": budget,
            "cost": cost,
            "sales": sales,
            "orders": orders,
            "clicks": clicks,
            "impressions": clicks * 40,
        }
        for i in range(n)
    ]


def budget_input(cd, budget=20.0):
    rows, ents = background()
    camps = pd.DataFrame(
        [
            {
                "campaign_id": "C1",
                "name": "Camp 1",
                "state": "enabled",
                "targeting_type": "MANUAL",
                "budget": budget,
                "placement_top_pct": 0.0,
            }
        ]
    )
    return make_input(rows, ents, campaigns=camps, campaign_day=pd.DataFrame(cd))


def test_budget_up_when_efficient_and_capped():
    out = opt.budget_suggestions(budget_input(campaign_days("C1", 20.0, 19.8, 120.0, 4, 30)), SettingsBook(S))
    r = out.iloc[0]
    # ACOS 16.5 % against a 25 % limit: the base 20 % step x 25/16.5 = +30 %
    assert r["rule"] == "budget_up" and r["proposed_value"] == pytest.approx(20.0 * (1 + 0.2 * 0.25 / 0.165), abs=0.01)
    far_under = opt.budget_suggestions(budget_input(campaign_days("C1", 20.0, 19.8, 400.0, 9, 30)), SettingsBook(S))
    assert far_under.iloc[0]["proposed_value"] == pytest.approx(20.0 * 1.6)  # at most budget_max_step_up
    capped = opt.budget_suggestions(
        budget_input(campaign_days("C1", 20.0, 19.8, 120.0, 4, 30)),
        SettingsBook(Settings(target_acos=0.25, budget_max=21.0)),
    )
    assert capped.iloc[0]["proposed_value"] == pytest.approx(21.0)


def test_budget_down_when_inefficient_and_not_when_within_target():
    out = opt.budget_suggestions(budget_input(campaign_days("C1", 20.0, 15.0, 30.0, 1, 30)), SettingsBook(S))
    assert out.iloc[0]["rule"] == "budget_down" and out.iloc[0]["proposed_value"] == pytest.approx(16.0)
    fine = opt.budget_suggestions(budget_input(campaign_days("C1", 20.0, 10.0, 45.0, 2, 30)), SettingsBook(S))
    assert fine.empty


def test_budget_cut_under_profit_only_above_break_even():
    """Under Profit (margins known, break-even 40 %, target half of it): ACOS 30 % is over the 20 % target x 1.3,
    but a capped campaign under break-even still earns on every dollar, so its budget stays; ACOS 50 % is cut."""
    margins = pd.DataFrame([{"asin": "A1", "margin": 0.40}])
    pa = pd.DataFrame([{"campaign_id": "C1", "ad_group_id": "G1", "asin": "A1", "sku": "S1", "state": "enabled"}])
    book = SettingsBook(Settings())
    under = budget_input(campaign_days("C1", 20.0, 15.0, 50.0, 2, 30))
    under.margins, under.product_ads = margins, pa
    assert opt.budget_suggestions(under, book).empty
    over = budget_input(campaign_days("C1", 20.0, 15.0, 30.0, 1, 30))
    over.margins, over.product_ads = margins, pa
    assert opt.budget_suggestions(over, book).iloc[0]["rule"] == "budget_down"


def test_no_budget_cut_while_its_bids_are_coming_down():
    """The same inefficient campaign, but a keyword of it had its bid lowered 5 days ago: its spend still reflects
    the old bid, so the budget is left alone (the bid cut does the work)."""
    inp = budget_input(campaign_days("C1", 20.0, 15.0, 30.0, 1, 30))
    inp.changes = pd.DataFrame(
        [
            {
                "entity_id": "B0",
                "change_type": "bid",
                "applied_at": f"{AS_OF - timedelta(days=5)}T06:00:00+00:00",
                "old_value": "0.75",
                "new_value": "0.60",
            }
        ]
    )
    assert opt.budget_suggestions(inp, SettingsBook(S)).empty
    raised = inp.changes.assign(new_value="0.90")  # a raise is no reason to spare the budget
    inp.changes = raised
    assert opt.budget_suggestions(inp, SettingsBook(S)).iloc[0]["rule"] == "budget_down"


def test_engine_drops_a_budget_cut_where_the_same_run_lowers_bids():
    rows, ents = background()
    rows += target_rows("K2", 60, 0, 60.0, 0.0)  # no orders: its bid comes down this run
    ents.append(kw("K2", 1.00))
    camps = budget_input(campaign_days("C1", 20.0, 15.0, 30.0, 1, 30)).campaigns
    inp = make_input(
        rows, ents, campaigns=camps, campaign_day=pd.DataFrame(campaign_days("C1", 20.0, 15.0, 30.0, 1, 30))
    )
    alone = opt.budget_suggestions(inp, SettingsBook(S))
    assert alone.iloc[0]["rule"] == "budget_down"
    both = opt.optimize(inp, SettingsBook(S), types=("bid", "budget"))
    assert ((both["type"] == "bid") & (both["proposed_value"] < both["current_value"])).any()
    assert not (both["type"] == "budget").any()


def placement_input(pct, clicks, orders, cost, sales):
    rows, ents = background()
    camps = pd.DataFrame(
        [
            {
                "campaign_id": "C1",
                "name": "Camp 1",
                "state": "enabled",
                "targeting_type": "MANUAL",
                "budget": 20.0,
                "placement_top_pct": pct,
            }
        ]
    )
    pdays = [
        {
            "date": d.isoformat(),
            "campaign_id": "C1",
            "placement": "Top of Search on-Amazon",
            "clicks": clicks / 10,
            "orders": orders / 10,
            "cost": cost / 10,
            "sales": sales / 10,
            "impressions": clicks * 10,
        }
        for d in _days(10)
    ]
    return make_input(rows, ents, campaigns=camps, placement_day=pd.DataFrame(pdays))


def test_placement_raised_stepwise_when_top_earns_it():
    out = opt.placement_suggestions(placement_input(10, 100, 20, 60.0, 600.0), SettingsBook(S))
    assert out.iloc[0]["proposed_value"] == pytest.approx(30.0)  # +20 points step


def test_placement_lowered_when_top_is_expensive_and_floor_zero():
    out = opt.placement_suggestions(placement_input(10, 100, 2, 60.0, 60.0), SettingsBook(S))
    assert out.iloc[0]["proposed_value"] == pytest.approx(0.0)
    assert opt.placement_suggestions(placement_input(0, 100, 2, 60.0, 60.0), SettingsBook(S)).empty


def test_group_by_type():
    df = pd.DataFrame({"type": ["bid", "negative", "bid"]})
    groups = opt.group_by_type(df)
    assert list(groups) == ["bid", "negative"] and len(groups["bid"]) == 2


def test_negative_on_expected_loss_where_clicks_cost_more_than_they_can_earn():
    """Two terms with 20 clicks and no order (about 2 orders expected: 78 % likely a bleeder, under the 85 % bar).
    With a 45 % target ACOS against a 50 % margin, a click at the bid its keyword is worth costs about 0.75 x 0.45 /
    0.5 = 68 % of what it earns, so "pricey click" (paying $1.20 now) loses money unless it converts at over ~68 % of
    its ad group's rate: about 87 % likely it does not -> negated on expected loss. "cheap click" pays $0.20, under
    a seventh of what a click earns: not negated. At the default target (half of break-even) the expected-loss bar
    is below the bleeder bar, so the same terms are left to the bid rule."""
    rows, ents = background()
    st = (
        term_rows("pricey click", 20, 0, 24.0, 0.0)
        + term_rows("cheap click", 20, 0, 4.0, 0.0)
        + term_rows("yoga mat", 40, 5, 24.0, 150.0)
    )
    extra = {
        "search_term_day": pd.DataFrame(st),
        "margins": pd.DataFrame([{"asin": "A1", "margin": 0.5}]),
        "product_ads": pd.DataFrame([{"campaign_id": "C1", "ad_group_id": "G1", "asin": "A1", "state": "enabled"}]),
    }
    near_break_even = Settings(target_acos=0.45)
    out = opt.negative_suggestions(make_input(rows, ents, **extra), SettingsBook(near_break_even))
    assert list(out["search_term"]) == ["pricey click"]
    r = out.iloc[0]
    assert r["rule"] == "expected_loss" and r["confidence"] >= S.bleeder_confidence
    assert "loses money" in r["reason"]
    assert opt.negative_suggestions(make_input(rows, ents, **extra), SettingsBook(Settings())).empty


def test_harvest_every_term_with_positive_expected_profit_ranked_by_it():
    """ACOS 35 %: above the 25 % target (the old rule skipped it) but under break-even (50 %): harvested, ranked by
    expected profit a week, not by the old value-bid-times-clicks score."""
    st = term_rows("bamboo yoga mat", 40, 4, 42.0, 120.0) + term_rows("jute yoga mat", 60, 9, 30.0, 270.0)
    out = opt.harvest_suggestions(harvest_setup(st), SettingsBook(S))
    assert list(out["search_term"]) == ["jute yoga mat", "bamboo yoga mat"]
    assert "a week" in out.iloc[1]["reason"]
    # ACOS 117 %: losing money in its source at $1.75 a click, but it converts; at its own bid (well under what
    # the source pays) it earns: harvested at that bid
    losing = opt.harvest_suggestions(harvest_setup(term_rows("bamboo yoga mat", 40, 2, 70.0, 60.0)), SettingsBook(S))
    assert list(losing["search_term"]) == ["bamboo yoga mat"]
    assert losing.iloc[0]["proposed_value"] < 70.0 / 40 * 0.5
    never = term_rows("bamboo yoga mat", 40, 2, 200.0, 60.0)  # ACOS 333 %: over 3 x break-even, no bid pays
    assert opt.harvest_suggestions(harvest_setup(never), SettingsBook(S)).empty


def test_harvest_into_its_own_keyword_ad_group_when_no_other_sells_the_products():
    """A broad keyword's ad group in a manual campaign, and no other manual ad group with its products: the exact
    keyword goes beside its source, without the isolation negative (a negative exact there would block it too)."""
    camps = pd.DataFrame(
        [{"campaign_id": "C1", "name": "Broad", "state": "enabled", "targeting_type": "MANUAL", "budget": 20.0}]
    )
    pa = pd.DataFrame([{"campaign_id": "C1", "ad_group_id": "G1", "asin": "A1", "state": "enabled"}])
    inp = terms_input(term_rows("cork yoga mat", 30, 4, 18.0, 120.0), product_ads=pa, campaigns=camps)
    out = opt.harvest_suggestions(inp, SettingsBook(S))
    assert len(out) == 1
    r = out.iloc[0]
    assert (r["dest_campaign_id"], r["dest_ad_group_id"]) == ("C1", "G1") == (r["campaign_id"], r["ad_group_id"])
    assert r["rule"] == "harvest_exact" and "negate" not in r["reason"]
    # an auto campaign's ad group takes no keywords: with no manual ad group for its products, nothing to harvest
    auto = camps.assign(targeting_type="AUTO")
    st = term_rows("cork yoga mat", 30, 4, 18.0, 120.0, match_type="TARGETING_EXPRESSION_PREDEFINED")
    assert opt.harvest_suggestions(terms_input(st, product_ads=pa, campaigns=auto), SettingsBook(S)).empty


def test_harvest_ranked_by_gain_over_what_the_term_earns_in_its_source():
    """ "steady mat" would earn more a week as an exact keyword than "cheap clicks mat", but its source already pays
    about the bid it is worth, so moving it gains nothing and it is left where it is; the cheap one's source bids
    well under its worth, and the exact keyword's own bid buys it more clicks."""
    st = term_rows("steady mat", 120, 18, 100.0, 540.0) + term_rows("cheap clicks mat", 60, 9, 30.0, 270.0)
    out = opt.harvest_suggestions(harvest_setup(st), SettingsBook(S))
    assert list(out["search_term"]) == ["cheap clicks mat"]
    assert "more than in its source" in out.iloc[0]["reason"]
    alone = opt.harvest_suggestions(harvest_setup(term_rows("steady mat", 120, 18, 100.0, 540.0)), SettingsBook(S))
    assert alone.empty
    overpaid = term_rows("steady mat", 120, 18, 200.0, 540.0)  # $1.67 a click: its own lower bid gains
    assert list(opt.harvest_suggestions(harvest_setup(overpaid), SettingsBook(S))["search_term"]) == ["steady mat"]
