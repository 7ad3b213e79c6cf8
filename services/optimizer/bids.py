"""Targets and bids: the ACOS each campaign aims at and the bid each keyword or target is worth."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from services.analytics.metrics import add_ratios
from services.optimizer.model import (
    CLICK_ELASTICITY,
    METRICS,
    OptimizerInput,
    _attach_names,
    _cooling,
    _empty_suggestions,
    _enabled_parents,
    _finish,
    _hier_cvr,
    _in_window,
    _nan_none,
    _num,
    _per_campaign,
    _plain_rows,
    _round_money,
    shrink,
    window,
)
from services.optimizer.response_curve import POOL_SPREAD, CurveEstimate, daily_bids, fit_curves, pool_levels
from services.optimizer.settings import DEFAULT_SETTINGS, SettingsBook
from services.optimizer.targets import resolve_targets

CURVE_MAX_LOG_SD = 0.5  # a level known within about ±50 % decides the bid; a vaguer one leaves it to the value bid
CURVE_DEAD_BAND = 0.05  # no change when the curve's best bid is within 5 % of the current one
SOURCE_TEXT = {
    "history": "how its clicks moved with past bid changes",
    "recommendation": "Amazon's suggested bid range",
    "prior": "its ad group's other keywords",
}


def campaign_break_even(inp: OptimizerInput) -> dict[str, float]:
    """Break-even ACOS per campaign: the mean pre-ad margin of the products it advertises (margins the seller set)."""
    if inp.margins.empty or inp.product_ads.empty or "asin" not in inp.product_ads.columns:
        return {}
    m = inp.margins.dropna(subset=["margin"])
    pa = inp.product_ads.merge(m[["asin", "margin"]], on="asin", how="inner")
    return {} if pa.empty else {str(k): float(v) for k, v in pa.groupby("campaign_id")["margin"].mean().items()}


def target_curves(inp: OptimizerInput, days: pd.DataFrame) -> dict[str, CurveEstimate]:
    """Each target's response curve from its days in the window (bids rebuilt from the change history), Amazon's
    suggestion as the prior where we have one, thin ones pooled toward their ad group."""
    counts = inp.target_day_counts
    totals = inp.target_totals if inp.target_totals is not None else pd.DataFrame()
    if (days.empty and (counts is None or counts.empty) and totals.empty) or inp.entities.empty:
        return {}
    current = {
        str(e): float(b)
        for e, b in zip(inp.entities["entity_id"].tolist(), inp.entities["bid"].tolist())
        if pd.notna(b)
    }
    cols = ["entity_id", "ad_group_id", "date", "clicks", "cost"]
    d = days[cols].copy() if not days.empty else pd.DataFrame(columns=cols)
    d["bid"] = daily_bids(d, inp.changes, current)
    # each target's ad group (its last day's, as before; the entity's for a target without a day that had a click)
    groups = {str(e): str(g) for e, g in zip(inp.entities["entity_id"].tolist(), inp.entities["ad_group_id"].tolist())}
    last = pd.DataFrame({"e": d["entity_id"].astype(str), "g": d["ad_group_id"].astype(str)})
    last = last.drop_duplicates("e", keep="last")
    groups.update(zip(last["e"].tolist(), last["g"].tolist()))
    d, runs = _split_held_bids(d, counts, current)
    if not totals.empty:  # the targets whose bid held all window, summed by the sync: one run each
        ids = totals["entity_id"].astype(str)
        groups.update(zip(ids.tolist(), totals["ad_group_id"].astype(str).tolist()))
        bid = ids.map(current).astype(float)
        clicks = pd.to_numeric(totals["clicks"], errors="coerce").fillna(0.0)
        held = pd.DataFrame(
            {
                "entity_id": ids,
                "bid": bid,
                "days": totals["days"],
                "clicks": clicks,
                "cost": pd.to_numeric(totals["cost"], errors="coerce"),
                "click_bid": clicks * bid,
            }
        )
        runs = held if runs is None else pd.concat([runs, held], ignore_index=True)
    priors: dict[str, float] = {}
    recs = inp.bid_recommendations
    if recs is not None and not recs.empty:
        priors = {
            str(e): float(x)
            for e, x in zip(recs["entity_id"].tolist(), recs["level"].tolist())
            if pd.notna(x) and x > 0
        }
    out = fit_curves(d, priors, runs=runs)
    if out:
        ids = list(out)
        frame = pd.DataFrame(
            {
                "group": [groups[i] for i in ids],
                "level": [out[i].level for i in ids],
                "log_sd": [out[i].log_sd for i in ids],
            }
        )
        # a dict: a Series looked up once per target cost a second and a half on the large profile
        informed = frame[[out[i].source != "prior" for i in ids]].groupby("group")["log_sd"].min().to_dict()
        for i, lv in zip(ids, pool_levels(frame).tolist()):
            sure = informed.get(groups[i])
            if out[i].source == "prior" and sure is not None:  # no data of its own: borrow its ad group's auctions
                out[i] = dataclasses.replace(out[i], level=float(lv), log_sd=min(out[i].log_sd, sure + POOL_SPREAD))
    return out


def _split_held_bids(
    d: pd.DataFrame, counts: pd.DataFrame | None, current: dict[str, float]
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(complete days, runs): the targets with fewer rows in `d` than `counts` says they have (the loader left out
    their days without a click, cost, order or sale, which it does only for targets whose bid never changed) as
    one run each at their current bid, their rows summed in the order the days come, as `fit_curves` sums them."""
    if counts is None or counts.empty:
        return d, None
    want = dict(zip(counts["entity_id"].astype(str).tolist(), counts["days"].astype(int).tolist()))
    e = d["entity_id"].astype(str)
    have = e.value_counts().to_dict()
    short = sorted(k for k, n in want.items() if have.get(k, 0) < n)
    if not short:
        return d, None
    part = pd.Index(short, dtype=object).get_indexer(e.to_numpy(dtype=object))  # -1: a target with every day
    mask = part >= 0
    codes = part[mask]
    k = pd.to_numeric(d.loc[mask, "clicks"], errors="coerce").fillna(0.0).to_numpy(float)
    cost = np.nan_to_num(pd.to_numeric(d.loc[mask, "cost"], errors="coerce").to_numpy(float))
    b = d.loc[mask, "bid"].to_numpy(float)
    n = len(short)
    runs = pd.DataFrame(
        {
            "entity_id": short,
            "bid": [current.get(t, np.nan) for t in short],
            "days": [want[t] for t in short],
            "clicks": np.bincount(codes, k, n),
            "cost": np.bincount(codes, cost, n),
            "click_bid": np.bincount(codes, k * b, n),
        }
    )
    return d[~mask], runs


def _without_days(inp: OptimizerInput, agg: pd.DataFrame) -> pd.DataFrame:
    """Zero rows (keys from the entities) for the targets `target_day_counts` lists that have no row in the sums:
    every day of theirs in the window was all zero and the loader left it out."""
    counts = inp.target_day_counts
    if counts is None or counts.empty:
        return agg.iloc[:0]
    seen = set(agg["entity_id"])
    ids = [str(t) for t in counts["entity_id"].tolist() if str(t) not in seen]
    ent = inp.entities.assign(entity_id=inp.entities["entity_id"].astype(str)).drop_duplicates("entity_id")
    ent = ent.set_index("entity_id").reindex(ids)
    zero = pd.DataFrame({"entity_id": ids})
    zero["campaign_id"] = ent["campaign_id"].astype(str).to_numpy()
    zero["ad_group_id"] = ent["ad_group_id"].astype(str).to_numpy()
    for c in METRICS:
        zero[c] = pd.Series(0, index=zero.index, dtype=agg[c].dtype if c in agg.columns else float)
    return zero[list(agg.columns)]


def campaign_targets(inp: OptimizerInput, book: SettingsBook) -> dict[str, float]:
    """Target ACOS per campaign (`services.optimizer.targets.resolve_targets` says the precedence and where each
    target came from)."""
    return {cid: t.acos for cid, t in resolve_targets(inp, book).items()}


def break_even_table(
    margins: pd.DataFrame,
    below: float = DEFAULT_SETTINGS.below_break_even,
    share: float = DEFAULT_SETTINGS.break_even_share,
) -> pd.DataFrame:
    """Per product: margin = break-even ACOS and the default (profit-seeking) target derived from it."""
    out = margins.copy()
    out["break_even_acos"] = pd.to_numeric(out["margin"], errors="coerce")
    out["default_target_acos"] = (out["break_even_acos"] * share - below).clip(lower=0.02)
    return out


def bid_suggestions(inp: OptimizerInput, book: SettingsBook, targets: dict[str, float] | None = None) -> pd.DataFrame:
    s0 = book.account
    targets = targets if targets is not None else campaign_targets(inp, book)
    counts = inp.target_day_counts
    totals = inp.target_totals if inp.target_totals is not None else pd.DataFrame()
    if (inp.target_day.empty and (counts is None or counts.empty) and totals.empty) or inp.entities.empty:
        return _empty_suggestions()
    start, end = window(inp.as_of, s0.lookback_days, s0.settling_days)
    keys = ["entity_id", "campaign_id", "ad_group_id"]
    if inp.target_day.empty:
        days = pd.DataFrame(
            {c: pd.Series(dtype=object if c in keys or c == "date" else float) for c in keys + ["date", *METRICS]}
        )
    else:
        days = _num(_in_window(inp.target_day, start, end))
    for c in keys:
        days[c] = days[c].astype(str)
    break_even = campaign_break_even(inp)
    curves = target_curves(inp, days)
    agg = days.groupby(keys, dropna=False)[list(METRICS)].sum().reset_index()
    if not totals.empty:  # the targets whose days the sync summed (their bid held all window)
        summed = _num(totals)[keys + list(METRICS)].astype({c: str for c in keys})
        agg = pd.concat([agg, summed], ignore_index=True) if not agg.empty else summed
        agg = agg.sort_values(keys, kind="stable").reset_index(drop=True)
    zero = _without_days(inp, agg)
    if not zero.empty:  # targets whose every day had no click, cost, order or sale (the loader left them out)
        agg = pd.concat([agg, zero], ignore_index=True) if not agg.empty else zero
        agg = agg.sort_values(keys, kind="stable").reset_index(drop=True)
    agg = _hier_cvr(agg, s0)
    agg["cvr_shrunk"], agg["weight"] = shrink(agg["orders"], agg["clicks"], agg["cvr_ad_group"], s0.prior_max_clicks)
    agg = add_ratios(agg, ["acos", "cvr", "cpc", "aov"])
    k = 2.0  # AOV: two pseudo-orders at the ad group's AOV
    agg["aov_shrunk"] = (agg["sales"] + k * agg["aov_ad_group"]) / (agg["orders"] + k)
    ent = inp.entities.copy()
    ent["entity_id"] = ent["entity_id"].astype(str)
    agg = agg.merge(
        ent.drop(columns=[c for c in ("campaign_id", "ad_group_id") if c in ent.columns]), on="entity_id", how="inner"
    )
    agg = _attach_names(agg, inp)
    cooling = _cooling(inp.changes, inp.as_of, s0.cooldown_days, "bid")
    enabled = _enabled_parents(inp)
    rows = []
    for r in _plain_rows(agg[~(agg["clicks"] < _per_campaign(agg, book, "min_clicks"))]):
        s = book.for_campaign(r.campaign_id)
        if str(getattr(r, "state", "enabled")).lower() not in ("enabled", ""):
            continue
        if enabled is not None and (r.campaign_id, r.ad_group_id) not in enabled:
            continue
        bid = r.bid
        if bid is None or (isinstance(bid, float) and math.isnan(bid)) or bid <= 0:
            continue
        if r.entity_id in cooling:
            continue
        if r.clicks < s.min_clicks:
            continue
        if pd.isna(r.aov_shrunk) or pd.isna(r.cvr_shrunk):
            continue
        target = targets.get(r.campaign_id, s.default_target_acos)
        value_bid = float(r.aov_shrunk * r.cvr_shrunk * target)
        expected_acos = target * bid / value_bid if value_bid > 0 else float("inf")
        proposed = value_bid
        rule = "bid_to_value"
        curve = curves.get(r.entity_id)
        be = break_even.get(r.campaign_id) if s.target_acos is None else None
        click_value = float(r.aov_shrunk * r.cvr_shrunk * be) if be else 0.0
        if be and curve is not None and curve.log_sd <= CURVE_MAX_LOG_SD and click_value > 0:
            # profit, not an ACOS: the bid where the curve's extra clicks stop paying for their dearer CPC
            proposed = max(curve.best_bid(click_value), 0.01)
            rule = "bid_curve"
            if abs(proposed / bid - 1) <= CURVE_DEAD_BAND and s.min_bid <= bid <= s.max_bid:
                continue
        elif abs(expected_acos - target) <= s.dead_band and s.min_bid <= bid <= s.max_bid:
            continue  # dead band
        if proposed > bid and r.orders < s.min_orders_raise:
            continue  # order gate for raises
        # the step follows the evidence: from max_step with a few clicks to max_step_sure with many
        step = s.max_step + (max(s.max_step_sure, s.max_step) - s.max_step) * float(r.weight)
        proposed = min(max(proposed, bid * (1 - step)), bid * (1 + step))
        proposed = min(max(proposed, s.min_bid), s.max_bid)
        if bid > s.max_bid or bid < s.min_bid:
            rule = "bid_limits"
        proposed = _round_money(proposed)
        if abs(proposed - bid) < 0.01:
            continue
        ratio = proposed / bid
        weekly = 7.0 / max((end - start).days + 1, 1)
        if rule == "bid_curve":
            click_ratio = curve.clicks(proposed) / max(curve.clicks(bid), 1e-9)
            exp_spend = float(r.cost * weekly * (click_ratio * ratio - 1))
            exp_sales = float(r.clicks * weekly * r.cvr_shrunk * r.aov_shrunk * (click_ratio - 1))
        else:
            exp_spend = float(r.cost * weekly * (ratio ** (1 + CLICK_ELASTICITY) - 1))
            exp_sales = float(r.clicks * weekly * r.cvr_shrunk * r.aov_shrunk * (ratio**CLICK_ELASTICITY - 1))
        direction = "Raise" if proposed > bid else "Lower"
        if rule == "bid_curve":
            best = curve.best_bid(click_value)
            why = (
                f"{direction} the bid: a click earns about ${click_value:.2f} before its cost (CVR "
                f"{r.cvr_shrunk:.1%} after shrinkage x AOV ${r.aov_shrunk:.2f} x {be:.0%} margin), and clicks here "
                f"answer bids like an auction at about ${curve.level:.2f} (from {SOURCE_TEXT[curve.source]}), so "
                f"profit peaks near ${best:.2f}; this run moves at most {step:.0%}, as far as {int(r.clicks)} "
                "clicks of evidence allow."
            )
        elif r.orders == 0:
            why = (
                f"{direction} the bid: {int(r.clicks)} clicks and no order; at the shrunk conversion rate "
                f"of {r.cvr_shrunk:.1%} a click is worth about ${value_bid:.2f} at a {target:.0%} target ACOS."
            )
        else:
            why = (
                f"{direction} the bid: {int(r.orders)} orders from {int(r.clicks)} clicks (CVR {r.cvr_shrunk:.1%} "
                f"after shrinkage, AOV ${r.aov_shrunk:.2f}) make a click worth ${value_bid:.2f} at a "
                f"{target:.0%} target ACOS, vs the current ${bid:.2f}."
            )
        if rule == "bid_limits":
            why = f"Bring the bid of ${bid:.2f} within the allowed ${s.min_bid:.2f}–${s.max_bid:.2f}. " + why
        rows.append(
            {
                "type": "bid",
                "entity_kind": r.kind,
                "entity_id": r.entity_id,
                "campaign_id": r.campaign_id,
                "campaign_name": r.campaign_name,
                "ad_group_id": r.ad_group_id,
                "ad_group_name": r.ad_group_name,
                "keyword_text": getattr(r, "text", None),
                "match_type": getattr(r, "match_type", None),
                "search_term": None,
                "current_value": float(bid),
                "proposed_value": proposed,
                "rule": rule,
                "reason": why,
                "confidence": float(r.weight),
                "clicks": int(r.clicks),
                "orders": int(r.orders),
                "spend": float(r.cost),
                "sales": float(r.sales),
                "acos": _nan_none(r.acos),
                "cvr_raw": _nan_none(r.cvr),
                "cvr_shrunk": float(r.cvr_shrunk),
                "aov": float(r.aov_shrunk),
                "target_acos": target,
                "value_bid": value_bid,
                "expected_spend_change": exp_spend,
                "expected_sales_change": exp_sales,
                "window_start": start.isoformat(),
                "window_end": end.isoformat(),
            }
        )
    return _finish(rows, inp)
