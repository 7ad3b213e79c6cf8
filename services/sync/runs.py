"""Run bookkeeping: the summary a sync returns, resuming a killed run, and the report slots that bound memory."""

from __future__ import annotations

import json
import os
import socket
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

# run bookkeeping


@dataclass
class SyncSummary:
    run_id: str
    account_id: str
    status: str = "running"  # ok | partial | reconnect_needed | failed
    resumed: bool = False
    profiles: int = 0
    reports: int = 0  # reports written by this invocation
    reports_skipped: int = 0  # already done by the interrupted run this one resumed
    job_retries: int = 0  # whole jobs done again (FAILED report, dead link, expired token…)
    rows: int = 0
    entity_rows: int = 0
    coupons: int = 0
    deals: int = 0
    seconds: float = 0.0
    retries: int = 0
    requests: int = 0
    throttled: int = 0
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    sales_days: int = 0  # profile-days of total sales and traffic stored (services/sync/sales.py)
    product_names: int = 0  # product names fetched from the catalogue
    notes: list[str] = field(default_factory=list)  # sentences for the user that are not failures (a missing role)
    date_ranges: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        return (
            f"sync {self.status}: {self.reports} reports ({self.reports_skipped} resumed), {self.rows} rows, "
            f"{self.entity_rows} entities, {self.coupons} coupons, {self.deals} deals, {self.seconds:.1f} s, "
            f"{self.retries} retries, {self.failures} failures"
        )


_active_runs: set[str] = set()
_active_lock = threading.Lock()
_OWNER = f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _resumable_run(db, account_id: str, params: dict) -> str | None:
    """The account's latest unfinished run, when nobody is running it any more and it asked for the same thing."""
    row = db.conn.execute(
        "SELECT run_id, params, status FROM sync_runs WHERE account_id = ? ORDER BY started_at DESC, rowid DESC LIMIT 1",
        [account_id],
    ).fetchone()
    if not row or row[2] != "running":
        return None
    run_id, p = row[0], json.loads(row[1] or "{}")
    if {k: p.get(k) for k in ("profile_ids", "days")} != {k: params.get(k) for k in ("profile_ids", "days")}:
        return None
    owner = str(p.get("owner", ""))
    host, _, pid = owner.rpartition(":")
    with _active_lock:
        if run_id in _active_runs:
            return None
    if host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid() and _pid_alive(int(pid)):
        return None  # another live process is running it
    return run_id


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# ---------------------------------------------------------------------------------------------
# the sync


class _Stop(Exception):
    pass


class _ReportSlots:
    """At most `n` reports being downloaded and written at once; polling needs no slot.

    Each report is streamed into the store by the worker holding its slot, so a slot bounds memory to one chunk of
    rows. Without a bound, finished reports piled up as Python objects faster than SQLite took them: a 95-day sync
    of the large world once reached 14 GB.
    """

    def __init__(self, n: int, stop: threading.Event):
        self._sem, self._stop = threading.Semaphore(n), stop

    def __enter__(self) -> None:
        while not self._sem.acquire(timeout=0.25):
            if self._stop.is_set():
                raise _Stop()

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._sem.release()
        return False


def _sandbox_today(url: str, session) -> date | None:
    try:
        r = session.get(url.rstrip("/") + "/_sandbox/state", timeout=5)
        if r.ok:
            return date.fromisoformat(r.json()["today"])
    except Exception:  # noqa: BLE001 - fall back to the clock
        return None
    return None


def _profile_today(tz: str | None, now: datetime) -> date:
    try:
        from zoneinfo import ZoneInfo

        return now.astimezone(ZoneInfo(tz)).date() if tz else now.date()
    except Exception:  # noqa: BLE001
        return now.date()
