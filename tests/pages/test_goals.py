"""AppTest of the Goals page against the demo sandbox (issue 13): type a margin, import a margins CSV with bad lines,
set a campaign override and a TACoS target; refreshed suggestions then aim at those targets and say where each
target came from (their stored evidence, read back through `target_sentence`)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from services import connect
from services import optimizer as opt
from services.optimizer import goals
from services.optimizer.data import load_sales
from services.optimizer.targets import target_sentence
from tests.pages.conftest import new_app

SLOW = 600  # seconds a rerun may take: regenerating suggestions on a loaded machine takes more than 30 s


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def _submit(at, label):
    return next(b for b in at.get("form_submit_button") if b.label == label)


def _evidence(db, account_id, profile_id) -> pd.DataFrame:
    df = opt.list_suggestions(db, account_id, profile_id)
    ev = pd.DataFrame([json.loads(e) for e in df["evidence"]], index=df.index)
    return pd.concat([df[["campaign_id", "type", "target_acos"]], ev.add_prefix("ev_")], axis=1)


def _products_of(db, profile_id) -> dict[str, set[str]]:
    rows = db.conn.execute("SELECT campaign_id, upper(asin) FROM product_ads WHERE profile_id = ?", [profile_id])
    out: dict[str, set[str]] = {}
    for cid, asin in rows:
        out.setdefault(str(cid), set()).add(asin)
    return out


@pytest.mark.timeout(1200)  # three regenerations of the 90-day demo seller's suggestions
def test_goals_drive_the_suggestions_targets(demo_account, app_env):
    at = new_app(demo_account, "goals.py", timeout=SLOW)
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader][:4] == [
        "Strategy",
        "Product margins",
        "Campaign targets",
        "Optimizer settings",
    ]
    c = at.session_state["_controls"]
    db, pid = connect.open_store(app_env), c.profile_id
    products = _products_of(db, pid)
    try:
        # baseline: Profit without margins -> every suggestion aims at the account default
        _button(at, "goal_refresh").click().run(timeout=SLOW)
        assert not at.exception, at.exception
        base = _evidence(db, demo_account, pid)
        assert len(base) > 0 and set(base["ev_target_source"]) == {"account default"}
        assert (base["ev_target_acos"] == 0.15).all() and (base["ev_target_kind"] == "profit").all()

        # a campaign with bid suggestions; its first product gets a typed margin
        bids = base[base["type"] == "bid"]
        counts = bids["campaign_id"].value_counts()
        margin_cid, override_cid = counts.index[0], counts.index[1]
        asin = sorted(products[margin_cid])[0]
        at.selectbox(key="goal_margin_asin").set_value(asin)
        at.number_input(key="goal_margin_pct").set_value(44.0)
        _submit(at, "Save margin").click().run()
        assert not at.exception, at.exception
        assert any("saved: 44.0%" in s.value for s in at.success), [s.value for s in at.success]

        # a CSV with two good lines and two refused ones: the report names each refused line and why
        others = sorted({a for s in products.values() for a in s} - products[margin_cid] - products[override_cid])
        csv = f"asin,price,cost\n{others[0]},20,13\n{others[1]},0,3\nNOTANASIN,abc,3\n{others[2]},10,7\n"
        at.file_uploader(key="goal_margin_csv").set_value(("margins.csv", csv.encode("cp1252"), "text/csv"))
        at.run()
        _button(at, "goal_margin_import").click().run()
        assert not at.exception, at.exception
        assert any("2 margin(s) imported. 2 line(s) refused" in w.value for w in at.warning)
        refused = next(d for d in at.dataframe if d.value.columns.tolist() == ["Line", "Why it was refused"]).value
        assert refused["Line"].tolist() == [3, 4]
        assert "price must be more than 0" in refused["Why it was refused"][0]
        assert "not a number" in refused["Why it was refused"][1]
        margins = opt.margins_frame(db, demo_account).set_index("asin")["margin"]
        assert margins[others[0]] == pytest.approx(0.35) and margins[asin] == pytest.approx(0.44)

        _button(at, "goal_refresh").click().run(timeout=SLOW)
        profit = _evidence(db, demo_account, pid)
        mine = profit[profit["campaign_id"] == margin_cid]
        known = [margins[a] for a in products[margin_cid] if a in margins.index]
        assert len(mine) > 0 and set(mine["ev_target_source"]) == {"product margin"}
        assert mine["ev_target_acos"].iloc[0] == pytest.approx(sum(known) / len(known) * 0.5, abs=1e-6)
        assert mine["target_acos"].to_numpy() == pytest.approx(mine["ev_target_acos"].to_numpy())

        # a campaign override and a TACoS target
        at.selectbox(key="goal_campaign_id").set_value(override_cid)
        at.number_input(key="goal_campaign_pct").set_value(31.0)
        _submit(at, "Save override").click().run()
        assert not at.exception, at.exception
        table = next(d for d in at.dataframe if d.key == "goal_campaigns" or "source" in d.value.columns).value
        assert "campaign override" in set(table["source"])
        at.radio(key="goal_strategy").set_value("tacos").run()
        at.number_input(key="goal_value_tacos").set_value(6.0)
        _button(at, "goal_strategy_save").click().run()
        assert not at.exception, at.exception
        assert any(s.value.startswith("Strategy saved. Target TACoS") for s in at.success)
        assert not any("cannot be turned into bids" in w.value for w in at.warning)  # total sales are synced

        _button(at, "goal_refresh").click().run(timeout=SLOW)
        assert not at.exception, at.exception
        shown = next(d for d in at.dataframe if d.value.columns.tolist() == ["Target", "Suggestions"]).value
        assert any(t.endswith("(campaign override).") for t in shown["Target"])
        now = _evidence(db, demo_account, pid)
        over = now[now["campaign_id"] == override_cid]
        assert len(over) > 0 and set(over["ev_target_source"]) == {"campaign override"}
        assert (over["ev_target_acos"] == 0.31).all()
        assert target_sentence(over.iloc[0].filter(like="ev_").rename(lambda k: k[3:]).to_dict()) == (
            "Aims at 31 % ACOS (campaign override)."
        )
        rest = now[now["campaign_id"] != override_cid]
        assert len(rest) > 0 and set(rest["ev_target_source"]) == {"account TACoS target"}
        assert (rest["ev_target_kind"] == "tacos").all() and (rest["ev_target_value"] == 0.06).all()
        # TACoS 6 % -> ACOS 6 % x total sales / ad sales of the campaign's products, over the rule's window
        s = opt.get_settings(db, demo_account)
        start, end = opt.window(opt.data.latest_date(db, pid), s.lookback_days, s.settling_days)
        per_asin = load_sales(db, pid, start.isoformat(), end.isoformat())[0].set_index("asin")
        for row in rest[rest["type"] == "bid"].to_dict("records"):  # a campaign whose products have totals
            have = per_asin.loc[[a for a in products[row["campaign_id"]] if a in per_asin.index]]
            have = have[(have["total_sales"] > 0) & (have["ad_sales"] > 0)]
            if len(have):
                break
        assert len(have)
        expected = min(max(0.06 * have["total_sales"].sum() / have["ad_sales"].sum(), 0.02), 0.9)
        assert row["ev_target_acos"] == pytest.approx(expected, abs=1e-6) and expected > 0.06
    finally:
        goals.set_strategy(db, demo_account, "profit")
        for cid in list(opt.get_settings_book(db, demo_account).goals.campaigns):
            goals.set_campaign_target(db, demo_account, cid, None)
        db.conn.execute("DELETE FROM product_margins WHERE account_id = ?", [demo_account])
        db.conn.commit()


def test_every_autopilot_guardrail_and_its_schedule_are_set_on_goals(demo_account, app_env):
    """Issue 16 item 5: the seller sets the guardrails (changes per run, bid change, max bid, daily spend increase,
    weekly spend ceiling, confidence, data, excluded campaigns) and turns the scheduled autopilot on, here."""
    from services.optimizer import autopilot

    at = new_app(demo_account, "goals.py")
    assert not at.exception, at.exception
    typed = {
        "max_changes": 7,
        "max_bid_change": 25.0,
        "max_bid": 3.5,
        "max_daily_spend_increase": 20.0,
        "weekly_spend_ceiling": 900.0,
        "min_confidence": 70.0,
        "min_clicks": 15,
    }
    for name, value in typed.items():
        at.number_input(key=f"goal_rail_{name}").set_value(value)
    camps = goals.campaigns_table(connect.open_store(app_env), demo_account, at.session_state["profile_id"])
    at.multiselect(key="goal_autopilot_excluded").select(str(camps["campaign_id"].iloc[0]))
    at.checkbox(key="goal_autopilot_on").check()
    at.number_input(key="goal_autopilot_every").set_value(12)
    _submit(at, "Save autopilot settings").click().run()
    assert not at.exception, at.exception
    assert any("The autopilot runs every 12 h" in s.value for s in at.success), [e.value for e in at.error]
    db = connect.open_store(app_env)
    g = autopilot.get_guardrails(db, demo_account)
    assert (g.max_changes, g.max_bid_change, g.max_bid, g.max_daily_spend_increase) == (7, 0.25, 3.5, 20.0)
    assert (g.weekly_spend_ceiling, g.min_confidence, g.min_clicks) == (900.0, 0.7, 15)
    assert g.excluded_campaigns == (str(camps["campaign_id"].iloc[0]),)
    assert connect.autopilot_schedule(db, demo_account)["enabled"] is True
    at.checkbox(key="goal_autopilot_on").uncheck()
    _submit(at, "Save autopilot settings").click().run()
    assert any("is off" in s.value for s in at.success)
    assert connect.autopilot_schedule(db, demo_account)["enabled"] is False
