"""AppTest of the Suggestions page against the demo sandbox: review, approve, apply with confirmation, undo."""

from tests.pages.conftest import new_app


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def test_approve_apply_and_undo(demo_account):
    at = new_app(demo_account, "suggestions.py")
    assert not at.exception, at.exception
    _button(at, "generate").click().run()
    assert not at.exception, at.exception
    assert "ready for review" in at.success[0].value
    table = at.dataframe[0].value
    assert len(table) > 0 and {"reason", "confidence", "cvr_shrunk", "current_value", "proposed_value"} <= set(
        table.columns
    )

    # narrow to bid changes with high confidence, approve all of them
    at.multiselect(key="sugg_types").set_value(["Bid changes"]).run()
    at.slider(key="sugg_conf").set_value(0.5).run()
    shown = at.dataframe[0].value
    assert len(shown) > 0 and set(shown["type_label"]) == {"Bid changes"}
    _button(at, "decide_approve").click().run()
    assert f"{len(shown)} approved change(s) waiting." in [m.value for m in at.markdown]

    # nothing is sent without the explicit confirmation
    _button(at, "apply").click().run()
    assert "Send" in at.warning[0].value
    assert not any(d.key == "apply_table" for d in at.dataframe) if hasattr(at.dataframe[0], "key") else True
    _button(at, "apply_confirm").click().run()
    assert not at.exception, at.exception
    assert any("Amazon accepted" in s.value for s in at.success), [e.value for e in at.error]
    history = at.dataframe[-1].value
    assert len(history) >= len(shown) and history["ok"].all()

    _button(at, "undo").click().run()
    _button(at, "undo_confirm").click().run()
    assert not at.exception, at.exception
    history = at.dataframe[-1].value
    assert history["undone_at"].notna().sum() >= len(shown)


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
    at = new_app(demo_account, "suggestions.py")
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
    at.selectbox(key="sugg_sort").set_value("expected_sales_change").run()
    assert not at.exception, at.exception
    assert list(_table(at)["suggestion_id"].astype(str)) != list(table["suggestion_id"].astype(str))
    assert sorted(_drawn_ids(at)) == sorted(picked)
    assert sorted(at.session_state[SELECTED]) == sorted(picked)

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
    at = new_app(demo_account, "suggestions.py")
    _button(at, "generate").click().run()
    n = len(_table(at))
    assert n >= 3
    _click_rows(at, [n - 3, n - 2, n - 1])
    at.text_input(key="sugg_search").input("no suggestion has this text zzzz").run()
    assert not at.exception, at.exception
    assert len(_table(at)) == 0
    assert _button(at, "decide_approve").label == "Approve (0 selected)"
    assert _button(at, "decide_approve").disabled
    assert any("3 selected, 3 hidden by filters" in cap.value for cap in at.caption)
