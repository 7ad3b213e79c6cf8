"""Theme-based bid recommendations from the latent truth (``POST /sp/targets/bid/recommendations``, v4 and v5).

What Amazon's suggestion means, and so what the sandbox serves: the suggested bid is what wins the auction for the
target's traffic (other advertisers' bids), not what a click is worth to this seller; Amazon does not know the
seller's margins. In the sandbox a target's impressions at placement j follow ``1 - exp(-b_j / (c k_j))``
(``simulate.py``), so the auction's level is the competitor bid c: the SUGGESTED bid is c (the bid that wins
1 - 1/e ~ 63 % of the rest-of-search traffic) times log-normal noise (sigma SUGGESTED_NOISE, drawn once per
(seed, target, day) so a repeated call answers the same), with a range of RANGE_LOW..RANGE_HIGH around it.

v5 with ``includeAnalysis`` adds ``bidAnalyses``: estimated impressions a week at each analysed bid, per placement
and for ALL, from the same impression curve (no season, weekday or budget cap) with IMPACT_NOISE on the level, and
a lower / upper bound of -/+ IMPACT_BAND around it. A client that fits the curve's shape to these learns c.

A targeting expression is matched to the ad group's own keyword or target (type and value); one the ad group does
not have gets the ad group's volume-weighted competitor level (what a new target there would face).
"""

from __future__ import annotations

import math

import numpy as np

from .constants import PLC_COMP, PLC_VOL_KW, PLC_VOL_PT

THEME = "CONVERSION_OPPORTUNITIES"
SUGGESTED_NOISE = 0.15
RANGE_LOW, RANGE_HIGH = 0.7, 1.4
IMPACT_NOISE = 0.1
IMPACT_BAND = 0.2
ALTERNATIVE_MULTIPLES = (0.4, 2.0)  # analysed besides lower / suggested / upper
PLACEMENT_KEYS = ("PLACEMENT_TOP", "PLACEMENT_REST_OF_SEARCH", "PLACEMENT_PRODUCT_PAGE")
AUTO_TYPE = {
    "CLOSE_MATCH": "QUERY_HIGH_REL_MATCHES",
    "LOOSE_MATCH": "QUERY_BROAD_REL_MATCHES",
    "SUBSTITUTES": "ASIN_SUBSTITUTE_RELATED",
    "COMPLEMENTS": "ASIN_ACCESSORY_RELATED",
}
KEYWORD_MATCH = {"KEYWORD_EXACT_MATCH": "EXACT", "KEYWORD_PHRASE_MATCH": "PHRASE", "KEYWORD_BROAD_MATCH": "BROAD"}


def _matches(ent: dict, kind: str, expr: dict) -> bool:
    typ, value = expr.get("type"), (expr.get("value") or "").strip().lower()
    if kind == "keyword":
        return KEYWORD_MATCH.get(typ) == ent.get("matchType") and (ent.get("keywordText") or "").lower() == value
    parts = ent.get("expression") or []
    if typ in AUTO_TYPE:
        return any(x.get("type") == AUTO_TYPE[typ] for x in parts)
    if typ == "PAT_ASIN":
        return any(x.get("type") == "ASIN_SAME_AS" and (x.get("value") or "").lower() == value for x in parts)
    if typ == "PAT_CATEGORY":
        return any(x.get("type") == "ASIN_CATEGORY_SAME_AS" and (x.get("value") or "").lower() == value for x in parts)
    return False


def recommend(world, profile_id: str, ad_group_id: str, expressions: list[dict], analysis: bool) -> dict:
    """The response body for an existing ad group (ThemeBasedBidRecommendationResponseV4 / V5)."""
    p = world._p(profile_id)
    if p._dirty:
        p._rebuild()
    ai = p.ent_index["adGroups"][str(ad_group_id)]
    in_ag = [t for t in range(len(p.t_kind)) if int(p.s_tag[t]) == ai]
    vols = np.array([p.s_V[t] for t in in_ag]) if in_ag else np.zeros(0)
    comps = np.array([p.s_comp[t] for t in in_ag]) if in_ag else np.zeros(0)
    ag_comp = float((vols * comps).sum() / vols.sum()) if vols.sum() > 0 else float(np.median(p.s_comp))
    ag_vol = float(vols.mean()) if len(vols) else 0.0
    pct = p.s_pct[int(p.ag_camp[ai])]
    recs, analyses = [], []
    for n, expr in enumerate(expressions):
        t = next((t for t in in_ag if _matches(p.t_ent[t], p.t_kind[t], expr)), None)
        comp = float(p.s_comp[t]) if t is not None else ag_comp
        vol = float(p.s_V[t]) if t is not None else ag_vol
        pt = bool(p.s_pt[t]) if t is not None else expr.get("type") in ("SUBSTITUTES", "COMPLEMENTS", "PAT_ASIN")
        key = int(t) if t is not None else 10**6 + n
        rng = np.random.default_rng([world.seed, p.idx, key, world.today.toordinal(), 77])
        suggested = max(0.02, comp * math.exp(rng.normal(0.0, SUGGESTED_NOISE)))
        bids = [round(max(0.02, suggested * m), 2) for m in (RANGE_LOW, 1.0, RANGE_HIGH)]
        recs.append({"targetingExpression": expr, "bidValues": [{"suggestedBid": b} for b in bids]})
        if analysis:
            level = math.exp(rng.normal(0.0, IMPACT_NOISE))
            points = [(bids[0], "SUGGESTED_LOWER"), (bids[1], "SUGGESTED"), (bids[2], "SUGGESTED_UPPER")]
            points += [(round(max(0.02, suggested * m), 2), "ALTERNATIVE") for m in ALTERNATIVE_MULTIPLES]
            analyses.append({"targetingExpression": expr, "bidAnalyses": _analyses(points, comp, vol, pt, pct, level)})
    body = {"theme": THEME, "bidRecommendationsForTargetingExpressions": recs}
    if analysis:
        body["bidAnalysesForTargetingExpressions"] = analyses
    return {"bidRecommendations": [body]}


def _analyses(points, comp, vol, pt, pct, level) -> dict:
    """Estimated impressions a week at each bid, per placement and ALL (BidAnalysesPerPlacement)."""
    volshare = PLC_VOL_PT if pt else PLC_VOL_KW
    out: dict[str, list] = {k: [] for k in ("ALL", *PLACEMENT_KEYS)}
    for bid, typ in sorted(points):
        per = [
            7.0 * vol * volshare[j] * (1 - math.exp(-bid * (1 + pct[j] / 100.0) / (comp * PLC_COMP[j]))) * level
            for j in range(3)
        ]
        for key, imps in zip(("ALL", *PLACEMENT_KEYS), [sum(per), *per]):
            out[key].append(
                {
                    "bid": bid,
                    "type": typ,
                    "impactMetrics": {
                        "estimatedImpressionAvg": int(round(imps)),
                        "estimatedImpressionLower": int(round(imps * (1 - IMPACT_BAND))),
                        "estimatedImpressionUpper": int(round(imps * (1 + IMPACT_BAND))),
                    },
                }
            )
    return out
