"""What the Suggestions page does with a marketer's decisions, one call per button.

Applying and undoing reach Amazon, so both insist on `confirmed=True`: the page
asks first and passes the answer through; nothing goes out by default.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
from sqlite_utils import Database

from services import optimizer as sugg
from services.optimizer import TYPE_LABELS
from services.optimizer.bulksheet import approved_bulk_xlsx, bulk_filename

HISTORY_COLUMNS = [
    "applied_at",
    "change_type",
    "action",
    "entity_name",
    "field",
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
    """approve / reject / snooze / reset the given suggestions; returns how many changed."""
    if decision == "approve":
        return sugg.approve(db, ids)
    if decision == "reject":
        return sugg.reject(db, ids)
    if decision == "snooze":
        return sugg.snooze(db, ids, days=snooze_days)
    if decision == "reset":
        return sugg.reset(db, ids)
    raise ValueError(f"unknown decision {decision!r}")


def apply_approved_changes(db: Database, vault, account_id: str, profile_id: str, *, confirmed: bool) -> pd.DataFrame:
    """Send the approved changes to Amazon; Amazon's per-item answer as a table."""
    client = sugg.client_for_profile(db, vault, account_id, profile_id)
    return sugg.apply_approved(db, client, account_id, profile_id, confirmed=confirmed).frame


def history(db: Database, account_id: str, profile_id: str) -> pd.DataFrame:
    h = sugg.change_history(db, account_id, profile_id)
    return h[[c for c in HISTORY_COLUMNS if c in h.columns]] if not h.empty else pd.DataFrame(columns=HISTORY_COLUMNS)


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
    client = sugg.client_for_profile(db, vault, account_id, profile_id)
    return sugg.undo(db, client, change_ids, confirmed=confirmed).frame


def bulk_file(db: Database, account_id: str, profile_id: str, day: date) -> tuple[Callable[[], bytes], str]:
    """The approved changes as an Amazon Ads bulk-operations workbook (built when called, i.e. on click) and its name."""
    return (lambda: approved_bulk_xlsx(db, account_id, profile_id)), bulk_filename(profile_id, day)
