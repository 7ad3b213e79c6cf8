"""Sync jobs for total sales and traffic (SP-API GET_SALES_AND_TRAFFIC_REPORT) and product names (Catalog Items).

Why two kinds of report: Amazon aggregates the per-ASIN section over the whole requested range, so per-ASIN per-day
figures need one report per day (done for the last ASIN_DAYS; the same one-day document also holds that day's account
total), while the account's daily totals over the whole horizon come from one DAY-granularity report. Amazon
publishes the figures about 72 hours late and restates them: a run fetches the days it lacks (up to three days ago)
plus the last `REFETCH_DAYS` again, the ad reports' restatement window, so a day's ad sales and total sales come from
the same moment.

A 403 on create means the authorization lacks the role: that profile is marked 'no_role', the summary carries a
sentence, and everything else in the sync goes on. The engine only submits `submit_jobs` and calls `write_result`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import UTC, date, datetime, timedelta

from services import store
from services.amazon.catalog import CatalogItems
from services.amazon.spapi import MissingSalesRole
from services.errors import DashboardError
from services.store import as_float, as_int, money, write
from services.sync.plan import MAX_DAYS, REFETCH_DAYS

logger = logging.getLogger(__name__)

KIND = "sales"
LAG_DAYS = 3  # Amazon's ~72 hours: the newest day asked for is three days ago
NO_ROLE = "no_role"
NO_ROLE_SENTENCE = "This authorization does not include sales and traffic; TACoS will stay empty."
NAMES_MAX_AGE_DAYS = 30
ASIN_DAYS = 31  # per-ASIN figures cost one report per day: the last month (the pages' default range)
# Other sellers' ASINs (product targets, ASINs shoppers typed) named per sync and marketplace, most clicked first:
# 5 Catalog Items calls at Amazon's 2 a second (about 2.5 s a marketplace); the next ones follow on later syncs
# (names keep 30 days). The demo has ~400 targeted and ~2,000 typed ASINs a marketplace: all at once would add a
# minute to every first sync for names deep in the tables' tails.
OTHER_ASINS_PER_SYNC = 100
CLICKS_DAYS = 60
_ASIN = re.compile(r"\b(B0[0-9A-Z]{8})\b", re.IGNORECASE)
_ASIN_TERM = "lower(search_term) GLOB 'b0" + "[0-9a-z]" * 8 + "'"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def plan(db, profile_id: str, today: date, days: int | None) -> list[tuple[str, date, date]]:
    """Jobs for one profile: ("total", start, end) for the account's daily totals over the horizon (one report),
    and ("asin", day, day) per day of the last ASIN_DAYS for per-ASIN figures. Each covers what is missing plus
    the last REFETCH_DAYS again (Amazon restates)."""
    last = today - timedelta(days=LAG_DAYS)
    horizon = max(1, min(days or MAX_DAYS, MAX_DAYS))
    first = today - timedelta(days=horizon)
    if first > last:
        return []
    restate_from = last - timedelta(days=REFETCH_DAYS - 1)
    have_total = {
        date.fromisoformat(d)
        for (d,) in db.conn.execute("SELECT date FROM sales_traffic_account_day WHERE profile_id = ?", [profile_id])
    }
    missing = [d for d in _days(first, last) if d not in have_total or d >= restate_from]
    jobs: list[tuple[str, date, date]] = [("total", min(missing), last)] if missing else []
    have_asin = {
        date.fromisoformat(d)
        for (d,) in db.conn.execute(
            "SELECT date FROM sales_traffic_status WHERE profile_id = ? AND status = 'ok'", [profile_id]
        )
    }
    asin_first = max(first, last - timedelta(days=ASIN_DAYS - 1))
    jobs += [("asin", d, d) for d in _days(asin_first, last) if d not in have_asin or d >= restate_from]
    return jobs


def submit_jobs(
    executor: Executor,
    clients,
    db,
    profiles: list[dict],
    today_for: Callable[[dict], date],
    retrying: Callable,
    *,
    days: int | None,
    poll: float,
    timeout: float,
) -> dict[Future, tuple]:
    """The jobs of `plan` for every seller profile; each returns the document or NO_ROLE."""
    refused: set[str] = set()  # profiles whose role is missing: their other jobs need not ask again

    def fetch(profile: dict, what: str, start: date, end: date):
        if profile["profile_id"] in refused:
            return NO_ROLE
        try:
            return clients.spapi(profile["region"]).sales_traffic_report(
                profile["marketplace_id"],
                start,
                end,
                asin_granularity="CHILD" if what == "asin" else "PARENT",
                poll=poll,
                timeout=timeout,
            )
        except MissingSalesRole:
            refused.add(profile["profile_id"])
            return NO_ROLE

    jobs: dict[Future, tuple] = {}
    for p in profiles:
        if not p.get("marketplace_id") or (p.get("account_type") or "seller") != "seller":
            continue
        for job in plan(db, p["profile_id"], today_for(p), days):
            jobs[executor.submit(retrying, fetch, p, *job)] = (KIND, p, job)
    return jobs


def _amount(v) -> float | None:
    return money(v.get("amount")) if isinstance(v, dict) else None


def day_rows(profile: dict, day: date | None, doc: dict) -> tuple[list[dict], list[dict]]:
    """(account rows, per-ASIN rows) of a document: per-ASIN rows only for a one-day document (`day`), account
    rows for every date of a DAY-granularity one (`day` None). Parsed defensively: Amazon's own example misspells
    a key (`browerPageViews`), and a missing figure is stored as missing, never as a guess."""
    pid, cur = profile["profile_id"], profile.get("currency_code")
    iso = day.isoformat() if day else ""
    account = []
    for x in doc.get("salesAndTrafficByDate") or []:
        if not isinstance(x, dict) or not isinstance(x.get("date"), str) or (day and x.get("date") != iso):
            continue
        s, t = x.get("salesByDate") or {}, x.get("trafficByDate") or {}
        sales = s.get("orderedProductSales") or {}
        account.append(
            {
                "profile_id": pid,
                "date": x["date"][:10],
                "ordered_product_sales": _amount(sales) or 0.0,
                "units_ordered": as_int(s.get("unitsOrdered")) or 0,
                "total_order_items": as_int(s.get("totalOrderItems")) or 0,
                "units_refunded": as_int(s.get("unitsRefunded")),
                "refund_rate": as_float(s.get("refundRate")),
                "shipped_product_sales": _amount(s.get("shippedProductSales")),
                "sessions": as_int(t.get("sessions")) or 0,
                "page_views": as_int(t.get("pageViews")) or 0,
                "buy_box_percentage": as_float(t.get("buyBoxPercentage")),
                "unit_session_percentage": as_float(t.get("unitSessionPercentage")),
                "order_item_session_percentage": as_float(t.get("orderItemSessionPercentage")),
                "currency_code": (sales.get("currencyCode") if isinstance(sales, dict) else None) or cur,
            }
        )
    per_asin: dict[str, dict] = {}
    for x in (doc.get("salesAndTrafficByAsin") or []) if day else []:
        if not isinstance(x, dict):
            continue
        asin = x.get("childAsin") or x.get("parentAsin")
        if not isinstance(asin, str) or not asin:
            continue
        s, t = x.get("salesByAsin") or {}, x.get("trafficByAsin") or {}
        per_asin[asin] = {
            "profile_id": pid,
            "date": iso,
            "asin": asin,
            "parent_asin": x.get("parentAsin"),
            "sku": x.get("sku"),
            "ordered_product_sales": _amount(s.get("orderedProductSales")) or 0.0,
            "units_ordered": as_int(s.get("unitsOrdered")) or 0,
            "total_order_items": as_int(s.get("totalOrderItems")) or 0,
            "sessions": as_int(t.get("sessions")) or 0,
            "page_views": as_int(t.get("pageViews") or t.get("browerPageViews")) or 0,
            "buy_box_percentage": as_float(t.get("buyBoxPercentage")),
            "unit_session_percentage": as_float(t.get("unitSessionPercentage")),
            "currency_code": cur,
        }
    return account, list(per_asin.values())


def write_result(db, profile: dict, job: tuple[str, date, date], doc, summary) -> int:
    """Store a document (replacing what was there: restated figures win) or remember the missing role."""
    pid = profile["profile_id"]
    what, start, end = job
    if doc == NO_ROLE:
        row = {"profile_id": pid, "date": "", "status": NO_ROLE, "updated_at": _now()}
        with write(db):
            store.upsert_rows(db, "sales_traffic_status", [row])
        if NO_ROLE_SENTENCE not in summary.notes:
            summary.notes.append(NO_ROLE_SENTENCE)
        return 0
    account, per_asin = day_rows(profile, start if what == "asin" else None, doc)
    account = [a for a in account if start.isoformat() <= a["date"] <= end.isoformat()]
    with write(db):
        db.conn.execute("DELETE FROM sales_traffic_status WHERE profile_id = ? AND date = ''", [pid])
        store.upsert_rows(db, "sales_traffic_account_day", account)
        if what == "asin":
            db.conn.execute("DELETE FROM sales_traffic_day WHERE profile_id = ? AND date = ?", [pid, start.isoformat()])
            store.upsert_rows(db, "sales_traffic_day", per_asin)
            if account:  # a day Amazon has not published yet is asked again next time
                row = {"profile_id": pid, "date": start.isoformat(), "status": "ok", "updated_at": _now()}
                store.upsert_rows(db, "sales_traffic_status", [row])
    summary.sales_days += len(account) if what == "total" else 0
    return len(per_asin) + len(account)


def wanted_asins(db, profile_id: str) -> tuple[set[str], list[str]]:
    """(the seller's own ASINs, other ASINs a table shows, most clicked first) for one profile.

    Own: advertised, sold, bought after a click, promoted. Others: the ASINs product targets aim at (by the target's
    clicks) and ASINs shoppers typed as search terms (by the term's clicks), ranked together by those clicks, so the
    rows at the top of a table sorted by spend are named first. Clicks of the last CLICKS_DAYS count (the pages'
    ranges), which also keeps the scan short on a store of many months."""
    pid = [profile_id]
    since = (datetime.now(UTC).date() - timedelta(days=CLICKS_DAYS)).isoformat()
    own = {
        a.upper()
        for (a,) in db.conn.execute(
            "SELECT asin FROM product_ads WHERE profile_id = ? UNION SELECT asin FROM sales_traffic_day "
            "WHERE profile_id = ? UNION SELECT purchased_asin FROM purchased_product_day WHERE profile_id = ? "
            "UNION SELECT advertised_asin FROM purchased_product_day WHERE profile_id = ? "
            "UNION SELECT dp.asin FROM deal_products dp JOIN deals d USING (promotion_id) WHERE d.profile_id = ?",
            pid * 5,
        )
        if a
    }
    for (text,) in db.conn.execute("SELECT asins FROM coupons WHERE profile_id = ?", pid):
        own.update(a.upper() for a in _ASIN.findall(str(text or "")))
    clicks: dict[str, float] = {}
    for expression, n in db.conn.execute(
        "SELECT t.expression, coalesce(SUM(d.clicks), 0) FROM targets t LEFT JOIN target_day d ON d.profile_id = "
        "t.profile_id AND d.keyword_id = t.target_id AND d.date >= ? WHERE t.profile_id = ? GROUP BY t.target_id",
        [since, profile_id],
    ):
        for a in _ASIN.findall(str(expression or "")):
            clicks[a.upper()] = max(clicks.get(a.upper(), 0), float(n))
    for term, n in db.conn.execute(
        f"SELECT upper(search_term), SUM(clicks) FROM search_term_day WHERE profile_id = ? AND date >= ? "
        f"AND {_ASIN_TERM} GROUP BY upper(search_term)",
        [profile_id, since],
    ):
        clicks[term] = max(clicks.get(term, 0), float(n or 0))
    others = sorted((a for a in clicks if a not in own), key=lambda a: (-clicks[a], a))
    return own, others


def fetch_product_names(db, clients, profiles: list[dict], summary, other_sellers: bool = True) -> int:
    """Names, brands and main images of the ASINs the pages show for these profiles and that have no fresh name:
    all of the seller's own, and up to OTHER_ASINS_PER_SYNC of other sellers' (most clicked first) per marketplace.
    `other_sellers=False`: the seller's own only (the sync asks for those while its reports are still coming, since the
    Catalog API's 2 calls a second make the names a wait of their own). Cosmetic: a failure is a note in the
    summary, never a failed sync."""
    stale = (datetime.now(UTC) - timedelta(days=NAMES_MAX_AGE_DAYS)).isoformat(timespec="seconds")
    fetched = 0
    by_mkt: dict[str, tuple[dict, set[str], dict[str, int]]] = {}
    for p in profiles:
        if not p.get("marketplace_id"):
            continue
        own, others = wanted_asins(db, p["profile_id"])
        _, mkt_own, mkt_others = by_mkt.setdefault(p["marketplace_id"], (p, set(), {}))
        mkt_own.update(own)
        for rank, a in enumerate(others):
            mkt_others[a] = min(rank, mkt_others.get(a, rank))
    for mkt, (p, own, others) in by_mkt.items():
        fresh = {
            a
            for (a,) in db.conn.execute(
                "SELECT asin FROM products WHERE marketplace_id = ? AND fetched_at >= ?", [mkt, stale]
            )
        }
        other_todo = sorted((a for a in others if a not in fresh and a not in own), key=lambda a: (others[a], a))
        todo = sorted(own - fresh) + (other_todo[:OTHER_ASINS_PER_SYNC] if other_sellers else [])
        if not todo:
            continue
        try:
            items = CatalogItems(clients.spapi(p["region"])).items(mkt, todo)
        except DashboardError as e:
            logger.info("product names for %s not fetched: %s", mkt, type(e).__name__)
            summary.notes.append(f"Product names could not be fetched for {p.get('country_code') or mkt}: {e}")
            continue
        now = _now()
        rows = [
            {"marketplace_id": mkt, "asin": i.asin, "name": i.name, "brand": i.brand, "image_url": i.image_url,
             "fetched_at": now}
            for i in items
        ]  # fmt: skip
        with write(db):
            store.upsert_rows(db, "products", rows)
        fetched += len(rows)
    summary.product_names += fetched
    return fetched
