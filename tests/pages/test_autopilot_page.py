"""The autopilot in the app, on a sandbox-backed store of its own: a run shows on Suggestions with its changes and
their why, the change history carries each change's measured effect (or how long until it is measured) and the
30-day impact line, the Overview trend marks the day with the autopilot's count, and one confirmed click undoes the
whole run so the live account (the sandbox) holds its earlier values again. A viewer can undo nothing."""

from __future__ import annotations

import json
import os

import pytest

from services import optimizer as sugg
from services.accounts import grants
from services.optimizer import autopilot, autopilot_history
from tests.pages.conftest import APP
from tests.services.optimizer.test_apply_chaos import _snapshot

CHANGES = 5


@pytest.fixture(scope="module")
def autopilot_store(app_env, tmp_path_factory):
    """A store of its own (the shared page-test store is left untouched) on a sandbox of its own, synced, with
    margins, and one live autopilot run of CHANGES changes."""
    from sandbox import demo_credentials, start_sandbox
    from services import accounts, connect, sync

    h = start_sandbox(port=0, seed=11, scale="demo", report_latency=0.05)
    path = tmp_path_factory.mktemp("autopilot_app") / "dashboard.db"
    saved = os.environ.get("DASHBOARD_DB")
    os.environ["DASHBOARD_DB"] = str(path)
    try:
        db, vault = connect.open_store(path), connect.make_vault(path)
        account_id = accounts.connect_demo(db, vault, h.url, demo_credentials())
        pid = str(h.world.profiles()[0]["profileId"])
        sync.sync_account(path, account_id, vault, profile_ids=[pid], days=35)
        for r in h.world.truth_products(pid).itertuples(index=False):
            sugg.set_margin(db, account_id, str(r.asin), float(r.margin), sku=str(r.sku), source="seller")
        before = _snapshot(h.world, pid)
        client = sugg.client_for_profile(db, vault, account_id, pid)
        guard = autopilot.Guardrails(max_changes=CHANGES, max_daily_spend_increase=1000.0)
        report = autopilot.run(db, client, account_id, pid, guardrails=guard)
        assert report.status == "done" and report.applied == CHANGES, report.line()
        yield {"h": h, "db": db, "acc": account_id, "pid": pid, "before": before, "run": report.run_id}
    finally:
        if saved is None:
            os.environ.pop("DASHBOARD_DB", None)
        else:
            os.environ["DASHBOARD_DB"] = saved
        h.stop()


def _app(w, page: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["account_id"] = w["acc"]
    at.session_state["profile_id"] = w["pid"]
    at.run()
    at.switch_page(f"pages/{page}").run()
    assert not at.exception, at.exception
    return at


MARKS = {  # a table without selection has no key in AppTest: each is found by a column only it has
    "autopilot_runs": "run_status",
    "autopilot_changes": "reason",
    "history_table": "measured",
}


def _frame(at, key):
    return next(d.value for d in at.dataframe if MARKS[key] in d.value.columns and "type_label" not in d.value.columns)


def test_run_shows_with_its_changes_effects_and_markers_then_one_click_undoes_it(autopilot_store):
    w = autopilot_store
    at = _app(w, "suggestions.py")
    line = next(m.value for m in at.markdown if "last 30 days" in m.value).replace("\\", "")  # markdown escapes
    line = line.removeprefix(":material/trending_up: **").removesuffix("**")
    assert line.startswith(f"Changes applied in the last 30 days: {CHANGES}")  # applied today: not measured yet

    runs = _frame(at, "autopilot_runs")
    assert len(runs) == 1
    run = runs.iloc[0]
    assert (run["mode"], run["run_status"], run["applied"], run["live_changes"]) == (
        "Live",
        "Applied",
        CHANGES,
        CHANGES,
    )
    assert "changes per run limit reached" in run["skipped"]  # which guardrail held the rest back, and how many
    changes = _frame(at, "autopilot_changes")
    assert len(changes) == CHANGES and changes["reason"].str.len().min() > 20  # each change with its sentence of why

    history = _frame(at, "history_table")
    ours = history[history["change_id"].isin(changes["change_id"])]
    assert len(ours) == CHANGES and ours["measured"].str.startswith("measuring — ").all()
    assert ours["measured"].str.endswith("days to go").all()

    overview = _app(w, "overview.py")
    chart = next(c for c in overview.get("plotly_chart") if "trend_chart" in c.proto.id)
    marker = next(t for t in json.loads(chart.proto.spec)["data"] if t["name"] == "Changes applied")
    assert any(t.startswith(f"{CHANGES} changes applied: {CHANGES} by the autopilot") for t in marker["text"])
    assert [0, CHANGES] in marker["customdata"]  # manual, autopilot

    at.button(key="autopilot_undo").click().run()
    assert any("Put back the 5 value(s)" in x.value for x in at.warning)
    at.button(key="autopilot_undo_confirm").click().run()
    assert not at.exception, at.exception
    assert any(s.value.startswith(f"Undone on Amazon: {CHANGES} of {CHANGES}") for s in at.success)
    after = _snapshot(w["h"].world, w["pid"])
    assert {k: after[k] for k in w["before"]} == w["before"]  # the live account holds its earlier values again
    assert all(v == "ARCHIVED" for k, v in after.items() if k not in w["before"] and k[2] == "state")
    run = _frame(at, "autopilot_runs").iloc[0]
    assert (run["run_status"], run["live_changes"]) == ("Undone", 0)
    assert autopilot.runs(w["db"], w["acc"], w["pid"]).iloc[0]["status"] == "undone"


def test_a_viewer_cannot_undo_a_run(autopilot_store):
    w = autopilot_store
    from services import connect

    db = grants.bind(connect.open_store(), grants.Person(user="viewer@example.com", roles={w["acc"]: grants.VIEWER}))
    with pytest.raises(grants.NotPermitted):
        autopilot_history.undo_autopilot_run(db, None, w["acc"], w["run"], confirmed=True)


def test_a_viewer_sees_the_runs_and_effects_without_an_undo_button(autopilot_store, monkeypatch):
    """The read-only Suggestions page (a viewer's grant) shows the runs, the effects and their CSVs, no undo."""
    from pages import common

    monkeypatch.setattr(common, "can_change", lambda account_id=None: False)
    at = _app(autopilot_store, "suggestions.py")
    assert any("view-only" in i.value for i in at.info)
    assert len(_frame(at, "autopilot_runs")) == 1 and "measured" in _frame(at, "history_table").columns
    assert not [b for b in at.button if b.key in ("autopilot_undo", "autopilot_undo_confirm")]
    assert any("an approver can undo a run" in x.value for x in at.caption)
