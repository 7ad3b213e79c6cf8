"""What promotions did: a coupon's history of snapshots, ad sales of the promoted ASINs before and during each
promotion, the timeline, and a coupon's return after its fees.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import pandas as pd

from services.analytics.metrics import add_ratios, safe_ratio
from services.dates import to_date
from services.promotions.analytics import (
    DEFAULT_SETTINGS,
    PromoSettings,
    _asins,
    coupon_kpis,
    profile_as_of,
    promotions_overview,
)

# ---------------------------------------------------------------------------------------- history


def coupon_history(db, coupon_id: str) -> pd.DataFrame:
    """Daily snapshots of one coupon: cumulative values, the day's increments and the budget pace."""
    df = pd.DataFrame(
        [
            dict(r)
            for r in db.query(
                "SELECT * FROM coupon_snapshots WHERE coupon_id = ? ORDER BY snapshot_date", [str(coupon_id)]
            )
        ]
    )
    if df.empty:
        return pd.DataFrame(
            columns=[
                "snapshot_date",
                "clips",
                "redemptions",
                "budget_spent",
                "sales",
                "budget_used",
                "new_clips",
                "new_redemptions",
                "new_spend",
                "new_sales",
                "time_elapsed",
            ]
        )
    c = db.conn.execute(
        "SELECT start_date_time, end_date_time FROM coupons WHERE coupon_id = ?", [str(coupon_id)]
    ).fetchone()
    df["snapshot_date"] = pd.to_datetime(df["snapshot_date"]).dt.date
    for col, new in (
        ("clips", "new_clips"),
        ("redemptions", "new_redemptions"),
        ("budget_spent", "new_spend"),
        ("sales", "new_sales"),
        ("total_discount", "new_discount"),
    ):
        vals = pd.to_numeric(df[col], errors="coerce")
        df[new] = vals.diff().fillna(vals)
    df["budget_used"] = [safe_ratio(s, b) for s, b in zip(df["budget_spent"], df["budget"])]
    if c:
        start, end = to_date(c[0]), to_date(c[1])
        if start and end:
            dur = (end - start).days + 1
            df["time_elapsed"] = [max(0, min(dur, (d - start).days)) / dur for d in df["snapshot_date"]]
    if "time_elapsed" not in df.columns:
        df["time_elapsed"] = None
    df["pace"] = [
        safe_ratio(u, t) if u is not None and t else None for u, t in zip(df["budget_used"], df["time_elapsed"])
    ]
    return df


# ---------------------------------------------------------------------------------------- ad data


def _ad_cols(window: int) -> tuple[str, str, str]:
    return f"sales_{window}d", f"purchases_{window}d", f"units_{window}d"


def daily_ad_sales(
    db, profile_id: str, start: date | None = None, end: date | None = None, window: int = 7
) -> pd.DataFrame:
    """The account's ad sales per day (campaign_day): columns date, sales, cost."""
    sales, _, _ = _ad_cols(window)
    sql = f"SELECT date, SUM({sales}) AS sales, SUM(cost) AS cost FROM campaign_day WHERE profile_id = ?"
    params: list = [profile_id]
    if start:
        sql += " AND date >= ?"
        params.append(start.isoformat())
    if end:
        sql += " AND date <= ?"
        params.append(end.isoformat())
    df = pd.DataFrame(
        [dict(r) for r in db.query(sql + " GROUP BY date ORDER BY date", params)], columns=["date", "sales", "cost"]
    )
    df["date"] = pd.to_datetime(df["date"]).dt.date
    df["sales"] = pd.to_numeric(df["sales"]).fillna(0.0)
    return df


def timeline_frames(
    db, profile_id: str, start: date | None = None, end: date | None = None, as_of: date | None = None, window: int = 7
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(promotions with label, start, end, kind, status; daily ad sales with date, sales) for charts.timeline_figure.

    Promotions are those overlapping [start, end] (all when no range); the sales cover the same range.
    """
    ov = promotions_overview(db, profile_id, as_of)
    ov = ov.dropna(subset=["start"])
    if start is not None:
        ov = ov[ov["end"].isna() | (ov["end"].map(lambda d: d is None or d >= start))]
    if end is not None:
        ov = ov[ov["start"].map(lambda d: d <= end)]
    labels, seen = [], {}
    for r in ov.itertuples(index=False):
        base = f"{r.kind.replace('_', ' ').title()}: {str(r.name or '')[:40]}"
        seen[base] = seen.get(base, 0) + 1
        labels.append(base if seen[base] == 1 else f"{base} ({seen[base]})")
    promos = pd.DataFrame(
        {
            "label": labels,
            "start": [pd.Timestamp(d) for d in ov["start"]],
            "end": [pd.Timestamp(d if d is not None else s) for d, s in zip(ov["end"], ov["start"])],
            "kind": ov["kind"].tolist(),
            "status": ov["status"].tolist(),
        },
        columns=["label", "start", "end", "kind", "status"],
    )
    sales = daily_ad_sales(db, profile_id, start, end, window)[["date", "sales"]]
    return promos.reset_index(drop=True), sales


def asin_ad_days(db, profile_id: str, asins: Iterable[str], start: date, end: date, window: int = 7) -> pd.DataFrame:
    """advertised_product_day rows of the ASINs in [start, end]: date, asin, clicks, cost, orders, sales, units."""
    asins = [str(a) for a in asins]
    if not asins:
        return pd.DataFrame(columns=["date", "asin", "impressions", "clicks", "cost", "orders", "sales", "units"])
    sales, orders, units = _ad_cols(window)
    marks = ",".join("?" for _ in asins)
    df = pd.DataFrame(
        [
            dict(r)
            for r in db.query(
                f"SELECT date, asin, SUM(impressions) AS impressions, SUM(clicks) AS clicks, SUM(cost) AS cost, "
                f"SUM({orders}) AS orders, SUM({sales}) AS sales, SUM({units}) AS units FROM advertised_product_day "
                f"WHERE profile_id = ? AND asin IN ({marks}) AND date BETWEEN ? AND ? GROUP BY date, asin",
                [profile_id, *asins, start.isoformat(), end.isoformat()],
            )
        ],
        columns=["date", "asin", "impressions", "clicks", "cost", "orders", "sales", "units"],
    )
    for c in ("impressions", "clicks", "cost", "orders", "sales", "units"):
        df[c] = pd.to_numeric(df[c], errors="coerce").fillna(0.0)
    return df


def promotion_windows(
    start: date, end: date, as_of: date, baseline_weeks: int = 4
) -> tuple[tuple[date, date], tuple[date, date] | None]:
    """(baseline window = the weeks before the start, promotion window = start … min(end, day before as_of))."""
    base = (start - timedelta(days=7 * baseline_weeks), start - timedelta(days=1))
    last = min(end, as_of - timedelta(days=1))
    return base, ((start, last) if last >= start else None)


def promoted_asin_performance(
    db,
    profile_id: str,
    asins: Iterable[str],
    start: Any,
    end: Any,
    as_of: date | None = None,
    settings: PromoSettings = DEFAULT_SETTINGS,
) -> pd.DataFrame:
    """Per promoted ASIN (and 'All'): clicks, orders, sales, cost, units per day, CVR, AOV, ACOS during the
    promotion and in the weeks before, with the changes. Empty when the promotion hasn't run a full day."""
    as_of = as_of or profile_as_of(db, profile_id)
    s, e = to_date(start), to_date(end)
    cols = (
        ["asin"]
        + [
            f"{m}_{p}"
            for p in ("before", "during")
            for m in ("days", "clicks", "orders", "sales", "cost", "units", "units_per_day", "cvr", "aov", "acos")
        ]
        + ["cvr_change", "aov_change", "acos_change", "lift"]
    )
    if s is None or e is None:
        return pd.DataFrame(columns=cols)
    base, during = promotion_windows(s, e, as_of, settings.baseline_weeks)
    if during is None:
        return pd.DataFrame(columns=cols)
    asins = list(dict.fromkeys(str(a) for a in asins))
    df = asin_ad_days(db, profile_id, asins, base[0], during[1], settings.attribution_days)
    df["date"] = pd.to_datetime(df["date"]).dt.date
    df["period"] = ["during" if d >= s else "before" for d in df["date"]]
    # baseline days actually covered by data (an ASIN new to ads has fewer)
    first_day = db.conn.execute(
        "SELECT MIN(date) FROM advertised_product_day WHERE profile_id = ?", [profile_id]
    ).fetchone()[0]
    first = date.fromisoformat(first_day) if first_day else base[0]
    days = {"before": max(0, (base[1] - max(base[0], first)).days + 1), "during": (during[1] - during[0]).days + 1}
    out = []
    for key, g in list(df.groupby("asin")) + [("All", df)]:
        row: dict[str, Any] = {"asin": key}
        for p in ("before", "during"):
            sub = g[g["period"] == p]
            sums = {m: float(sub[m].sum()) for m in ("clicks", "orders", "sales", "cost", "units")}
            row[f"days_{p}"] = days[p]
            for m, v in sums.items():
                row[f"{m}_{p}"] = v
            row[f"units_per_day_{p}"] = safe_ratio(sums["units"], days[p])
            r = add_ratios(pd.DataFrame([sums]), ["cvr", "aov", "acos"]).iloc[0]
            for m in ("cvr", "aov", "acos"):
                row[f"{m}_{p}"] = None if pd.isna(r[m]) else float(r[m])
        for m in ("cvr", "aov", "acos"):
            b, d = row[f"{m}_before"], row[f"{m}_during"]
            row[f"{m}_change"] = safe_ratio(d - b, abs(b)) if b is not None and d is not None else None
        row["lift"] = safe_ratio(row["units_per_day_during"], row["units_per_day_before"])
        out.append(row)
    return pd.DataFrame(out, columns=cols)


# ---------------------------------------------------------------------------------------- return


def coupon_return(
    db,
    profile_id: str,
    coupon: Mapping[str, Any],
    as_of: date | None = None,
    settings: PromoSettings = DEFAULT_SETTINGS,
    margins: Mapping[str, float] | None = None,
) -> dict:
    """Incremental return of a coupon against the weeks before (promotions.md §4).

    Lift comes from the promoted ASINs' ad-attributed units per day, during vs before; the share
    1 − 1/lift of the redemptions is counted as incremental, the rest as sales that would have
    happened anyway (their discount is a cost). Unit margin at the promo price = list price ×
    margin − discount per unit, the margin from `margins` (ASIN → fraction) or settings.margin_rate.
    """
    from services.promotions.fees import incremental_return

    as_of = as_of or profile_as_of(db, profile_id)
    k = coupon_kpis(coupon, as_of)
    asins = _asins(coupon.get("asins"))
    perf = promoted_asin_performance(db, profile_id, asins, k["start"], k["end"], as_of, settings)
    allrow = perf[perf["asin"] == "All"]
    lift = None if allrow.empty else allrow.iloc[0]["lift"]
    lift = None if lift is None or pd.isna(lift) else float(lift)
    red = k["redemptions"]
    list_price = safe_ratio(k["sales"] + k["total_discount"], red)
    disc_unit = safe_ratio(k["total_discount"], red) or 0.0
    margin_rate = settings.margin_rate
    if margins:
        ms = [float(margins[a]) for a in asins if a in margins and margins[a] is not None]
        if ms:
            margin_rate = sum(ms) / len(ms)
    unit_margin = (list_price or 0.0) * margin_rate - disc_unit
    fees = max(0.0, k["budget_spent"] - k["total_discount"])
    elapsed = k["elapsed_days"] or 0
    base_units = red / lift if lift and lift > 0 else None
    ir = incremental_return(
        red,
        elapsed,
        base_units if base_units is not None else 0.0,
        elapsed,
        unit_margin,
        red,
        k["total_discount"],
        fees,
    )
    out = ir.as_dict()
    out.update(
        {
            "lift": lift,
            "unit_margin": unit_margin,
            "list_price": list_price,
            "margin_rate": margin_rate,
            "baseline_known": base_units is not None,
        }
    )
    if base_units is None:
        out["note"] = (
            "No ad baseline for these ASINs before the coupon: the return counts every redemption as incremental."
        )
    return out


PERIOD_LABELS = {"before": "Weeks before", "during": "During the promotion"}
_SHOWN = ["days", "clicks", "orders", "sales", "cost", "units", "units_per_day", "cvr", "aov", "acos"]


def promoted_asin_rows(perf: pd.DataFrame, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """promoted_asin_performance as a table a person reads: one row per ASIN and period ("Weeks before",
    "During the promotion"), with the product's name and the same metric columns as every other table."""
    names = names or {}
    rows = []
    for r in perf.to_dict("records"):
        for period, label in PERIOD_LABELS.items():
            row = {
                "asin": "All promoted ASINs" if r["asin"] == "All" else r["asin"],
                "name": None if r["asin"] == "All" else names.get(r["asin"]),
                "period": label,
            }
            row.update({m: r.get(f"{m}_{period}") for m in _SHOWN})
            rows.append(row)
    return pd.DataFrame(rows, columns=["asin", "name", "period", *_SHOWN])
