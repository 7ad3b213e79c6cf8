"""Summaries the sync keeps beside the report tables, so the pages read a few hundred thousand rows, not millions.

`search_term_span` (store migration m007): the search-term sums of the sidebar's default range ("Last 30 days",
ending on the profile's last day with data), rebuilt at the end of every sync of the profile. Why a span and not
day-to-week rollups: search terms are a long tail, a (keyword, term) pair shows up on few days of a week, so
weekly rows would still be most of the daily ones; the page's cold start was the GROUP BY of every day row of its
range, and a span answers the range every visit opens with, with no GROUP BY at all. Other ranges sum the days.

Cost, measured on the large world (US, ~690k search-term rows in 30 days, load ~28 on 2 cores): the 30-day span
takes ~7 s of CPU per sync; "Last 7" and "Last 14 days" would add ~5 s more, so they are not built by default
(their day sums are a quarter and half of the 30-day one, within the page's cold budget).

Freshness: the ingest deletes the `search_term_spans` entries a search-term report's window overlaps, inside the
transaction that writes the report (`forget_spans`), and this module writes an entry only with its rows, in one
transaction. The sums are computed before that transaction, into a TEMP table of this connection (a read: no
lock on the store), so the write lock is held only for the copy.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlite_utils import Database

from services.analytics.periods import resolve_range
from services.analytics.search_terms import SPAN_ACCOUNT_CVR, SPAN_COLUMNS, span_sums_sql
from services.analytics.tables import data_span
from services.store import write

logger = logging.getLogger(__name__)

SPAN_CHOICES = ("Last 30 days",)  # the sidebar's default range


def forget_spans(db: Database, profile_id: str, start: str, end: str) -> None:
    """Inside the write transaction that rewrites search-term days start..end: the spans over them are stale."""
    db.conn.execute(
        "DELETE FROM search_term_spans WHERE profile_id = ? AND start <= ? AND end >= ?", [profile_id, end, start]
    )


def rebuild_term_spans(db: Database, profile_id: str, choices: tuple[str, ...] = SPAN_CHOICES) -> dict[str, int]:
    """Sum the profile's search terms over each of `choices` (ending on its last day with data) into
    `search_term_span`, dropping its spans of other dates. Returns rows per span ("start..end")."""
    _, last = data_span(db, profile_id)
    if last is None:
        return {}
    periods = list(dict.fromkeys(resolve_range(choice, last) for choice in choices))
    conn = db.conn
    cols = ", ".join(SPAN_COLUMNS)
    built: dict[str, int] = {}
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS span_build AS SELECT {cols} FROM main.search_term_span WHERE 0")
    try:
        with write(db):  # spans of dates no longer offered (the data moved on a day): gone with this sync
            keep = " AND ".join("NOT (start = ? AND end = ?)" for _ in periods) or "1"
            params = [profile_id, *[d.isoformat() for p in periods for d in (p.start, p.end)]]
            conn.execute(f"DELETE FROM search_term_span WHERE profile_id = ? AND {keep}", params)
            conn.execute(f"DELETE FROM search_term_spans WHERE profile_id = ? AND {keep}", params)
        for period in periods:
            bounds = [profile_id, period.start.isoformat(), period.end.isoformat()]
            conn.execute("DELETE FROM temp.span_build")
            conn.execute(f"INSERT INTO temp.span_build ({cols}) {span_sums_sql()}", bounds)
            n, cvr7, cvr14 = conn.execute(
                f"SELECT COUNT(*), {SPAN_ACCOUNT_CVR[7]}, {SPAN_ACCOUNT_CVR[14]} FROM temp.span_build"
            ).fetchone()
            with write(db):
                conn.execute("DELETE FROM search_term_span WHERE profile_id = ? AND start = ? AND end = ?", bounds)
                conn.execute(
                    f"INSERT INTO search_term_span (profile_id, start, end, {cols}) "
                    f"SELECT ?, ?, ?, {cols} FROM temp.span_build",
                    bounds,
                )
                conn.execute(
                    "INSERT OR REPLACE INTO search_term_spans "
                    "(profile_id, start, end, rows, account_cvr_7d, account_cvr_14d, built_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [*bounds, n, cvr7, cvr14, datetime.now(UTC).isoformat(timespec="seconds")],
                )
            built[f"{period.start}..{period.end}"] = n
    finally:
        conn.execute("DROP TABLE IF EXISTS temp.span_build")
    return built
