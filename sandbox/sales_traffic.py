"""Total sales and traffic of a profile (GET_SALES_AND_TRAFFIC_REPORT): organic sales beside the ad-driven ones.

Why it looks like this:
- Organic figures come from the same latent truth as the ads: each product has a base organic demand
  (``p_base_units``), a listing conversion rate (from ``p_cvr``), a buy-box share and a refund rate. Organic units
  rise with the product's *true* ad-driven units of the previous 14 days (a lagged rank lift, decaying), so ads
  that sell lift organic sales a few days later.
- Each day draws from its own RNG seeded by (seed, profile, day, salt), and a day's organic draw only depends on
  events before it: history never changes when the world advances.
- The ad part of a product-day is what the advertised-product report attributes to that ASIN and (click) day at
  the longest window, counted only once mature (as the Ads reports count it). Total = ad part + organic, so
  ad-attributed sales never exceed total sales for an ASIN and day, and days restate as conversions settle.
- Amazon publishes these figures about 72 hours late: the last day served is ``today - LAG_DAYS``.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only
    from .profile import Profile
    from .world import World

LAG_DAYS = 3
HALO_DAYS = 14
SALT = 7717


def _product_truth(p: Profile) -> dict[str, np.ndarray]:
    """Per product latent listing figures, drawn once per profile (deterministic from the seed)."""
    key = "st_truth"
    t = p._cache.get(key)
    if t is not None:
        return t
    n = len(p.p_asin)
    rng = np.random.default_rng([p.world.seed, p.idx, SALT])
    weak_bb = rng.random(n) < 0.25
    t = {
        "buy_box": np.where(weak_bb, rng.uniform(62, 95, n), rng.uniform(98, 100, n)),
        "refund_rate": rng.uniform(0.01, 0.07, n),
        "listing_cvr": np.clip(np.asarray(p.p_cvr) * rng.uniform(1.1, 1.6, n), 0.02, 0.3),
        "halo": rng.uniform(0.15, 0.6, n),  # organic units per ad unit, spread over the following days
        "pv_per_session": rng.uniform(1.15, 1.7, n),
        "mobile_share": rng.uniform(0.55, 0.75, n),
    }
    p._cache[key] = t
    return t


def daily_table(world: World, p: Profile) -> dict[str, np.ndarray]:
    """Arrays [day, product] from the profile's first day to the last simulated one (cents for money).

    Keys: ad_sales, ad_units, ad_orders (mature, advertised ASIN, click day), org_sales, org_units, org_orders,
    sessions, page_views, mobile_sessions, mobile_page_views, buy_box, refunds."""
    key = ("st_daily", world.today)
    cached = p._cache.get(key)
    if cached is not None:
        return cached
    n_days, n_prod = len(p.days), len(p.p_asin)
    truth = _product_truth(p)
    shape = (n_days, n_prod)
    out = {k: np.zeros(shape, np.int64) for k in ("ad_sales", "ad_units", "ad_orders", "true_ad_units", "ad_clicks")}
    if n_days:
        ev = p.slice("ev", p.start, p.start + _dt.timedelta(days=n_days - 1))
        ad_prod = np.asarray(p.ad_prod, dtype=np.int64)[ev["ad"]]
        day = ev["day"].astype(np.int64)
        flat = day * n_prod + ad_prod
        size = n_days * n_prod
        today_idx = (world.today - p.start).days
        mature = ev["conv"] & ((day + ev["lag"]) <= today_idx - 1)
        out["ad_clicks"] = np.bincount(flat, minlength=size).reshape(shape)
        out["ad_sales"] = np.bincount(flat, np.where(mature, ev["sales"], 0), minlength=size).astype(np.int64)
        out["ad_units"] = np.bincount(flat, np.where(mature, ev["units"], 0), minlength=size).astype(np.int64)
        out["ad_orders"] = np.bincount(flat, mature.astype(np.int64), minlength=size).astype(np.int64)
        # the truth (every conversion, settled or not) drives the organic lift: it never restates
        out["true_ad_units"] = np.bincount(flat, np.where(ev["conv"], ev["units"], 0), minlength=size)
        for k in ("ad_sales", "ad_units", "ad_orders", "true_ad_units"):
            out[k] = out[k].reshape(shape).astype(np.int64)
    # lagged, decaying lift from the previous HALO_DAYS of true ad units
    kernel = 0.8 ** np.arange(HALO_DAYS)
    kernel /= kernel.sum()
    lagged = np.zeros(shape)
    tau = out["true_ad_units"].astype(float)
    for k in range(1, HALO_DAYS + 1):
        if k < n_days:
            lagged[k:] += kernel[k - 1] * tau[:-k]
    org_units = np.zeros(shape, np.int64)
    org_sessions = np.zeros(shape, np.int64)
    buy_box = np.zeros(shape)
    refunds = np.zeros(shape, np.int64)
    pv = np.zeros(shape, np.int64)
    mobile_s = np.zeros(shape, np.int64)
    mobile_pv = np.zeros(shape, np.int64)
    base = np.asarray(p.p_base_units, dtype=float)
    for i in range(n_days):
        date = p.start + _dt.timedelta(days=i)
        rng = np.random.default_rng([world.seed, p.idx, date.toordinal(), SALT])
        bb = np.clip(truth["buy_box"] + rng.normal(0, 1.5, n_prod), 0, 100)
        bb[truth["buy_box"] >= 99.5] = 100.0
        lift = p.lift(date)
        mean = (base * lift + truth["halo"] * lagged[i] * 7) * bb / 100.0
        units = rng.poisson(mean)
        sessions = units + rng.poisson(np.maximum(mean / truth["listing_cvr"] - mean, 0))
        all_sessions = sessions + out["ad_clicks"][i]
        views = np.round(all_sessions * truth["pv_per_session"] * rng.uniform(0.95, 1.05, n_prod)).astype(np.int64)
        org_units[i], org_sessions[i], buy_box[i], pv[i] = units, sessions, bb, views
        mobile_s[i] = rng.binomial(all_sessions, truth["mobile_share"])
        mobile_pv[i] = rng.binomial(views, truth["mobile_share"])
        refunds[i] = rng.binomial(units + out["true_ad_units"][i], truth["refund_rate"])
    price = np.asarray(p.p_price_c, dtype=np.int64)
    out["org_units"] = org_units
    out["org_sales"] = org_units * price[None, :]
    out["org_orders"] = np.maximum(np.minimum(org_units, np.round(org_units / 1.08).astype(np.int64)), 0)
    out["sessions"] = org_sessions + out["ad_clicks"]
    out["page_views"] = pv
    out["mobile_sessions"] = mobile_s
    out["mobile_page_views"] = mobile_pv
    out["buy_box"] = buy_box
    out["refunds"] = refunds
    p._cache[key] = out
    return out


def last_served_day(world: World) -> _dt.date:
    """Amazon's ~72 hours of lag: the newest day a report can hold."""
    return world.today - _dt.timedelta(days=LAG_DAYS)


def _money(cents: float, currency: str) -> dict:
    return {"amount": round(float(cents) / 100.0, 2), "currencyCode": currency}


def _pct(num: float, den: float) -> float:
    return round(100.0 * num / den, 2) if den else 0.0


def _bucket(d: _dt.date, granularity: str) -> _dt.date:
    if granularity == "WEEK":  # Amazon's weeks run Sunday to Saturday
        return d - _dt.timedelta(days=(d.weekday() + 1) % 7)
    if granularity == "MONTH":
        return d.replace(day=1)
    return d


def _sums(t: dict, rows: np.ndarray, cols: np.ndarray | slice = slice(None)) -> dict:
    """Sums over the selected days (rows) and products (cols)."""
    sub = {k: v[rows][:, cols] for k, v in t.items()}
    units = int(sub["ad_units"].sum() + sub["org_units"].sum())
    sales = float(sub["ad_sales"].sum() + sub["org_sales"].sum())
    orders = int(sub["ad_orders"].sum() + sub["org_orders"].sum())
    sessions = int(sub["sessions"].sum())
    views = int(sub["page_views"].sum())
    mob_s, mob_v = int(sub["mobile_sessions"].sum()), int(sub["mobile_page_views"].sum())
    weights = sub["page_views"].astype(float)
    bb = float((sub["buy_box"] * weights).sum() / weights.sum()) if weights.sum() else 0.0
    return {
        "units": units,
        "sales": sales,
        "orders": orders,
        "sessions": sessions,
        "views": views,
        "mob_s": mob_s,
        "mob_v": mob_v,
        "buy_box": round(bb, 2),
        "refunds": int(sub["refunds"].sum()),
    }


def _sales_by_date(s: dict, cur: str) -> dict:
    zero = _money(0, cur)
    return {
        "orderedProductSales": _money(s["sales"], cur),
        "orderedProductSalesB2B": zero,
        "unitsOrdered": s["units"],
        "unitsOrderedB2B": 0,
        "totalOrderItems": s["orders"],
        "totalOrderItemsB2B": 0,
        "averageSalesPerOrderItem": _money(s["sales"] / s["orders"] if s["orders"] else 0, cur),
        "averageSalesPerOrderItemB2B": zero,
        "averageUnitsPerOrderItem": round(s["units"] / s["orders"], 2) if s["orders"] else 0.0,
        "averageUnitsPerOrderItemB2B": 0.0,
        "averageSellingPrice": _money(s["sales"] / s["units"] if s["units"] else 0, cur),
        "averageSellingPriceB2B": zero,
        "unitsRefunded": s["refunds"],
        "refundRate": _pct(s["refunds"], s["units"]),
        "claimsGranted": 0,
        "claimsAmount": zero,
        "shippedProductSales": _money(s["sales"], cur),
        "unitsShipped": s["units"],
        "ordersShipped": s["orders"],
    }


def _traffic_by_date(s: dict, n_parents: int) -> dict:
    return {
        "browserPageViews": s["views"] - s["mob_v"],
        "browserPageViewsB2B": 0,
        "mobileAppPageViews": s["mob_v"],
        "mobileAppPageViewsB2B": 0,
        "pageViews": s["views"],
        "pageViewsB2B": 0,
        "browserSessions": s["sessions"] - s["mob_s"],
        "browserSessionsB2B": 0,
        "mobileAppSessions": s["mob_s"],
        "mobileAppSessionsB2B": 0,
        "sessions": s["sessions"],
        "sessionsB2B": 0,
        "buyBoxPercentage": s["buy_box"],
        "buyBoxPercentageB2B": 0.0,
        "orderItemSessionPercentage": _pct(s["orders"], s["sessions"]),
        "orderItemSessionPercentageB2B": 0.0,
        "unitSessionPercentage": _pct(s["units"], s["sessions"]),
        "unitSessionPercentageB2B": 0.0,
        "averageOfferCount": 1,
        "averageParentItems": n_parents,
        "feedbackReceived": 0,
        "negativeFeedbackReceived": 0,
        "receivedNegativeFeedbackRate": 0.0,
    }


def _by_asin(s: dict, tot: dict, cur: str) -> tuple[dict, dict]:
    sales = {
        "unitsOrdered": s["units"],
        "unitsOrderedB2B": 0,
        "orderedProductSales": _money(s["sales"], cur),
        "orderedProductSalesB2B": _money(0, cur),
        "totalOrderItems": s["orders"],
        "totalOrderItemsB2B": 0,
    }
    traffic = {
        "browserSessions": s["sessions"] - s["mob_s"],
        "mobileAppSessions": s["mob_s"],
        "sessions": s["sessions"],
        "browserSessionPercentage": _pct(s["sessions"] - s["mob_s"], tot["sessions"] - tot["mob_s"]),
        "mobileAppSessionPercentage": _pct(s["mob_s"], tot["mob_s"]),
        "sessionPercentage": _pct(s["sessions"], tot["sessions"]),
        "browserPageViews": s["views"] - s["mob_v"],
        "mobileAppPageViews": s["mob_v"],
        "pageViews": s["views"],
        "browserPageViewsPercentage": _pct(s["views"] - s["mob_v"], tot["views"] - tot["mob_v"]),
        "mobileAppPageViewsPercentage": _pct(s["mob_v"], tot["mob_v"]),
        "pageViewsPercentage": _pct(s["views"], tot["views"]),
        "buyBoxPercentage": s["buy_box"],
        "unitSessionPercentage": _pct(s["units"], s["sessions"]),
    }
    return sales, traffic


def report_document(
    world: World, p: Profile, start: _dt.date, end: _dt.date, date_granularity: str, asin_granularity: str
) -> dict:
    """The documented JSON of GET_SALES_AND_TRAFFIC_REPORT for [start, end] (dates; clipped to what exists)."""
    t = daily_table(world, p)
    first = max(start, p.start)
    last = min(end, last_served_day(world), p.start + _dt.timedelta(days=len(p.days) - 1))
    idx = np.arange((first - p.start).days, (last - p.start).days + 1) if first <= last else np.arange(0)
    cur = p.currency
    n = len(p.p_asin)
    by_date = []
    buckets: dict[_dt.date, list[int]] = {}
    for i in idx:
        buckets.setdefault(_bucket(p.start + _dt.timedelta(days=int(i)), date_granularity), []).append(int(i))
    for b, rows in buckets.items():
        s = _sums(t, np.asarray(rows))
        by_date.append(
            {"date": b.isoformat(), "salesByDate": _sales_by_date(s, cur), "trafficByDate": _traffic_by_date(s, n)}
        )
    by_asin = []
    if len(idx):
        tot = _sums(t, idx)
        for j in range(n):
            s = _sums(t, idx, np.asarray([j]))
            if not (s["units"] or s["sessions"]):
                continue
            sales, traffic = _by_asin(s, tot, cur)
            item: dict = {"parentAsin": p.p_asin[j]}  # every simulated product is its own parent (no variations)
            if asin_granularity in ("CHILD", "SKU"):
                item["childAsin"] = p.p_asin[j]
            if asin_granularity == "SKU":
                item["sku"] = p.p_sku[j]
            item["salesByAsin"], item["trafficByAsin"] = sales, traffic
            by_asin.append(item)
    return {
        "reportSpecification": {
            "reportType": "GET_SALES_AND_TRAFFIC_REPORT",
            "reportOptions": {"dateGranularity": date_granularity, "asinGranularity": asin_granularity},
            "dataStartTime": start.isoformat(),
            "dataEndTime": end.isoformat(),
            "marketplaceIds": [p.marketplace],
        },
        "salesAndTrafficByDate": by_date,
        "salesAndTrafficByAsin": by_asin,
    }
