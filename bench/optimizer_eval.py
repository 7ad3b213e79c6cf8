"""Evaluation of the optimizer against the sandbox's ground truth (not a test).

    python -m bench.optimizer_eval [--json] [--all | --seeds 101 102] [--dates 2026-08-15 2026-11-28]
                                   [--weeks 8 | --quick] [--no-partial] [--http-sync] [--jobs N]
                                   [--policies target_acos target_tacos]

Seeds and dates. The sandbox derives its history, seasonality and daily draws from (seed, "today"), so both are
explicit: every seed runs on every date (`--dates`, default DATES), and each (seed, date) is one entry under
`seeds`, keyed "seed@date" (e.g. "101@2026-11-28"). Seeds 1-4 (TUNING_SEEDS) are the ones thresholds and constants
were chosen on; seeds 101-104 (HELD_OUT_SEEDS) are never used for that, and are what the default run and
`make bench` report (`held_out` at the top level lists their keys). `--all` runs all eight.

Per (seed, date), one profile (the demo seller's first), real pipeline: sandbox over HTTP -> sync into a temp
store -> optimizer (which never sees the truth) -> apply through the Ads API.

(a) precision / recall of bleeder negatives against the truth (`truth_search_terms`), per (ad group, term):
    - a negative is *right* when the term never converts (planted, `is_bleeder`) or its true CVR in that ad
      group is under half (LOSS_RATIO) the ad group's true CVR (volume-weighted over its non-planted terms):
      at the default target (half the break-even ACOS) such a term runs above break-even ACOS at the bid its
      keyword pays. precision = share of suggested negatives that are right (`precision_planted_only` too).
    - recall = share of planted never-converting pairs the reports expose that were negated. Exposed: in the
      rule's 60-day window, clicks x the ad group's true CVR >= 3 (EVIDENCE_ORDERS). Excluded: ASIN terms and the
      ad group's own exact keyword. `recall_2_expected` and the older >= 10 clicks definition are reported too.
    - recall_spend_weighted = share of the planted bleeders' spend in the window (every pair with a click) that
      falls on negated pairs; loss_covered_share = share of the true expected loss of *all* money-losing pairs
      (spend - clicks x true CVR x true AOV x margin, where positive) that falls on negated pairs.
(b) toward_share: share of bid suggestions that move toward the true value bid (true AOV x true CVR x target ACOS).
(c) closed loop, WEEKS simulated weeks, each policy of `bench.eval_arms` acting weekly on its own copy of the
    world; profit = sales x margin - spend from `World.true_profit` (fully matured). The oracle and its partial
    arms are in `bench.oracle` (its docstring derives the true profit-maximising bid). Reported per entry:
    `optimizer_over_oracle`, and `lever_gap`, per lever, what it is worth to the oracle (oracle - oracle without
    it) and what the optimizer gains when the oracle does it instead (optimizer plus it - optimizer).

The seller's product margins are entered from `truth_products().margin` (user input, not latent truth); targets
default to half the break-even ACOS (`Settings.break_even_share`).

(d) goals: the `target_acos` and `target_tacos` arms (`eval_arms.GOAL_ARMS`) run the same pipeline with the account's
    strategy set to Target ACOS / Target TACoS; each reports, under `goals`, the true ACOS / TACoS of week 8 against
    its target, the relative gap and whether it is within ±15 %. `--policies` runs only the arms named (plus
    nothing else), e.g. the two goal arms on one tuning seed.

Reproducibility: suggestions are applied in a deterministic order, every arm starts from a deep copy of one
world, and each simulated day draws from an RNG seeded by (seed, profile, day), so a run is reproducible.

Weekly refreshes: the first sync is the real HTTP sync; later weeks build the same Reporting v3 rows in process
(`World.report_rows` with `sync.report_body`'s configuration) and re-list entities over HTTP (`--http-sync` uses
`sync_account`; a full HTTP re-sync takes 30-55 s a week on 2 cores).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import timedelta

import numpy as np
import pandas as pd

from bench import eval_arms, oracle
from bench.eval_arms import Arm
from services import optimizer as opt

WEEKS = 8
TUNING_SEEDS = (1, 2, 3, 4)
HELD_OUT_SEEDS = (101, 102, 103, 104)
DATES = ("2026-08-15", "2026-11-28")

# ---------------------------------------------------------------------------------------------- (a) (b)

LOSS_RATIO = 0.5  # a term converting under half its ad group's true rate loses money at the group's bid
EVIDENCE_ORDERS = 3.0  # recall counts planted bleeders on which >= 3 orders were expected (95 % chance of one)


def bleeder_scores(arm: Arm, found: pd.DataFrame, inp: opt.OptimizerInput) -> dict:
    """(a) precision / recall of the negatives against the truth. See the module docstring for the definitions."""
    truth = arm.world.truth_search_terms(arm.pid)
    truth["term"] = truth["search_term"].str.lower()
    relevant = truth[~truth["is_bleeder"]]
    w = relevant["volume"]
    ag_true = (relevant["true_cvr"] * w).groupby(relevant["ad_group_id"]).sum() / w.groupby(
        relevant["ad_group_id"]
    ).sum()
    truth["ag_true_cvr"] = truth["ad_group_id"].map(ag_true)
    truth["loses"] = truth["is_bleeder"] | (truth["true_cvr"] < LOSS_RATIO * truth["ag_true_cvr"])
    bleed = truth.groupby(["ad_group_id", "term"])["is_bleeder"].max()
    wrong_free = truth.groupby(["ad_group_id", "term"])["loses"].max()
    neg = found[found["type"] == "negative"]
    pairs = list(zip(neg["ad_group_id"].astype(str), neg["search_term"].str.lower()))
    hits = [bool(wrong_free.get(p, False)) for p in pairs]
    hits_planted = [bool(bleed.get(p, False)) for p in pairs]
    precision = float(np.mean(hits)) if hits else None
    # recall: planted bleeding (ad group, term) pairs the reports expose in the rule's window
    s = opt.Settings()
    start, end = opt.window(inp.as_of, s.search_term_lookback_days, s.settling_days)
    if inp.search_term_totals is not None and tuple(inp.totals_window or ()) == (start, end):
        st = inp.search_term_totals.copy()  # the loader's form: the same window, summed in SQL
    else:
        st = inp.search_term_day.copy()
        st["date"] = pd.to_datetime(st["date"]).dt.date
        st = st[(st["date"] >= start) & (st["date"] <= end)]
    st["term"] = st["search_term"].str.lower()
    seen = st.groupby(["ad_group_id", "term"]).agg(
        clicks=("clicks", "sum"), cost=("cost", "sum"), orders=("orders", "sum")
    )
    seen["bleeder"] = [bool(bleed.get(i, False)) for i in seen.index]
    ags = seen.index.get_level_values("ad_group_id")
    seen["expected_true"] = seen["clicks"].to_numpy() * ags.map(ag_true).to_numpy(dtype=float)
    is_asin = seen.index.get_level_values("term").str.match(opt.ASIN_RE)
    exact = opt._exact_keywords(inp)
    own_exact = np.array([i in exact for i in seen.index], dtype=bool)
    suggested = set(pairs)
    seen["found"] = [i in suggested for i in seen.index]
    scope = seen["bleeder"] & ~is_asin & ~own_exact
    visible = seen[scope & (seen["expected_true"] >= EVIDENCE_ORDERS)]
    recall = float(visible["found"].mean()) if len(visible) else None
    v2 = seen[scope & (seen["expected_true"] >= 2.0)]
    v10 = seen[seen["bleeder"] & (seen["clicks"] >= 10) & ~is_asin]
    all_b = seen[seen["bleeder"]]
    spend_recall = float(all_b.loc[all_b["found"], "cost"].sum() / all_b["cost"].sum()) if all_b["cost"].sum() else None
    loss_covered = _loss_covered(arm, truth, seen)
    return {
        "precision": precision,
        "recall": recall,
        "negatives": len(pairs),
        "bleeders_visible": int(len(visible)),
        "precision_planted_only": float(np.mean(hits_planted)) if hits_planted else None,
        "recall_2_expected": float(v2["found"].mean()) if len(v2) else None,
        "recall_10_clicks_old": float(v10["found"].mean()) if len(v10) else None,
        "recall_any_click": float(
            all_b.loc[~all_b.index.get_level_values("term").str.match(opt.ASIN_RE), "found"].mean()
        )
        if len(all_b)
        else None,
        "asin_bleeders_visible": int((seen["bleeder"] & (seen["expected_true"] >= EVIDENCE_ORDERS) & is_asin).sum()),
        "own_exact_bleeders_visible": int(
            (seen["bleeder"] & own_exact & (seen["expected_true"] >= EVIDENCE_ORDERS)).sum()
        ),
        "recall_spend_weighted": spend_recall,
        "loss_covered_share": loss_covered,
    }


def _loss_covered(arm: Arm, truth: pd.DataFrame, seen: pd.DataFrame) -> float | None:
    """Share of the true expected loss of all money-losing (ad group, term) pairs in the window that was negated."""
    tt = arm.world.truth_targets(arm.pid)[["entity_id", "aov", "margin"]]
    t = truth.merge(tt, on="entity_id", how="left")
    t["value_per_click"] = t["true_cvr"] * t["aov"] * t["margin"]
    vpc = t.groupby(["ad_group_id", "term"])["value_per_click"].mean()
    value = seen["clicks"].to_numpy() * np.array([vpc.get(i, 0.0) for i in seen.index], dtype=float)
    loss = np.clip(seen["cost"].to_numpy() - np.nan_to_num(value), 0, None)
    total = float(loss.sum())
    return float(loss[seen["found"].to_numpy()].sum() / total) if total > 0 else None


def toward_share(arm: Arm, found: pd.DataFrame) -> dict:
    truth = arm.world.truth_targets(arm.pid)[["entity_id", "true_cvr", "aov"]].rename(columns={"aov": "true_aov"})
    bids = found[found["type"] == "bid"].merge(truth, on="entity_id", how="inner")
    if bids.empty:
        return {"toward_share": None, "bid_suggestions": 0}
    true_value = bids["true_aov"] * bids["true_cvr"] * bids["target_acos"]
    want = np.sign(true_value - bids["current_value"])
    got = np.sign(bids["proposed_value"] - bids["current_value"])
    return {"toward_share": float((want == got).mean()), "bid_suggestions": int(len(bids))}


# ---------------------------------------------------------------------------------------------- (c)


def closed_loop(world, policies, workdir: str, weeks: int, http_sync: bool, template_db: str, timings: dict) -> dict:
    arms = {name: Arm(world, workdir, name, template_db) for name in policies}
    try:
        start_day = world.today
        for _week in range(weeks):
            for name, arm in arms.items():
                eval_arms.week(name, arm, timings)
            for arm in arms.values():
                arm.advance(7)
            for name, arm in arms.items():
                if eval_arms.needs_store(name):
                    timings["refresh"] = timings.get("refresh", 0) + arm.refresh(http_sync)
                    timings["refreshes"] = timings.get("refreshes", 0) + 1
        end_day = start_day + timedelta(days=7 * weeks - 1)
        out = {}
        for name, arm in arms.items():
            p = arm.world.true_profit(arm.pid, start_day, end_day)
            out[name] = {
                "profit": p["profit"],
                "sales": p["sales"],
                "spend": p["spend"],
                "acos": round(p["spend"] / p["sales"], 4) if p["sales"] else None,
                "changes_applied": arm.applied,
            }
            if name in eval_arms.GOAL_ARMS:
                out[name]["goal"] = eval_arms.goal_result(arm, end_day - timedelta(days=6), end_day)
        return out
    finally:
        for arm in arms.values():
            arm.stop()


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b and b > 0 else None


def run_case(
    seed: int,
    date: str,
    weeks: int = WEEKS,
    http_sync: bool = False,
    partial: bool = True,
    only: tuple[str, ...] | None = None,
) -> dict:
    """One (seed, date): scores of the first run, then every policy's closed loop."""
    from sandbox.world import World

    t0 = time.monotonic()
    workdir = tempfile.mkdtemp(prefix=f"opt-eval-{seed}-{date}-")
    timings: dict = {}
    try:
        world = World(seed=seed, scale="demo", today=_dt.date.fromisoformat(date))
        timings["world_build"] = time.monotonic() - t0
        base = Arm(world, workdir, "base")
        timings["initial_sync"] = base.initial_sync(60)
        eval_arms.set_margins(base)
        inp, book = base.inputs(recommendations=True)
        found = opt.optimize(inp, book)
        result: dict = {"seed": seed, "date": date, "held_out": seed in HELD_OUT_SEEDS, "profile_id": base.pid}
        result.update(bleeder_scores(base, found, inp))
        result.update(toward_share(base, found))
        result["suggestions"] = found["type"].value_counts().to_dict()
        base.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        base.stop()
        policies = only or (eval_arms.POLICIES if partial else eval_arms.BASE_POLICIES)
        pol = closed_loop(world, policies, workdir, weeks, http_sync, base.path, timings)
        result["policies"] = pol
        result["goals"] = {k: v["goal"] for k, v in pol.items() if "goal" in v}
        if "optimizer" in pol and "oracle" in pol:
            result["optimizer_over_oracle"] = _ratio(pol["optimizer"]["profit"], pol["oracle"]["profit"])
        if partial and not only:
            result["lever_gap"] = {
                lv: {
                    "worth_to_oracle": round(pol["oracle"]["profit"] - pol[f"oracle-{lv}"]["profit"], 2),
                    "optimizer_gain": round(pol[f"optimizer+{lv}"]["profit"] - pol["optimizer"]["profit"], 2),
                }
                for lv in oracle.LEVERS
            }
        result["weeks"] = weeks
        result["timings_s"] = {k: round(v, 1) if isinstance(v, float) else v for k, v in timings.items()}
        result["seconds"] = round(time.monotonic() - t0, 1)
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run_case_quiet(args) -> dict:
    import logging

    logging.disable(logging.WARNING)
    return run_case(*args)


def criteria(r: dict) -> dict:
    pol = r["policies"]
    goals = {f"{k} within ±15 %": g["within_15pct"] for k, g in r.get("goals", {}).items()}
    if not {"optimizer", "oracle", "nothing", "naive", "naive_raise"} <= set(pol):
        return goals
    opt_p = pol["optimizer"]["profit"]
    ratio = r.get("optimizer_over_oracle")
    return {
        "precision>=0.9": r["precision"] is not None and r["precision"] >= 0.9,
        "recall>=0.8": r["recall"] is not None and r["recall"] >= 0.8,
        "toward>=0.8": r["toward_share"] is not None and r["toward_share"] >= 0.8,
        "profit>nothing": opt_p > pol["nothing"]["profit"],
        "profit>=1.1x naive": opt_p >= 1.1 * pol["naive"]["profit"],
        "profit>=1.1x naive_raise": opt_p >= 1.1 * pol["naive_raise"]["profit"],
        "optimizer/oracle>=0.8": ratio is not None and ratio >= 0.8,
        **goals,
    }


def run(
    seeds=HELD_OUT_SEEDS,
    dates=DATES,
    weeks: int = WEEKS,
    http_sync: bool = False,
    partial: bool = True,
    jobs: int = 1,
    only: tuple[str, ...] | None = None,
) -> dict:
    t0 = time.monotonic()
    cases = [(int(s), str(d), weeks, http_sync, partial, only) for s in seeds for d in dates]
    if jobs > 1 and len(cases) > 1:
        # cases are independent (own worlds, own temp stores): one process each, at most `jobs` at a time
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(jobs, len(cases)), mp_context=mp.get_context("spawn")) as ex:
            results = list(ex.map(_run_case_quiet, cases))
    else:
        results = [run_case(*c) for c in cases]
    entries = {f"{r['seed']}@{r['date']}": r for r in results}
    return {
        "seeds": entries,
        "held_out": [k for k, r in entries.items() if r["held_out"]],
        "tuning": [k for k, r in entries.items() if not r["held_out"]],
        "dates": list(dates),
        "criteria": {k: criteria(r) for k, r in entries.items()},
        "weeks": weeks,
        "weekly_refresh": "http" if http_sync else "in-process reports + HTTP entity lists",
        "seconds": round(time.monotonic() - t0, 1),
    }


def _table(result: dict) -> str:
    def f(v, w=6):
        return f"{'n/a':>{w}}" if v is None else f"{v:{w}.3f}"

    lines = [
        "seed@date         held  prec  recall  rec$w  toward |  nothing    naive  naive_r  optimizer   oracle  opt/orc"
    ]
    for k, r in result["seeds"].items():
        p = r["policies"]
        for arm, g in r.get("goals", {}).items():
            kind = g["goal"]
            lines.append(
                f"{k:<17} {arm:<13} target {g['target']:.3f}  achieved {kind.upper()} {g[f'achieved_{kind}_week8']:.3f}"
                f"  gap {g['relative_gap']:+.1%}  {'within' if g['within_15pct'] else 'outside'} ±15 %"
            )
        if "oracle" not in p or "naive" not in p:
            continue
        lines.append(
            f"{k:<17} {'yes' if r['held_out'] else 'no ':>4} {f(r['precision'])} {f(r['recall'])} "
            f"{f(r['recall_spend_weighted'])} {f(r['toward_share'])} | {p['nothing']['profit']:8.0f} "
            f"{p['naive']['profit']:8.0f} {p['naive_raise']['profit']:8.0f} {p['optimizer']['profit']:10.0f} "
            f"{p['oracle']['profit']:8.0f} {f(r['optimizer_over_oracle'])}"
        )
        for lv, g in (r.get("lever_gap") or {}).items():
            lines.append(
                f"    {lv:<11} worth to oracle {g['worth_to_oracle']:9.0f}   optimizer gain {g['optimizer_gain']:9.0f}"
            )
    lines.append(f"total {result['seconds']} s; {result['weeks']} weeks; weekly refresh: {result['weekly_refresh']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help=f"default: held-out {HELD_OUT_SEEDS}")
    ap.add_argument("--all", action="store_true", help="tuning and held-out seeds (eight)")
    ap.add_argument("--dates", nargs="+", default=list(DATES), help="the sandbox's 'today' of each run")
    ap.add_argument("--weeks", type=int, default=WEEKS)
    ap.add_argument("--quick", action="store_true", help="two weeks instead of eight")
    ap.add_argument("--no-partial", action="store_true", help="skip the oracle's partial arms (ten fewer worlds)")
    ap.add_argument("--http-sync", action="store_true", help="weekly refresh through sync_account over HTTP")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="(seed, date) runs in parallel")
    ap.add_argument(
        "--policies", nargs="+", choices=eval_arms.POLICIES, default=None, help="only these arms (e.g. the goal arms)"
    )
    args = ap.parse_args(argv)
    for d in args.dates:
        _dt.date.fromisoformat(d)
    seeds = TUNING_SEEDS + HELD_OUT_SEEDS if args.all else tuple(args.seeds or HELD_OUT_SEEDS)
    import logging

    logging.disable(logging.WARNING)
    result = run(
        seeds,
        args.dates,
        weeks=2 if args.quick else args.weeks,
        http_sync=args.http_sync,
        partial=not args.no_partial,
        jobs=args.jobs,
        only=tuple(args.policies) if args.policies else None,
    )
    print(json.dumps(result, default=str) if args.json else _table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
