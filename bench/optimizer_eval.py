"""Evaluation of the optimizer against the sandbox's ground truth (not a test).

    python -m bench.optimizer_eval [--json] [--seeds 1 2 3 4] [--quick] [--http-sync]

Per seed, one profile (the demo seller's first), real pipeline: sandbox over HTTP -> sync into a temp
store -> optimizer (which never sees the truth) -> apply through the Ads API.

(a) precision / recall of bleeder negatives against the truth (`truth_search_terms`), per (ad group, term):
    - a negative is *right* when the term never converts (planted, `is_bleeder`) or its true CVR in that ad
      group is under half (LOSS_RATIO) the ad group's true CVR (volume-weighted over its non-planted terms).
      Why the second half: at the default target (half the break-even ACOS) such a term runs above
      break-even ACOS at the bid its keyword pays, i.e. every click loses money, and only a negative (not the
      bid, which all of the target's terms share) can stop it. precision = share of suggested negatives that
      are right. `precision_planted_only` (never-converting terms only) is reported too.
    - recall = share of planted never-converting pairs the reports expose that were negated. Exposed: in the
      rule's 60-day window, clicks x the ad group's true CVR >= 3 (EVIDENCE_ORDERS: a relevant term of that
      ad group would have converted with 95 % probability; at 2 it is 86 %, and with thousands of relevant
      terms the unlucky ones then outnumber the bleeders). Excluded: ASIN terms (product-page traffic of PT;
      reported separately) and the ad group's own exact keyword (a keyword is not negated against itself; its
      bid rule handles it). `recall_2_expected` and the previous definition (>= 10 clicks) are reported too.
(b) share of bid suggestions that move toward the true value bid (true AOV x true CVR x the suggestion's target
    ACOS).
(c) closed loop, eight simulated weeks, suggestions applied weekly, vs doing nothing and vs the naive
    rules; profit = sales x margin - spend from `World.true_profit`.

The seller's product margins are entered from `truth_products().margin` (a seller knows their margins;
that is user input, not latent truth); targets default to half the break-even ACOS (`Settings.break_even_share`).

Reproducibility: the sandbox draws each day's randomness over its arrays of targets, so the *order* in which
new keywords are created changes every later draw. Suggestions are applied in a deterministic order (ties broken
by `suggestion_key`, not by the random suggestion id), so a run is reproducible; before that, the optimizer arm's
8-week profit varied by about ±5 % between identical runs (e.g. seed 2: 31.8k-35.2k), which is the size of the
noise to keep in mind when margins between policies are small.

Runtime: seeds run in parallel processes (`--jobs`, default min(4, cores)); only the evaluated profile is
simulated when the loop advances (`World.advance(..., profile_ids=...)`).

Weekly refreshes: the first sync is the real HTTP sync. A full HTTP re-sync takes 30-55 s per week on
2 cores (all six report grains, 21 days, JSON+gzip through the sandbox's HTTP server), i.e. > 30 min for
the loop; by default weekly refreshes therefore build the same Reporting v3 rows in process
(`World.report_rows` with `sync.report_body`'s configuration, converted by `sync.convert_report_rows`,
stored with `store.replace_window`) and re-list entities over HTTP. `--http-sync` uses `sync_account`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

import numpy as np
import pandas as pd

from services import optimizer as opt
from services import optimizer as sugg
from services import store, sync
from services.optimizer.data import load_input

WEEKS = 8
LATENCY = 0.05


def _world_profile(world) -> str:
    return str(world.profiles()[0]["profileId"])


def _advance(h, pid: str, days: int) -> None:
    """Advance the sandbox in process, simulating only the evaluated profile (the HTTP /_sandbox/advance
    simulates all four profiles; the other three are never read here)."""
    with h.state.lock:
        h.world.advance(days, profile_ids=[pid])


class Arm:
    """One policy's world + store + client."""

    def __init__(self, seed: int, workdir: str, name: str, template_db: str | None = None):
        from sandbox import demo_credentials, start_sandbox
        from services import accounts
        from services.secrets.vault import Vault

        self.name = name
        self.h = start_sandbox(port=0, seed=seed, scale="demo", report_latency=LATENCY)
        self.world = self.h.world
        self.pid = _world_profile(self.world)
        self.path = os.path.join(workdir, f"{name}.db")
        if template_db:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(template_db + suffix):
                    shutil.copy(template_db + suffix, self.path + suffix)
            from services.secrets.vault import key_file_for

            if key_file_for(template_db).exists():
                shutil.copy(key_file_for(template_db), key_file_for(self.path))
        self.db = store.open_db(self.path)
        self.vault = Vault(db_path=self.path)
        self.account_id = accounts.connect_demo(self.db, self.vault, self.h.url, demo_credentials())
        self.clients = accounts.clients_for(self.db, self.vault, self.account_id)
        self.client = self.clients.ads("NA")

    def initial_sync(self, days: int) -> float:
        t = time.monotonic()
        sync.sync_account(self.path, self.account_id, self.vault, profile_ids=[self.pid], days=days)
        return time.monotonic() - t

    def advance(self, days: int) -> None:
        _advance(self.h, self.pid, days)

    def refresh(self, http: bool) -> float:
        t = time.monotonic()
        if http:
            sync.sync_account(self.path, self.account_id, self.vault, profile_ids=[self.pid])
            return time.monotonic() - t
        end = self.world.today - timedelta(days=1)
        start = end - timedelta(days=sync.REFETCH_DAYS + 7)
        for grain in ("campaign_day", "placement_day", "target_day", "search_term_day"):
            cfg = sync.report_body(grain, start.isoformat(), end.isoformat())["configuration"]
            rows = self.world.report_rows(
                self.pid, cfg["reportTypeId"], cfg["groupBy"], "DAILY", start, end, cfg["columns"]
            )
            cols, tuples = sync.convert_report_rows(grain, self.pid, "USD", rows)
            with store.write(self.db):
                store.replace_window(
                    self.db,
                    grain,
                    self.pid,
                    start.isoformat(),
                    end.isoformat(),
                    [dict(zip(cols, t)) for t in tuples],
                    cols,
                )
        for kind in ("campaigns", "keywords", "targets", "negativeKeywords"):
            items = self.client.list_entities(self.pid, kind)
            table, rows = sync._entity_rows(kind, self.pid, "USD", items)
            with store.write(self.db):
                store.upsert_rows(self.db, table, rows)
        return time.monotonic() - t

    def stop(self) -> None:
        self.h.stop()


def _set_margins(arm: Arm) -> None:
    prods = arm.world.truth_products(arm.pid)
    for r in prods.itertuples(index=False):
        sugg.set_margin(arm.db, arm.account_id, str(r.asin), float(r.margin), sku=str(r.sku), source="seller")


def _inputs(arm: Arm):
    book = sugg.get_settings_book(arm.db, arm.account_id)
    inp = load_input(
        arm.db, arm.pid, as_of=arm.world.today - timedelta(days=1), settings=book.account, account_id=arm.account_id
    )
    return inp, book


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
        "bleeder_spend_recall": spend_recall,
    }


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


def naive_changes(arm: Arm, inp: opt.OptimizerInput, book: opt.SettingsBook) -> tuple[list[dict], list[dict]]:
    """The naive rule set (amz-ppc-optimizer style) over the last 30 days, no gates beyond its own."""
    s = book.account
    targets = opt.campaign_targets(inp, book)
    start = inp.as_of - timedelta(days=29)
    td = inp.target_day.copy()
    td = td[pd.to_datetime(td["date"]).dt.date >= start]
    agg = td.groupby("entity_id")[["clicks", "cost", "orders", "sales"]].sum().reset_index()
    agg = agg.merge(inp.entities, on="entity_id")
    kw, tg = [], []
    for r in agg.itertuples(index=False):
        if r.state != "enabled" or pd.isna(r.bid):
            continue
        target = targets.get(str(r.campaign_id), s.default_target_acos)
        new = None
        if r.clicks >= 11 and r.orders == 0:
            new = s.min_bid
        elif r.sales > 0:
            acos = r.cost / r.sales
            if acos > target:
                new = r.bid * target / acos
            elif acos < target and r.clicks > 0:
                new = r.cost / r.clicks * 1.2
        if new is None:
            continue
        new = round(min(max(new, 0.02), 1000.0), 2)
        if abs(new - r.bid) < 0.01:
            continue
        (kw if r.kind == "keyword" else tg).append(
            {("keywordId" if r.kind == "keyword" else "targetId"): r.entity_id, "bid": new}
        )
    return kw, tg


def closed_loop(seed: int, workdir: str, weeks: int, http_sync: bool, template_db: str, timings: dict) -> dict:
    arms = {name: Arm(seed, workdir, name, template_db) for name in ("optimizer", "naive")}
    nothing_h = None
    from sandbox import start_sandbox

    nothing_h = start_sandbox(port=0, seed=seed, scale="demo", report_latency=LATENCY)
    try:
        start_day = arms["optimizer"].world.today
        applied = {"optimizer": 0, "naive": 0}
        for _week in range(weeks):
            now = datetime.combine(arms["optimizer"].world.today, dtime(6, 0), tzinfo=UTC)
            # optimizer
            a = arms["optimizer"]
            t = time.monotonic()
            inp, book = _inputs(a)
            found = opt.optimize(inp, book)
            sugg.save_suggestions(a.db, a.account_id, found)
            pending = sugg.list_suggestions(a.db, a.account_id, a.pid)
            sugg.approve(a.db, pending["suggestion_id"])
            rep = sugg.apply_approved(a.db, a.client, a.account_id, a.pid, confirmed=True, now=now)
            applied["optimizer"] += rep.succeeded
            timings["optimize_apply"] = timings.get("optimize_apply", 0) + time.monotonic() - t
            # naive
            n = arms["naive"]
            inp_n, book_n = _inputs(n)
            kw, tg = naive_changes(n, inp_n, book_n)
            if kw:
                applied["naive"] += len(n.client.update(n.pid, "keywords", kw).succeeded)
            if tg:
                applied["naive"] += len(n.client.update(n.pid, "targets", tg).succeeded)
            for arm in arms.values():
                arm.advance(7)
            _advance(nothing_h, _world_profile(nothing_h.world), 7)
            for arm in arms.values():
                timings["refresh"] = timings.get("refresh", 0) + arm.refresh(http_sync)
                timings["refreshes"] = timings.get("refreshes", 0) + 1
        end_day = arms["optimizer"].world.today - timedelta(days=1)
        out = {}
        worlds = {"optimizer": arms["optimizer"].world, "naive": arms["naive"].world, "nothing": nothing_h.world}
        for name, w in worlds.items():
            p = w.true_profit(_world_profile(w), start_day, end_day)
            out[name] = {
                "profit": p["profit"],
                "sales": p["sales"],
                "spend": p["spend"],
                "acos": round(p["spend"] / p["sales"], 4) if p["sales"] else None,
                "changes_applied": applied.get(name, 0),
            }
        return out
    finally:
        for arm in arms.values():
            arm.stop()
        nothing_h.stop()


def run_seed(seed: int, quick: bool = False, http_sync: bool = False) -> dict:
    t0 = time.monotonic()
    workdir = tempfile.mkdtemp(prefix=f"opt-eval-{seed}-")
    timings: dict = {}
    try:
        base = Arm(seed, workdir, "base")
        timings["initial_sync"] = base.initial_sync(60)
        _set_margins(base)
        inp, book = _inputs(base)
        found = opt.optimize(inp, book)
        result = {"seed": seed, "profile_id": base.pid}
        result.update(bleeder_scores(base, found, inp))
        result.update(toward_share(base, found))
        result["suggestions"] = found["type"].value_counts().to_dict()
        base.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        base.stop()
        template = base.path
        loop = closed_loop(seed, workdir, 2 if quick else WEEKS, http_sync, template, timings)
        result.update(loop)
        result["timings_s"] = {k: round(v, 1) if isinstance(v, float) else v for k, v in timings.items()}
        result["seconds"] = round(time.monotonic() - t0, 1)
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run_seed_quiet(args) -> dict:
    import logging

    logging.disable(logging.WARNING)
    return run_seed(*args)


def run(seeds=(1, 2, 3, 4), quick: bool = False, http_sync: bool = False, jobs: int = 1) -> dict:
    t0 = time.monotonic()
    if jobs > 1 and len(seeds) > 1:
        # seeds are independent (own sandboxes, own temp stores): one process each, at most `jobs` at a time
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(jobs, len(seeds)), mp_context=mp.get_context("spawn")) as ex:
            results = list(ex.map(_run_seed_quiet, [(int(s), quick, http_sync) for s in seeds]))
        per_seed = {str(s): r for s, r in zip(seeds, results)}
    else:
        per_seed = {str(s): run_seed(int(s), quick=quick, http_sync=http_sync) for s in seeds}
    ok = {}
    for s, r in per_seed.items():
        ok[s] = {
            "precision>=0.9": r["precision"] is not None and r["precision"] >= 0.9,
            "recall>=0.8": r["recall"] is not None and r["recall"] >= 0.8,
            "toward>=0.8": r["toward_share"] is not None and r["toward_share"] >= 0.8,
            "profit>nothing": r["optimizer"]["profit"] > r["nothing"]["profit"],
            "profit>naive": r["optimizer"]["profit"] > r["naive"]["profit"],
        }
    return {
        "seeds": per_seed,
        "criteria": ok,
        "weeks": 2 if quick else WEEKS,
        "weekly_refresh": "http" if http_sync else "in-process reports + HTTP entity lists",
        "seconds": round(time.monotonic() - t0, 1),
    }


def _table(result: dict) -> str:
    lines = ["seed  prec   recall toward | optimizer profit/sales/acos | nothing | naive"]
    for s, r in result["seeds"].items():

        def pol(p, r=r):
            x = r[p]
            return f"{x['profit']:9.0f} {x['sales']:9.0f} {x['acos'] if x['acos'] is not None else float('nan'):.3f}"

        def f(v):
            return "  n/a" if v is None else f"{v:.3f}"

        lines.append(
            f"{s:>4}  {f(r['precision'])} {f(r['recall'])} {f(r['toward_share'])} | {pol('optimizer')} | "
            f"{pol('nothing')} | {pol('naive')}"
        )
    lines.append(f"total {result['seconds']} s; weekly refresh: {result['weekly_refresh']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--quick", action="store_true", help="two weeks instead of eight")
    ap.add_argument("--http-sync", action="store_true", help="weekly refresh through sync_account over HTTP")
    ap.add_argument(
        "--jobs",
        type=int,
        default=min(4, os.cpu_count() or 1) if os.cpu_count() else 1,
        help="seeds run in parallel processes (default: min(4, cores); 1 = in this process)",
    )
    args = ap.parse_args(argv)
    import logging

    logging.disable(logging.WARNING)
    result = run(args.seeds, quick=args.quick, http_sync=args.http_sync, jobs=args.jobs)
    print(json.dumps(result, default=str) if args.json else _table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
