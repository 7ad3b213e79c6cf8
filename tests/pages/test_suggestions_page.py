"""AppTest of the Suggestions page against the demo sandbox: review, approve, apply with confirmation, undo."""

from tests.pages.conftest import new_app


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def _open(account_id: str):
    """The Suggestions page; a run may compute suggestions (on open after a sync, or on Refresh), which takes
    the optimizer's time: on a loaded 2-core machine well over AppTest's default 30 s."""
    return new_app(account_id, "suggestions.py", timeout=300)


def _summary_count(at, label: str) -> int:
    """The count the page's own summary line gives for a type (the table shows one page of rows)."""
    import re

    line = next(m.value for m in at.markdown if f"**{label}**" in m.value)
    return int(re.search(rf"\*\*{re.escape(label)}\*\*: (\d+)", line).group(1))


def test_approve_apply_and_undo(demo_account):
    at = _open(demo_account)
    at.context = {"timezone": "Europe/Berlin"}
    assert not at.exception, at.exception
    _button(at, "generate").click().run()
    assert not at.exception, at.exception
    assert any("ready for review" in s.value for s in at.success)
    table = at.dataframe[0].value
    assert len(table) > 0 and {"reason", "confidence", "change", "expected_profit_change"} <= set(table.columns)

    # narrow to bid changes with high confidence, approve all of them
    at.multiselect(key="sugg_types").set_value(["Bid changes"]).run()
    at.slider(key="sugg_conf").set_value(0.5).run()
    shown = at.dataframe[0].value
    n = _summary_count(at, "Bid changes")
    assert n > 0 and set(shown["type_label"]) == {"Bid changes"}
    assert _button(at, "decide_approve").label == f"Approve (all {n} shown)"
    _button(at, "decide_approve").click().run()
    assert f"{n} approved change(s) waiting." in [m.value for m in at.markdown]

    # nothing is sent without the explicit confirmation; the confirmation shows each change with its unit
    _button(at, "apply").click().run()
    assert "Send" in at.warning[0].value
    plan = next(d.value for d in at.dataframe if "entity_type" in d.value.columns)
    assert plan["change"].str.fullmatch(r"\$\d+\.\d\d → \$\d+\.\d\d").all(), plan["change"].tolist()
    _button(at, "apply_confirm").click().run()
    assert not at.exception, at.exception
    assert any(s.value == f"Amazon accepted {n} of {n} change(s)." for s in at.success), [e.value for e in at.error]
    history = at.dataframe[-1].value
    assert len(history) >= n and history["ok"].all()
    # History: the campaign of each change, and times in the browser's zone (Berlin is UTC+1 in December)
    assert history["campaign"].notna().all()
    assert any(c.value == "Times in your browser's time zone (Europe/Berlin)." for c in at.caption)
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from services import connect
    from services.optimizer import change_history

    raw = change_history(connect.open_store(connect.db_path()), demo_account, at.session_state["profile_id"])
    newest = datetime.fromisoformat(raw["applied_at"].iloc[0]).astimezone(ZoneInfo("Europe/Berlin"))
    assert history["applied_at"].iloc[0] == newest.strftime("%Y-%m-%d %H:%M")

    _button(at, "undo").click().run()
    _button(at, "undo_confirm").click().run()
    assert not at.exception, at.exception
    history = at.dataframe[-1].value
    assert history["undone_at"].notna().sum() >= n
    # the banner says what the undo did, not what the apply did
    assert [s.value for s in at.success if "change(s)" in s.value] == [
        f"Undone on Amazon: {n} of {n} change(s) put back to their earlier values."
    ]


def test_history_falls_back_to_utc_and_says_so(demo_account):
    at = _open(demo_account)
    assert not at.exception, at.exception
    assert any(c.value == "Times in UTC: your browser did not tell its time zone." for c in at.caption)


def test_default_order_is_expected_profit_impact_with_units(demo_account):
    at = _open(demo_account)
    assert at.selectbox(key="sugg_sort").value == "expected_profit_change"
    table = _table(at)
    impacts = table["expected_profit_change"].tolist()
    assert len(impacts) > 1 and impacts == sorted(impacts, reverse=True)
    by_type = dict(zip(table["type"], table["change"]))
    money, pct = r"\$\d[\d,]*\.\d\d", r"\d+ %"
    import re

    for kind, pattern in (
        ("bid", rf"{money} → {money}"),
        ("budget", rf"{money} → {money} a day"),
        ("placement", rf"{pct} → {pct}"),
        ("negative", r"Add as negative (exact|phrase)"),
        ("harvest", rf"New exact keyword at {money}"),
    ):
        if kind in by_type:
            assert re.fullmatch(pattern, by_type[kind]), (kind, by_type[kind])
    assert {"bid", "negative"} <= set(by_type), set(by_type)


def test_detail_panel_shows_the_evidence_of_the_picked_suggestion(demo_account):
    at = _open(demo_account)
    table = _table(at)
    assert any(h.value == "Details" for h in at.subheader)  # the first suggestion before any pick
    row = table.iloc[1]
    _click_rows(at, [1])
    assert not at.exception, at.exception
    headline = next(m.value for m in at.markdown if m.value.startswith(f"**{_md(row['type_label'])} · "))
    assert _md(row["change"]) in headline
    # the whole sentence of why, not cut
    assert any(m.value == _md(row["reason"]) for m in at.markdown), row["reason"]
    evidence = next(d.value for d in at.dataframe if "meaning" in d.value.columns).set_index("evidence")
    for what in ("Clicks", "Orders", "Spend", "Sales", "ACOS", "Conversion rate, raw", "Conversion rate, shrunk"):
        assert what in evidence.index
    for what in ("Rule", "Confidence", "Expected spend change", "Expected sales change", "Expected profit impact"):
        assert what in evidence.index
    assert evidence.loc["Clicks", "value"] == f"{int(row['clicks']):,}"
    assert evidence.loc["Confidence", "value"] == f"{row['confidence'] * 100:.0f} %"


def test_detail_panel_charts_the_last_30_days_of_a_bid_suggestions_keyword(demo_account):
    """Issue 14: the detail panel has a small chart of the entity's last 30 days; for a bid, its keyword's or
    target's own clicks, spend and sales (the figures the store holds for that id, zero days included)."""
    import json
    from datetime import date, timedelta

    from services import connect
    from services.optimizer import TYPE_LABELS
    from services.optimizer.detail import suggestion_detail

    at = _open(demo_account)
    table = _table(at)
    pos = next(i for i, label in enumerate(table["type_label"]) if label == TYPE_LABELS["bid"])
    _click_rows(at, [pos])
    assert not at.exception, at.exception
    charts = [c for c in at.get("plotly_chart") if "sugg_recent_days" in (c.proto.id or "")]
    assert charts, "the detail panel draws the entity's last 30 days"
    fig = json.loads(charts[0].proto.spec)
    by_name = {t["name"]: t for t in fig["data"]}
    assert set(by_name) == {"Spend (USD)", "Sales (USD)", "Clicks"}
    days = by_name["Clicks"]["x"]
    assert len(days) == 30 and days == sorted(days)
    db = connect.open_store(connect.db_path())
    profile = at.session_state["profile_id"]
    row = suggestion_detail(db, demo_account, profile, str(table["suggestion_id"].iloc[pos]))
    assert row["type"] == "bid"
    first = (date.fromisoformat(days[-1]) - timedelta(days=29)).isoformat()
    clicks, spend = db.conn.execute(
        "SELECT coalesce(SUM(clicks), 0), coalesce(SUM(cost), 0) FROM target_day WHERE profile_id = ? "
        "AND keyword_id = ? AND date >= ?",
        [profile, row["entity_id"], first],
    ).fetchone()
    assert clicks > 0, "a bid suggestion is about a keyword with traffic"
    assert sum(by_name["Clicks"]["y"]) == clicks
    assert abs(sum(by_name["Spend (USD)"]["y"]) - spend) < 0.01
    assert any("last 30 synced days" in c.value for c in at.caption)
    # the evidence table above it reads as words, not field names (issue 14: "Headers are field names")
    evidence = next(d for d in at.dataframe if "meaning" in d.value.columns)
    labels = {k: v.get("label") for k, v in json.loads(evidence.proto.columns).items() if k != "_index"}
    assert labels == {"evidence": "Evidence", "value": "Value", "meaning": "What it means"}, labels


def test_detail_names_the_target_and_its_source(demo_account):
    """The goals work stores target_* keys in each suggestion's evidence JSON; the detail says them in words."""
    import json

    from services import connect
    from services.store import write

    at = _open(demo_account)
    table = _table(at)
    sid = str(table["suggestion_id"].iloc[2])
    db = connect.open_store(connect.db_path())
    cols = {r[1] for r in db.conn.execute("PRAGMA table_info(suggestions)")}
    evidence = {"target_kind": "acos", "target_value": 0.25, "target_acos": 0.25, "target_source": "campaign override"}
    with write(db):
        if "evidence" not in cols:  # the column the goals branch adds; added here the same way until it lands
            db.conn.execute("ALTER TABLE suggestions ADD COLUMN evidence TEXT")
        db.conn.execute("UPDATE suggestions SET evidence = ? WHERE suggestion_id = ?", [json.dumps(evidence), sid])
        # a suggestion saved before targets were recorded in the evidence
        other = str(table["suggestion_id"].iloc[3])
        db.conn.execute("UPDATE suggestions SET evidence = NULL WHERE suggestion_id = ?", [other])
    _click_rows(at, [2])
    assert not at.exception, at.exception
    assert [i.value for i in at.info] == [_md("Aims at 25 % ACOS (campaign override).")]
    # an old suggestion, without target keys: the ACOS target it carries
    carried = db.conn.execute("SELECT target_acos FROM suggestions WHERE suggestion_id = ?", [other]).fetchone()[0]
    _click_rows(at, [2, 3])  # the detail follows the newest pick
    assert [i.value for i in at.info] == [_md(f"Aims at {carried * 100:.0f} % ACOS.")]


def _md(text: str) -> str:
    from services.analytics.text import escape_markdown

    return escape_markdown(text)


def test_suggestions_refresh_by_themselves_after_a_sync(demo_account, app_env):
    from services import connect
    from services.optimizer import worklist

    at = _open(demo_account)
    profile = at.session_state["profile_id"]
    db = connect.open_store(connect.db_path())
    before = worklist.freshness(db, demo_account, profile)
    assert not before.stale
    summary = connect.run_sync(app_env, connect.make_vault(app_env), demo_account, [profile], days=2)
    assert summary.status == "ok", summary.line()
    assert worklist.freshness(db, demo_account, profile).stale
    at = _open(demo_account)
    assert not at.exception, at.exception
    assert any(s.value.startswith("New data from the sync of ") and "ready for review" in s.value for s in at.success)
    after = worklist.freshness(db, demo_account, profile)
    assert not after.stale and after.generated_at > before.generated_at
    assert not at.warning


# ------------------------------------------------------------------ selection by identity (issue 12)

SELECTED = "sugg_selected_ids"


def _click_rows(at, rows: list[int]):
    """What the browser sends when the user ticks these rows of the table on screen."""
    at.session_state["sugg_table"] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return at.run()


def _table(at):
    return next(d for d in at.dataframe if d.key == "sugg_table").value


def _drawn_ids(at) -> list[str]:
    """The ids of the rows the table draws as selected."""
    table = _table(at)
    rows = at.session_state["sugg_table"]["selection"]["rows"]
    return [str(table["suggestion_id"].iloc[r]) for r in rows]


def _statuses(at, ids):
    from services import connect
    from services.optimizer import list_suggestions

    df = list_suggestions(connect.open_store(connect.db_path()), at.session_state["account_id"], statuses=None)
    df = df.assign(suggestion_id=df["suggestion_id"].astype(str))
    return dict(zip(df["suggestion_id"], df["status"])) if ids is None else df.set_index("suggestion_id")["status"]


def test_selection_follows_suggestions_through_sort_filter_search_and_apply(demo_account):
    at = _open(demo_account)
    _button(at, "generate").click().run()
    assert not at.exception, at.exception
    at.multiselect(key="sugg_types").set_value(["Bid changes"]).run()
    table = _table(at)
    assert len(table) >= 6
    _click_rows(at, [0, 2, 5])
    picked = [str(table["suggestion_id"].iloc[r]) for r in (0, 2, 5)]
    assert at.session_state[SELECTED] == picked
    assert _button(at, "decide_approve").label == "Approve (3 selected)"

    # sort the other way: the same three suggestions stay selected, at their new positions
    default_sort = at.selectbox(key="sugg_sort").value
    at.selectbox(key="sugg_sort").set_value("expected_sales_change").run()
    assert not at.exception, at.exception
    resorted = _table(at)["suggestion_id"].astype(str)
    assert list(resorted) != list(table["suggestion_id"].astype(str))
    # the list is paged (200 a page): a picked row sorted onto another page is still selected, just not drawn
    assert sorted(_drawn_ids(at)) == sorted(set(picked) & set(resorted))
    assert sorted(at.session_state[SELECTED]) == sorted(picked)
    # and back: all three drawn again where they were
    at.selectbox(key="sugg_sort").set_value(default_sort).run()
    assert sorted(_drawn_ids(at)) == sorted(picked)

    # narrow the search to the campaign of one of them: no crash, the others are kept and counted as hidden
    one = table[table["suggestion_id"].astype(str) == picked[1]].iloc[0]
    at.text_input(key="sugg_search").input(str(one["keyword_text"])).run()
    assert not at.exception, at.exception
    narrowed = _table(at)
    visible = [i for i in picked if i in set(narrowed["suggestion_id"].astype(str))]
    assert picked[1] in visible and set(_drawn_ids(at)) == set(visible)
    hidden = 3 - len(visible)
    if hidden:
        assert any(f"3 selected, {hidden} hidden by filters" in cap.value for cap in at.caption)
    assert _button(at, "decide_approve").label == f"Approve ({len(visible)} selected)"

    # a click on the narrowed table is read against that table, not the earlier one
    others = [r for r, sid in enumerate(narrowed["suggestion_id"].astype(str)) if sid not in picked]
    if others:
        _click_rows(at, sorted(review_positions(narrowed, visible) + [others[0]]))
        extra = str(narrowed["suggestion_id"].iloc[others[0]])
        picked = picked + [extra]
        assert sorted(at.session_state[SELECTED]) == sorted(picked)

    # back to every row; approve only the visible selection
    at.text_input(key="sugg_search").input("").run()
    assert sorted(_drawn_ids(at)) == sorted(picked)
    before = _statuses(at, None)
    _button(at, "decide_approve").click().run()
    after = _statuses(at, None)
    changed = {i for i in after if after[i] != before.get(i)}
    assert changed == {i for i in picked if before[i] == "pending"}
    assert all(after[i] == "approved" for i in picked)

    # the confirmation lists exactly the approved changes, and exactly those are sent
    approved = sorted(i for i, s in after.items() if s == "approved")
    applied_before = {i for i, s in after.items() if s == "applied"}  # earlier tests in this session applied some
    _button(at, "apply").click().run()
    assert at.session_state["apply_ids"] and sorted(at.session_state["apply_ids"]) == approved
    plan = next(d.value for d in at.dataframe if "entity_type" in d.value.columns)
    assert len(plan) == len(approved)
    assert {"entity_type", "entity", "field", "old_value", "new_value"} <= set(plan.columns)
    rows = _table(at).set_index(_table(at)["suggestion_id"].astype(str))
    assert sorted(plan["entity"]) == sorted(rows.loc[approved, "keyword_text"])
    assert "Expected effect: spend" in at.warning[0].value
    _button(at, "apply_confirm").click().run()
    assert not at.exception, at.exception
    final = _statuses(at, None)
    assert sorted(i for i, s in final.items() if s == "applied" and i not in applied_before) == approved
    # after the apply the applied suggestions leave the default view; the selection never lands on others
    assert set(_drawn_ids(at)) <= set(picked)
    assert sorted(at.session_state[SELECTED]) == sorted(picked)


def review_positions(table, ids):
    from services.optimizer.review import positions_of

    return positions_of(ids, table["suggestion_id"].astype(str).tolist())


def test_narrowing_search_with_selection_does_not_crash(demo_account):
    at = _open(demo_account)
    n = len(_table(at))
    assert n >= 3
    _click_rows(at, [n - 3, n - 2, n - 1])
    at.text_input(key="sugg_search").input("no suggestion has this text zzzz").run()
    assert not at.exception, at.exception
    assert len(_table(at)) == 0
    assert _button(at, "decide_approve").label == "Approve (0 selected)"
    assert _button(at, "decide_approve").disabled
    assert any("3 selected, 3 hidden by filters" in cap.value for cap in at.caption)
