"""The response curve on synthetic data with a known curve: clicks = A (1 - exp(-bid / c)), CPC = kappa x bid."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from services.optimizer.response_curve import (
    daily_bids,
    fit_curve,
    level_from_impressions,
    pool_levels,
    profit_maximising_bid,
)

A, C, KAPPA = 40.0, 0.8, 0.75


def synthetic(bids, seed=0, a=A, c=C, kappa=KAPPA):
    rng = np.random.default_rng(seed)
    bids = np.asarray(bids, dtype=float)
    clicks = rng.poisson(a * (1 - np.exp(-bids / c)))
    cost = clicks * bids * kappa * rng.uniform(0.95, 1.05, len(bids))
    return bids, clicks, cost


def brute_force_best(v, c, kappa):
    grid = np.linspace(0.001, v / kappa, 200_001)
    return float(grid[np.argmax((1 - np.exp(-grid / c)) * (v - kappa * grid))])


@pytest.mark.parametrize("v", [0.3, 1.0, 2.5, 6.0])
def test_best_bid_solves_the_first_order_condition(v):
    best = profit_maximising_bid(v, C, KAPPA)
    assert best == pytest.approx(brute_force_best(v, C, KAPPA), rel=1e-3)
    assert 0 < best < v / KAPPA  # always below break-even
    assert profit_maximising_bid(0.0, C, KAPPA) == 0.0


def test_history_with_moving_bids_recovers_the_curve():
    """Four weeks at each of 0.4, 0.8, 1.6 (a bid changed twice): c, A and kappa come back within a few per cent,
    and the best bid for a click worth 1.50 is within 10 % of the truth, even from a prior 2x off."""
    bids = np.repeat([1.6, 0.8, 0.4], 28)
    b, k, cost = synthetic(bids, seed=1)
    est = fit_curve(b, k, cost, prior_level=2 * C)
    assert est.source == "history"
    assert est.level == pytest.approx(C, rel=0.15)
    assert est.ceiling == pytest.approx(A, rel=0.1)
    assert est.cpc_ratio == pytest.approx(KAPPA, rel=0.05)
    true_best = profit_maximising_bid(1.5, C, KAPPA)
    assert est.best_bid(1.5) == pytest.approx(true_best, rel=0.1)
    assert est.log_sd < 0.2


def test_constant_bid_keeps_the_prior_and_says_it_is_unsure():
    b, k, cost = synthetic(np.full(30, 1.2), seed=2)
    est = fit_curve(b, k, cost, prior_level=0.9)
    assert est.source == "recommendation"
    assert est.level == pytest.approx(0.9, rel=0.25)
    assert est.log_sd > 0.2
    weak = fit_curve(b, k, cost)  # no recommendation: centred on the bid, wide
    assert weak.source == "prior" and weak.log_sd > 0.5


def test_the_estimate_moves_the_bid_toward_the_optimum_from_either_side():
    """Over-bid 2x and under-bid 2x: the curve's best bid is on the right side of the current bid."""
    v = 1.2
    best = profit_maximising_bid(v, C, KAPPA)
    for start in (2 * best, best / 2):
        bids = np.concatenate([np.full(14, start), np.full(14, start * 1.2), np.full(14, start / 1.2)])
        est = fit_curve(*synthetic(bids, seed=3), prior_level=C * 1.1)
        assert (est.best_bid(v) - start) * (best - start) > 0
        assert est.best_bid(v) == pytest.approx(best, rel=0.2)


def test_level_from_amazons_impression_curve():
    bids = [0.3, 0.56, 0.8, 1.12, 1.6]
    imps = [int(700 * (1 - math.exp(-x / C))) for x in bids]
    assert level_from_impressions(list(zip(bids, imps))) == pytest.approx(C, rel=0.05)
    assert level_from_impressions([(0.5, 10), (1.0, 20)]) is None


def test_pooling_moves_thin_targets_toward_their_group_and_keeps_sure_ones():
    frame = pd.DataFrame(
        {
            "group": ["g", "g", "g", "h"],
            "level": [1.0, 1.0, 3.0, 3.0],
            "log_sd": [0.05, 0.05, 1.0, 0.05],
        }
    )
    pooled = pool_levels(frame)
    assert pooled[0] == pytest.approx(1.0, rel=0.02)
    assert 1.0 < pooled[2] < 1.5  # the thin one in g is pulled most of the way to g's level
    assert pooled[3] == pytest.approx(3.0, rel=0.02)


def test_daily_bids_from_the_change_history():
    days = pd.DataFrame(
        {"entity_id": ["k"] * 5 + ["j"], "date": pd.date_range("2026-11-01", periods=5).tolist() + ["2026-11-01"]}
    )
    changes = pd.DataFrame(
        {
            "entity_id": ["k", "k"],
            "change_type": ["bid", "bid"],
            "applied_at": ["2026-11-02T10:00:00+00:00", "2026-11-04T10:00:00+00:00"],
            "old_value": ["2.0", "1.5"],
            "new_value": ["1.5", "1.0"],
        }
    )
    got = daily_bids(days, changes, {"k": 1.0, "j": 0.7}).tolist()
    assert got == [2.0, 1.5, 1.5, 1.0, 1.0, 0.7]
