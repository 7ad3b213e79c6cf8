"""How a target's clicks and cost per click answer its bid, and the bid that maximises expected profit.

Why a curve and not a fixed step: a value bid says where a bid should end up, but how far to move in one run depends
on how sure we are and on how clicks respond. An auction sells a target's traffic with diminishing returns:

    clicks(b) = A (1 - exp(-b / c))        A: clicks a day at an unlimited bid, c: the auction's level
    CPC(b)    = kappa b                     kappa: what a click costs as a share of the bid (second price, ~0.75)

With v the profit a click earns before its cost (CVR x AOV x break-even ACOS), profit(b) = clicks(b) (v - kappa b).
Setting its derivative to zero with x = b / c gives

    v / (kappa c) = x + e^x - 1,

one root, found by bisection: bid higher where a click is worth more, lower where the auction is dearer, and always
below the break-even bid v / kappa.

Estimating c. Every bid change is a natural experiment: days at different bids show how clicks moved. The fit is a
grid posterior over log c (Poisson clicks, A profiled out) times a log-normal prior. The prior is Amazon's suggested
bid (the auction's level, `services.amazon.bid_recommendations`) when we have it, else the target's own median bid
(weak: most bids sit near their auction). A target whose bid never moved learns nothing from its history and keeps
its prior; `pool_levels` then shrinks thin targets toward their ad group's level (similar keywords face similar
auctions), weighting each by how much its own data says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

KAPPA_PRIOR = 0.75  # CPC / bid in a second-price auction with typical runner-up bids
KAPPA_PSEUDO_CLICKS = 20.0
WEAK_PRIOR_SIGMA = 1.0  # log-sd of the prior "the auction sits near the current bid"
RECOMMENDATION_SIGMA = 0.35  # log-sd of Amazon's suggestion as a statement about the auction's level
GRID = 241
POOL_SPREAD = 0.4  # log-sd of levels between targets of one ad group


@dataclass(frozen=True)
class CurveEstimate:
    """One target's response curve; `log_sd` says how sure the level is (0.1 = within about ±10 %)."""

    level: float  # c
    ceiling: float  # A, clicks a day
    cpc_ratio: float  # kappa
    log_sd: float
    days: int
    source: str  # "history", "recommendation", "prior"

    def clicks(self, bid: float) -> float:
        return self.ceiling * (1.0 - math.exp(-max(bid, 0.0) / self.level))

    def cpc(self, bid: float) -> float:
        return self.cpc_ratio * bid

    def profit(self, bid: float, value_per_click: float) -> float:
        """Expected profit a day at `bid` (before fixed costs) when a click earns `value_per_click`."""
        return self.clicks(bid) * (value_per_click - self.cpc(bid))

    def best_bid(self, value_per_click: float) -> float:
        return profit_maximising_bid(value_per_click, self.level, self.cpc_ratio)


def profit_maximising_bid(value_per_click: float, level: float, cpc_ratio: float = KAPPA_PRIOR) -> float:
    """The root of v / (kappa c) = x + e^x - 1, times c (0 when a click earns nothing)."""
    if value_per_click <= 0 or level <= 0 or cpc_ratio <= 0:
        return 0.0
    r = value_per_click / (cpc_ratio * level)
    lo, hi = 0.0, max(1.0, math.log1p(r) + 1.0)
    for _ in range(60):
        mid = (lo + hi) / 2
        if mid + math.expm1(mid) < r:
            lo = mid
        else:
            hi = mid
    return level * (lo + hi) / 2


def level_from_impressions(points: list[tuple[float, float]]) -> float | None:
    """The level c of an impressions-by-bid curve I(b) = M (1 - exp(-b / c)) (Amazon's bid analysis), by a grid
    least-squares fit in log space; None with fewer than three usable points."""
    pts = [(float(b), float(n)) for b, n in points if b > 0 and n > 0]
    if len(pts) < 3:
        return None
    b = np.array([p[0] for p in pts])
    n = np.array([p[1] for p in pts])
    grid = np.geomspace(b.min() / 20, b.max() * 20, GRID)
    s = 1.0 - np.exp(-b[None, :] / grid[:, None])
    log_m = (np.log(n)[None, :] - np.log(s)).mean(1)
    err = ((np.log(n)[None, :] - np.log(s) - log_m[:, None]) ** 2).sum(1)
    return float(grid[int(np.argmin(err))])


def fit_curve(
    bids,
    clicks,
    cost,
    prior_level: float | None = None,
    prior_sigma: float = RECOMMENDATION_SIGMA,
) -> CurveEstimate | None:
    """One target's curve from its daily (bid, clicks, cost); None without a day at a positive bid.

    `prior_level` is Amazon's suggested bid (or a pooled level); without it the prior is the median bid with a
    wide spread, so history alone decides when bids have moved."""
    b = np.asarray(bids, dtype=float)
    k = np.asarray(clicks, dtype=float)
    c = np.asarray(cost, dtype=float)
    ok = np.isfinite(b) & (b > 0) & np.isfinite(k) & (k >= 0)
    b, k, c = b[ok], k[ok], np.nan_to_num(c[ok])
    if not len(b):
        return None
    b_typ = float(np.median(b))
    kappa = (c.sum() + KAPPA_PSEUDO_CLICKS * KAPPA_PRIOR * b_typ) / ((k * b).sum() + KAPPA_PSEUDO_CLICKS * b_typ)
    kappa = float(min(max(kappa, 0.3), 1.0))
    if prior_level and prior_level > 0:
        mu, sigma, source = math.log(prior_level), prior_sigma, "recommendation"
    else:
        mu, sigma, source = math.log(b_typ), WEAK_PRIOR_SIGMA, "prior"
    centre = math.exp(mu)
    grid = np.geomspace(min(centre, b.min()) / 30, max(centre, b.max()) * 30, GRID)
    s = 1.0 - np.exp(-b[None, :] / grid[:, None])
    ceiling = k.sum() / s.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        loglik = np.where(k[None, :] > 0, k[None, :] * np.log(ceiling[:, None] * s), 0.0).sum(1) - ceiling * s.sum(1)
    logpost = loglik - (np.log(grid) - mu) ** 2 / (2 * sigma**2)
    w = np.exp(logpost - logpost.max())
    w /= w.sum()
    log_c = float((w * np.log(grid)).sum())
    log_sd = float(math.sqrt(max((w * (np.log(grid) - log_c) ** 2).sum(), 1e-12)))
    level = math.exp(log_c)
    spread = float(np.log(b.max() / b.min()))
    if spread > 0.05 and k.sum() > 0 and log_sd < 0.8 * sigma:
        source = "history"  # the days at different bids told more than the prior
    a = float(k.sum() / (1.0 - np.exp(-b / level)).sum())
    return CurveEstimate(level, a, kappa, log_sd, int(len(b)), source)


def daily_bids(days: pd.DataFrame, changes: pd.DataFrame, current_bid: dict[str, float]) -> pd.Series:
    """The bid each (entity_id, date) row of `days` ran at, from the change history (entity_id, applied_at,
    old_value, new_value of bid changes) and the current bid: a day before the first change ran at that change's
    old value, a day after a change at its new value."""
    out = pd.Series([current_bid.get(str(e), np.nan) for e in days["entity_id"]], index=days.index, dtype=float)
    if changes is None or changes.empty or not {"old_value", "new_value"} <= set(changes.columns):
        return out
    ch = changes.copy()
    if "change_type" in ch.columns:
        ch = ch[ch["change_type"] == "bid"]
    ch["entity_id"] = ch["entity_id"].astype(str)
    ch["day"] = pd.to_datetime(ch["applied_at"], errors="coerce", utc=True).dt.tz_localize(None).dt.normalize()
    ch["old"] = pd.to_numeric(ch["old_value"], errors="coerce")
    ch["new"] = pd.to_numeric(ch["new_value"], errors="coerce")
    ch = ch.dropna(subset=["day", "old", "new"]).sort_values("day")
    if ch.empty:
        return out
    dates = pd.to_datetime(days["date"]).dt.normalize()
    ents = days["entity_id"].astype(str)
    for eid, g in ch.groupby("entity_id"):
        rows = ents.index[ents == eid]
        if not len(rows):
            continue
        when = g["day"].to_numpy()
        pos = np.searchsorted(when, dates.loc[rows].to_numpy(), side="right")  # changes applied on or before
        first_old = float(g["old"].iloc[0])
        new = g["new"].to_numpy()
        out.loc[rows] = np.where(pos == 0, first_old, new[np.maximum(pos - 1, 0)])
    return out


def pool_levels(frame: pd.DataFrame) -> pd.Series:
    """Shrink each target's log level toward its group's precision-weighted mean (columns: group, level, log_sd).

    A target whose own estimate is sure keeps it; a thin one moves toward what its ad group's auctions say."""
    lg = np.log(frame["level"].astype(float))
    prec = 1.0 / np.maximum(frame["log_sd"].astype(float), 0.02) ** 2
    grp = frame["group"].astype(str)
    mean = (lg * prec).groupby(grp).transform("sum") / prec.groupby(grp).transform("sum")
    tau_prec = 1.0 / POOL_SPREAD**2
    return np.exp((lg * prec + mean * tau_prec) / (prec + tau_prec))
