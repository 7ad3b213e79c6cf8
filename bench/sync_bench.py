"""Sync benchmark (not a test): python -m bench.sync_bench [--latency 2] [--rows 200000]

1. Full sync of the demo seller against the sandbox with a report latency of L seconds, against
   - the serial lower bound (number of reports × L: what requesting and waiting for reports one after another
     costs at best). Target: wall time ≤ 25 % of the serial bound;
   - the floor of the same run (issue 15): L + a serial download, gunzip, `json.loads`, row conversion and
     one-transaction `executemany` of the very same reports, asked again from the same sandbox once the sync is
     done (`bench.ingest_bench._floor`). Target: wall time ≤ 2 × the floor.
2. Insert throughput of the store's write path (BEGIN IMMEDIATE + DELETE window + executemany INSERT OR REPLACE
   on the natural primary key, WAL) against plain sqlite3 executemany of the same search_term_day rows into the
   same table in a fresh database. Target: ≥ 50 % of plain executemany.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.ingest_bench import _floor
from bench.page_bench import ExternalSandbox  # `python -m sandbox` in its own process: its CPU is not ours

FLOOR_RATIO_TARGET = 2.0


def _sync_bench(
    latency: float, seed: int, workdir: Path, external: bool = True, with_floor: bool = True
) -> tuple[dict, Path]:
    from cryptography.fernet import Fernet

    from sandbox import demo_credentials, start_sandbox
    from services import accounts
    from services.secrets.vault import Vault
    from services.store import open_db
    from services.sync import sync_account

    handle = (
        ExternalSandbox(seed, "demo", latency)
        if external
        else start_sandbox(port=0, seed=seed, scale="demo", report_latency=latency)
    )
    try:
        path = workdir / "bench.db"
        db = open_db(path)
        vault = Vault(secret_keys=Fernet.generate_key().decode())
        aid = accounts.connect_demo(db, vault, handle.url, demo_credentials())
        t0 = time.perf_counter()
        s = sync_account(path, aid, vault)
        wall = time.perf_counter() - t0
        floor = _floor(handle.url, path, latency) if with_floor and s.status in ("ok", "partial") else {}
    finally:
        handle.stop()
    serial = s.reports * latency
    return {
        "status": s.status,
        "reports": s.reports,
        "report_latency_s": latency,
        "rows": s.rows,
        "sync_wall_s": round(wall, 2),
        "serial_bound_s": round(serial, 2),
        "sync_vs_serial_pct": round(100 * wall / serial, 1) if serial else None,
        "sandbox": "separate process" if external else "in-process",
        "retries": s.retries,
        "failures": s.failures,
        "floor_s": floor.get("floor_s"),
        "floor_parts_s": floor.get("floor_parts_s"),
        "floor_rows": floor.get("floor_rows"),
        "sync_vs_floor": round(wall / floor["floor_s"], 2) if floor.get("floor_s") else None,
    }, path


def _rows_for_insert(src: Path, n: int) -> tuple[list[str], list[tuple], str]:
    con = sqlite3.connect(src)
    cols = [r[1] for r in con.execute("PRAGMA table_info(search_term_day)")]
    base = con.execute("SELECT * FROM search_term_day").fetchall()
    create = con.execute("SELECT sql FROM sqlite_master WHERE name = 'search_term_day'").fetchone()[0]
    con.close()
    if not base:
        raise RuntimeError("the sync wrote no search_term_day rows")
    # replicate into n rows with distinct natural keys (different profile ids) so every insert is a new row
    rows = []
    i_pid = cols.index("profile_id")
    k = 0
    while len(rows) < n:
        for r in base:
            r = list(r)
            r[i_pid] = f"{r[i_pid]}-{k}"
            rows.append(tuple(r))
            if len(rows) >= n:
                break
        k += 1
    return cols, rows, create


def _insert_bench(src: Path, n: int, workdir: Path, batch: int = 40_000) -> dict:
    from services.store import open_db, write

    cols, rows, create = _rows_for_insert(src, n)
    placeholders = ", ".join("?" * len(cols))

    # plain sqlite3: default settings, one transaction, executemany
    plain_path = workdir / "plain.db"
    con = sqlite3.connect(plain_path)
    con.execute(create)
    con.commit()
    t0 = time.perf_counter()
    for i in range(0, len(rows), batch):
        con.executemany(f"INSERT INTO search_term_day ({', '.join(cols)}) VALUES ({placeholders})", rows[i : i + batch])
    con.commit()
    plain = time.perf_counter() - t0
    con.close()

    # the store's path: one BEGIN IMMEDIATE transaction per report-sized batch (a 31-day search-term report
    # of a demo profile is ~40k rows), window delete + upsert
    ours_path = workdir / "ours.db"
    db = open_db(ours_path)
    sql = f"INSERT OR REPLACE INTO search_term_day ({', '.join(cols)}) VALUES ({placeholders})"
    t0 = time.perf_counter()
    i_pid, i_date = cols.index("profile_id"), cols.index("date")
    for i in range(0, len(rows), batch):
        chunk = rows[i : i + batch]
        with write(db):
            db.conn.execute(
                "DELETE FROM search_term_day WHERE profile_id = ? AND date BETWEEN ? AND ?",
                [chunk[0][i_pid], chunk[0][i_date], chunk[0][i_date]],
            )
            db.conn.executemany(sql, chunk)
    ours = time.perf_counter() - t0
    db.conn.close()
    return {
        "insert_rows": len(rows),
        "plain_rows_per_s": round(len(rows) / plain),
        "store_rows_per_s": round(len(rows) / ours),
        "store_vs_plain_pct": round(100 * plain / ours, 1),
    }


def run(
    latency: float = 2.0, seed: int = 7, rows: int = 200_000, external_sandbox: bool = True, floor: bool = True
) -> dict:
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as d:
        work = Path(d)
        out, path = _sync_bench(latency, seed, work, external_sandbox, floor)
        out.update(_insert_bench(path, rows, work))
    out["targets_met"] = bool(
        out["sync_vs_serial_pct"] is not None
        and out["sync_vs_serial_pct"] <= 25
        and out["store_vs_plain_pct"] >= 50
        and (not floor or (out["sync_vs_floor"] is not None and out["sync_vs_floor"] <= FLOOR_RATIO_TARGET))
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.sync_bench")
    ap.add_argument("--latency", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--in-process", action="store_true", help="embed the sandbox (as the demo mode does)")
    ap.add_argument("--no-floor", action="store_true", help="skip the floor (it asks for every report again)")
    a = ap.parse_args()
    r = run(a.latency, a.seed, a.rows, external_sandbox=not a.in_process, floor=not a.no_floor)
    print(f"{'metric':<24}{'value':>14}   target")
    print(f"{'reports':<24}{r['reports']:>14}")
    print(f"{'sandbox':<24}{r['sandbox']:>14}")
    print(f"{'sync wall (s)':<24}{r['sync_wall_s']:>14}")
    print(f"{'serial bound (s)':<24}{r['serial_bound_s']:>14}   reports × {r['report_latency_s']} s")
    print(f"{'sync / serial (%)':<24}{r['sync_vs_serial_pct']:>14}   ≤ 25")
    print(f"{'floor (s)':<24}{str(r['floor_s']):>14}   latency + download, gunzip, parse, executemany")
    print(f"{'sync / floor':<24}{str(r['sync_vs_floor']):>14}   ≤ {FLOOR_RATIO_TARGET:g}")
    print(f"{'plain executemany (r/s)':<24}{r['plain_rows_per_s']:>14}")
    print(f"{'store upsert (r/s)':<24}{r['store_rows_per_s']:>14}")
    print(f"{'store / plain (%)':<24}{r['store_vs_plain_pct']:>14}   ≥ 50")
    print(f"{'targets met':<24}{str(r['targets_met']):>14}")


if __name__ == "__main__":
    main()
