"""The autopilot's runs as the Suggestions page shows them: when, dry run or not, what each guardrail held back,
what each run changed and why, and the one-click undo of a whole run (the CLI's `undo_run`, journaled like any undo).

Kept apart from `autopilot` (which runs) so the page's reading and the marketer's undo stay small and testable;
the undo checks the person's grant here, as every acting entry point the pages call does (`review`).
"""

from __future__ import annotations

import json

import pandas as pd
from sqlite_utils import Database

from services.errors import DashboardError
from services.optimizer import autopilot
from services.optimizer.actions import client_for_profile
from services.optimizer.detail import campaign_names, change_text, field_change, local_time, zone
from services.optimizer.review import _require_change
from services.optimizer.suggestions import ConfirmationRequired

RUN_COLUMNS = [
    "started_at",
    "mode",
    "run_status",
    "suggested",
    "kept",
    "applied",
    "failed",
    "live_changes",
    "skipped",
    "run_id",
]
CHANGE_COLUMNS = ["applied_at", "campaign", "change_type", "entity_name", "change", "reason", "ok", "message",
                  "undone_at", "change_id"]  # fmt: skip
STATUS_LABELS = {
    "done": "Applied",
    "dry-run": "Dry run: nothing changed",
    "running": "Running",
    "interrupted": "Ended midway; reconciled with Amazon by the next run",
    "failed": "Failed",
    "undone": "Undone",
}


class UnknownRun(DashboardError):
    default_message = "That autopilot run is not one of this account's. Nothing was changed."


def skipped_text(value: object) -> str:
    """'482 changes per run limit reached, 2 bid change above the limit' from the stored {reason: count}."""
    try:
        counts = json.loads(value) if isinstance(value, str) and value else {}
    except ValueError:
        counts = {}
    if not isinstance(counts, dict):
        return ""
    parts = sorted(((int(n), str(why)) for why, n in counts.items()), reverse=True)
    return ", ".join(f"{n} {why}" for n, why in parts) or "none"


def _live_counts(db: Database, account_id: str, run_ids: list[str]) -> dict[str, int]:
    """Changes of each run still in effect (accepted by Amazon, not undone): what an undo would put back."""
    if not run_ids:
        return {}
    marks = ", ".join("?" for _ in run_ids)
    rows = db.conn.execute(
        f"SELECT s.run_id, count(*) FROM change_history h JOIN suggestions s ON s.suggestion_id = h.suggestion_id "
        f"WHERE h.account_id = ? AND s.run_id IN ({marks}) AND h.ok = 1 AND h.undo_of IS NULL "
        f"AND h.undone_at IS NULL GROUP BY s.run_id",
        [account_id, *run_ids],
    ).fetchall()
    return {str(r): int(n) for r, n in rows}


def runs_table(db: Database, account_id: str, profile_id: str, timezone: str | None = None) -> pd.DataFrame:
    """One row per run, newest first, in the browser's time zone (UTC when unknown)."""
    runs = autopilot.runs(db, account_id, profile_id)
    if runs.empty:
        return pd.DataFrame(columns=RUN_COLUMNS)
    tz, _ = zone(timezone)
    live = _live_counts(db, account_id, runs["run_id"].astype(str).tolist())
    out = pd.DataFrame(
        {
            "started_at": runs["started_at"].map(lambda t: local_time(t, tz)),
            "mode": ["Dry run" if d else "Live" for d in runs["dry_run"]],
            "run_status": [STATUS_LABELS.get(s, str(s)) for s in runs["status"]],
            "suggested": runs["suggested"],
            "kept": runs["kept"],
            "applied": runs["applied"],
            "failed": runs["failed"],
            "live_changes": [live.get(str(r), 0) for r in runs["run_id"]],
            "skipped": [skipped_text(s) for s in runs.get("skipped", pd.Series([None] * len(runs)))],
            "run_id": runs["run_id"].astype(str),
        }
    )
    return out[RUN_COLUMNS]


def run_label(row: dict) -> str:
    """How a run reads in the picker: '2026-12-01 06:00 · Live · 5 applied, 5 still in effect'."""
    if row["mode"] == "Dry run":
        return f"{row['started_at']} · Dry run · {int(row['kept'] or 0)} change(s) it would make"
    return f"{row['started_at']} · {row['run_status']} · {int(row['applied'] or 0)} applied, {row['live_changes']} in effect"


def run_changes_table(
    db: Database, account_id: str, profile_id: str, run_id: str, timezone: str | None = None, currency: str = "USD"
) -> pd.DataFrame:
    """What one run changed (every change sent, undone ones too) with the suggestion's sentence of why;
    for a dry run, what it would have changed."""
    autopilot.ensure_schema(db)
    row = db.conn.execute(
        "SELECT dry_run, plan FROM autopilot_runs WHERE run_id = ? AND account_id = ? AND profile_id = ?",
        [run_id, account_id, str(profile_id)],
    ).fetchone()
    if row is None:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    names: dict[str, str]
    if row[0]:  # a dry run: its plan, nothing was sent
        plan = pd.DataFrame(json.loads(row[1] or "[]"))
        if plan.empty:
            return pd.DataFrame(columns=CHANGE_COLUMNS)
        names = campaign_names(db, profile_id, plan["campaign_id"].tolist())
        return pd.DataFrame(
            {
                "campaign": plan["campaign_id"].map(lambda c: names.get(str(c))),
                "change_type": plan["type"],
                "entity_name": plan["keyword_text"],
                "change": [change_text(r, currency) for r in plan.to_dict("records")],
                "reason": plan["reason"],
            }
        ).reindex(columns=CHANGE_COLUMNS)
    cur = db.conn.execute(
        "SELECT h.*, s.reason FROM change_history h JOIN suggestions s ON s.suggestion_id = h.suggestion_id "
        "WHERE h.account_id = ? AND s.run_id = ? AND h.undo_of IS NULL ORDER BY h.applied_at, h.change_id",
        [account_id, run_id],
    )
    h = pd.DataFrame(cur.fetchall(), columns=[c[0] for c in cur.description])
    if h.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    tz, _ = zone(timezone)
    names = campaign_names(db, profile_id, h["campaign_id"].tolist())
    h = h.assign(
        campaign=h["campaign_id"].map(lambda c: names.get(str(c))),
        applied_at=h["applied_at"].map(lambda t: local_time(t, tz)),
        undone_at=h["undone_at"].map(lambda t: local_time(t, tz)),
        change=[field_change(f, o, n, currency) for f, o, n in zip(h["field"], h["old_value"], h["new_value"])],
        ok=h["ok"].astype(bool),
    )
    return h[CHANGE_COLUMNS]


def undo_autopilot_run(db: Database, vault, account_id: str, run_id: str, *, confirmed: bool) -> pd.DataFrame:
    """Put back every change of one live run on Amazon (journaled, like any undo); Amazon's per-item answer.

    Only an approver of the account may (`grants`); a viewer's click is refused here even if a button showed."""
    if confirmed is not True:
        raise ConfirmationRequired()
    _require_change(db, [account_id])
    autopilot.ensure_schema(db)
    row = db.conn.execute(
        "SELECT profile_id, dry_run FROM autopilot_runs WHERE run_id = ? AND account_id = ?", [run_id, account_id]
    ).fetchone()
    if row is None:
        raise UnknownRun()
    if row[1]:
        raise UnknownRun("A dry run changed nothing on Amazon, so there is nothing to undo.")
    client = client_for_profile(db, vault, account_id, row[0])
    return autopilot.undo_run(db, client, account_id, run_id).frame
