"""Sync memory and speed against a sandbox in a process of its own (not a test):

    python -m bench.ingest_bench [--scale demo|large] [--days N] [--latency S] [--profile ID] [--no-floor]

1. starts `python -m sandbox --scale S --report-latency L` on a free port and waits for it to listen;
2. runs `python -m services.sync --db TMP --sandbox-url URL [--days N]` in its own process; peak RSS of each
   process = VmHWM from /proc/<pid>/status, read by the process itself at exit for the sync (exact, nothing
   inherited from this parent) and just before it is stopped for the sandbox (its world is part of the figure); the
   sync's report worker processes are reported apart (the largest one's peak: RUSAGE_CHILDREN of the sync);
3. the floor of the same run: the sandbox's report latency plus a serial download, gunzip, `json.loads`, row
   conversion and one-transaction `executemany` of the very same reports (asked again, timed once all are ready).

Prints one JSON object. Issue 15's targets: 95-day large sync <= 1 GB RSS, sandbox <= 2 GB, demo sync (2 s
latency) <= 2x its floor.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _vm_hwm_mb(pid: int | str = "self") -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _vm_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("DASHBOARD_SECRET_KEYS", None)
    return env


def child_sync(argv: list[str]) -> int:
    """The sync CLI, then this process's own peak RSS on stderr (read here: exact for this process alone)."""
    import resource

    from services.sync.cli import main

    code = main(argv)
    print(f"VMHWM {_vm_hwm_mb()}", file=sys.stderr, flush=True)
    # the report worker processes (services.sync.ingest_pool), joined by the sync: the largest one's peak
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"WORKERS_HWM {round(workers, 1)}", file=sys.stderr, flush=True)
    return code


def _floor(url: str, db_path: Path, latency: float) -> dict:
    """Latency + serial download, gunzip, json.loads, conversion and executemany of the same reports."""
    from services import accounts
    from services.demo import demo_credentials
    from services.secrets.vault import Vault
    from services.store import open_db, write
    from services.sync import convert_report_rows, report_body

    synced = open_db(db_path)
    tasks = synced.conn.execute(
        "SELECT t.profile_id, t.report_type, t.start, t.end, p.region, p.currency_code FROM sync_tasks t "
        "JOIN profiles p USING (profile_id) WHERE t.status = 'done'"
    ).fetchall()
    with tempfile.TemporaryDirectory() as tmp:
        from cryptography.fernet import Fernet

        vault = Vault(secret_keys=Fernet.generate_key().decode())
        scratch = open_db(Path(tmp) / "floor.db")
        clients = accounts.clients_for(scratch, vault, accounts.connect_demo(scratch, vault, url, demo_credentials()))
        asked = [(t, clients.ads(t[4]).create_report(t[0], report_body(t[1], t[2], t[3]))) for t in tasks]
        ready = [(t, clients.ads(t[4]).get_report(t[0], rid)) for t, rid in asked]
        while any(r.get("status") not in ("COMPLETED", "FAILED") for _, r in ready):
            time.sleep(0.5)
            ready = [(t, clients.ads(t[4]).get_report(t[0], r["reportId"])) for t, r in ready]
        store = open_db(Path(tmp) / "target.db")
        timing = {"download": 0.0, "gunzip": 0.0, "json_loads": 0.0, "convert": 0.0, "executemany": 0.0}
        rows_total = 0
        for t, r in ready:
            if r.get("status") != "COMPLETED":
                raise SystemExit(f"a report of the floor failed: {t}")
            t0 = time.perf_counter()
            body = clients.session.get(r["url"], timeout=600).content
            t1 = time.perf_counter()
            text = gzip.decompress(body)
            t2 = time.perf_counter()
            rows = json.loads(text)
            t3 = time.perf_counter()
            cols, values = convert_report_rows(t[1], t[0], t[5], rows)
            t4 = time.perf_counter()
            sql = f"INSERT OR REPLACE INTO [{t[1]}] ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            with write(store):
                store.conn.executemany(sql, values)
            t5 = time.perf_counter()
            for k, a, b in (
                ("download", t0, t1),
                ("gunzip", t1, t2),
                ("json_loads", t2, t3),
                ("convert", t3, t4),
                ("executemany", t4, t5),
            ):
                timing[k] += b - a
            rows_total += len(values)
            body = text = rows = values = None
    work = sum(timing.values())
    return {
        "floor_s": round(latency + work, 2),
        "floor_parts_s": {k: round(v, 2) for k, v in timing.items()},
        "floor_rows": rows_total,
        "reports": len(tasks),
    }


def _keep_store(db_path: Path, out: dict) -> None:
    """The synced store stays for the page bench (`bench.page_bench.run(store=DIR)`): its account, US profile,
    the vault's key file and the optimizer run once on it (bench-store.json)."""
    from bench.page_bench import describe_store
    from services.secrets.vault import key_file_for
    from services.store import open_db

    db = open_db(db_path)
    account_id, profile_id = db.conn.execute(
        "SELECT account_id, profile_id FROM profiles ORDER BY country_code = 'US' DESC, profile_id LIMIT 1"
    ).fetchone()
    out["kept_store"] = describe_store(
        db_path.parent,
        db,
        account_id,
        str(profile_id),
        key_file_for(db_path).read_text().strip(),
        scale=out["scale"],
        days_requested=out["days"],
        world_build_s=out.get("sandbox_start_s"),
        sandbox_peak_rss_mb=out.get("sandbox_peak_rss_mb"),
        sync_s=out["sync_wall_s"],
        sync_status=out["sync_status"],
        sync_reports=out.get("sync_reports"),
        sync_rows=out.get("sync_rows"),
    )
    out["kept_store"] = {k: v for k, v in out["kept_store"].items() if k != "key"}


def run(
    scale: str, days: int | None, latency: float, profile: str | None, floor: bool, keep: str | None = None
) -> dict:
    """`keep`: sync into DIR/dashboard.db and keep it (with bench-store.json) for the page bench."""
    port = _free_port()
    t_start = time.monotonic()
    url = f"http://127.0.0.1:{port}"
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--scale", scale, "--port", str(port), "--report-latency", str(latency)],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    out: dict = {"scale": scale, "days": days or 95, "latency_s": latency}
    try:
        line = sandbox.stdout.readline()
        if "listening" not in line:
            raise SystemExit(f"the sandbox did not start: {line!r}")
        out["sandbox_start_s"] = round(time.monotonic() - t_start, 1)
        out["sandbox_rss_before_sync_mb"] = _vm_rss_mb(sandbox.pid)
        with tempfile.TemporaryDirectory() as tmp:
            if keep:
                Path(keep).mkdir(parents=True, exist_ok=True)
            db = Path(keep) / "dashboard.db" if keep else Path(tmp) / "bench.db"
            argv = ["--db", str(db), "--sandbox-url", url] + (["--days", str(days)] if days else [])
            argv += ["--profile", profile] if profile else []
            t0 = time.monotonic()
            sync = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    f"import sys; from bench.ingest_bench import child_sync; sys.exit(child_sync({argv!r}))",
                ],
                cwd=ROOT,
                env=_env(),
                capture_output=True,
                text=True,
            )
            out["sync_wall_s"] = round(time.monotonic() - t0, 2)
            out["sandbox_peak_rss_mb"] = _vm_hwm_mb(sandbox.pid)
            summary = next((json.loads(x) for x in sync.stdout.splitlines() if x.startswith("{")), {})
            out["sync_status"] = summary.get("status") or f"exit {sync.returncode}"
            out["sync_rows"] = summary.get("rows")
            out["sync_reports"] = summary.get("reports")
            hwm = [x for x in sync.stderr.splitlines() if x.startswith("VMHWM ")]
            out["sync_peak_rss_mb"] = float(hwm[-1].split()[1]) if hwm else None
            workers = [x for x in sync.stderr.splitlines() if x.startswith("WORKERS_HWM ")]
            out["sync_worker_peak_rss_mb"] = float(workers[-1].split()[1]) if workers else None  # each, at most
            print(json.dumps(out), file=sys.stderr, flush=True)  # the sync's figures, before the floor's wait
            if floor and out["sync_status"] in ("ok", "partial"):
                out.update(_floor(url, db, latency))
                out["ratio_to_floor"] = round(out["sync_wall_s"] / out["floor_s"], 2)
            if keep and out["sync_status"] in ("ok", "partial"):
                _keep_store(db, out)
    finally:
        sandbox.terminate()
        try:
            sandbox.wait(timeout=30)
        except subprocess.TimeoutExpired:
            sandbox.kill()
            sandbox.wait()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.ingest_bench", description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=("demo", "large"), default="demo")
    ap.add_argument("--days", type=int, default=None, help="days to sync (default 95)")
    ap.add_argument("--latency", type=float, default=2.0, help="the sandbox's report latency in seconds")
    ap.add_argument("--profile", default=None, help="sync only this profile id")
    ap.add_argument("--no-floor", action="store_true", help="skip the floor (it asks for every report again)")
    ap.add_argument("--keep", default=None, help="sync into DIR and keep the store for bench.page_bench --store DIR")
    a = ap.parse_args(argv)
    print(json.dumps(run(a.scale, a.days, a.latency, a.profile, not a.no_floor, a.keep), indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
