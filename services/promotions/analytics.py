"""Promotions analytics: statuses, coupon KPIs (promotions.md §4), snapshot history, the timeline
and the ad performance of promoted ASINs during a promotion against the weeks before.

Reads the store filled by the sync (tables coupons, coupon_snapshots, deals, deal_products,
advertised_product_day, campaign_day) and the promotion records of `promotion_store`.
Ratios come from `services.metrics`, fees from `services.promotion_fees`.

Dates: a coupon's report values are cumulative up to the day before the snapshot, so at a
snapshot dated D the coupon has run `clamp(D - start, 0, duration)` days. "as of" is the
latest snapshot date of the profile (the store's today), or the day after its latest ad data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from services.analytics.metrics import add_ratios, safe_ratio
from services.dates import to_date
from services.promotions.drafts import SEGMENTS
from services.promotions.fees import coupon_fee, deal_fee

STATUSES = ("draft", "exported", "scheduled", "live", "ended")
OFFLINE_AT = 0.80  # Amazon takes a coupon offline at 80 % of budget used
SEGMENT_LABEL = {"All": "All customers", "Prime": "Prime members", "Student": "Students"}

OVERVIEW_COLUMNS = [
    "kind",
    "promotion_id",
    "record_id",
    "name",
    "status",
    "start",
    "end",
    "audience",
    "discount",
    "budget",
    "currency_code",
    "asins",
    "clips",
    "redemptions",
    "clip_to_redeem",
    "budget_spent",
    "budget_used",
    "time_elapsed",
    "pace",
    "cost_per_redemption",
    "fee_share",
    "sales",
    "sales_per_spend",
    "effective_depth",
    "fee",
    "fee_model",
    "units_sold",
    "revenue",
    "glance_views",
    "conversion",
    "alert",
]


@dataclass(frozen=True)
class PromoSettings:
    """Thresholds of the promotion analytics and suggestions (one place, shown on the page)."""

    baseline_weeks: int = 4  # the weeks before a promotion used as its baseline
    attribution_days: int = 7  # ad sales/orders window (sellers: 7 days)
    margin_rate: float = 0.30  # pre-ad margin as a share of list price when no product margin is known
    pace_fast: float = 1.25  # budget used / time elapsed above this: ahead of schedule
    pace_slow: float = 0.35  # at or below this (after min_elapsed_days): far behind schedule
    min_elapsed_days: int = 3
    warn_budget_used: float = 0.60  # warn before the coupon reaches OFFLINE_AT …
    warn_days_ahead: float = 5.0  # … or when it will reach it within this many days
    high_redemption_share: float = 0.5  # redemptions / (baseline units over the same days)
    low_lift: float = 1.10  # promoted units per day / baseline per day below this: low lift
    aov_drop: float = 0.10  # AOV down by more than this during the promotion
    min_orders: int = 5  # orders in each period before AOV is compared
    merge_min_coupons: int = 2


DEFAULT_SETTINGS = PromoSettings()


# ---------------------------------------------------------------------------------------- small helpers


def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if pd.isna(f) else f


def _asins(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(a) for a in value if a]
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return [a for a in str(value).replace(",", ";").split(";") if a]
    return [str(a.get("asin") if isinstance(a, dict) else a) for a in parsed or [] if a]


def audience_label(segment: Any) -> str:
    key = SEGMENTS.get(str(segment or "All").strip().lower(), None)
    return SEGMENT_LABEL.get(key, str(segment)) if key else str(segment or "All customers")


def discount_label(discount_type: Any, amount: Any, currency: str | None = "USD") -> str:
    if amount is None or (isinstance(amount, float) and pd.isna(amount)):
        return "—"
    t = str(discount_type or "").upper()
    if t.startswith("PERCENT") or t == "PERCENT":
        return f"{_num(amount):g} % off"
    return f"{_num(amount):,.2f} {currency or ''} off".replace("  ", " ")


def promotion_status(start: Any, end: Any, as_of: date) -> str:
    """scheduled before the start day, live from the start to the end day (both included), then ended."""
    s, e = to_date(start), to_date(end)
    if s is not None and as_of < s:
        return "scheduled"
    if e is not None and as_of > e:
        return "ended"
    return "live"


def profile_as_of(db, profile_id: str) -> date:
    """The store's today for a profile: its latest coupon snapshot, else the day after its latest ad data."""
    row = db.conn.execute(
        "SELECT MAX(s.snapshot_date) FROM coupon_snapshots s JOIN coupons c ON c.coupon_id = s.coupon_id "
        "WHERE c.profile_id = ?",
        [profile_id],
    ).fetchone()
    if row and row[0]:
        return date.fromisoformat(row[0][:10])
    row = db.conn.execute("SELECT MAX(date) FROM campaign_day WHERE profile_id = ?", [profile_id]).fetchone()
    if row and row[0]:
        return date.fromisoformat(row[0][:10]) + timedelta(days=1)
    return date.today()


# ---------------------------------------------------------------------------------------- coupon KPIs


def coupon_kpis(c: Mapping[str, Any], as_of: date) -> dict[str, Any]:
    """Every coupon figure of §4 from one report row (store columns or report camelCase)."""
    g = lambda *keys: next((c.get(k) for k in keys if c.get(k) is not None), None)  # noqa: E731
    start = to_date(g("start_date_time", "startDateTime", "start"))
    end = to_date(g("end_date_time", "endDateTime", "end"))
    clips = _num(g("clips"))
    red = _num(g("redemptions"))
    budget = g("budget")
    budget = None if budget is None else _num(budget)
    spent = _num(g("budget_spent", "budgetSpent"))
    disc = _num(g("total_discount", "totalDiscount"))
    sales = _num(g("sales"))
    duration = (end - start).days + 1 if start and end else None
    elapsed = None
    if start and duration:
        elapsed = max(0, min(duration, (as_of - start).days))
    time_elapsed = safe_ratio(elapsed, duration) if duration else None
    budget_used = safe_ratio(spent, budget)
    pace = safe_ratio(budget_used, time_elapsed) if budget_used is not None and time_elapsed else None
    daily_spend = safe_ratio(spent, elapsed) if elapsed else None
    projected = daily_spend * duration if daily_spend is not None and duration else None
    days_to_offline = None
    if budget and daily_spend:
        days_to_offline = max(0.0, (OFFLINE_AT * budget - spent) / daily_spend)
    marketplace = g("marketplace_id", "marketplaceId") or "US"
    fee = coupon_fee(red, sales, start, marketplace) if start else None
    return {
        "start": start,
        "end": end,
        "duration_days": duration,
        "elapsed_days": elapsed,
        "clips": int(clips),
        "redemptions": int(red),
        "budget": budget,
        "budget_spent": spent,
        "total_discount": disc,
        "sales": sales,
        "clip_to_redeem": safe_ratio(red, clips),
        "budget_used": budget_used,
        "time_elapsed": time_elapsed,
        "pace": pace,
        "daily_spend": daily_spend,
        "projected_spend": projected,
        "days_to_offline": days_to_offline,
        "cost_per_redemption": safe_ratio(spent, red),
        "fee_share": safe_ratio(spent - disc, spent),
        "sales_per_spend": safe_ratio(sales, spent),
        "effective_depth": safe_ratio(disc, sales + disc),
        "fee": fee.total if fee else None,
        "fee_model": fee.model if fee else None,
        "fee_capped": bool(fee and fee.capped),
        "fee_variable_uncapped": fee.variable_uncapped if fee else None,
        "status": promotion_status(start, end, as_of),
    }


def _coupon_alert(k: Mapping[str, Any], s: PromoSettings = DEFAULT_SETTINGS) -> str:
    if k["status"] != "live" or k["budget_used"] is None:
        return ""
    if k["budget_used"] >= OFFLINE_AT:
        return "Offline: 80 % of the budget is used"
    if k["budget_used"] >= s.warn_budget_used or (
        k["days_to_offline"] is not None
        and k["days_to_offline"] <= s.warn_days_ahead
        and k["end"]
        and k["days_to_offline"] < (k["end"] - k["start"]).days
    ):
        return "Near 80 % of budget: will go offline"
    return ""


def coupons_frame(
    db, profile_id: str, as_of: date | None = None, settings: PromoSettings = DEFAULT_SETTINGS
) -> pd.DataFrame:
    """One row per synced coupon with its KPIs, status, fee and alert."""
    as_of = as_of or profile_as_of(db, profile_id)
    rows = [
        dict(r)
        for r in db.query(
            "SELECT * FROM coupons WHERE profile_id = ? ORDER BY start_date_time, coupon_id", [profile_id]
        )
    ]
    out = []
    for r in rows:
        k = coupon_kpis(r, as_of)
        out.append(
            {
                **{
                    c: r.get(c)
                    for c in (
                        "coupon_id",
                        "name",
                        "website_message",
                        "customer_segment",
                        "discount_type",
                        "discount_amount",
                        "currency_code",
                        "marketplace_id",
                    )
                },
                "asins": _asins(r.get("asins")),
                **k,
                "alert": _coupon_alert(k, settings),
            }
        )
    return pd.DataFrame(out)


def deals_frame(db, profile_id: str, as_of: date | None = None) -> pd.DataFrame:
    """Best/Lightning Deals with conversion (units/glance views), revenue per ASIN and fee."""
    as_of = as_of or profile_as_of(db, profile_id)
    rows = [
        dict(r) for r in db.query("SELECT * FROM deals WHERE profile_id = ? ORDER BY start_date_time", [profile_id])
    ]
    out = []
    for r in rows:
        prods = [
            dict(p)
            for p in db.query(
                "SELECT asin, units_sold, revenue, glance_views FROM deal_products WHERE promotion_id = ?",
                [r["promotion_id"]],
            )
        ]
        start, end = r.get("start_date_time"), r.get("end_date_time")
        fee = (
            deal_fee(to_date(start), to_date(end), r.get("revenue"), r.get("marketplace_id") or "US")
            if to_date(start)
            else None
        )
        out.append(
            {
                "promotion_id": r["promotion_id"],
                "name": r.get("name"),
                "type": r.get("type"),
                "amazon_status": r.get("status"),
                "start": to_date(start),
                "end": to_date(end),
                "status": promotion_status(start, end, as_of),
                "units_sold": r.get("units_sold"),
                "revenue": r.get("revenue"),
                "glance_views": r.get("glance_views"),
                "currency_code": r.get("currency_code"),
                "conversion": safe_ratio(r.get("units_sold"), r.get("glance_views")),
                "revenue_per_asin": safe_ratio(r.get("revenue"), len(prods)) if prods else None,
                "asins": [p["asin"] for p in prods],
                "fee": fee.total if fee else None,
                "fee_model": fee.model if fee else None,
                "products": prods,
            }
        )
    return pd.DataFrame(out)


def promotions_overview(
    db, profile_id: str, as_of: date | None = None, settings: PromoSettings = DEFAULT_SETTINGS
) -> pd.DataFrame:
    """Every coupon, deal and recorded promotion of a profile, one row each, columns OVERVIEW_COLUMNS.

    Recorded promotions (drafts and exports) linked to a synced coupon appear once, as that coupon
    (with its record_id); unlinked records show as draft or exported.
    """
    from services.promotions import store as promotion_store

    as_of = as_of or profile_as_of(db, profile_id)
    promotion_store.link_coupons(db, profile_id)
    rows: list[dict] = []
    records = promotion_store.list_records(db, profile_id=profile_id)
    by_coupon = {r["coupon_id"]: r for r in records if r.get("coupon_id")}
    cf = coupons_frame(db, profile_id, as_of, settings)
    for r in cf.to_dict("records"):
        rec = by_coupon.get(r["coupon_id"])
        rows.append(
            {
                "kind": "coupon",
                "promotion_id": r["coupon_id"],
                "record_id": rec["record_id"] if rec else None,
                "name": r.get("name") or r.get("website_message"),
                "status": r["status"],
                "start": r["start"],
                "end": r["end"],
                "audience": audience_label(r.get("customer_segment")),
                "discount": discount_label(r.get("discount_type"), r.get("discount_amount"), r.get("currency_code")),
                **{
                    k: r.get(k)
                    for k in (
                        "budget",
                        "currency_code",
                        "asins",
                        "clips",
                        "redemptions",
                        "clip_to_redeem",
                        "budget_spent",
                        "budget_used",
                        "time_elapsed",
                        "pace",
                        "cost_per_redemption",
                        "fee_share",
                        "sales",
                        "sales_per_spend",
                        "effective_depth",
                        "fee",
                        "fee_model",
                        "alert",
                    )
                },
            }
        )
    for d in deals_frame(db, profile_id, as_of).to_dict("records"):
        rows.append(
            {
                "kind": str(d.get("type") or "deal").lower(),
                "promotion_id": d["promotion_id"],
                "name": d["name"],
                "status": d["status"],
                "start": d["start"],
                "end": d["end"],
                "audience": "All customers",
                "discount": "—",
                "currency_code": d["currency_code"],
                "asins": d["asins"],
                "units_sold": d["units_sold"],
                "revenue": d["revenue"],
                "glance_views": d["glance_views"],
                "conversion": d["conversion"],
                "fee": d["fee"],
                "fee_model": d["fee_model"],
                "alert": "",
            }
        )
    for rec in records:
        if rec.get("coupon_id"):
            continue
        draft = rec.get("draft") or {}
        kind = rec["kind"]
        if kind == "coupon":
            disc = discount_label(
                "PERCENT" if str(draft.get("discount_type", "")).startswith("perc") else "AMOUNT",
                draft.get("percent_off")
                if str(draft.get("discount_type", "")).startswith("perc")
                else draft.get("money_off"),
                draft.get("currency"),
            )
            start, end = draft.get("start_date"), draft.get("end_date")
            audience = audience_label(draft.get("customer_segment"))
            asins = draft.get("asins")
        elif kind == "ped":
            disc = f"{draft.get('discount_value')} ({draft.get('discount_type')})"
            start, end, audience, asins = draft.get("start"), draft.get("end"), "Prime members", draft.get("skus")
        else:
            tiers = draft.get("tiers") or []
            disc = (
                "Buy one get one"
                if kind == "bogo"
                else ", ".join(
                    f"buy {t.get('threshold')} → {t.get('percent_off')} %" for t in tiers[:9] if isinstance(t, dict)
                )
            )
            start, end, audience, asins = draft.get("start"), draft.get("end"), "All customers", draft.get("asins")
        status = rec["status"]
        if status == "exported" and kind != "coupon":
            # nothing links these back (no report): follow the dates once exported
            status = promotion_status(start, end, as_of) if to_date(start) and as_of >= to_date(start) else "exported"
        budget = draft.get("budget") if kind == "coupon" else None
        try:
            budget = float(budget) if budget not in (None, "") else None
        except (TypeError, ValueError):
            budget = None
        rows.append(
            {
                "kind": kind,
                "promotion_id": None,
                "record_id": rec["record_id"],
                "name": rec.get("name") or draft.get("title_suffix") or draft.get("name") or "(untitled)",
                "status": status,
                "start": to_date(start),
                "end": to_date(end),
                "audience": audience,
                "discount": disc,
                "budget": budget,
                "currency_code": draft.get("currency"),
                "asins": asins if isinstance(asins, list) else _asins(asins),
                "alert": "",
            }
        )
    df = pd.DataFrame(rows, columns=OVERVIEW_COLUMNS)
    df = df.astype(object).where(df.notna(), None)  # missing is None (shown as "—"), never NaN
    order = {s: i for i, s in enumerate(("live", "scheduled", "exported", "draft", "ended"))}
    if not df.empty:
        df = (
            df.assign(_o=df["status"].map(order).fillna(9))
            .sort_values(["_o", "start"], na_position="last", kind="stable")
            .drop(columns="_o")
        )
    return df.reset_index(drop=True)


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
