"""Apply approved suggestions through the Ads API, undo them, and keep the change history.

Nothing is sent to Amazon unless `apply_approved(..., confirmed=True)` / `undo(..., confirmed=True)`
is called; every write is recorded (when, what, old, new, Amazon's per-item answer, which suggestion).
Crash-safe: each change is journaled before Amazon is called and settled after (`journal`); anything an
interrupted run left unsettled is read back from Amazon before the next send (`reconcile`).
No HTTP call happens inside a write transaction.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import pandas as pd
from sqlite_utils import Database

from services.errors import DashboardError
from services.optimizer import journal, reconcile
from services.optimizer.actions import (  # noqa: F401 - client_for_profile is re-exported
    Action,
    ApplyReport,
    _actions_for,
    _placement_payload,
    _send,
    client_for_profile,
)
from services.optimizer.suggestions import ConfirmationRequired, _frame, ensure_schema, list_suggestions

KILL_ENV = "DASHBOARD_CHAOS_KILL_AT"
KILL_POINTS = ("before_journal", "after_journal", "mid_207", "after_amazon")


def _kill_point(name: str) -> None:
    """The chaos test's hook: the process dies here, as a SIGKILL would, when the env var names this point."""
    if os.environ.get(KILL_ENV) == name:
        os._exit(137)


class UnsettledChanges(DashboardError):
    """Earlier changes could not be checked on Amazon: sending more could duplicate them."""


def _send_journaled(db: Database, client, account_id: str, profile_id: str, actions: list[Action], now) -> list[dict]:
    """Journal, send, record: the crash-safe core shared by apply and undo."""
    _kill_point("before_journal")
    batch, actions = journal.open_batch(db, account_id, profile_id, actions)
    try:
        _kill_point("after_journal")
        _send(client, profile_id, actions, between_calls=lambda: _kill_point("mid_207"))  # outside any transaction
        _kill_point("after_amazon")
        items = journal.record(db, account_id, profile_id, actions, now)
        items += reconcile.settle_unknown(db, client, account_id, profile_id, actions, now)
    finally:
        journal.close_batch(batch)
    for a in actions:
        if a.result.get("unknown"):
            items.append(
                {
                    "change_id": a.journal_id,
                    "suggestion_id": a.suggestion_id,
                    "change_type": a.change_type,
                    "action": a.method,
                    "entity_kind": a.entity_kind,
                    "entity_id": a.entity_id,
                    "entity_name": a.entity_name,
                    "old_value": a.old_value,
                    "new_value": a.new_value,
                    "ok": False,
                    "message": "Amazon did not confirm this change; the dashboard checks it again before the "
                    "next apply.",
                    "errors": [],
                }
            )
    return items


def _reconcile_first(db: Database, client, account_id: str, profile_id: str, now) -> None:
    report = reconcile.reconcile_profile(db, client, account_id, profile_id, now=now)
    if report.unresolved:
        raise UnsettledChanges(
            f"{report.unresolved} earlier change(s) could not be checked on Amazon, so nothing was sent "
            "(sending again could duplicate them). Try again in a few minutes."
        )


def apply_approved(
    db: Database,
    client,
    account_id: str,
    profile_id: str,
    *,
    confirmed: bool = False,
    ids: Iterable[str] | None = None,
    now: datetime | None = None,
) -> ApplyReport:
    """Send the approved suggestions of a profile (or just `ids`) to Amazon; record every change.

    `client` is the profile's region AdsClient (`accounts.clients_for(db, vault, account_id).ads(region)`).
    Raises ConfirmationRequired unless confirmed=True. Returns Amazon's per-item result (207).
    """
    if confirmed is not True:
        raise ConfirmationRequired()
    ensure_schema(db)
    _reconcile_first(db, client, account_id, str(profile_id), now)
    df = list_suggestions(db, account_id, profile_id, statuses=("approved",))
    if ids is not None:
        df = df[df["suggestion_id"].isin([str(i) for i in ids])]
    busy = journal.busy_suggestions(db, account_id, str(profile_id))
    df = df[~df["suggestion_id"].isin(busy)]  # still being sent by another session: never twice
    actions: list[Action] = []
    for s in df.to_dict("records"):
        actions += _actions_for(db, s)
    if not actions:
        return ApplyReport([])
    return ApplyReport(_send_journaled(db, client, account_id, str(profile_id), actions, now))


def undo(
    db: Database, client, change_ids: Iterable[str], *, confirmed: bool = False, now: datetime | None = None
) -> ApplyReport:
    """Revert applied changes: bid/budget/placement back to the old value; created keyword/negative archived."""
    if confirmed is not True:
        raise ConfirmationRequired()
    ensure_schema(db)
    ids = [str(i) for i in change_ids]
    if not ids:
        return ApplyReport([])
    rows = _frame(
        db,
        f"SELECT * FROM change_history WHERE change_id IN ({', '.join('?' for _ in ids)}) "
        "AND ok = 1 AND undone_at IS NULL AND undo_of IS NULL",
        ids,
    )
    reports: list[dict] = []
    for (account_id, profile_id), group in rows.groupby(["account_id", "profile_id"]):
        actions = []
        for r in group.to_dict("records"):
            base = dict(
                suggestion_id=r["suggestion_id"],
                change_type=r["change_type"],
                entity_kind=r["entity_kind"],
                entity_id=r["entity_id"],
                entity_name=r["entity_name"],
                campaign_id=r["campaign_id"],
                ad_group_id=r["ad_group_id"],
                field=r["field"],
                old_value=r["new_value"],
                undo_of=r["change_id"],
            )
            if r["action"] == "create":
                kind = "keywords" if r["change_type"] == "keyword" else "negativeKeywords"
                actions.append(
                    Action(method="archive", kind=kind, payload=r["entity_id"], new_value="ARCHIVED", **base)
                )
            elif r["field"] == "bid":
                kind, key = ("keywords", "keywordId") if r["entity_kind"] == "keyword" else ("targets", "targetId")
                actions.append(
                    Action(
                        method="update",
                        kind=kind,
                        payload={key: r["entity_id"], "bid": float(r["old_value"])},
                        new_value=float(r["old_value"]),
                        **base,
                    )
                )
            elif r["field"] == "budget":
                actions.append(
                    Action(
                        method="update",
                        kind="campaigns",
                        payload={
                            "campaignId": r["entity_id"],
                            "budget": {"budget": float(r["old_value"]), "budgetType": "DAILY"},
                        },
                        new_value=float(r["old_value"]),
                        **base,
                    )
                )
            elif r["field"] == "placement_top_pct":
                actions.append(
                    Action(
                        method="update",
                        kind="campaigns",
                        payload=_placement_payload(db, profile_id, r["entity_id"], float(r["old_value"] or 0)),
                        new_value=float(r["old_value"] or 0),
                        **base,
                    )
                )
        _reconcile_first(db, client, account_id, profile_id, now)
        reports += _send_journaled(db, client, account_id, profile_id, actions, now)
    return ApplyReport(reports)


# ------------------------------------------------------------------------------------------
# history


def change_history(
    db: Database,
    account_id: str,
    profile_id: str | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
    only_ok: bool = False,
) -> pd.DataFrame:
    """Every change sent to Amazon, newest first: applied_at, change_type, action, entity, old, new, ok,
    message (Amazon's answer), suggestion_id, undo_of / undone_at."""
    ensure_schema(db)
    where, params = ["account_id = ?"], [account_id]
    if profile_id is not None:
        where.append("profile_id = ?")
        params.append(str(profile_id))
    if start is not None:
        where.append("applied_at >= ?")
        params.append(start.isoformat())
    if end is not None:
        where.append("applied_at < ?")
        params.append((end + timedelta(days=1)).isoformat())
    if only_ok:
        where.append("ok = 1")
    return _frame(
        db, f"SELECT * FROM change_history WHERE {' AND '.join(where)} ORDER BY applied_at DESC, change_id", params
    )


def change_markers(
    db: Database, account_id: str, profile_id: str | None = None, *, start: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """One row per day, change type and source for the overview's trend chart: applied_at (first change of the
    day), date, change_type, source ("autopilot", "manual" or "undo"), count, label (e.g. "12 bid changes")."""
    h = change_history(db, account_id, profile_id, start=start, end=end, only_ok=True)
    cols = ["applied_at", "date", "change_type", "source", "count", "label"]
    if h.empty:
        return pd.DataFrame(columns=cols)
    auto = _autopilot_change_ids(db, account_id)
    h["source"] = [
        "undo" if isinstance(u, str) and u else ("autopilot" if c in auto else "manual")
        for c, u in zip(h["change_id"], h["undo_of"])
    ]
    h["date"] = pd.to_datetime(h["applied_at"], utc=True).dt.date
    g = (
        h.groupby(["date", "change_type", "source"])
        .agg(applied_at=("applied_at", "min"), count=("change_id", "size"))
        .reset_index()
    )
    names = {
        "bid": "bid change",
        "budget": "budget change",
        "placement": "placement change",
        "negative": "negative keyword",
        "keyword": "new keyword",
    }
    g["label"] = [f"{n} {names.get(t, t)}{'s' if n != 1 else ''}" for n, t in zip(g["count"], g["change_type"])]
    return g[cols].sort_values("applied_at").reset_index(drop=True)


def _autopilot_change_ids(db: Database, account_id: str) -> set[str]:
    """Changes made by an autopilot run (their suggestion carries the run's id); none before the autopilot's
    tables exist (it creates them on its first run)."""
    if not db.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'autopilot_runs'").fetchone():
        return set()
    rows = db.conn.execute(
        "SELECT h.change_id FROM change_history h JOIN suggestions s ON s.suggestion_id = h.suggestion_id "
        "JOIN autopilot_runs r ON r.run_id = s.run_id WHERE h.account_id = ?",
        [account_id],
    )
    return {str(r[0]) for r in rows}


def recent_changes_for_cooldown(db: Database, account_id: str, profile_id: str) -> pd.DataFrame:
    """entity_id, change_type, applied_at, old_value, new_value of successful changes (the optimizer's cool-down
    input, and the bid history its response curves read; the optimizer compares applied_at with its as_of date)."""
    ensure_schema(db)
    return _frame(
        db,
        "SELECT entity_id, change_type, applied_at, old_value, new_value FROM change_history WHERE account_id = ? AND "
        "profile_id = ? AND ok = 1 AND undo_of IS NULL",
        [account_id, str(profile_id)],
    )
