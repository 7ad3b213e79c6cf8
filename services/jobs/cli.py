"""CLI: `python -m services.jobs worker|schedule|enqueue|status --db PATH [--queue-url redis://…]`.

- `worker`: runs the consumer (threads) until interrupted; one per machine is enough for dozens of accounts.
- `schedule`: enqueues a sync for every connected account that is due (daily unless `set-schedule` said
  otherwise), and an autopilot run for every account whose autopilot is on (Goals page, or
  `set-schedule --kind autopilot`); run it from cron every few minutes, it adds nothing when nothing is due.
- `enqueue --account NAME [--kind autopilot]`: one sync (or autopilot run) now. `status`: the latest outcomes.
- `set-schedule --account NAME --every H [--kind autopilot] [--off]`.
"""

from __future__ import annotations

import argparse
import sys

from services.accounts.registry import find_account
from services.jobs import records
from services.jobs.queue import make_queue
from services.secrets.logsafe import install_redaction
from services.store import open_db


def _account_id(db, name: str) -> str | None:
    acc = find_account(db, name)
    if acc is None:
        print(f"No account named {name!r}: see `status` for the connected accounts.", file=sys.stderr)
        return None
    return acc["account_id"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m services.jobs", description="Sync many accounts through a job queue")
    ap.add_argument("command", choices=("worker", "schedule", "enqueue", "status", "set-schedule"))
    ap.add_argument("--db", required=True, help="path of the SQLite database")
    ap.add_argument("--queue-url", default=None, help="redis://host:port/db (default: SQLite beside the database)")
    ap.add_argument("--account", default=None, help="account name (enqueue, set-schedule, status)")
    ap.add_argument("--every", type=int, default=None, help="hours between syncs (set-schedule, 1..168)")
    ap.add_argument("--workers", type=int, default=2, help="worker threads (worker)")
    ap.add_argument("--kind", choices=records.KINDS, default="sync", help="sync or autopilot (enqueue, set-schedule)")
    ap.add_argument("--off", action="store_true", help="stop the schedule, keeping its interval (set-schedule)")
    a = ap.parse_args(argv)
    install_redaction()
    try:
        queue = make_queue(a.db, a.queue_url)
        db = open_db(a.db)
    except (ValueError, OSError) as exc:
        print(f"Cannot open the queue: {exc}", file=sys.stderr)
        return 2
    if a.command == "worker":
        if not 1 <= a.workers <= 32:
            print("--workers must be between 1 and 32.", file=sys.stderr)
            return 2
        queue.consumer(a.workers).run()  # blocks; Ctrl-C / SIGINT stops it gracefully
        return 0
    if a.command == "schedule":
        jobs = queue.schedule_due_by_kind()
        print(f"{len(jobs['sync'])} sync job(s) queued." + f" {len(jobs['autopilot'])} autopilot run(s) queued.")
        return 0
    if a.command in ("enqueue", "set-schedule") and not a.account:
        print(f"`{a.command}` needs --account NAME.", file=sys.stderr)
        return 2
    aid = _account_id(db, a.account) if a.account else None
    if a.account and aid is None:
        return 2
    if a.command == "enqueue":
        print(f"queued {queue.enqueue_autopilot(aid) if a.kind == 'autopilot' else queue.enqueue_sync(aid)}")
        return 0
    if a.command == "set-schedule":
        try:
            every = a.every if a.every is not None else records.DEFAULT_EVERY_HOURS
            records.set_schedule(db, aid, every, kind=a.kind, enabled=not a.off)
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        what = "an autopilot run" if a.kind == "autopilot" else "a sync"
        print(f"{a.account}: {what} every {every} h." if not a.off else f"{a.account}: {what} no longer scheduled.")
        return 0
    for r in records.job_runs(db, aid):
        print(f"{r['enqueued_at']}  {r['account_id'][:8]}  {r['kind']}  {r['status']}  {r['error'] or ''}".rstrip())
    return 0
