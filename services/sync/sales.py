"""Sync jobs for total sales and traffic (SP-API GET_SALES_AND_TRAFFIC_REPORT) and product names (Catalog Items).

Why one report per day: Amazon aggregates the per-ASIN section over the whole requested range, so per-ASIN per-day
figures need a one-day report; the same one-day document also holds that day's account total
(`salesAndTrafficByDate`), so no separate totals report is needed. Amazon publishes the figures about 72 hours late
and restates them: a run fetches the days it lacks (up to three days ago) plus the last `REFETCH_DAYS` again, the
same restatement window as the ad reports, so ad sales and total sales of a day come from the same moment.

A 403 on create means the authorization lacks the role: that profile is marked 'no_role', the summary carries a
sentence, and everything else in the sync goes on. The engine only submits `submit_jobs` and calls `write_result`.
"""

from __future__ import annotations

import logging
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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def plan_days(db, profile_id: str, today: date, days: int | None) -> list[date]:
    """Days to fetch: the missing ones of the horizon, plus the last REFETCH_DAYS fetched again (Amazon restates)."""
    last = today - timedelta(days=LAG_DAYS)
    horizon = max(1, min(days or MAX_DAYS, MAX_DAYS))
    first = today - timedelta(days=horizon)
    done = {
        date.fromisoformat(d)
        for (d,) in db.conn.execute(
            "SELECT date FROM sales_traffic_status WHERE profile_id = ? AND status = 'ok'", [profile_id]
        )
    }
    out, d = [], first
    while d <= last:
        if d not in done or d > last - timedelta(days=REFETCH_DAYS):
            out.append(d)
        d += timedelta(days=1)
    return out


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
    """One job per (seller profile, day); each returns (day, document) or (day, NO_ROLE)."""

    refused: set[str] = set()  # profiles whose role is missing: the other days need not ask again

    def fetch_day(profile: dict, day: date):
        if profile["profile_id"] in refused:
            return day, NO_ROLE
        try:
            doc = clients.spapi(profile["region"]).sales_traffic_report(
                profile["marketplace_id"], day, day, poll=poll, timeout=timeout
            )
        except MissingSalesRole:
            refused.add(profile["profile_id"])
            return day, NO_ROLE
        return day, doc

    jobs: dict[Future, tuple] = {}
    for p in profiles:
        if not p.get("marketplace_id") or (p.get("account_type") or "seller") != "seller":
            continue
        for day in plan_days(db, p["profile_id"], today_for(p), days):
            jobs[executor.submit(retrying, fetch_day, p, day)] = (KIND, p, day)
    return jobs


def _amount(v) -> float | None:
    return money(v.get("amount")) if isinstance(v, dict) else None


def day_rows(profile: dict, day: date, doc: dict) -> tuple[list[dict], list[dict]]:
    """(account row(s), per-ASIN rows) of a one-day document. Parsed defensively: Amazon's own example misspells
    a key (`browerPageViews`), and a missing figure is stored as missing, never as a guess."""
    pid, cur, iso = profile["profile_id"], profile.get("currency_code"), day.isoformat()
    account = []
    for x in doc.get("salesAndTrafficByDate") or []:
        if not isinstance(x, dict) or x.get("date") != iso:
            continue
        s, t = x.get("salesByDate") or {}, x.get("trafficByDate") or {}
        sales = s.get("orderedProductSales") or {}
        account.append(
            {
                "profile_id": pid,
                "date": iso,
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
    for x in doc.get("salesAndTrafficByAsin") or []:
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


def write_result(db, profile: dict, day: date, result, summary) -> int:
    """Store one day (replacing what was there: restated figures win) or remember the missing role."""
    pid = profile["profile_id"]
    _, doc = result
    if doc == NO_ROLE:
        with write(db):
            store.upsert_rows(db, "sales_traffic_status", [{"profile_id": pid, "date": "", "status": NO_ROLE,
                                                            "updated_at": _now()}])  # fmt: skip
        if NO_ROLE_SENTENCE not in summary.notes:
            summary.notes.append(NO_ROLE_SENTENCE)
        return 0
    account, per_asin = day_rows(profile, day, doc)
    with write(db):
        db.conn.execute("DELETE FROM sales_traffic_status WHERE profile_id = ? AND date = ''", [pid])
        db.conn.execute("DELETE FROM sales_traffic_day WHERE profile_id = ? AND date = ?", [pid, day.isoformat()])
        store.upsert_rows(db, "sales_traffic_day", per_asin)
        store.upsert_rows(db, "sales_traffic_account_day", account)
        if account:  # a day Amazon has not published yet is asked again next time
            store.upsert_rows(
                db,
                "sales_traffic_status",
                [{"profile_id": pid, "date": day.isoformat(), "status": "ok", "updated_at": _now()}],
            )
    summary.sales_days += 1 if account else 0
    return len(per_asin) + len(account)


def fetch_product_names(db, clients, profiles: list[dict], summary) -> int:
    """Names, brands and main images of every ASIN the store knows for these profiles and has no fresh name for.
    Cosmetic: a failure is a note in the summary, never a failed sync."""
    stale = (datetime.now(UTC) - timedelta(days=NAMES_MAX_AGE_DAYS)).isoformat(timespec="seconds")
    fetched = 0
    by_mkt: dict[str, tuple[dict, set[str]]] = {}
    for p in profiles:
        if not p.get("marketplace_id"):
            continue
        asins = {
            a
            for (a,) in db.conn.execute(
                "SELECT asin FROM product_ads WHERE profile_id = ? UNION SELECT asin FROM sales_traffic_day "
                "WHERE profile_id = ? UNION SELECT purchased_asin FROM purchased_product_day WHERE profile_id = ?",
                [p["profile_id"]] * 3,
            )
            if a
        }
        by_mkt.setdefault(p["marketplace_id"], (p, set()))[1].update(asins)
    for mkt, (p, asins) in by_mkt.items():
        fresh = {
            a
            for (a,) in db.conn.execute(
                "SELECT asin FROM products WHERE marketplace_id = ? AND fetched_at >= ?", [mkt, stale]
            )
        }
        todo = sorted(asins - fresh)
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
