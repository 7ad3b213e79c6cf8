"""Summaries the sync keeps beside the report tables, so the pages read a few hundred thousand rows, not millions.

`search_term_span` (store migration m007): the search-term sums of the sidebar's default range ("Last 30 days",
ending on the profile's last day with data), rebuilt at the end of every sync of the profile. Why a span and not
day-to-week rollups: search terms are a long tail, a (keyword, term) pair shows up on few days of a week, so
weekly rows would still be most of the daily ones; the page's cold start was the GROUP BY of every day row of its
range, and a span answers the range every visit opens with, with no GROUP BY at all. Other ranges sum the days.

Cost, measured on the large world (US, ~690k search-term rows in 30 days, load ~28 on 2 cores): the 30-day span
takes ~7 s of CPU per sync; "Last 7" and "Last 14 days" would add ~5 s more, so they are not built by default
(their day sums are a quarter and half of the 30-day one, within the page's cold budget).

The optimizer's windows are spans too, so that "Refresh suggestions" reads ~230k rows instead of ~4 M:
- its search-term window (60 days back from the last day, its 3 settling days left out): summing its ~1.4 M rows
  was 6 of the optimizer's seconds on the large profile at every run; the sync pays ~9 s of CPU once;
- `target_span` (m010): each keyword's and target's days and sums over the bid rule's 30 days and the search-term
  rules' 60 (the ad groups' conversion rates): ~10 s of CPU per sync of the large profile, ~7 s less per optimizer
  run. One pass over the 60 days with conditional sums for both windows was no faster (SQLite's per-row
  aggregate steps, not the GROUP BY's sort, are the cost), so each window is its own GROUP BY.

Freshness: a write over a day table's days deletes the entries of the spans summed from it that the days overlap,
inside the transaction that writes them (`store.forget_spans`, called by the ingest and by `store.replace_window`),
and this module writes an entry only with its rows, in one transaction. The sums are computed before that
transaction, into a TEMP table of this connection (a read: no lock on the store), so the write lock is held only
for the copy.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlite_utils import Database

from services.analytics.periods import (
    RULES_LOOKBACK_DAYS,
    TERM_RULES_LOOKBACK_DAYS,
    resolve_range,
    settled_window,
)
from services.analytics.search_terms import SPAN_ACCOUNT_CVR, SPAN_COLUMNS, span_sums_sql
from services.analytics.tables import data_span
from services.store import write

logger = logging.getLogger(__name__)

SPAN_CHOICES = ("Last 30 days",)  # the sidebar's default range


def _target_span_sql() -> str:
    """Each keyword's (or target's) days counted and metrics summed over one window (params: profile, start,
    end), both attribution windows; `one_parent` says its rows all name one campaign and ad group."""
    return """SELECT keyword_id, min(campaign_id), min(ad_group_id),
        count(campaign_id) = count(*) AND count(ad_group_id) = count(*)
            AND min(campaign_id) = max(campaign_id) AND min(ad_group_id) = max(ad_group_id),
        count(*), sum(impressions), sum(clicks), sum(cost),
        sum(coalesce(purchases_7d, 0)), sum(coalesce(sales_7d, 0)), sum(coalesce(purchases_14d, 0)),
        sum(coalesce(sales_14d, 0))
        FROM target_day WHERE profile_id = ? AND date BETWEEN ? AND ? GROUP BY keyword_id"""


TARGET_SPAN_COLUMNS = (
    "keyword_id", "campaign_id", "ad_group_id", "one_parent", "days", "impressions", "clicks", "cost",
    "orders_7d", "sales_7d", "orders_14d", "sales_14d",
)  # fmt: skip


def _drop_other_dates(db: Database, table: str, listing: str, profile_id: str, periods: list) -> None:
    """The profile's spans of dates no longer built (the data moved on a day), rows and entries: gone with this
    sync, in one transaction."""
    keep = " AND ".join("NOT (start = ? AND end = ?)" for _ in periods) or "1"
    params = [profile_id, *[d.isoformat() for p in periods for d in (p.start, p.end)]]
    with write(db):
        db.conn.execute(f"DELETE FROM {table} WHERE profile_id = ? AND {keep}", params)
        db.conn.execute(f"DELETE FROM {listing} WHERE profile_id = ? AND {keep}", params)


def _copy_span(db: Database, table: str, build: str, cols: str, bounds: list) -> None:
    """Inside the caller's write: one span's rows (profile, start, end = `bounds`) replaced by the TEMP table's."""
    db.conn.execute(f"DELETE FROM {table} WHERE profile_id = ? AND start = ? AND end = ?", bounds)
    db.conn.execute(
        f"INSERT INTO {table} (profile_id, start, end, {cols}) SELECT ?, ?, ?, {cols} FROM temp.{build}", bounds
    )


def rebuild_target_spans(db: Database, profile_id: str) -> dict[str, int]:
    """Sum the profile's keywords and targets over the optimizer's default windows (the bid rule's 30 days and the
    search-term rules' 60, ending on the last day with data, settling days left out) into `target_span`, dropping
    its spans of other dates. Summed into a TEMP table first (a read), copied in one short write."""
    _, last = data_span(db, profile_id)
    if last is None:
        return {}
    periods = list(dict.fromkeys(settled_window(last, n) for n in (RULES_LOOKBACK_DAYS, TERM_RULES_LOOKBACK_DAYS)))
    conn = db.conn
    cols = ", ".join(TARGET_SPAN_COLUMNS)
    built: dict[str, int] = {}
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS target_build AS SELECT {cols} FROM main.target_span WHERE 0")
    try:
        _drop_other_dates(db, "target_span", "target_spans", profile_id, periods)
        for period in periods:
            bounds = [profile_id, period.start.isoformat(), period.end.isoformat()]
            conn.execute("DELETE FROM temp.target_build")
            conn.execute(f"INSERT INTO temp.target_build ({cols}) {_target_span_sql()}", bounds)
            (n,) = conn.execute("SELECT COUNT(*) FROM temp.target_build").fetchone()
            with write(db):
                _copy_span(db, "target_span", "target_build", cols, bounds)
                conn.execute(
                    "INSERT OR REPLACE INTO target_spans (profile_id, start, end, rows, built_at) VALUES (?, ?, ?, ?, ?)",
                    [*bounds, n, datetime.now(UTC).isoformat(timespec="seconds")],
                )
            built[f"{period.start}..{period.end}"] = n
    finally:
        conn.execute("DROP TABLE IF EXISTS temp.target_build")
    return built


def rebuild_term_spans(
    db: Database, profile_id: str, choices: tuple[str, ...] = SPAN_CHOICES, *, rules_window: bool = True
) -> dict[str, int]:
    """Sum the profile's search terms over each of `choices` (ending on its last day with data) and, with
    `rules_window`, over the optimizer's default search-term window, into `search_term_span`, dropping its spans of
    other dates. Returns rows per span ("start..end")."""
    _, last = data_span(db, profile_id)
    if last is None:
        return {}
    periods = [resolve_range(choice, last) for choice in choices]
    if rules_window:
        periods.append(settled_window(last, TERM_RULES_LOOKBACK_DAYS))
    periods = list(dict.fromkeys(periods))
    conn = db.conn
    cols = ", ".join(SPAN_COLUMNS)
    built: dict[str, int] = {}
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS span_build AS SELECT {cols} FROM main.search_term_span WHERE 0")
    try:
        _drop_other_dates(db, "search_term_span", "search_term_spans", profile_id, periods)
        for period in periods:
            bounds = [profile_id, period.start.isoformat(), period.end.isoformat()]
            conn.execute("DELETE FROM temp.span_build")
            conn.execute(f"INSERT INTO temp.span_build ({cols}) {span_sums_sql()}", bounds)
            n, cvr7, cvr14 = conn.execute(
                f"SELECT COUNT(*), {SPAN_ACCOUNT_CVR[7]}, {SPAN_ACCOUNT_CVR[14]} FROM temp.span_build"
            ).fetchone()
            with write(db):
                _copy_span(db, "search_term_span", "span_build", cols, bounds)
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
