"""The bid rule on its response curve: with Amazon's suggestion as the prior, a keyword 3x over its profit-maximising
bid is cut by more than the old ±20 %, says why in one sentence, and a keyword with no prior keeps the value bid."""

from __future__ import annotations

import pandas as pd
import pytest

from services import optimizer as opt
from services.optimizer import Settings, SettingsBook
from services.optimizer.response_curve import profit_maximising_bid
from tests.services.optimizer.test_rules import background, kw, make_input, target_rows

MARGIN = 0.4


def _inputs(recs: pd.DataFrame | None):
    rows, ents = background()
    # 200 clicks, 20 orders, AOV 30 at a bid of 2.00: a click earns about 30 x 0.1 x 0.4 = 1.20 before its cost
    rows += target_rows("K", 200, 20, 300.0, 600.0)
    ents.append(kw("K", 2.0))
    extra = {
        "margins": pd.DataFrame([{"asin": "A1", "margin": MARGIN}]),
        "product_ads": pd.DataFrame(
            [{"campaign_id": "C1", "ad_group_id": "G1", "asin": "A1", "sku": "S1", "state": "enabled"}]
        ),
    }
    if recs is not None:
        extra["bid_recommendations"] = recs
    return make_input(rows, ents, **extra)


def test_recommendation_prior_cuts_a_clearly_over_bid_keyword_fast():
    recs = pd.DataFrame([{"entity_id": "K", "low": 0.56, "suggested": 0.8, "high": 1.12, "level": 0.8}])
    out = opt.bid_suggestions(_inputs(recs), SettingsBook(Settings()))
    k = out[out["entity_id"] == "K"].iloc[0]
    assert k["rule"] == "bid_curve"
    best = profit_maximising_bid(k["cvr_shrunk"] * k["aov"] * MARGIN, 0.8)
    assert best < 0.8  # the optimum is far below the current 2.00 ...
    assert k["proposed_value"] < 2.0 * (1 - 0.3)  # ... and the step is longer than the old 20 % cap
    assert k["proposed_value"] >= 2.0 * (1 - Settings().max_step_sure) - 0.005
    assert "Amazon's suggested bid range" in k["reason"] and "profit peaks near" in k["reason"]
    assert k["expected_spend_change"] < 0


def test_with_nothing_known_about_the_auction_the_value_bid_decides():
    out = opt.bid_suggestions(_inputs(None), SettingsBook(Settings()))
    k = out[out["entity_id"] == "K"].iloc[0]
    assert k["rule"] == "bid_to_value"


def test_an_explicit_target_acos_is_the_sellers_goal_not_the_curve():
    recs = pd.DataFrame([{"entity_id": "K", "low": 0.56, "suggested": 0.8, "high": 1.12, "level": 0.8}])
    out = opt.bid_suggestions(_inputs(recs), SettingsBook(Settings(target_acos=0.3)))
    assert out[out["entity_id"] == "K"].iloc[0]["rule"] == "bid_to_value"


def test_siblings_without_a_recommendation_borrow_the_ad_groups_level():
    """The background keywords (bid 0.75, no recommendation, no bid change) pool toward K's known auction at 1.60."""
    recs = pd.DataFrame([{"entity_id": "K", "low": 1.1, "suggested": 1.6, "high": 2.2, "level": 1.6}])
    inp = _inputs(recs)
    from services.optimizer.bids import target_curves
    from services.optimizer.model import _in_window, _num, window

    start, end = window(inp.as_of, 30, 3)
    days = _num(_in_window(inp.target_day, start, end))
    for c in ("entity_id", "campaign_id", "ad_group_id"):
        days[c] = days[c].astype(str)
    curves = target_curves(inp, days)
    assert curves["K"].source == "recommendation"
    sib = curves["B0"]
    # as sure as K's level plus the spread between an ad group's keywords (too vague on its own to decide a bid)
    assert sib.source == "prior" and sib.log_sd == pytest.approx(curves["K"].log_sd + 0.4)
    assert 0.8 < sib.level < 1.6  # moved from its own bid toward the ad group's known auction
