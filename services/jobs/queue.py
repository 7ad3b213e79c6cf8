"""The job queue: one Huey instance per store, SQLite storage beside the database or Redis, and the job code
(a sync of one account; an autopilot run of one account: sync, then `services.optimizer.autopilot` per profile).

The job code is the same on both storages; only the instance differs. A job carries the database path and the
account id, never a token: the worker decrypts the refresh token itself, at the moment of use, with the keys it
is configured with (environment, secrets.toml or the key file beside the database), like `python -m services.sync`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from services.amazon.http import RetryPolicy
from services.errors import DashboardError
from services.jobs import records
from services.optimizer import autopilot
from services.optimizer.actions import client_for_profile
from services.secrets.logsafe import redact
from services.secrets.vault import Vault, keys_from_secrets_toml
from services.store import open_db
from services.sync import sync_account

QUEUE_URL_ENV = "DASHBOARD_QUEUE_URL"  # redis://host:port/db when the queue moves off this machine
# A worker syncs many accounts at once: each profile's calls are spaced to this many a second (see
# services.amazon.throttle), so the queue's own bursts never cause Amazon's 429s. DASHBOARD_PROFILE_RATE overrides.
DEFAULT_PROFILE_RATE = 5.0
log = logging.getLogger(__name__)


def queue_file(db_path: str | Path) -> Path:
    """The SQLite queue beside the database: `data/dashboard.db` -> `data/dashboard.db.jobs`."""
    return Path(f"{db_path}.jobs")


def run_sync_job(
    db_path: str, account_id: str, job_id: str, days: int | None = None, rate: float | None = DEFAULT_PROFILE_RATE
) -> dict:
    """Sync one account and record the outcome. Never raises: one account failing must not stop the others,
    and the reason is kept (as a sentence, redacted) for the Connect page."""
    db = open_db(db_path)
    records.ensure_schema(db)
    records.record_started(db, job_id)
    try:
        vault = Vault(secret_keys=keys_from_secrets_toml(), db_path=db_path)
        summary = sync_account(db_path, account_id, vault, days=days, policy=RetryPolicy(per_profile_rate=rate))
    except (DashboardError, OSError, LookupError, ValueError) as exc:
        error = redact(str(exc)) or type(exc).__name__
        records.record_finished(db, job_id, "failed", error=error)
        log.warning("sync job %s for account %s failed: %s", job_id, account_id, error)
        return {"job_id": job_id, "account_id": account_id, "status": "failed", "error": error}
    error = redact("; ".join(summary.errors[:3])) if summary.errors else None
    records.record_finished(db, job_id, summary.status, summary.as_dict(), error)
    return {"job_id": job_id, "account_id": account_id, "status": summary.status, "rows": summary.rows}


def run_autopilot_job(
    db_path: str,
    account_id: str,
    job_id: str,
    days: int | None = None,
    rate: float | None = DEFAULT_PROFILE_RATE,
    dry_run: bool = False,
) -> dict:
    """Sync one account, then one autopilot run per profile within the guardrails set on Goals; record the outcome.

    Like the CLI, nothing is applied unless the sync finished cleanly: suggestions from half a sync would act on
    missing days. Never raises (one account failing must not stop the others); the reason is kept, redacted."""
    db = open_db(db_path)
    records.ensure_schema(db)
    records.record_started(db, job_id)
    try:
        vault = Vault(secret_keys=keys_from_secrets_toml(), db_path=db_path)
        synced = sync_account(db_path, account_id, vault, days=days, policy=RetryPolicy(per_profile_rate=rate))
        if synced.status != "ok":
            error = redact("; ".join(synced.errors[:3])) if synced.errors else None
            status = "reconnect_needed" if synced.status == "reconnect_needed" else "skipped"
            why = "The sync did not finish cleanly, so the autopilot changed nothing this time."
            records.record_finished(db, job_id, status, {"sync": synced.status}, f"{why} {error or ''}".strip())
            return {"job_id": job_id, "account_id": account_id, "status": status}
        profiles = [r[0] for r in db.conn.execute("SELECT profile_id FROM profiles WHERE account_id = ?", [account_id])]
        runs = []
        for pid in profiles:
            client = client_for_profile(db, vault, account_id, pid)
            runs.append(autopilot.run(db, client, account_id, pid, dry_run=dry_run))
    except (DashboardError, OSError, LookupError, ValueError) as exc:
        error = redact(str(exc)) or type(exc).__name__
        records.record_finished(db, job_id, "failed", error=error)
        log.warning("autopilot job %s for account %s failed: %s", job_id, account_id, error)
        return {"job_id": job_id, "account_id": account_id, "status": "failed", "error": error}
    summary = {
        "dry_run": dry_run,
        "runs": [{"run_id": r.run_id, "status": r.status, "applied": r.applied, "failed": r.failed,
                  "kept": r.kept, "suggested": r.suggested, "skipped": r.skipped} for r in runs],
    }  # fmt: skip
    status = "partial" if any(r.failed for r in runs) else "ok"
    records.record_finished(db, job_id, status, summary)
    return {"job_id": job_id, "account_id": account_id, "status": status, "runs": summary["runs"]}


@dataclass
class JobQueue:
    """A store's queue: `enqueue_sync` from anywhere, `consumer()` in the worker."""

    db_path: str
    huey: Huey
    rate: float | None = DEFAULT_PROFILE_RATE

    def __post_init__(self) -> None:
        # registered by name, so a worker started from the same code finds the job whatever process enqueued it
        self._sync = self.huey.task(name="sync_account")(run_sync_job)
        self._autopilot = self.huey.task(name="autopilot_run")(run_autopilot_job)
        self.results: dict = {}  # job id -> Huey result handle, for callers that wait (tests, one-off runs)

    def enqueue_sync(self, account_id: str, days: int | None = None) -> str:
        """Queue a sync of one account; the outcome row exists at once (status 'queued')."""
        job_id = records.record_enqueued(open_db(self.db_path), account_id, "sync")
        self.results[job_id] = self._sync(self.db_path, account_id, job_id, days, self.rate)
        return job_id

    def enqueue_autopilot(self, account_id: str, days: int | None = None, dry_run: bool = False) -> str:
        """Queue an autopilot run of one account (sync first, then apply within its guardrails)."""
        job_id = records.record_enqueued(open_db(self.db_path), account_id, "autopilot")
        self.results[job_id] = self._autopilot(self.db_path, account_id, job_id, days, self.rate, dry_run)
        return job_id

    def schedule_due(self, now: datetime | None = None) -> list[str]:
        """Enqueue what is due and move each next run on: a sync for every connected account on its schedule, and
        an autopilot run for every account whose seller turned the autopilot on. Returns job ids."""
        return [jid for ids in self.schedule_due_by_kind(now).values() for jid in ids]

    def schedule_due_by_kind(self, now: datetime | None = None) -> dict[str, list[str]]:
        now = now or datetime.now(UTC)
        db = open_db(self.db_path)
        out: dict[str, list[str]] = {}
        for kind, enqueue in (("sync", self.enqueue_sync), ("autopilot", self.enqueue_autopilot)):
            due = records.due_accounts(db, now, kind)
            records.mark_scheduled(db, due, now, kind)
            out[kind] = [enqueue(aid) for aid in due]
        return out

    def consumer(self, workers: int = 2) -> Consumer:
        """Threads, not processes: each job is mostly waiting on Amazon, and the sync writes from one thread."""
        return self.huey.create_consumer(workers=workers, worker_type="thread", periodic=False)

    def pending(self) -> int:
        return self.huey.pending_count()


def make_queue(db_path: str | Path, url: str | None = None) -> JobQueue:
    """SQLite storage beside the database unless `url` (or DASHBOARD_QUEUE_URL) names a Redis server."""
    url = url or os.environ.get(QUEUE_URL_ENV) or None
    if url:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("The queue URL must start with redis://, rediss:// or unix://.")
        huey: Huey = RedisHuey("dashboard", url=url)
    else:
        huey = SqliteHuey("dashboard", filename=str(queue_file(db_path)))
    rate = float(os.environ.get("DASHBOARD_PROFILE_RATE") or DEFAULT_PROFILE_RATE)
    return JobQueue(str(db_path), huey, rate if rate > 0 else None)
