"""Job outcomes and per-account schedules in the store (their own migration set, like the suggestions').

Every job writes one row when it starts and updates it when it ends, so the Connect page can show what each
account's last scheduled sync did, and a worker killed mid-job leaves a visible 'running' row behind.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database, Migrations

from services.store import write

migrations = Migrations("jobs")
DEFAULT_EVERY_HOURS = 24  # Amazon restates conversions daily; one sync a day keeps a seller's data fresh
KINDS = ("sync", "autopilot")
OPT_IN_KINDS = ("autopilot",)  # scheduled only for accounts with an enabled schedule row (the seller's choice)


@migrations()
def m001_jobs(db: Database) -> None:
    db.conn.execute(
        """CREATE TABLE job_runs (
            job_id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            enqueued_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            status TEXT NOT NULL,
            summary TEXT,
            error TEXT
        )"""
    )
    db.conn.execute("CREATE INDEX idx_job_runs_account ON job_runs(account_id, enqueued_at)")
    db.conn.execute(
        """CREATE TABLE job_schedules (
            account_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            every_hours INTEGER NOT NULL,
            enabled INTEGER NOT NULL DEFAULT 1,
            next_run_at TEXT,
            PRIMARY KEY (account_id, kind)
        )"""
    )


def ensure_schema(db: Database) -> None:
    """Apply the jobs migrations when the database lacks them (checked in the database, not per connection)."""
    if migrations.pending(db):
        with write(db):
            migrations.apply(db)


def now_iso(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).isoformat(timespec="seconds")


def record_enqueued(db: Database, account_id: str, kind: str, job_id: str | None = None) -> str:
    ensure_schema(db)
    job_id = job_id or uuid.uuid4().hex
    with write(db):
        db.conn.execute(
            "INSERT OR REPLACE INTO job_runs (job_id, account_id, kind, enqueued_at, status) "
            "VALUES (?, ?, ?, ?, 'queued')",
            [job_id, account_id, kind, now_iso()],
        )
    return job_id


def record_started(db: Database, job_id: str) -> None:
    with write(db):
        db.conn.execute("UPDATE job_runs SET status = 'running', started_at = ? WHERE job_id = ?", [now_iso(), job_id])


def record_finished(
    db: Database, job_id: str, status: str, summary: dict | None = None, error: str | None = None
) -> None:
    with write(db):
        db.conn.execute(
            "UPDATE job_runs SET status = ?, finished_at = ?, summary = ?, error = ? WHERE job_id = ?",
            [status, now_iso(), json.dumps(summary) if summary is not None else None, error, job_id],
        )


def job_runs(db: Database, account_id: str | None = None, limit: int = 20) -> list[dict]:
    """The latest job outcomes, newest first (for the Connect page and the CLI)."""
    ensure_schema(db)
    where, params = ("WHERE account_id = ?", [account_id]) if account_id else ("", [])
    cur = db.conn.execute(
        f"SELECT job_id, account_id, kind, enqueued_at, started_at, finished_at, status, summary, error "
        f"FROM job_runs {where} ORDER BY enqueued_at DESC, rowid DESC LIMIT ?",
        [*params, int(limit)],
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def set_schedule(db: Database, account_id: str, every_hours: int, kind: str = "sync", enabled: bool = True) -> None:
    """Run `kind` (a sync, or the autopilot) for this account every `every_hours` hours (1..168); the next run is
    due at once. `enabled=False` keeps the interval and stops the runs."""
    if kind not in KINDS:
        raise ValueError(f"A schedule is for one of: {', '.join(KINDS)}.")
    if not 1 <= int(every_hours) <= 168:
        raise ValueError("A schedule runs every 1 to 168 hours.")
    ensure_schema(db)
    with write(db):
        db.conn.execute(
            "INSERT INTO job_schedules (account_id, kind, every_hours, enabled, next_run_at) VALUES (?, ?, ?, ?, NULL) "
            "ON CONFLICT (account_id, kind) DO UPDATE SET every_hours = excluded.every_hours, "
            "enabled = excluded.enabled",
            [account_id, kind, int(every_hours), int(enabled)],
        )


def get_schedule(db: Database, account_id: str, kind: str = "sync") -> dict | None:
    """{every_hours, enabled, next_run_at} of one account's `kind` schedule, or None when it has none."""
    ensure_schema(db)
    row = db.conn.execute(
        "SELECT every_hours, enabled, next_run_at FROM job_schedules WHERE account_id = ? AND kind = ?",
        [account_id, kind],
    ).fetchone()
    return None if row is None else {"every_hours": int(row[0]), "enabled": bool(row[1]), "next_run_at": row[2]}


def due_accounts(db: Database, now: datetime, kind: str = "sync") -> list[str]:
    """Connected accounts whose `kind` job is due: on their schedule, or (a sync) daily when they have none;
    an autopilot run only where its schedule is enabled.

    An account that needs reconnecting is left out: its authorization was refused, and retrying it every hour
    would only hammer Login with Amazon.
    """
    ensure_schema(db)
    opt_in = kind in OPT_IN_KINDS  # the autopilot runs only where the seller turned it on
    rows = db.conn.execute(
        "SELECT a.account_id, s.enabled, s.next_run_at FROM accounts a "
        "LEFT JOIN job_schedules s ON s.account_id = a.account_id AND s.kind = ? "
        "WHERE a.status != 'reconnect_needed' ORDER BY a.created_at, a.account_id",
        [kind],
    ).fetchall()
    stamp = now_iso(now)
    return [
        aid
        for aid, enabled, nxt in rows
        if (enabled if opt_in else (enabled is None or enabled)) and (nxt is None or nxt <= stamp)
    ]


def mark_scheduled(db: Database, account_ids: list[str], now: datetime, kind: str = "sync") -> None:
    """Move each account's next run one interval on, so a second `schedule` call in the same hour adds nothing."""
    with write(db):
        for aid in account_ids:
            row = db.conn.execute(
                "SELECT every_hours FROM job_schedules WHERE account_id = ? AND kind = ?", [aid, kind]
            ).fetchone()
            every = int(row[0]) if row else DEFAULT_EVERY_HOURS
            nxt = now_iso(now + timedelta(hours=every))
            db.conn.execute(
                "INSERT INTO job_schedules (account_id, kind, every_hours, enabled, next_run_at) VALUES (?, ?, ?, 1, ?) "
                "ON CONFLICT (account_id, kind) DO UPDATE SET next_run_at = excluded.next_run_at",
                [aid, kind, every, nxt],
            )
