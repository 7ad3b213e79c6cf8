"""``/v2/profiles`` and Sponsored Products v3 list (reference sections 3 and 4, SponsoredProducts.json).

Paging: ``maxResults`` defaults to, and may not exceed, MAX_PAGE_SIZE = 1000.  The spec only says
"Defaults to max page size for given API" for these lists; its one explicit figure for a sibling SP list
is "Defaults to 1000", maximum 1000, and its id filters cap at 1000 too.  ``nextToken`` is opaque, bound to
the filters of the first request, and left out on the last page.
"""

from __future__ import annotations

import base64
import hashlib
import json

from sandbox.ads_schema import (
    KINDS,
    MATCH_TYPES,
    MAX_PAGE_SIZE,
    NEGATIVE_MATCH_TYPES,
    QUERY_MATCH,
    READ_STATES,
    TARGETING_TYPES,
    _enum_problem,
    _java,
    _strip,
    content_type_ok,
    invalid_argument,
    negotiate,
)
from sandbox.protocol import COUNTRY_REGION, Request, Response, SandboxState, ads_auth, read_json_body


# --------------------------------------------------------------------------------------------- profiles
def list_profiles(state: SandboxState, req: Request, m) -> Response:
    ctx = ads_auth(state, req, "ads", need_scope=False)
    problems = []
    for name, allowed in (
        ("apiProgram", ["billing", "campaign", "paymentMethod", "store", "report", "account", "posts"]),
        ("accessLevel", ["edit", "view"]),
        ("validPaymentMethodFilter", ["true", "false"]),
    ):
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
    return Response(
        404, {"code": "NOT_FOUND", "message": f"Profile {pid} not found", "details": f"Profile {pid} not found"}
    )


# --------------------------------------------------------------------------------------------- list
def _id_filter(body, name, limit, problems) -> set[str] | None:
    f = body.get(name)
    if f is None:
        return None
    inc = f.get("include") if isinstance(f, dict) else None
    if not isinstance(inc, list) or not all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in inc):
        problems.append(
            f"Value '{_java(inc if isinstance(f, dict) else f)}' at '{name}.include' failed to "
            "satisfy constraint: Member must be a list of entity ids"
        )
        return None
    if len(inc) > limit:
        problems.append(
            f"Value '{_java(inc[:3])}...' at '{name}.include' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limit}"
        )
    return {str(x) for x in inc}


def _enum_filter(value, location, allowed, problems, limit=None) -> set[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(x, str) and x in allowed for x in value):
        problems.append(_enum_problem(value, location, allowed))
        return None
    if limit and len(value) > limit:
        problems.append(
            f"Value '{_java(value)}' at '{location}' failed to satisfy constraint: Member must have "
            f"length less than or equal to {limit}"
        )
    return set(value)


def _text_filter(body, name, problems, require_match_type: bool):
    f = body.get(name)
    if f is None:
        return None
    if (
        not isinstance(f, dict)
        or not isinstance(f.get("include", []), list)
        or not all(isinstance(x, str) for x in f.get("include", []))
    ):
        problems.append(
            f"Value '{_java(f)}' at '{name}' failed to satisfy constraint: Member must be an object "
            "with an include list of strings"
        )
        return None
    mt = f.get("queryTermMatchType")
    if mt is None and require_match_type:
        problems.append(
            f"Value null at '{name}.queryTermMatchType' failed to satisfy constraint: Member must not be null"
        )
        return None
    if mt is not None and mt not in QUERY_MATCH:
        problems.append(_enum_problem(mt, f"{name}.queryTermMatchType", QUERY_MATCH))
        return None
    if len(f.get("include", [])) > 100:
        problems.append(
            f"Value at '{name}.include' failed to satisfy constraint: Member must have length less than or equal to 100"
        )
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
    adg = (
        _id_filter(body, "adGroupIdFilter", 100, problems)
        if kind in ("keywords", "targets", "negativeKeywords", "productAds")
        else None
    )
    port = _id_filter(body, "portfolioIdFilter", 100, problems) if kind == "campaigns" else None
    sf = body.get("stateFilter")
    states = None
    if sf is not None:
        states = _enum_filter(
            sf.get("include") if isinstance(sf, dict) else sf, "stateFilter.include", READ_STATES, problems, limit=10
        )
    name_f = _text_filter(body, "nameFilter", problems, False) if kind in ("campaigns", "adGroups") else None
    text_name = {"keywords": "keywordTextFilter", "negativeKeywords": "negativeKeywordTextFilter"}.get(kind)
    text_f = _text_filter(body, text_name, problems, True) if text_name else None
    match_f = None
    if kind in ("keywords", "negativeKeywords"):
        match_f = _enum_filter(
            body.get("matchTypeFilter"),
            "matchTypeFilter",
            MATCH_TYPES if kind == "keywords" else NEGATIVE_MATCH_TYPES,
            problems,
        )
    expr_f = asin_f = ttype = None
    if kind == "targets":
        ef = body.get("expressionTypeFilter")
        if ef is not None:
            expr_f = _enum_filter(
                ef.get("include") if isinstance(ef, dict) else ef,
                "expressionTypeFilter.include",
                TARGETING_TYPES,
                problems,
            )
        asin_f = _text_filter(body, "asinFilter", problems, False)
    if kind == "adGroups" and body.get("campaignTargetingTypeFilter") is not None:
        ttype = body["campaignTargetingTypeFilter"]
        if ttype not in TARGETING_TYPES:
            problems.append(_enum_problem(ttype, "campaignTargetingTypeFilter", TARGETING_TYPES))
    max_results = body.get("maxResults", MAX_PAGE_SIZE)
    if not isinstance(max_results, int) or isinstance(max_results, bool) or not 1 <= max_results <= MAX_PAGE_SIZE:
        problems.append(
            f"Value '{_java(max_results)}' at 'maxResults' failed to satisfy constraint: Member must "
            f"have value between 1 and {MAX_PAGE_SIZE}"
        )
    ext = body.get("includeExtendedDataFields", False)
    if not isinstance(ext, bool):
        problems.append(
            f"Value '{_java(ext)}' at 'includeExtendedDataFields' failed to satisfy constraint: "
            "Member must be a boolean"
        )
    offset = 0
    token = body.get("nextToken")
    if token is not None:
        try:
            tok = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            offset = int(tok["o"])
            if tok["h"] != _token_hash(body) or tok["k"] != kind or offset < 0:
                raise ValueError
        except Exception:
            problems.append(
                f"Value '{token}' at 'nextToken' failed to satisfy constraint: Member must be a valid "
                "token returned by a previous request with the same filters"
            )
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
        if asin_f is not None and not any(
            asin_f(p.get("value")) for p in e.get("expression", []) if p.get("type") == "ASIN_SAME_AS"
        ):
            return False
        if ttype is not None and camp_types.get(e.get("campaignId")) != ttype:
            return False
        if body.get("locale") and e.get("nativeLanguageLocale") not in (None, body["locale"]):
            return False
        return True

    matched = [e for e in items if keep(e)]
    page = [_strip(e, ext) for e in matched[offset : offset + max_results]]
    out = {meta["env"]: page, "totalResults": len(matched)}
    if offset + max_results < len(matched):
        raw = json.dumps({"o": offset + max_results, "h": _token_hash(body), "k": kind}).encode()
        out["nextToken"] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return Response(200, out, content_type=ctype)
