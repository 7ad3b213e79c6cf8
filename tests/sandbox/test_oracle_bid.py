"""The evaluation oracle's bid (bench/oracle.py) against the closed form derived from the sandbox's click model."""

from __future__ import annotations

import math

import numpy as np

from bench import oracle
from sandbox.constants import PLC_COMP, PLC_CVR


def _closed_form_bid(v: float, c: float, k: float) -> float:
    """Root of v / (0.75 c k) = x + e^x - 1 (one placement), by bisection; the bid is x c k."""
    rhs = v / (0.75 * c * k)
    lo, hi = 0.0, 50.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid + math.exp(mid) - 1 < rhs:
            lo = mid
        else:
            hi = mid
    return lo * c * k


def test_grid_optimum_lies_between_the_placements_closed_form_optima():
    """Three placements share one base bid; the optimum of their sum lies between each placement's own optimum."""
    comp = np.array([0.5, 0.8, 1.2])
    vpc0 = np.array([0.6, 1.5, 4.0])
    n = len(comp)
    grid = np.geomspace(0.02, 10, 4000)[None, :].repeat(n, 0)
    profit, _, _, _ = oracle.target_curves(
        np.full(n, 1000.0), comp, np.full(n, 0.002), np.ones(n, bool), vpc0, grid, np.zeros((n, 3))
    )
    best = grid[np.arange(n), np.argmax(profit, axis=1)]
    for i in range(n):
        own = [_closed_form_bid(vpc0[i] * PLC_CVR[j], comp[i], PLC_COMP[j]) for j in range(3)]
        assert all(b < vpc0[i] * PLC_CVR[j] / 0.75 for j, b in enumerate(own))  # never as high as break-even
        assert min(own) * 0.97 <= best[i] <= max(own) * 1.03


def test_bid_rises_with_value_and_the_oracle_grid_has_an_interior_optimum():
    n = 2
    args = (np.full(n, 500.0), np.full(n, 0.8), np.full(n, 0.002), np.zeros(n, bool), np.array([0.5, 2.0]))
    g = oracle._grid(args[4])
    profit, _, _, _ = oracle.target_curves(*args, g, np.zeros((n, 3)))
    k = np.argmax(profit, axis=1)
    assert g[1, k[1]] > g[0, k[0]]
    assert ((k > 0) & (k < g.shape[1] - 1)).all()
