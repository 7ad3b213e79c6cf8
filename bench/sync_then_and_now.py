"""The 95-day large sync before streaming and today, back to back on the same machine.

    python -m bench.sync_then_and_now [--before COMMIT] [--days N] [--latency S] [--order before,now]

Issue 15 asks that streaming costs no wall time against the sync it replaced, "measured in one run": a machine's
speed drifts through a day (its plain `executemany` ran 2.5x apart on two days), so figures taken on different
days do not compare. This runs both in one sitting:

1. **before**: the code at `--before` (default: the last commit before the streaming ingest merged), checked out
   from this repository's own history into a temporary `git worktree`. Its sandbox and its sync each run in a
   process of their own, driven the way its CLI did (connect the demo seller, `sync_account` for `--days`).
2. **now**: `bench.ingest_bench.run`, exactly what `make bench` measures.

Each prints its wall time and the peak RSS of its sync and sandbox. It takes about 15 minutes and 15 GB of
memory at the peak (the code before streaming needs 8-9 GB for its sync and 5-6 GB for its sandbox), which is why
it is not part of `make bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.ingest_bench import _free_port, _vm_hwm_mb
from bench.ingest_bench import run as sync_now

ROOT = Path(__file__).resolve().parents[1]
BEFORE_STREAMING = "7232187"  # main just before "Merge streaming ingest" (32534fa)

# Runs inside the old worktree: the old CLI's --sandbox path, pointed at a large sandbox of its own.
_OLD_DRIVER = """
import json, sys, time
from services.accounts import registry as accounts_mod
from services.demo import demo_credentials
from services.secrets.vault import Vault, keys_from_secrets_toml
from services.store import open_db
from services.sync.engine import sync_account

db_path, url, days = sys.argv[1], sys.argv[2], int(sys.argv[3])
db = open_db(db_path)
vault = Vault(secret_keys=keys_from_secrets_toml(), db_path=db_path)
account_id = accounts_mod.connect_demo(db, vault, url, demo_credentials())
t0 = time.monotonic()
summary = sync_account(db_path, account_id, vault, days=days)
wall = time.monotonic() - t0
with open("/proc/self/status") as f:
    hwm = next(float(x.split()[1]) / 1024 for x in f if x.startswith("VmHWM:"))
print(json.dumps({"sync_wall_s": round(wall, 2), "sync_peak_rss_mb": round(hwm, 1), **summary.as_dict()}))
"""


def _env(code: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code), PYTHONUNBUFFERED="1")
    env.pop("DASHBOARD_DB", None)
    return env


def sync_before(commit: str, days: int, latency: float) -> dict:
    """The code at `commit`: its own large sandbox and its own sync, each in a process, in a temporary worktree."""
    known = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=ROOT, capture_output=True)
    if known.returncode != 0:
        raise SystemExit(
            f"Commit {commit} is not in this clone's history (a shallow clone?): run `git fetch --unshallow`, "
            "or name another commit with --before."
        )
    with tempfile.TemporaryDirectory(prefix="sync-before-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(  # git's own lines go to stderr: stdout is the JSON result
            ["git", "worktree", "add", "--detach", str(tree), commit], cwd=ROOT, check=True, stdout=sys.stderr
        )
        try:
            port = _free_port()
            cmd = [sys.executable, "-m", "sandbox", "--scale", "large", "--port", str(port)]
            cmd += ["--report-latency", str(latency)]
            t_start = time.monotonic()
            sandbox = subprocess.Popen(
                cmd, cwd=tree, env=_env(tree), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            )
            try:
                line = sandbox.stdout.readline()
                if "listening" not in line:
                    raise SystemExit(f"the sandbox at {commit} did not start: {line!r}")
                out: dict = {"commit": commit, "days": days, "latency_s": latency}
                out["sandbox_start_s"] = round(time.monotonic() - t_start, 1)
                sync = subprocess.run(
                    [sys.executable, "-c", _OLD_DRIVER, str(Path(tmp) / "before.db"), f"http://127.0.0.1:{port}"]
                    + [str(days)],
                    cwd=tree,
                    env=_env(tree),
                    capture_output=True,
                    text=True,
                )
                out["sandbox_peak_rss_mb"] = _vm_hwm_mb(sandbox.pid)
            finally:
                sandbox.terminate()
                sandbox.wait(timeout=60)
            summary = next((json.loads(x) for x in sync.stdout.splitlines() if x.startswith("{")), None)
            if summary is None:
                raise SystemExit(f"the sync at {commit} failed (exit {sync.returncode}): {sync.stderr[-2000:]}")
            out.update({k: summary.get(k) for k in ("sync_wall_s", "sync_peak_rss_mb", "status", "rows", "reports")})
            return out
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False, stdout=sys.stderr
            )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.sync_then_and_now", description=__doc__.split("\n")[0])
    ap.add_argument("--before", default=BEFORE_STREAMING, help="the commit to compare with (default: %(default)s)")
    ap.add_argument("--days", type=int, default=95, help="days to sync (default %(default)s)")
    ap.add_argument("--latency", type=float, default=2.0, help="the sandboxes' report latency in seconds")
    ap.add_argument("--keep", default=None, help="keep today's synced store in DIR (for bench.page_bench --store)")
    ap.add_argument("--order", default="before,now", help="which runs first (default %(default)s)")
    a = ap.parse_args(argv)
    runs = [x.strip() for x in a.order.split(",")]
    if sorted(runs) != ["before", "now"]:
        ap.error("--order must name before and now once each, e.g. now,before")
    results: dict = {}
    for which in runs:
        started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        if which == "before":
            results["before"] = sync_before(a.before, a.days, a.latency)
        else:
            results["now"] = sync_now("large", a.days, a.latency, None, floor=False, keep=a.keep)
        results[which]["started"] = started
        print(json.dumps({which: results[which]}), file=sys.stderr, flush=True)
    results["now_over_before"] = round(results["now"]["sync_wall_s"] / results["before"]["sync_wall_s"], 3)
    print(json.dumps(results, indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
