"""``/v2/profiles`` and Sponsored Products v3 (reference sections 3 and 4, SponsoredProducts.json).

Paging: ``maxResults`` defaults to, and may not exceed, MAX_PAGE_SIZE = 1000.  The spec only says
"Defaults to max page size for given API" for these lists; its one explicit figure for a sibling SP list
is "Defaults to 1000", maximum 1000, and its id filters cap at 1000 too.  ``nextToken`` is opaque, bound to
the filters of the first request, and left out on the last page.

Bid / budget limits: reference section 4 (DOC:reference/concepts/limits).  Only the markets the reference
gives are in the tables; every other market uses the US limits.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re

from sandbox.server import (COUNTRY_REGION, HttpError, Request, Response, SandboxState, ads_auth, ads_error,
                            read_json_body)

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
PREDICATES = ["ASIN_SAME_AS", "ASIN_CATEGORY_SAME_AS", "ASIN_BRAND_SAME_AS", "ASIN_PRICE_LESS_THAN",
              "ASIN_PRICE_BETWEEN", "ASIN_PRICE_GREATER_THAN", "ASIN_REVIEW_RATING_LESS_THAN",
              "ASIN_REVIEW_RATING_BETWEEN", "ASIN_REVIEW_RATING_GREATER_THAN", "ASIN_IS_PRIME_SHIPPING_ELIGIBLE",
              "ASIN_AGE_RANGE_SAME_AS", "ASIN_GENRE_SAME_AS", "ASIN_EXPANDED_FROM", "KEYWORD_GROUP_SAME_AS"]

KINDS = {
    "campaigns": dict(vnd="spCampaign", env="campaigns", id="campaignId", filter="campaignIdFilter",
                      success_id="campaignId", entity="campaign", etype="CAMPAIGN"),
    "adGroups": dict(vnd="spAdGroup", env="adGroups", id="adGroupId", filter="adGroupIdFilter",
                     success_id="adGroupId", entity="adGroup", etype="AD_GROUP"),
    "keywords": dict(vnd="spKeyword", env="keywords", id="keywordId", filter="keywordIdFilter",
                     success_id="keywordId", entity="keyword", etype="KEYWORD"),
    "targets": dict(vnd="spTargetingClause", env="targetingClauses", id="targetId", filter="targetIdFilter",
                    success_id="targetId", entity="targetingClause", etype="TARGETING_CLAUSE"),
    # the negative keyword's own id field really is "keywordId"; the 207 success item says negativeKeywordId
    "negativeKeywords": dict(vnd="spNegativeKeyword", env="negativeKeywords", id="keywordId",
                             filter="negativeKeywordIdFilter", success_id="negativeKeywordId",
                             entity="negativeKeyword", etype="NEGATIVE_KEYWORD"),
    "productAds": dict(vnd="spProductAd", env="productAds", id="adId", filter="adIdFilter", success_id="adId",
                       entity="productAd", etype="PRODUCT_AD"),
}
UPDATABLE = {
    "campaigns": {"name", "state", "budget", "startDate", "endDate", "dynamicBidding", "portfolioId", "tags",
                  "siteRestrictions"},
    "adGroups": {"name", "state", "defaultBid"},
    "keywords": {"state", "bid"},
    "negativeKeywords": {"state"},
    "targets": {"state", "bid", "expression", "expressionType"},
    "productAds": {"state"},
}
CREATABLE = {
    "campaigns": {"name", "state", "targetingType", "budget", "startDate", "endDate", "dynamicBidding",
                  "portfolioId", "tags", "siteRestrictions"},
    "adGroups": {"campaignId", "name", "state", "defaultBid"},
    "keywords": {"campaignId", "adGroupId", "keywordText", "matchType", "state", "bid", "nativeLanguageKeyword",
                 "nativeLanguageLocale"},
    "negativeKeywords": {"campaignId", "adGroupId", "keywordText", "matchType", "state", "nativeLanguageKeyword",
                         "nativeLanguageLocale"},
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
    return (f"Value '{_java(value)}' at '{location}' failed to satisfy constraint: Member must satisfy constraint: "
            f"[Member must satisfy enum value set: [{', '.join(allowed)}]]")


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


# --------------------------------------------------------------------------------------------- profiles
def list_profiles(state: SandboxState, req: Request, m) -> Response:
    ctx = ads_auth(state, req, "ads", need_scope=False)
    problems = []
    for name, allowed in (("apiProgram", ["billing", "campaign", "paymentMethod", "store", "report", "account",
                                          "posts"]), ("accessLevel", ["edit", "view"]),
                          ("validPaymentMethodFilter", ["true", "false"])):
        v = req.q(name)
        if v is not None and v not in allowed:
            problems.append(_enum_problem(v, name, allowed))
    types = [t.strip() for t in (req.q("profileTypeFilter") or "").split(",") if t.strip()]
    for t in types:
        if t not in ("seller", "vendor", "agency"):
            problems.append(_enum_problem(t, "profileTypeFilter", ["seller", "vendor", "agency"]))
    if problems:
        raise invalid_argument(problems)
    out = []
    for p in state.seller_profiles(ctx.seller_id):
        if req.region and COUNTRY_REGION.get(p["countryCode"]) != req.region:
            continue
        if types and p["accountInfo"].get("type") not in types:
            continue
        vpm = req.q("validPaymentMethodFilter")
        if vpm is not None and bool(p["accountInfo"].get("validPaymentMethod")) != (vpm == "true"):
            continue
        out.append(p)
    return Response(200, out)


def get_profile(state: SandboxState, req: Request, m) -> Response:
    ctx = ads_auth(state, req, "ads", need_scope=False)
    pid = m.group(1)
    for p in state.seller_profiles(ctx.seller_id):
        if str(p["profileId"]) == pid and not (req.region and COUNTRY_REGION.get(p["countryCode"]) != req.region):
            return Response(200, p)
    return Response(404, {"code": "NOT_FOUND", "message": f"Profile {pid} not found",
                          "details": f"Profile {pid} not found"})


# --------------------------------------------------------------------------------------------- list
def _id_filter(body, name, limit, problems) -> set[str] | None:
    f = body.get(name)
    if f is None:
        return None
    inc = f.get("include") if isinstance(f, dict) else None
    if not isinstance(inc, list) or not all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in inc):
        problems.append(f"Value '{_java(inc if isinstance(f, dict) else f)}' at '{name}.include' failed to "
                        "satisfy constraint: Member must be a list of entity ids")
        return None
    if len(inc) > limit:
        problems.append(f"Value '{_java(inc[:3])}...' at '{name}.include' failed to satisfy constraint: "
                        f"Member must have length less than or equal to {limit}")
    return {str(x) for x in inc}


def _enum_filter(value, location, allowed, problems, limit=None) -> set[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(x, str) and x in allowed for x in value):
        problems.append(_enum_problem(value, location, allowed))
        return None
    if limit and len(value) > limit:
        problems.append(f"Value '{_java(value)}' at '{location}' failed to satisfy constraint: Member must have "
                        f"length less than or equal to {limit}")
    return set(value)


def _text_filter(body, name, problems, require_match_type: bool):
    f = body.get(name)
    if f is None:
        return None
    if not isinstance(f, dict) or not isinstance(f.get("include", []), list) or not all(
            isinstance(x, str) for x in f.get("include", [])):
        problems.append(f"Value '{_java(f)}' at '{name}' failed to satisfy constraint: Member must be an object "
                        "with an include list of strings")
        return None
    mt = f.get("queryTermMatchType")
    if mt is None and require_match_type:
        problems.append(f"Value null at '{name}.queryTermMatchType' failed to satisfy constraint: Member must "
                        "not be null")
        return None
    if mt is not None and mt not in QUERY_MATCH:
        problems.append(_enum_problem(mt, f"{name}.queryTermMatchType", QUERY_MATCH))
        return None
    if len(f.get("include", [])) > 100:
        problems.append(f"Value at '{name}.include' failed to satisfy constraint: Member must have length less "
                        "than or equal to 100")
    terms = [t.lower() for t in f.get("include", [])]
    # nameFilter without queryTermMatchType: exact match (sandbox choice; the spec gives no default)
    exact = (mt or "EXACT_MATCH") == "EXACT_MATCH"
    return lambda text: any((t == (text or "").lower()) if exact else (t in (text or "").lower()) for t in terms)


def _token_hash(body: dict) -> str:
    rest = {k: v for k, v in body.items() if k not in ("nextToken", "maxResults")}
    return hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()[:16]


def list_entities(state: SandboxState, req: Request, m) -> Response:
    kind = m.group(1)
    meta = KINDS[kind]
    ctx = ads_auth(state, req, "ads")
    content_type_ok(req, meta["vnd"])
    ctype = negotiate(req, meta["vnd"])
    body = read_json_body(req, "ads", {})
    if not isinstance(body, dict):
        raise invalid_argument(["Request body must be a JSON object"])
    problems: list[str] = []
    own = _id_filter(body, meta["filter"], 1000, problems)
    camp = _id_filter(body, "campaignIdFilter", 100, problems) if kind != "campaigns" else None
    adg = _id_filter(body, "adGroupIdFilter", 100, problems) if kind in (
        "keywords", "targets", "negativeKeywords", "productAds") else None
    port = _id_filter(body, "portfolioIdFilter", 100, problems) if kind == "campaigns" else None
    sf = body.get("stateFilter")
    states = None
    if sf is not None:
        states = _enum_filter(sf.get("include") if isinstance(sf, dict) else sf, "stateFilter.include",
                              READ_STATES, problems, limit=10)
    name_f = _text_filter(body, "nameFilter", problems, False) if kind in ("campaigns", "adGroups") else None
    text_name = {"keywords": "keywordTextFilter", "negativeKeywords": "negativeKeywordTextFilter"}.get(kind)
    text_f = _text_filter(body, text_name, problems, True) if text_name else None
    match_f = None
    if kind in ("keywords", "negativeKeywords"):
        match_f = _enum_filter(body.get("matchTypeFilter"), "matchTypeFilter",
                               MATCH_TYPES if kind == "keywords" else NEGATIVE_MATCH_TYPES, problems)
    expr_f = asin_f = ttype = None
    if kind == "targets":
        ef = body.get("expressionTypeFilter")
        if ef is not None:
            expr_f = _enum_filter(ef.get("include") if isinstance(ef, dict) else ef, "expressionTypeFilter.include",
                                  TARGETING_TYPES, problems)
        asin_f = _text_filter(body, "asinFilter", problems, False)
    if kind == "adGroups" and body.get("campaignTargetingTypeFilter") is not None:
        ttype = body["campaignTargetingTypeFilter"]
        if ttype not in TARGETING_TYPES:
            problems.append(_enum_problem(ttype, "campaignTargetingTypeFilter", TARGETING_TYPES))
    max_results = body.get("maxResults", MAX_PAGE_SIZE)
    if not isinstance(max_results, int) or isinstance(max_results, bool) or not 1 <= max_results <= MAX_PAGE_SIZE:
        problems.append(f"Value '{_java(max_results)}' at 'maxResults' failed to satisfy constraint: Member must "
                        f"have value between 1 and {MAX_PAGE_SIZE}")
    ext = body.get("includeExtendedDataFields", False)
    if not isinstance(ext, bool):
        problems.append(f"Value '{_java(ext)}' at 'includeExtendedDataFields' failed to satisfy constraint: "
                        "Member must be a boolean")
    offset = 0
    token = body.get("nextToken")
    if token is not None:
        try:
            tok = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            offset = int(tok["o"])
            if tok["h"] != _token_hash(body) or tok["k"] != kind or offset < 0:
                raise ValueError
        except Exception:
            problems.append(f"Value '{token}' at 'nextToken' failed to satisfy constraint: Member must be a valid "
                            "token returned by a previous request with the same filters")
    if problems:
        raise invalid_argument(problems)

    pid = ctx.profile_id
    with state.lock:
        items = state.world.entities(pid, kind)
        camp_types = {}
        if ttype is not None:
            camp_types = {c["campaignId"]: c.get("targetingType") for c in state.world.entities(pid, "campaigns")}

    def keep(e) -> bool:
        if own is not None and str(e.get(meta["id"])) not in own:
            return False
        if camp is not None and str(e.get("campaignId")) not in camp:
            return False
        if adg is not None and str(e.get("adGroupId")) not in adg:
            return False
        if port is not None and str(e.get("portfolioId")) not in port:
            return False
        if states is not None and e.get("state") not in states:
            return False
        if name_f is not None and not name_f(e.get("name")):
            return False
        if text_f is not None and not text_f(e.get("keywordText")):
            return False
        if match_f is not None and e.get("matchType") not in match_f:
            return False
        if expr_f is not None and e.get("expressionType") not in expr_f:
            return False
        if asin_f is not None and not any(asin_f(p.get("value")) for p in e.get("expression", [])
                                          if p.get("type") == "ASIN_SAME_AS"):
            return False
        if ttype is not None and camp_types.get(e.get("campaignId")) != ttype:
            return False
        if body.get("locale") and e.get("nativeLanguageLocale") not in (None, body["locale"]):
            return False
        return True

    matched = [e for e in items if keep(e)]
    page = [_strip(e, ext) for e in matched[offset:offset + max_results]]
    out = {meta["env"]: page, "totalResults": len(matched)}
    if offset + max_results < len(matched):
        raw = json.dumps({"o": offset + max_results, "h": _token_hash(body), "k": kind}).encode()
        out["nextToken"] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return Response(200, out, content_type=ctype)


# --------------------------------------------------------------------------------------------- mutations
def _e(kind: str, reason: str, message: str, location: str, trigger=None, **extra) -> dict:
    cause = {"location": location}
    if trigger is not None:
        cause["trigger"] = str(trigger)
    return {"errorType": kind, "errorValue": {kind: {"reason": reason, "message": message, "cause": cause, **extra}}}


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class _Validator:
    def __init__(self, state: SandboxState, ctx, kind: str):
        self.kind = kind
        self.meta = KINDS[kind]
        self.country = ctx.profile["countryCode"]
        self.pid = ctx.profile_id
        self.today = state.world.today
        w = state.world
        self.campaigns = {c["campaignId"]: c for c in w.entities(self.pid, "campaigns")}
        self.ad_groups = {a["adGroupId"]: a for a in w.entities(self.pid, "adGroups")} if kind != "campaigns" else {}
        self.existing = {str(e[self.meta["id"]]): e for e in w.entities(self.pid, kind)}
        self.mkt = self.country if self.country in ("AE", "AU", "BR", "CA", "DE", "EG", "ES", "FR", "IN", "IT",
                                                    "JP", "MX", "NL", "PL", "SA", "SE", "SG", "TR", "UK",
                                                    "US") else None

    def loc(self, i: int, field: str) -> str:
        return f"$.{self.meta['env']}[{i}].{field}"

    def enum(self, errs, i, field, value, allowed):
        if value not in allowed:
            errs.append(_e("rangeError", "INVALID_ENUM_VALUE", f"{field} must be one of {', '.join(allowed)}",
                           self.loc(i, field), value, allowed=list(allowed)))

    def bid(self, errs, i, field, value):
        lo, hi = BID_LIMITS.get(self.country, DEFAULT_BID_LIMITS)
        if not _num(value):
            errs.append(_e("malformedValueError", "PATTERN_NOT_MATCHED", f"{field} must be a number",
                           self.loc(i, field), value))
        elif not lo <= value <= hi:
            extra = {"lowerLimit": str(lo), "upperLimit": str(hi)}
            if self.mkt:
                extra["marketplace"] = self.mkt
            errs.append(_e("biddingError", "BID_OUT_OF_MARKET_PLACE_RANGE",
                           f"Bid {value} is outside the marketplace range {lo} - {hi}", self.loc(i, field), value,
                           **extra))

    def text(self, errs, i, field, value, max_chars, max_words=None):
        if not isinstance(value, str):
            errs.append(_e("malformedValueError", "PATTERN_NOT_MATCHED", f"{field} must be a string",
                           self.loc(i, field), value))
        elif not value.strip():
            errs.append(_e("malformedValueError", "BLANK", f"{field} must not be blank", self.loc(i, field), value))
        elif value != value.strip():
            errs.append(_e("malformedValueError", "LEADING_OR_TRAILING_WHITESPACE",
                           f"{field} has leading or trailing whitespace", self.loc(i, field), value))
        elif len(value) > max_chars or (max_words and len(value.split()) > max_words):
            errs.append(_e("malformedValueError", "TOO_LONG", f"{field} is too long (max {max_chars} characters"
                           + (f", {max_words} words)" if max_words else ")"), self.loc(i, field), value))
        elif any(c in value for c in "<>^") or any(ord(c) < 32 for c in value):
            errs.append(_e("malformedValueError", "FORBIDDEN_CHARS", f"{field} contains forbidden characters",
                           self.loc(i, field), value))

    def date(self, errs, i, field, value, not_past=False):
        try:
            d = dt.date.fromisoformat(value) if isinstance(value, str) and re.match(
                r"^\d{4}-\d{2}-\d{2}$", value) else None
        except ValueError:
            d = None
        if d is None:
            errs.append(_e("malformedValueError", "PATTERN_NOT_MATCHED", f"{field} must be YYYY-MM-DD",
                           self.loc(i, field), value))
            return None
        if not_past and d < self.today:
            errs.append(_e("dateError", "INVALID_DATE",
                           f"{field} cannot be in the past", self.loc(i, field), value))
        return d

    def budget(self, errs, i, value):
        if not isinstance(value, dict):
            errs.append(_e("malformedValueError", "PATTERN_NOT_MATCHED", "budget must be an object",
                           self.loc(i, "budget"), value))
            return
        if value.get("budget") is None:
            errs.append(_e("missingValueError", "MISSING_VALUE", "budget.budget is required",
                           self.loc(i, "budget.budget")))
        elif not _num(value["budget"]):
            errs.append(_e("malformedValueError", "PATTERN_NOT_MATCHED", "budget must be a number",
                           self.loc(i, "budget.budget"), value["budget"]))
        else:
            lo, hi = BUDGET_LIMITS.get(self.country, DEFAULT_BUDGET_LIMITS)
            b = value["budget"]
            if not lo <= b <= hi:
                errs.append(_e("rangeError", "TOO_LOW" if b < lo else "TOO_HIGH",
                               f"budget must be between {lo} and {hi}", self.loc(i, "budget.budget"), b,
                               lowerLimit=str(lo), upperLimit=str(hi)))
        if value.get("budgetType") is None:
            errs.append(_e("missingValueError", "MISSING_VALUE", "budget.budgetType is required",
                           self.loc(i, "budget.budgetType")))
        else:
            self.enum(errs, i, "budget.budgetType", value["budgetType"], ["DAILY"])

    def dynamic_bidding(self, errs, i, value, create: bool):
        if not isinstance(value, dict):
            errs.append(_e("malformedValueError", "PATTERN_NOT_MATCHED", "dynamicBidding must be an object",
                           self.loc(i, "dynamicBidding"), value))
            return
        if value.get("strategy") is None and create:
            errs.append(_e("missingValueError", "MISSING_VALUE", "dynamicBidding.strategy is required",
                           self.loc(i, "dynamicBidding.strategy")))
        elif value.get("strategy") is not None:
            self.enum(errs, i, "dynamicBidding.strategy", value["strategy"], STRATEGIES)
        pb = value.get("placementBidding", [])
        if not isinstance(pb, list):
            errs.append(_e("malformedValueError", "PATTERN_NOT_MATCHED", "placementBidding must be a list",
                           self.loc(i, "dynamicBidding.placementBidding"), pb))
            return
        for j, p in enumerate(pb):
            f = f"dynamicBidding.placementBidding[{j}]"
            if not isinstance(p, dict):
                errs.append(_e("malformedValueError", "PATTERN_NOT_MATCHED", "must be an object", self.loc(i, f), p))
                continue
            self.enum(errs, i, f + ".placement", p.get("placement"), PLACEMENTS)
            pct = p.get("percentage")
            lo, hi = PLACEMENT_PERCENT
            if not isinstance(pct, int) or isinstance(pct, bool):
                errs.append(_e("malformedValueError", "PATTERN_NOT_MATCHED", "percentage must be an integer",
                               self.loc(i, f + ".percentage"), pct))
            elif not lo <= pct <= hi:
                errs.append(_e("rangeError", "TOO_LOW" if pct < lo else "TOO_HIGH",
                               f"percentage must be between {lo} and {hi}", self.loc(i, f + ".percentage"), pct,
                               lowerLimit=str(lo), upperLimit=str(hi)))

    def parents(self, errs, i, item):
        cid, agid = str(item.get("campaignId")), item.get("adGroupId")
        camp = self.campaigns.get(cid)
        if camp is None:
            errs.append(_e("entityNotFoundError", "ENTITY_NOT_FOUND", f"Campaign {cid} not found",
                           self.loc(i, "campaignId"), cid, entityId=cid, entityType="CAMPAIGN"))
            return
        if camp.get("state") == "ARCHIVED":
            errs.append(_e("entityStateError", "PARENT_ENTITY_FORBIDS_CREATION", f"Campaign {cid} is archived",
                           self.loc(i, "campaignId"), cid, entityType="CAMPAIGN"))
        if self.kind == "adGroups":
            return
        ag = self.ad_groups.get(str(agid))
        if ag is None or str(ag.get("campaignId")) != cid:
            errs.append(_e("entityNotFoundError", "ENTITY_NOT_FOUND", f"Ad group {agid} not found in campaign {cid}",
                           self.loc(i, "adGroupId"), agid, entityId=str(agid), entityType="AD_GROUP"))
        elif ag.get("state") == "ARCHIVED":
            errs.append(_e("entityStateError", "PARENT_ENTITY_FORBIDS_CREATION", f"Ad group {agid} is archived",
                           self.loc(i, "adGroupId"), agid, entityType="AD_GROUP"))

    def fields(self, errs, i, item, create: bool):
        k = self.kind
        if "state" in item:
            self.enum(errs, i, "state", item["state"], WRITE_STATES)
        if k == "campaigns":
            if "name" in item:
                self.text(errs, i, "name", item["name"], NAME_MAX_CHARS)
            if create:
                self.enum(errs, i, "targetingType", item.get("targetingType"), TARGETING_TYPES)
            if "budget" in item:
                self.budget(errs, i, item["budget"])
            start = self.date(errs, i, "startDate", item["startDate"], not_past=create) if item.get(
                "startDate") is not None else None
            if item.get("endDate") is not None:
                end = self.date(errs, i, "endDate", item["endDate"])
                if start and end and end < start:
                    errs.append(_e("dateError", "INVALID_DATE", "endDate must be on or after startDate",
                                   self.loc(i, "endDate"), item["endDate"]))
            if item.get("dynamicBidding") is not None:
                self.dynamic_bidding(errs, i, item["dynamicBidding"], create)
        elif k == "adGroups":
            if "name" in item:
                self.text(errs, i, "name", item["name"], 255)
            if "defaultBid" in item:
                self.bid(errs, i, "defaultBid", item["defaultBid"])
        elif k in ("keywords", "negativeKeywords"):
            if create:
                self.text(errs, i, "keywordText", item.get("keywordText"), KEYWORD_MAX_CHARS, KEYWORD_MAX_WORDS)
                self.enum(errs, i, "matchType", item.get("matchType"),
                          MATCH_TYPES if k == "keywords" else NEGATIVE_MATCH_TYPES)
            if item.get("bid") is not None and k == "keywords":
                self.bid(errs, i, "bid", item["bid"])
        elif k == "targets":
            if item.get("bid") is not None:
                self.bid(errs, i, "bid", item["bid"])
            if create or "expressionType" in item:
                self.enum(errs, i, "expressionType", item.get("expressionType"), ["MANUAL"])
            if create or "expression" in item:
                ex = item.get("expression")
                if not isinstance(ex, list) or not ex:
                    errs.append(_e("malformedValueError", "PATTERN_NOT_MATCHED",
                                   "expression must be a non-empty list", self.loc(i, "expression"), ex))
                else:
                    for j, p in enumerate(ex):
                        t = p.get("type") if isinstance(p, dict) else None
                        self.enum(errs, i, f"expression[{j}].type", t, PREDICATES)
        elif k == "productAds" and create:
            if not item.get("sku") and not item.get("asin"):
                errs.append(_e("missingValueError", "MISSING_VALUE", "sku (sellers) or asin (vendors) is required",
                               self.loc(i, "sku")))

    def create(self, i: int, item, seen: set) -> list[dict]:
        errs: list[dict] = []
        if not isinstance(item, dict):
            return [_e("malformedValueError", "PATTERN_NOT_MATCHED", "item must be an object", self.loc(i, ""))]
        for f in REQUIRED[self.kind]:
            if item.get(f) is None:
                errs.append(_e("missingValueError", "MISSING_VALUE", f"{f} is required", self.loc(i, f)))
        if errs:
            return errs
        self.fields(errs, i, item, create=True)
        if self.kind != "campaigns":
            self.parents(errs, i, item)
        if errs:
            return errs
        key = self.dup_key(item)
        existing = {self.dup_key(e) for e in self.existing.values() if e.get("state") != "ARCHIVED"}
        if key is not None and (key in existing or key in seen):
            reason = "NAME_NOT_UNIQUE" if self.kind in ("campaigns", "adGroups") else "DUPLICATE_VALUE"
            errs.append(_e("duplicateValueError", reason, f"An identical {self.meta['entity']} already exists",
                           self.loc(i, "name" if reason == "NAME_NOT_UNIQUE" else "keywordText"), None))
        seen.add(key)
        return errs

    def dup_key(self, e):
        k = self.kind
        if k == "campaigns":
            return ("c", (e.get("name") or "").lower())
        if k == "adGroups":
            return ("a", str(e.get("campaignId")), (e.get("name") or "").lower())
        if k in ("keywords", "negativeKeywords"):
            return ("k", str(e.get("adGroupId")), (e.get("keywordText") or "").lower(), e.get("matchType"))
        if k == "targets":
            return ("t", str(e.get("adGroupId")), json.dumps(e.get("expression"), sort_keys=True))
        return ("p", str(e.get("adGroupId")), e.get("sku"), e.get("asin"))

    def update(self, i: int, item, seen: set) -> list[dict]:
        idk = self.meta["id"]
        if not isinstance(item, dict):
            return [_e("malformedValueError", "PATTERN_NOT_MATCHED", "item must be an object", self.loc(i, ""))]
        eid = item.get(idk)
        if eid is None:
            return [_e("missingValueError", "MISSING_VALUE", f"{idk} is required", self.loc(i, idk))]
        eid = str(eid)
        cur = self.existing.get(eid)
        if cur is None:
            return [_e("entityNotFoundError", "ENTITY_NOT_FOUND", f"{self.meta['etype']} {eid} not found",
                       self.loc(i, idk), eid, entityId=eid, entityType=self.meta["etype"])]
        if eid in seen:
            return [_e("duplicateValueError", "DUPLICATE_VALUE", f"{idk} {eid} appears more than once",
                       self.loc(i, idk), eid)]
        seen.add(eid)
        if cur.get("state") == "ARCHIVED":
            return [_e("entityStateError", "ARCHIVED_ENTITY_CANNOT_BE_MODIFIED",
                       f"{self.meta['etype']} {eid} is archived and cannot be modified", self.loc(i, idk), eid,
                       entityType=self.meta["etype"])]
        errs: list[dict] = []
        self.fields(errs, i, item, create=False)
        if self.kind == "campaigns" and "name" in item and not errs:
            others = {(c.get("name") or "").lower() for c in self.existing.values()
                      if c.get("state") != "ARCHIVED" and str(c["campaignId"]) != eid}
            if item["name"].lower() in others:
                errs.append(_e("duplicateValueError", "NAME_NOT_UNIQUE", "campaign name already in use",
                               self.loc(i, "name"), item["name"]))
        return errs


def _envelope(req: Request, kind: str, body) -> list:
    meta = KINDS[kind]
    if not isinstance(body, dict) or not isinstance(body.get(meta["env"]), list):
        raise invalid_argument([f"Value null at '{meta['env']}' failed to satisfy constraint: Member must not be "
                                "null"])
    items = body[meta["env"]]
    if len(items) > MAX_BATCH or not items:
        raise invalid_argument([f"Value at '{meta['env']}' failed to satisfy constraint: Member must have length "
                                f"between 1 and {MAX_BATCH}"])
    return items


def _result(req: Request, state: SandboxState, kind: str, ok: list[tuple[int, dict]], errors: list) -> Response:
    meta = KINDS[kind]
    represent = "return=representation" in (req.header("Prefer") or "").replace(" ", "").lower()
    success = []
    for i, ent in sorted(ok, key=lambda t: t[0]):
        item = {"index": i, meta["success_id"]: str(ent[meta["id"]])}
        if represent:
            item[meta["entity"]] = _strip(ent, False)
        success.append(item)
    errors.sort(key=lambda e: e["index"])
    return Response(207, {meta["env"]: {"success": success, "error": errors}}, content_type=negotiate(req, meta["vnd"]))


def mutate_entities(state: SandboxState, req: Request, m) -> Response:
    kind = m.group(1)
    meta = KINDS[kind]
    ctx = ads_auth(state, req, "ads")
    content_type_ok(req, meta["vnd"])
    negotiate(req, meta["vnd"])
    items = _envelope(req, kind, read_json_body(req, "ads", {}))
    create = req.method == "POST"
    ok, errors = [], []
    with state.lock:
        v = _Validator(state, ctx, kind)
        seen: set = set()
        valid = []
        for i, item in enumerate(items):
            errs = v.create(i, item, seen) if create else v.update(i, item, seen)
            if errs:
                errors.append({"index": i, "errors": errs})
            else:
                valid.append((i, item))
        if create and valid:
            clean = []
            for _, item in valid:
                c = {k: val for k, val in item.items() if k in CREATABLE[kind]}
                if kind == "campaigns":
                    c.setdefault("startDate", v.today.isoformat())
                    c.setdefault("dynamicBidding", {"strategy": "LEGACY_FOR_SALES", "placementBidding": []})
                for f in ("campaignId", "adGroupId"):
                    if f in c:
                        c[f] = str(c[f])
                clean.append(c)
            created = state.world.create_entities(ctx.profile_id, kind, clean)
            ok = [(i, ent) for (i, _), ent in zip(valid, created)]
        else:
            for i, item in valid:
                changes = {k: val for k, val in item.items() if k in UPDATABLE[kind]}
                ent = state.world.update_entity(ctx.profile_id, kind, str(item[meta["id"]]), changes)
                ok.append((i, ent))
    return _result(req, state, kind, ok, errors)


def archive_entities(state: SandboxState, req: Request, m) -> Response:
    kind = m.group(1)
    meta = KINDS[kind]
    ctx = ads_auth(state, req, "ads")
    content_type_ok(req, meta["vnd"])
    negotiate(req, meta["vnd"])
    body = read_json_body(req, "ads", {})
    f = body.get(meta["filter"]) if isinstance(body, dict) else None
    ids = f.get("include") if isinstance(f, dict) else None
    if not isinstance(ids, list):
        raise invalid_argument([f"Value null at '{meta['filter']}' failed to satisfy constraint: Member must not "
                                "be null"])
    if not ids or len(ids) > MAX_BATCH:
        raise invalid_argument([f"Value at '{meta['filter']}.include' failed to satisfy constraint: Member must "
                                f"have length between 1 and {MAX_BATCH}"])
    ok, errors = [], []
    loc = f"$.{meta['filter']}.include"
    with state.lock:
        existing = {str(e[meta["id"]]): e for e in state.world.entities(ctx.profile_id, kind)}
        seen = set()
        for i, eid in enumerate(ids):
            eid = str(eid)
            cur = existing.get(eid)
            if cur is None:
                errors.append({"index": i, "errors": [_e("entityNotFoundError", "ENTITY_NOT_FOUND",
                                                         f"{meta['etype']} {eid} not found", f"{loc}[{i}]", eid,
                                                         entityId=eid, entityType=meta["etype"])]})
            elif eid in seen:
                errors.append({"index": i, "errors": [_e("duplicateValueError", "DUPLICATE_VALUE",
                                                         f"{eid} appears more than once", f"{loc}[{i}]", eid)]})
            elif cur.get("state") == "ARCHIVED":
                errors.append({"index": i, "errors": [_e("entityStateError", "ARCHIVED_ENTITY_CANNOT_BE_MODIFIED",
                                                         f"{meta['etype']} {eid} is already archived",
                                                         f"{loc}[{i}]", eid, entityType=meta["etype"])]})
            else:
                seen.add(eid)
                ok.append((i, state.world.archive_entity(ctx.profile_id, kind, eid)))
    return _result(req, state, kind, ok, errors)
