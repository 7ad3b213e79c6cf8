"""Campaign-level rules: budgets and the top-of-search placement adjustment."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from services.analytics.metrics import add_ratios
from services.optimizer.bids import campaign_break_even, campaign_targets
from services.optimizer.model import (
    METRICS,
    OptimizerInput,
    _cooling,
    _empty_suggestions,
    _finish,
    _in_window,
    _nan_none,
    _num,
    _round_money,
    window,
)
from services.optimizer.settings import SettingsBook


def budget_suggestions(
    inp: OptimizerInput, book: SettingsBook, targets: dict[str, float] | None = None
) -> pd.DataFrame:
    s0 = book.account
    if inp.campaign_day.empty or inp.campaigns.empty:
        return _empty_suggestions()
    targets = targets if targets is not None else campaign_targets(inp, book)
    start, end = window(inp.as_of, s0.lookback_days, s0.settling_days)
    cd = _num(_in_window(inp.campaign_day, start, end), list(METRICS) + ["budget"])
    cd["campaign_id"] = cd["campaign_id"].astype(str)
    # out of budget: the recent week (cost is final at once; only sales settle)
    recent = _num(_in_window(inp.campaign_day, inp.as_of - timedelta(days=6), inp.as_of), list(METRICS) + ["budget"])
    recent["campaign_id"] = recent["campaign_id"].astype(str)
    recent["out"] = (recent["budget"] > 0) & (recent["cost"] >= 0.95 * recent["budget"])
    out_days = recent.groupby("campaign_id")["out"].sum()
    agg = add_ratios(cd.groupby("campaign_id")[list(METRICS)].sum().reset_index(), ["acos"])
    n_days = cd.groupby("campaign_id")["date"].nunique()
    camps = inp.campaigns.assign(campaign_id=inp.campaigns["campaign_id"].astype(str))
    agg = agg.merge(camps[["campaign_id", "name", "state", "budget"]], on="campaign_id", how="inner")
    cooling = _cooling(inp.changes, inp.as_of, s0.cooldown_days, "budget")
    cutting = campaigns_with_bid_cuts(inp, s0.lookback_days)
    break_even = campaign_break_even(inp)
    rows = []
    for r in agg.itertuples(index=False):
        days_n = max(int(n_days.get(r.campaign_id, 1)), 1)
        s = book.for_campaign(r.campaign_id)
        if str(r.state).lower() != "enabled" or r.campaign_id in cooling or not r.budget or pd.isna(r.budget):
            continue
        target = targets.get(r.campaign_id, s.default_target_acos)
        n_out = int(out_days.get(r.campaign_id, 0))
        acos = _nan_none(r.acos)
        budget = float(r.budget)
        # profitable = each extra unit of spend still earns more margin than it costs: ACOS under break-even
        # (the margin) where the seller gave margins, else under the target
        limit = target if s.target_acos is not None else break_even.get(r.campaign_id, target)
        if n_out >= s.budget_out_days and r.orders >= s.budget_min_orders and acos is not None and acos < limit:
            # the further under, the faster: x (limit / ACOS) of the base step, at most budget_max_step_up
            step = min(s.budget_step * max(1.0, min(3.0, limit / max(acos, 1e-9))), s.budget_max_step_up)
            new = min(budget * (1 + max(step, s.budget_step)), s.budget_max)
            rule = "budget_up"
            why = (
                f"Raise the budget by {new / budget - 1:.0%}: the campaign ran out of budget on {n_out} of the last "
                f"7 days while its ACOS ({acos:.0%}) is under {'the target' if limit == target else 'break-even'} "
                f"({limit:.0%}), so more spend here still earns more than it costs."
            )
        elif r.campaign_id in cutting:
            continue  # its bids are coming down: judge its budget at the new bids, not the old ones
        elif (acos is None and r.cost >= budget * 3 and r.clicks >= s.min_clicks * 2) or (
            acos is not None
            and acos > _cut_limit(target, s, break_even.get(r.campaign_id))
            and r.orders >= 1
            and r.cost / days_n >= 0.5 * budget
        ):
            new = max(budget * (1 - s.budget_step), s.budget_min)
            rule = "budget_down"
            why = (
                f"Lower the budget: ACOS {'has no sales' if acos is None else f'of {acos:.0%}'} over "
                f"{days_n} days is persistently above the {target:.0%} target while it spends "
                f"${r.cost / days_n:.2f} a day of ${budget:.2f}."
            )
        else:
            continue
        new = _round_money(new)
        if abs(new - budget) < 0.01:
            continue
        ratio = new / budget
        daily_cost, daily_sales = r.cost / days_n, r.sales / days_n
        rows.append(
            {
                "type": "budget",
                "entity_kind": "campaign",
                "entity_id": r.campaign_id,
                "campaign_id": r.campaign_id,
                "campaign_name": r.name,
                "current_value": budget,
                "proposed_value": new,
                "rule": rule,
                "reason": why,
                "confidence": min(1.0, float(r.orders) / 10.0) if rule == "budget_up" else min(1.0, r.clicks / 100.0),
                "clicks": int(r.clicks),
                "orders": int(r.orders),
                "spend": float(r.cost),
                "sales": float(r.sales),
                "acos": acos,
                "target_acos": target,
                "expected_spend_change": float(7 * daily_cost * (ratio - 1)),
                "expected_sales_change": float(7 * daily_sales * (ratio - 1)),
                "window_start": start.isoformat(),
                "window_end": end.isoformat(),
            }
        )
    return _finish(rows, inp)


def _cut_limit(target: float, s, break_even: float | None) -> float:
    """The ACOS above which a budget is cut. A budget only caps spend, and a capped campaign loses its clicks
    evenly, so a dollar less of budget loses the campaign's average profit per dollar: under Profit (margins
    known) that is negative only above break-even. Under a set Target ACOS, the target times the cut factor."""
    if s.target_acos is None and break_even:
        return max(break_even, target * s.budget_cut_acos_factor)
    return target * s.budget_cut_acos_factor


def campaigns_with_bid_cuts(inp: OptimizerInput, days: int) -> set[str]:
    """Campaigns where a bid was lowered in the last `days` days: their spend and ACOS still reflect the old bids."""
    ch = inp.changes
    if ch is None or ch.empty or not {"old_value", "new_value", "entity_id"} <= set(ch.columns) or inp.entities.empty:
        return set()
    ch = ch[ch.get("change_type", pd.Series("bid", index=ch.index)) == "bid"]
    when = pd.to_datetime(ch["applied_at"], errors="coerce", utc=True).dt.tz_localize(None)
    recent = ch[(when >= pd.Timestamp(inp.as_of - timedelta(days=days)))]
    cut = recent[
        pd.to_numeric(recent["new_value"], errors="coerce") < pd.to_numeric(recent["old_value"], errors="coerce")
    ]
    camp = dict(zip(inp.entities["entity_id"].astype(str), inp.entities["campaign_id"].astype(str)))
    return {camp[e] for e in cut["entity_id"].astype(str) if e in camp}


TOP_PLACEMENT_NAMES = ("top of search on-amazon", "placement_top", "top of search", "placement top")


def placement_suggestions(
    inp: OptimizerInput, book: SettingsBook, targets: dict[str, float] | None = None
) -> pd.DataFrame:
    s0 = book.account
    if inp.placement_day.empty or inp.campaigns.empty:
        return _empty_suggestions()
    targets = targets if targets is not None else campaign_targets(inp, book)
    start, end = window(inp.as_of, s0.lookback_days, s0.settling_days)
    pdf = _num(_in_window(inp.placement_day, start, end))
    pdf["campaign_id"] = pdf["campaign_id"].astype(str)
    top = pdf[pdf["placement"].astype(str).str.strip().str.lower().isin(TOP_PLACEMENT_NAMES)]
    agg = add_ratios(top.groupby("campaign_id")[list(METRICS)].sum().reset_index(), ["acos", "cvr"])
    camps = inp.campaigns.assign(campaign_id=inp.campaigns["campaign_id"].astype(str))
    agg = agg.merge(camps[["campaign_id", "name", "state", "placement_top_pct"]], on="campaign_id", how="inner")
    cooling = _cooling(inp.changes, inp.as_of, s0.cooldown_days, "placement")
    rows = []
    for r in agg.itertuples(index=False):
        s = book.for_campaign(r.campaign_id)
        if str(r.state).lower() != "enabled" or r.campaign_id in cooling or r.clicks < s.placement_min_clicks:
            continue
        target = targets.get(r.campaign_id, s.default_target_acos)
        pct = (
            float(r.placement_top_pct) if r.placement_top_pct is not None and not pd.isna(r.placement_top_pct) else 0.0
        )
        acos = _nan_none(r.acos)
        if acos is None:
            ideal = 0.0  # clicks without orders at the top: take the uplift away
        else:
            ideal = (1 + pct / 100.0) * target / acos * 100.0 - 100.0
        if abs((acos if acos is not None else 9.9) - target) <= s.dead_band:
            continue
        if ideal > pct and r.orders < s.placement_min_orders:
            continue
        new = min(max(ideal, pct - s.placement_step, 0.0), pct + s.placement_step, s.placement_max_pct)
        new = float(round(new))
        if new == pct:
            continue
        why = (
            f"{'Raise' if new > pct else 'Lower'} the top-of-search adjustment from {pct:.0f} % to {new:.0f} %: "
            f"top of search ran at {'no sales' if acos is None else f'{acos:.0%} ACOS'} "
            f"({int(r.orders)} orders, {int(r.clicks)} clicks) against a {target:.0%} target."
        )
        rows.append(
            {
                "type": "placement",
                "entity_kind": "campaign",
                "entity_id": r.campaign_id,
                "campaign_id": r.campaign_id,
                "campaign_name": r.name,
                "current_value": pct,
                "proposed_value": new,
                "rule": "placement_top",
                "reason": why,
                "confidence": min(1.0, r.clicks / 200.0),
                "clicks": int(r.clicks),
                "orders": int(r.orders),
                "spend": float(r.cost),
                "sales": float(r.sales),
                "acos": acos,
                "cvr_raw": _nan_none(r.cvr),
                "target_acos": target,
                "expected_spend_change": float(
                    r.cost * 7 / max((end - start).days + 1, 1) * ((1 + new / 100) / (1 + pct / 100) - 1)
                ),
                "expected_sales_change": 0.0,
                "window_start": start.isoformat(),
                "window_end": end.isoformat(),
            }
        )
    return _finish(rows, inp)
