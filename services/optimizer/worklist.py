"""The Suggestions page's work list, read in SQL: one page of rows, the counts per type and campaign, and a
version that changes whenever a decision, an apply or a new generation changes what the list would show.

Why SQL and not a frame: a large account has ~20k suggestions. Reading them all (`SELECT *`) on every rerun to
filter, sort and count them in pandas took most of the page's time (issue 15). Here the database filters, sorts
and pages; only the listed columns of one page of rows leave it, and the evidence of one suggestion is read by
`services.optimizer.detail` when the user opens it.

Expected profit impact (the default order) = expected weekly sales change x margin - expected weekly spend change.
The margin is the campaign's products' mean margin where the seller entered margins (what the optimizer's
profit rule uses); where none is known, it is the break-even ACOS the optimizer assumed for the suggestion
(its target ACOS / the account's break-even share). Suggestions without an estimate (harvests) count as 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlite_utils import Database

from services.optimizer.model import TYPE_LABELS
from services.optimizer.suggestions import ensure_schema, get_settings_book

PAGE_SIZE = 200

LIST_COLUMNS = (
    "suggestion_id",
    "type",
    "status",
    "campaign_id",
    "campaign_name",
    "ad_group_name",
    "keyword_text",
    "match_type",
    "search_term",
    "dest_campaign_name",
    "dest_ad_group_name",
    "current_value",
    "proposed_value",
    "change_pct",
    "rule",
    "reason",
    "confidence",
    "clicks",
    "orders",
    "spend",
    "sales",
    "acos",
    "expected_spend_change",
    "expected_sales_change",
    "created_at",
)

# sort key -> what a marketer reads in the "Sort by" box; the first is the default
SORTS = {
    "expected_profit_change": "Expected profit impact",
    "confidence": "Confidence",
    "spend": "Spend",
    "clicks": "Clicks",
    "orders": "Orders",
    "acos": "ACOS",
    "expected_spend_change": "Expected spend change",
    "expected_sales_change": "Expected sales change",
    "change_pct": "Size of the change",
    "campaign_name": "Campaign",
    "created_at": "Newest",
}
DEFAULT_SORT = "expected_profit_change"


@dataclass(frozen=True)
class ListFilter:
    """What the user asked to see. Frozen and made of tuples, so it can key a cache entry."""

    types: tuple[str, ...] = ()  # type keys ("bid", ...); empty = every type
    statuses: tuple[str, ...] = ("pending", "approved")
    min_confidence: float = 0.0
    search: str = ""
    campaign_id: str | None = None
    sort_by: str = DEFAULT_SORT
    page: int = 1
    page_size: int = PAGE_SIZE

    def without_campaign(self) -> ListFilter:
        return replace(self, campaign_id=None)


@dataclass(frozen=True)
class WorkList:
    """One page of the list, and the counts the page needs to say what it shows."""

    rows: pd.DataFrame  # LIST_COLUMNS + type_label + expected_profit_change, sorted, one page
    total: int  # suggestions matching the filter, every page
    by_type: pd.DataFrame  # type, label, count, expected_profit_change
    page: int
    pages: int


def type_keys(labels_or_keys: Sequence[str]) -> tuple[str, ...]:
    """The multiselect gives labels ("Bid changes"); the store keeps keys ("bid"). Either is accepted."""
    by_label = {v: k for k, v in TYPE_LABELS.items()}
    return tuple(by_label.get(t, t) for t in labels_or_keys)


def _where(account_id: str, profile_id: str, f: ListFilter) -> tuple[str, list]:
    where, params = ["s.account_id = ?", "s.profile_id = ?"], [account_id, str(profile_id)]
    for col, values in (("s.type", f.types), ("s.status", f.statuses)):
        if values:
            where.append(f"{col} IN ({', '.join('?' for _ in values)})")
            params += list(values)
    if not f.statuses:
        where.append("0")  # no status chosen: nothing, as the multiselect shows
    if f.min_confidence:
        where.append("s.confidence >= ?")
        params.append(float(f.min_confidence))
    if f.campaign_id:
        where.append("s.campaign_id = ?")
        params.append(str(f.campaign_id))
    if f.search.strip():
        where.append(
            "(lower(coalesce(s.campaign_name,'')||' '||coalesce(s.ad_group_name,'')||' '||"
            "coalesce(s.keyword_text,'')||' '||coalesce(s.search_term,'')) LIKE ?)"
        )
        params.append(f"%{f.search.strip().lower()}%")
    return " AND ".join(where), params


def _impact_sql(db: Database, account_id: str, profile_id: str) -> tuple[str, str, list]:
    """(WITH clause, impact expression, its parameters): see the module docstring for the formula."""
    share = get_settings_book(db, account_id).account.break_even_share or 0.5
    with_clause = (
        "WITH margin AS (SELECT pa.campaign_id, AVG(pm.margin) AS margin FROM product_ads pa "
        "JOIN product_margins pm ON pm.account_id = ? AND pm.asin = upper(pa.asin) "
        "WHERE pa.profile_id = ? GROUP BY pa.campaign_id) "
    )
    impact = (
        "(coalesce(s.expected_sales_change, 0) * coalesce(m.margin, s.target_acos / ?, 0) "
        "- coalesce(s.expected_spend_change, 0))"
    )
    return with_clause, impact, [account_id, str(profile_id), float(share)]


def _order(f: ListFilter) -> str:
    """Largest first (a campaign name A to Z), empty values last, then a stable tie-break."""
    if f.sort_by not in SORTS:
        raise ValueError(f"sort_by must be one of {tuple(SORTS)}")
    sort = "expected_profit_change" if f.sort_by == "expected_profit_change" else f"s.{f.sort_by}"
    direction = "ASC" if f.sort_by == "campaign_name" else "DESC"
    return f"ORDER BY {sort} IS NULL, {sort} {direction}, s.suggestion_key, s.suggestion_id"


def work_list(db: Database, account_id: str, profile_id: str, f: ListFilter) -> WorkList:
    """The page of suggestions the filter asks for, sorted in SQL, with its counts."""
    ensure_schema(db)
    order = _order(f)
    where, params = _where(account_id, profile_id, f)
    with_clause, impact, impact_params = _impact_sql(db, account_id, profile_id)
    base = f"FROM suggestions s LEFT JOIN margin m ON m.campaign_id = s.campaign_id WHERE {where}"
    counts = db.conn.execute(
        f"{with_clause}SELECT s.type, count(*), sum({impact}) {base} GROUP BY s.type",
        [impact_params[0], impact_params[1], impact_params[2], *params],
    ).fetchall()
    by_type = pd.DataFrame(counts, columns=["type", "count", "expected_profit_change"])
    rank = {t: i for i, t in enumerate(TYPE_LABELS)}
    by_type = by_type.sort_values("type", key=lambda s: s.map(rank)).reset_index(drop=True)
    by_type.insert(1, "label", by_type["type"].map(TYPE_LABELS))
    total = int(by_type["count"].sum()) if not by_type.empty else 0
    pages = max(1, -(-total // f.page_size))
    page = min(max(1, int(f.page)), pages)
    cols = ", ".join(f"s.{c}" for c in LIST_COLUMNS)
    cur = db.conn.execute(
        f"{with_clause}SELECT {cols}, {impact} AS expected_profit_change {base} {order} LIMIT ? OFFSET ?",
        [*impact_params, *params, f.page_size, (page - 1) * f.page_size],
    )
    rows = pd.DataFrame(cur.fetchall(), columns=[c[0] for c in cur.description])
    rows["suggestion_id"] = rows["suggestion_id"].astype(str)
    rows.insert(1, "type_label", rows["type"].map(TYPE_LABELS))
    return WorkList(rows, total, by_type, page, pages)


def matching_ids(
    db: Database, account_id: str, profile_id: str, f: ListFilter, among: Sequence[str] | None = None
) -> list[str]:
    """Ids of every suggestion the filter matches (all pages, in no particular order); only those in `among` if given.

    What a decision button acts on: with no selection, everything the filters show; with one, its part that the
    filters still show (a selected suggestion on another page is still shown, one filtered out is not)."""
    ensure_schema(db)
    where, params = _where(account_id, profile_id, f)
    if among is not None:
        among = [str(i) for i in among]
        if not among:
            return []
        where += f" AND s.suggestion_id IN ({', '.join('?' for _ in among)})"
        params += among
    rows = db.conn.execute(f"SELECT s.suggestion_id FROM suggestions s WHERE {where}", params).fetchall()
    return [str(r[0]) for r in rows]


def matching_rows(db: Database, account_id: str, profile_id: str, f: ListFilter) -> pd.DataFrame:
    """Every stored column of every suggestion the filter matches, in the list's order: the CSV download (built
    on click, not on every rerun)."""
    ensure_schema(db)
    where, params = _where(account_id, profile_id, f)
    with_clause, impact, impact_params = _impact_sql(db, account_id, profile_id)
    cur = db.conn.execute(
        f"{with_clause}SELECT s.*, {impact} AS expected_profit_change FROM suggestions s "
        f"LEFT JOIN margin m ON m.campaign_id = s.campaign_id WHERE {where} {_order(f)}",
        [*impact_params, *params],
    )
    rows = pd.DataFrame(cur.fetchall(), columns=[c[0] for c in cur.description])
    rows.insert(0, "type_label", rows["type"].map(TYPE_LABELS))
    return rows


def campaign_counts(db: Database, account_id: str, profile_id: str, f: ListFilter) -> pd.DataFrame:
    """campaign_id, campaign_name, count: the campaigns the other filters leave, most suggestions first."""
    ensure_schema(db)
    where, params = _where(account_id, profile_id, f.without_campaign())
    cur = db.conn.execute(
        f"SELECT s.campaign_id, max(s.campaign_name), count(*) FROM suggestions s WHERE {where} "
        "AND s.campaign_id IS NOT NULL GROUP BY s.campaign_id ORDER BY count(*) DESC, max(s.campaign_name)",
        params,
    )
    return pd.DataFrame(cur.fetchall(), columns=["campaign_id", "campaign_name", "count"])


def status_count(db: Database, account_id: str, profile_id: str, status: str) -> int:
    ensure_schema(db)
    return db.conn.execute(
        "SELECT count(*) FROM suggestions WHERE account_id = ? AND profile_id = ? AND status = ?",
        [account_id, str(profile_id), status],
    ).fetchone()[0]


def ids_with_status(db: Database, account_id: str, profile_id: str, status: str) -> list[str]:
    ensure_schema(db)
    rows = db.conn.execute(
        "SELECT suggestion_id FROM suggestions WHERE account_id = ? AND profile_id = ? AND status = ? "
        "ORDER BY suggestion_key, suggestion_id",
        [account_id, str(profile_id), status],
    ).fetchall()
    return [str(r[0]) for r in rows]


def list_version(db: Database, account_id: str, profile_id: str) -> str:
    """Changes whenever the profile's suggestions change: a generation (newest created_at), a decision (newest
    decided_at), an apply, undo or reconciliation (newest change-history row: an apply settles the suggestions'
    status in the same transaction that writes it). Part of the cached list's key, so a change made by another
    session or by the CLI is seen too. Three index seeks, whatever the number of suggestions."""
    ensure_schema(db)
    args = [account_id, str(profile_id)]
    created = db.conn.execute(
        "SELECT max(created_at) FROM suggestions WHERE account_id = ? AND profile_id = ?", args
    ).fetchone()[0]
    decided = db.conn.execute(
        "SELECT max(decided_at) FROM suggestions WHERE account_id = ? AND profile_id = ?", args
    ).fetchone()[0]
    applied = db.conn.execute(
        "SELECT max(applied_at) FROM change_history WHERE account_id = ? AND profile_id = ?", args
    ).fetchone()[0]
    return f"{created}|{decided}|{applied}"


@dataclass(frozen=True)
class Freshness:
    """When the suggestions were computed, and whether a finished sync brought newer data since."""

    generated_at: datetime | None
    synced_at: datetime | None

    @property
    def stale(self) -> bool:
        # created_at is kept to the second, finished_at to the millisecond: a generation in the same second counts
        if self.synced_at is None:
            return False
        return self.generated_at is None or self.synced_at - self.generated_at >= timedelta(seconds=1)


def _parse(ts: str | None) -> datetime | None:
    if not ts:
        return None
    try:
        out = datetime.fromisoformat(ts)
    except ValueError:
        return None
    return out if out.tzinfo else out.replace(tzinfo=UTC)  # the store writes UTC


def freshness(db: Database, account_id: str, profile_id: str) -> Freshness:
    """The newest generation for this profile against the account's newest sync that saved data (ok or partial)."""
    ensure_schema(db)
    generated = db.conn.execute(
        "SELECT max(created_at) FROM suggestions WHERE account_id = ? AND profile_id = ?", [account_id, str(profile_id)]
    ).fetchone()[0]
    synced = db.conn.execute(
        "SELECT max(finished_at) FROM sync_runs WHERE account_id = ? AND status IN ('ok', 'partial')", [account_id]
    ).fetchone()[0]
    return Freshness(_parse(generated), _parse(synced))
