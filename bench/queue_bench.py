"""N agency sellers through the job queue against N times one seller, measured in the same run.

`python -m bench.queue_bench [--sellers 20] [--workers 6] [--days 7] [--latency 2] [--json]`: a sandbox in its own
process with N small sellers and its documented per-profile rate (10 calls/s), one seller synced alone (the
baseline), then all N enqueued and run by one worker with `--workers` threads. Reports the queue's wall time, N x
the single sync, their ratio, accounts per hour, and the 429s the sandbox counted by cause (none may come from our
own bursts).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import requests
from cryptography.fernet import Fernet

from bench.page_bench import ExternalSandbox
from sandbox.credentials import agency_credentials
from services.accounts import add_account
from services.jobs.queue import make_queue
from services.secrets.vault import Vault
from services.store import open_db

SANDBOX_RATE = 10.0


def run(sellers: int = 20, workers: int = 6, days: int = 7, latency: float = 2.0) -> dict:
    key = Fernet.generate_key().decode()
    os.environ["DASHBOARD_SECRET_KEYS"] = key
    sb = ExternalSandbox(
        seed=5, scale="demo", latency=latency, extra=("--sellers", str(sellers), "--rate-limit", str(SANDBOX_RATE))
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "agency.db"
            db, vault = open_db(path), Vault(secret_keys=key)
            ids = []
            for k in range(1, sellers + 1):
                c = agency_credentials(k)
                ids.append(
                    add_account(
                        db,
                        vault,
                        f"Client {k:02d}",
                        "NA",
                        c["client_id"],
                        c["client_secret"],
                        c["refresh_token"],
                        backend="sandbox",
                        sandbox_url=sb.url,
                    )
                )
            queue = make_queue(path)
            consumer = queue.consumer(workers=workers)
            consumer.start()
            try:
                t0 = time.perf_counter()
                one = queue.enqueue_sync(ids[0], days=days)
                single = queue.results[one].get(blocking=True, timeout=1800)
                single_s = time.perf_counter() - t0
                # the same seller again is a refetch, not a first sync: the batch takes the other N-1 and a fresh
                # store's first one is the baseline for each
                t0 = time.perf_counter()
                jobs = [queue.enqueue_sync(aid, days=days) for aid in ids[1:]]
                outcomes = [queue.results[j].get(blocking=True, timeout=3600) for j in jobs]
                batch_s = time.perf_counter() - t0
            finally:
                consumer.stop(graceful=True)
            state = requests.get(f"{sb.url}/_sandbox/state", timeout=10).json()
    finally:
        sb.stop()
    n = sellers - 1
    return {
        "sellers": sellers,
        "workers": workers,
        "days": days,
        "report_latency_s": latency,
        "single_sync_s": round(single_s, 2),
        "single_status": single["status"],
        "queue_wall_s": round(batch_s, 2),
        "serial_bound_s": round(n * single_s, 2),
        "queue_over_serial": round(batch_s / (n * single_s), 3) if single_s else None,
        "accounts_per_hour": round(3600 * n / batch_s, 1) if batch_s else None,
        "statuses": sorted({o["status"] for o in outcomes}),
        "sandbox_429": state.get("throttled"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.queue_bench")
    ap.add_argument("--sellers", type=int, default=20)
    ap.add_argument("--workers", type=int, default=6)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--latency", type=float, default=2.0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    r = run(a.sellers, a.workers, a.days, a.latency)
    print(json.dumps(r, indent=None if a.json else 2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
