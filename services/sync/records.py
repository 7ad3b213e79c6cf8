"""Store rows from Amazon's entities, profiles, coupons and deals (the small documents of a sync)."""

from __future__ import annotations

from typing import Any

from services.store import as_float, as_id, as_int, money, to_json


def _placement_pct(c: dict, placement: str) -> float | None:
    for p in (c.get("dynamicBidding") or {}).get("placementBidding") or []:
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
        parts.append(f'{t.lower()}="{v}"' if v not in (None, "") else t.lower())
    return " ".join(parts)


def _entity_rows(kind: str, profile_id: str, currency: str | None, items: list[dict]) -> tuple[str, list[dict]]:
    rows: list[dict] = []
    if kind == "campaigns":
        for c in items:
            budget = c.get("budget") or {}
            rows.append(
                {
                    "profile_id": profile_id,
                    "campaign_id": as_id(c.get("campaignId")),
                    "name": c.get("name"),
                    "state": c.get("state"),
                    "targeting_type": c.get("targetingType"),
                    "start_date": c.get("startDate"),
                    "end_date": c.get("endDate"),
                    "budget": money(budget.get("budget")),
                    "budget_type": budget.get("budgetType"),
                    "bidding_strategy": (c.get("dynamicBidding") or {}).get("strategy"),
                    "placement_top_pct": _placement_pct(c, "PLACEMENT_TOP"),
                    "placement_product_page_pct": _placement_pct(c, "PLACEMENT_PRODUCT_PAGE"),
                    "placement_rest_of_search_pct": _placement_pct(c, "PLACEMENT_REST_OF_SEARCH"),
                    "portfolio_id": as_id(c.get("portfolioId")),
                    "serving_status": (c.get("extendedData") or {}).get("servingStatus"),
                    "currency_code": currency,
                    "raw": to_json(c),
                }
            )
        return "campaigns", rows
    if kind == "adGroups":
        for g in items:
            rows.append(
                {
                    "profile_id": profile_id,
                    "ad_group_id": as_id(g.get("adGroupId")),
                    "campaign_id": as_id(g.get("campaignId")),
                    "name": g.get("name"),
                    "state": g.get("state"),
                    "default_bid": money(g.get("defaultBid")),
                    "currency_code": currency,
                    "raw": to_json(g),
                }
            )
        return "ad_groups", rows
    if kind == "keywords":
        for k in items:
            rows.append(
                {
                    "profile_id": profile_id,
                    "keyword_id": as_id(k.get("keywordId")),
                    "campaign_id": as_id(k.get("campaignId")),
                    "ad_group_id": as_id(k.get("adGroupId")),
                    "keyword_text": k.get("keywordText"),
                    "match_type": k.get("matchType"),
                    "state": k.get("state"),
                    "bid": money(k.get("bid")),
                    "currency_code": currency,
                    "raw": to_json(k),
                }
            )
        return "keywords", rows
    if kind == "targets":
        for t in items:
            rows.append(
                {
                    "profile_id": profile_id,
                    "target_id": as_id(t.get("targetId")),
                    "campaign_id": as_id(t.get("campaignId")),
                    "ad_group_id": as_id(t.get("adGroupId")),
                    "expression_type": t.get("expressionType"),
                    "expression": to_json(t.get("expression")),
                    "resolved_expression": to_json(t.get("resolvedExpression")),
                    "targeting": _targeting_text(t.get("resolvedExpression") or t.get("expression")),
                    "state": t.get("state"),
                    "bid": money(t.get("bid")),
                    "currency_code": currency,
                    "raw": to_json(t),
                }
            )
        return "targets", rows
    if kind == "negativeKeywords":
        for k in items:
            rows.append(
                {
                    "profile_id": profile_id,
                    "keyword_id": as_id(k.get("keywordId") or k.get("negativeKeywordId")),
                    "campaign_id": as_id(k.get("campaignId")),
                    "ad_group_id": as_id(k.get("adGroupId")),
                    "keyword_text": k.get("keywordText"),
                    "match_type": k.get("matchType"),
                    "state": k.get("state"),
                    "raw": to_json(k),
                }
            )
        return "negative_keywords", rows
    if kind == "productAds":
        for a in items:
            rows.append(
                {
                    "profile_id": profile_id,
                    "ad_id": as_id(a.get("adId")),
                    "campaign_id": as_id(a.get("campaignId")),
                    "ad_group_id": as_id(a.get("adGroupId")),
                    "asin": a.get("asin"),
                    "sku": a.get("sku"),
                    "state": a.get("state"),
                    "raw": to_json(a),
                }
            )
        return "product_ads", rows
    raise ValueError(kind)


ENTITY_KINDS = ("campaigns", "adGroups", "keywords", "targets", "negativeKeywords", "productAds")
# The list calls ask for Amazon's extended fields where we store one of them: a campaign's servingStatus lives in
# extendedData, which Amazon (and the sandbox) leave out unless includeExtendedDataFields is true.
ENTITY_FILTERS: dict[str, dict] = {"campaigns": {"includeExtendedDataFields": True}}


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
            "coupon_id": cid,
            "account_id": account_id,
            "profile_id": profile["profile_id"],
            "marketplace_id": c.get("marketplaceId") or profile.get("marketplace_id"),
            "merchant_id": as_id(c.get("merchantId")),
            "currency_code": cur,
            "name": c.get("name"),
            "website_message": c.get("websiteMessage"),
            "start_date_time": c.get("startDateTime"),
            "end_date_time": c.get("endDateTime"),
            "customer_segment": c.get("customerSegment"),
            "discount_type": c.get("discountType"),
            "discount_amount": as_float(c.get("discountAmount")),
            "budget": money(c.get("budget")),
            "clips": as_int(c.get("clips")),
            "redemptions": as_int(c.get("redemptions")),
            "total_discount": money(c.get("totalDiscount")),
            "budget_spent": money(c.get("budgetSpent")),
            "budget_remaining": money(c.get("budgetRemaining")),
            "budget_percentage_used": as_float(c.get("budgetPercentageUsed")),
            "sales": money(c.get("sales")),
            "asins": to_json([a.get("asin") if isinstance(a, dict) else a for a in (c.get("asins") or [])]),
            "raw": to_json(c),
        }
        latest.append(row)
        snaps.append(
            {
                k: row[k]
                for k in (
                    "coupon_id",
                    "clips",
                    "redemptions",
                    "total_discount",
                    "budget_spent",
                    "budget_remaining",
                    "budget_percentage_used",
                    "sales",
                    "budget",
                    "currency_code",
                )
            }
            | {"snapshot_date": today}
        )
    return latest, snaps


def _deal_rows(account_id: str, profile: dict, promotions: list[dict]) -> tuple[list[dict], list[dict]]:
    deals, products = [], []
    for p in promotions:
        pid = as_id(p.get("promotionId"))
        if not pid:
            continue
        cur = p.get("revenueCurrencyCode") or profile.get("currency_code")
        deals.append(
            {
                "promotion_id": pid,
                "account_id": account_id,
                "profile_id": profile["profile_id"],
                "marketplace_id": p.get("marketplaceId") or profile.get("marketplace_id"),
                "merchant_id": as_id(p.get("merchantId")),
                "name": p.get("promotionName"),
                "type": p.get("type"),
                "status": p.get("status"),
                "creation_channel": p.get("creationChannel"),
                "start_date_time": p.get("startDateTime"),
                "end_date_time": p.get("endDateTime"),
                "created_date_time": p.get("createdDateTime"),
                "last_updated_date_time": p.get("lastUpdatedDateTime"),
                "units_sold": as_int(p.get("unitsSold")),
                "revenue": money(p.get("revenue")),
                "currency_code": cur,
                "glance_views": as_int(p.get("glanceViews")),
                "raw": to_json(p),
            }
        )
        for it in p.get("includedProducts") or []:
            products.append(
                {
                    "promotion_id": pid,
                    "asin": str(it.get("asin") or ""),
                    "product_name": it.get("productName"),
                    "glance_views": as_int(it.get("productGlanceViews")),
                    "units_sold": as_int(it.get("productUnitsSold")),
                    "revenue": money(it.get("productRevenue")),
                    "currency_code": it.get("productRevenueCurrencyCode") or cur,
                }
            )
    return deals, products


def _profile_row(account_id: str, region: str, p: dict) -> dict:
    info = p.get("accountInfo") or {}
    return {
        "profile_id": as_id(p.get("profileId")),
        "account_id": account_id,
        "region": region,
        "country_code": p.get("countryCode"),
        "currency_code": p.get("currencyCode"),
        "timezone": p.get("timezone"),
        "marketplace_id": info.get("marketplaceStringId"),
        "seller_id": as_id(info.get("id")),
        "account_name": info.get("name"),
        "account_type": info.get("type"),
        "daily_budget": as_float(p.get("dailyBudget")),
        "raw": to_json(p),
    }
