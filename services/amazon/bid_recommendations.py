"""Amazon's theme-based bid recommendations (``POST /sp/targets/bid/recommendations``, v5 with analysis) as plain
records: the suggested range per targeting expression and, where Amazon sends it, the impressions it expects at
each analysed bid. The optimizer uses the range as a prior on where the auction is (see
``services.optimizer.response_curve``); the impression curve tells how steeply traffic answers a bid change."""

from __future__ import annotations

from dataclasses import dataclass, field

MEDIA_V5 = "application/vnd.spthemebasedbidrecommendation.v5+json"
MAX_EXPRESSIONS = 100

# our entity's match type -> Amazon's targeting-expression type for a keyword
KEYWORD_EXPRESSION = {"EXACT": "KEYWORD_EXACT_MATCH", "PHRASE": "KEYWORD_PHRASE_MATCH", "BROAD": "KEYWORD_BROAD_MATCH"}


@dataclass(frozen=True)
class BidRecommendation:
    """One targeting expression's suggested range; `impressions` holds (bid, expected impressions a week) for ALL."""

    expression_type: str
    value: str
    low: float
    suggested: float
    high: float
    impressions: tuple[tuple[float, int], ...] = field(default=())


def keyword_expression(text: str, match_type: str) -> dict:
    """The targeting expression Amazon wants for one of our keywords."""
    return {"type": KEYWORD_EXPRESSION[str(match_type).upper()], "value": text}


def request_body(campaign_id: str, ad_group_id: str, expressions: list[dict]) -> dict:
    return {
        "recommendationType": "BIDS_FOR_EXISTING_AD_GROUP",
        "campaignId": str(campaign_id),
        "adGroupId": str(ad_group_id),
        "targetingExpressions": expressions,
        "includeAnalysis": True,
    }


def parse(payload: object) -> list[BidRecommendation]:
    """Plain records from a v4/v5 response; anything unreadable is left out rather than guessed."""
    out: list[BidRecommendation] = []
    if not isinstance(payload, dict):
        return out
    for theme in payload.get("bidRecommendations") or []:
        curves: dict[tuple[str, str], tuple] = {}
        for a in theme.get("bidAnalysesForTargetingExpressions") or []:
            expr = a.get("targetingExpression") or {}
            points = ((a.get("bidAnalyses") or {}).get("ALL")) or []
            curve = tuple(
                sorted(
                    (float(p["bid"]), int(p["impactMetrics"]["estimatedImpressionAvg"]))
                    for p in points
                    if "bid" in p and "estimatedImpressionAvg" in (p.get("impactMetrics") or {})
                )
            )
            curves[(expr.get("type", ""), (expr.get("value") or "").lower())] = curve
        for rec in theme.get("bidRecommendationsForTargetingExpressions") or []:
            expr = rec.get("targetingExpression") or {}
            bids = sorted(float(b["suggestedBid"]) for b in rec.get("bidValues") or [] if "suggestedBid" in b)
            if not bids:
                continue
            key = (expr.get("type", ""), (expr.get("value") or "").lower())
            out.append(
                BidRecommendation(
                    expression_type=key[0],
                    value=expr.get("value") or "",
                    low=bids[0],
                    suggested=bids[len(bids) // 2],
                    high=bids[-1],
                    impressions=curves.get(key, ()),
                )
            )
        break  # one theme (CONVERSION_OPPORTUNITIES) is enough: a second is an event theme like PRIME_DAY
    return out
