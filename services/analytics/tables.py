"""Campaign analytics: the queries behind the pages a marketer works in every day.

Every function takes an open store and a `Query` (profile, date range, attribution
window) and returns plain pandas frames with the metric columns of
`services.metrics` (cost, sales, orders, units, impressions, clicks and the ratios),
so pages only render. The attribution window picks which of Amazon's purchase and
sales columns count as "orders" and "sales" (7 days is Amazon's seller default).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlite_utils import Database

from services.analytics.metrics import RATIOS, SUMS, add_ratios, change, totals
from services.analytics.periods import Period, comparison_gap, settling_days
from services.analytics.sales import (
    add_daily_sales,
    add_product_sales,
    product_brands,
    product_images,
    product_names,
    sales_totals,
    with_names,
)

WINDOWS = (7, 14)

PLACEMENT_LABELS = {
    "Top of Search on-Amazon": "Top of search",
    "Detail Page on-Amazon": "Product pages",
    "Other on-Amazon": "Rest of search",
    "Rest of Search on-Amazon": "Rest of search",
    "Off Amazon": "Off Amazon",
    "Amazon Business": "Amazon Business",
}

TILE_METRICS = ["cost", "sales", "acos", "roas", "orders", "units", "impressions", "clicks", "ctr", "cpc", "cvr", "aov"]
TILE_METRICS += ["total_sales", "organic_sales", "tacos", "organic_share", "sessions", "unit_session_pct"]
METRIC_ORDER = ["impressions", "clicks", "cost", "orders", "units", "sales", "ctr", "cpc", "cvr", "aov", "acos", "roas"]
METRIC_ORDER += ["total_sales", "organic_sales", "tacos", "organic_share", "sessions", "unit_session_pct"]


@dataclass(frozen=True)
class Query:
    """What every analytics call is about: one profile, a date range, an attribution window."""

    profile_id: str
    start: date
    end: date
    window: int = 7

    def __post_init__(self) -> None:
        if self.window not in WINDOWS:
            raise ValueError("The attribution window is 7 or 14 days.")
        if self.start > self.end:
            raise ValueError("The start date must be on or before the end date.")

    @property
    def params(self) -> list[str]:
        return [self.profile_id, self.start.isoformat(), self.end.isoformat()]

    def shifted(self, period: Period) -> Query:
        return Query(self.profile_id, period.start, period.end, self.window)


def _sums(window: int, prefix: str = "") -> str:
    """SQL for the summed metrics; the window is whitelisted by Query, never user text."""
    p = prefix
    return (
        f"SUM({p}impressions) AS impressions, SUM({p}clicks) AS clicks, ROUND(SUM({p}cost), 2) AS cost, "
        f"SUM(COALESCE({p}purchases_{window}d, 0)) AS orders, ROUND(SUM(COALESCE({p}sales_{window}d, 0)), 2) AS sales, "
        f"SUM(COALESCE({p}units_{window}d, 0)) AS units"
    )


def _frame(db: Database, sql: str, params: list) -> pd.DataFrame:
    cur = db.conn.execute(sql, params)
    cols = [c[0] for c in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=cols)


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("impressions", "clicks", "orders", "units"):
        if col in df.columns:
            df[col] = pd.to_numeric(df[col], errors="coerce").fillna(0).astype("int64")
    for col in ("cost", "sales"):
        if col in df.columns:
            df[col] = pd.to_numeric(df[col], errors="coerce").fillna(0.0).round(2)
    return add_ratios(df, ["ctr", "cpc", "cvr", "aov", "acos", "roas"])


# ------------------------------------------------------------------------------------------
# profile facts


def profile_info(db: Database, profile_id: str) -> dict:
    """Currency, time zone and the dates with data: what the sidebar shows beside the profile."""
    row = db.conn.execute(
        "SELECT profile_id, country_code, currency_code, timezone, account_name, account_id FROM profiles WHERE profile_id = ?",
        [profile_id],
    ).fetchone()
    if row is None:
        return {}
    info = dict(zip(["profile_id", "country_code", "currency_code", "timezone", "account_name", "account_id"], row))
    first, last = data_span(db, profile_id)
    info["first_date"], info["last_date"] = first, last
    return info


def data_span(db: Database, profile_id: str) -> tuple[date | None, date | None]:
    row = db.conn.execute("SELECT MIN(date), MAX(date) FROM campaign_day WHERE profile_id = ?", [profile_id]).fetchone()
    if not row or row[0] is None:
        return None, None
    return date.fromisoformat(row[0]), date.fromisoformat(row[1])


def last_sync(db: Database, account_id: str) -> dict | None:
    """The newest finished sync of an account: when, and how it went."""
    row = db.conn.execute(
        "SELECT started_at, finished_at, status FROM sync_runs WHERE account_id = ? ORDER BY started_at DESC LIMIT 1",
        [account_id],
    ).fetchone()
    if row is None:
        return None
    return {"started_at": row[0], "finished_at": row[1], "status": row[2]}


# ------------------------------------------------------------------------------------------
# overview


def daily(db: Database, q: Query) -> pd.DataFrame:
    """One row per day of the range (days without data are zeros, so charts show the gap honestly)."""
    df = _frame(
        db,
        f"SELECT date, {_sums(q.window)} FROM campaign_day WHERE profile_id = ? AND date BETWEEN ? AND ? GROUP BY date ORDER BY date",
        q.params,
    )
    days = pd.DataFrame(
        {"date": [(q.start + timedelta(days=i)).isoformat() for i in range((q.end - q.start).days + 1)]}
    )
    df = days.merge(df, on="date", how="left")
    return _finish(df)


@dataclass
class Tile:
    name: str
    label: str
    value: float | None
    previous: float | None
    change: float | None
    # For cost-like metrics a rise is bad; the page colours deltas with this.
    higher_is_better: bool


_LOWER_IS_BETTER = {"cost", "acos", "cpc", "tacos"}


def tiles(current: dict, previous: dict | None) -> list[Tile]:
    out = []
    for name in TILE_METRICS:
        label = RATIOS[name][2] if name in RATIOS else SUMS[name][0]
        value = current.get(name)
        prev = previous.get(name) if previous else None
        out.append(Tile(name, label, value, prev, change(value, prev), name not in _LOWER_IS_BETTER))
    return out


@dataclass
class Overview:
    tiles: list[Tile]
    daily: pd.DataFrame
    movers: pd.DataFrame
    settling: list[date]
    # "no data before 28 Aug 2026" when the comparison period starts before the synced data: no change is shown
    comparison_gap: str | None = None


def overview(db: Database, q: Query, comparison: Period | None) -> Overview:
    """Tiles with their change against the comparison period, the daily trend and the biggest movers.

    When the comparison period starts before the first synced day, its sums cover only part of it: no change
    and no movers are computed, and `comparison_gap` says why."""
    cur_daily = add_daily_sales(db, q.profile_id, daily(db, q))
    current = {**totals(cur_daily), **sales_totals(cur_daily)}
    first, last = data_span(db, q.profile_id)
    gap = comparison_gap(comparison, first)
    if gap:
        comparison = None
    previous = None
    if comparison:
        prev_daily = add_daily_sales(db, q.profile_id, daily(db, q.shifted(comparison)))
        previous = {**totals(prev_daily), **sales_totals(prev_daily)}
    settling = [d for d in settling_days(last) if q.start <= d <= q.end] if last else []
    return Overview(tiles(current, previous), cur_daily, movers(db, q, comparison), settling, gap)


def movers(db: Database, q: Query, comparison: Period | None, limit: int = 10) -> pd.DataFrame:
    """Campaigns whose spend or sales moved most against the comparison period."""
    cur = _campaign_sums(db, q)
    if comparison is None or cur.empty:
        return pd.DataFrame(
            columns=[
                "campaign_id",
                "campaign_name",
                "cost",
                "cost_prev",
                "cost_change",
                "sales",
                "sales_prev",
                "sales_change",
            ]
        )
    prev = _campaign_sums(db, q.shifted(comparison))[["campaign_id", "cost", "sales", "orders"]]
    df = cur.merge(prev, on="campaign_id", how="outer", suffixes=("", "_prev")).fillna(
        {"cost": 0, "sales": 0, "cost_prev": 0, "sales_prev": 0}
    )
    df["cost_change"] = df["cost"] - df["cost_prev"]
    df["sales_change"] = df["sales"] - df["sales_prev"]
    df["moved"] = df["cost_change"].abs() + df["sales_change"].abs()
    df = df.sort_values("moved", ascending=False).head(limit)
    names = dict(
        db.conn.execute("SELECT campaign_id, name FROM campaigns WHERE profile_id = ?", [q.profile_id]).fetchall()
    )
    df["campaign_name"] = df["campaign_id"].map(names).fillna(df.get("campaign_name"))
    return df[
        ["campaign_id", "campaign_name", "cost", "cost_prev", "cost_change", "sales", "sales_prev", "sales_change"]
    ].reset_index(drop=True)


def _campaign_sums(db: Database, q: Query) -> pd.DataFrame:
    return _frame(
        db,
        f"SELECT campaign_id, MAX(campaign_name) AS campaign_name, {_sums(q.window)} FROM campaign_day "
        "WHERE profile_id = ? AND date BETWEEN ? AND ? GROUP BY campaign_id",
        q.params,
    )


# ------------------------------------------------------------------------------------------
# campaigns and drill-down


def campaigns_table(db: Database, q: Query) -> pd.DataFrame:
    """Every campaign with its settings, budget use, all metrics and a daily-sales sparkline."""
    meta = _frame(
        db,
        "SELECT campaign_id, name AS campaign_name, state, serving_status, targeting_type, bidding_strategy, budget, "
        "placement_top_pct FROM campaigns WHERE profile_id = ?",
        [q.profile_id],
    )
    sums = _campaign_sums(db, q).drop(columns=["campaign_name"])
    df = meta.merge(sums, on="campaign_id", how="left")
    df = _finish(df)
    days = (q.end - q.start).days + 1
    df["budget_use"] = (df["cost"] / days) / df["budget"].where(df["budget"] > 0)
    spark = _frame(
        db,
        f"SELECT campaign_id, date, ROUND(SUM(COALESCE(sales_{q.window}d, 0)), 2) AS sales FROM campaign_day "
        "WHERE profile_id = ? AND date BETWEEN ? AND ? GROUP BY campaign_id, date ORDER BY date",
        q.params,
    )
    all_days = [(q.start + timedelta(days=i)).isoformat() for i in range(days)]
    by_campaign = {cid: dict(zip(g["date"], g["sales"])) for cid, g in spark.groupby("campaign_id")}
    df["sales_trend"] = df["campaign_id"].map(lambda c: [float(by_campaign.get(c, {}).get(d, 0.0)) for d in all_days])
    df["state"] = df["state"].fillna("")
    return df.sort_values("cost", ascending=False, ignore_index=True)


def ad_groups_table(db: Database, q: Query, campaign_id: str) -> pd.DataFrame:
    """The ad groups of one campaign, with the metrics of their keywords and targets."""
    meta = _frame(
        db,
        "SELECT ad_group_id, name AS ad_group_name, state, default_bid FROM ad_groups WHERE profile_id = ? AND campaign_id = ?",
        [q.profile_id, campaign_id],
    )
    sums = _frame(
        db,
        f"SELECT ad_group_id, {_sums(q.window)} FROM target_day WHERE profile_id = ? AND date BETWEEN ? AND ? AND campaign_id = ? GROUP BY ad_group_id",
        [*q.params, campaign_id],
    )
    return _finish(meta.merge(sums, on="ad_group_id", how="left")).sort_values(
        "cost", ascending=False, ignore_index=True
    )


def targets_table(db: Database, q: Query, ad_group_id: str) -> pd.DataFrame:
    """Keywords and product/auto targets of one ad group, with bid, state and metrics."""
    meta = _frame(
        db,
        "SELECT keyword_id AS target_id, keyword_text AS targeting, match_type, state, bid, 'Keyword' AS kind FROM keywords "
        "WHERE profile_id = ? AND ad_group_id = ? "
        "UNION ALL SELECT target_id, COALESCE(targeting, resolved_expression, expression), expression_type, state, bid, 'Target' FROM targets "
        "WHERE profile_id = ? AND ad_group_id = ?",
        [q.profile_id, ad_group_id, q.profile_id, ad_group_id],
    )
    sums = _frame(
        db,
        f"SELECT keyword_id AS target_id, {_sums(q.window)} FROM target_day WHERE profile_id = ? AND date BETWEEN ? AND ? AND ad_group_id = ? GROUP BY keyword_id",
        [*q.params, ad_group_id],
    )
    out = _finish(meta.merge(sums, on="target_id", how="left"))
    names = product_names(db, q.profile_id)
    out["target_product"] = out["targeting"].map(lambda t: _asin_name(t, names))
    return out.sort_values("cost", ascending=False, ignore_index=True)


_ASIN_IN = re.compile(r"\b(B0[0-9A-Z]{8})\b", re.IGNORECASE)


def _asin_name(text: object, names: dict[str, str]) -> str | None:
    """The name of the ASIN a product target aims at (asin="B0…"), from the Catalog Items cache; None otherwise."""
    m = _ASIN_IN.search(str(text or ""))
    return names.get(m.group(1).upper()) if m else None


def placements_table(db: Database, q: Query, campaign_id: str | None = None) -> pd.DataFrame:
    """Top of search, rest of search and product pages side by side."""
    sql = f"SELECT placement, {_sums(q.window)} FROM placement_day WHERE profile_id = ? AND date BETWEEN ? AND ?"
    params = q.params
    if campaign_id:
        sql += " AND campaign_id = ?"
        params = [*params, campaign_id]
    df = _frame(db, sql + " GROUP BY placement", params)
    df["placement"] = df["placement"].map(lambda p: PLACEMENT_LABELS.get(p, p))
    df = df.groupby("placement", as_index=False).sum(numeric_only=True)
    order = {"Top of search": 0, "Rest of search": 1, "Product pages": 2}
    df = df.sort_values("placement", key=lambda s: s.map(lambda p: order.get(p, 9)), ignore_index=True)
    return _finish(df)


# ------------------------------------------------------------------------------------------
# search terms


def search_terms_table(db: Database, q: Query) -> pd.DataFrame:
    """Every search term with the keyword or target that triggered it and its match type.

    The labels (keyword text, match type, campaign, ad group) are one set per keyword: they are read from the
    keyword's latest row in the range (by rowid, a point lookup per keyword) instead of being carried through
    the (term, keyword) GROUP BY, whose sort they made ~3x slower on the large world (~640k rows in 30 days).
    """
    sums = _frame(
        db,
        f"SELECT search_term, keyword_id, MAX(rowid) AS row_id, {_sums(q.window)} FROM search_term_day "
        "WHERE profile_id = ? AND date BETWEEN ? AND ? GROUP BY keyword_id, search_term",
        q.params,
    )
    latest = sums.groupby("keyword_id")["row_id"].max() if not sums.empty else pd.Series(dtype="int64")
    labels = _frame(
        db,
        "SELECT keyword_id, COALESCE(keyword, targeting) AS triggered_by, match_type, keyword_type, campaign_id, "
        "campaign_name, ad_group_id, ad_group_name FROM search_term_day WHERE rowid IN (SELECT value FROM json_each(?))",
        [json.dumps([int(r) for r in latest.tolist()])],
    )
    df = sums.drop(columns=["row_id"]).merge(labels, on="keyword_id", how="left")
    df = df[["search_term", "keyword_id", *labels.columns[1:], *sums.columns[3:]]]
    return _finish(df).sort_values("cost", ascending=False, ignore_index=True)


def wasted_spend(terms: pd.DataFrame) -> pd.DataFrame:
    """Search terms that took clicks or spend and brought no order."""
    out = terms[(terms["orders"] == 0) & ((terms["clicks"] > 0) | (terms["cost"] > 0))]
    return out.sort_values("cost", ascending=False, ignore_index=True)


def converters_not_exact(db: Database, q: Query, terms: pd.DataFrame) -> pd.DataFrame:
    """Converting search terms that no enabled exact keyword of the profile targets yet: harvest candidates."""
    exact = {
        str(t).strip().lower()
        for (t,) in db.conn.execute(
            "SELECT keyword_text FROM keywords WHERE profile_id = ? AND match_type = 'EXACT' AND state = 'ENABLED'",
            [q.profile_id],
        )
    }
    conv = terms[(terms["orders"] > 0) & (terms["match_type"].fillna("").str.upper() != "EXACT")]
    conv = conv[~conv["search_term"].str.strip().str.lower().isin(exact)]
    return conv.sort_values("orders", ascending=False, ignore_index=True)


# ------------------------------------------------------------------------------------------
# products


def products_table(db: Database, q: Query) -> pd.DataFrame:
    """Advertised ASIN/SKU performance."""
    df = _frame(
        db,
        f"SELECT asin, sku, COUNT(DISTINCT ad_id) AS ads, {_sums(q.window)} FROM advertised_product_day "
        "WHERE profile_id = ? AND date BETWEEN ? AND ? GROUP BY asin, sku",
        q.params,
    )
    df = add_product_sales(db, q.profile_id, q.start.isoformat(), q.end.isoformat(), _finish(df))
    df = with_names(df, product_names(db, q.profile_id))
    df.insert(df.columns.get_loc("name") + 1, "brand", df["asin"].map(product_brands(db, q.profile_id)))
    df.insert(df.columns.get_loc("name"), "image_url", df["asin"].map(product_images(db, q.profile_id)))
    return df.sort_values("cost", ascending=False, ignore_index=True)


def halo_table(db: Database, q: Query) -> pd.DataFrame:
    """Purchases of other products after an ad click (spPurchasedProduct): the halo of each advertised ASIN."""
    w = q.window
    df = _frame(
        db,
        f"SELECT advertised_asin, purchased_asin, SUM(COALESCE(purchases_other_sku_{w}d, 0)) AS orders, "
        f"SUM(COALESCE(units_other_sku_{w}d, 0)) AS units, ROUND(SUM(COALESCE(sales_other_sku_{w}d, 0)), 2) AS sales "
        "FROM purchased_product_day WHERE profile_id = ? AND date BETWEEN ? AND ? GROUP BY advertised_asin, purchased_asin",
        q.params,
    )
    names = product_names(db, q.profile_id)
    df = with_names(
        with_names(df, names, "purchased_asin", "purchased_name"), names, "advertised_asin", "advertised_name"
    )
    return df.sort_values("sales", ascending=False, ignore_index=True)


def display_columns(df: pd.DataFrame, first: list[str]) -> list[str]:
    """Identity columns first, then metrics in the order marketers read them."""
    return [c for c in first if c in df.columns] + [c for c in METRIC_ORDER if c in df.columns and c not in first]
