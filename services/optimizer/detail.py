"""How a suggestion reads to a marketer: the change with its units, the evidence in words and numbers, the target it
aimed at and where that target came from, product names for ASINs, and change history in the user's time zone.

The unit of current -> proposed follows the suggestion type: a bid and a daily budget are money, a top-of-search
placement adjustment is a percentage, a negative keyword or a harvested keyword is an action with a match type.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from sqlite_utils import Database

from services.analytics.metrics import format_money
from services.analytics.presentation import enum_label
from services.analytics.sales import product_names
from services.optimizer.model import TYPE_LABELS
from services.optimizer.suggestions import ensure_schema, get_settings_book

_ASIN = re.compile(r"\b(B0[0-9A-Z]{8})\b", re.IGNORECASE)

MATCH_LABELS = {
    "EXACT": "exact",
    "PHRASE": "phrase",
    "BROAD": "broad",
    "NEGATIVE_EXACT": "negative exact",
    "NEGATIVE_PHRASE": "negative phrase",
}

RULE_WORDS = {
    "bid_to_value": "Bid set toward what a click is worth at the target ACOS",
    "bid_limits": "Bid brought inside the allowed minimum and maximum",
    "bleeder": "Search term without orders where its ad group converts (negate)",
    "bleeder_pooled": "Search term without orders in several ad groups (negate, evidence pooled)",
    "harvest_exact": "Converting search term added as an exact keyword",
    "harvest_exact+isolate": "Converting search term added as an exact keyword and negated at its source",
    "budget_up": "Profitable campaign limited by its budget (raise)",
    "budget_down": "Campaign spending above its target ACOS (lower the budget)",
    "placement_top": "Top-of-search adjustment set by its ACOS against the target",
}


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) or math.isinf(out) else out


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f} %"


def change_text(row: dict, currency: str) -> str:
    """'$1.15 → $0.92' for a bid, '$50.00 → $70.00 a day' for a budget, '50 % → 70 %' for a placement,
    'Add as negative exact' for a negative, 'New exact keyword at $0.85' for a harvest."""
    kind = row.get("type")
    cur, new = _num(row.get("current_value")), _num(row.get("proposed_value"))
    match = MATCH_LABELS.get(str(row.get("match_type") or "").upper(), str(row.get("match_type") or "").lower())
    if kind == "negative":
        return f"Add as {match or 'negative exact'}"
    if kind == "harvest":
        return f"New {match or 'exact'} keyword" + (f" at {format_money(new, currency)}" if new is not None else "")
    if kind == "placement":
        return f"{'—' if cur is None else f'{cur:.0f} %'} → {'—' if new is None else f'{new:.0f} %'}"
    money = f"{format_money(cur, currency)} → {format_money(new, currency)}"
    return money + (" a day" if kind == "budget" else "")


def change_texts(rows: pd.DataFrame, currency: str) -> pd.Series:
    return pd.Series([change_text(r, currency) for r in rows.to_dict("records")], index=rows.index, dtype=object)


def asin_in(row: dict) -> str | None:
    """The ASIN a suggestion is about (a product target or an ASIN search term), upper case, or None."""
    for col in ("keyword_text", "search_term"):
        m = _ASIN.search(str(row.get(col) or ""))
        if m:
            return m.group(1).upper()
    return None


def with_products(db: Database, profile_id: str, rows: pd.DataFrame) -> pd.DataFrame:
    """Add a `product` column: the name of the ASIN a row targets or searched for (empty when none or unknown)."""
    out = rows.copy()
    asins = [asin_in(r) for r in out.to_dict("records")]
    names = product_names(db, profile_id) if any(asins) else {}
    out["product"] = [names.get(a) if a else None for a in asins]
    return out


def product_name(db: Database, profile_id: str, row: dict) -> str | None:
    asin = asin_in(row)
    return product_names(db, profile_id).get(asin) if asin else None


def evidence_of(row: dict) -> dict:
    """The suggestion's evidence JSON as a dict ({} when the store has no evidence column or it is empty/broken)."""
    raw = row.get("evidence")
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        return {}
    try:
        out = json.loads(raw)
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def _target_pct(x: float) -> str:
    """25 %, 12.5 %: a fraction as the percent a marketer reads."""
    v = round(x * 100, 1)
    return f"{v:.0f} %" if v == int(v) else f"{v:.1f} %"


def target_sentence(evidence: dict, fallback_target_acos: float | None = None) -> str | None:
    """The detail's target line: `targets.target_sentence` (the one wording, "Aims at 25 % ACOS (campaign
    override).") from the evidence's target keys; for a suggestion saved before targets were recorded, the ACOS
    target its row carries ("Aims at 15 % ACOS."); None when there is neither."""
    from services.optimizer.targets import target_sentence as sentence

    found = sentence(evidence)
    if found:
        return found
    fallback = _num(fallback_target_acos)
    return f"Aims at {_target_pct(fallback)} ACOS." if fallback is not None else None


def suggestion_detail(db: Database, account_id: str, profile_id: str, suggestion_id: str) -> dict | None:
    """Every stored field of one suggestion (evidence included), or None if it is not this profile's."""
    ensure_schema(db)
    cur = db.conn.execute(
        "SELECT * FROM suggestions WHERE suggestion_id = ? AND account_id = ? AND profile_id = ?",
        [str(suggestion_id), account_id, str(profile_id)],
    )
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([c[0] for c in cur.description], row))


def evidence_table(db: Database, account_id: str, profile_id: str, row: dict, currency: str) -> pd.DataFrame:
    """The detail panel's evidence: what, the number, and what it means (one row each)."""
    money = lambda v: format_money(_num(v), currency)  # noqa: E731 - a local shorthand
    clicks, orders = _num(row.get("clicks")), _num(row.get("orders"))
    window = (
        f"from {row['window_start']} to {row['window_end']}"
        if row.get("window_start") and row.get("window_end")
        else ""
    )
    spend_chg, sales_chg = _num(row.get("expected_spend_change")), _num(row.get("expected_sales_change"))
    profit = expected_profit(db, account_id, profile_id, row)
    ev = evidence_of(row)
    lines = [
        ("Clicks", "—" if clicks is None else f"{clicks:,.0f}", f"clicks {window}".strip()),
        ("Orders", "—" if orders is None else f"{orders:,.0f}", f"orders attributed to those clicks {window}".strip()),
        ("Spend", money(row.get("spend")), "what those clicks cost"),
        ("Sales", money(row.get("sales")), "sales attributed to those clicks"),
        ("ACOS", _pct(_num(row.get("acos"))), "spend as a share of sales"),
        ("Conversion rate, raw", _pct(_num(row.get("cvr_raw"))), "orders per click, as measured"),
        (
            "Conversion rate, shrunk",
            _pct(_num(row.get("cvr_shrunk"))),
            "the raw rate pulled toward its ad group's rate in proportion to how few clicks it has",
        ),
        ("Rule", RULE_WORDS.get(str(row.get("rule")), str(row.get("rule") or "—")), f"rule `{row.get('rule')}`"),
        ("Confidence", _pct(_num(row.get("confidence")), 0), "how sure the rule is, from the amount of evidence"),
        ("Expected spend change", money(spend_chg), "per week, if applied (a rough estimate)"),
        ("Expected sales change", money(sales_chg), "per week, if applied (a rough estimate)"),
        ("Expected profit impact", money(profit), "per week: sales change × margin − spend change"),
    ]
    target = target_sentence(ev, _num(row.get("target_acos")))
    if target:
        lines.append(("Target", target.removeprefix("Aims at ").rstrip("."), target))
    return pd.DataFrame(lines, columns=["evidence", "value", "meaning"])


def expected_profit(db: Database, account_id: str, profile_id: str, row: dict) -> float:
    """Weekly profit impact of one suggestion, by the same formula as the list's order (see `worklist`)."""
    margin = db.conn.execute(
        "SELECT AVG(pm.margin) FROM product_ads pa JOIN product_margins pm ON pm.account_id = ? "
        "AND pm.asin = upper(pa.asin) WHERE pa.profile_id = ? AND pa.campaign_id = ?",
        [account_id, str(profile_id), str(row.get("campaign_id"))],
    ).fetchone()[0]
    if margin is None:
        share = get_settings_book(db, account_id).account.break_even_share or 0.5
        target = _num(row.get("target_acos"))
        margin = target / share if target is not None else 0.0
    return (_num(row.get("expected_sales_change")) or 0.0) * float(margin) - (
        _num(row.get("expected_spend_change")) or 0.0
    )


def headline(row: dict, currency: str) -> str:
    """'Bid changes · "garden hose" in Hoses › Exact: $1.15 → $0.92' — what the panel is about, in one line."""
    what = enum_label("match_type", row.get("keyword_text")) or row.get("search_term") or row.get("campaign_name") or ""
    where = " › ".join(str(x) for x in (row.get("campaign_name"), row.get("ad_group_name")) if x)
    label = TYPE_LABELS.get(str(row.get("type")), str(row.get("type")))
    place = f" in {where}" if where and what != row.get("campaign_name") else ""
    return f"{label} · {what}{place}: {change_text(row, currency)}"


# ------------------------------------------------------------------ the entity's last 30 days

RECENT_DAYS = 30


def entity_days(db: Database, profile_id: str, row: dict, days: int = RECENT_DAYS) -> tuple[str, pd.DataFrame]:
    """What the suggestion changes, day by day over the last `days` synced days: (what it is, frame of date,
    clicks, spend, sales; a day without a row is a zero day, so the chart shows gaps in traffic as gaps).

    A bid moves a keyword or target (its own report rows); a budget or placement moves a campaign; a negative or a
    harvest is about a search term in its source ad group. Sales are 7-day attributed, like the rest of the page."""
    kind = str(row.get("type") or "")
    pid = str(profile_id)
    if kind == "bid" and row.get("entity_id"):
        what, table, where = "keyword or target", "target_day", ("keyword_id = ?", [str(row["entity_id"])])
    elif kind in ("negative", "harvest") and row.get("search_term"):
        what, table = "search term in its ad group", "search_term_day"
        where = ("search_term = ? AND ad_group_id = ?", [str(row["search_term"]), str(row.get("ad_group_id"))])
    elif row.get("campaign_id"):
        what, table, where = "campaign", "campaign_day", ("campaign_id = ?", [str(row["campaign_id"])])
    else:
        return "", pd.DataFrame(columns=["date", "clicks", "spend", "sales"])
    last = db.conn.execute(f"SELECT max(date) FROM {table} WHERE profile_id = ?", [pid]).fetchone()[0]
    if not last:
        return what, pd.DataFrame(columns=["date", "clicks", "spend", "sales"])
    end = date.fromisoformat(last)
    start = end - timedelta(days=days - 1)
    cur = db.conn.execute(
        f"SELECT date, SUM(clicks), SUM(cost), SUM(coalesce(sales_7d, 0)) FROM {table} "
        f"WHERE profile_id = ? AND date BETWEEN ? AND ? AND {where[0]} GROUP BY date",
        [pid, start.isoformat(), end.isoformat(), *where[1]],
    )
    found = {d: (c, s, v) for d, c, s, v in cur.fetchall()}
    rows = []
    for i in range(days):
        day = (start + timedelta(days=i)).isoformat()
        clicks, spend, sales = found.get(day, (0, 0.0, 0.0))
        rows.append({"date": day, "clicks": int(clicks or 0), "spend": float(spend or 0), "sales": float(sales or 0)})
    return what, pd.DataFrame(rows)


# ------------------------------------------------------------------ history in the user's time zone


def zone(name: str | None) -> tuple[ZoneInfo, str]:
    """The browser's time zone (st.context.timezone), or UTC when it is missing or unknown; and its name."""
    if name:
        try:
            return ZoneInfo(name), name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC"), "UTC"


def local_time(ts: Any, tz: ZoneInfo) -> str | None:
    """An ISO timestamp stored in UTC as 'YYYY-MM-DD HH:MM' in `tz` (None stays None)."""
    if ts is None or (isinstance(ts, float) and math.isnan(ts)) or ts == "":
        return None
    try:
        t = datetime.fromisoformat(str(ts))
    except ValueError:
        return str(ts)
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def campaign_names(db: Database, profile_id: str, ids: list[str]) -> dict[str, str]:
    ids = sorted({str(i) for i in ids if i is not None and str(i) not in ("", "nan", "None")})
    if not ids:
        return {}
    rows = db.conn.execute(
        f"SELECT campaign_id, name FROM campaigns WHERE profile_id = ? AND campaign_id IN ({', '.join('?' for _ in ids)})",
        [str(profile_id), *ids],
    ).fetchall()
    return {str(k): v for k, v in rows}


FIELD_LABELS = {
    "bid": "Bid",
    "budget": "Daily budget",
    "placement_top_pct": "Top-of-search adjustment",
    "state": "State",
}


def value_text(field: str | None, value: Any, currency: str) -> str:
    """One stored value of a change with its unit: money for bids and budgets, % for a placement adjustment."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return "—"
    if field in ("bid", "budget"):
        n = _num(value)
        return format_money(n, currency) if n is not None else str(value)
    if field == "placement_top_pct":
        n = _num(value)
        return f"{n:.0f} %" if n is not None else str(value)
    if field == "state":
        return str(value).lower()
    return str(value)


def field_change(field: str | None, old: Any, new: Any, currency: str) -> str:
    """'$1.15 → $0.92', '50 % → 70 %', 'new → enabled' for a created keyword or negative."""
    old_text = value_text(field, old, currency)
    return f"{'new' if old_text == '—' else old_text} → {value_text(field, new, currency)}"
