"""Total sales, organic sales, TACoS and traffic beside the ad figures, and product names next to ASINs.

Total sales come from the SP-API sales-and-traffic report (services/sync/sales.py), which Amazon publishes about
72 hours late: the newest days of a range have ad figures but no total yet. TACoS and organic share are therefore
computed over the days that have a total (spend of a day without a total would inflate TACoS), and a day without
one shows as missing, never as zero. Organic sales = total sales - ad-attributed sales of the chosen window.
"""

from __future__ import annotations

import pandas as pd
from sqlite_utils import Database

from services.analytics.metrics import ratio_series, safe_ratio

SALES_COLUMNS = ["total_sales", "organic_sales", "organic_share", "tacos", "sessions", "unit_session_pct"]


def _frame(db: Database, sql: str, params: list) -> pd.DataFrame:
    cur = db.conn.execute(sql, params)
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


def add_daily_sales(db: Database, profile_id: str, daily: pd.DataFrame) -> pd.DataFrame:
    """The daily frame (date, cost, sales, …) with total_sales, organic_sales, sessions, total_units and the
    day's TACoS, organic share and unit session percentage (missing where Amazon has no total yet)."""
    if daily.empty:
        return daily.assign(**{c: pd.Series(dtype="float64") for c in SALES_COLUMNS + ["total_units"]})
    acct = _frame(
        db,
        "SELECT date, ordered_product_sales AS total_sales, units_ordered AS total_units, sessions "
        "FROM sales_traffic_account_day WHERE profile_id = ? AND date BETWEEN ? AND ?",
        [profile_id, str(daily["date"].min()), str(daily["date"].max())],
    )
    out = daily.drop(columns=[c for c in SALES_COLUMNS + ["total_units"] if c in daily.columns]).merge(
        acct, on="date", how="left"
    )
    known = out["total_sales"].notna()
    out["organic_sales"] = (out["total_sales"] - out["sales"].fillna(0)).where(known).clip(lower=0)
    out["tacos"] = ratio_series(out["cost"], out["total_sales"])
    out["organic_share"] = ratio_series(out["organic_sales"], out["total_sales"])
    out["unit_session_pct"] = ratio_series(out["total_units"], out["sessions"])
    return out


def sales_totals(daily: pd.DataFrame) -> dict[str, float | None]:
    """Tile values over the days that have a total: total and organic sales, TACoS, organic share, sessions,
    unit session percentage. All None when the range has no total at all (no role, or not synced yet)."""
    if "total_sales" not in daily.columns or daily["total_sales"].notna().sum() == 0:
        return {c: None for c in SALES_COLUMNS}
    known = daily[daily["total_sales"].notna()]
    total = float(known["total_sales"].sum())
    organic = float(known["organic_sales"].sum())
    sessions = float(known["sessions"].sum())
    return {
        "total_sales": total,
        "organic_sales": organic,
        "organic_share": safe_ratio(organic, total),
        "tacos": safe_ratio(float(known["cost"].fillna(0).sum()), total),
        "sessions": sessions,
        "unit_session_pct": safe_ratio(float(known["total_units"].sum()), sessions),
    }


def known_days(daily: pd.DataFrame) -> int:
    return int(daily["total_sales"].notna().sum()) if "total_sales" in daily.columns else 0


def asin_sales(db: Database, profile_id: str, start: str, end: str) -> pd.DataFrame:
    """Per ASIN over the range: total sales, units, sessions, unit session percentage (Amazon's per-day rows)."""
    df = _frame(
        db,
        "SELECT asin, ROUND(SUM(ordered_product_sales), 2) AS total_sales, SUM(units_ordered) AS total_units, "
        "SUM(sessions) AS sessions FROM sales_traffic_day WHERE profile_id = ? AND date BETWEEN ? AND ? GROUP BY asin",
        [profile_id, start, end],
    )
    df["unit_session_pct"] = ratio_series(df["total_units"], df["sessions"])
    return df


def add_product_sales(db: Database, profile_id: str, start: str, end: str, products: pd.DataFrame) -> pd.DataFrame:
    """Advertised products with their total and organic sales, TACoS and traffic (per ASIN: an ASIN sold under
    several SKUs carries its ASIN total on each of its rows, organic against the ASIN's summed ad sales)."""
    per_asin = asin_sales(db, profile_id, start, end)
    out = products.merge(per_asin.drop(columns=["total_units"]), on="asin", how="left")
    ad_by_asin = out.groupby("asin")["sales"].transform("sum") if "sales" in out.columns else 0
    out["organic_sales"] = (out["total_sales"] - ad_by_asin).clip(lower=0)
    out["tacos"] = ratio_series(out["cost"], out["total_sales"]) if "cost" in out.columns else None
    out["organic_share"] = ratio_series(out["organic_sales"], out["total_sales"])
    return out


def _product_field(db: Database, profile_id: str, field: str) -> dict[str, str]:
    rows = db.conn.execute(
        f"SELECT n.asin, n.{field} FROM products n JOIN profiles p ON p.marketplace_id = n.marketplace_id "
        f"WHERE p.profile_id = ? AND n.{field} IS NOT NULL",
        [profile_id],
    ).fetchall()
    return dict(rows)


def product_names(db: Database, profile_id: str) -> dict[str, str]:
    """ASIN -> product name in the profile's marketplace (from the Catalog Items cache)."""
    return _product_field(db, profile_id, "name")


def product_brands(db: Database, profile_id: str) -> dict[str, str]:
    """ASIN -> brand in the profile's marketplace (from the Catalog Items cache)."""
    return _product_field(db, profile_id, "brand")


def product_images(db: Database, profile_id: str) -> dict[str, str]:
    """ASIN -> main image URL in the profile's marketplace (from the Catalog Items cache)."""
    return _product_field(db, profile_id, "image_url")


def with_names(df: pd.DataFrame, names: dict[str, str], asin_col: str = "asin", name_col: str = "name") -> pd.DataFrame:
    """Insert a product-name column right after the ASIN column (missing names stay empty, never the ASIN)."""
    if asin_col not in df.columns:
        return df
    out = df.copy()
    if name_col in out.columns:
        out = out.drop(columns=[name_col])
    out.insert(out.columns.get_loc(asin_col) + 1, name_col, out[asin_col].map(names))
    return out
