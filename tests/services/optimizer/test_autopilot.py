"""The autopilot: each guardrail binding (unit), and on the sandbox from the CLI: a dry run changes nothing, a run
killed midway is reconciled by the next run (history = what Amazon holds, nothing twice), and a whole run undoes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from services import optimizer as sugg
from services.optimizer import autopilot
from services.optimizer.apply import KILL_ENV
from services.optimizer.autopilot import Guardrails, apply_guardrails
from tests.services.optimizer.test_apply_chaos import _claimed, _snapshot

ROOT = Path(__file__).resolve().parents[3]


def _row(key, type_="bid", campaign="C1", cur=1.0, new=1.2, conf=0.9, clicks=50, spend=7.0, dest=None):
    return {
        "suggestion_key": key,
        "type": type_,
        "campaign_id": campaign,
        "dest_campaign_id": dest,
        "current_value": cur,
        "proposed_value": new,
        "confidence": conf,
        "clicks": clicks,
        "expected_spend_change": spend,
    }


def _frame():
    return pd.DataFrame(
        [
            _row("a"),
            _row("b", campaign="C2", conf=0.8),
            _row("c", new=1.8, conf=0.7),  # +80 %
            _row("d", type_="harvest", cur=None, new=6.0, conf=0.6, dest="C3"),
            _row("e", type_="negative", cur=None, new=None, conf=0.95, clicks=5, spend=-3.0),
            _row("f", type_="budget", campaign="C4", cur=20.0, new=30.0, conf=0.55, clicks=0, spend=70.0),
        ]
    )


def _skipped(g: Guardrails) -> dict[str, str]:
    kept, skipped = apply_guardrails(_frame(), g)
    assert set(kept["suggestion_key"]) | set(skipped["suggestion_key"]) == set("abcdef")
    return dict(zip(skipped["suggestion_key"], skipped["skip_reason"]))


LOOSE = Guardrails(max_bid_change=1.0, max_bid=10.0, min_clicks=0, min_confidence=0.0, max_daily_spend_increase=100.0)


def test_loose_guardrails_keep_everything():
    assert _skipped(LOOSE) == {}


@pytest.mark.parametrize(
    "change,expected",
    [
        ({"excluded_campaigns": ("C2", "C3")}, {"b": "campaign excluded", "d": "campaign excluded"}),
        (
            {"min_confidence": 0.65},
            {"d": "confidence under the autopilot's minimum", "f": "confidence under the autopilot's minimum"},
        ),
        ({"min_clicks": 12}, {"e": "too little data"}),
        ({"max_bid_change": 0.5}, {"c": "bid change above the limit"}),
        ({"max_bid": 5.0}, {"d": "bid above the max bid"}),
        # a, b, c add 1 a day each, d 1, f 10: a 5-a-day ceiling keeps the four most confident small ones
        ({"max_daily_spend_increase": 5.0}, {"f": "daily spend increase limit reached"}),
        ({"max_changes": 2}, {k: "changes per run limit reached" for k in "bcdf"}),
    ],
)
def test_each_guardrail_binds(change, expected):
    g = Guardrails(**{**LOOSE.__dict__, **change})
    assert _skipped(g) == expected


def test_weekly_spend_ceiling_counts_last_weeks_spend_and_never_holds_back_savings():
    g = Guardrails(**{**LOOSE.__dict__, "weekly_spend_ceiling": 30.0})
    # a, b, c, d add 7 a week each, f 70: with 10 spent last week, a (17) and b (24) fit, c (31) and d (31) do not
    kept, skipped = apply_guardrails(_frame(), g, weekly_spend=10.0)
    assert dict(zip(skipped["suggestion_key"], skipped["skip_reason"])) == {
        k: "weekly spend ceiling reached" for k in "cdf"
    }
    assert set(kept["suggestion_key"]) == {"a", "b", "e"}  # the negative saves spend: never held back
    assert set(apply_guardrails(_frame(), Guardrails(**LOOSE.__dict__), weekly_spend=1e6)[1]["suggestion_key"]) == set()


# ---------------------------------------------------------------------------------------------- on the sandbox


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from sandbox import demo_credentials, start_sandbox
    from services import accounts, store, sync
    from services.secrets.vault import Vault

    h = start_sandbox(port=0, seed=11, scale="demo", report_latency=0.05)
    path = tmp_path_factory.mktemp("autopilot") / "store.db"
    db = store.open_db(path)
    vault = Vault(db_path=path)
    account_id = accounts.connect_demo(db, vault, h.url, demo_credentials())
    pid = str(h.world.profiles()[0]["profileId"])
    sync.sync_account(path, account_id, vault, profile_ids=[pid], days=35)
    for r in h.world.truth_products(pid).itertuples(index=False):
        sugg.set_margin(db, account_id, str(r.asin), float(r.margin), sku=str(r.sku), source="seller")
    autopilot.save_guardrails(db, account_id, Guardrails(max_changes=12, max_daily_spend_increase=1000.0))
    yield {"h": h, "db": db, "path": path, "vault": vault, "acc": account_id, "pid": pid}
    h.stop()


def test_cli_as_the_issue_spells_it_refuses_bad_input_with_a_sentence(tmp_path):
    """`python -m services.autopilot` is the command cron runs: it forwards to the optimizer's autopilot."""
    run = subprocess.run(
        [sys.executable, "-m", "services.autopilot", "--db", str(tmp_path / "none.db"), "--account", "Shop"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and f"No database file at {tmp_path / 'none.db'}." in run.stderr
    assert "Traceback" not in run.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "services.autopilot", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert usage.returncode == 0 and "python -m services.autopilot" in usage.stdout and "--dry-run" in usage.stdout


def _cli(w, *extra, env=None) -> subprocess.CompletedProcess:
    """The runs below go through `python -m services.autopilot`, the forwarder cron calls."""
    return subprocess.run(
        [sys.executable, "-m", "services.autopilot", "--db", str(w["path"]), "--account", w["acc"]]
        + ["--profile", w["pid"], "--no-sync", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.timeout(1800)  # three CLI runs of the whole pipeline on the demo profile; minutes on a loaded machine
def test_dry_run_kill_reconcile_and_undo(world):
    h, db, acc, pid = world["h"], world["db"], world["acc"], world["pid"]
    untouched = _snapshot(h.world, pid)

    dry = _cli(world, "--dry-run")
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert "dry-run" in dry.stdout and dry.stdout.count("would change") == 12
    assert _snapshot(h.world, pid) == untouched  # nothing on Amazon
    assert sugg.change_history(db, acc, pid).empty
    runs = autopilot.runs(db, acc, pid)
    assert list(runs["status"]) == ["dry-run"] and len(json.loads(runs.iloc[0]["plan"])) == 12

    killed = _cli(world, env={KILL_ENV: "after_amazon"})  # Amazon changed, nothing recorded yet
    assert killed.returncode == 137, killed.stderr[-2000:]
    assert autopilot.runs(db, acc, pid).iloc[0]["status"] == "running"

    client = sugg.client_for_profile(db, world["vault"], acc, pid)
    rep = autopilot.run(db, client, acc, pid)
    assert rep.status == "done" and rep.reconciled > 0
    statuses = dict(zip(autopilot.runs(db, acc, pid)["run_id"], autopilot.runs(db, acc, pid)["status"]))
    assert sorted(statuses.values()) == ["done", "dry-run", "interrupted"]
    history = sugg.change_history(db, acc, pid)
    live = history[(history["ok"] == 1) & history["undo_of"].isna()]
    assert not live.duplicated(["entity_id", "change_type", "new_value", "action"]).any()  # nothing twice
    claimed = _claimed(history)
    held = _snapshot(h.world, pid)
    assert {k: held[k] for k in claimed} == claimed  # the history says what Amazon holds

    changed = autopilot.run_changes(db, acc, rep.run_id)
    assert len(changed) == rep.applied > 0
    undone = _cli(world, "--undo", rep.run_id)
    assert undone.returncode == 0, undone.stderr[-2000:]
    after = _snapshot(h.world, pid)
    for r in changed.itertuples():
        if r.action == "create":  # harvested keywords and negatives are archived
            kind = "negativeKeywords" if r.change_type == "negative" else "keywords"
            assert after[(kind, r.entity_id, "state")] == "ARCHIVED"
        elif r.field == "bid":
            kind = "keywords" if r.entity_kind == "keyword" else "targets"
            assert after[(kind, r.entity_id, "bid")] == pytest.approx(float(r.old_value))
        elif r.field in ("budget", "placement_top_pct"):
            key = "budget" if r.field == "budget" else "top"
            assert after[("campaigns", r.entity_id, key)] == pytest.approx(float(r.old_value))
        else:
            raise AssertionError(f"unchecked change {r.change_type} {r.action} {r.field}")
    assert autopilot.runs(db, acc, pid).set_index("run_id").loc[rep.run_id, "status"] == "undone"
