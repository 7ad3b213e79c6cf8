"""The suggestion engine: pure rules over the store's data (no I/O, no Streamlit).

Inputs are plain DataFrames (see `OptimizerInput`; `services.optimizer_data` loads them
from the store). Output is one DataFrame of suggestions, one row each, with the columns of
`SUGGESTION_COLUMNS`: what to change (type, ids, names, current -> proposed), why (rule,
evidence, one plain sentence), how sure (confidence) and the expected effect.

Rules (thresholds live in `Settings`, per account with per-campaign overrides):

- target:     explicit target ACOS, else half the break-even ACOS (pre-ad margin) of the campaign's
              products (`break_even_share`): the profit-maximising bid sits well below break-even
              because extra bid buys ever fewer extra clicks while every click costs more.
- bid:        value bid = AOV x CVR x target ACOS, CVR shrunk (beta-binomial) toward the ad
              group, campaign and account so sparse data is not read as "CVR 0"; dead band
              around the target; step cap per run; min/max bid; click and order gates;
              the newest `settling_days` left out; cool-down after a recent change. A target
              with clicks and no order is stepped down toward its shrunk value bid.
- negative:   search terms whose posterior probability of converting at under `bleeder_cvr_ratio`
              of their ad group's rate (Gamma(1,1) prior, leave-one-out parent rate, evidence pooled
              over the ad groups where the term never converted) reaches `bleeder_confidence`
              -> negative exact in the ad group that paid for them. A term with any order in that
              ad group is never negated.
- harvest:    converting terms (>= 2 orders) of auto/broad/phrase whose shrunk value bid reaches the
              minimum bid -> exact keyword in a manual ad group that advertises the same products,
              paired with a negative exact in the source ad group; at most `harvest_max_per_run`,
              the most valuable (value bid x clicks) first.
- budget:     efficient campaigns that run out of budget get more; persistently inefficient ones less.
- placement:  top-of-search percentage moved stepwise toward what its own ACOS earns.

Metrics come from `services.metrics` (add_ratios / safe_ratio), never redefined here.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, timedelta
from typing import Any, Iterable

import numpy as np
import pandas as pd

from services.metrics import add_ratios, ratio_series, safe_ratio

# ------------------------------------------------------------------------------------------
# settings


def _f(default: Any, description: str, **meta: Any):
    return field(default=default, metadata={"description": description, **meta})


@dataclass(frozen=True)
class Settings:
    """Optimizer settings. Every field carries a description for the settings UI."""

    target_acos: float | None = _f(None, "Target ACOS (fraction, 0.25 = 25 %). Empty: the share below of the break-even "
                                         "ACOS (pre-ad margin) of the campaign's products, else the default target.",
                                   kind="percent")
    default_target_acos: float = _f(0.15, "Target ACOS used when neither a target nor product margins are set.",
                                    kind="percent")
    break_even_share: float = _f(0.5, "Derived target as a share of break-even ACOS (0.5 = half). Profit, not "
                                      "sales: a click is worth AOV x CVR x margin, and more bid buys fewer extra "
                                      "clicks per cent (diminishing returns) while every click costs more, so the "
                                      "bid that maximises sales x margin - spend sits well below the break-even "
                                      "bid — about half of it when clicks respond like a typical auction. Bidding "
                                      "at break-even minus a few points buys sales at almost no profit.",
                                 kind="percent")
    below_break_even: float = _f(0.0, "ACOS points subtracted after the share above (0 = none).", kind="percent")
    min_bid: float = _f(0.20, "Lowest bid the optimizer will suggest.", kind="money")
    max_bid: float = _f(5.00, "Highest bid the optimizer will suggest.", kind="money")
    max_step: float = _f(0.20, "Largest bid change per run, as a fraction of the current bid (0.20 = ±20 %).",
                         kind="percent")
    dead_band: float = _f(0.03, "No bid change while the expected ACOS at the current bid is within this many "
                                "points of the target.", kind="percent")
    lookback_days: int = _f(30, "Days of data the bid, budget and placement rules look at.", kind="days")
    search_term_lookback_days: int = _f(60, "Days of search-term data for negatives and harvesting.", kind="days")
    settling_days: int = _f(3, "Newest days left out: Amazon still attributes orders to them.", kind="days")
    cooldown_days: int = _f(3, "Days to wait after a change before touching the same keyword or campaign again.",
                            kind="days")
    min_clicks: int = _f(12, "Clicks a keyword or target needs before its bid is changed.", kind="count")
    min_orders_raise: int = _f(2, "Orders a keyword or target needs before its bid is raised.", kind="count")
    prior_max_clicks: float = _f(50.0, "Largest weight (pseudo-clicks) of the parent's conversion rate in the "
                                       "shrunk CVR.", kind="count")
    bleeder_min_clicks: int = _f(8, "Clicks a search term needs in an ad group (with no order) before it is negated "
                                    "there.", kind="count")
    bleeder_cvr_ratio: float = _f(0.5, "A search term is a bleeder when its conversion rate is below this fraction "
                                       "of its ad group's (0.5 = half).", kind="percent")
    bleeder_confidence: float = _f(0.85, "Probability, given its clicks without an order, that a term is a bleeder "
                                        "before it is negated (0.85: about 2.8 orders were expected at its ad group's rate). "
                                        "Evidence is pooled over every ad group where the term never converted.",
                                  kind="percent")
    harvest_min_orders: int = _f(2, "Orders a search term needs before it is harvested as an exact keyword.",
                                 kind="count")
    harvest_max_per_run: int = _f(25, "Most new exact keywords suggested per run (the most profitable first): each "
                                      "one buys new traffic and spend.", kind="count")
    harvest_max_acos_factor: float = _f(1.0, "Harvest only terms whose ACOS is at most this multiple of the target.",
                                        kind="multiple")
    budget_step: float = _f(0.20, "Budget change per run (0.20 = ±20 %).", kind="percent")
    budget_min: float = _f(1.00, "Lowest daily budget suggested.", kind="money")
    budget_max: float = _f(500.00, "Highest daily budget suggested.", kind="money")
    budget_out_days: int = _f(3, "Days in the lookback a campaign must have spent ≥95 % of its budget to count "
                                 "as running out.", kind="count")
    budget_cut_acos_factor: float = _f(1.3, "Budgets are cut when the campaign's ACOS exceeds the target by this "
                                            "factor.", kind="multiple")
    budget_min_orders: int = _f(3, "Orders a campaign needs before its budget is raised.", kind="count")
    placement_step: float = _f(20.0, "Largest change of the top-of-search percentage per run (points).",
                               kind="count")
    placement_max_pct: float = _f(200.0, "Highest top-of-search percentage suggested.", kind="count")
    placement_min_clicks: int = _f(30, "Top-of-search clicks needed before its percentage is changed.", kind="count")
    placement_min_orders: int = _f(3, "Top-of-search orders needed before its percentage is raised.", kind="count")

    # ---- helpers for the UI / persistence
    @classmethod
    def describe(cls) -> list[dict]:
        """One row per field: name, default, description, kind (percent/money/days/count/multiple)."""
        return [{"name": f.name, "default": f.default, "description": f.metadata.get("description", ""),
                 "kind": f.metadata.get("kind", "")} for f in fields(cls)]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None, base: "Settings | None" = None) -> "Settings":
        base = base or cls()
        names = {f.name for f in fields(cls)}
        clean = {k: v for k, v in (data or {}).items() if k in names}
        return replace(base, **clean)

    def validate(self) -> list[str]:
        problems = []
        if self.min_bid <= 0 or self.max_bid < self.min_bid:
            problems.append("The minimum bid must be positive and not above the maximum bid.")
        if not 0 < self.max_step <= 1:
            problems.append("The step cap must be between 0 and 100 %.")
        if self.target_acos is not None and not 0 < self.target_acos < 1:
            problems.append("The target ACOS must be between 0 and 100 %.")
        if self.lookback_days <= self.settling_days:
            problems.append("The lookback must be longer than the settling days.")
        return problems


DEFAULT_SETTINGS = Settings()


@dataclass
class SettingsBook:
    """Account-level settings plus per-campaign overrides (only the fields that differ)."""

    account: Settings = field(default_factory=Settings)
    campaigns: dict[str, dict] = field(default_factory=dict)

    def for_campaign(self, campaign_id: str | None) -> Settings:
        over = self.campaigns.get(str(campaign_id)) if campaign_id is not None else None
        return Settings.from_dict(over, self.account) if over else self.account


# ------------------------------------------------------------------------------------------
# input


@dataclass
class OptimizerInput:
    """Normalised frames (generic metric names: impressions, clicks, cost, orders, sales).

    target_day:       date, entity_id, campaign_id, ad_group_id, impressions, clicks, cost, orders, sales
    entities:         entity_id, kind (keyword|target), campaign_id, ad_group_id, text, match_type, state, bid
    search_term_day:  date, campaign_id, ad_group_id, entity_id, search_term, match_type, clicks, cost, orders, sales
    campaigns:        campaign_id, name, state, targeting_type, budget, bidding_strategy, placement_top_pct, ...
    ad_groups:        ad_group_id, campaign_id, name, state, default_bid
    campaign_day:     date, campaign_id, budget, impressions, clicks, cost, orders, sales
    placement_day:    date, campaign_id, placement, impressions, clicks, cost, orders, sales
    negatives:        campaign_id, ad_group_id, keyword_text, match_type, state
    product_ads:      campaign_id, ad_group_id, asin, sku, state
    margins:          asin, margin (pre-ad margin as a fraction of price = break-even ACOS)
    changes:          entity_id, applied_at (for the cool-down)
    """

    as_of: date
    profile_id: str = ""
    target_day: pd.DataFrame = field(default_factory=pd.DataFrame)
    entities: pd.DataFrame = field(default_factory=pd.DataFrame)
    search_term_day: pd.DataFrame = field(default_factory=pd.DataFrame)
    campaigns: pd.DataFrame = field(default_factory=pd.DataFrame)
    ad_groups: pd.DataFrame = field(default_factory=pd.DataFrame)
    campaign_day: pd.DataFrame = field(default_factory=pd.DataFrame)
    placement_day: pd.DataFrame = field(default_factory=pd.DataFrame)
    negatives: pd.DataFrame = field(default_factory=pd.DataFrame)
    product_ads: pd.DataFrame = field(default_factory=pd.DataFrame)
    margins: pd.DataFrame = field(default_factory=pd.DataFrame)
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)


SUGGESTION_TYPES = ("bid", "negative", "harvest", "budget", "placement")
TYPE_LABELS = {"bid": "Bid changes", "negative": "Negative keywords", "harvest": "New exact keywords",
               "budget": "Budgets", "placement": "Top-of-search placement"}

SUGGESTION_COLUMNS = [
    "suggestion_key", "profile_id", "type", "entity_kind", "entity_id", "campaign_id", "campaign_name",
    "ad_group_id", "ad_group_name", "keyword_text", "match_type", "search_term",
    "dest_campaign_id", "dest_campaign_name", "dest_ad_group_id", "dest_ad_group_name",
    "current_value", "proposed_value", "change_pct", "rule", "reason", "confidence",
    "clicks", "orders", "spend", "sales", "acos", "cvr_raw", "cvr_shrunk", "aov", "target_acos", "value_bid",
    "expected_spend_change", "expected_sales_change", "window_start", "window_end",
]
METRICS = ("impressions", "clicks", "cost", "orders", "sales")
# Assumed response to a bid change of ratio r over the next week: clicks ~ r (more auctions won),
# CPC ~ r, so spend ~ r^2 and sales ~ r. Shown as a rough expectation, not a forecast.
CLICK_ELASTICITY = 1.0

# ------------------------------------------------------------------------------------------
# helpers


def _empty_suggestions() -> pd.DataFrame:
    return pd.DataFrame(columns=SUGGESTION_COLUMNS)


def _num(df: pd.DataFrame, cols: Iterable[str] = METRICS) -> pd.DataFrame:
    out = df.copy()
    for c in cols:
        if c not in out.columns:
            out[c] = 0.0
        out[c] = pd.to_numeric(out[c], errors="coerce").fillna(0.0)
    return out


def _dates(df: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(df["date"]).dt.date


def window(as_of: date, lookback_days: int, settling_days: int) -> tuple[date, date]:
    """[start, end] of the data the rules use: `lookback_days` back from as_of, newest settling days left out."""
    end = as_of - timedelta(days=settling_days)
    start = as_of - timedelta(days=lookback_days - 1)
    return start, end


def _in_window(df: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    if df is None or df.empty or "date" not in df.columns:
        return pd.DataFrame(columns=list(df.columns) if df is not None else [])
    d = _dates(df)
    return df[(d >= start) & (d <= end)]


def shrink(orders: pd.Series | float, clicks: pd.Series | float, parent_cvr: pd.Series | float,
           max_prior: float = 50.0, min_prior: float = 5.0):
    """Beta-binomial shrinkage: (orders + m·p) / (clicks + m), prior strength m = 1/p (one expected order),
    clipped to [min_prior, max_prior] pseudo-clicks. Ten clicks without an order is not CVR 0."""
    p = np.clip(np.asarray(parent_cvr, dtype=float), 1e-4, 1.0)
    m = np.clip(1.0 / p, min_prior, max_prior)
    o = np.asarray(orders, dtype=float)
    n = np.asarray(clicks, dtype=float)
    return (o + m * p) / (n + m), n / (n + m)


def _key(*parts: Any) -> str:
    return hashlib.sha1("|".join("" if p is None else str(p) for p in parts).encode()).hexdigest()[:16]


def _round_money(x: float) -> float:
    return float(round(x + 1e-9, 2))


def _hier_cvr(df: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Adds cvr_account, cvr_campaign, cvr_ad_group (each shrunk toward its parent) to rows of
    (campaign_id, ad_group_id, clicks, orders, sales)."""
    tot_o, tot_n = float(df["orders"].sum()), float(df["clicks"].sum())
    p_acct = (tot_o + 0.5) / (tot_n + 5.0)  # weak prior: ~10 % until the account has data
    out = df.copy()
    out["cvr_account"] = p_acct
    camp = df.groupby("campaign_id", dropna=False)[["orders", "clicks", "sales"]].sum()
    camp_cvr, _ = shrink(camp["orders"], camp["clicks"], p_acct, settings.prior_max_clicks)
    camp["cvr_campaign"] = camp_cvr
    out = out.merge(camp[["cvr_campaign"]], left_on="campaign_id", right_index=True, how="left")
    grp = df.groupby(["campaign_id", "ad_group_id"], dropna=False)[["orders", "clicks", "sales"]].sum().reset_index()
    grp = grp.merge(camp[["cvr_campaign"]], left_on="campaign_id", right_index=True, how="left")
    grp["cvr_ad_group"], _ = shrink(grp["orders"], grp["clicks"], grp["cvr_campaign"], settings.prior_max_clicks)
    # AOV of the ad group, falling back to campaign then account
    acct_aov = safe_ratio(float(df["sales"].sum()), tot_o) or None
    camp_aov = ratio_series(camp["sales"], camp["orders"]).rename("aov_campaign")
    grp = grp.merge(camp_aov, left_on="campaign_id", right_index=True, how="left")
    grp["aov_ad_group"] = ratio_series(grp["sales"], grp["orders"])
    grp["aov_ad_group"] = grp["aov_ad_group"].fillna(grp["aov_campaign"])
    if acct_aov is not None:
        grp["aov_ad_group"] = grp["aov_ad_group"].fillna(acct_aov)
    out = out.merge(grp[["campaign_id", "ad_group_id", "cvr_ad_group", "aov_ad_group"]],
                    on=["campaign_id", "ad_group_id"], how="left")
    return out


# ------------------------------------------------------------------------------------------
# targets (ACOS) from margins


def campaign_targets(inp: OptimizerInput, book: SettingsBook) -> dict[str, float]:
    """Target ACOS per campaign: explicit setting > break-even of its products x break_even_share - below_break_even
    > default."""
    break_even: dict[str, float] = {}
    if not inp.margins.empty and not inp.product_ads.empty and "asin" in inp.product_ads.columns:
        m = inp.margins.dropna(subset=["margin"])
        pa = inp.product_ads.merge(m[["asin", "margin"]], on="asin", how="inner")
        if not pa.empty:
            break_even = pa.groupby("campaign_id")["margin"].mean().to_dict()
    ids = set(break_even)
    if not inp.campaigns.empty:
        ids |= set(inp.campaigns["campaign_id"].astype(str))
    if not inp.target_day.empty:
        ids |= set(inp.target_day["campaign_id"].astype(str))
    out = {}
    for cid in ids:
        s = book.for_campaign(cid)
        if s.target_acos is not None:
            out[cid] = float(s.target_acos)
        elif cid in break_even:
            out[cid] = max(0.02, float(break_even[cid]) * s.break_even_share - s.below_break_even)
        else:
            out[cid] = s.default_target_acos
    return out


def break_even_table(margins: pd.DataFrame, below: float = DEFAULT_SETTINGS.below_break_even,
                     share: float = DEFAULT_SETTINGS.break_even_share) -> pd.DataFrame:
    """Per product: margin = break-even ACOS and the default (profit-seeking) target derived from it."""
    out = margins.copy()
    out["break_even_acos"] = pd.to_numeric(out["margin"], errors="coerce")
    out["default_target_acos"] = (out["break_even_acos"] * share - below).clip(lower=0.02)
    return out


def _cooling(changes: pd.DataFrame, as_of: date, days: int, change_type: str | None = None) -> set[str]:
    """Entity ids changed (of `change_type`, when the frame says) within the last `days` days."""
    if changes is None or changes.empty or days <= 0:
        return set()
    if change_type is not None and "change_type" in changes.columns:
        changes = changes[changes["change_type"].isin([change_type, None]) | changes["change_type"].isna()]
    applied = pd.to_datetime(changes["applied_at"], utc=True, errors="coerce").dt.date
    recent = changes[applied > as_of - timedelta(days=days)]
    return set(recent["entity_id"].astype(str))


# ------------------------------------------------------------------------------------------
# rule: bids


def bid_suggestions(inp: OptimizerInput, book: SettingsBook, targets: dict[str, float] | None = None) -> pd.DataFrame:
    s0 = book.account
    targets = targets if targets is not None else campaign_targets(inp, book)
    if inp.target_day.empty or inp.entities.empty:
        return _empty_suggestions()
    start, end = window(inp.as_of, s0.lookback_days, s0.settling_days)
    days = _num(_in_window(inp.target_day, start, end))
    for c in ("entity_id", "campaign_id", "ad_group_id"):
        days[c] = days[c].astype(str)
    agg = days.groupby(["entity_id", "campaign_id", "ad_group_id"], dropna=False)[list(METRICS)].sum().reset_index()
    agg = _hier_cvr(agg, s0)
    agg["cvr_shrunk"], agg["weight"] = shrink(agg["orders"], agg["clicks"], agg["cvr_ad_group"], s0.prior_max_clicks)
    agg = add_ratios(agg, ["acos", "cvr", "cpc", "aov"])
    k = 2.0  # AOV: two pseudo-orders at the ad group's AOV
    agg["aov_shrunk"] = (agg["sales"] + k * agg["aov_ad_group"]) / (agg["orders"] + k)
    ent = inp.entities.copy()
    ent["entity_id"] = ent["entity_id"].astype(str)
    agg = agg.merge(ent.drop(columns=[c for c in ("campaign_id", "ad_group_id") if c in ent.columns]),
                    on="entity_id", how="inner")
    agg = _attach_names(agg, inp)
    cooling = _cooling(inp.changes, inp.as_of, s0.cooldown_days, "bid")
    enabled = _enabled_parents(inp)
    rows = []
    for r in agg.itertuples(index=False):
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
        if abs(expected_acos - target) <= s.dead_band and s.min_bid <= bid <= s.max_bid:
            continue  # dead band
        if proposed > bid and r.orders < s.min_orders_raise:
            continue  # order gate for raises
        proposed = min(max(proposed, bid * (1 - s.max_step)), bid * (1 + s.max_step))
        proposed = min(max(proposed, s.min_bid), s.max_bid)
        if bid > s.max_bid or bid < s.min_bid:
            rule = "bid_limits"
        proposed = _round_money(proposed)
        if abs(proposed - bid) < 0.01:
            continue
        ratio = proposed / bid
        weekly = 7.0 / max((end - start).days + 1, 1)
        exp_spend = float(r.cost * weekly * (ratio ** (1 + CLICK_ELASTICITY) - 1))
        exp_sales = float(r.clicks * weekly * r.cvr_shrunk * r.aov_shrunk * (ratio ** CLICK_ELASTICITY - 1))
        direction = "Raise" if proposed > bid else "Lower"
        if r.orders == 0:
            why = (f"{direction} the bid: {int(r.clicks)} clicks and no order; at the shrunk conversion rate "
                   f"of {r.cvr_shrunk:.1%} a click is worth about ${value_bid:.2f} at a {target:.0%} target ACOS.")
        else:
            why = (f"{direction} the bid: {int(r.orders)} orders from {int(r.clicks)} clicks (CVR {r.cvr_shrunk:.1%} "
                   f"after shrinkage, AOV ${r.aov_shrunk:.2f}) make a click worth ${value_bid:.2f} at a "
                   f"{target:.0%} target ACOS, vs the current ${bid:.2f}.")
        if rule == "bid_limits":
            why = f"Bring the bid of ${bid:.2f} within the allowed ${s.min_bid:.2f}–${s.max_bid:.2f}. " + why
        rows.append({
            "type": "bid", "entity_kind": r.kind, "entity_id": r.entity_id,
            "campaign_id": r.campaign_id, "campaign_name": r.campaign_name, "ad_group_id": r.ad_group_id,
            "ad_group_name": r.ad_group_name, "keyword_text": getattr(r, "text", None),
            "match_type": getattr(r, "match_type", None), "search_term": None,
            "current_value": float(bid), "proposed_value": proposed, "rule": rule, "reason": why,
            "confidence": float(r.weight), "clicks": int(r.clicks), "orders": int(r.orders),
            "spend": float(r.cost), "sales": float(r.sales), "acos": _nan_none(r.acos), "cvr_raw": _nan_none(r.cvr),
            "cvr_shrunk": float(r.cvr_shrunk), "aov": float(r.aov_shrunk), "target_acos": target,
            "value_bid": value_bid, "expected_spend_change": exp_spend, "expected_sales_change": exp_sales,
            "window_start": start.isoformat(), "window_end": end.isoformat(),
        })
    return _finish(rows, inp)


def _nan_none(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def _attach_names(df: pd.DataFrame, inp: OptimizerInput) -> pd.DataFrame:
    out = df.copy()
    if not inp.campaigns.empty:
        names = inp.campaigns.assign(campaign_id=inp.campaigns["campaign_id"].astype(str)) \
            .set_index("campaign_id")["name"]
        out["campaign_name"] = out["campaign_id"].map(names)
    else:
        out["campaign_name"] = None
    if not inp.ad_groups.empty:
        names = inp.ad_groups.assign(ad_group_id=inp.ad_groups["ad_group_id"].astype(str)) \
            .set_index("ad_group_id")["name"]
        out["ad_group_name"] = out["ad_group_id"].map(names)
    else:
        out["ad_group_name"] = None
    return out


def _enabled_parents(inp: OptimizerInput) -> set[tuple[str, str]] | None:
    """(campaign_id, ad_group_id) pairs whose campaign and ad group are both enabled; None when unknown."""
    if inp.ad_groups.empty:
        return None
    ag = inp.ad_groups.copy()
    ag["campaign_id"] = ag["campaign_id"].astype(str)
    ag["ad_group_id"] = ag["ad_group_id"].astype(str)
    ok = ag["state"].astype(str).str.lower().isin(["enabled"]) if "state" in ag.columns else True
    ag = ag[ok]
    if not inp.campaigns.empty and "state" in inp.campaigns.columns:
        live = set(inp.campaigns.loc[inp.campaigns["state"].astype(str).str.lower() == "enabled",
                                     "campaign_id"].astype(str))
        ag = ag[ag["campaign_id"].isin(live)]
    return set(zip(ag["campaign_id"], ag["ad_group_id"]))


def _finish(rows: list[dict], inp: OptimizerInput) -> pd.DataFrame:
    if not rows:
        return _empty_suggestions()
    df = pd.DataFrame(rows)
    df["profile_id"] = inp.profile_id
    for c in SUGGESTION_COLUMNS:
        if c not in df.columns:
            df[c] = None
    cur = pd.to_numeric(df["current_value"], errors="coerce")
    prop = pd.to_numeric(df["proposed_value"], errors="coerce")
    df["change_pct"] = ratio_series(prop - cur, cur)
    df["suggestion_key"] = [
        _key(inp.profile_id, r["type"], r["entity_id"], r["ad_group_id"], r["search_term"], r["dest_ad_group_id"])
        for r in df.to_dict("records")]
    return df[SUGGESTION_COLUMNS]


# ------------------------------------------------------------------------------------------
# search terms: negatives and harvesting

ASIN_RE = r"^b0[0-9a-z]{8}$"


def _term_frame(inp: OptimizerInput, s: Settings) -> tuple[pd.DataFrame, date, date, pd.DataFrame]:
    start, end = window(inp.as_of, s.search_term_lookback_days, s.settling_days)
    st = _num(inp.search_term_day)
    for c in ("campaign_id", "ad_group_id", "entity_id"):
        st[c] = st[c].astype(str)
    st["term"] = st["search_term"].astype(str).str.strip().str.lower()
    # orders ever seen for the term in this ad group (the whole history, settling days included):
    ever = st.groupby(["ad_group_id", "term"])["orders"].sum().rename("orders_ever")
    win = _in_window(st, start, end)
    if "match_type" not in win.columns:
        win = win.assign(match_type=None)
    win = win.assign(match_type=win["match_type"].fillna("").astype(str).str.upper())
    agg = win.groupby(["campaign_id", "ad_group_id", "term"], dropna=False).agg(
        clicks=("clicks", "sum"), cost=("cost", "sum"), orders=("orders", "sum"), sales=("sales", "sum"),
        impressions=("impressions", "sum"), match_types=("match_type", lambda x: ",".join(sorted(set(x)))),
        search_term=("search_term", "first"), source_entity=("entity_id", "first")).reset_index()
    agg = agg.merge(ever, left_on=["ad_group_id", "term"], right_index=True, how="left")
    # parent rates come from the keyword/target report of the same window (clicks of every term)
    tday = _num(_in_window(inp.target_day, *window(inp.as_of, s.search_term_lookback_days, s.settling_days)))
    if tday.empty:
        tday = win
    for c in ("campaign_id", "ad_group_id"):
        tday[c] = tday[c].astype(str)
    parents = tday.groupby(["campaign_id", "ad_group_id"], dropna=False)[["orders", "clicks", "sales"]].sum() \
        .reset_index()
    parents = _hier_cvr(parents, s)[["campaign_id", "ad_group_id", "cvr_campaign", "cvr_ad_group", "aov_ad_group",
                                     "orders", "clicks"]] \
        .rename(columns={"orders": "ag_orders", "clicks": "ag_clicks"})
    agg = agg.merge(parents, on=["campaign_id", "ad_group_id"], how="left")
    # leave-one-out parent rate: the ad group without the term itself, so a heavy bleeder does not drag down
    # the rate it is compared against
    rest_o = (agg["ag_orders"].fillna(0) - agg["orders"]).clip(lower=0)
    rest_n = (agg["ag_clicks"].fillna(0) - agg["clicks"]).clip(lower=0)
    camp = agg["cvr_campaign"].fillna(agg["cvr_ad_group"]).fillna(0.1)
    agg["cvr_parent_loo"], _ = shrink(rest_o, rest_n, camp, s.prior_max_clicks)
    agg = agg.drop(columns=["ag_orders", "ag_clicks", "cvr_campaign"])
    agg["cvr_ad_group"] = agg["cvr_ad_group"].fillna(parents["cvr_ad_group"].mean() if not parents.empty else 0.1)
    agg["aov_ad_group"] = agg["aov_ad_group"].fillna(parents["aov_ad_group"].mean() if not parents.empty else 25.0)
    agg["cvr_shrunk"], agg["weight"] = shrink(agg["orders"], agg["clicks"], agg["cvr_ad_group"], s.prior_max_clicks)
    agg = add_ratios(agg, ["acos", "cvr", "cpc", "aov"])
    agg = _attach_names(agg, inp)
    return agg, start, end, st


def _negated(inp: OptimizerInput) -> set[tuple[str, str]]:
    """(ad_group_id, term) pairs already negated exactly, plus ('campaign:'+id, term) for campaign negatives."""
    neg = inp.negatives
    if neg is None or neg.empty:
        return set()
    neg = neg.copy()
    if "state" in neg.columns:
        neg = neg[neg["state"].astype(str).str.lower().isin(["enabled", ""])]
    out = set()
    for r in neg.itertuples(index=False):
        term = str(r.keyword_text).strip().lower()
        ag = getattr(r, "ad_group_id", None)
        if ag is None or (isinstance(ag, float) and math.isnan(ag)) or ag == "":
            out.add(("campaign:" + str(r.campaign_id), term))
        else:
            out.add((str(ag), term))
    return out


def _exact_keywords(inp: OptimizerInput) -> set[tuple[str, str]]:
    ent = inp.entities
    if ent.empty:
        return set()
    kw = ent[(ent["kind"] == "keyword") & (ent["match_type"].astype(str).str.upper() == "EXACT")]
    if "state" in kw.columns:
        kw = kw[kw["state"].astype(str).str.lower() != "archived"]
    return set(zip(kw["ad_group_id"].astype(str), kw["text"].astype(str).str.strip().str.lower()))


def bleeder_probability(expected_orders: float | np.ndarray, cvr_ratio: float) -> float | np.ndarray:
    """P(the term's CVR < cvr_ratio x its parents' CVR | no order where `expected_orders` were expected).

    Beta-binomial in its Poisson limit: the term's rate relative to its parent, rho, has the prior Gamma(1, 1)
    (mean 1: a term converts like its ad group until shown otherwise; shape 1 = one pseudo-order, the same
    prior strength as `shrink`). No order where E orders were expected gives the posterior Gamma(1, 1 + E), so
    P(rho < k) = 1 - exp(-k (1 + E)). With k = 0.5, confidence 0.85 needs E >= 2.8 expected orders, 0.9 needs 3.6."""
    e = np.asarray(expected_orders, dtype=float)
    return 1.0 - np.exp(-cvr_ratio * (1.0 + np.maximum(e, 0.0)))


def negative_suggestions(inp: OptimizerInput, book: SettingsBook,
                         targets: dict[str, float] | None = None) -> pd.DataFrame:
    """Bleeders: search terms that cost clicks and, with high posterior probability, convert at well under their
    ad group's rate (`bleeder_probability` >= `bleeder_confidence`). The expected orders are the term's clicks
    times its ad group's leave-one-out CVR (shrunk toward the campaign), summed over every ad group of the
    account where it got clicks and never an order, unless the term converted somewhere in the account: then
    only the ad group's own evidence counts. A term with any order in the ad group is never negated there."""
    s0 = book.account
    if inp.search_term_day.empty:
        return _empty_suggestions()
    targets = targets if targets is not None else campaign_targets(inp, book)
    agg, start, end, st = _term_frame(inp, s0)
    negated = _negated(inp)
    exact_own = _exact_keywords(inp)
    enabled = _enabled_parents(inp)
    agg = agg.copy()
    agg["expected"] = agg["clicks"] * agg["cvr_parent_loo"]
    zero = (agg["orders_ever"].fillna(0) <= 0) & (agg["orders"] <= 0)
    pooled = agg[zero].groupby("term")["expected"].sum()
    converts_somewhere = set(st.loc[st["orders"] > 0, "term"])
    agg["expected_pooled"] = agg["term"].map(pooled).fillna(0.0)
    own_only = agg["term"].isin(converts_somewhere)
    agg.loc[own_only, "expected_pooled"] = agg.loc[own_only, "expected"]
    rows = []
    for r in agg[zero].itertuples(index=False):
        s = book.for_campaign(r.campaign_id)
        if (r.ad_group_id, r.term) in negated or ("campaign:" + r.campaign_id, r.term) in negated:
            continue
        if (r.ad_group_id, r.term) in exact_own:
            continue  # the ad group's own exact keyword: that is a bid question, not a negative
        if enabled is not None and (r.campaign_id, r.ad_group_id) not in enabled:
            continue
        if r.clicks < s.bleeder_min_clicks:
            continue
        prob = float(bleeder_probability(r.expected_pooled, s.bleeder_cvr_ratio))
        if prob < s.bleeder_confidence:
            continue
        target = targets.get(r.campaign_id, s.default_target_acos)
        elsewhere = r.expected_pooled - r.expected
        why = (f"Negate \"{r.search_term}\" in this ad group: {int(r.clicks)} clicks and ${r.cost:.2f} spent without "
               f"an order, where the rest of its ad group converts at {r.cvr_parent_loo:.1%} and would have brought "
               f"about {r.expected:.1f}"
               + (f" ({elsewhere:.1f} more expected from its clicks in other ad groups, also without an order)"
                  if elsewhere > 0.05 else "")
               + f"; {prob:.0%} likely it converts at under {s.bleeder_cvr_ratio:.0%} of its ad group's rate.")
        rows.append({
            "type": "negative", "entity_kind": "negative_keyword", "entity_id": None,
            "campaign_id": r.campaign_id, "campaign_name": r.campaign_name, "ad_group_id": r.ad_group_id,
            "ad_group_name": r.ad_group_name, "keyword_text": r.search_term, "match_type": "NEGATIVE_EXACT",
            "search_term": r.search_term, "current_value": None, "proposed_value": None,
            "rule": "bleeder_pooled" if elsewhere > 0.05 else "bleeder", "reason": why,
            "confidence": prob, "clicks": int(r.clicks), "orders": 0, "spend": float(r.cost),
            "sales": 0.0, "acos": None, "cvr_raw": _nan_none(r.cvr), "cvr_shrunk": float(r.cvr_shrunk),
            "aov": float(r.aov_ad_group), "target_acos": target, "value_bid": None,
            "expected_spend_change": -float(r.cost) * 7.0 / max((end - start).days + 1, 1),
            "expected_sales_change": 0.0, "window_start": start.isoformat(), "window_end": end.isoformat(),
        })
    return _finish(rows, inp)


def _harvest_destinations(inp: OptimizerInput) -> dict[str, tuple[str, str]]:
    """source ad group -> (campaign, ad group) of a manual ad group advertising the same products,
    preferring one that already holds exact keywords."""
    if inp.product_ads.empty or inp.campaigns.empty or inp.ad_groups.empty:
        return {}
    pa = inp.product_ads.copy()
    pa["ad_group_id"] = pa["ad_group_id"].astype(str)
    pa["campaign_id"] = pa["campaign_id"].astype(str)
    if "state" in pa.columns:
        pa = pa[pa["state"].astype(str).str.lower() == "enabled"]
    camps = inp.campaigns.assign(campaign_id=inp.campaigns["campaign_id"].astype(str))
    manual = set(camps.loc[camps["targeting_type"].astype(str).str.upper() == "MANUAL", "campaign_id"])
    live = _enabled_parents(inp) or set()
    ent = inp.entities
    exact_groups: dict[str, int] = {}
    kw_groups: set[str] = set()
    if not ent.empty:
        kw = ent[ent["kind"] == "keyword"]
        kw_groups = set(kw["ad_group_id"].astype(str))
        ex = kw[kw["match_type"].astype(str).str.upper() == "EXACT"]
        exact_groups = ex.groupby(ex["ad_group_id"].astype(str)).size().to_dict()
    asins = pa.groupby("ad_group_id")["asin"].apply(lambda x: frozenset(x.dropna()))
    candidates = [(ag, asins[ag]) for ag in asins.index
                  if pa.loc[pa["ad_group_id"] == ag, "campaign_id"].iloc[0] in manual and ag in kw_groups]
    camp_of = pa.drop_duplicates("ad_group_id").set_index("ad_group_id")["campaign_id"].to_dict()
    out = {}
    for src, src_asins in asins.items():
        best, best_score = None, -1.0
        for ag, dest_asins in candidates:
            if ag == src or (camp_of[ag], ag) not in live or not (src_asins & dest_asins):
                continue
            score = len(src_asins & dest_asins) / len(src_asins | dest_asins) + (1.0 if exact_groups.get(ag) else 0)
            if score > best_score:
                best, best_score = ag, score
        if best is not None:
            out[src] = (camp_of[best], best)
    return out


def harvest_suggestions(inp: OptimizerInput, book: SettingsBook,
                        targets: dict[str, float] | None = None) -> pd.DataFrame:
    s0 = book.account
    if inp.search_term_day.empty:
        return _empty_suggestions()
    targets = targets if targets is not None else campaign_targets(inp, book)
    agg, start, end, _ = _term_frame(inp, s0)
    agg = agg[~agg["term"].str.match(ASIN_RE)]
    exact_all = {t for _, t in _exact_keywords(inp)}
    dest = _harvest_destinations(inp)
    negated = _negated(inp)
    enabled = _enabled_parents(inp)
    names = _attach_names(pd.DataFrame({"campaign_id": [d[0] for d in dest.values()],
                                        "ad_group_id": [d[1] for d in dest.values()]}), inp)
    name_of = {r.ad_group_id: (r.campaign_name, r.ad_group_name) for r in names.itertuples(index=False)}
    rows = []
    seen_terms: set[str] = set()
    agg = agg.sort_values(["orders", "sales"], ascending=False)
    for r in agg.itertuples(index=False):
        s = book.for_campaign(r.campaign_id)
        mts = set(filter(None, r.match_types.split(",")))
        if "EXACT" in mts:
            continue  # only auto, broad and phrase sources
        if r.orders < s.harvest_min_orders or r.term in exact_all or r.term in seen_terms:
            continue
        if enabled is not None and (r.campaign_id, r.ad_group_id) not in enabled:
            continue
        target = targets.get(r.campaign_id, s.default_target_acos)
        if r.acos is None or pd.isna(r.acos) or r.acos > target * s.harvest_max_acos_factor:
            continue
        if r.ad_group_id not in dest:
            continue
        d_camp, d_ag = dest[r.ad_group_id]
        aov = (r.sales + 2 * r.aov_ad_group) / (r.orders + 2)
        value_bid = float(aov * r.cvr_shrunk * target)
        if value_bid < s.min_bid:
            continue  # at its shrunk CVR the term is not worth the lowest bid: more traffic would lose money
        bid = _round_money(min(value_bid, s.max_bid))
        seen_terms.add(r.term)
        isolate = (r.ad_group_id, r.term) not in negated
        why = (f"Add \"{r.search_term}\" as an exact keyword: {int(r.orders)} orders from {int(r.clicks)} clicks at "
               f"{r.acos:.0%} ACOS (target {target:.0%}); start at ${bid:.2f}"
               + (", and negate it exactly in the source ad group so the two do not compete." if isolate else "."))
        dn = name_of.get(d_ag, (None, None))
        rows.append({
            "type": "harvest", "entity_kind": "keyword", "entity_id": None,
            "campaign_id": r.campaign_id, "campaign_name": r.campaign_name, "ad_group_id": r.ad_group_id,
            "ad_group_name": r.ad_group_name, "keyword_text": r.search_term, "match_type": "EXACT",
            "search_term": r.search_term, "dest_campaign_id": d_camp, "dest_campaign_name": dn[0],
            "dest_ad_group_id": d_ag, "dest_ad_group_name": dn[1], "current_value": None, "proposed_value": bid,
            "rule": "harvest_exact" + ("+isolate" if isolate else ""), "reason": why,
            "confidence": float(r.weight), "clicks": int(r.clicks), "orders": int(r.orders), "spend": float(r.cost),
            "sales": float(r.sales), "acos": _nan_none(r.acos), "cvr_raw": _nan_none(r.cvr),
            "cvr_shrunk": float(r.cvr_shrunk), "aov": float(aov), "target_acos": target, "value_bid": value_bid,
            "expected_spend_change": 0.0, "expected_sales_change": 0.0,
            "window_start": start.isoformat(), "window_end": end.isoformat(),
            "_score": value_bid * float(r.clicks),
        })
    # the most valuable first (value per click x clicks ~ the profit the exact keyword can earn), capped per run
    rows.sort(key=lambda x: -x["_score"])
    rows = rows[:max(int(s0.harvest_max_per_run), 0)]
    for x in rows:
        x.pop("_score")
    return _finish(rows, inp)


# ------------------------------------------------------------------------------------------
# budgets and placements


def budget_suggestions(inp: OptimizerInput, book: SettingsBook,
                       targets: dict[str, float] | None = None) -> pd.DataFrame:
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
        if n_out >= s.budget_out_days and r.orders >= s.budget_min_orders and acos is not None and acos < target:
            new = min(budget * (1 + s.budget_step), s.budget_max)
            rule = "budget_up"
            why = (f"Raise the budget: the campaign ran out of budget on {n_out} of the last 7 days while its ACOS "
                   f"({acos:.0%}) is under the {target:.0%} target.")
        elif (acos is None and r.cost >= budget * 3 and r.clicks >= s.min_clicks * 2) or \
                (acos is not None and acos > target * s.budget_cut_acos_factor and r.orders >= 1
                 and r.cost / days_n >= 0.5 * budget):
            new = max(budget * (1 - s.budget_step), s.budget_min)
            rule = "budget_down"
            why = (f"Lower the budget: ACOS {'has no sales' if acos is None else f'of {acos:.0%}'} over "
                   f"{days_n} days is persistently above the {target:.0%} target while it spends "
                   f"${r.cost / days_n:.2f} a day of ${budget:.2f}.")
        else:
            continue
        new = _round_money(new)
        if abs(new - budget) < 0.01:
            continue
        ratio = new / budget
        daily_cost, daily_sales = r.cost / days_n, r.sales / days_n
        rows.append({
            "type": "budget", "entity_kind": "campaign", "entity_id": r.campaign_id, "campaign_id": r.campaign_id,
            "campaign_name": r.name, "current_value": budget, "proposed_value": new, "rule": rule, "reason": why,
            "confidence": min(1.0, float(r.orders) / 10.0) if rule == "budget_up" else min(1.0, r.clicks / 100.0),
            "clicks": int(r.clicks), "orders": int(r.orders), "spend": float(r.cost), "sales": float(r.sales),
            "acos": acos, "target_acos": target,
            "expected_spend_change": float(7 * daily_cost * (ratio - 1)),
            "expected_sales_change": float(7 * daily_sales * (ratio - 1)),
            "window_start": start.isoformat(), "window_end": end.isoformat(),
        })
    return _finish(rows, inp)


TOP_PLACEMENT_NAMES = ("top of search on-amazon", "placement_top", "top of search", "placement top")


def placement_suggestions(inp: OptimizerInput, book: SettingsBook,
                          targets: dict[str, float] | None = None) -> pd.DataFrame:
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
        pct = float(r.placement_top_pct) if r.placement_top_pct is not None and not pd.isna(r.placement_top_pct) else 0.0
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
        why = (f"{'Raise' if new > pct else 'Lower'} the top-of-search adjustment from {pct:.0f} % to {new:.0f} %: "
               f"top of search ran at {'no sales' if acos is None else f'{acos:.0%} ACOS'} "
               f"({int(r.orders)} orders, {int(r.clicks)} clicks) against a {target:.0%} target.")
        rows.append({
            "type": "placement", "entity_kind": "campaign", "entity_id": r.campaign_id,
            "campaign_id": r.campaign_id, "campaign_name": r.name, "current_value": pct, "proposed_value": new,
            "rule": "placement_top", "reason": why, "confidence": min(1.0, r.clicks / 200.0),
            "clicks": int(r.clicks), "orders": int(r.orders), "spend": float(r.cost), "sales": float(r.sales),
            "acos": acos, "cvr_raw": _nan_none(r.cvr), "target_acos": target,
            "expected_spend_change": float(r.cost * 7 / max((end - start).days + 1, 1)
                                           * ((1 + new / 100) / (1 + pct / 100) - 1)),
            "expected_sales_change": 0.0,
            "window_start": start.isoformat(), "window_end": end.isoformat(),
        })
    return _finish(rows, inp)


RULES = {"bid": bid_suggestions, "negative": negative_suggestions, "harvest": harvest_suggestions,
         "budget": budget_suggestions, "placement": placement_suggestions}


def optimize(inp: OptimizerInput, settings: Settings | SettingsBook | None = None,
             types: Iterable[str] = SUGGESTION_TYPES) -> pd.DataFrame:
    """Every rule over one profile's data; one DataFrame of suggestions (SUGGESTION_COLUMNS)."""
    book = settings if isinstance(settings, SettingsBook) else SettingsBook(settings or Settings())
    targets = campaign_targets(inp, book)
    frames = [RULES[t](inp, book, targets) for t in types]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return _empty_suggestions()
    out = pd.concat(frames, ignore_index=True)
    # a term both negated and harvested in the same ad group is a contradiction: keep the harvest
    harvested = set(zip(out.loc[out["type"] == "harvest", "ad_group_id"], out.loc[out["type"] == "harvest",
                                                                                   "search_term"]))
    clash = (out["type"] == "negative") & np.array(
        [(a, t) in harvested for a, t in zip(out["ad_group_id"], out["search_term"])], dtype=bool)
    return out[~clash].reset_index(drop=True)


def group_by_type(suggestions: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{type: frame} in the order of SUGGESTION_TYPES, empty types left out."""
    return {t: suggestions[suggestions["type"] == t] for t in SUGGESTION_TYPES
            if (suggestions["type"] == t).any()}
