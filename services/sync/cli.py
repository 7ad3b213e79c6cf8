"""CLI (for cron):  python -m services.sync --db PATH (--sandbox | --sandbox-url URL | --account NAME) [--profile ID …]
[--days N]

Exit 0 only when the sync did what was asked. Every refusal is one line on stderr and exit 2, never a
traceback: an unknown account or profile, --days outside 1..95, a --db that is a folder, not SQLite,
read-only or written by a newer version of the dashboard (refused before anything is written).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from datetime import date
from typing import Any

from services.accounts import registry as accounts_mod
from services.errors import DashboardError
from services.store import open_db
from services.store.db import check_db_path
from services.sync.engine import sync_account
from services.sync.plan import MAX_DAYS

# ---------------------------------------------------------------------------------------------
# CLI


def _print_progress(stage: str, done: int, total: int, rows: int) -> None:
    print(f"progress {stage} {done}/{total} rows={rows}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m services.sync", description="Sync Amazon Ads data into the local store"
    )
    ap.add_argument("--db", required=True, help="path of the SQLite database")
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--sandbox", action="store_true", help="start the embedded sandbox and sync the demo seller")
    who.add_argument("--account", help="name of a connected account")
    who.add_argument("--sandbox-url", help="sync the demo seller of a sandbox already running at this URL")
    ap.add_argument("--profile", action="append", default=None, help="profile id (repeatable); default all")
    ap.add_argument("--days", type=int, default=None, help=f"days to backfill, 1 to {MAX_DAYS}")
    ap.add_argument("--poll", type=float, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--sandbox-seed", type=int, default=7, help=argparse.SUPPRESS)
    ap.add_argument("--sandbox-latency", type=float, default=1.0, help=argparse.SUPPRESS)
    ap.add_argument("--sandbox-today", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.days is not None and not 1 <= args.days <= MAX_DAYS:
        return _refuse(
            f"--days must be between 1 and {MAX_DAYS} (Amazon keeps {MAX_DAYS} days of reports); got {args.days}."
        )
    try:
        return _run(args)
    except DashboardError as exc:
        return _refuse(str(exc))
    except sqlite3.DatabaseError as exc:
        return _refuse(f"The database {args.db} cannot be used: {exc}.")
    except OSError as exc:
        return _refuse(f"The database {args.db} cannot be used: {exc.strerror or exc}.")


def _refuse(sentence: str) -> int:
    print(f"sync refused: {sentence}", file=sys.stderr, flush=True)
    return 2


def _unknown_profiles(db, account_id: str, requested: list[str] | None) -> list[str]:
    if not requested:
        return []
    known = {r[0] for r in db.conn.execute("SELECT profile_id FROM profiles WHERE account_id = ?", [account_id])}
    return sorted({str(p) for p in requested} - known)


def _run(args: argparse.Namespace) -> int:
    from services.secrets.logsafe import install_redaction
    from services.secrets.vault import Vault, keys_from_secrets_toml

    install_redaction()  # cron output is a log file too: no token, secret or code in it
    check_db_path(args.db)
    db = open_db(args.db)  # refuses a newer schema before writing anything
    vault = Vault(secret_keys=keys_from_secrets_toml(), db_path=args.db)
    handle = None
    try:
        if args.sandbox:
            from services.demo import demo_credentials, start_sandbox

            kwargs: dict[str, Any] = {
                "port": 0,
                "seed": args.sandbox_seed,
                "scale": "demo",
                "report_latency": args.sandbox_latency,
            }
            if args.sandbox_today:
                kwargs["today"] = date.fromisoformat(args.sandbox_today)
            handle = start_sandbox(**kwargs)
            # never over an account of another authorization that happens to carry the demo's name: connect_demo
            # raises SellerConflict (a DashboardError), refused in one line by main()
            account_id = accounts_mod.connect_demo(db, vault, handle.url, demo_credentials())
        elif args.sandbox_url:  # a sandbox of its own process, e.g. `python -m sandbox --scale large --port P`
            from services.demo import demo_credentials

            account_id = accounts_mod.connect_demo(db, vault, args.sandbox_url, demo_credentials())
        else:
            acc = accounts_mod.find_account(db, args.account)
            if acc is None:
                return _refuse(f"no account named {args.account!r} in {args.db}.")
            account_id = acc["account_id"]
            stored = db.conn.execute("SELECT 1 FROM profiles WHERE account_id = ? LIMIT 1", [account_id]).fetchone()
            unknown = _unknown_profiles(db, account_id, args.profile) if stored else []
            if unknown:  # known before any call: refuse without starting a sync
                return _refuse(f"account {args.account!r} has no profile {', '.join(unknown)}.")
        summary = sync_account(
            args.db,
            account_id,
            vault,
            profile_ids=args.profile,
            days=args.days,
            progress=_print_progress,
            poll=args.poll,
        )
        unknown = _unknown_profiles(db, account_id, args.profile)  # profiles just listed by Amazon
        if unknown:
            return _refuse(f"the account has no profile {', '.join(unknown)} (Amazon lists no such profile for it).")
        print(summary.line(), flush=True)
        print(json.dumps(summary.as_dict(), sort_keys=True), flush=True)
        return {"ok": 0, "partial": 1}.get(summary.status, 2)
    finally:
        if handle is not None:
            handle.stop()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
