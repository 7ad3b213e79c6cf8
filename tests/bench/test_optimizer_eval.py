"""The evaluation's scoring reads the optimizer's input in the form the loader gives it (search terms summed over
the rules' window, no daily rows): when the loader changed form, `bleeder_scores` raised KeyError and the
evaluation could not run, and nothing in `make test` noticed."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pandas as pd
import pytest

from bench.optimizer_eval import bleeder_scores
from services import optimizer as opt
from services.optimizer.model import OptimizerInput

AS_OF = date(2026, 11, 27)


class _World:
    """The two truth tables `bleeder_scores` reads, for one ad group with a never-converting term and a good one."""

    def truth_search_terms(self, pid: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "ad_group_id": ["G1", "G1"],
                "entity_id": ["K1", "K1"],
                "search_term": ["Leaky Mat", "cork yoga mat"],
                "true_cvr": [0.0, 0.10],
                "volume": [1.0, 3.0],
                "is_bleeder": [True, False],
            }
        )

    def truth_targets(self, pid: str) -> pd.DataFrame:
        return pd.DataFrame({"entity_id": ["K1"], "aov": [30.0], "margin": [0.4]})


def _input() -> OptimizerInput:
    window = opt.window(AS_OF, opt.Settings().search_term_lookback_days, opt.Settings().settling_days)
    totals = pd.DataFrame(
        {
            "campaign_id": ["C1", "C1"],
            "ad_group_id": ["G1", "G1"],
            "entity_id": ["K1", "K1"],
            "search_term": ["leaky mat", "cork yoga mat"],
            "match_type": ["BROAD", "BROAD"],
            "first_date": [window[0].isoformat()] * 2,
            "impressions": [2000, 6000],
            "clicks": [40, 120],
            "cost": [30.0, 90.0],
            "orders": [0, 12],
            "sales": [0.0, 360.0],
        }
    )
    entities = pd.DataFrame(
        [
            {
                "entity_id": "K1",
                "kind": "keyword",
                "campaign_id": "C1",
                "ad_group_id": "G1",
                "text": "yoga mat",
                "match_type": "BROAD",
                "state": "enabled",
                "bid": 1.0,
            }
        ]
    )
    return OptimizerInput(
        as_of=AS_OF, profile_id="P1", entities=entities, search_term_totals=totals, totals_window=window
    )


def test_negatives_scored_from_the_loaders_window_totals():
    arm = SimpleNamespace(world=_World(), pid="P1")
    found = pd.DataFrame({"type": ["negative"], "ad_group_id": ["G1"], "search_term": ["leaky mat"]})
    scores = bleeder_scores(arm, found, _input())
    # the one negative is the planted bleeder: 40 clicks x the ad group's true CVR (0.10) = 4 expected orders >= 3
    assert scores["precision"] == 1.0 and scores["recall"] == 1.0
    assert scores["recall_spend_weighted"] == 1.0 and scores["bleeders_visible"] == 1
    # of the true loss (the bleeder's $30; the good term earns 120 x 0.1 x 30 x 0.4 = $144 on $90), all was negated
    assert scores["loss_covered_share"] == pytest.approx(1.0)
    missed = bleeder_scores(arm, found.iloc[0:0], _input())
    assert missed["recall"] == 0.0 and missed["precision"] is None


def test_the_oracle_harvests_from_an_auto_campaign_into_a_manual_keyword_ad_group():
    """Amazon takes no keyword in an automatic campaign: a term harvested there goes into the live manual keyword
    ad group that sells most of the same products; a broad or phrase source keeps its own; none fits, none."""
    import numpy as np

    from bench.oracle import harvest_home

    T = {
        "camp_kind": np.array(["auto", "kw", "kw", "pt", "kw"], dtype=object),
        "camp_on": np.array([True, True, True, True, False]),
        # ad groups: 0 auto, 1 kw (product 1), 2 kw (products 1, 2), 3 pt (1, 2), 4 paused kw campaign (1, 2),
        # 5 auto selling product 9 only
        "ag_camp": np.array([0, 1, 2, 3, 4, 0]),
        "ag_on": np.array([True, True, True, True, True, True]),
        "ag_products": [{1, 2}, {1}, {1, 2}, {1, 2}, {1, 2}, {9}],
        "value_per_conv": np.array([5.0, 9.0, 4.0, 9.0, 9.0, 5.0]),
    }
    memo: dict[int, int] = {}
    assert harvest_home(T, 0, memo) == 2  # both products beat the higher value of one
    assert harvest_home(T, 1, memo) == 1  # a manual keyword source keeps the keyword
    assert harvest_home(T, 5, memo) == -1  # no manual keyword ad group sells product 9
