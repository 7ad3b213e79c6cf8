"""Every benchmark, one table: python -m bench [--quick] [--seeds N ...] [--store DIR] [--no-write]

1. demo sync (2 s report latency) against the serial bound and against its floor measured in the same run,
   and insert throughput (bench.sync_bench)
2. agency sellers through the job queue against N × one seller, with the sandbox's 429s (bench.queue_bench)
3. the 95-day large sync, sandbox and sync each in a process of its own: peak RSS of both and wall time
   (bench.ingest_bench)
4. the large sandbox world synced (US profile, `--days`, default 31), then each page's cold and warm script run
   with the bare SQL it needs beside it (bench.page_bench), and the optimizer on that profile (wall and CPU)
5. peak memory of the app process on that store (bench.memory_bench)
6. the optimizer's evaluation against the sandbox's ground truth (bench.optimizer_eval): held-out seeds on both
   dates, as the 15-minute budget allows (fewer weeks, or none, when earlier steps took the time)

Prints one table (metric, value, target, met?) and writes bench/results.json. `make bench` runs this.
--quick: one held-out seed (both dates) over two weeks; for a fast look, not for the README.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
import traceback
from pathlib import Path

from bench import report

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
BUDGET_S = 15 * 60


def _step(name: str, fn, results: dict, errors: dict):
    t0 = time.perf_counter()
    print(f"[bench] {name} …", flush=True)
    try:
        out = fn()
    except Exception as exc:  # noqa: BLE001 - one failed benchmark must not hide the others
        errors[name] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
        out = None
    dt = time.perf_counter() - t0
    results.setdefault("step_seconds", {})[name] = round(dt, 1)
    print(f"[bench] {name} done in {dt:.0f} s (load {report.load()})", flush=True)
    return out


# One (seed, date), base policies: 1,700 s for eight weeks measured with two runs side by side at load 18 on 2 cores
# (of which 830 s weekly report refreshes of the three store-backed arms); about 300 s expected on an idle machine.
FULL_CASE_EST_S = 300
QUICK_CASE_EST_S = 100  # two weeks


def _optimizer_eval(seeds: list[int], quick: bool, deadline: float) -> dict:
    """(seed, date) runs one at a time (held-out seeds, both dates), eight weeks each while the 15-minute budget
    allows, else two weeks, else skipped. Only the base policies (nothing, naive, naive_raise, optimizer, oracle):
    the ten partial arms of the oracle triple a run and do not fit; `python -m bench.optimizer_eval` runs them."""
    from bench import optimizer_eval

    merged: dict = {
        "seeds": {},
        "criteria": {},
        "held_out": [],
        "weeks_by_seed": {},
        "seeds_requested": seeds,
        "dates": list(optimizer_eval.DATES),
        "seeds_skipped": [],
    }
    for s in seeds:
        for d in optimizer_eval.DATES:
            left = deadline - time.monotonic()
            if not quick and left >= FULL_CASE_EST_S:
                weeks = optimizer_eval.WEEKS
            elif left >= QUICK_CASE_EST_S:
                weeks = 2
            else:
                merged["seeds_skipped"].append(f"{s}@{d}")
                continue
            t0 = time.monotonic()
            r = optimizer_eval.run(seeds=(s,), dates=(d,), weeks=weeks, partial=False)
            merged["seeds"].update(r["seeds"])
            merged["criteria"].update(r["criteria"])
            merged["held_out"] += r["held_out"]
            for k in r["seeds"]:
                merged["weeks_by_seed"][k] = r.get("weeks")
            merged["weekly_refresh"] = r.get("weekly_refresh")
            print(f"[bench]   optimizer {s}@{d}: {weeks} weeks in {time.monotonic() - t0:.0f} s", flush=True)
    return merged


QUEUE_SELLERS = 21  # one alone (the baseline), then 20 through the queue
LARGE_SYNC_DAYS = 95
LARGE_SYNC_LATENCY_S = 2.0
SYNC_RSS_TARGET_MB = 1024
SANDBOX_RSS_TARGET_MB = 2048
# The 95-day large sync before streaming and today's, back to back on one machine (about 15 minutes and 15 GB at
# the peak, so not a step of this bench): `python -m bench.sync_then_and_now > bench/sync_then_and_now.json`.
THEN_AND_NOW = Path(__file__).resolve().parent / "sync_then_and_now.json"


def _then_and_now() -> dict | None:
    try:
        return json.loads(THEN_AND_NOW.read_text())
    except (OSError, ValueError):
        return None


def _large_sync_memory(keep: str | None) -> dict:
    """The 95-day large sync's peak RSS; its store is kept in `keep` for the page step (one large sync, not two)."""
    from bench import ingest_bench

    return ingest_bench.run("large", LARGE_SYNC_DAYS, LARGE_SYNC_LATENCY_S, None, floor=False, keep=keep)


def _queue() -> dict:
    from bench import queue_bench

    return queue_bench.run(sellers=QUEUE_SELLERS, workers=6, days=7, latency=2.0)


def rows_of(r: dict) -> list[dict]:
    rows: list[dict] = []
    add = lambda metric, value, target=None, ok=None: rows.append(  # noqa: E731
        {"metric": metric, "value": value, "target": target, "met": ok}
    )

    s = r.get("sync")
    if s:
        add("demo sync wall (s)", s["sync_wall_s"], f"{s['reports']} reports × {s['report_latency_s']:g} s latency")
        add("serial bound (s)", s["serial_bound_s"])
        add("sync / serial bound (%)", s["sync_vs_serial_pct"], "≤ 25 %", s["sync_vs_serial_pct"] <= 25)
        if s.get("floor_s") is not None:
            add("floor of the same run (s)", s["floor_s"], "latency + download, gunzip, parse, executemany")
            add("demo sync / floor (×)", s["sync_vs_floor"], "≤ 2×", s["sync_vs_floor"] <= 2)
        add("plain executemany (rows/s)", s["plain_rows_per_s"])
        add("store upsert (rows/s)", s["store_rows_per_s"])
        add("store / plain insert (%)", s["store_vs_plain_pct"], "≥ 50 %", s["store_vs_plain_pct"] >= 50)
    q = r.get("queue")
    if q:
        n = q["sellers"] - 1
        add(f"{n} sellers through the queue (s)", q["queue_wall_s"], f"{q['workers']} worker threads, {q['days']} days")
        add(f"{n} × one seller alone (s)", q["serial_bound_s"])
        add("queue / (N × one)", q["queue_over_serial"], "reported")
        add("accounts per hour (2 s reports)", q["accounts_per_hour"], "reported")
        t429 = q.get("sandbox_429") or {}
        add("429s from our own bursts", t429.get("rate_limit"), "0", t429.get("rate_limit") == 0)
    g = r.get("large_sync")
    if g:
        add(
            f"large sync, {g['days']} days, wall (s)",
            g["sync_wall_s"],
            f"reported (status {g.get('sync_status')}); {g.get('sync_reports')} reports, {g.get('sync_rows')} rows",
        )
        then_now = _then_and_now()
        if then_now:
            now, before = then_now["now"], then_now["before"]
            add(
                "large sync now / before streaming, one sitting (×)",
                then_now["now_over_before"],
                f"≤ 1: {now['sync_wall_s']:.0f} s against {before['sync_wall_s']:.0f} s at {before['commit']}, "
                f"back to back from {before['started']} ({THEN_AND_NOW.name}: python -m bench.sync_then_and_now)",
                then_now["now_over_before"] <= 1.0,
            )
        sync_mb, sb_mb = g.get("sync_peak_rss_mb"), g.get("sandbox_peak_rss_mb")
        worker_mb = g.get("sync_worker_peak_rss_mb") or 0.0
        from services.sync.ingest_pool import INGEST_PROCESSES

        # the sync is its process and its report workers: their peaks added up (an upper bound of the whole)
        whole = None if sync_mb is None else round(sync_mb + INGEST_PROCESSES * worker_mb, 1)
        add(
            "large sync, peak RSS of the sync (MB)",
            whole,
            f"≤ 1 GB (process {sync_mb} + {INGEST_PROCESSES} report workers × {worker_mb})",
            whole is not None and whole <= 1024,
        )
        add("large sync, peak RSS of the sandbox (MB)", sb_mb, "≤ 2 GB", sb_mb is not None and sb_mb <= 2048)
    p = r.get("pages")
    if p:
        w = p["world"]
        add("large world build (s)", w["world_build_s"], "sandbox --scale large")
        add(
            f"large sync, US profile, {w['days_synced']} days (s)",
            w["sync_s"],
            f"{w['sync_reports']} reports, status {w['sync_status']}",
        )
        add("large store search-term-day rows", w["rows"]["search_term_day"])
        add("large store target-day rows", w["rows"]["target_day"])
        for name, pg in p["pages"].items():
            t = pg.get("targets_s") or {"cold": 3.0, "warm": 1.0}
            add(f"{name} cold (s)", pg["cold_worst_s"], f"≤ {t['cold']:g} s", pg["cold_ok"] and not pg["exception"])
            add(f"{name} warm (s)", pg["warm_s"], f"≤ {t['warm']:g} s", pg["warm_ok"] and not pg["exception"])
            if pg.get("bare_sql_s") is not None:
                add(f"{name} bare SQL (s)", pg["bare_sql_s"], f"{pg.get('bare_sql_statements')} distinct SELECTs")
        opt_s = w["optimizer_large_s"]
        add("optimizer on the large profile, wall (s)", opt_s, f"≤ 10 s; {w['suggestions']} suggestions", opt_s <= 10)
        if w.get("optimizer_large_cpu_s") is not None:
            add("optimizer on the large profile, CPU (s)", w["optimizer_large_cpu_s"], "process_time")
    m = r.get("memory")
    if m:
        srv, apt = m.get("server", {}), m.get("apptest", {})
        add(
            "peak RSS, streamlit run + Chromium, all pages (MB)",
            srv.get("peak_rss_mb"),
            "none set; VmHWM" if srv.get("peak_rss_mb") else (srv.get("skipped") or srv.get("error")),
        )
        if apt.get("peak_rss_mb"):
            add("peak RSS, AppTest walk of all pages (MB)", apt["peak_rss_mb"], "none set; ru_maxrss")
        for name, secs in (srv.get("page_load_s") or {}).items():
            add(f"{name} in Chromium, click to rendered (s)", secs[0])
    o = r.get("optimizer_eval")
    if o and o["seeds"]:
        keys = list(o["seeds"])
        wk = o["weeks_by_seed"]
        note = ", ".join(f"{k}: {wk[k]} weeks" for k in keys) + (
            f"; {o['seeds_skipped']} skipped (15-min budget)" if o["seeds_skipped"] else ""
        )
        add("optimizer eval (seed@date) runs", len(keys), note)
        vals = lambda k: [o["seeds"][s].get(k) for s in keys]  # noqa: E731
        crit = lambda c: all(o["criteria"][s][c] for s in keys)  # noqa: E731
        mn = lambda xs: min(x for x in xs if x is not None) if any(x is not None for x in xs) else None  # noqa: E731
        add("bleeder precision (min)", mn(vals("precision")), "≥ 0.9", crit("precision>=0.9"))
        add("bleeder recall (min)", mn(vals("recall")), "≥ 0.8", crit("recall>=0.8"))
        add("bleeder recall, spend-weighted (min)", mn(vals("recall_spend_weighted")), "reported")
        add("bids toward true value (min)", mn(vals("toward_share")), "≥ 0.8", crit("toward>=0.8"))
        for arm in ("optimizer", "oracle", "naive", "naive_raise", "nothing"):
            mean = sum(o["seeds"][s]["policies"][arm]["profit"] for s in keys) / len(keys)
            add(f"closed-loop profit, {arm} (mean)", mean)
        ratio = mn(vals("optimizer_over_oracle"))
        add("optimizer / oracle (min)", ratio, "≥ 0.8 (goal 0.9)", crit("optimizer/oracle>=0.8"))
        add("optimizer profit > doing nothing", crit("profit>nothing"), "every run", crit("profit>nothing"))
        for naive in ("naive", "naive_raise"):
            c = f"profit>=1.1x {naive}"
            add(f"optimizer ≥ 1.1 × {naive}", crit(c), "every run", crit(c))
        t = [o["seeds"][s].get("timings_s", {}).get("optimize_apply") for s in keys]
        if all(x is not None for x in t):
            add("optimize + apply per week, demo profile (s)", sum(x / wk[s] for x, s in zip(t, keys)) / len(keys))
        add("optimizer eval wall (s)", r["step_seconds"].get("optimizer evaluation"))
    add(
        "total bench runtime (s)",
        r.get("total_s"),
        "≤ 900 s",
        r.get("total_s") is not None and r["total_s"] <= BUDGET_S,
    )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench")
    ap.add_argument("--quick", action="store_true", help="one optimizer seed, two weeks")
    ap.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        help="optimizer seeds (default: the held-out 101-104, both dates, as time allows)",
    )
    ap.add_argument(
        "--days",
        type=int,
        default=31,
        help="days of the large world the page step syncs when the 95-day large sync kept no store "
        "(the pages and the optimizer run on that 95-day store when it succeeded)",
    )
    ap.add_argument("--store", default=None, help="reuse a large store kept by bench.page_bench --keep DIR")
    ap.add_argument("--no-write", action="store_true", help="do not write bench/results.json")
    a = ap.parse_args()

    from bench import memory_bench, page_bench, sync_bench

    t_start = time.monotonic()
    deadline = t_start + BUDGET_S - 20
    results: dict = {"machine": report.machine(), "load_at_start": report.load(), "quick": a.quick}
    errors: dict = {}
    print(
        f"[bench] {results['machine']['nproc']} cores, {results['machine']['cpu']}, load {results['load_at_start']}",
        flush=True,
    )

    results["sync"] = _step("sync vs serial bound and floor + insert throughput", sync_bench.run, results, errors)
    results["queue"] = _step(f"{QUEUE_SELLERS - 1} sellers through the job queue", _queue, results, errors)
    store_dir = Path(a.store) if a.store else Path(tempfile.mkdtemp(prefix="bench-large-"))
    try:
        results["large_sync"] = _step(
            f"{LARGE_SYNC_DAYS}-day large sync, peak RSS",
            lambda: _large_sync_memory(None if a.store else str(store_dir)),
            results,
            errors,
        )
        reuse = a.store or ((store_dir / page_bench.META_NAME).exists() and str(store_dir))
        results["pages"] = _step(
            "page times on the large store" if reuse else "large world sync + page times",
            lambda: page_bench.run(days=a.days, keep=None if reuse else str(store_dir), store=reuse or None),
            results,
            errors,
        )
        if results["pages"]:
            results["memory"] = _step(
                "peak memory", lambda: memory_bench.run(str(store_dir), apptest=False), results, errors
            )
    finally:
        if not a.store:
            shutil.rmtree(store_dir, ignore_errors=True)

    from bench.optimizer_eval import HELD_OUT_SEEDS

    seeds = a.seeds or ([HELD_OUT_SEEDS[0]] if a.quick else list(HELD_OUT_SEEDS))
    results["optimizer_eval"] = _step(
        "optimizer evaluation", lambda: _optimizer_eval(seeds, a.quick, deadline), results, errors
    )
    results["total_s"] = round(time.monotonic() - t_start, 1)
    results["load_at_end"] = report.load()
    results["errors"] = errors or None
    results["table"] = rows_of(results)

    print()
    print(report.text_table(results["table"]))
    m = results["machine"]
    print(
        f"\n{m['nproc']} cores · {m['cpu']} · {m['memory_gb']} GB · Python {m['python']} · {m['date']} · "
        f"load {results['load_at_start']} → {results['load_at_end']}"
    )
    if errors:
        print("errors:", json.dumps(errors, indent=1))
    if not a.no_write:
        RESULTS.write_text(json.dumps(results, indent=1, default=str) + "\n")
        print(f"wrote {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
