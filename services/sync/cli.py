"""CLI (for cron):  python -m services.sync --db PATH (--sandbox | --sandbox-url URL | --account NAME) [--profile ID …]
[--days N]"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from services.accounts import registry as accounts_mod
from services.store import open_db
from services.sync.engine import sync_account

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
    ap.add_argument("--days", type=int, default=None, help="days to backfill (max 95)")
    ap.add_argument("--poll", type=float, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--sandbox-seed", type=int, default=7, help=argparse.SUPPRESS)
    ap.add_argument("--sandbox-latency", type=float, default=1.0, help=argparse.SUPPRESS)
    ap.add_argument("--sandbox-today", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    from services.secrets.logsafe import install_redaction
    from services.secrets.vault import Vault, keys_from_secrets_toml

    install_redaction()  # cron output is a log file too: no token, secret or code in it
    db = open_db(args.db)
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
            try:  # never over an account of another authorization that happens to carry the demo's name
                account_id = accounts_mod.connect_demo(db, vault, handle.url, demo_credentials())
            except accounts_mod.SellerConflict as e:
                print(str(e), file=sys.stderr)
                return 2
        elif args.sandbox_url:  # a sandbox of its own process, e.g. `python -m sandbox --scale large --port P`
            from services.demo import demo_credentials

            account_id = accounts_mod.connect_demo(db, vault, args.sandbox_url, demo_credentials())
        else:
            acc = accounts_mod.find_account(db, args.account)
            if acc is None:
                print(f"no account named {args.account!r}", file=sys.stderr)
                return 2
            account_id = acc["account_id"]
        summary = sync_account(
            args.db,
            account_id,
            vault,
            profile_ids=args.profile,
            days=args.days,
            progress=_print_progress,
            poll=args.poll,
        )
        print(summary.line(), flush=True)
        print(json.dumps(summary.as_dict(), sort_keys=True), flush=True)
        return {"ok": 0, "partial": 1}.get(summary.status, 2)
    finally:
        if handle is not None:
            handle.stop()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
