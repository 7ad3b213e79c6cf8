"""What the Suggestions page does with a marketer's decisions, one call per button.

Applying and undoing reach Amazon, so both insist on `confirmed=True`: the page
asks first and passes the answer through; nothing goes out by default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlite_utils import Database

from services import optimizer as sugg
from services.accounts import grants
from services.analytics.export import to_safe_csv
from services.analytics.presentation import enum_label, export_frame
from services.optimizer import TYPE_LABELS
from services.optimizer.actions import _actions_for
from services.optimizer.bulksheet import approved_bulk_xlsx, bulk_filename
from services.optimizer.detail import FIELD_LABELS, campaign_names, change_texts, field_change, local_time, zone

HISTORY_COLUMNS = [
    "applied_at",
    "campaign",
    "change_type",
    "action",
    "entity_name",
    "field",
    "change",
    "old_value",
    "new_value",
    "ok",
    "message",
    "undone_at",
    "change_id",
]


def shown_suggestions(
    db: Database,
    account_id: str,
    profile_id: str,
    *,
    types: list[str] | None,
    statuses: list[str],
    min_confidence: float,
    search: str,
    sort_by: str,
) -> pd.DataFrame:
    """The filtered, sorted list the page shows (types given as their labels or keys)."""
    keys = None
    if types:
        by_label = {v: k for k, v in TYPE_LABELS.items()}
        keys = [by_label.get(t, t) for t in types]
    return sugg.list_suggestions(
        db,
        account_id,
        profile_id,
        types=keys,
        statuses=statuses,
        min_confidence=min_confidence,
        search=search or None,
        sort_by=sort_by,
    )


def decide(db: Database, ids: list[str], decision: str, snooze_days: int = 7) -> int:
    """approve / reject / snooze / reset the given suggestions; returns how many changed.

    Deciding is changing: only an approver of every account the suggestions belong to may do it."""
    _require_change(db, _accounts_of(db, "suggestions", "suggestion_id", ids))
    if decision == "approve":
        return sugg.approve(db, ids)
    if decision == "reject":
        return sugg.reject(db, ids)
    if decision == "snooze":
        return sugg.snooze(db, ids, days=snooze_days)
    if decision == "reset":
        return sugg.reset(db, ids)
    raise ValueError(f"unknown decision {decision!r}")


def _accounts_of(db: Database, table: str, key: str, ids: list[str]) -> list[str]:
    """The accounts the given suggestions or changes belong to (what a decision or an undo would change)."""
    ids = [str(i) for i in ids]
    if not ids or not db.conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", [table]).fetchone():
        return []
    marks = ", ".join("?" for _ in ids)
    rows = db.conn.execute(f"SELECT DISTINCT account_id FROM [{table}] WHERE [{key}] IN ({marks})", ids)
    return [str(r[0]) for r in rows]


def _require_change(db: Database, account_ids: list[str]) -> None:
    """The signed-in person must be an approver of each account (services.accounts.grants holds the rule)."""
    for account_id in dict.fromkeys(account_ids):
        grants.require(db, account_id, grants.CHANGE)


def merge_selection(selected: list[str], rendered_ids: list[str], rows: object) -> list[str]:
    """The selection after the user clicked rows of the table they were shown, as suggestion ids.

    `rendered_ids` are the ids of the table the click was made on, in the order shown; `rows` are the
    positions Streamlit reports for that table. Ids selected earlier but not in that table (hidden by a
    filter) are kept; positions that do not exist in that table are ignored, never looked up elsewhere.
    """
    if not isinstance(rows, (list, tuple)):
        return list(selected)
    rendered = set(rendered_ids)
    picked = [rendered_ids[r] for r in rows if isinstance(r, int) and 0 <= r < len(rendered_ids)]
    kept = [i for i in selected if i not in rendered]
    return list(dict.fromkeys(kept + picked))


def positions_of(selected: list[str], shown_ids: list[str]) -> list[int]:
    """Where the selected ids are in the table about to be shown (the selection Streamlit should draw)."""
    chosen = set(selected)
    return [pos for pos, sid in enumerate(shown_ids) if sid in chosen]


@dataclass(frozen=True)
class Scope:
    """What a decision button acts on: the selected suggestions that are shown, or every shown one if none is."""

    ids: list[str]
    label: str
    hidden: int  # selected ids the filters hide: kept selected, not acted on


def decision_scope(selected: list[str], shown_ids: list[str]) -> Scope:
    """With a selection, only its shown part (possibly none); with no selection at all, every shown suggestion."""
    shown = set(shown_ids)
    visible = [i for i in selected if i in shown]
    hidden = len(selected) - len(visible)
    if selected:
        return Scope(visible, f"{len(visible)} selected", hidden)
    return Scope(list(shown_ids), f"all {len(shown_ids)} shown", 0)


PLAN_COLUMNS = [
    "entity_type",
    "entity",
    "campaign",
    "ad_group",
    "field",
    "change",
    "old_value",
    "new_value",
    "expected_spend_change",
    "expected_sales_change",
    "suggestion_id",
]

_ENTITY_TYPES = {
    "keyword": "Keyword",
    "target": "Target",
    "campaign": "Campaign",
    "ad_group": "Ad group",
    "negative_keyword": "Negative keyword",
}


@dataclass(frozen=True)
class ApplyPlan:
    """Every change an apply of `suggestion_ids` will send, one row per Amazon call, and the expected effect."""

    suggestion_ids: list[str]
    changes: pd.DataFrame
    spend_change: float
    sales_change: float


def apply_plan(
    db: Database, account_id: str, profile_id: str, suggestion_ids: list[str], currency: str = "USD"
) -> ApplyPlan:
    """The confirmation's list: built from the same actions `apply_approved` sends for these approved ids."""
    df = sugg.list_suggestions(db, account_id, profile_id, statuses=("approved",))
    df = df[df["suggestion_id"].astype(str).isin([str(i) for i in suggestion_ids])]
    rows, ids = [], []
    for s in df.to_dict("records"):
        actions = _actions_for(db, s)
        if actions:
            ids.append(str(s["suggestion_id"]))
        for n, a in enumerate(actions):
            first = n == 0  # a suggestion's expected effect is counted once, on its first change
            rows.append(
                {
                    "entity_type": _ENTITY_TYPES.get(a.entity_kind, a.entity_kind),
                    "entity": enum_label("match_type", a.entity_name),  # an auto target by its console name
                    "campaign": s.get("campaign_name"),
                    "ad_group": s.get("ad_group_name"),
                    "field": FIELD_LABELS.get(a.field, a.field),
                    "change": field_change(a.field, a.old_value, a.new_value, currency),
                    "old_value": a.old_value,
                    "new_value": a.new_value,
                    "expected_spend_change": _number(s.get("expected_spend_change")) if first else 0.0,
                    "expected_sales_change": _number(s.get("expected_sales_change")) if first else 0.0,
                    "suggestion_id": str(s["suggestion_id"]),
                }
            )
    changes = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    return ApplyPlan(
        ids,
        changes,
        float(changes["expected_spend_change"].sum()) if rows else 0.0,
        float(changes["expected_sales_change"].sum()) if rows else 0.0,
    )


def _number(value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if out != out else out  # NaN counts as no expected change


def apply_approved_changes(
    db: Database, vault, account_id: str, profile_id: str, suggestion_ids: list[str], *, confirmed: bool
) -> pd.DataFrame:
    """Send exactly these approved suggestions (the confirmation's list) to Amazon; Amazon's per-item answer."""
    _require_change(db, [account_id])
    client = sugg.client_for_profile(db, vault, account_id, profile_id)
    return sugg.apply_approved(db, client, account_id, profile_id, confirmed=confirmed, ids=suggestion_ids).frame


def history(
    db: Database, account_id: str, profile_id: str, timezone: str | None = None, currency: str = "USD"
) -> pd.DataFrame:
    """Changes sent to Amazon, newest first, with the campaign's name, times in `timezone` (the browser's; UTC
    when unknown). The times stay text ('2026-12-01 15:03'): the page states which zone they are in."""
    h = sugg.change_history(db, account_id, profile_id)
    if h.empty:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    tz, _ = zone(timezone)
    names = campaign_names(db, profile_id, h["campaign_id"].tolist())
    h = h.assign(
        campaign=h["campaign_id"].map(lambda c: names.get(str(c))),
        entity_name=h["entity_name"].map(lambda v: enum_label("match_type", v)),
        applied_at=h["applied_at"].map(lambda t: local_time(t, tz)),
        undone_at=h["undone_at"].map(lambda t: local_time(t, tz)),
        change=[field_change(f, o, n, currency) for f, o, n in zip(h["field"], h["old_value"], h["new_value"])],
    )
    return h[[c for c in HISTORY_COLUMNS if c in h.columns]]


def outcome_sentence(kind: str, result: pd.DataFrame) -> tuple[bool, str]:
    """(all went through, the banner's sentence) after an apply or an undo: an undo says what it put back."""
    n = len(result)
    ok = int(result["ok"].sum()) if "ok" in result and n else 0
    if kind == "undo":
        if ok == n:
            return True, f"Undone on Amazon: {ok} of {n} change(s) put back to their earlier values."
        return False, f"Amazon refused to undo {n - ok} of {n} change(s); see why below. The others were put back."
    if ok == n:
        return True, f"Amazon accepted {ok} of {n} change(s)."
    return False, f"Amazon refused {n - ok} of {n} change(s); see why below."


def undoable_ids(db: Database, account_id: str, profile_id: str, last_batch_only: bool = False) -> list[str]:
    """Successful, not yet undone changes (optionally only those of the most recent apply)."""
    h = sugg.change_history(db, account_id, profile_id, only_ok=True)
    if h.empty:
        return []
    h = h[h["undone_at"].isna() & h["undo_of"].isna()]
    if last_batch_only and not h.empty:
        h = h[h["applied_at"] == h["applied_at"].max()]
    return h["change_id"].astype(str).tolist()


def undo_changes(
    db: Database, vault, account_id: str, profile_id: str, change_ids: list[str], *, confirmed: bool
) -> pd.DataFrame:
    _require_change(db, [account_id, *_accounts_of(db, "change_history", "change_id", change_ids)])
    client = sugg.client_for_profile(db, vault, account_id, profile_id)
    return sugg.undo(db, client, change_ids, confirmed=confirmed).frame


CSV_COLUMNS = [
    "type_label",
    "status",
    "change",
    "expected_profit_change",
    "campaign_name",
    "ad_group_name",
    "keyword_text",
    "match_type",
    "search_term",
    "dest_campaign_name",
    "dest_ad_group_name",
    "current_value",
    "proposed_value",
    "reason",
    "rule",
    "confidence",
    "clicks",
    "orders",
    "spend",
    "sales",
    "acos",
    "cvr_raw",
    "cvr_shrunk",
    "target_acos",
    "expected_spend_change",
    "expected_sales_change",
    "campaign_id",
    "ad_group_id",
    "entity_id",
    "suggestion_id",
]


def suggestions_csv(rows: pd.DataFrame, currency: str) -> bytes:
    """Every suggestion the filters match as the page reads them (same headers and units, through the registry),
    plus the evidence columns and ids a spreadsheet user filters by; written by the one safe CSV writer."""
    out = rows.assign(change=change_texts(rows, currency)) if not rows.empty else rows.assign(change=[])
    return to_safe_csv(export_frame(out[[c for c in CSV_COLUMNS if c in out.columns]]))


def bulk_file(db: Database, account_id: str, profile_id: str, day: date) -> tuple[Callable[[], bytes], str]:
    """The approved changes as an Amazon Ads bulk-operations workbook (built when called, i.e. on click) and its name."""
    return (lambda: approved_bulk_xlsx(db, account_id, profile_id)), bulk_filename(profile_id, day)
