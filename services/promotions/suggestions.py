"""Suggested promotion changes, in the ad optimizer's evidence-and-reason format.

Each suggestion: type, entity (kind, id, name; several ids/names for merges and bid cuts),
current → proposed, the rule that fired, an evidence dict of the triggering numbers, a confidence
(0–1), the expected effect and one plain sentence why.

Rules (thresholds in promotions.PromoSettings):
- raise_coupon_budget: live coupon paces ahead (budget used / time elapsed ≥ pace_fast) with a
  positive incremental return → budget that keeps it online to its end (one of the two changes
  Amazon allows on a live coupon).
- extend_coupon_end: live coupon with a positive return, ending within a week, whose budget
  will not be used by then → later end date (≤ 90 days in all).
- coupon_budget_warning: live coupon that reached, or will soon reach, 80 % of its budget, when
  Amazon takes it offline.
- coupon_underpacing: live coupon far behind its budget (pace ≤ pace_slow) → the budget it will use.
- reduce_coupon_depth: many redemptions but little lift over the weeks before → a shallower discount.
- cut_bids_aov_drop: promoted ASINs whose ad AOV fell during the promotion → bids scaled by the AOV ratio.
- merge_coupons: small scheduled coupons with the same discount, audience and overlapping dates
  → one coupon (one $5 fee, one cap).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import pandas as pd

from services.analytics.metrics import safe_ratio
from services.promotions.analytics import (
    DEFAULT_SETTINGS,
    OFFLINE_AT,
    PromoSettings,
    _asins,
    coupon_kpis,
    profile_as_of,
)
from services.promotions.drafts import COUPON_BUDGET_MIN, COUPON_MAX_DAYS, COUPON_PERCENT_MIN
from services.promotions.fees import coupon_fee, coupon_fee_model
from services.promotions.performance import coupon_return, promoted_asin_performance

SUGGESTION_COLUMNS = [
    "suggestion_key",
    "profile_id",
    "type",
    "entity_kind",
    "entity_id",
    "entity_name",
    "entity_ids",
    "entity_names",
    "current_value",
    "proposed_value",
    "change_pct",
    "rule",
    "reason",
    "confidence",
    "evidence",
    "expected_effect",
    "currency_code",
]


def _key(*parts: Any) -> str:
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:16]


def _money(v: float | None, cur: str | None) -> str:
    """Money in the sentences as in the tables ("$1,677.00"): the one money format of `metrics`."""
    from services.analytics.metrics import format_money

    return format_money(v, cur or "USD")


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.0f}%"


def _round_up(v: float, step: float = 10.0) -> float:
    return float(math.ceil(v / step) * step)


def _evidence(k: Mapping[str, Any], ret: Mapping[str, Any] | None = None) -> dict:
    ev = {
        m: (round(k[m], 4) if isinstance(k[m], float) else k[m])
        for m in (
            "budget",
            "budget_spent",
            "budget_used",
            "time_elapsed",
            "pace",
            "elapsed_days",
            "duration_days",
            "daily_spend",
            "projected_spend",
            "days_to_offline",
            "clips",
            "redemptions",
            "clip_to_redeem",
            "total_discount",
            "sales",
            "cost_per_redemption",
            "fee_share",
            "sales_per_spend",
            "effective_depth",
        )
    }
    ev["start"], ev["end"] = str(k["start"]), str(k["end"])
    if ret:
        ev.update(
            {
                "lift": ret.get("lift"),
                "incremental_units": ret.get("incremental_units"),
                "incremental_return": ret.get("value"),
                "return_on_spend": ret.get("roi"),
                "baseline_known": ret.get("baseline_known"),
            }
        )
    return ev


def _conf(k: Mapping[str, Any]) -> float:
    return round(min(1.0, (k["elapsed_days"] or 0) / 7.0) * min(1.0, 0.3 + (k["redemptions"] or 0) / 30.0), 2)


def coupon_suggestions(
    db,
    profile_id: str,
    as_of: date | None = None,
    settings: PromoSettings = DEFAULT_SETTINGS,
    margins: Mapping[str, float] | None = None,
) -> list[dict]:
    as_of = as_of or profile_as_of(db, profile_id)
    rows = [dict(r) for r in db.query("SELECT * FROM coupons WHERE profile_id = ? ORDER BY coupon_id", [profile_id])]
    out: list[dict] = []
    for c in rows:
        k = coupon_kpis(c, as_of)
        cur = c.get("currency_code")
        name = c.get("name") or c.get("website_message") or c["coupon_id"]
        base = {
            "profile_id": profile_id,
            "entity_kind": "coupon",
            "entity_id": c["coupon_id"],
            "entity_name": name,
            "entity_ids": [c["coupon_id"]],
            "entity_names": [name],
            "currency_code": cur,
        }
        if k["status"] == "ended":
            if (as_of - k["end"]).days <= 30:
                out.extend(_depth(db, profile_id, c, k, as_of, settings, margins, base))
            continue
        if k["status"] != "live" or (k["elapsed_days"] or 0) < 1:
            continue
        ret = coupon_return(db, profile_id, c, as_of, settings, margins)
        positive = ret["value"] is not None and ret["value"] > 0
        pace, used = k["pace"], k["budget_used"]
        days_left = (k["end"] - as_of).days + 1
        enough = k["elapsed_days"] >= settings.min_elapsed_days

        # ---- warn before 80 % (reached, close, or reached before the end at this pace)
        dto = k["days_to_offline"]
        if used is not None and (
            used >= OFFLINE_AT
            or used >= settings.warn_budget_used
            or (dto is not None and (dto <= settings.warn_days_ahead or dto < days_left))
        ):
            reached = used >= OFFLINE_AT
            off_day = None if reached or dto is None else as_of + timedelta(days=int(dto))
            if reached:
                when = "has reached 80 %, when Amazon takes it offline,"
            else:
                when = (
                    f"at this pace will reach 80 % around {off_day:%d %b} (in about {dto:.0f} day(s)), when Amazon "
                    "takes it offline,"
                )
            out.append(
                {
                    **base,
                    "type": "coupon_budget_warning",
                    "rule": "coupon_budget_80pct",
                    "current_value": round(used, 4),
                    "proposed_value": OFFLINE_AT,
                    "confidence": 1.0 if reached else round(min(1.0, 0.5 + (k["elapsed_days"] or 0) / 14), 2),
                    "evidence": {**_evidence(k, ret), "offline_date": str(off_day or as_of), "days_left": days_left},
                    "expected_effect": ("Offline now" if reached else f"Offline from about {off_day:%d %b}")
                    + f", with {days_left} day(s) left to its end {k['end']:%d %b}.",
                    "reason": f"The coupon has used {_pct(used)} of its {_money(k['budget'], cur)} budget and {when} "
                    f"with {days_left} day(s) still to run; raise the budget if it pays, or let it stop.",
                }
            )

        # ---- pacing ahead with positive return: raise budget
        if enough and pace is not None and pace >= settings.pace_fast and positive and k["budget"]:
            needed = _round_up(max(k["projected_spend"] or 0.0, k["budget_spent"]) / OFFLINE_AT)
            if needed > k["budget"]:
                extra = needed - k["budget"]
                out.append(
                    {
                        **base,
                        "type": "raise_coupon_budget",
                        "rule": "coupon_pacing_ahead_positive_return",
                        "current_value": k["budget"],
                        "proposed_value": needed,
                        "confidence": _conf(k),
                        "evidence": _evidence(k, ret),
                        "expected_effect": f"Keeps the coupon online to {k['end']:%d %b}; about "
                        f"{_money(extra * OFFLINE_AT, cur)} more spend, return so far "
                        f"{_money(ret['value'], cur)}.",
                        "reason": f"The coupon spends {pace:.1f}× faster than its time ({_pct(used)} of budget after "
                        f"{_pct(k['time_elapsed'])} of its days) and has earned {_money(ret['value'], cur)} "
                        f"over the weeks before, so raise the budget to {_money(needed, cur)}.",
                    }
                )
        # ---- ending soon with budget left and positive return: extend end
        if enough and positive and days_left <= 7 and k["daily_spend"] and k["budget"]:
            room = OFFLINE_AT * k["budget"] - (k["projected_spend"] or 0.0)
            extra_days = int(room // k["daily_spend"]) if room > 0 else 0
            max_end = k["start"] + timedelta(days=COUPON_MAX_DAYS - 1)
            new_end = min(max_end, k["end"] + timedelta(days=min(extra_days, 30)))
            if new_end > k["end"]:
                out.append(
                    {
                        **base,
                        "type": "extend_coupon_end",
                        "rule": "coupon_budget_left_positive_return",
                        "current_value": k["end"].isoformat(),
                        "proposed_value": new_end.isoformat(),
                        "confidence": _conf(k),
                        "evidence": _evidence(k, ret),
                        "expected_effect": f"About {(new_end - k['end']).days} more day(s) of redemptions within "
                        "the budget already set.",
                        "reason": f"The coupon ends in {days_left} day(s) with {_pct(1 - (used or 0))} of its budget "
                        f"left and a positive return ({_money(ret['value'], cur)}), so extend it to "
                        f"{new_end:%d %b}.",
                    }
                )
        # ---- far behind: the budget it will use
        if enough and pace is not None and pace <= settings.pace_slow and (k["budget"] or 0) > COUPON_BUDGET_MIN:
            proposed = max(float(COUPON_BUDGET_MIN), _round_up((k["projected_spend"] or 0.0) / OFFLINE_AT))
            out.append(
                {
                    **base,
                    "type": "coupon_underpacing",
                    "rule": "coupon_pacing_behind",
                    # Amazon only allows raising a live coupon's budget: nothing is proposed for this coupon, the
                    # smaller budget is advice for the next one
                    "current_value": k["budget"],
                    "proposed_value": None,
                    "confidence": _conf(k),
                    "evidence": {**_evidence(k, ret), "next_coupon_budget": proposed},
                    "expected_effect": f"At this pace about {_money(k['projected_spend'], cur)} of "
                    f"{_money(k['budget'], cur)} will be used; unused budget is not charged, so leave this coupon "
                    "as it is.",
                    "reason": f"The coupon has used only {_pct(used)} of its budget after {_pct(k['time_elapsed'])} of "
                    f"its days ({pace:.2f}× the even pace), so it reaches few buyers. A live coupon's budget can only "
                    f"be raised: plan {_money(proposed, cur)} for the next one, or make it more visible (ads, deeper "
                    "discount next time).",
                }
            )
        out.extend(_depth(db, profile_id, c, k, as_of, settings, margins, base, ret))
    return out


def _depth(db, profile_id, c, k, as_of, settings, margins, base, ret=None) -> list[dict]:
    """High redemptions, low lift → a shallower discount (for the next coupon: depth can't change live)."""
    if (k["redemptions"] or 0) < 20:
        return []
    ret = ret or coupon_return(db, profile_id, c, as_of, settings, margins)
    lift = ret.get("lift")
    if lift is None or lift >= settings.low_lift:
        return []
    perf = promoted_asin_performance(db, profile_id, _asins(c.get("asins")), k["start"], k["end"], as_of, settings)
    allrow = perf[perf["asin"] == "All"]
    base_units = None if allrow.empty else allrow.iloc[0]["units_per_day_before"]
    base_units = 0.0 if base_units is None or pd.isna(base_units) else float(base_units)
    share = safe_ratio(k["redemptions"], base_units * max(1, k["elapsed_days"] or 1))
    if share is not None and share < settings.high_redemption_share:
        return []
    cur = c.get("currency_code")
    percent = str(c.get("discount_type") or "").upper().startswith("PERCENT")
    amount = float(c.get("discount_amount") or 0)
    proposed = max(COUPON_PERCENT_MIN, amount - 5) if percent else round(amount * 0.7, 2)
    if proposed >= amount:
        return []
    unit = "%" if percent else (cur or "")
    ev = _evidence(k, ret)
    ev["redemptions_per_baseline_unit"] = share
    ev["discount_type"] = "PERCENTAGE" if percent else "AMOUNT"
    return [
        {
            **base,
            "type": "reduce_coupon_depth",
            "rule": "coupon_high_redemption_low_lift",
            "current_value": amount,
            "proposed_value": proposed,
            "confidence": _conf(k),
            "evidence": ev,
            "expected_effect": f"Less discount given on sales that happen anyway ({_money(k['total_discount'], cur)} "
            "so far); depth can't change on a live coupon, so apply it to the next one.",
            "reason": f"{k['redemptions']} redemptions but promoted units rose only {(lift - 1) * 100:.0f} % over the weeks "
            f"before, so most buyers would have bought anyway: try {proposed:g} {unit} off instead of {amount:g}.",
        }
    ]


def bid_suggestions(
    db, profile_id: str, as_of: date | None = None, settings: PromoSettings = DEFAULT_SETTINGS
) -> list[dict]:
    """Promoted ASINs (live or ended within 30 days) whose ad AOV fell during the promotion."""
    from services.promotions.analytics import coupons_frame, deals_frame

    as_of = as_of or profile_as_of(db, profile_id)
    promos: list[tuple[str, str, list[str], date, date]] = []
    cf = coupons_frame(db, profile_id, as_of, settings)
    for r in cf.to_dict("records"):
        promos.append((r["coupon_id"], r.get("name") or r["coupon_id"], r["asins"], r["start"], r["end"]))
    df = deals_frame(db, profile_id, as_of)
    for r in df.to_dict("records"):
        promos.append((r["promotion_id"], r.get("name") or r["promotion_id"], r["asins"], r["start"], r["end"]))
    out = []
    for pid, pname, asins, start, end in promos:
        if start is None or end is None or start >= as_of or (as_of - end).days > 30:
            continue
        perf = promoted_asin_performance(db, profile_id, asins, start, end, as_of, settings)
        for r in perf[perf["asin"] != "All"].to_dict("records"):
            b, d = r["aov_before"], r["aov_during"]
            if (
                b is None
                or d is None
                or r["orders_before"] < settings.min_orders
                or r["orders_during"] < settings.min_orders
            ):
                continue
            if d >= b * (1 - settings.aov_drop):
                continue
            groups = [
                row[0]
                for row in db.conn.execute(
                    "SELECT DISTINCT ad_group_id FROM product_ads WHERE profile_id = ? AND asin = ? AND ad_group_id IS NOT NULL "
                    "ORDER BY ad_group_id",
                    [profile_id, r["asin"]],
                )
            ]
            ratio = round(d / b, 2)
            out.append(
                {
                    "profile_id": profile_id,
                    "type": "cut_bids_aov_drop",
                    "entity_kind": "asin",
                    "entity_id": r["asin"],
                    "entity_name": r["asin"],
                    "entity_ids": groups,
                    "entity_names": [pname],
                    "current_value": 1.0,
                    "proposed_value": ratio,
                    "rule": "promoted_asin_aov_fell",
                    "confidence": round(min(1.0, min(r["orders_before"], r["orders_during"]) / 30.0), 2),
                    "evidence": {
                        "promotion_id": pid,
                        "promotion": pname,
                        "aov_before": b,
                        "aov_during": d,
                        "acos_before": r["acos_before"],
                        "acos_during": r["acos_during"],
                        "cvr_before": r["cvr_before"],
                        "cvr_during": r["cvr_during"],
                        "orders_before": r["orders_before"],
                        "orders_during": r["orders_during"],
                        "ad_groups": len(groups),
                    },
                    "expected_effect": f"Bids × {ratio:.2f} on the ASIN's targets bring ACOS back near "
                    f"{_pct(r['acos_before'])} while the discount lasts.",
                    "reason": f"Average order value of {r['asin']} fell from {b:,.2f} to {d:,.2f} during “{pname[:40]}”, "
                    f"so each click earns less: cut its bids by {(1 - ratio) * 100:.0f} % until the promotion ends.",
                    "currency_code": None,
                }
            )
    return out


def merge_suggestions(
    db, profile_id: str, as_of: date | None = None, settings: PromoSettings = DEFAULT_SETTINGS
) -> list[dict]:
    """Scheduled coupons (cancelling before the start is free) with the same discount and audience and
    overlapping dates: one coupon pays one fixed fee and reaches the variable cap sooner."""
    as_of = as_of or profile_as_of(db, profile_id)
    rows = [
        dict(r)
        for r in db.query(
            "SELECT * FROM coupons WHERE profile_id = ? ORDER BY start_date_time, coupon_id", [profile_id]
        )
    ]
    items = []
    for c in rows:
        k = coupon_kpis(c, as_of)
        if k["status"] != "scheduled" or k["start"] is None:  # cancelling before the start is free
            continue
        model = coupon_fee_model(k["start"], c.get("marketplace_id") or "US")
        if model is None or not model.fixed:
            continue
        items.append((c, k, model))
    groups: dict[tuple, list] = {}
    for c, k, m in items:
        groups.setdefault((c.get("discount_type"), c.get("discount_amount"), c.get("customer_segment")), []).append(
            (c, k, m)
        )
    out = []
    for _key, members in groups.items():
        members.sort(key=lambda x: x[1]["start"])
        cluster = [members[0]]
        clusters = []
        for it in members[1:]:
            if it[1]["start"] <= max(x[1]["end"] for x in cluster):
                cluster.append(it)
            else:
                clusters.append(cluster)
                cluster = [it]
        clusters.append(cluster)
        for cl in clusters:
            if len(cl) < settings.merge_min_coupons:
                continue
            fees_now, projected_sales = 0.0, 0.0
            for c, k, _m in cl:
                scale = safe_ratio(k["duration_days"], k["elapsed_days"]) if k["elapsed_days"] else None
                sales = k["sales"] * scale if scale else k["sales"]
                projected_sales += sales
                fees_now += (
                    coupon_fee(k["redemptions"], sales, k["start"], c.get("marketplace_id") or "US").total or 0.0
                )
            first = cl[0]
            merged = (
                coupon_fee(
                    sum(k["redemptions"] for _, k, _ in cl),
                    projected_sales,
                    first[1]["start"],
                    first[0].get("marketplace_id") or "US",
                ).total
                or 0.0
            )
            saving = round(fees_now - merged, 2)
            if saving <= 0:
                continue
            cur = first[0].get("currency_code")
            ids = [c["coupon_id"] for c, _, _ in cl]
            names = [c.get("name") or c["coupon_id"] for c, _, _ in cl]
            asins = sorted({a for c, _, _ in cl for a in _asins(c.get("asins"))})
            budget = sum((k["budget"] or 0) for _, k, _ in cl)
            out.append(
                {
                    "profile_id": profile_id,
                    "type": "merge_coupons",
                    "entity_kind": "coupon",
                    "entity_id": ids[0],
                    "entity_name": names[0],
                    "entity_ids": ids,
                    "entity_names": names,
                    "current_value": len(cl),
                    "proposed_value": 1,
                    "rule": "merge_small_coupons_fee_cap",
                    "confidence": 0.8,
                    "evidence": {
                        "coupons": len(cl),
                        "asins": asins,
                        "projected_sales": round(projected_sales, 2),
                        "fees_separately": round(fees_now, 2),
                        "fees_merged": round(merged, 2),
                        "combined_budget": budget,
                        "fee_model": first[2].name,
                    },
                    "expected_effect": f"About {_money(saving, cur)} less in fees: one fixed fee and one cap instead of "
                    f"{len(cl)}.",
                    "reason": f"{len(cl)} coupons give the same discount to the same audience on overlapping dates, so "
                    f"one coupon for all {len(asins)} ASINs pays one fee instead of {len(cl)} (about "
                    f"{_money(saving, cur)} less) and reaches the fee cap sooner.",
                    "currency_code": cur,
                }
            )
    return out


def suggest(
    db,
    profile_id: str,
    as_of: date | None = None,
    settings: PromoSettings = DEFAULT_SETTINGS,
    margins: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Every promotion suggestion of a profile, columns SUGGESTION_COLUMNS, most certain first."""
    as_of = as_of or profile_as_of(db, profile_id)
    rows = (
        coupon_suggestions(db, profile_id, as_of, settings, margins)
        + bid_suggestions(db, profile_id, as_of, settings)
        + merge_suggestions(db, profile_id, as_of, settings)
    )
    if not rows:
        return pd.DataFrame(columns=SUGGESTION_COLUMNS)
    df = pd.DataFrame(rows)
    cur = pd.to_numeric(df["current_value"], errors="coerce")
    prop = pd.to_numeric(df["proposed_value"], errors="coerce")
    df["change_pct"] = [safe_ratio(p - c, c) if not (pd.isna(p) or pd.isna(c)) else None for c, p in zip(cur, prop)]
    df["suggestion_key"] = [
        _key(profile_id, r["type"], r["entity_id"], ",".join(map(str, r["entity_ids"]))) for r in df.to_dict("records")
    ]
    for col in SUGGESTION_COLUMNS:
        if col not in df.columns:
            df[col] = None
    return (
        df[SUGGESTION_COLUMNS]
        .sort_values(["confidence", "type"], ascending=[False, True], kind="stable")
        .reset_index(drop=True)
    )


TYPE_LABELS = {
    "raise_coupon_budget": "Raise the coupon's budget",
    "extend_coupon_end": "Extend the coupon",
    "coupon_budget_warning": "Coupon near its budget",
    "coupon_underpacing": "Coupon spending slowly",
    "reduce_coupon_depth": "Smaller discount next time",
    "cut_bids_aov_drop": "Lower bids during the promotion",
    "merge_coupons": "Merge coupons",
}


def readable_suggestions(df: pd.DataFrame) -> pd.DataFrame:
    """The suggestions as the page lists them: what kind, on what, the change in units, why and what to expect."""
    out = pd.DataFrame(
        {
            "type": [TYPE_LABELS.get(t, str(t).replace("_", " ").capitalize()) for t in df["type"]],
            "entity_name": df["entity_name"],
            "change": [change_text(r) for r in df.to_dict("records")],
            "reason": df["reason"],
            "expected_effect": df["expected_effect"],
            "confidence": df["confidence"],
        }
    )
    return out.reset_index(drop=True)


def change_text(row: Mapping[str, Any]) -> str:
    """What a suggestion changes, in a marketer's words and units ("84% of the budget used · offline at 80%",
    "Budget $200.00 → $260.00", "Bids × 0.87 (−13%)"), instead of bare numbers such as "0.8432 → 0.8"."""
    from services.analytics.metrics import MINUS, format_money, format_percent

    kind, cur = row.get("type"), row.get("currency_code") or "USD"
    now, new = row.get("current_value"), row.get("proposed_value")
    evidence = row.get("evidence") or {}
    if kind == "raise_coupon_budget":
        return f"Budget {format_money(now, cur)} → {format_money(new, cur)}"
    if kind == "coupon_underpacing":
        return (
            f"Keep this coupon's {format_money(now, cur)} (a live budget can only be raised) · next coupon "
            f"{format_money(evidence.get('next_coupon_budget'), cur)}"
        )
    if kind == "coupon_budget_warning":
        return f"{format_percent(now, 0)} of the budget used · offline at {format_percent(new, 0)}"
    if kind == "extend_coupon_end":
        return f"End {_day(now)} → {_day(new)}"
    if kind == "reduce_coupon_depth":
        if str(evidence.get("discount_type") or "").upper().startswith("PERCENT"):
            return f"{now:g}% off → {new:g}% off (next coupon)"
        return f"{format_money(now, cur)} off → {format_money(new, cur)} off (next coupon)"
    if kind == "cut_bids_aov_drop":
        if new is None:
            return "—"
        ratio = float(new)
        change = format_percent(ratio - 1, 0).replace("-", MINUS)
        return f"Bids × {ratio:.2f} ({change})"
    if kind == "merge_coupons":
        return f"{now} coupons → {new}"
    return f"{now} → {new}"


def _day(value: Any) -> str:
    try:
        return f"{date.fromisoformat(str(value)[:10]):%d %b %Y}"
    except ValueError:
        return str(value)
