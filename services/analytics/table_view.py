"""How the campaign tables are laid out for a marketer: reading order, a totals row, search and filters.

The pages only draw what these functions return, so the order of columns, what "Total" means and what a filter
keeps are decided once, here, and the CSV a person downloads holds the same columns as the table on screen.
"""

from __future__ import annotations

import pandas as pd

from services.analytics.metrics import RATIOS, SUMS, add_ratios

# What a marketer reads first (name, spend, sales, ACOS, orders), then the rest of the funnel.
READING_ORDER = [
    "cost",
    "sales",
    "acos",
    "orders",
    "roas",
    "clicks",
    "impressions",
    "ctr",
    "cpc",
    "cvr",
    "units",
    "aov",
]

CAMPAIGN_COLUMNS = ["campaign_name", *READING_ORDER, "budget", "budget_use", "state", "serving_status"]
CAMPAIGN_COLUMNS += ["targeting_type", "bidding_strategy", "sales_trend", "campaign_id"]
AD_GROUP_COLUMNS = ["ad_group_name", *READING_ORDER, "state", "default_bid", "ad_group_id"]
TARGET_COLUMNS = ["targeting", *READING_ORDER, "target_product", "match_type", "kind", "state", "bid", "target_id"]

TOTAL_MARK = "Total"
# additive columns that are not report metrics: summed in the totals row (a total daily budget reads fine)
_ALSO_SUMMED = {"budget"}


def arrange(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The columns in reading order (those the frame has); anything else is left out."""
    return df[[c for c in columns if c in df.columns]].reset_index(drop=True)


def with_totals(df: pd.DataFrame, label_column: str, noun: str, exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    """The table with a totals row first: sums of the additive columns, ratios recomputed from those sums (never
    averaged), other cells empty. The label says how many rows it adds up ("Total · 24 campaigns").

    `exclude` names sums that are repeated across rows and so do not add up (an ASIN's total sales on each of its
    SKUs' rows); their cells, and the ratios built on them, stay empty in the totals row."""
    if df.empty:
        return df
    summed = {
        c: pd.to_numeric(df[c], errors="coerce").sum()
        for c in df.columns
        if (c in SUMS or c in _ALSO_SUMMED) and c not in exclude
    }
    row = add_ratios(pd.DataFrame([summed]), [r for r in RATIOS if r in df.columns]).iloc[0].to_dict()
    row[label_column] = f"{TOTAL_MARK} · {len(df):,} {noun}"
    total = pd.DataFrame([{c: row.get(c) for c in df.columns}])
    total = total.astype({c: df[c].dtype for c in df.columns if c in summed and df[c].dtype.kind in "if"})
    return pd.concat([total, df], ignore_index=True)


def is_total(row: pd.Series | dict, label_column: str) -> bool:
    return str(row.get(label_column) or "").startswith(f"{TOTAL_MARK} · ")


def search(df: pd.DataFrame, text: str, columns: list[str]) -> pd.DataFrame:
    """Rows whose text columns contain `text` (case-insensitive, as typed: no pattern syntax)."""
    needle = (text or "").strip().lower()
    if not needle or df.empty:
        return df
    hit = pd.Series(False, index=df.index)
    for col in columns:
        if col in df.columns:
            hit |= df[col].fillna("").astype(str).str.lower().str.contains(needle, regex=False)
    return df[hit]


def keep_values(df: pd.DataFrame, column: str, values: list[str] | None) -> pd.DataFrame:
    """Rows whose `column` is one of `values`; every row when nothing is chosen."""
    if not values or column not in df.columns:
        return df
    return df[df[column].isin(values)]
