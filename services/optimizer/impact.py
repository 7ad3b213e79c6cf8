"""What an applied change did: the entity's clicks, spend, sales and profit in the days after against the days before,
adjusted by the account's own trend over the same days.

Why adjusted: a bid cut in a week when the whole account's traffic fell would otherwise look like the cut's doing.
The expected "after" of the entity is its "before" times how the rest of the account (the entity left out, so a large
change does not hide its own effect) moved between the two windows; the effect is actual minus expected, per metric,
scaled to WINDOW_DAYS. The newest `settling_days` are left out (their orders are still being attributed), and a
change with fewer than MIN_AFTER_DAYS measurable days after it is reported as too early.

What is measured per change type: a bid change on its keyword or target; a budget or placement change on its
campaign; a negative keyword on its ad group (the traffic it stopped and what that ad group earned without it);
a new keyword on itself (before is nothing). Profit = sales x break-even ACOS (the campaign's product margins)
- spend; without margins it is left empty rather than guessed.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlite_utils import Database

from services.analytics.export import to_safe_csv
from services.analytics.metrics import format_money
from services.optimizer.apply import change_history

WINDOW_DAYS = 14
SETTLING_DAYS = 3
MIN_AFTER_DAYS = 7
METRICS = ("clicks", "spend", "sales")
COLUMNS = [
    "change_id",
    "applied_on",
    "change_type",
    "entity_name",
    "entity_id",
    "campaign_id",
    "scope",
    "old_value",
    "new_value",
    "status",
    "days_before",
    "days_after",
    *(f"{m}_before" for m in (*METRICS, "profit")),
    *(f"{m}_after" for m in (*METRICS, "profit")),
    *(f"{m}_expected" for m in (*METRICS, "profit")),
    *(f"{m}_effect" for m in (*METRICS, "profit")),
]


def _daily(
    db: Database, table: str, where: str, params: list, start: date, end: date, attribution: str
) -> pd.DataFrame:
    cur = db.conn.execute(
        f"SELECT date, sum(clicks), sum(cost), sum(coalesce(sales_{attribution}, 0)) FROM {table} "
        f"WHERE {where} AND date BETWEEN ? AND ? GROUP BY date",
        [*params, start.isoformat(), end.isoformat()],
    )
    return pd.DataFrame(cur.fetchall(), columns=["date", "clicks", "spend", "sales"])


def _sums(frame: pd.DataFrame) -> dict[str, float]:
    return {m: float(frame[m].sum()) if not frame.empty else 0.0 for m in METRICS}


def _campaign_margin(db: Database, account_id: str, profile_id: str, campaign_id: str | None) -> float | None:
    if not campaign_id:
        return None
    row = db.conn.execute(
        "SELECT avg(m.margin) FROM product_ads p JOIN product_margins m ON m.asin = p.asin AND m.account_id = ? "
        "WHERE p.profile_id = ? AND p.campaign_id = ?",
        [account_id, str(profile_id), str(campaign_id)],
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def _scope(change: dict) -> tuple[str, str, str, list]:
    """(scope name, table, where, params) of the entity a change is measured on."""
    kind = change["change_type"]
    if kind in ("budget", "placement"):
        return "campaign", "campaign_day", "campaign_id = ?", [str(change["campaign_id"])]
    if kind == "negative":
        return "ad group", "target_day", "ad_group_id = ?", [str(change["ad_group_id"])]
    return "keyword", "target_day", "keyword_id = ?", [str(change["entity_id"])]


def measure_change(
    db: Database,
    account_id: str,
    profile_id: str,
    change: dict,
    *,
    as_of: date,
    window_days: int = WINDOW_DAYS,
    settling_days: int = SETTLING_DAYS,
    attribution: str = "7d",
) -> dict:
    """One change's before/after/expected/effect (see the module docstring); `as_of` is the newest day with data."""
    stamp = pd.Timestamp(change["applied_at"])
    day = (stamp.tz_convert("UTC") if stamp.tzinfo else stamp).date()
    b0, b1 = day - timedelta(days=window_days), day - timedelta(days=1)
    a0 = day + timedelta(days=1)
    a1 = min(day + timedelta(days=window_days), as_of - timedelta(days=settling_days))
    scope, table, where, params = _scope(change)
    out = {c: change.get(c) for c in ("change_id", "change_type", "entity_name", "entity_id", "campaign_id")}
    out.update(
        applied_on=day.isoformat(),
        scope=scope,
        old_value=change.get("old_value"),
        new_value=change.get("new_value"),
    )
    days_after = (a1 - a0).days + 1
    out["days_before"], out["days_after"] = window_days, max(days_after, 0)
    if days_after < MIN_AFTER_DAYS:
        out["status"] = "too early"
        return out
    pid = str(profile_id)
    ent_b = _sums(_daily(db, table, f"profile_id = ? AND {where}", [pid, *params], b0, b1, attribution))
    ent_a = _sums(_daily(db, table, f"profile_id = ? AND {where}", [pid, *params], a0, a1, attribution))
    acc_b = _sums(_daily(db, table, "profile_id = ?", [pid], b0, b1, attribution))
    acc_a = _sums(_daily(db, table, "profile_id = ?", [pid], a0, a1, attribution))
    scale = window_days / days_after  # the after window as WINDOW_DAYS days
    margin = _campaign_margin(db, account_id, pid, change.get("campaign_id"))
    for m in METRICS:
        rest_b = acc_b[m] - ent_b[m]
        rest_a = (acc_a[m] - ent_a[m]) * scale
        trend = rest_a / rest_b if rest_b > 0 else 1.0
        out[f"{m}_before"] = round(ent_b[m], 2)
        out[f"{m}_after"] = round(ent_a[m] * scale, 2)
        out[f"{m}_expected"] = round(ent_b[m] * trend, 2)
        out[f"{m}_effect"] = round(out[f"{m}_after"] - out[f"{m}_expected"], 2)
    if margin is not None:
        for part in ("before", "after", "expected", "effect"):
            out[f"profit_{part}"] = round(out[f"sales_{part}"] * margin - out[f"spend_{part}"], 2)
    out["status"] = "measured" if days_after >= window_days else "partly measured"
    return out


def measure_impacts(
    db: Database,
    account_id: str,
    profile_id: str,
    *,
    as_of: date | None = None,
    since: date | None = None,
    attribution: str = "7d",
) -> pd.DataFrame:
    """Every successful change of the profile (not undo rows, not undone ones) with its measured effect."""
    pid = str(profile_id)
    if as_of is None:
        row = db.conn.execute("SELECT max(date) FROM campaign_day WHERE profile_id = ?", [pid]).fetchone()
        as_of = date.fromisoformat(row[0]) if row and row[0] else date.today()
    h = change_history(db, account_id, pid, start=since, only_ok=True)
    if h.empty:
        return pd.DataFrame(columns=COLUMNS)
    h = h[h["undo_of"].isna() & h["undone_at"].isna()]
    rows = [measure_change(db, account_id, pid, c, as_of=as_of, attribution=attribution) for c in h.to_dict("records")]
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def impact_summary(impacts: pd.DataFrame) -> dict:
    """For the Suggestions page: "changes applied in the last 30 days: +$X profit, estimated"."""
    measured = impacts[impacts["status"].isin(["measured", "partly measured"])] if not impacts.empty else impacts
    profit = pd.to_numeric(measured.get("profit_effect", pd.Series(dtype=float)), errors="coerce")
    return {
        "changes": int(len(impacts)),
        "measured": int(len(measured)),
        "profit_effect": round(float(profit.sum()), 2) if profit.notna().any() else None,
        "sales_effect": round(float(pd.to_numeric(measured.get("sales_effect"), errors="coerce").sum()), 2)
        if len(measured)
        else 0.0,
    }


def impacts_csv(impacts: pd.DataFrame) -> bytes:
    """The impact table as CSV through the one safe writer (cells that look like formulas are neutralised)."""
    return to_safe_csv(impacts.reindex(columns=COLUMNS))


# ------------------------------------------------------------------ what the Suggestions page shows

HISTORY_EFFECT_COLUMNS = [
    "measured",
    "profit_before",
    "profit_after",
    "profit_effect",
    "sales_effect",
    "spend_effect",
    "clicks_effect",
]
EFFECT_COLUMNS = ["measured", *COLUMNS]  # the CSV: the sentence, then every figure


def history_version(db: Database, account_id: str, profile_id: str) -> str:
    """Changes when a change is applied, undone or reconciled: part of the cached impacts' key, with the data
    version (a sync adds the days that measure them)."""
    row = db.conn.execute(
        "SELECT count(*), max(applied_at), max(undone_at) FROM change_history WHERE account_id = ? AND profile_id = ?",
        [account_id, str(profile_id)],
    ).fetchone()
    return "|".join(str(v) for v in row)


def measured_text(row: dict, window_days: int = WINDOW_DAYS) -> str:
    """'measured over 14 days', 'measuring — 5 days to go (first 9 days shown)' or 'measuring — 12 days to go'."""
    days = int(row.get("days_after") or 0)
    to_go = max(window_days - days, 1)
    if row.get("status") == "measured":
        return f"measured over {window_days} days, trend-adjusted"
    if row.get("status") == "partly measured":
        return f"measuring — {to_go} days to go (first {days} days shown)"
    return f"measuring — {to_go} days to go"


def with_measured_text(impacts: pd.DataFrame) -> pd.DataFrame:
    out = impacts.copy()
    out["measured"] = [measured_text(r) for r in impacts.to_dict("records")] if len(impacts) else []
    return out.reindex(columns=EFFECT_COLUMNS)


def history_with_effects(history: pd.DataFrame, impacts: pd.DataFrame) -> pd.DataFrame:
    """The change history with each applied change's measured effect beside it (undo rows and refused or undone
    changes have none: nothing of theirs is in effect to measure)."""
    effects = with_measured_text(impacts)[["change_id", *HISTORY_EFFECT_COLUMNS]]
    merged = history.merge(effects, on="change_id", how="left") if len(history) else history
    return merged.reindex(columns=[*history.columns, *HISTORY_EFFECT_COLUMNS])


def _signed(value: float, currency: str) -> str:
    return ("+" if round(value, 2) > 0 else "") + format_money(value, currency)


def summary_sentence(impacts: pd.DataFrame, currency: str = "USD", *, today: date | None = None, days: int = 30) -> str:
    """The Suggestions page's line: 'Changes applied in the last 30 days: +$412.50 profit, estimated (…)'.

    Only changes applied in the last `days` days count; each measured one adds its trend-adjusted profit effect."""
    today = today or date.today()
    if len(impacts):
        impacts = impacts[pd.to_datetime(impacts["applied_on"]).dt.date >= today - timedelta(days=days)]
    recent = impacts
    if recent.empty:
        return f"No changes applied in the last {days} days."
    s = impact_summary(recent)
    if s["measured"] == 0:
        return (
            f"Changes applied in the last {days} days: {s['changes']}, none measured yet (the first figures come "
            f"{MIN_AFTER_DAYS} days after a change, once {SETTLING_DAYS} settling days have passed)."
        )
    if s["profit_effect"] is None:
        return (
            f"Changes applied in the last {days} days: {_signed(s['sales_effect'], currency)} sales, estimated "
            f"({s['measured']} of {s['changes']} measured). Set product margins on Goals to see the profit."
        )
    return (
        f"Changes applied in the last {days} days: {_signed(s['profit_effect'], currency)} profit, estimated "
        f"({s['measured']} of {s['changes']} changes measured so far, against the account's own trend)."
    )
