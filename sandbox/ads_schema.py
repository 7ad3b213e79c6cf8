"""Sponsored Products v3 rules shared by the list and write endpoints: enums, limits, field sets, content types.

Bid / budget limits: reference section 4 (DOC:reference/concepts/limits).  Only the markets the reference
gives are in the tables; every other market uses the US limits.
"""

from __future__ import annotations

from sandbox.protocol import HttpError, Request, ads_error

MAX_PAGE_SIZE = 1000
MAX_BATCH = 1000
BID_LIMITS = {"JP": (2.0, 100000.0)}
DEFAULT_BID_LIMITS = (0.02, 1000.0)
BUDGET_LIMITS: dict[str, tuple[float, float]] = {}
DEFAULT_BUDGET_LIMITS = (1.0, 1_000_000.0)
PLACEMENT_PERCENT = (0, 900)
KEYWORD_MAX_CHARS = 80
KEYWORD_MAX_WORDS = 10
NAME_MAX_CHARS = 128

READ_STATES = ["ENABLED", "PAUSED", "ARCHIVED", "ENABLING", "USER_DELETED", "PROPOSED", "OTHER"]
WRITE_STATES = ["ENABLED", "PAUSED", "PROPOSED"]
MATCH_TYPES = ["BROAD", "EXACT", "PHRASE"]
NEGATIVE_MATCH_TYPES = ["NEGATIVE_EXACT", "NEGATIVE_PHRASE", "NEGATIVE_BROAD"]
TARGETING_TYPES = ["AUTO", "MANUAL"]
STRATEGIES = ["LEGACY_FOR_SALES", "AUTO_FOR_SALES", "MANUAL", "RULE_BASED"]
PLACEMENTS = ["PLACEMENT_TOP", "PLACEMENT_PRODUCT_PAGE", "PLACEMENT_REST_OF_SEARCH", "SITE_AMAZON_BUSINESS"]
QUERY_MATCH = ["BROAD_MATCH", "EXACT_MATCH"]
PREDICATES = [
    "ASIN_SAME_AS",
    "ASIN_CATEGORY_SAME_AS",
    "ASIN_BRAND_SAME_AS",
    "ASIN_PRICE_LESS_THAN",
    "ASIN_PRICE_BETWEEN",
    "ASIN_PRICE_GREATER_THAN",
    "ASIN_REVIEW_RATING_LESS_THAN",
    "ASIN_REVIEW_RATING_BETWEEN",
    "ASIN_REVIEW_RATING_GREATER_THAN",
    "ASIN_IS_PRIME_SHIPPING_ELIGIBLE",
    "ASIN_AGE_RANGE_SAME_AS",
    "ASIN_GENRE_SAME_AS",
    "ASIN_EXPANDED_FROM",
    "KEYWORD_GROUP_SAME_AS",
]

KINDS = {
    "campaigns": dict(
        vnd="spCampaign",
        env="campaigns",
        id="campaignId",
        filter="campaignIdFilter",
        success_id="campaignId",
        entity="campaign",
        etype="CAMPAIGN",
    ),
    "adGroups": dict(
        vnd="spAdGroup",
        env="adGroups",
        id="adGroupId",
        filter="adGroupIdFilter",
        success_id="adGroupId",
        entity="adGroup",
        etype="AD_GROUP",
    ),
    "keywords": dict(
        vnd="spKeyword",
        env="keywords",
        id="keywordId",
        filter="keywordIdFilter",
        success_id="keywordId",
        entity="keyword",
        etype="KEYWORD",
    ),
    "targets": dict(
        vnd="spTargetingClause",
        env="targetingClauses",
        id="targetId",
        filter="targetIdFilter",
        success_id="targetId",
        entity="targetingClause",
        etype="TARGETING_CLAUSE",
    ),
    # the negative keyword's own id field really is "keywordId"; the 207 success item says negativeKeywordId
    "negativeKeywords": dict(
        vnd="spNegativeKeyword",
        env="negativeKeywords",
        id="keywordId",
        filter="negativeKeywordIdFilter",
        success_id="negativeKeywordId",
        entity="negativeKeyword",
        etype="NEGATIVE_KEYWORD",
    ),
    "productAds": dict(
        vnd="spProductAd",
        env="productAds",
        id="adId",
        filter="adIdFilter",
        success_id="adId",
        entity="productAd",
        etype="PRODUCT_AD",
    ),
}
UPDATABLE = {
    "campaigns": {
        "name",
        "state",
        "budget",
        "startDate",
        "endDate",
        "dynamicBidding",
        "portfolioId",
        "tags",
        "siteRestrictions",
    },
    "adGroups": {"name", "state", "defaultBid"},
    "keywords": {"state", "bid"},
    "negativeKeywords": {"state"},
    "targets": {"state", "bid", "expression", "expressionType"},
    "productAds": {"state"},
}
CREATABLE = {
    "campaigns": {
        "name",
        "state",
        "targetingType",
        "budget",
        "startDate",
        "endDate",
        "dynamicBidding",
        "portfolioId",
        "tags",
        "siteRestrictions",
    },
    "adGroups": {"campaignId", "name", "state", "defaultBid"},
    "keywords": {
        "campaignId",
        "adGroupId",
        "keywordText",
        "matchType",
        "state",
        "bid",
        "nativeLanguageKeyword",
        "nativeLanguageLocale",
    },
    "negativeKeywords": {
        "campaignId",
        "adGroupId",
        "keywordText",
        "matchType",
        "state",
        "nativeLanguageKeyword",
        "nativeLanguageLocale",
    },
    "targets": {"campaignId", "adGroupId", "expression", "expressionType", "state", "bid"},
    "productAds": {"campaignId", "adGroupId", "state", "sku", "asin", "customText"},
}
REQUIRED = {
    "campaigns": ["name", "state", "targetingType", "budget"],
    "adGroups": ["campaignId", "name", "defaultBid", "state"],
    "keywords": ["campaignId", "adGroupId", "keywordText", "matchType", "state"],
    "negativeKeywords": ["campaignId", "adGroupId", "keywordText", "matchType", "state"],
    "targets": ["campaignId", "adGroupId", "expression", "expressionType", "state"],
    "productAds": ["campaignId", "adGroupId", "state"],
}


# --------------------------------------------------------------------------------------------- helpers
def _java(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_java(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def invalid_argument(problems: list[str]) -> HttpError:
    n = len(problems)
    msg = f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(problems)
    return HttpError(ads_error(400, "INVALID_ARGUMENT", msg))


def _enum_problem(value, location: str, allowed: list[str]) -> str:
    return (
        f"Value '{_java(value)}' at '{location}' failed to satisfy constraint: Member must satisfy constraint: "
        f"[Member must satisfy enum value set: [{', '.join(allowed)}]]"
    )


def content_type_ok(req: Request, vnd: str) -> None:
    mt = req.media_type
    if not mt and not req.body.strip():
        return
    if mt not in ("application/json", f"application/vnd.{vnd.lower()}.v3+json"):
        raise HttpError(ads_error(415, "UNSUPPORTED_MEDIA_TYPE", f"Unsupported Media Type: {mt or 'none'}"))


def negotiate(req: Request, vnd: str) -> str:
    accept = req.header("Accept")
    if not accept:
        return "application/json"
    json_ok = False
    for part in accept.split(","):
        mt = part.split(";")[0].strip().lower()
        if mt == f"application/vnd.{vnd.lower()}.v3+json":
            return f"application/vnd.{vnd}.v3+json"
        if mt in ("application/json", "*/*", "application/*"):
            json_ok = True
    if json_ok:
        return "application/json"
    raise HttpError(ads_error(406, "NOT_ACCEPTABLE", f"Not Acceptable: {accept}"))


def _strip(e: dict, extended: bool) -> dict:
    if not extended:
        e = {k: v for k, v in e.items() if k != "extendedData"}
    return e
