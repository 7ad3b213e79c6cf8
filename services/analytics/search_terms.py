"""The Search terms workbench: one filtered, sorted page of search terms, with totals, straight from SQL.

Why SQL does the work: on the large world a 30-day range has ~200k (keyword, search term) rows. Sending them all
to the page cost most of its time (Streamlit hashing a 49 MB message), so the page asks for one page of rows and
the totals of everything the filters match, computed by SQLite in one statement. The CSV download runs the same
statement without the page limit.

Identity: a row is one search term under one keyword or target (`keyword_id`, `search_term`), the natural key
Amazon reports a term by; the page keeps selections by that key (`row_key`), never by position.

Wasted spend: a term is "wasted" only when it had enough clicks that an order was to be expected. The expected
orders of a term are its clicks times its ad group's conversion rate in the same range (the account's rate when
the ad group has no order at all), so the evidence threshold is
    clicks ≥ max(floor, ceil(expected_orders / ad group CVR))
with floor 10 and expected_orders 1 by default: a term in an ad group converting at 8 % needs 13 clicks without
an order, one in an ad group at 2 % needs 50. Terms below it are shown apart ("too few clicks to judge"), with
the single-click spend separately, because one click without an order says almost nothing.
"""

from __future__ import annotations

import math
import re
import sqlite3
from dataclasses import dataclass, field

import pandas as pd
from sqlite_utils import Database

from services.analytics.metrics import add_ratios
from services.analytics.sales import product_names
from services.analytics.tables import Query, _sums

VIEWS = ("all", "wasted", "converters")
SORTS = ("cost", "clicks", "orders", "sales", "impressions", "acos", "search_term")
MATCH_TYPES = ("EXACT", "PHRASE", "BROAD", "TARGETING_EXPRESSION", "TARGETING_EXPRESSION_PREDEFINED")
PAGE_SIZE = 500
WASTE_FLOOR = 10
WASTE_EXPECTED_ORDERS = 1.0
TERM_COLUMNS = [
    "search_term",
    "triggered_by",
    "match_type",
    "campaign_name",
    "ad_group_name",
    "impressions",
    "clicks",
    "cost",
    "orders",
    "units",
    "sales",
    "waste_threshold",
    "keyword_id",
    "keyword_type",
    "campaign_id",
    "ad_group_id",
]


@dataclass(frozen=True)
class TermFilter:
    """What the marketer narrowed the table to; hashable, so the page's cache can key on it."""

    view: str = "all"
    search: str = ""
    campaign_ids: tuple[str, ...] = ()
    match_types: tuple[str, ...] = ()
    min_clicks: int = 0
    orders: str = "any"  # any | with | without
    waste_floor: int = WASTE_FLOOR
    waste_expected_orders: float = WASTE_EXPECTED_ORDERS
    sort: str = "cost"
    descending: bool = True

    def __post_init__(self) -> None:
        if self.view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}")
        if self.sort not in SORTS:
            raise ValueError(f"sort must be one of {SORTS}")
        if self.orders not in ("any", "with", "without"):
            raise ValueError("orders is any, with or without")
        if self.min_clicks < 0 or self.waste_floor < 1 or not self.waste_expected_orders > 0:
            raise ValueError("Minimum clicks is 0 or more; the wasted-spend floor 1 or more.")


@dataclass
class TermPage:
    """One page of rows and what the whole filtered result adds up to."""

    rows: pd.DataFrame
    matched: int  # rows the filters match
    total: int  # rows in the range before any filter
    totals: dict = field(default_factory=dict)  # summed metrics of the matched rows
    page: int = 0
    pages: int = 1


@dataclass(frozen=True)
class WasteSummary:
    """The wasted-spend figures the page states: the thresholded one and what the naive count would say."""

    wasted_cost: float
    wasted_terms: int
    unjudged_cost: float  # no order, but fewer clicks than the threshold
    unjudged_terms: int
    single_click_cost: float
    single_click_terms: int
    naive_cost: float  # every term with a click and no order (what the page used to call wasted)
    naive_terms: int
    account_cvr: float | None
    floor: int
    expected_orders: float


# the labels every (keyword, term) row carries, from the keyword's latest row in the range
_LABELS = ("triggered_by", "match_type", "keyword_type", "campaign_id", "campaign_name", "ad_group_id", "ad_group_name")
# clicks before a term without an order counts as wasted (params: floor, expected orders), from its ad group's CVR
_THRESHOLD = """MAX(?, CAST(CEIL(? / COALESCE(CAST(NULLIF(grp.orders, 0) AS REAL) / grp.clicks,
                                              (SELECT cvr FROM acct), 0.1)) AS INTEGER))"""
_FULL = f"""
    grp AS MATERIALIZED (
        SELECT kw.ad_group_id, SUM(agg.orders) AS orders, SUM(agg.clicks) AS clicks
        FROM agg JOIN kw USING (keyword_id) GROUP BY kw.ad_group_id),
    acct AS (SELECT CAST(SUM(orders) AS REAL) / NULLIF(SUM(clicks), 0) AS cvr FROM grp),
    full AS MATERIALIZED (
        SELECT agg.search_term, kw.triggered_by, kw.match_type, kw.campaign_name, kw.ad_group_name,
               agg.impressions, agg.clicks, agg.cost, agg.orders, agg.units, agg.sales,
               {_THRESHOLD} AS waste_threshold,
               agg.keyword_id, kw.keyword_type, kw.campaign_id, kw.ad_group_id
        FROM agg JOIN kw USING (keyword_id) LEFT JOIN grp ON grp.ad_group_id = kw.ad_group_id)
    """


def _day_sums_sql(sums: str) -> str:
    """`agg` (sums per keyword and term) and `kw` (each keyword's labels) summed from the day table; params: profile,
    start, end. The labels are read from each keyword's latest row (a point lookup by rowid) instead of being
    carried through the GROUP BY, whose sort they made ~3x slower on the large world."""
    return f"""
    agg AS MATERIALIZED (
        SELECT keyword_id, search_term, MAX(rowid) AS row_id, MIN(date) AS first_date, {sums}
        FROM search_term_day WHERE profile_id = ? AND date BETWEEN ? AND ? GROUP BY keyword_id, search_term),
    kw AS MATERIALIZED (
        SELECT s.keyword_id, COALESCE(s.keyword, s.targeting) AS triggered_by, s.match_type, s.keyword_type,
               s.campaign_id, s.campaign_name, s.ad_group_id, s.ad_group_name
        FROM (SELECT keyword_id, MAX(row_id) AS row_id FROM agg GROUP BY keyword_id) k
        JOIN search_term_day s ON s.rowid = k.row_id)"""


def span_sums_sql() -> str:
    """SELECT of one span's rows (params: profile, start, end), in `SPAN_COLUMNS` order: the day table summed
    exactly as the page sums it, both attribution windows at once, with each row's ad group sums. The sync's
    summary builder runs it."""
    sums = ", ".join(
        [_sums(7), "SUM(COALESCE(purchases_14d, 0)) AS orders_14", "ROUND(SUM(COALESCE(sales_14d, 0)), 2) AS sales_14"]
        + ["SUM(COALESCE(units_14d, 0)) AS units_14"]
    )
    labels = ", ".join(f"kw.{c}" for c in _LABELS)
    return f"""WITH {_day_sums_sql(sums)},
    grp AS MATERIALIZED (
        SELECT kw.ad_group_id, SUM(agg.orders) AS orders, SUM(agg.orders_14) AS orders_14, SUM(agg.clicks) AS clicks
        FROM agg JOIN kw USING (keyword_id) GROUP BY kw.ad_group_id)
    SELECT agg.keyword_id, agg.search_term, {labels}, agg.impressions, agg.clicks, agg.cost,
           agg.orders, agg.sales, agg.units, agg.orders_14, agg.sales_14, agg.units_14,
           grp.orders, grp.orders_14, grp.clicks, agg.first_date
    FROM agg JOIN kw USING (keyword_id) LEFT JOIN grp ON grp.ad_group_id = kw.ad_group_id"""


SPAN_COLUMNS = ("keyword_id", "search_term", *_LABELS, "impressions", "clicks", "cost")
SPAN_COLUMNS += ("orders_7d", "sales_7d", "units_7d", "orders_14d", "sales_14d", "units_14d")
SPAN_COLUMNS += ("ad_group_orders_7d", "ad_group_orders_14d", "ad_group_clicks", "first_date")
# the account's CVR over a span's rows, as `acct` computes it over the ad groups (kept on the span's entry)
SPAN_ACCOUNT_CVR = {w: f"CAST(SUM(orders_{w}d) AS REAL) / NULLIF(SUM(clicks), 0)" for w in (7, 14)}


def has_span(db: Database, q: Query) -> bool:
    """Whether the sync's sums for exactly this range are current (see store migration m007)."""
    try:
        row = db.conn.execute(
            "SELECT 1 FROM search_term_spans WHERE profile_id = ? AND start = ? AND end = ?", q.params
        ).fetchone()
    except sqlite3.OperationalError:  # a store this code has not migrated (read-only copy): sum the days
        return False
    return row is not None


def _span_sql(w: int) -> str:
    """`acct` and `full` read from one span of `search_term_span` (params: profile, start, end, floor, expected
    orders, profile, start, end): the same columns and values as the day-table path, without any GROUP BY. `full`
    is not materialized: a statement that counts or sums it reads the span once, and one that wants a page of it
    keeps only that page while sorting."""
    return f"""WITH
    acct AS (SELECT account_cvr_{w}d AS cvr FROM search_term_spans WHERE profile_id = ? AND start = ? AND end = ?),
    full AS NOT MATERIALIZED (
        SELECT search_term, triggered_by, match_type, campaign_name, ad_group_name,
               impressions, clicks, cost, orders_{w}d AS orders, units_{w}d AS units, sales_{w}d AS sales,
               MAX(?, CAST(CEIL(? / COALESCE(CAST(NULLIF(ad_group_orders_{w}d, 0) AS REAL) / ad_group_clicks,
                                              (SELECT cvr FROM acct), 0.1)) AS INTEGER)) AS waste_threshold,
               keyword_id, keyword_type, campaign_id, ad_group_id
        FROM search_term_span WHERE profile_id = ? AND start = ? AND end = ?)
    """


def _base_sql(db: Database, q: Query, f: TermFilter) -> tuple[str, list]:
    """The CTEs every statement here shares, ending in `full`: one row per (keyword, term) with its sums, labels
    and wasted-spend threshold (from its ad group's CVR).

    The sums come from the sync's `search_term_span` when it holds this very range (the sidebar's default "Last 30
    days"), else from the day table; both give the same rows (tests/services/analytics/test_search_terms.py)."""
    waste = [int(f.waste_floor), float(f.waste_expected_orders)]
    if has_span(db, q):
        return _span_sql(q.window), [*q.params, *waste, *q.params]
    return f"WITH {_day_sums_sql(_sums(q.window))},{_FULL}", [*q.params, *waste]


def _where(q: Query, f: TermFilter) -> tuple[str, list]:
    cond, params = ["1"], []
    if f.search.strip():
        cond.append("instr(lower(search_term || ' ' || COALESCE(triggered_by, '')), ?) > 0")
        params.append(f.search.strip().lower())
    if f.campaign_ids:
        cond.append(f"campaign_id IN ({', '.join('?' for _ in f.campaign_ids)})")
        params += list(f.campaign_ids)
    if f.match_types:
        cond.append(f"upper(COALESCE(match_type, '')) IN ({', '.join('?' for _ in f.match_types)})")
        params += [m.upper() for m in f.match_types]
    if f.min_clicks:
        cond.append("clicks >= ?")
        params.append(int(f.min_clicks))
    if f.orders == "with":
        cond.append("orders > 0")
    elif f.orders == "without":
        cond.append("orders = 0")
    if f.view == "wasted":
        cond.append("orders = 0 AND clicks >= waste_threshold")
    elif f.view == "converters":
        cond.append(
            "orders > 0 AND upper(COALESCE(match_type, '')) != 'EXACT' AND lower(trim(search_term)) NOT IN "
            "(SELECT lower(trim(keyword_text)) FROM keywords WHERE profile_id = ? AND upper(match_type) = 'EXACT' "
            "AND upper(state) = 'ENABLED' AND keyword_text IS NOT NULL)"
        )
        params.append(q.profile_id)
    return " AND ".join(cond), params


def _order(f: TermFilter) -> str:
    direction = "DESC" if f.descending else "ASC"
    if f.sort == "acos":
        key = "CASE WHEN sales > 0 THEN cost / sales END"
        return f"{key} IS NULL, {key} {direction}, search_term, keyword_id"
    if f.sort == "search_term":
        return f"lower(search_term) {direction}, keyword_id"
    return f"{f.sort} {direction}, search_term, keyword_id"  # whitelisted by TermFilter


_ASIN = re.compile(r"(?i)\b(b0[0-9a-z]{8})\b")


def with_product_names(df: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """A product name beside every ASIN: an ASIN typed as the search term, and an ASIN a product target aims at
    (names come from the Catalog Items cache; an ASIN the store has no name for stays without one)."""

    def name_in(text: object) -> str | None:
        m = _ASIN.search(str(text or ""))
        return names.get(m.group(1).upper()) if m else None

    out = df.copy()
    out.insert(out.columns.get_loc("search_term") + 1, "term_product", out["search_term"].map(name_in))
    out.insert(out.columns.get_loc("triggered_by") + 1, "target_product", out["triggered_by"].map(name_in))
    return out


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("impressions", "clicks", "orders", "units", "waste_threshold"):
        df[col] = pd.to_numeric(df[col], errors="coerce").fillna(0).astype("int64")
    for col in ("cost", "sales"):
        df[col] = pd.to_numeric(df[col], errors="coerce").fillna(0.0).round(2)
    df = add_ratios(df, ["ctr", "cpc", "cvr", "acos", "roas"])
    df["row_key"] = row_keys(df)
    return df


def row_keys(df: pd.DataFrame) -> list[str]:
    """The natural key of each row as one string: the keyword or target id and the search term."""
    return [f"{k}\x1f{t}" for k, t in zip(df["keyword_id"].astype(str), df["search_term"].astype(str))]


def split_key(key: str) -> tuple[str, str]:
    keyword_id, _, term = key.partition("\x1f")
    return keyword_id, term


_TOTALS = ("impressions", "clicks", "cost", "orders", "units", "sales")


def term_page(db: Database, q: Query, f: TermFilter, page: int = 0, page_size: int = PAGE_SIZE) -> TermPage:
    """One page of the filtered, sorted search terms, the matched and total row counts and the matched totals,
    in one SQL statement: the page (a top-N sort keeps only its rows) beside the totals of every match (one
    aggregate), so `full` is summed once when it comes from the days and read without a sort from a span."""
    base, params = _base_sql(db, q, f)
    where, wparams = _where(q, f)
    sums = ", ".join(f"SUM({c}) AS _t_{c}" for c in _TOTALS)
    page = max(int(page), 0)
    order = _order(f)
    sql = (
        f"{base}, pg AS (SELECT * FROM full WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?), "
        f"tot AS (SELECT COUNT(*) AS _matched, {sums} FROM full WHERE {where}) "
        f"SELECT pg.*, tot.*, (SELECT COUNT(*) FROM full) AS _total FROM tot LEFT JOIN pg ORDER BY {order}"
    )
    cur = db.conn.execute(sql, [*params, *wparams, int(page_size), page * int(page_size), *wparams])
    cols = [c[0] for c in cur.description]
    raw = pd.DataFrame(cur.fetchall(), columns=cols)
    first = raw.iloc[0]  # tot always has its one row; without a page row, pg's columns are NULL
    matched, total = int(first["_matched"]), int(first["_total"])
    raw = raw[raw["keyword_id"].notna()]
    if raw.empty and page > 0 and matched:  # the filters shrank the result under this page: show the last one
        return term_page(db, q, f, max(math.ceil(matched / page_size) - 1, 0), page_size)
    if raw.empty:
        empty = with_product_names(_finish(raw[TERM_COLUMNS].copy()), {})
        return TermPage(empty, 0, total, {c: 0 for c in _TOTALS}, 0, 1)
    totals = {c: (round(float(first[f"_t_{c}"]), 2) if c in ("cost", "sales") else int(first[f"_t_{c}"]))
              for c in _TOTALS}  # fmt: skip
    return TermPage(
        with_product_names(_finish(raw[TERM_COLUMNS].copy()), product_names(db, q.profile_id)),
        matched,
        total,
        totals,
        page,
        max(math.ceil(matched / page_size), 1),
    )


def all_terms(db: Database, q: Query, f: TermFilter) -> pd.DataFrame:
    """Every row the filters match, in the page's order: what the CSV download writes."""
    base, params = _base_sql(db, q, f)
    where, wparams = _where(q, f)
    cur = db.conn.execute(f"{base} SELECT * FROM full WHERE {where} ORDER BY {_order(f)}", [*params, *wparams])
    df = pd.DataFrame(cur.fetchall(), columns=[c[0] for c in cur.description])
    return with_product_names(_finish(df[TERM_COLUMNS].copy()), product_names(db, q.profile_id))


def rows_by_key(db: Database, q: Query, keys: list[str]) -> pd.DataFrame:
    """The rows (metrics over the range, labels) of exactly these natural keys, whatever the filters show now."""
    if not keys:
        return _finish(pd.DataFrame(columns=TERM_COLUMNS))
    base, params = _base_sql(db, q, TermFilter())
    pairs = [split_key(k) for k in keys]
    values = ", ".join("(?, ?)" for _ in pairs)
    flat = [x for p in pairs for x in p]
    cur = db.conn.execute(
        f"{base}, picked(keyword_id, search_term) AS (VALUES {values}) "
        "SELECT full.* FROM full JOIN picked USING (keyword_id, search_term)",
        [*params, *flat],
    )
    df = pd.DataFrame(cur.fetchall(), columns=[c[0] for c in cur.description])
    return _finish(df[TERM_COLUMNS].copy())


def waste_summary(db: Database, q: Query, f: TermFilter) -> WasteSummary:
    """Wasted spend at the evidence threshold beside the single-click spend and the naive count (whole range,
    before the table's filters: the caption speaks for the account)."""
    base, params = _base_sql(db, q, f)
    row = db.conn.execute(
        f"""{base} SELECT
            SUM(CASE WHEN orders = 0 AND clicks >= waste_threshold THEN cost ELSE 0 END),
            SUM(CASE WHEN orders = 0 AND clicks >= waste_threshold THEN 1 ELSE 0 END),
            SUM(CASE WHEN orders = 0 AND clicks > 0 AND clicks < waste_threshold THEN cost ELSE 0 END),
            SUM(CASE WHEN orders = 0 AND clicks > 0 AND clicks < waste_threshold THEN 1 ELSE 0 END),
            SUM(CASE WHEN orders = 0 AND clicks = 1 THEN cost ELSE 0 END),
            SUM(CASE WHEN orders = 0 AND clicks = 1 THEN 1 ELSE 0 END),
            SUM(CASE WHEN orders = 0 AND (clicks > 0 OR cost > 0) THEN cost ELSE 0 END),
            SUM(CASE WHEN orders = 0 AND (clicks > 0 OR cost > 0) THEN 1 ELSE 0 END),
            (SELECT cvr FROM acct)
        FROM full""",
        params,
    ).fetchone()
    v = [x or 0 for x in row[:8]]
    return WasteSummary(
        round(float(v[0]), 2),
        int(v[1]),
        round(float(v[2]), 2),
        int(v[3]),
        round(float(v[4]), 2),
        int(v[5]),
        round(float(v[6]), 2),
        int(v[7]),
        float(row[8]) if row[8] is not None else None,
        int(f.waste_floor),
        float(f.waste_expected_orders),
    )


def term_sums(db: Database, q: Query, f: TermFilter) -> pd.DataFrame:
    """One row per distinct search term (summed over its keywords) among the filtered rows: the n-grams' input."""
    base, params = _base_sql(db, q, f)
    where, wparams = _where(q, f)
    cur = db.conn.execute(
        f"{base} SELECT search_term, SUM(impressions) AS impressions, SUM(clicks) AS clicks, SUM(cost) AS cost, "
        f"SUM(sales) AS sales, SUM(orders) AS orders, SUM(units) AS units FROM full WHERE {where} "
        "GROUP BY search_term",
        [*params, *wparams],
    )
    return pd.DataFrame(cur.fetchall(), columns=[c[0] for c in cur.description])


def campaign_choices(db: Database, q: Query) -> dict[str, str]:
    """Campaign id -> name, for the campaign filter (every campaign of the profile, by name)."""
    rows = db.conn.execute(
        "SELECT campaign_id, name FROM campaigns WHERE profile_id = ? ORDER BY lower(name), campaign_id",
        [q.profile_id],
    ).fetchall()
    return {str(cid): str(name) for cid, name in rows}


def profile_language(db: Database, profile_id: str) -> str:
    """The language the profile's shoppers type in, from its marketplace's country."""
    from services.analytics.ngrams import language_of

    row = db.conn.execute("SELECT country_code FROM profiles WHERE profile_id = ?", [profile_id]).fetchone()
    return language_of(row[0] if row else None)


def ngram_page(db: Database, q: Query, f: TermFilter, n: int, limit: int = PAGE_SIZE) -> tuple[pd.DataFrame, int]:
    """The n-grams of the filtered terms without the marketplace language's stop words, by spend: the top `limit`
    rows (all rows with limit=None) and how many fragments there are in all."""
    from services.analytics.ngrams import ngram_table

    grams = ngram_table(term_sums(db, q, f), n, language=profile_language(db, q.profile_id))
    return (grams if limit is None else grams.head(limit)), len(grams)
