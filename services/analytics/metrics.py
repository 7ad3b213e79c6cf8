"""Advertising metrics, defined once.

Every page, chart, export and optimizer rule takes its ratios from here, so that
ACOS on the overview is the ACOS the optimizer reasons about. A ratio whose
denominator is zero is missing (NaN / None), never infinity or an error; the UI
shows it as "—".
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

MISSING = "—"
MINUS = "\u2212"  # the typographic minus: "−$26.14", never "$-26.14" nor a hyphen a spreadsheet reads as a formula
CURRENCY_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "CAD": "CA$", "JPY": "¥"}

Number = float | int | None


def safe_ratio(numerator: Number, denominator: Number) -> float | None:
    """numerator / denominator, or None when the denominator is zero or missing."""
    if numerator is None or denominator is None:
        return None
    try:
        if isinstance(numerator, float) and math.isnan(numerator):
            return None
        if isinstance(denominator, float) and math.isnan(denominator):
            return None
    except TypeError:
        return None
    if denominator == 0:
        return None
    return float(numerator) / float(denominator)


def ratio_series(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """Vectorised safe_ratio: NaN where the denominator is zero."""
    num = pd.to_numeric(numerator, errors="coerce").astype("float64")
    den = pd.to_numeric(denominator, errors="coerce").astype("float64")
    out = num / den.where(den != 0)
    return out.replace([np.inf, -np.inf], np.nan)


# name -> (numerator column, denominator column, human label, kind)
RATIOS: dict[str, tuple[str, str, str, str]] = {
    "acos": ("cost", "sales", "ACOS", "percent"),
    "roas": ("sales", "cost", "ROAS", "multiple"),
    "ctr": ("clicks", "impressions", "CTR", "percent"),
    "cpc": ("cost", "clicks", "CPC", "money"),
    "cvr": ("orders", "clicks", "CVR", "percent"),
    "aov": ("sales", "orders", "AOV", "money"),
    "tacos": ("cost", "total_sales", "TACoS", "percent"),
    "organic_share": ("organic_sales", "total_sales", "Organic share", "percent"),
    "unit_session_pct": ("total_units", "sessions", "Unit session %", "percent"),
}

SUMS: dict[str, tuple[str, str]] = {
    "cost": ("Spend", "money"),
    "sales": ("Sales", "money"),
    "orders": ("Orders", "count"),
    "units": ("Units", "count"),
    "impressions": ("Impressions", "count"),
    "clicks": ("Clicks", "count"),
    # from the SP-API sales-and-traffic report (services/analytics/sales.py): all sales, not only ad-attributed
    "total_sales": ("Total sales", "money"),
    "organic_sales": ("Organic sales", "money"),
    "sessions": ("Sessions", "count"),
    "total_units": ("Total units", "count"),
}


def add_ratios(df: pd.DataFrame, names: list[str] | None = None) -> pd.DataFrame:
    """Add ratio columns for whatever sums the frame has (e.g. after a groupby)."""
    out = df.copy()
    for name in names or list(RATIOS):
        num, den, _, _ = RATIOS[name]
        if num in out.columns and den in out.columns:
            out[name] = ratio_series(out[num], out[den])
    return out


def totals(df: pd.DataFrame) -> dict[str, float | None]:
    """Sums and ratios of a whole frame: the numbers behind the overview tiles."""
    result: dict[str, float | None] = {}
    for col in SUMS:
        if col in df.columns:
            result[col] = float(pd.to_numeric(df[col], errors="coerce").fillna(0).sum())
    for name, (num, den, _, _) in RATIOS.items():
        if num in result and den in result:
            result[name] = safe_ratio(result[num], result[den])
    return result


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change against the comparison period; None when there is no base."""
    if current is None or previous is None:
        return None
    return safe_ratio(current - previous, abs(previous))


def _fmt(value: Number, formatter: Callable[[float], str]) -> str:
    if value is None:
        return MISSING
    try:
        v = float(value)
    except (TypeError, ValueError):
        return MISSING
    if math.isnan(v) or math.isinf(v):
        return MISSING
    return formatter(v)


def currency_symbol(currency: str = "USD") -> str:
    return CURRENCY_SYMBOLS.get(currency, currency + " ")


def format_money(value: Number, currency: str = "USD") -> str:
    """ "$8,347.66", "−$26.14": the full amount, used in tables, tooltips and sentences."""
    symbol = currency_symbol(currency)
    return _fmt(value, lambda v: f"{MINUS}{symbol}{abs(v):,.2f}" if round(v, 2) < 0 else f"{symbol}{abs(v):,.2f}")


COMPACT_FROM = {"money": 1_000, "count": 10_000}


def format_compact(name: str, value: Number, currency: str = "USD") -> str:
    """Tile text, the one rule for every tile: money from 1,000 and counts from 10,000 shortened to one decimal
    with K, M or B ("$8.3K", "1.2M"), so a tile never cuts a number; the exact value goes in the tile's tooltip
    (`format_metric`). Smaller amounts, ratios and multiples are written in full."""
    kind = metric_kind(name)
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return MISSING
    if kind not in COMPACT_FROM or math.isnan(v) or math.isinf(v) or abs(v) < COMPACT_FROM[kind]:
        return format_metric(name, value, currency)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= size:
            short = f"{abs(v) / size:.1f}{suffix}"
            break
    sign = MINUS if v < 0 else ""
    return f"{sign}{currency_symbol(currency)}{short}" if kind == "money" else f"{sign}{short}"


def metric_kind(name: str) -> str:
    """money, count, percent or multiple: how a metric is written."""
    return RATIOS[name][3] if name in RATIOS else SUMS.get(name, ("", "count"))[1]


def format_percent(value: Number, digits: int = 1) -> str:
    return _fmt(value, lambda v: f"{v * 100:.{digits}f}%")


def format_count(value: Number) -> str:
    return _fmt(value, lambda v: f"{v:,.0f}")


def format_multiple(value: Number) -> str:
    return _fmt(value, lambda v: f"{v:.2f}×")


def format_metric(name: str, value: Number, currency: str = "USD") -> str:
    """Format any metric by its kind, so tiles and tables agree."""
    kind = metric_kind(name)
    if kind == "money":
        return format_money(value, currency)
    if kind == "percent":
        return format_percent(value)
    if kind == "multiple":
        return format_multiple(value)
    return format_count(value)


def label(name: str) -> str:
    if name in RATIOS:
        return RATIOS[name][2]
    return SUMS.get(name, (name, ""))[0]
