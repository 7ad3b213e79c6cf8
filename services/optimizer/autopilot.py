"""Scheduled optimization: sync, suggest, keep what the seller's guardrails allow, apply through the journal.

    python -m services.optimizer.autopilot --db PATH --account NAME [--profile ID] [--dry-run] [--no-sync]
    python -m services.optimizer.autopilot --db PATH --account NAME --undo RUN_ID

Why it is built on the manual path: every change goes through `apply_approved` (journal first, then Amazon, then the
change history), so a run's changes show in the same history, undo the same way, and a run killed midway leaves
`sending` journal entries that the next run (or any apply) reconciles before it sends anything new. A run is a row
in `autopilot_runs` (running -> done / dry-run / failed; a row left `running` by a dead process is marked
`interrupted` by the next run, after reconciliation), and its suggestions carry its run id, which is how one click
undoes a whole run.

Guardrails (`Guardrails`, stored per account in `autopilot_settings`; each one is tested as binding):
max changes per run, largest bid change, max bid, max expected daily spend increase, a weekly spend ceiling (the
profile's last 7 days of spend plus the run's expected increase), min confidence, min clicks (data), and campaigns
excluded from automation (never touched, nor used as a harvest destination).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime

import pandas as pd
from sqlite_utils import Database, Migrations

from services.optimizer.actions import ApplyReport
from services.optimizer.apply import apply_approved, change_history, undo
from services.optimizer.data import load_input
from services.optimizer.engine import optimize
from services.optimizer.recommendations import fetch_bid_recommendations
from services.optimizer.reconcile import reconcile_profile
from services.optimizer.suggestions import approve, get_settings_book, save_suggestions
from services.store import write

logger = logging.getLogger(__name__)
migrations = Migrations("autopilot")


@migrations()
def m001_autopilot(db: Database) -> None:
    db.conn.execute("""CREATE TABLE IF NOT EXISTS autopilot_settings (
        account_id TEXT PRIMARY KEY, settings TEXT NOT NULL, updated_at TEXT)""")
    db.conn.execute("""CREATE TABLE IF NOT EXISTS autopilot_runs (
        run_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, profile_id TEXT NOT NULL, started_at TEXT NOT NULL,
        finished_at TEXT, status TEXT NOT NULL, dry_run INTEGER NOT NULL, pid INTEGER, suggested INTEGER,
        kept INTEGER, applied INTEGER, failed INTEGER, plan TEXT, message TEXT)""")


@migrations()
def m002_skipped(db: Database) -> None:
    """How many suggestions each guardrail held back, per run (JSON {reason: count}), for the app's run list."""
    db.conn.execute("ALTER TABLE autopilot_runs ADD COLUMN skipped TEXT")


def ensure_schema(db: Database) -> None:
    if migrations.pending(db):
        with write(db):
            if migrations.pending(db):
                migrations.apply(db)


@dataclass(frozen=True)
class Guardrails:
    """What the autopilot may do without a person (the goals page sets these per account)."""

    max_changes: int = 50
    max_bid_change: float = 0.5  # fraction of the current bid
    max_bid: float = 5.0
    max_daily_spend_increase: float = 50.0  # account currency a day, summed over the run's expected spend changes
    min_confidence: float = 0.5
    min_clicks: int = 12
    weekly_spend_ceiling: float = 0.0  # account currency a week; 0 = no ceiling
    excluded_campaigns: tuple[str, ...] = field(default=())

    @classmethod
    def from_dict(cls, data: dict | None) -> Guardrails:
        names = {f.name for f in fields(cls)}
        clean = {k: v for k, v in (data or {}).items() if k in names}
        if "excluded_campaigns" in clean:
            clean["excluded_campaigns"] = tuple(str(c) for c in clean["excluded_campaigns"])
        return cls(**clean)


def get_guardrails(db: Database, account_id: str) -> Guardrails:
    ensure_schema(db)
    row = db.conn.execute("SELECT settings FROM autopilot_settings WHERE account_id = ?", [account_id]).fetchone()
    return Guardrails.from_dict(json.loads(row[0]) if row else None)


def save_guardrails(db: Database, account_id: str, g: Guardrails) -> None:
    ensure_schema(db)
    with write(db):
        db.conn.execute(
            "INSERT INTO autopilot_settings (account_id, settings, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(account_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
            [account_id, json.dumps(asdict(g)), _now()],
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def apply_guardrails(
    suggestions: pd.DataFrame, g: Guardrails, weekly_spend: float = 0.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept, skipped-with-a-reason). Order: most confident first, so the caps keep the surest changes.

    `weekly_spend` is what the profile spent in its last 7 days: with a weekly ceiling set, a change that would
    raise spend is kept only while that spend plus the run's expected increase stays under the ceiling."""
    if suggestions.empty:
        return suggestions, suggestions.assign(skip_reason=[])
    df = suggestions.sort_values(["confidence", "suggestion_key"], ascending=[False, True]).copy()
    reason = pd.Series("", index=df.index, dtype=object)
    excluded = set(g.excluded_campaigns)
    cur = pd.to_numeric(df["current_value"], errors="coerce")
    new = pd.to_numeric(df["proposed_value"], errors="coerce")
    dest = df["dest_campaign_id"] if "dest_campaign_id" in df.columns else pd.Series(None, index=df.index)
    checks = [
        (df["campaign_id"].astype(str).isin(excluded) | dest.astype(str).isin(excluded), "campaign excluded"),
        (df["confidence"].fillna(0) < g.min_confidence, "confidence under the autopilot's minimum"),
        (df["type"].isin(["bid", "negative", "harvest"]) & (df["clicks"].fillna(0) < g.min_clicks), "too little data"),
        ((df["type"] == "bid") & ((new / cur - 1).abs() > g.max_bid_change + 1e-9), "bid change above the limit"),
        (df["type"].isin(["bid", "harvest"]) & (new > g.max_bid + 1e-9), "bid above the max bid"),
    ]
    for mask, why in checks:
        reason[mask & (reason == "")] = why
    spend_day = pd.to_numeric(df["expected_spend_change"], errors="coerce").fillna(0).clip(lower=0) / 7.0
    total, n = 0.0, 0
    for i in df.index:
        if reason[i]:
            continue
        if total + spend_day[i] > g.max_daily_spend_increase + 1e-9:
            reason[i] = "daily spend increase limit reached"
            continue
        if (
            g.weekly_spend_ceiling > 0
            and spend_day[i] > 0
            and weekly_spend + (total + spend_day[i]) * 7 > g.weekly_spend_ceiling + 1e-9
        ):
            reason[i] = "weekly spend ceiling reached"
            continue
        if n >= g.max_changes:
            reason[i] = "changes per run limit reached"
            continue
        total += spend_day[i]
        n += 1
    return df[reason == ""], df[reason != ""].assign(skip_reason=reason[reason != ""])


def last_week_spend(db: Database, profile_id: str) -> float:
    """The profile's spend over its last 7 synced days (what the weekly spend ceiling is measured against)."""
    row = db.conn.execute(
        "SELECT coalesce(sum(cost), 0) FROM campaign_day WHERE profile_id = ? AND date > "
        "(SELECT date(max(date), '-7 days') FROM campaign_day WHERE profile_id = ?)",
        [str(profile_id), str(profile_id)],
    ).fetchone()
    return float(row[0] or 0.0)


@dataclass
class RunReport:
    run_id: str
    status: str
    suggested: int = 0
    kept: int = 0
    applied: int = 0
    failed: int = 0
    skipped: dict = field(default_factory=dict)
    reconciled: int = 0

    def line(self) -> str:
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items())) or "none"
        return (
            f"autopilot run {self.run_id}: {self.status}; {self.suggested} suggested, {self.kept} within the "
            f"guardrails, {self.applied} applied, {self.failed} failed; skipped: {skipped}"
            + (f"; reconciled {self.reconciled} changes of an interrupted run" if self.reconciled else "")
        )


def _mark_interrupted(db: Database, account_id: str, profile_id: str) -> int:
    """Runs left `running` by a process that is gone: they were killed midway."""
    from services.optimizer.journal import _pid_alive

    rows = db.conn.execute(
        "SELECT run_id, pid FROM autopilot_runs WHERE account_id = ? AND profile_id = ? AND status = 'running'",
        [account_id, str(profile_id)],
    ).fetchall()
    dead = [r for r, pid in rows if pid != os.getpid() and not _pid_alive(pid)]
    with write(db):
        for run_id in dead:
            db.conn.execute(
                "UPDATE autopilot_runs SET status = 'interrupted', finished_at = ?, message = ? WHERE run_id = ?",
                [_now(), "ended midway; its changes were reconciled with Amazon by the next run", run_id],
            )
    return len(dead)


def run(
    db: Database,
    client,
    account_id: str,
    profile_id: str,
    *,
    guardrails: Guardrails | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    as_of=None,
) -> RunReport:
    """One autopilot run on one profile's synced data (the CLI syncs first)."""
    ensure_schema(db)
    pid = str(profile_id)
    g = guardrails or get_guardrails(db, account_id)
    run_id = uuid.uuid4().hex[:12]
    report = RunReport(run_id, "dry-run" if dry_run else "running")
    if not dry_run:  # a dry run changes nothing, not even the journal
        rec = reconcile_profile(db, client, account_id, pid, now=now)
        report.reconciled = rec.applied + rec.not_applied
        _mark_interrupted(db, account_id, pid)
    with write(db):
        db.conn.execute(
            "INSERT INTO autopilot_runs (run_id, account_id, profile_id, started_at, status, dry_run, pid) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [run_id, account_id, pid, _now(), report.status, int(dry_run), os.getpid()],
        )
    book = get_settings_book(db, account_id)
    inp = load_input(db, pid, as_of=as_of, settings=book.account, account_id=account_id)
    inp.bid_recommendations = fetch_bid_recommendations(client, inp)
    found = optimize(inp, book)
    kept, skipped = apply_guardrails(found, g, weekly_spend=last_week_spend(db, pid))
    report.suggested, report.kept = len(found), len(kept)
    report.skipped = {str(k): int(v) for k, v in skipped["skip_reason"].value_counts().items()} if len(skipped) else {}
    plan = kept[["type", "entity_id", "campaign_id", "keyword_text", "current_value", "proposed_value", "reason"]]
    if not dry_run:
        save_suggestions(db, account_id, found, run_id=run_id)
        ids = [
            r[0]
            for r in db.conn.execute(
                "SELECT suggestion_id, suggestion_key FROM suggestions WHERE run_id = ? AND status = 'pending'",
                [run_id],
            ).fetchall()
            if r[1] in set(kept["suggestion_key"])
        ]
        approve(db, ids)
        result = apply_approved(db, client, account_id, pid, confirmed=True, ids=ids, now=now)
        report.applied, report.failed = result.succeeded, result.failed
        report.status = "done"
    with write(db):
        db.conn.execute(
            "UPDATE autopilot_runs SET status = ?, finished_at = ?, suggested = ?, kept = ?, applied = ?, failed = ?, "
            "plan = ?, message = ?, skipped = ? WHERE run_id = ?",
            [
                report.status,
                _now(),
                report.suggested,
                report.kept,
                report.applied,
                report.failed,
                plan.to_json(orient="records"),
                report.line(),
                json.dumps(report.skipped),
                run_id,
            ],
        )
    return report


def runs(db: Database, account_id: str, profile_id: str | None = None) -> pd.DataFrame:
    """The autopilot's runs, newest first (for the app's history)."""
    ensure_schema(db)
    sql, params = "SELECT * FROM autopilot_runs WHERE account_id = ?", [account_id]
    if profile_id is not None:
        sql, params = sql + " AND profile_id = ?", [*params, str(profile_id)]
    cur = db.conn.execute(sql + " ORDER BY started_at DESC, run_id", params)
    return pd.DataFrame(cur.fetchall(), columns=[c[0] for c in cur.description])


def run_changes(db: Database, account_id: str, run_id: str) -> pd.DataFrame:
    """What one run changed: its live (not undone) change-history rows."""
    h = change_history(db, account_id, only_ok=True)
    ids = {r[0] for r in db.conn.execute("SELECT suggestion_id FROM suggestions WHERE run_id = ?", [run_id])}
    return h[h["suggestion_id"].isin(ids) & h["undo_of"].isna() & h["undone_at"].isna()]


def undo_run(db: Database, client, account_id: str, run_id: str, *, now: datetime | None = None) -> ApplyReport:
    """Undo every change of one run (one click in the app)."""
    ensure_schema(db)
    changes = run_changes(db, account_id, run_id)
    report = undo(db, client, list(changes["change_id"]), confirmed=True, now=now)
    with write(db):
        db.conn.execute(
            "UPDATE autopilot_runs SET status = 'undone', message = ? WHERE run_id = ?",
            [f"{report.succeeded} of {len(changes)} changes undone", run_id],
        )
    return report


def _sync(db_path: str, account_name: str, profiles: list[str]) -> int:
    """The sync CLI in its own process: `sync` is a sibling package the optimizer must not import, and a sync is
    a separate step in any case. Reading Amazon's reports changes nothing on Amazon, so a dry run syncs too."""
    import subprocess

    cmd = [sys.executable, "-m", "services.sync", "--db", db_path, "--account", account_name]
    for pid in profiles:
        cmd += ["--profile", str(pid)]
    return subprocess.run(cmd, check=False).returncode


def main(argv: list[str] | None = None, prog: str = "python -m services.optimizer.autopilot") -> int:
    """`python -m services.optimizer.autopilot`: exit 0 when the run finished, 1 when changes failed, 2 on bad input."""
    from pathlib import Path

    from services.accounts import registry as accounts
    from services.optimizer.actions import client_for_profile
    from services.secrets.logsafe import install_redaction
    from services.secrets.vault import SECRETS_TOML, Vault, VaultError, keys_from_secrets_toml
    from services.store import open_db

    install_redaction()
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True, help="path of the SQLite database")
    ap.add_argument("--account", required=True, help="account id or name")
    ap.add_argument("--profile", action="append", help="profile id (repeatable; default: every profile synced)")
    ap.add_argument("--dry-run", action="store_true", help="write what it would do; change nothing")
    ap.add_argument("--no-sync", action="store_true", help="use the data already in the store")
    ap.add_argument("--undo", metavar="RUN_ID", help="undo every change of one run")
    args = ap.parse_args(argv)
    if not Path(args.db).is_file():
        print(f"No database file at {args.db}.", file=sys.stderr)
        return 2
    db = open_db(args.db)
    match = [a for a in accounts.list_accounts(db) if args.account in (a["account_id"], a["name"])]
    if not match:
        print(f"No account named {args.account!r} in {args.db}.", file=sys.stderr)
        return 2
    account_id = match[0]["account_id"]
    try:
        vault = Vault(secret_keys=keys_from_secrets_toml(SECRETS_TOML), db_path=args.db)
    except VaultError as exc:
        print(f"The stored secrets cannot be read: {exc}", file=sys.stderr)
        return 2
    if args.undo:
        ensure_schema(db)
        row = db.conn.execute(
            "SELECT profile_id FROM autopilot_runs WHERE run_id = ? AND account_id = ?", [args.undo, account_id]
        ).fetchone()
        if row is None:
            print(f"No autopilot run {args.undo!r} for this account.", file=sys.stderr)
            return 2
        rep = undo_run(db, client_for_profile(db, vault, account_id, row[0]), account_id, args.undo)
        print(f"undid {rep.succeeded} changes of run {args.undo}; {rep.failed} failed")
        return 1 if rep.failed else 0
    profiles = args.profile or [
        r[0] for r in db.conn.execute("SELECT profile_id FROM profiles WHERE account_id = ?", [account_id])
    ]
    if not args.no_sync and _sync(args.db, match[0]["name"], profiles) != 0:
        print("The sync failed, so the autopilot changed nothing this time.", file=sys.stderr)
        return 1
    failed = 0
    for pid in profiles:
        rep = run(db, client_for_profile(db, vault, account_id, pid), account_id, pid, dry_run=args.dry_run)
        print(rep.line())
        if args.dry_run:
            plan = json.loads(runs(db, account_id, pid).iloc[0]["plan"] or "[]")
            for p in plan:
                values = "" if p["proposed_value"] is None else f" {p['current_value']} -> {p['proposed_value']}"
                print(f"  would change {p['type']}: {p['keyword_text'] or p['campaign_id']}{values}")
        failed += rep.failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
