"""Goals (issue 13): which target each campaign aims at and why (`services.optimizer.targets`), the evidence every
suggestion records, and the Goals page's services (`services.optimizer.goals`) on a real store."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest

from services import optimizer as opt
from services.optimizer import OptimizerInput, Settings, SettingsBook
from services.optimizer import goals as g
from services.optimizer.settings import Goals
from services.optimizer.targets import MAX_TACOS_ACOS, NO_TOTALS, resolve_targets, target_sentence
from services.store import open_db, write

AS_OF = date(2026, 3, 31)
PRODUCT_ADS = pd.DataFrame(
    [
        {"campaign_id": "C1", "ad_group_id": "G1", "asin": "B01", "sku": "S1", "state": "enabled"},
        {"campaign_id": "C2", "ad_group_id": "G2", "asin": "B02", "sku": "S2", "state": "enabled"},
        {"campaign_id": "C2", "ad_group_id": "G2", "asin": "B03", "sku": "S3", "state": "enabled"},
        {"campaign_id": "C3", "ad_group_id": "G3", "asin": "B04", "sku": "S4", "state": "enabled"},
    ]
)
CAMPAIGNS = pd.DataFrame([{"campaign_id": c, "name": f"Camp {c}", "state": "enabled"} for c in ("C1", "C2", "C3")])


def _inp(margins=None, asin_sales=None, account_sales=None) -> OptimizerInput:
    return OptimizerInput(
        as_of=AS_OF,
        profile_id="P1",
        campaigns=CAMPAIGNS,
        product_ads=PRODUCT_ADS,
        margins=pd.DataFrame(margins or [], columns=["asin", "margin"]),
        asin_sales=pd.DataFrame(asin_sales or [], columns=["asin", "total_sales", "ad_sales"]),
        account_sales=account_sales or {},
    )


def _book(goals: Goals | None = None, settings: Settings | None = None, campaigns=None) -> SettingsBook:
    return SettingsBook(settings or Settings(), campaigns or {}, goals or Goals())


# ------------------------------------------------------------------ precedence


def test_profit_uses_product_margin_else_account_default():
    t = resolve_targets(_inp(margins=[{"asin": "B01", "margin": 0.40}]), _book())
    assert t["C1"].acos == pytest.approx(0.20) and t["C1"].source == "product margin" and t["C1"].kind == "profit"
    assert t["C1"].value is None
    assert t["C3"].acos == pytest.approx(0.15) and t["C3"].source == "account default"


def test_campaign_override_beats_product_override_beats_margin_and_account_target():
    goals = Goals("acos", 0.30, campaigns={"C1": 0.12}, products={"B02": 0.22, "B03": 0.26})
    t = resolve_targets(_inp(margins=[{"asin": "B01", "margin": 0.40}, {"asin": "B04", "margin": 0.5}]), _book(goals))
    assert (t["C1"].acos, t["C1"].source, t["C1"].kind) == (pytest.approx(0.12), "campaign override", "acos")
    assert (t["C2"].acos, t["C2"].source) == (pytest.approx(0.24), "product override")  # mean of its products
    # Target ACOS mode: the account's target takes the margin's place
    assert (t["C3"].acos, t["C3"].source, t["C3"].value) == (pytest.approx(0.30), "account target", 0.30)


def test_a_campaign_settings_override_still_counts_as_campaign_override():
    t = resolve_targets(_inp(), _book(campaigns={"C3": {"target_acos": 0.33}}))
    assert (t["C3"].acos, t["C3"].source) == (pytest.approx(0.33), "campaign override")


def test_tacos_converts_per_campaign_products_with_account_fallback():
    """target ACOS = TACoS x total sales / ad sales of the campaign's products (B01: 1000/250 -> x4; C2 pools B02
    and B03: (600+400)/(100+100) -> x5; C3 has no per-ASIN total: the account's 5000/1000 -> x5)."""
    sales = [
        {"asin": "B01", "total_sales": 1000.0, "ad_sales": 250.0},
        {"asin": "B02", "total_sales": 600.0, "ad_sales": 100.0},
        {"asin": "B03", "total_sales": 400.0, "ad_sales": 100.0},
    ]
    inp = _inp(asin_sales=sales, account_sales={"total_sales": 5000.0, "ad_sales": 1000.0})
    t = resolve_targets(inp, _book(Goals("tacos", 0.05)))
    assert (t["C1"].acos, t["C1"].kind, t["C1"].value) == (pytest.approx(0.20), "tacos", 0.05)
    assert t["C1"].source == "account TACoS target"
    assert t["C2"].acos == pytest.approx(0.25)
    assert t["C3"].acos == pytest.approx(0.25)
    # a product nearly all organic asks for a huge ACOS: capped
    capped = resolve_targets(
        _inp(asin_sales=[{"asin": "B01", "total_sales": 1e6, "ad_sales": 1.0}]), _book(Goals("tacos", 0.1))
    )
    assert capped["C1"].acos == MAX_TACOS_ACOS


def test_tacos_without_total_sales_falls_back_to_profit_and_says_so():
    t = resolve_targets(_inp(margins=[{"asin": "B01", "margin": 0.40}]), _book(Goals("tacos", 0.08)))
    assert (t["C1"].acos, t["C1"].source) == (pytest.approx(0.20), f"product margin ({NO_TOTALS})")
    assert (t["C3"].acos, t["C3"].source) == (pytest.approx(0.15), f"account default ({NO_TOTALS})")


def test_target_sentence():
    assert (
        target_sentence(
            {"target_kind": "acos", "target_value": 0.25, "target_acos": 0.25, "target_source": "campaign override"}
        )
        == "Aims at 25 % ACOS (campaign override)."
    )
    ev = {"target_kind": "tacos", "target_value": 0.08, "target_acos": 0.325, "target_source": "account TACoS target"}
    assert target_sentence(json.dumps(ev)) == "Aims at 32.5 % ACOS to reach a 8 % TACoS (account TACoS target)."
    ev = {"target_kind": "profit", "target_value": None, "target_acos": 0.2, "target_source": "product margin"}
    assert target_sentence(ev) == "Aims at 20 % ACOS, below break-even for the most profit (product margin)."
    assert target_sentence({}) == "" and target_sentence(None) == "" and target_sentence("not json") == ""


# ------------------------------------------------------------------ every suggestion records its target


def _bid_input(**kw) -> OptimizerInput:
    """Two keywords with plenty of data and a bid far above their value, in campaigns C1 and C3."""
    days = [AS_OF - timedelta(days=5 + i) for i in range(20)]
    rows = [
        {
            "date": d,
            "entity_id": e,
            "campaign_id": c,
            "ad_group_id": ag,
            "impressions": 100,
            "clicks": 5,
            "cost": 10.0,
            "orders": 1 if i % 2 == 0 else 0,
            "sales": 30.0 if i % 2 == 0 else 0.0,
        }
        for e, c, ag in (("K1", "C1", "G1"), ("K3", "C3", "G3"))
        for i, d in enumerate(days)
    ]
    ents = pd.DataFrame(
        [
            {
                "entity_id": e,
                "kind": "keyword",
                "campaign_id": c,
                "ad_group_id": ag,
                "text": f"kw {e}",
                "match_type": "EXACT",
                "state": "enabled",
                "bid": 2.0,
            }
            for e, c, ag in (("K1", "C1", "G1"), ("K3", "C3", "G3"))
        ]
    )
    ad_groups = pd.DataFrame(
        [
            {"ad_group_id": ag, "campaign_id": c, "name": ag, "state": "enabled", "default_bid": 1.0}
            for c, ag in (("C1", "G1"), ("C2", "G2"), ("C3", "G3"))
        ]
    )
    base = _inp(**kw)
    base.target_day, base.entities, base.ad_groups = pd.DataFrame(rows), ents, ad_groups
    return base


def test_every_suggestion_records_target_kind_value_acos_and_source():
    found = opt.optimize(_bid_input(margins=[{"asin": "B01", "margin": 0.40}]), _book(Goals(campaigns={"C3": 0.3})))
    assert not found.empty and found["evidence"].notna().all()
    ev = {r["campaign_id"]: json.loads(r["evidence"]) for r in found.to_dict("records")}
    assert set(ev["C1"]) >= {"target_kind", "target_value", "target_acos", "target_source"}
    assert ev["C1"] == {
        "target_kind": "profit",
        "target_value": None,
        "target_acos": 0.2,
        "target_source": "product margin",
    }
    assert ev["C3"]["target_source"] == "campaign override" and ev["C3"]["target_acos"] == 0.3
    for r in found.to_dict("records"):  # the evidence names the ACOS the rule used
        assert json.loads(r["evidence"])["target_acos"] == pytest.approx(r["target_acos"])


# ------------------------------------------------------------------ the page's services on a store

_KEEP = []


@pytest.fixture
def db(tmp_path):
    d = open_db(tmp_path / "goals.db")
    _KEEP.append(d)
    with write(d):
        d.conn.execute(
            "INSERT INTO accounts (account_id, name, region, client_id, client_secret_enc, created_at) "
            "VALUES ('acc', 'Acc', 'NA', 'x', 'x', '2026-01-01')"
        )
        d.conn.execute("INSERT INTO profiles (profile_id, account_id, marketplace_id) VALUES ('P1', 'acc', 'M1')")
        for r in PRODUCT_ADS.to_dict("records"):
            d.conn.execute(
                "INSERT INTO product_ads (profile_id, ad_id, campaign_id, ad_group_id, asin, sku, state) "
                "VALUES ('P1', ?, ?, ?, ?, ?, 'ENABLED')",
                [r["asin"] + "ad", r["campaign_id"], r["ad_group_id"], r["asin"], r["sku"]],
            )
        for r in CAMPAIGNS.to_dict("records"):
            d.conn.execute(
                "INSERT INTO campaigns (profile_id, campaign_id, name, state) VALUES ('P1', ?, ?, 'ENABLED')",
                [r["campaign_id"], r["name"]],
            )
        d.conn.execute(
            "INSERT INTO products (marketplace_id, asin, name, fetched_at) VALUES ('M1', 'B01', 'Garlic press', 'x')"
        )
    return d


def test_strategy_and_overrides_round_trip_with_sentences_for_bad_input(db):
    assert g.get_strategy(db, "acc") == g.Strategy("profit", None)
    assert g.set_strategy(db, "acc", "tacos", "8 %") == g.Strategy("tacos", 0.08)
    assert g.get_strategy(db, "acc").sentence.startswith("Target TACoS")
    for bad, says in (
        ("abc", "not a number"),
        (0, "more than 0 %"),
        (140, "less than 100 %"),
        (None, "needs a target"),
    ):
        with pytest.raises(g.GoalError, match=says):
            g.set_strategy(db, "acc", "acos", bad)
    assert g.get_strategy(db, "acc").kind == "tacos"  # a refused value changes nothing
    g.set_campaign_target(db, "acc", "C2", 21)
    g.set_product_target(db, "acc", "b04", 18)
    book = opt.get_settings_book(db, "acc")
    assert book.goals.campaigns == {"C2": 0.21} and book.goals.products == {"B04": 0.18}
    g.set_campaign_target(db, "acc", "C2", None)
    assert opt.get_settings_book(db, "acc").goals.campaigns == {}


def test_campaigns_table_shows_the_target_and_its_source(db):
    g.set_campaign_target(db, "acc", "C1", 12)
    g.save_margin(db, "acc", "B04", 50)
    t = g.campaigns_table(db, "acc", "P1").set_index("campaign_id")
    assert t.loc["C1", "target_acos_pct"] == pytest.approx(12) and t.loc["C1", "source"] == "campaign override"
    assert t.loc["C3", "target_acos_pct"] == pytest.approx(25) and t.loc["C3", "source"] == "product margin"
    assert t.loc["C2", "source"] == "account default"
    g.set_strategy(db, "acc", "tacos", 10)  # no total sales synced: the page says so
    assert "cannot be turned into bids" in g.tacos_note(db, "acc", "P1")
    assert g.campaigns_table(db, "acc", "P1").set_index("campaign_id").loc["C2", "source"].endswith(f"({NO_TOTALS})")


def test_products_table_has_names_break_even_and_edits_are_saved(db):
    g.save_margin(db, "acc", "B01", "40")
    before = g.products_table(db, "acc", "P1")
    row = before.set_index("asin").loc["B01"]
    assert row["name"] == "Garlic press" and row["margin_pct"] == 40 and row["break_even_acos_pct"] == 40
    assert row["profit_target_pct"] == pytest.approx(20)
    after = before.copy()
    after.loc[after["asin"] == "B02", "margin_pct"] = 30
    after.loc[after["asin"] == "B03", "margin_pct"] = 250  # refused with a sentence, the rest saved
    after.loc[after["asin"] == "B04", "target_acos_pct"] = 15
    after.loc[after["asin"] == "B01", "margin_pct"] = None  # cleared
    problems = g.save_products_table(db, "acc", before, after)
    assert len(problems) == 1 and "less than 100 %" in problems[0]
    now = g.products_table(db, "acc", "P1").set_index("asin")
    assert now.loc["B02", "margin_pct"] == 30 and pd.isna(now.loc["B03", "margin_pct"])
    assert pd.isna(now.loc["B01", "margin_pct"]) and now.loc["B04", "target_acos_pct"] == 15


def test_margin_import_reports_each_refused_line(db):
    csv = "sku,asin,price,cost\nS1,,20,12\nS9,,20,12\n,B02,0,5\n,B03,abc,1\n,B04,10,4\n"
    rep = g.import_margins(db, "acc", csv.encode("cp1252"))
    assert rep.imported == 2  # S1 -> B01 by its SKU, and B04
    assert rep.refused["line"].tolist() == [3, 4, 5]
    assert "S9" in rep.refused.loc[0, "reason"] and "price must be more than 0" in rep.refused.loc[1, "reason"]
    assert "2 margin(s) imported. 3 line(s) refused" in rep.sentence
    m = opt.margins_frame(db, "acc").set_index("asin")["margin"]
    assert m["B01"] == pytest.approx(0.4) and m["B04"] == pytest.approx(0.6)
    with pytest.raises(g.GoalError, match="empty"):
        g.import_margins(db, "acc", b"")


def test_settings_table_every_field_with_kind_save_and_reset(db):
    t = g.settings_table(db, "acc")
    names = {f["name"] for f in Settings.describe()} - set(g.STRATEGY_FIELDS)
    assert set(t["name"]) == names and t["description"].str.len().min() > 10
    assert set(t["kind"]) <= {"percent", "money", "days", "count", "multiple"}
    assert t.set_index("name").loc["max_step", "value"] == 20  # percent shown as 0-100
    s = g.save_settings_values(db, "acc", {"max_step": 10, "min_bid": 0.3, "lookback_days": 45.0})
    assert (s.max_step, s.min_bid, s.lookback_days) == (pytest.approx(0.10), 0.3, 45)
    assert isinstance(opt.get_settings(db, "acc").lookback_days, int)
    with pytest.raises(g.GoalError, match="minimum bid"):
        g.save_settings_values(db, "acc", {"min_bid": 9, "max_bid": 5})
    g.reset_settings(db, "acc")
    assert opt.get_settings(db, "acc") == Settings()


def test_evidence_is_stored_with_the_suggestion(db):
    found = opt.optimize(_bid_input(), _book(Goals("acos", 0.25)))
    opt.save_suggestions(db, "acc", found)
    stored = opt.list_suggestions(db, "acc", "P1")
    assert len(stored) == len(found) > 0
    sentences = g.targets_in_use(stored)
    assert sentences["target"].tolist() == ["Aims at 25 % ACOS (account target)."]
    assert sentences["suggestions"].sum() == len(stored)
