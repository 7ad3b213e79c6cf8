"""``POST /sp/targets/bid/recommendations``: theme-based bid recommendations for an existing ad group.

Versions by media type (SponsoredProducts.json): v4 answers ``bidValues`` per targeting expression; v5 also
``bidAnalysesForTargetingExpressions`` when ``includeAnalysis`` is true. v3 and new-ad-group (ASIN) requests are
not served by the sandbox (415 / 400 with a sentence saying so). Errors use BidRecommendationError {code, details}.
The numbers come from ``bid_reco.py``.
"""

from __future__ import annotations

from sandbox import bid_reco
from sandbox.protocol import HttpError, Request, Response, SandboxState, ads_auth, read_json_body

VERSIONS = ("v4", "v5")
MEDIA = "application/vnd.spthemebasedbidrecommendation.{}+json"
MAX_EXPRESSIONS = 100


def _error(status: int, code: str, details: str, media: str = "application/json") -> HttpError:
    return HttpError(Response(status, {"code": code, "details": details}, content_type=media))


def _version(req: Request) -> str:
    mt = req.media_type
    for v in VERSIONS:
        if mt == MEDIA.format(v):
            return v
    raise _error(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        f"Unsupported Media Type: {mt or 'none'}; send {MEDIA.format('v4')} or {MEDIA.format('v5')}",
    )


def recommendations(state: SandboxState, req: Request, m) -> Response:
    ctx = ads_auth(state, req, "ads")
    version = _version(req)
    media = MEDIA.format(version)
    body = read_json_body(req, "ads", {})
    if not isinstance(body, dict):
        raise _error(400, "BAD_REQUEST", "The request body must be a JSON object", media)
    if body.get("recommendationType") != "BIDS_FOR_EXISTING_AD_GROUP":
        raise _error(
            400,
            "BAD_REQUEST",
            "recommendationType must be BIDS_FOR_EXISTING_AD_GROUP (the sandbox serves existing ad groups only)",
            media,
        )
    exprs = body.get("targetingExpressions")
    if not isinstance(exprs, list) or not exprs or len(exprs) > MAX_EXPRESSIONS:
        raise _error(400, "BAD_REQUEST", f"targetingExpressions must hold 1 to {MAX_EXPRESSIONS} items", media)
    allowed = set(bid_reco.AUTO_TYPE) | set(bid_reco.KEYWORD_MATCH) | {"PAT_ASIN", "PAT_CATEGORY", "KEYWORD_GROUP"}
    for i, e in enumerate(exprs):
        if not isinstance(e, dict) or e.get("type") not in allowed:
            raise _error(400, "BAD_REQUEST", f"targetingExpressions[{i}].type is not a supported type", media)
    pid = ctx.profile_id
    with state.lock:
        ag = state.world.get_entity(pid, "adGroups", str(body.get("adGroupId") or ""))
        if ag is None or str(ag.get("campaignId")) != str(body.get("campaignId")):
            raise _error(400, "BAD_REQUEST", "No ad group with that adGroupId in that campaignId", media)
        analysis = version == "v5" and body.get("includeAnalysis") is True
        out = bid_reco.recommend(state.world, pid, str(ag["adGroupId"]), exprs, analysis)
    return Response(200, out, content_type=media)
