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
