"""Loading the optimizer's input frames from the store (read-only; no Streamlit, no HTTP).

The store keeps Amazon's names (keyword_id, purchases_7d, sales_7d …); the optimizer works on
generic ones (entity_id, orders, sales). This module is the one place that maps between them,
for the attribution window the account uses (7 days for sellers, 14 for vendors).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pandas as pd
from sqlite_utils import Database

from services.optimizer.model import OptimizerInput, window
from services.optimizer.settings import Settings
from services.store.schema import CONVERTED_ROW

ATTRIBUTION = ("7d", "14d")


def _frame(db: Database, sql: str, params: list) -> pd.DataFrame:
    cur = db.conn.execute(sql, params)
    cols = [c[0] for c in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=cols)


def latest_date(db: Database, profile_id: str) -> date | None:
    row = db.conn.execute("SELECT max(date) FROM target_day WHERE profile_id = ?", [str(profile_id)]).fetchone()
    return date.fromisoformat(row[0]) if row and row[0] else None


def _metrics_sql(attribution: str) -> str:
    if attribution not in ATTRIBUTION:
        raise ValueError(f"attribution must be one of {ATTRIBUTION}")
    return (
        f"impressions, clicks, cost, coalesce(purchases_{attribution}, 0) AS orders, "
        f"coalesce(sales_{attribution}, 0) AS sales"
    )


def search_term_history_sql(attribution: str) -> str:
    """Orders per (ad group, search term) over the whole history up to a day, only where a row had an order: the
    rules ask "did this term ever convert here / anywhere", and rows without an order add nothing to either. The
    second condition is implied by the first; it is there so that SQLite reads the rows from the small partial index
    that holds just them (store migration m008, in (ad group, term) order) instead of every row of the history."""
    _metrics_sql(attribution)  # validates the window name
    orders = f"coalesce(purchases_{attribution}, 0)"
    return f"""SELECT ad_group_id, search_term, sum({orders}) AS orders, max({orders} > 0) AS converted
        FROM search_term_day WHERE profile_id = ? AND date <= ? AND {orders} <> 0 AND {CONVERTED_ROW}
        GROUP BY ad_group_id, search_term"""


def _search_term_history(db: Database, profile_id: str, end: str, attribution: str) -> pd.DataFrame:
    return _frame(db, search_term_history_sql(attribution), [profile_id, end])


def _search_term_totals(db: Database, pid: str, metrics: str, attribution: str, start: str, end: str) -> pd.DataFrame:
    """Per (keyword, term, match type) sums over [start, end]: read from the sync's span of exactly this window
    when it is current (`sync.summaries` builds the rules' default window; a plain read of ~190k rows), else summed
    from the days here (a sort of 1.4 M rows on the large profile: seconds). Both give the same rows."""
    span = db.conn.execute(
        "SELECT 1 FROM search_term_spans WHERE profile_id = ? AND start = ? AND end = ?", [pid, start, end]
    ).fetchone()
    if span is not None:
        return _frame(
            db,
            f"""SELECT campaign_id, ad_group_id, keyword_id AS entity_id, search_term, match_type, first_date,
            impressions, clicks, cost, orders_{attribution} AS orders, sales_{attribution} AS sales
            FROM search_term_span WHERE profile_id = ? AND start = ? AND end = ?""",
            [pid, start, end],
        )
    return _frame(
        db,
        f"""SELECT campaign_id, ad_group_id, keyword_id AS entity_id, search_term, match_type,
        min(date) AS first_date, sum(impressions) AS impressions, sum(clicks) AS clicks,
        round(sum(cost), 2) AS cost, sum(orders) AS orders, round(sum(sales), 2) AS sales
        FROM (SELECT date, campaign_id, ad_group_id, keyword_id, search_term, match_type, {metrics}
              FROM search_term_day WHERE profile_id = ? AND date BETWEEN ? AND ?)
        GROUP BY campaign_id, ad_group_id, keyword_id, search_term, match_type""",
        [pid, start, end],
    )


def _target_spans(
    db: Database, pid: str, attribution: str, bid_window: tuple[str, str], term_window: tuple[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(bid window sums, search-term window sums) per keyword from the sync's `target_span` (store m010), when both
    are current and every keyword's rows name one campaign and ad group; else None (the days are read instead)."""
    frames = []
    for start, end in (bid_window, term_window):
        listed = db.conn.execute(
            "SELECT 1 FROM target_spans WHERE profile_id = ? AND start = ? AND end = ?", [pid, start, end]
        ).fetchone()
        if listed is None:
            return None
        f = _frame(
            db,
            f"""SELECT keyword_id AS entity_id, campaign_id, ad_group_id, one_parent, days, impressions, clicks,
            cost, orders_{attribution} AS orders, sales_{attribution} AS sales
            FROM target_span WHERE profile_id = ? AND start = ? AND end = ?""",
            [pid, start, end],
        )
        if not f.empty and not (f["one_parent"] == 1).all():
            return None
        frames.append(f.drop(columns=["one_parent"]))
    return frames[0], frames[1]


def _silent_groups(
    db: Database, pid: str, target_day: pd.DataFrame, counts: pd.DataFrame, lo: str, hi: str
) -> pd.DataFrame:
    """(campaign_id, ad_group_id) of the keywords with days in [lo, hi] of which `target_day` holds none (all were
    zero, so the loader left them out): their ad groups are in the totals, with zeros, as when every day was read."""
    if counts.empty:
        return pd.DataFrame(columns=["campaign_id", "ad_group_id"])
    d = target_day["date"] if not target_day.empty else pd.Series(dtype=object)
    present = set(target_day.loc[(d >= lo) & (d <= hi), "entity_id"].astype(str)) if not target_day.empty else set()
    silent = [str(e) for e, n in zip(counts["entity_id"], counts["seen"]) if n and str(e) not in present]
    if not silent:
        return pd.DataFrame(columns=["campaign_id", "ad_group_id"])
    return _frame(
        db,
        """SELECT DISTINCT campaign_id, ad_group_id FROM target_day
        WHERE profile_id = ? AND keyword_id IN (SELECT value FROM json_each(?)) AND date BETWEEN ? AND ?""",
        [pid, json.dumps(silent), lo, hi],
    )


def _ad_group_totals(
    db: Database,
    pid: str,
    metrics: str,
    target_day: pd.DataFrame,
    loaded_from: str,
    start: str,
    end: str,
    silent: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Orders, clicks and sales per (campaign, ad group) of the keyword report over [start, end]: the days
    `target_day` already holds summed here, only the older ones read (summed) from SQL; `silent` ad groups (whose
    days there were all zero, left out of `target_day`) get zeros if no other day names them."""
    cols = ["campaign_id", "ad_group_id", "orders", "clicks", "sales"]
    parts = []
    if start < loaded_from:
        older = (datetime.strptime(loaded_from, "%Y-%m-%d").date() - timedelta(days=1)).isoformat()
        parts.append(
            _frame(
                db,
                f"""SELECT campaign_id, ad_group_id, sum(orders) AS orders, sum(clicks) AS clicks, sum(sales) AS sales
                FROM (SELECT campaign_id, ad_group_id, {metrics} FROM target_day
                      WHERE profile_id = ? AND date BETWEEN ? AND ?)
                GROUP BY campaign_id, ad_group_id""",
                [pid, start, min(older, end)],
            )
        )
    if not target_day.empty:
        d = target_day["date"]
        parts.append(target_day.loc[(d >= max(start, loaded_from)) & (d <= end), cols])
    parts = [p for p in parts if not p.empty]
    if silent is not None and not silent.empty:
        named = set()
        for p in parts:
            named |= set(zip(p["campaign_id"], p["ad_group_id"]))
        new = [(c, g) for c, g in zip(silent["campaign_id"], silent["ad_group_id"]) if (c, g) not in named]
        if new:
            parts.append(
                pd.DataFrame(
                    {
                        "campaign_id": [c for c, _ in new],
                        "ad_group_id": [g for _, g in new],
                        "orders": 0,
                        "clicks": 0,
                        "sales": 0.0,
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=cols)
    both = pd.concat(parts, ignore_index=True)
    return both.groupby(["campaign_id", "ad_group_id"], dropna=False)[["orders", "clicks", "sales"]].sum().reset_index()


def _nonzero_day(attribution: str) -> str:
    """A keyword day that adds to some sum the rules take (impressions alone add to none they use)."""
    return (
        f"(clicks <> 0 OR cost <> 0 OR coalesce(purchases_{attribution}, 0) <> 0 "
        f"OR coalesce(sales_{attribution}, 0) <> 0)"
    )


def _bid_changed(changes: pd.DataFrame) -> list[str]:
    """The keywords and targets whose bid the change journal knows a change of: their days may have run at
    different bids, so the response curve needs each of them, zero days included."""
    if changes is None or changes.empty:
        return []
    ch = changes
    if "change_type" in ch.columns:
        ch = ch[(ch["change_type"] == "bid") | ch["change_type"].isna()]
    return sorted(set(ch["entity_id"].dropna().astype(str)))  # a create that failed has no entity id


def load_input(
    db: Database,
    profile_id: str,
    *,
    as_of: date | None = None,
    settings: Settings | None = None,
    attribution: str = "7d",
    account_id: str | None = None,
    every_day: bool = False,
) -> OptimizerInput:
    """Every frame the rules need for one profile, for the longest lookback of the settings.

    `as_of` is the last day with data (default: the newest date in the store): the rules leave the
    newest settling days out themselves. `every_day`: read every keyword's days even where the sync's sums would
    do (for a caller that reads `target_day` itself, such as the evaluation's naive rules).
    """
    pid = str(profile_id)
    s = settings or Settings()
    as_of = as_of or latest_date(db, pid) or date.today()
    days = max(s.lookback_days, s.search_term_lookback_days) + 1
    start = (as_of - timedelta(days=days)).isoformat()
    end = as_of.isoformat()
    m = _metrics_sql(attribution)
    g_start, g_end = window(as_of, s.search_term_lookback_days, s.settling_days)  # the search-term rules' window
    changes = pd.DataFrame(columns=["entity_id", "change_type", "applied_at"])
    if account_id is not None:
        from services import optimizer as sugg

        changes = sugg.recent_changes_for_cooldown(db, account_id, pid)
    # the daily keyword rows only over the bid rule's lookback (the largest table: reading the search-term window's
    # rows too cost seconds); the search-term rules need only each ad group's sums over theirs, added up in SQL.
    # Only the days with a click, a cost, an order or a sale: two in three are all zero, add nothing to any sum and
    # cost seconds to read; the response curves count them from `target_day_counts` instead, and keep every day of
    # a keyword whose bid changed (its days ran at different bids).
    loaded_from = max((as_of - timedelta(days=s.lookback_days + 1)).isoformat(), start)
    b_start, b_end = (d.isoformat() for d in window(as_of, s.lookback_days, s.settling_days))
    g_first, g_last = g_start.isoformat(), g_end.isoformat()
    spans = None if every_day else _target_spans(db, pid, attribution, (b_start, b_end), (g_first, g_last))
    target_totals = None
    if spans is not None:
        # the sync's sums of both windows (44k rows on the large profile, not 3 M): only the keywords whose bid
        # changed are read day by day, zero days included, as the response curve needs their days at each bid
        bid_sums, term_sums = spans
        changed = _bid_changed(changes)
        target_day = _frame(  # through the keyword index; with no changed bid, no read at all (LIMIT 0)
            db,
            f"""SELECT date, keyword_id AS entity_id, campaign_id, ad_group_id, {m}
            FROM target_day INDEXED BY idx_target_day_keyword
            WHERE profile_id = ? AND keyword_id IN (SELECT value FROM json_each(?))
            AND date BETWEEN ? AND ? ORDER BY date, keyword_id LIMIT ?""",
            [pid, json.dumps(changed), loaded_from, end, -1 if changed else 0],
        )
        target_totals = bid_sums[~bid_sums["entity_id"].isin(set(changed))].reset_index(drop=True)
        target_day_counts = None
        ad_group_totals = (
            term_sums.groupby(["campaign_id", "ad_group_id"], dropna=False)[["orders", "clicks", "sales"]]
            .sum()
            .reset_index()
        )
    else:
        target_day = _frame(
            db,
            f"""SELECT date, keyword_id AS entity_id, campaign_id, ad_group_id, {m}
            FROM target_day WHERE profile_id = ? AND date BETWEEN ? AND ?
            AND ({_nonzero_day(attribution)} OR keyword_id IN (SELECT value FROM json_each(?)))""",
            [pid, loaded_from, end, json.dumps(_bid_changed(changes))],
        )
        lo, hi = max(g_first, loaded_from), g_last  # the ad-group totals' days that target_day holds
        # per keyword: its days in the bid window (the curves count them) and in [lo, hi] (an ad group whose days
        # there were all zero still has its row of zeros in the ad-group totals); from the keyword index alone
        counts = _frame(
            db,
            """SELECT keyword_id AS entity_id, sum(date BETWEEN ? AND ?) AS days, sum(date BETWEEN ? AND ?) AS seen
            FROM target_day WHERE profile_id = ? AND date BETWEEN ? AND ? GROUP BY keyword_id""",
            [b_start, b_end, lo, hi, pid, min(b_start, lo), max(b_end, hi)],
        )
        target_day_counts = counts.loc[counts["days"] > 0, ["entity_id", "days"]].reset_index(drop=True)
        ad_group_totals = _ad_group_totals(
            db, pid, m, target_day, loaded_from, g_first, g_last, _silent_groups(db, pid, target_day, counts, lo, hi)
        )
    # the search-term rules' window: the sync's span of it, or summed in SQL per keyword, term and match type (a
    # sixth of the daily rows, which took seconds to read); "has this term ever converted here" reads the whole
    # history, summed in SQL too
    search_term_totals = _search_term_totals(db, pid, m, attribution, g_first, g_last)
    search_term_history = _search_term_history(db, pid, end, attribution)
    keywords = _frame(
        db,
        """SELECT k.keyword_id AS entity_id, 'keyword' AS kind, k.campaign_id, k.ad_group_id,
        k.keyword_text AS text, k.match_type, lower(k.state) AS state, coalesce(k.bid, g.default_bid) AS bid
        FROM keywords k LEFT JOIN ad_groups g ON g.profile_id = k.profile_id AND g.ad_group_id = k.ad_group_id
        WHERE k.profile_id = ?""",
        [pid],
    )
    targets = _frame(
        db,
        """SELECT t.target_id AS entity_id, 'target' AS kind, t.campaign_id, t.ad_group_id,
        t.targeting AS text,
        CASE WHEN upper(t.expression_type) = 'AUTO' THEN 'TARGETING_EXPRESSION_PREDEFINED'
             ELSE 'TARGETING_EXPRESSION' END AS match_type,
        lower(t.state) AS state, coalesce(t.bid, g.default_bid) AS bid
        FROM targets t LEFT JOIN ad_groups g ON g.profile_id = t.profile_id AND g.ad_group_id = t.ad_group_id
        WHERE t.profile_id = ?""",
        [pid],
    )
    entities = pd.concat([keywords, targets], ignore_index=True)
    campaigns = _frame(
        db,
        """SELECT campaign_id, name, lower(state) AS state, upper(targeting_type) AS targeting_type,
        budget, bidding_strategy, placement_top_pct, placement_product_page_pct, placement_rest_of_search_pct,
        portfolio_id, start_date, end_date, serving_status FROM campaigns WHERE profile_id = ?""",
        [pid],
    )
    ad_groups = _frame(
        db,
        """SELECT ad_group_id, campaign_id, name, lower(state) AS state, default_bid
        FROM ad_groups WHERE profile_id = ?""",
        [pid],
    )
    campaign_day = _frame(
        db,
        f"""SELECT date, campaign_id, budget, {m} FROM campaign_day
        WHERE profile_id = ? AND date BETWEEN ? AND ?""",
        [pid, loaded_from, end],  # the budget and placement rules' lookback, as the keyword days
    )
    placement_day = _frame(
        db,
        f"""SELECT date, campaign_id, placement, {m} FROM placement_day
        WHERE profile_id = ? AND date BETWEEN ? AND ?""",
        [pid, loaded_from, end],
    )
    negatives = _frame(
        db,
        """SELECT campaign_id, ad_group_id, keyword_text, match_type, lower(state) AS state
        FROM negative_keywords WHERE profile_id = ?""",
        [pid],
    )
    product_ads = _frame(
        db,
        """SELECT campaign_id, ad_group_id, asin, sku, lower(state) AS state
        FROM product_ads WHERE profile_id = ?""",
        [pid],
    )
    w_start, w_end = window(as_of, s.lookback_days, s.settling_days)
    asin_sales, account_sales = load_sales(db, pid, w_start.isoformat(), w_end.isoformat(), attribution)
    margins = pd.DataFrame(columns=["asin", "margin"])
    if account_id is not None:
        from services import optimizer as sugg

        margins = sugg.margins_frame(db, account_id)
    return OptimizerInput(
        as_of=as_of,
        profile_id=pid,
        target_day=target_day,
        target_day_counts=target_day_counts,
        entities=entities,
        search_term_totals=search_term_totals,
        campaigns=campaigns,
        ad_groups=ad_groups,
        campaign_day=campaign_day,
        placement_day=placement_day,
        negatives=negatives,
        product_ads=product_ads,
        margins=margins,
        changes=changes,
        asin_sales=asin_sales,
        account_sales=account_sales,
        search_term_history=search_term_history,
        ad_group_totals=ad_group_totals,
        totals_window=(g_start, g_end),
        target_totals=target_totals,
    )


def load_sales(
    db: Database, profile_id: str, start: str, end: str, attribution: str = "7d"
) -> tuple[pd.DataFrame, dict]:
    """Total sales beside ad-attributed sales for the Target TACoS strategy, over the days of [start, end] that
    Seller Central has published (about 72 hours late; a day without a total must not count its ad sales).

    Per ASIN (asin, total_sales, ad_sales) over the days with per-ASIN figures; the account's
    {"total_sales", "ad_sales"} over the days with an account total ({} when there are none)."""
    col = f"sales_{attribution}" if attribution in ATTRIBUTION else "sales_7d"
    asin_sales = _frame(
        db,
        f"""SELECT asin, SUM(total) AS total_sales, SUM(ad) AS ad_sales FROM (
            SELECT upper(asin) AS asin, ordered_product_sales AS total, 0 AS ad FROM sales_traffic_day
            WHERE profile_id = ? AND date BETWEEN ? AND ?
            UNION ALL
            SELECT upper(asin), 0, coalesce({col}, 0) FROM advertised_product_day
            WHERE profile_id = ? AND date IN (
                SELECT DISTINCT date FROM sales_traffic_day WHERE profile_id = ? AND date BETWEEN ? AND ?)
        ) WHERE asin IS NOT NULL GROUP BY asin""",
        [profile_id, start, end, profile_id, profile_id, start, end],
    )
    row = db.conn.execute(
        f"""SELECT (SELECT SUM(ordered_product_sales) FROM sales_traffic_account_day
                    WHERE profile_id = ? AND date BETWEEN ? AND ?),
                   (SELECT SUM(coalesce({col}, 0)) FROM campaign_day WHERE profile_id = ? AND date IN (
                    SELECT date FROM sales_traffic_account_day WHERE profile_id = ? AND date BETWEEN ? AND ?))""",
        [profile_id, start, end, profile_id, profile_id, start, end],
    ).fetchone()
    account = {"total_sales": row[0], "ad_sales": row[1] or 0.0} if row and row[0] else {}
    return asin_sales, account
