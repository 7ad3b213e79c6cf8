"""Chaos test of apply: the applying process is SIGKILL-equivalently ended (`os._exit` at a named point, in a real
subprocess) at each step, then reconciled. Afterwards the change history must equal what the sandbox holds:
0 unrecorded changes, 0 phantom records, 0 duplicates, and every change undoable.

Run with `-s` to see the table (kill point -> unrecorded, phantom, duplicates, undoable).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import requests

from services import optimizer as sugg
from services.optimizer.apply import KILL_ENV

ROOT = Path(__file__).resolve().parents[3]
KILLED = 137

APPLY_SCRIPT = """
import json, sys
from services import optimizer
from services.secrets.vault import Vault
from services.store import open_db
path, acc, pid, ids = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
db = open_db(path)
client = optimizer.client_for_profile(db, Vault(db_path=path), acc, pid)
report = optimizer.apply_approved(db, client, acc, pid, confirmed=True, ids=ids)
print(json.dumps({"sent": len(report.items), "failed": report.failed}))
"""

SCENARIOS = [  # (kill point, how the leftovers get reconciled)
    ("before_journal", "cli"),
    ("after_journal", "cli"),
    ("mid_207", "cli"),
    ("after_amazon", "cli"),
    ("after_amazon", "next_apply"),
    ("mid_207", "next_apply"),
]
TABLE: list[dict] = []


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A sandbox of its own (the test changes it), one profile synced, suggestions generated once."""
    from sandbox import demo_credentials, start_sandbox
    from services import accounts, store, sync
    from services.secrets.vault import Vault

    h = start_sandbox(port=0, seed=11, scale="demo", report_latency=0.05)
    path = tmp_path_factory.mktemp("chaos") / "store.db"
    db = store.open_db(path)
    vault = Vault(db_path=path)
    account_id = accounts.connect_demo(db, vault, h.url, demo_credentials())
    pid = str(h.world.profiles()[0]["profileId"])
    sync.sync_account(path, account_id, vault, profile_ids=[pid], days=45)
    df = sugg.generate(db, account_id, pid)
    yield {"h": h, "db": db, "path": path, "vault": vault, "acc": account_id, "pid": pid, "df": df}
    h.stop()
    if TABLE:
        print("\nafter reconcile (A) and after applying again (B); undoable = undone OK / live changes")
        print("kill point          reconciled by  A:held unrec phantom dup   B:held unrec phantom dup  undoable")
        for r in TABLE:
            a, b = r["A"], r["B"]
            print(
                f"{r['kill']:<19} {r['by']:<14} {a['changes']:>6} {a['unrecorded']:>5} {a['phantom']:>7} "
                f"{a['duplicates']:>3}   {b['changes']:>6} {b['unrecorded']:>5} {b['phantom']:>7} "
                f"{b['duplicates']:>3}  {r['undoable']}"
            )


def _pick(df: pd.DataFrame, slot: int) -> list[str]:
    """Disjoint suggestions per scenario: 3 bids, 3 negatives, a budget, a placement, a harvest (several calls)."""
    harvest = df[df["type"] == "harvest"].iloc[slot : slot + 1]
    used_terms = set(harvest["search_term"])
    negatives = df[(df["type"] == "negative") & ~df["search_term"].isin(used_terms)]
    parts = [
        df[df["type"] == "bid"].iloc[3 * slot : 3 * slot + 3],
        negatives.iloc[3 * slot : 3 * slot + 3],
        df[df["type"] == "budget"].iloc[slot : slot + 1],
        df[df["type"] == "placement"].iloc[slot : slot + 1],
        harvest,
    ]
    return list(pd.concat(parts)["suggestion_id"])


def _snapshot(world_, pid: str) -> dict[tuple[str, str, str], object]:
    """What Amazon (the sandbox) holds for every field an apply can change."""
    out: dict[tuple[str, str, str], object] = {}
    for kind, key in (("keywords", "keywordId"), ("targets", "targetId")):
        for e in world_.entities(pid, kind):
            out[(kind, str(e[key]), "bid")] = round(float(e.get("bid") or 0), 2)
            out[(kind, str(e[key]), "state")] = e["state"]
    for e in world_.entities(pid, "negativeKeywords"):
        out[("negativeKeywords", str(e["keywordId"]), "state")] = e["state"]
    for e in world_.entities(pid, "campaigns"):
        out[("campaigns", str(e["campaignId"]), "budget")] = round(float(e["budget"]["budget"]), 2)
        top = [p for p in e["dynamicBidding"]["placementBidding"] if p["placement"] == "PLACEMENT_TOP"]
        out[("campaigns", str(e["campaignId"]), "top")] = round(float(top[0]["percentage"]) if top else 0.0, 2)
    return out


def _claimed(history: pd.DataFrame) -> dict[tuple[str, str, str], object]:
    """What the change history says Amazon now holds (live changes only: not undone, not undo rows)."""
    out: dict[tuple[str, str, str], object] = {}
    live = history[(history["ok"] == 1) & history["undo_of"].isna() & history["undone_at"].isna()]
    for r in live.itertuples():
        if r.action == "create" and r.change_type == "keyword":
            out[("keywords", r.entity_id, "state")] = "ENABLED"
            out[("keywords", r.entity_id, "bid")] = round(float(r.new_value), 2)
        elif r.action == "create":
            out[("negativeKeywords", r.entity_id, "state")] = "ENABLED"
        elif r.field == "bid":
            out[("keywords" if r.entity_kind == "keyword" else "targets", r.entity_id, "bid")] = round(
                float(r.new_value), 2
            )
        elif r.field == "budget":
            out[("campaigns", r.entity_id, "budget")] = round(float(r.new_value), 2)
        elif r.field == "placement_top_pct":
            out[("campaigns", r.entity_id, "top")] = round(float(r.new_value), 2)
    return out


def _compare(w, ids: list[str], before: dict) -> dict:
    """Unrecorded: entities Amazon changed that the history does not claim. Phantom: claimed but not held.
    Duplicates: the same change recorded twice, or the same keyword/negative live twice on Amazon."""
    db, pid, acc = w["db"], w["pid"], w["acc"]
    now = _snapshot(w["h"].world, pid)
    history = sugg.change_history(db, acc, pid)
    history = history[history["suggestion_id"].isin(ids)]
    claimed = _claimed(history)
    changed = {k for k in now if before.get(k) != now[k]}
    unrecorded = {(k[0], k[1]) for k in changed if claimed.get(k) != now[k]}
    phantom = {(k[0], k[1]) for k, v in claimed.items() if now.get(k) != v}
    live = history[(history["ok"] == 1) & history["undo_of"].isna()]
    recorded_twice = sum(n - 1 for n in Counter(zip(live["entity_id"], live["field"])).values() if n > 1)
    twins = 0
    for kind in ("keywords", "negativeKeywords"):
        entities = [e for e in w["h"].world.entities(pid, kind) if e["state"] != "ARCHIVED"]
        key = lambda e: (e["adGroupId"], e["keywordText"].lower(), e["matchType"])  # noqa: E731
        new = {key(e) for e in entities if (kind, str(e["keywordId"]), "state") not in before}
        keys = Counter(key(e) for e in entities if key(e) in new)
        twins += sum(n - 1 for n in keys.values() if n > 1)
    return {
        "changes": len({(k[0], k[1]) for k in changed}),
        "unrecorded": len(unrecorded),
        "phantom": len(phantom),
        "duplicates": recorded_twice + twins,
        "history": history,
    }


def _run(args: list[str], kill: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(KILL_ENV, None)
    if kill:
        env[KILL_ENV] = kill
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False
    )


def _undo_everything(w, ids: list[str], before: dict) -> str:
    """Undo every live change of the scenario; Amazon must be back to `before` (creates archived)."""
    db, pid, acc = w["db"], w["pid"], w["acc"]
    history = sugg.change_history(db, acc, pid)
    live = history[history["suggestion_id"].isin(ids) & (history["ok"] == 1) & history["undo_of"].isna()]
    client = sugg.client_for_profile(db, w["vault"], acc, pid)
    report = sugg.undo(db, client, live["change_id"], confirmed=True)
    assert report.failed == 0, report.frame.to_dict("records")
    after = _snapshot(w["h"].world, pid)
    restored = all(after[k] == v for k, v in before.items())
    created_archived = all(after[(k[0], k[1], "state")] == "ARCHIVED" for k in after if k not in before)
    assert restored and created_archived
    return f"{report.succeeded}/{len(live)}"


@pytest.mark.parametrize("slot, kill, by", [(i, k, b) for i, (k, b) in enumerate(SCENARIOS)])
def test_kill_then_reconcile_leaves_history_equal_to_amazon(world, slot, kill, by):
    w = world
    db, acc, pid = w["db"], w["acc"], w["pid"]
    ids = _pick(w["df"], slot)
    assert len(ids) >= 6
    sugg.approve(db, ids)
    before = _snapshot(w["h"].world, pid)

    proc = _run(["-c", APPLY_SCRIPT, str(w["path"]), acc, pid, json.dumps(ids)], kill=kill)
    assert proc.returncode == KILLED, proc.stdout + proc.stderr  # it really died at that point

    if by == "cli":
        out = _run(["-m", "services.reconcile", "--db", str(w["path"]), "--account", acc])
        assert out.returncode == 0, out.stdout + out.stderr
        assert out.stdout.startswith("reconciled:")
    else:  # the next apply reconciles before sending anything
        client = sugg.client_for_profile(db, w["vault"], acc, pid)
        sugg.apply_approved(db, client, acc, pid, confirmed=True, ids=ids)
    assert db.conn.execute("SELECT COUNT(*) FROM apply_journal WHERE state = 'sending'").fetchone()[0] == 0
    result = _compare(w, ids, before)
    assert (result["unrecorded"], result["phantom"], result["duplicates"]) == (0, 0, 0)
    if kill in ("after_journal", "mid_207", "after_amazon"):
        assert result["changes"] > 0 or kill == "after_journal"

    # Applying again sends only what never reached Amazon: no DUPLICATE_VALUE, everything applied.
    client = sugg.client_for_profile(db, w["vault"], acc, pid)
    again = sugg.apply_approved(db, client, acc, pid, confirmed=True, ids=ids)
    assert again.failed == 0, again.frame.to_dict("records")
    statuses = sugg.list_suggestions(db, acc, pid, statuses=None).set_index("suggestion_id").loc[ids, "status"]
    assert set(statuses) == {"applied"}
    final = _compare(w, ids, before)
    assert (final["unrecorded"], final["phantom"], final["duplicates"]) == (0, 0, 0)

    undoable = _undo_everything(w, ids, before)
    TABLE.append({"kill": kill, "by": by, "A": result, "B": final, "undoable": undoable})


def test_a_create_whose_answer_is_lost_is_looked_up_not_sent_twice(world):
    """Amazon creates the negatives but the answer never arrives (read timeout): no blind repeat, no duplicate,
    and the history holds the negatives with Amazon's ids, undoable."""
    w = world
    db, acc, pid = w["db"], w["acc"], w["pid"]
    ids = _pick(w["df"], len(SCENARIOS))
    sugg.approve(db, ids)
    before = _snapshot(w["h"].world, pid)
    client = sugg.client_for_profile(db, w["vault"], acc, pid)
    real = client.session.request
    lost = []

    def answer_lost(method, url, **kw):
        response = real(method, url, **kw)
        if method == "POST" and url.endswith("/sp/negativeKeywords") and not lost:
            lost.append(response.status_code)
            raise requests.ReadTimeout("the answer was lost on the way back")
        return response

    client.session.request = answer_lost
    try:
        report = sugg.apply_approved(db, client, acc, pid, confirmed=True, ids=ids)
    finally:
        client.session.request = real
    assert lost == [207]  # Amazon did create them
    assert report.failed == 0, report.frame.to_dict("records")
    result = _compare(w, ids, before)
    assert (result["unrecorded"], result["phantom"], result["duplicates"]) == (0, 0, 0)
    negatives = result["history"][result["history"]["change_type"] == "negative"]
    assert not negatives.empty and negatives["entity_id"].notna().all()
    undoable = _undo_everything(w, ids, before)
    TABLE.append({"kill": "create answer lost", "by": "lookup", "A": result, "B": result, "undoable": undoable})
