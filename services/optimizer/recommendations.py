"""Amazon's bid recommendations for the targets the bid rule may change, as the prior of their response curves.

Kept apart from the rules (which do no I/O): the caller (autopilot, the evaluation) asks Amazon once per run and puts
the frame on ``OptimizerInput.bid_recommendations``. A failure to ask costs only the prior, never the run."""

from __future__ import annotations

import logging
import re

import pandas as pd

from services.amazon.bid_recommendations import KEYWORD_EXPRESSION
from services.errors import DashboardError
from services.optimizer.model import OptimizerInput, target_clicks
from services.optimizer.response_curve import level_from_impressions

logger = logging.getLogger(__name__)

COLUMNS = ["entity_id", "low", "suggested", "high", "level"]
_AUTO = {
    "query_high_rel_matches": "CLOSE_MATCH",
    "query_broad_rel_matches": "LOOSE_MATCH",
    "asin_substitute_related": "SUBSTITUTES",
    "asin_accessory_related": "COMPLEMENTS",
}
_ASIN = re.compile(r'asin_same_as="([^"]+)"', re.IGNORECASE)


def expression_for(kind: str, text: str | None, match_type: str | None) -> dict | None:
    """The targeting expression Amazon wants for one of our keywords or targets (None: not one it recommends for)."""
    text = (text or "").strip()
    if kind == "keyword":
        mt = str(match_type or "").upper()
        return {"type": KEYWORD_EXPRESSION[mt], "value": text} if mt in KEYWORD_EXPRESSION and text else None
    low = text.lower()
    if low in _AUTO:
        return {"type": _AUTO[low]}
    m = _ASIN.fullmatch(text)
    return {"type": "PAT_ASIN", "value": m.group(1)} if m else None


def fetch_bid_recommendations(client, inp: OptimizerInput, min_clicks: int = 1) -> pd.DataFrame:
    """One call per ad group (100 expressions at a time) for its enabled keywords and targets with clicks."""
    if inp.entities.empty:
        return pd.DataFrame(columns=COLUMNS)
    ent = inp.entities.copy()
    ent["entity_id"] = ent["entity_id"].astype(str)
    ent = ent[ent["state"].astype(str).str.lower() == "enabled"]
    clicked = target_clicks(inp)
    if not clicked.empty and min_clicks > 0:
        ent = ent[ent["entity_id"].map(clicked).fillna(0) >= min_clicks]
    rows = []
    for (cid, agid), g in ent.groupby(["campaign_id", "ad_group_id"]):
        pairs = [(r.entity_id, expression_for(r.kind, r.text, r.match_type)) for r in g.itertuples(index=False)]
        pairs = [(e, x) for e, x in pairs if x is not None]
        if not pairs:
            continue
        try:
            recs = client.bid_recommendations(inp.profile_id, str(cid), str(agid), [x for _, x in pairs])
        except DashboardError as exc:  # the prior is optional: the bid rule falls back to its own history
            logger.info("bid recommendations unavailable for one ad group: %s", type(exc).__name__)
            continue
        by_key = {(r.expression_type, r.value.lower()): r for r in recs}
        for eid, x in pairs:
            r = by_key.get((x["type"], (x.get("value") or "").lower()))
            if r is None:
                continue
            level = level_from_impressions(list(r.impressions)) or r.suggested
            rows.append({"entity_id": eid, "low": r.low, "suggested": r.suggested, "high": r.high, "level": level})
    return pd.DataFrame(rows, columns=COLUMNS)
