"""Coupons and deals as a marketer reads them: status, KPIs, fees, pacing alerts and one overview of every promotion."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from services.analytics.metrics import safe_ratio
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


def asin_list(value: Any) -> list[str]:
    """A promotion's ASINs, whatever form they come in (a list, the store's JSON text, "A; B" typed)."""
    return _asins(value)


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
