"""The sync: fills the local store from Amazon, fast, correct and unbreakable.

- fast: every report of a run is requested up front (at most `max_in_flight` at once), all are polled
  concurrently by a pool of worker threads, and each is written as soon as it arrives;
- correct: the first run backfills up to 95 days (Amazon's retention) in windows of at most 31 days; later
  runs fetch the new days plus the last 14 again, because Amazon restates conversions; a re-fetched window
  replaces the stored one (natural keys, no duplicates);
- unbreakable: HTTP retries live in the clients (429/5xx), a FAILED report is requested again, an expired
  download link is re-polled, a 425 reuses the report in flight; every report is written atomically together
  with its task record, so a killed run resumes from what it completed. invalid_grant marks the account
  'reconnect_needed' and stops.

Only the main thread writes to SQLite (short BEGIN IMMEDIATE transactions); worker threads only do HTTP.

CLI (for cron):  python -m services.sync --db PATH (--sandbox | --account NAME) [--profile ID …] [--days N]
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time as dtime, timedelta, timezone
from typing import Any, Callable

from services import accounts as accounts_mod
from services import store
from services.errors import (
    AmazonRequestError,
    AmazonUnavailable,
    AuthorizationExpired,
    DashboardError,
    DownloadExpired,
    InvalidCredentials,
    ReportFailed,
)
from services.regions import REGIONS
from services.store import as_float, as_id, as_int, money, open_db, to_json, write

MAX_DAYS = 95          # Amazon's SP report retention
MAX_SPAN = 31          # Amazon's maximum span of one SP report
REFETCH_DAYS = 14      # conversions are restated for days: fetch the last 14 again
MAX_IN_FLIGHT = 40     # reports requested/polled at once
REPORT_ATTEMPTS = 3    # a FAILED report is requested again this many times in all
COUPON_LOOKBACK_DAYS = 729
PROMO_LOOKAHEAD_DAYS = 180
DOWNLOAD_SLOTS = 3  # reports held between download and write (memory); all of them are still polled together

ProgressFn = Callable[[str, int, int, int], None]

# ---------------------------------------------------------------------------------------------
# report grains: Amazon request + column mapping

_METRICS = list(store.METRIC_COLUMNS)

REPORT_SPECS: dict[str, dict[str, Any]] = {
    "campaign_day": {
        "reportTypeId": "spCampaigns",
        "groupBy": ["campaign"],
        "columns": ["date", "campaignId", "campaignName", "campaignStatus", "campaignBudgetAmount",
                    "campaignBudgetType", "campaignBiddingStrategy", "topOfSearchImpressionShare"],
        "map": {"campaignId": ("campaign_id", "id"), "campaignName": "campaign_name",
                "campaignStatus": "campaign_status", "campaignBudgetAmount": ("budget", "money"),
                "campaignBudgetType": "budget_type", "campaignBiddingStrategy": "bidding_strategy",
                "topOfSearchImpressionShare": ("top_of_search_impression_share", "float")},
        "metrics": True,
    },
    "placement_day": {
        "reportTypeId": "spCampaigns",
        "groupBy": ["campaign", "campaignPlacement"],
        "columns": ["date", "campaignId", "campaignName", "campaignBiddingStrategy", "placementClassification"],
        "map": {"campaignId": ("campaign_id", "id"), "campaignName": "campaign_name",
                "campaignBiddingStrategy": "bidding_strategy", "placementClassification": ("placement", "key")},
        "metrics": True,
    },
    "target_day": {
        "reportTypeId": "spTargeting",
        "groupBy": ["targeting"],
        "columns": ["date", "keywordId", "keyword", "targeting", "matchType", "keywordType", "keywordBid",
                    "adKeywordStatus", "adGroupId", "adGroupName", "campaignId", "campaignName"],
        "map": {"keywordId": ("keyword_id", "idkey"), "keyword": "keyword", "targeting": "targeting",
                "matchType": "match_type", "keywordType": "keyword_type", "keywordBid": ("keyword_bid", "money"),
                "adKeywordStatus": "ad_keyword_status", "adGroupId": ("ad_group_id", "id"),
                "adGroupName": "ad_group_name", "campaignId": ("campaign_id", "id"), "campaignName": "campaign_name"},
        "metrics": True,
    },
    "search_term_day": {
        "reportTypeId": "spSearchTerm",
        "groupBy": ["searchTerm"],
        "columns": ["date", "searchTerm", "keywordId", "keyword", "targeting", "matchType", "keywordType",
                    "keywordBid", "adGroupId", "adGroupName", "campaignId", "campaignName"],
        "map": {"searchTerm": ("search_term", "key"), "keywordId": ("keyword_id", "idkey"), "keyword": "keyword",
                "targeting": "targeting", "matchType": "match_type", "keywordType": "keyword_type",
                "keywordBid": ("keyword_bid", "money"), "adGroupId": ("ad_group_id", "id"),
                "adGroupName": "ad_group_name", "campaignId": ("campaign_id", "id"), "campaignName": "campaign_name"},
        "metrics": True,
    },
    "advertised_product_day": {
        "reportTypeId": "spAdvertisedProduct",
        "groupBy": ["advertiser"],
        "columns": ["date", "adId", "advertisedAsin", "advertisedSku", "adGroupId", "adGroupName", "campaignId",
                    "campaignName"],
        "map": {"adId": ("ad_id", "idkey"), "advertisedAsin": "asin", "advertisedSku": "sku",
                "adGroupId": ("ad_group_id", "id"), "adGroupName": "ad_group_name",
                "campaignId": ("campaign_id", "id"), "campaignName": "campaign_name"},
        "metrics": True,
    },
    "purchased_product_day": {
        "reportTypeId": "spPurchasedProduct",
        "groupBy": ["asin"],
        "columns": ["date", "campaignId", "campaignName", "adGroupId", "keywordId", "keyword", "keywordType",
                    "matchType", "advertisedAsin", "advertisedSku", "purchasedAsin",
                    "purchasesOtherSku7d", "purchasesOtherSku14d", "salesOtherSku7d", "salesOtherSku14d",
                    "unitsSoldOtherSku7d", "unitsSoldOtherSku14d"],
        "map": {"campaignId": ("campaign_id", "id"), "campaignName": "campaign_name",
                "adGroupId": ("ad_group_id", "idkey"), "keywordId": ("keyword_id", "idkey"), "keyword": "keyword",
                "keywordType": "keyword_type", "matchType": "match_type",
                "advertisedAsin": ("advertised_asin", "key"), "advertisedSku": "advertised_sku",
                "purchasedAsin": ("purchased_asin", "key"),
                "purchasesOtherSku7d": ("purchases_other_sku_7d", "int"),
                "purchasesOtherSku14d": ("purchases_other_sku_14d", "int"),
                "salesOtherSku7d": ("sales_other_sku_7d", "money"),
                "salesOtherSku14d": ("sales_other_sku_14d", "money"),
                "unitsSoldOtherSku7d": ("units_other_sku_7d", "int"),
                "unitsSoldOtherSku14d": ("units_other_sku_14d", "int")},
        "metrics": False,
    },
}
GRAINS = tuple(REPORT_SPECS)


def report_body(grain: str, start: str, end: str) -> dict:
    spec = REPORT_SPECS[grain]
    columns = list(spec["columns"]) + (_METRICS if spec["metrics"] else [])
    return {
        "name": f"ppc-dashboard {grain} {start}..{end}",
        "startDate": start,
        "endDate": end,
        "configuration": {
            "adProduct": "SPONSORED_PRODUCTS",
            "reportTypeId": spec["reportTypeId"],
            "groupBy": list(spec["groupBy"]),
            "columns": columns,
            "timeUnit": "DAILY",
            "format": "GZIP_JSON",
        },
    }


def _m0(v: Any) -> float:
    return 0.0 if v is None or v == "" else round(float(v), 2)


def _i0(v: Any) -> int:
    return 0 if v is None or v == "" else (v if type(v) is int else int(round(float(v))))


def _idkey(v: Any) -> str:
    return as_id(v) or ""


def _key(v: Any) -> str:
    return "" if v is None else str(v)


def _int(v: Any) -> int | None:
    return v if type(v) is int else as_int(v)


def _id(v: Any) -> str | None:
    return str(v) if type(v) is int else as_id(v)


def _str(v: Any) -> Any:
    return v


_FN = {"id": _id, "idkey": _idkey, "key": _key, "money": money, "float": as_float, "int": _int, "str": _str}


def _compile(grain: str) -> tuple[list[str], Callable[[str, str | None, list[dict]], list[tuple]]]:
    """Column list and a generated row converter (one tuple expression per row: fast for 100k-row reports)."""
    spec = REPORT_SPECS[grain]
    fields: list[tuple[str, str, str]] = []
    for src, dst in spec["map"].items():
        name, kind = (dst, "str") if isinstance(dst, str) else dst
        fields.append((src, name, kind))
    if spec["metrics"]:
        for src, name in store.METRIC_COLUMNS.items():
            if name in ("impressions", "clicks"):
                kind = "i0"
            elif name == "cost":
                kind = "m0"
            else:
                kind = "money" if name in store.MONEY_METRICS else "int"
            fields.append((src, name, kind))
    env = dict(_FN, i0=_i0, m0=_m0)
    # The common cases are inlined (a JSON int stays an int, a float money value is rounded in place);
    # anything unusual (strings, blanks) falls back to the helper. This loop runs for every row of every
    # report, so a function call per value was most of the sync's CPU time.
    inline = {
        "i0": "(_v if type(_v := {get}) is int else f_i0(_v))",
        "int": "(_v if type(_v := {get}) is int or _v is None else f_int(_v))",
        "money": "(round(_v, 2) if type(_v := {get}) is float else (None if _v is None else f_money(_v)))",
        "m0": "(round(_v, 2) if type(_v := {get}) is float else f_m0(_v))",
        "id": "(str(_v) if type(_v := {get}) is int else f_id(_v))",
    }
    exprs = []
    for src, _, kind in fields:
        get = f"g({src!r})"
        if kind == "str":
            exprs.append(get)
        elif kind in inline:
            exprs.append(inline[kind].format(get=get))
        else:
            exprs.append(f"f_{kind}({get})")
    code = ("def convert(pid, cur, rows):\n"
            "    out = []\n    app = out.append\n"
            "    for r in rows:\n        g = r.get\n"
            "        d = g('date') or g('startDate')\n"
            f"        app((pid, str(d)[:10], cur, {', '.join(exprs)}))\n"
            "    return out\n")
    ns = {f"f_{k}": v for k, v in env.items()}
    exec(code, ns)  # noqa: S102 - code built from our own constant column map
    cols = ["profile_id", "date", "currency_code"] + [f[1] for f in fields]
    return cols, ns["convert"]


_COMPILED = {g: _compile(g) for g in GRAINS}


def convert_report_rows(grain: str, profile_id: str, currency: str | None, rows: list[dict]) -> tuple[list[str], list[tuple]]:
    cols, convert = _COMPILED[grain]
    return cols, convert(profile_id, currency, rows)


# ---------------------------------------------------------------------------------------------
# entities


def _placement_pct(c: dict, placement: str) -> float | None:
    for p in ((c.get("dynamicBidding") or {}).get("placementBidding") or []):
        if p.get("placement") == placement:
            return as_float(p.get("percentage"))
    return None


def _targeting_text(expr: Any) -> str | None:
    if not expr:
        return None
    parts = []
    for e in expr:
        t = str(e.get("type", ""))
        v = e.get("value")
        parts.append(f"{t.lower()}=\"{v}\"" if v not in (None, "") else t.lower())
    return " ".join(parts)


def _entity_rows(kind: str, profile_id: str, currency: str | None, items: list[dict]) -> tuple[str, list[dict]]:
    rows: list[dict] = []
    if kind == "campaigns":
        for c in items:
            budget = c.get("budget") or {}
            rows.append({
                "profile_id": profile_id, "campaign_id": as_id(c.get("campaignId")), "name": c.get("name"),
                "state": c.get("state"), "targeting_type": c.get("targetingType"), "start_date": c.get("startDate"),
                "end_date": c.get("endDate"), "budget": money(budget.get("budget")),
                "budget_type": budget.get("budgetType"),
                "bidding_strategy": (c.get("dynamicBidding") or {}).get("strategy"),
                "placement_top_pct": _placement_pct(c, "PLACEMENT_TOP"),
                "placement_product_page_pct": _placement_pct(c, "PLACEMENT_PRODUCT_PAGE"),
                "placement_rest_of_search_pct": _placement_pct(c, "PLACEMENT_REST_OF_SEARCH"),
                "portfolio_id": as_id(c.get("portfolioId")),
                "serving_status": (c.get("extendedData") or {}).get("servingStatus"),
                "currency_code": currency, "raw": to_json(c)})
        return "campaigns", rows
    if kind == "adGroups":
        for g in items:
            rows.append({
                "profile_id": profile_id, "ad_group_id": as_id(g.get("adGroupId")),
                "campaign_id": as_id(g.get("campaignId")), "name": g.get("name"), "state": g.get("state"),
                "default_bid": money(g.get("defaultBid")), "currency_code": currency, "raw": to_json(g)})
        return "ad_groups", rows
    if kind == "keywords":
        for k in items:
            rows.append({
                "profile_id": profile_id, "keyword_id": as_id(k.get("keywordId")),
                "campaign_id": as_id(k.get("campaignId")), "ad_group_id": as_id(k.get("adGroupId")),
                "keyword_text": k.get("keywordText"), "match_type": k.get("matchType"), "state": k.get("state"),
                "bid": money(k.get("bid")), "currency_code": currency, "raw": to_json(k)})
        return "keywords", rows
    if kind == "targets":
        for t in items:
            rows.append({
                "profile_id": profile_id, "target_id": as_id(t.get("targetId")),
                "campaign_id": as_id(t.get("campaignId")), "ad_group_id": as_id(t.get("adGroupId")),
                "expression_type": t.get("expressionType"), "expression": to_json(t.get("expression")),
                "resolved_expression": to_json(t.get("resolvedExpression")),
                "targeting": _targeting_text(t.get("resolvedExpression") or t.get("expression")),
                "state": t.get("state"), "bid": money(t.get("bid")), "currency_code": currency, "raw": to_json(t)})
        return "targets", rows
    if kind == "negativeKeywords":
        for k in items:
            rows.append({
                "profile_id": profile_id, "keyword_id": as_id(k.get("keywordId") or k.get("negativeKeywordId")),
                "campaign_id": as_id(k.get("campaignId")), "ad_group_id": as_id(k.get("adGroupId")),
                "keyword_text": k.get("keywordText"), "match_type": k.get("matchType"), "state": k.get("state"),
                "raw": to_json(k)})
        return "negative_keywords", rows
    if kind == "productAds":
        for a in items:
            rows.append({
                "profile_id": profile_id, "ad_id": as_id(a.get("adId")), "campaign_id": as_id(a.get("campaignId")),
                "ad_group_id": as_id(a.get("adGroupId")), "asin": a.get("asin"), "sku": a.get("sku"),
                "state": a.get("state"), "raw": to_json(a)})
        return "product_ads", rows
    raise ValueError(kind)


ENTITY_KINDS = ("campaigns", "adGroups", "keywords", "targets", "negativeKeywords", "productAds")


# ---------------------------------------------------------------------------------------------
# promotions


def _coupon_rows(account_id: str, profile: dict, coupons: list[dict], today: str) -> tuple[list[dict], list[dict]]:
    latest, snaps = [], []
    for c in coupons:
        cid = as_id(c.get("couponId"))
        if not cid:
            continue
        cur = c.get("currencyCode") or profile.get("currency_code")
        row = {
            "coupon_id": cid, "account_id": account_id, "profile_id": profile["profile_id"],
            "marketplace_id": c.get("marketplaceId") or profile.get("marketplace_id"),
            "merchant_id": as_id(c.get("merchantId")), "currency_code": cur, "name": c.get("name"),
            "website_message": c.get("websiteMessage"), "start_date_time": c.get("startDateTime"),
            "end_date_time": c.get("endDateTime"), "customer_segment": c.get("customerSegment"),
            "discount_type": c.get("discountType"), "discount_amount": as_float(c.get("discountAmount")),
            "budget": money(c.get("budget")), "clips": as_int(c.get("clips")),
            "redemptions": as_int(c.get("redemptions")), "total_discount": money(c.get("totalDiscount")),
            "budget_spent": money(c.get("budgetSpent")), "budget_remaining": money(c.get("budgetRemaining")),
            "budget_percentage_used": as_float(c.get("budgetPercentageUsed")), "sales": money(c.get("sales")),
            "asins": to_json([a.get("asin") if isinstance(a, dict) else a for a in (c.get("asins") or [])]),
            "raw": to_json(c),
        }
        latest.append(row)
        snaps.append({k: row[k] for k in ("coupon_id", "clips", "redemptions", "total_discount", "budget_spent",
                                          "budget_remaining", "budget_percentage_used", "sales", "budget",
                                          "currency_code")} | {"snapshot_date": today})
    return latest, snaps


def _deal_rows(account_id: str, profile: dict, promotions: list[dict]) -> tuple[list[dict], list[dict]]:
    deals, products = [], []
    for p in promotions:
        pid = as_id(p.get("promotionId"))
        if not pid:
            continue
        cur = p.get("revenueCurrencyCode") or profile.get("currency_code")
        deals.append({
            "promotion_id": pid, "account_id": account_id, "profile_id": profile["profile_id"],
            "marketplace_id": p.get("marketplaceId") or profile.get("marketplace_id"),
            "merchant_id": as_id(p.get("merchantId")), "name": p.get("promotionName"), "type": p.get("type"),
            "status": p.get("status"), "creation_channel": p.get("creationChannel"),
            "start_date_time": p.get("startDateTime"), "end_date_time": p.get("endDateTime"),
            "created_date_time": p.get("createdDateTime"), "last_updated_date_time": p.get("lastUpdatedDateTime"),
            "units_sold": as_int(p.get("unitsSold")), "revenue": money(p.get("revenue")), "currency_code": cur,
            "glance_views": as_int(p.get("glanceViews")), "raw": to_json(p)})
        for it in p.get("includedProducts") or []:
            products.append({
                "promotion_id": pid, "asin": str(it.get("asin") or ""), "product_name": it.get("productName"),
                "glance_views": as_int(it.get("productGlanceViews")), "units_sold": as_int(it.get("productUnitsSold")),
                "revenue": money(it.get("productRevenue")),
                "currency_code": it.get("productRevenueCurrencyCode") or cur})
    return deals, products


# ---------------------------------------------------------------------------------------------
# planning


def windows(start: date, end: date, span: int = MAX_SPAN) -> list[tuple[date, date]]:
    out = []
    cur = start
    while cur <= end:
        w_end = min(cur + timedelta(days=span - 1), end)
        out.append((cur, w_end))
        cur = w_end + timedelta(days=1)
    return out


def covered_dates(db, profile_id: str, grain: str) -> set[date]:
    covered: set[date] = set()
    for s, e in db.conn.execute(
        "SELECT start, end FROM sync_tasks WHERE profile_id = ? AND report_type = ? AND status = 'done'",
        [profile_id, grain],
    ):
        d, last = date.fromisoformat(s), date.fromisoformat(e)
        while d <= last:
            covered.add(d)
            d += timedelta(days=1)
    return covered


def plan_range(covered: set[date], today: date, days: int | None) -> tuple[date, date] | None:
    """First run: up to 95 days ending yesterday. Later: the first gap (within the horizon) or the last 14
    covered days again, whichever is earlier, to yesterday."""
    yesterday = today - timedelta(days=1)
    horizon = max(1, min(days or MAX_DAYS, MAX_DAYS))
    first = yesterday - timedelta(days=horizon - 1)
    in_horizon = {d for d in covered if first <= d <= yesterday}
    if not in_horizon:
        return first, yesterday
    d = first
    while d in in_horizon and d <= yesterday:
        d += timedelta(days=1)
    first_gap = d
    last_covered = max(in_horizon)
    start = min(first_gap, last_covered - timedelta(days=REFETCH_DAYS - 1))
    return max(start, first), yesterday


# ---------------------------------------------------------------------------------------------
# run bookkeeping


@dataclass
class SyncSummary:
    run_id: str
    account_id: str
    status: str = "running"             # ok | partial | reconnect_needed | failed
    resumed: bool = False
    profiles: int = 0
    reports: int = 0                    # reports written by this invocation
    reports_skipped: int = 0            # already done by the interrupted run this one resumed
    job_retries: int = 0                # whole jobs done again (FAILED report, dead link, expired token…)
    rows: int = 0
    entity_rows: int = 0
    coupons: int = 0
    deals: int = 0
    seconds: float = 0.0
    retries: int = 0
    requests: int = 0
    throttled: int = 0
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    date_ranges: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        return (f"sync {self.status}: {self.reports} reports ({self.reports_skipped} resumed), {self.rows} rows, "
                f"{self.entity_rows} entities, {self.coupons} coupons, {self.deals} deals, {self.seconds:.1f} s, "
                f"{self.retries} retries, {self.failures} failures")


_active_runs: set[str] = set()
_active_lock = threading.Lock()
_OWNER = f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _resumable_run(db, account_id: str, params: dict) -> str | None:
    """The account's latest unfinished run, when nobody is running it any more and it asked for the same thing."""
    row = db.conn.execute(
        "SELECT run_id, params, status FROM sync_runs WHERE account_id = ? ORDER BY started_at DESC, rowid DESC LIMIT 1",
        [account_id],
    ).fetchone()
    if not row or row[2] != "running":
        return None
    run_id, p = row[0], json.loads(row[1] or "{}")
    if {k: p.get(k) for k in ("profile_ids", "days")} != {k: params.get(k) for k in ("profile_ids", "days")}:
        return None
    owner = str(p.get("owner", ""))
    host, _, pid = owner.rpartition(":")
    with _active_lock:
        if run_id in _active_runs:
            return None
    if host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid() and _pid_alive(int(pid)):
        return None  # another live process is running it
    return run_id


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


# ---------------------------------------------------------------------------------------------
# the sync


class _Stop(Exception):
    pass


class _ReportSlots:
    """At most `n` reports between download and their write in the store.

    A worker takes a slot before downloading and keeps it (on success) until the writer thread has written the
    report; polling needs no slot. Without this, finished reports piled up as Python objects faster than SQLite
    took them: a 95-day sync of the large world reached 14 GB.
    """

    def __init__(self, n: int, stop: threading.Event):
        self._sem, self._stop = threading.Semaphore(n), stop

    def __enter__(self) -> None:
        while not self._sem.acquire(timeout=0.25):
            if self._stop.is_set():
                raise _Stop()

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:  # nothing reaches the writer: free the slot now
            self._sem.release()
        return False

    def written(self) -> None:
        self._sem.release()


def _sandbox_today(url: str, session) -> date | None:
    try:
        r = session.get(url.rstrip("/") + "/_sandbox/state", timeout=5)
        if r.ok:
            return date.fromisoformat(r.json()["today"])
    except Exception:  # noqa: BLE001 - fall back to the clock
        return None
    return None


def _profile_today(tz: str | None, now: datetime) -> date:
    try:
        from zoneinfo import ZoneInfo

        return now.astimezone(ZoneInfo(tz)).date() if tz else now.date()
    except Exception:  # noqa: BLE001
        return now.date()


def _profile_row(account_id: str, region: str, p: dict) -> dict:
    info = p.get("accountInfo") or {}
    return {
        "profile_id": as_id(p.get("profileId")), "account_id": account_id, "region": region,
        "country_code": p.get("countryCode"), "currency_code": p.get("currencyCode"), "timezone": p.get("timezone"),
        "marketplace_id": info.get("marketplaceStringId"), "seller_id": as_id(info.get("id")),
        "account_name": info.get("name"), "account_type": info.get("type"),
        "daily_budget": as_float(p.get("dailyBudget")), "raw": to_json(p),
    }


def sync_account(
    db_path,
    account_id: str,
    vault,
    profile_ids: list[str] | None = None,
    days: int | None = None,
    progress: ProgressFn | None = None,
    poll: float | None = None,
    now: datetime | date | None = None,
    *,
    policy=None,
    max_in_flight: int = MAX_IN_FLIGHT,
    report_timeout: float = 3 * 3600,
) -> SyncSummary:
    """Sync one account into the store at `db_path`; returns the summary (also stored in sync_runs)."""
    t0 = time.monotonic()
    db = open_db(db_path)
    clients = accounts_mod.clients_for(db, vault, account_id, policy=policy)
    account = clients.account
    if account.get("status") == "reconnect_needed":
        # Amazon already refused this authorization: cron runs stop here instead of hammering LWA.
        return SyncSummary(run_id="", account_id=account_id, status="reconnect_needed",
                           errors=["This Amazon authorization has expired or was revoked. Reconnect the account."])
    sandbox = account["backend"] == "sandbox"
    if poll is None:
        poll = 0.25 if sandbox else 15.0
    profile_ids = sorted({str(p) for p in profile_ids}) if profile_ids else None
    params = {"profile_ids": profile_ids, "days": days, "owner": _OWNER}

    resumed = _resumable_run(db, account_id, params)
    run_id = resumed or uuid.uuid4().hex
    with _active_lock:
        _active_runs.add(run_id)
    summary = SyncSummary(run_id=run_id, account_id=account_id, resumed=bool(resumed))
    with write(db):
        if resumed:
            db.conn.execute("UPDATE sync_runs SET params = ? WHERE run_id = ?", [json.dumps(params), run_id])
        else:
            db.conn.execute(
                "INSERT INTO sync_runs (run_id, account_id, started_at, status, params) VALUES (?, ?, ?, 'running', ?)",
                [run_id, account_id, _now_iso(), json.dumps(params)],
            )

    stop = threading.Event()
    job_retries = [0]
    job_retry_lock = threading.Lock()
    rows_total = 0
    done_jobs = 0
    total_jobs = 0

    def report(stage: str) -> None:
        if progress:
            try:
                progress(stage, done_jobs, total_jobs, rows_total)
            except Exception:  # noqa: BLE001 - a broken progress bar must not break the sync
                pass

    def sleeper(seconds: float) -> None:
        if stop.wait(seconds):
            raise _Stop()

    executor = ThreadPoolExecutor(max_workers=max(1, max_in_flight), thread_name_prefix="sync")
    try:
        # ---- profiles (one call per region)
        report("profiles")
        profiles: list[dict] = []
        futures = {executor.submit(clients.ads(r).list_profiles): r for r in REGIONS}
        for fut, region in futures.items():
            try:
                items = fut.result()
            except AmazonRequestError as e:  # a region the seller has no access to
                summary.errors.append(f"profiles {region}: {e}")
                continue
            profiles.extend(_profile_row(account_id, region, p) for p in items)
        with write(db):
            store.upsert_rows(db, "profiles", profiles)
        selected = [p for p in profiles if not profile_ids or p["profile_id"] in profile_ids]
        summary.profiles = len(selected)

        # ---- dates
        if isinstance(now, datetime):
            base_now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
            fixed_today = None
        elif isinstance(now, date):
            base_now, fixed_today = None, now
        else:
            base_now = datetime.now(timezone.utc)
            fixed_today = _sandbox_today(account["sandbox_url"], clients.session) if sandbox else None

        def today_for(p: dict) -> date:
            return fixed_today or _profile_today(p.get("timezone"), base_now)

        # ---- report tasks: reuse the interrupted run's plan, or plan anew
        by_id = {p["profile_id"]: p for p in selected}
        if resumed:
            tasks = [dict(zip(("task_key", "profile_id", "report_type", "start", "end", "status", "attempts"), r))
                     for r in db.conn.execute(
                         "SELECT task_key, profile_id, report_type, start, end, status, attempts FROM sync_tasks "
                         "WHERE run_id = ?", [run_id])]
            tasks = [t for t in tasks if t["profile_id"] in by_id]
        if not resumed or not tasks:  # killed before its plan was stored: plan now
            tasks = []
            for p in selected:
                td = today_for(p)
                for grain in GRAINS:
                    rng = plan_range(covered_dates(db, p["profile_id"], grain), td, days)
                    if rng is None:
                        continue
                    for ws, we in windows(*rng):
                        tasks.append({"task_key": f"{p['profile_id']}:{grain}:{ws}:{we}", "profile_id": p["profile_id"],
                                      "report_type": grain, "start": ws.isoformat(), "end": we.isoformat(),
                                      "status": "pending", "attempts": 0})
            with write(db):
                store.upsert_rows(db, "sync_tasks", [dict(t, run_id=run_id) for t in tasks],
                                  ["run_id", "task_key", "profile_id", "report_type", "start", "end", "status",
                                   "attempts"])
        pending = [t for t in tasks if t["status"] != "done"]
        summary.reports_skipped = len(tasks) - len(pending)
        for t in tasks:
            rng = summary.date_ranges.setdefault(t["profile_id"], [t["start"], t["end"]])
            rng[0], rng[1] = min(rng[0], t["start"]), max(rng[1], t["end"])

        # ---- jobs: promotions, entities, reports, all in one pool; results written as they arrive
        jobs: dict[Future, tuple] = {}

        def retrying(fn: Callable, *args, **kwargs):
            """Job-level retries, above the HTTP ones of the clients: a FAILED report, a download link that stays
            expired, Amazon unavailable after the HTTP retries, or an access token that died between our refresh
            and its use (401/403): do the whole job again, REPORT_ATTEMPTS in all."""
            for attempt in range(REPORT_ATTEMPTS):
                if stop.is_set():
                    raise _Stop()
                try:
                    return fn(*args, **kwargs)
                except (ReportFailed, DownloadExpired, AmazonUnavailable, AmazonRequestError) as e:
                    retry = not isinstance(e, AmazonRequestError) or isinstance(e, DownloadExpired) \
                        or e.status in (401, 403)
                    if not retry or attempt == REPORT_ATTEMPTS - 1:
                        raise
                    with job_retry_lock:
                        job_retries[0] += 1
                    if isinstance(e, AmazonRequestError) and e.status in (401, 403):
                        clients.tokens.invalidate()
                    sleeper(min(poll * (2 ** attempt), 30.0))
            raise AssertionError("unreachable")

        download_gate = _ReportSlots(DOWNLOAD_SLOTS, stop)

        def fetch_report(task: dict, profile: dict) -> tuple[list[str], list[tuple], str]:
            ads = clients.ads(profile["region"])
            report_id = ads.create_report(profile["profile_id"], report_body(task["report_type"], task["start"],
                                                                             task["end"]))
            # Downloaded and converted in the worker holding a report slot, which the writer gives back once the
            # report is stored: at most DOWNLOAD_SLOTS reports are in memory at once (a large account's 31-day
            # target report is gigabytes as JSON objects), and the writer thread only writes.
            cols, values = ads.wait_report(
                profile["profile_id"], report_id, poll=poll, timeout=report_timeout, sleep=sleeper,
                download_gate=download_gate,
                transform=lambda rows: convert_report_rows(task["report_type"], profile["profile_id"],
                                                           profile.get("currency_code"), rows))
            return cols, values, report_id

        def run_report(task: dict, profile: dict) -> tuple[list[str], list[tuple], str]:
            return retrying(fetch_report, task, profile)

        def promo_range(today: date) -> tuple[datetime, datetime]:
            # Amazon selects coupons and deals by start date. Looking ahead as far as a coupon may be
            # scheduled (180 days) lets an exported coupon show as "scheduled" before it starts.
            end_dt = datetime.combine(today + timedelta(days=PROMO_LOOKAHEAD_DAYS), dtime(23, 59, 59), timezone.utc)
            return datetime.combine(today - timedelta(days=COUPON_LOOKBACK_DAYS), dtime(0, 0), timezone.utc), end_dt

        def run_coupons(profile: dict, today: date) -> list[dict]:
            return retrying(clients.spapi(profile["region"]).coupon_report,
                            profile["marketplace_id"], *promo_range(today), poll=poll, timeout=report_timeout)

        def run_deals(profile: dict, today: date) -> list[dict]:
            return retrying(clients.spapi(profile["region"]).promotion_report,
                            profile["marketplace_id"], *promo_range(today), poll=poll, timeout=report_timeout)

        for p in selected:
            if p.get("marketplace_id") and (p.get("account_type") or "seller") == "seller":
                jobs[executor.submit(run_coupons, p, today_for(p))] = ("coupons", p)
                jobs[executor.submit(run_deals, p, today_for(p))] = ("deals", p)
        for p in selected:
            for kind in ENTITY_KINDS:
                jobs[executor.submit(retrying, clients.ads(p["region"]).list_entities, p["profile_id"], kind)] = (
                    "entities", p, kind)
        for t in pending:
            jobs[executor.submit(run_report, t, by_id[t["profile_id"]])] = ("reports", by_id[t["profile_id"]], t)
        total_jobs = len(jobs)
        report("reports" if pending else "entities")

        remaining = set(jobs)
        while remaining:
            finished, remaining = wait(remaining, return_when=FIRST_COMPLETED)
            for fut in finished:
                kind, profile, *extra = jobs.pop(fut)  # the future holds its result: let both go once written
                pid, cur = profile["profile_id"], profile.get("currency_code")
                try:
                    result = fut.result()
                except (AuthorizationExpired, InvalidCredentials):
                    raise
                except _Stop:
                    continue
                except (DashboardError, OSError) as e:
                    summary.failures += 1
                    label = extra[0]["task_key"] if kind == "reports" else f"{kind} {pid} {extra[0] if extra else ''}"
                    summary.errors.append(f"{label}: {e}")
                    if kind == "reports":
                        with write(db):
                            db.conn.execute(
                                "UPDATE sync_tasks SET status = 'failed', error = ?, attempts = attempts + 1 "
                                "WHERE run_id = ? AND task_key = ?", [str(e)[:500], run_id, extra[0]["task_key"]])
                    done_jobs += 1
                    report(kind)
                    continue
                if kind == "entities":
                    table, rows = _entity_rows(extra[0], pid, cur, result)
                    with write(db):
                        db.conn.execute(f"DELETE FROM [{table}] WHERE profile_id = ?", [pid])
                        store.upsert_rows(db, table, rows)
                    summary.entity_rows += len(rows)
                elif kind == "reports":
                    task = extra[0]
                    cols, values, report_id = result
                    attempts = 1
                    try:
                        with write(db):
                            db.conn.execute(
                                f"DELETE FROM [{task['report_type']}] WHERE profile_id = ? AND date BETWEEN ? AND ?",
                                [pid, task["start"], task["end"]])
                            if values:
                                db.conn.executemany(
                                    "INSERT OR REPLACE INTO [{}] ({}) VALUES ({})".format(
                                        task["report_type"], ", ".join(cols), ", ".join("?" * len(cols))), values)
                            db.conn.execute(
                                "UPDATE sync_tasks SET status = 'done', report_id = ?, rows = ?, attempts = attempts + ?, "
                                "error = NULL, finished_at = ? WHERE run_id = ? AND task_key = ?",
                                [report_id, len(values), attempts, _now_iso(), run_id, task["task_key"]])
                    finally:
                        download_gate.written()
                    summary.reports += 1
                    summary.rows += len(values)
                    rows_total += len(values)
                elif kind == "coupons":
                    latest, snaps = _coupon_rows(account_id, profile, result, today_for(profile).isoformat())
                    with write(db):
                        store.upsert_rows(db, "coupons", latest)
                        store.upsert_rows(db, "coupon_snapshots", snaps)
                    summary.coupons += len(latest)
                elif kind == "deals":
                    drows, products = _deal_rows(account_id, profile, result)
                    with write(db):
                        store.upsert_rows(db, "deals", drows)
                        db.conn.executemany("DELETE FROM deal_products WHERE promotion_id = ?",
                                            [(d["promotion_id"],) for d in drows])
                        store.upsert_rows(db, "deal_products", products)
                    summary.deals += len(drows)
                done_jobs += 1
                result = None
                report(kind)
        summary.status = "partial" if summary.failures else "ok"
    except (AuthorizationExpired, InvalidCredentials) as e:
        stop.set()
        summary.status = "reconnect_needed"
        summary.errors.append(str(e))
        if isinstance(e, AuthorizationExpired):
            accounts_mod.mark_reconnect_needed(db, account_id)
    except BaseException:
        stop.set()
        raise
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
        with _active_lock:
            _active_runs.discard(run_id)
        stats = clients.stats()
        summary.job_retries = job_retries[0]
        summary.retries = stats.get("retries", 0) + job_retries[0]
        summary.requests = stats.get("requests", 0)
        summary.throttled = stats.get("throttled", 0)
        summary.seconds = round(time.monotonic() - t0, 3)
    # a run that ends (ok, partial, reconnect) is finished; failed tasks are planned again next time via coverage
    with write(db):
        db.conn.execute(
            "UPDATE sync_runs SET status = ?, finished_at = ?, summary = ? WHERE run_id = ?",
            [summary.status, _now_iso(), json.dumps(summary.as_dict()), run_id],
        )
    report("done")
    return summary


# ---------------------------------------------------------------------------------------------
# CLI


def _print_progress(stage: str, done: int, total: int, rows: int) -> None:
    print(f"progress {stage} {done}/{total} rows={rows}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m services.sync", description="Sync Amazon Ads data into the local store")
    ap.add_argument("--db", required=True, help="path of the SQLite database")
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--sandbox", action="store_true", help="start the embedded sandbox and sync the demo seller")
    who.add_argument("--account", help="name of a connected account")
    ap.add_argument("--profile", action="append", default=None, help="profile id (repeatable); default all")
    ap.add_argument("--days", type=int, default=None, help="days to backfill (max 95)")
    ap.add_argument("--poll", type=float, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--sandbox-seed", type=int, default=7, help=argparse.SUPPRESS)
    ap.add_argument("--sandbox-latency", type=float, default=1.0, help=argparse.SUPPRESS)
    ap.add_argument("--sandbox-today", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    from services.logsafe import install_redaction
    from services.vault import Vault, keys_from_secrets_toml

    install_redaction()  # cron output is a log file too: no token, secret or code in it
    db = open_db(args.db)
    vault = Vault(secret_keys=keys_from_secrets_toml(), db_path=args.db)
    handle = None
    try:
        if args.sandbox:
            from sandbox import demo_credentials, start_sandbox

            kwargs: dict[str, Any] = {"port": 0, "seed": args.sandbox_seed, "scale": "demo",
                                      "report_latency": args.sandbox_latency}
            if args.sandbox_today:
                kwargs["today"] = date.fromisoformat(args.sandbox_today)
            handle = start_sandbox(**kwargs)
            account_id = accounts_mod.connect_demo(db, vault, handle.url, demo_credentials())
        else:
            acc = accounts_mod.find_account(db, args.account)
            if acc is None:
                print(f"no account named {args.account!r}", file=sys.stderr)
                return 2
            account_id = acc["account_id"]
        summary = sync_account(args.db, account_id, vault, profile_ids=args.profile, days=args.days,
                               progress=_print_progress, poll=args.poll)
        print(summary.line(), flush=True)
        print(json.dumps(summary.as_dict(), sort_keys=True), flush=True)
        return {"ok": 0, "partial": 1}.get(summary.status, 2)
    finally:
        if handle is not None:
            handle.stop()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
