"""Asking Amazon's bid recommendations for the bid rule: one call per ad group, expressions Amazon understands,
and a failed call costs only that ad group's prior."""

from __future__ import annotations

import pandas as pd

from services.amazon.bid_recommendations import BidRecommendation
from services.errors import AmazonUnavailable
from services.optimizer.model import OptimizerInput
from services.optimizer.recommendations import expression_for, fetch_bid_recommendations


def test_expressions_for_keywords_auto_and_asin_targets():
    assert expression_for("keyword", "yoga mat", "EXACT") == {"type": "KEYWORD_EXACT_MATCH", "value": "yoga mat"}
    assert expression_for("keyword", "yoga mat", "broad") == {"type": "KEYWORD_BROAD_MATCH", "value": "yoga mat"}
    assert expression_for("target", "query_high_rel_matches", None) == {"type": "CLOSE_MATCH"}
    assert expression_for("target", 'asin_same_as="B0ABCDEFGH"', None) == {"type": "PAT_ASIN", "value": "B0ABCDEFGH"}
    assert expression_for("target", 'asin_category_same_as="123"', None) is None


class FakeClient:
    def __init__(self):
        self.calls = []

    def bid_recommendations(self, profile_id, campaign_id, ad_group_id, expressions):
        self.calls.append((campaign_id, ad_group_id, [e.get("value") or e["type"] for e in expressions]))
        if ad_group_id == "G2":
            raise AmazonUnavailable("Amazon is unavailable")
        return [
            BidRecommendation(e["type"], e.get("value", ""), 0.5, 0.8, 1.1, ((0.4, 39), (0.8, 63), (1.6, 86)))
            for e in expressions
        ]


def test_one_call_per_ad_group_and_a_failure_costs_only_its_prior():
    ents = pd.DataFrame(
        [
            {
                "entity_id": "K1",
                "kind": "keyword",
                "campaign_id": "C1",
                "ad_group_id": "G1",
                "text": "a b",
                "match_type": "EXACT",
                "state": "enabled",
                "bid": 1.0,
            },
            {
                "entity_id": "T1",
                "kind": "target",
                "campaign_id": "C1",
                "ad_group_id": "G1",
                "text": "query_broad_rel_matches",
                "match_type": "TARGETING_EXPRESSION_PREDEFINED",
                "state": "enabled",
                "bid": 1.0,
            },
            {
                "entity_id": "K2",
                "kind": "keyword",
                "campaign_id": "C2",
                "ad_group_id": "G2",
                "text": "c d",
                "match_type": "PHRASE",
                "state": "enabled",
                "bid": 1.0,
            },
            {
                "entity_id": "K3",
                "kind": "keyword",
                "campaign_id": "C1",
                "ad_group_id": "G1",
                "text": "paused",
                "match_type": "EXACT",
                "state": "paused",
                "bid": 1.0,
            },
        ]
    )
    days = pd.DataFrame([{"entity_id": e, "clicks": 5} for e in ("K1", "T1", "K2", "K3")])
    client = FakeClient()
    out = fetch_bid_recommendations(
        client, OptimizerInput(as_of=pd.Timestamp("2026-11-01").date(), entities=ents, target_day=days)
    )
    assert sorted(c[1] for c in client.calls) == ["G1", "G2"]
    assert next(c for c in client.calls if c[1] == "G1")[2] == ["a b", "LOOSE_MATCH"]  # the paused one not asked
    assert sorted(out["entity_id"]) == ["K1", "T1"]
    assert (out["suggested"] == 0.8).all() and out["level"].between(0.75, 0.85).all()  # the curve of c = 0.8
