"""The optimizer's input frames, the suggestion columns, and the helpers every rule shares (windows, shrinkage,
hierarchical conversion rates, cool-downs, naming).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from services.analytics.metrics import ratio_series, safe_ratio
from services.analytics.periods import settled_window
from services.optimizer.settings import Settings


@dataclass
class OptimizerInput:
    """Normalised frames (generic metric names: impressions, clicks, cost, orders, sales).

    target_day:       date, entity_id, campaign_id, ad_group_id, impressions, clicks, cost, orders, sales
    target_day_counts: entity_id, days: how many rows each keyword or target has in the bid rule's window. Given
                      (the loader's form), `target_day` may leave out the days whose clicks, cost, orders and sales
                      are all zero, except for targets whose bid changed: they add nothing to a sum, and the
                      response curves count them from here. None: `target_day` holds every day.
    entities:         entity_id, kind (keyword|target), campaign_id, ad_group_id, text, match_type, state, bid
    search_term_day:  date, campaign_id, ad_group_id, entity_id, search_term, match_type, clicks, cost, orders, sales
    campaigns:        campaign_id, name, state, targeting_type, budget, bidding_strategy, placement_top_pct, ...
    ad_groups:        ad_group_id, campaign_id, name, state, default_bid
    campaign_day:     date, campaign_id, budget, impressions, clicks, cost, orders, sales
    placement_day:    date, campaign_id, placement, impressions, clicks, cost, orders, sales
    negatives:        campaign_id, ad_group_id, keyword_text, match_type, state
    product_ads:      campaign_id, ad_group_id, asin, sku, state
    margins:          asin, margin (pre-ad margin as a fraction of price = break-even ACOS)
    changes:          entity_id, change_type, applied_at, old_value, new_value (cool-down, bid history)
    bid_recommendations: entity_id, low, suggested, high, level (Amazon's suggested range; optional, fetched by
                      the caller through `services.optimizer.recommendations`)
    asin_sales:       asin, total_sales, ad_sales over the rule window's days that have a total (Target TACoS)
    account_sales:    {"total_sales", "ad_sales"} of the account over the same days; empty when none are known
    search_term_history: ad_group_id, search_term, orders, converted: the whole history's orders per ad group and
                      term as Amazon wrote it, only where some row had an order (`data.load_input` aggregates it in
                      SQL so that `search_term_day` need only hold the rules' window). None: derived from
                      `search_term_day`, which then holds the whole history (tests build inputs that way).
    ad_group_totals:  campaign_id, ad_group_id, orders, clicks, sales of `target_day` summed over `totals_window`
                      (the search-term rules' window), in SQL, so that `target_day` need only hold the bid rule's
                      lookback. None: the search-term rules sum `target_day` themselves.
    search_term_totals: campaign_id, ad_group_id, entity_id, search_term, match_type, first_date and the metrics of
                      `search_term_day` summed over `totals_window` in SQL (the loader's form: it then leaves
                      `search_term_day` empty). None: the rules sum `search_term_day`.
    target_totals:    entity_id, campaign_id, ad_group_id, days and the metrics of the keywords and targets whose bid
                      held all the bid rule's window, summed over it (the loader's form when the sync's spans are
                      current: `target_day` then holds only the targets whose bid changed, every day of theirs, and
                      `target_day_counts` is None). None: `target_day` holds them all.
    """

    as_of: date
    profile_id: str = ""
    target_day: pd.DataFrame = field(default_factory=pd.DataFrame)
    target_day_counts: pd.DataFrame | None = None
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
    bid_recommendations: pd.DataFrame = field(default_factory=pd.DataFrame)
    asin_sales: pd.DataFrame = field(default_factory=pd.DataFrame)
    account_sales: dict = field(default_factory=dict)
    search_term_history: pd.DataFrame | None = None
    ad_group_totals: pd.DataFrame | None = None
    search_term_totals: pd.DataFrame | None = None
    totals_window: tuple[date, date] | None = None
    target_totals: pd.DataFrame | None = None
    # frames several rules derive alike (the search-term aggregate), computed once per run
    memo: dict = field(default_factory=dict, repr=False, compare=False)


SUGGESTION_TYPES = ("bid", "negative", "harvest", "budget", "placement")
TYPE_LABELS = {
    "bid": "Bid changes",
    "negative": "Negative keywords",
    "harvest": "New exact keywords",
    "budget": "Budgets",
    "placement": "Top-of-search placement",
}

SUGGESTION_COLUMNS = [
    "suggestion_key",
    "profile_id",
    "type",
    "entity_kind",
    "entity_id",
    "campaign_id",
    "campaign_name",
    "ad_group_id",
    "ad_group_name",
    "keyword_text",
    "match_type",
    "search_term",
    "dest_campaign_id",
    "dest_campaign_name",
    "dest_ad_group_id",
    "dest_ad_group_name",
    "current_value",
    "proposed_value",
    "change_pct",
    "rule",
    "reason",
    "confidence",
    "clicks",
    "orders",
    "spend",
    "sales",
    "acos",
    "cvr_raw",
    "cvr_shrunk",
    "aov",
    "target_acos",
    "value_bid",
    "expected_spend_change",
    "expected_sales_change",
    "window_start",
    "window_end",
    "evidence",  # JSON text: the target the rule aimed at and its source (target_kind, target_value, ...)
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


ISO_DATE = r"\d{4}-\d{2}-\d{2}"  # how the store writes a day


def _dates(df: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(df["date"]).dt.date


def window(as_of: date, lookback_days: int, settling_days: int) -> tuple[date, date]:
    """[start, end] of the data the rules use: `lookback_days` back from as_of, newest settling days left out."""
    period = settled_window(as_of, lookback_days, settling_days)
    return period.start, period.end


def _in_window(df: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """The rows of `df` dated within [start, end]. The store's dates are ISO text, which sorts like the dates it
    names, so they are compared as text (parsing millions of them cost seconds); anything else is parsed."""
    if df is None or df.empty or "date" not in df.columns:
        return pd.DataFrame(columns=list(df.columns) if df is not None else [])
    col = df["date"]
    if isinstance(col.dtype, pd.StringDtype) and col.str.fullmatch(ISO_DATE).all():
        return df[(col >= start.isoformat()) & (col <= end.isoformat())]
    d = _dates(df)
    return df[(d >= start) & (d <= end)]


def shrink(
    orders: pd.Series | float,
    clicks: pd.Series | float,
    parent_cvr: pd.Series | float,
    max_prior: float = 50.0,
    min_prior: float = 5.0,
):
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
    out = out.merge(
        grp[["campaign_id", "ad_group_id", "cvr_ad_group", "aov_ad_group"]],
        on=["campaign_id", "ad_group_id"],
        how="left",
    )
    return out


# ------------------------------------------------------------------------------------------
# targets (ACOS) from margins


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


def term_history(inp: OptimizerInput, st: pd.DataFrame) -> tuple[pd.Series, set[str]]:
    """(orders ever per (ad_group_id, term), terms that converted anywhere) over the whole history.

    `st` is `search_term_day` with `term` (normalised) and numeric `orders`; it is the source unless the loader
    gave `search_term_history`, the same sums aggregated in SQL (so the rules need not read every old row)."""
    h = inp.search_term_history
    if h is None:
        ever = st.groupby(["ad_group_id", "term"])["orders"].sum().rename("orders_ever")
        return ever, set(st.loc[st["orders"] > 0, "term"])
    h = _num(h, ["orders", "converted"])
    h["ad_group_id"] = h["ad_group_id"].astype(str)
    h["term"] = h["search_term"].astype(str).str.strip().str.lower()
    ever = h.groupby(["ad_group_id", "term"])["orders"].sum().rename("orders_ever")
    return ever, set(h.loc[h["converted"] > 0, "term"])


def _nan_none(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def _attach_names(df: pd.DataFrame, inp: OptimizerInput) -> pd.DataFrame:
    out = df.copy()
    if not inp.campaigns.empty:
        names = inp.campaigns.assign(campaign_id=inp.campaigns["campaign_id"].astype(str)).set_index("campaign_id")[
            "name"
        ]
        out["campaign_name"] = out["campaign_id"].map(names)
    else:
        out["campaign_name"] = None
    if not inp.ad_groups.empty:
        names = inp.ad_groups.assign(ad_group_id=inp.ad_groups["ad_group_id"].astype(str)).set_index("ad_group_id")[
            "name"
        ]
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
        live = set(
            inp.campaigns.loc[inp.campaigns["state"].astype(str).str.lower() == "enabled", "campaign_id"].astype(str)
        )
        ag = ag[ag["campaign_id"].isin(live)]
    return set(zip(ag["campaign_id"].tolist(), ag["ad_group_id"].tolist()))


def _per_campaign(df: pd.DataFrame, book: Any, setting: str) -> pd.Series:
    """`book.for_campaign(campaign_id).<setting>` for each row of `df`, looked up once per campaign: the rules
    drop the rows a per-campaign gate rejects before their row loop instead of inside it."""
    cids = df["campaign_id"]
    value = {c: getattr(book.for_campaign(c), setting) for c in cids.drop_duplicates()}
    return cids.map(value).astype(float)


def _plain_rows(df: pd.DataFrame) -> Iterable:
    """`df.itertuples(index=False)` with its text columns as Python strings first: reading a pyarrow-backed
    column one cell at a time costs microseconds a cell, which over a large profile's terms adds up to seconds."""
    text = {c: object for c in df.columns if isinstance(df[c].dtype, pd.StringDtype)}
    return (df.astype(text) if text else df).itertuples(index=False)


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
    # column by column as plain Python values (records of every cell cost a second on a large profile)
    parts = [df[c].astype(object).tolist() for c in ("type", "entity_id", "ad_group_id", "search_term")]
    dest = df["dest_ad_group_id"].astype(object).tolist()
    df["suggestion_key"] = [_key(inp.profile_id, *p, d) for *p, d in zip(*parts, dest)]
    return df[SUGGESTION_COLUMNS]


# ------------------------------------------------------------------------------------------
# search terms: negatives and harvesting


def target_clicks(inp: OptimizerInput) -> pd.Series:
    """Clicks per keyword or target (by entity_id as text) over what the input holds of them: their days, and the
    sums of those whose days the loader did not read."""
    parts = []
    if not inp.target_day.empty:
        parts.append(inp.target_day.groupby(inp.target_day["entity_id"].astype(str))["clicks"].sum())
    totals = inp.target_totals
    if totals is not None and not totals.empty:
        parts.append(totals.groupby(totals["entity_id"].astype(str))["clicks"].sum())
    if not parts:
        return pd.Series(dtype=float)
    return pd.concat(parts).groupby(level=0).sum()
