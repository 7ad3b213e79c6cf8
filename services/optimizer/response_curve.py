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
GRID = 81
GRID_SPAN = 4.5  # log units either side of the prior's centre (x/÷ 90)
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
    days = pd.DataFrame({"entity_id": "t", "bid": bids, "clicks": clicks, "cost": cost})
    return fit_curves(days, {"t": prior_level} if prior_level else None, prior_sigma).get("t")


def fit_curves(
    days: pd.DataFrame,
    priors: dict[str, float] | None = None,
    prior_sigma: float = RECOMMENDATION_SIGMA,
    runs: pd.DataFrame | None = None,
) -> dict[str, CurveEstimate]:
    """Every target's curve at once (columns entity_id, bid, clicks, cost; one row a day), vectorised over targets:
    a grid posterior over log c relative to each target's prior centre (GRID points over ±GRID_SPAN in log),
    Poisson clicks with the ceiling A profiled out, so a profile of 50,000 targets takes seconds, not minutes.

    `runs` (entity_id, bid, days, clicks, cost, optionally click_bid = the sum of clicks x bid) holds targets whose
    bid held all window, one row each with its days counted and its clicks and cost summed: their days at one bid
    say no more than that (the loader need not read the days without a click). A target is in `days` or in `runs`,
    not both."""
    d = days[["entity_id", "bid", "clicks", "cost"]].copy() if not days.empty else pd.DataFrame()
    parts = [_day_stats(d)] if not d.empty else []
    if runs is not None and not runs.empty:
        parts.append(_run_stats(runs))
    parts = [p for p in parts if p is not None]
    if not parts:
        return {}
    ids = np.concatenate([p["ids"] for p in parts])
    offsets = np.cumsum([0] + [len(p["ids"]) for p in parts[:-1]])
    n = len(ids)

    def cat(key: str) -> np.ndarray:
        return np.concatenate([p[key] for p in parts]).astype(float)

    clicks_sum, b_typ, b_min, b_max = cat("clicks_sum"), cat("b_typ"), cat("b_min"), cat("b_max")
    n_days, cost_sum, click_bid = cat("n_days"), cat("cost_sum"), cat("click_bid")
    p_code = np.concatenate([p["p_code"] + off for p, off in zip(parts, offsets)])
    p_bid, p_days, p_clicks = cat("p_bid"), cat("p_days"), cat("p_clicks")
    kappa = (cost_sum + KAPPA_PSEUDO_CLICKS * KAPPA_PRIOR * b_typ) / (click_bid + KAPPA_PSEUDO_CLICKS * b_typ)
    kappa = np.clip(kappa, 0.3, 1.0)
    prior = np.array([float((priors or {}).get(e) or 0.0) for e in ids])
    has_prior = prior > 0
    mu = np.where(has_prior, np.log(np.where(has_prior, prior, 1.0)), np.log(b_typ))
    sigma = np.where(has_prior, prior_sigma, WEAK_PRIOR_SIGMA)
    z = np.linspace(-GRID_SPAN, GRID_SPAN, GRID)
    loglik = np.zeros((n, GRID))
    clicked = clicks_sum > 0
    # days at the same bid share their share of the ceiling: the grid runs over distinct (target, bid) pairs,
    # a few per target, instead of over every day (81 passes over millions of days took most of the fit)
    for g, zg in enumerate(z):
        s = -np.expm1(-p_bid / np.exp(mu + zg)[p_code])
        s_sum = np.bincount(p_code, p_days * s, n)
        log_s = np.bincount(p_code, p_clicks * np.log(np.maximum(s, 1e-300)), n)
        a = np.where(clicked, clicks_sum / np.maximum(s_sum, 1e-300), 0.0)
        loglik[:, g] = np.where(clicked, clicks_sum * np.log(np.maximum(a, 1e-300)) + log_s, 0.0) - a * s_sum
    logpost = loglik - z[None, :] ** 2 / (2 * sigma[:, None] ** 2)
    w = np.exp(logpost - logpost.max(1, keepdims=True))
    w /= w.sum(1, keepdims=True)
    z_mean = (w * z[None, :]).sum(1)
    log_sd = np.sqrt(np.maximum((w * (z[None, :] - z_mean[:, None]) ** 2).sum(1), 1e-12))
    level = np.exp(mu + z_mean)
    ceiling = clicks_sum / np.maximum(np.bincount(p_code, p_days * -np.expm1(-p_bid / level[p_code]), n), 1e-300)
    moved = (np.log(b_max / b_min) > 0.05) & clicked & (log_sd < 0.8 * sigma)
    source = np.where(moved, "history", np.where(has_prior, "recommendation", "prior"))
    return {
        str(e): CurveEstimate(
            float(level[i]), float(ceiling[i]), float(kappa[i]), float(log_sd[i]), int(n_days[i]), str(source[i])
        )
        for i, e in enumerate(ids)
    }


def _usable(d: pd.DataFrame) -> pd.DataFrame:
    for col in ("bid", "clicks", "cost"):
        d[col] = pd.to_numeric(d[col], errors="coerce")
    return d[np.isfinite(d["bid"]) & (d["bid"] > 0) & np.isfinite(d["clicks"]) & (d["clicks"] >= 0)]


def _day_stats(d: pd.DataFrame) -> dict | None:
    """Per target (median, least and largest bid, days, clicks, cost, clicks x bid) and per (target, bid) pair
    (days, clicks) of one row a day."""
    d = _usable(d)
    if d.empty:
        return None
    codes, ids = pd.factorize(d["entity_id"].astype(str))
    n = len(ids)
    b = d["bid"].to_numpy(float)
    k = d["clicks"].to_numpy(float)
    cost = np.nan_to_num(d["cost"].to_numpy(float))
    by = d.groupby(codes)["bid"]
    pairs = pd.DataFrame({"c": codes, "b": b, "k": k}).groupby(["c", "b"], sort=False)["k"].agg(["size", "sum"])
    return {
        "ids": np.asarray(ids, dtype=object),
        "clicks_sum": np.bincount(codes, k, n),
        "b_typ": by.median().to_numpy(),
        "b_min": by.min().to_numpy(),
        "b_max": by.max().to_numpy(),
        "n_days": np.bincount(codes, minlength=n),
        "cost_sum": np.bincount(codes, cost, n),
        "click_bid": np.bincount(codes, k * b, n),
        "p_code": pairs.index.get_level_values("c").to_numpy(),
        "p_bid": pairs.index.get_level_values("b").to_numpy(float),
        "p_days": pairs["size"].to_numpy(float),
        "p_clicks": pairs["sum"].to_numpy(float),
    }


def _run_stats(runs: pd.DataFrame) -> dict | None:
    """The same from one row per target at a bid it held every day (days counted, clicks and cost summed)."""
    r = runs[["entity_id", "bid", "days", "clicks", "cost"] + (["click_bid"] if "click_bid" in runs.columns else [])]
    r = r.copy()
    r["days"] = pd.to_numeric(r["days"], errors="coerce")
    r = _usable(r)
    r = r[r["days"] > 0]
    if r.empty:
        return None
    b = r["bid"].to_numpy(float)
    k = r["clicks"].to_numpy(float)
    return {
        "ids": r["entity_id"].astype(str).to_numpy(dtype=object),
        "clicks_sum": k,
        "b_typ": b,
        "b_min": b,
        "b_max": b,
        "n_days": r["days"].to_numpy(float),
        "cost_sum": np.nan_to_num(r["cost"].to_numpy(float)),
        "click_bid": r["click_bid"].to_numpy(float) if "click_bid" in r.columns else k * b,
        "p_code": np.arange(len(r)),
        "p_bid": b,
        "p_days": r["days"].to_numpy(float),
        "p_clicks": k,
    }


def daily_bids(days: pd.DataFrame, changes: pd.DataFrame, current_bid: dict[str, float]) -> pd.Series:
    """The bid each (entity_id, date) row of `days` ran at, from the change history (entity_id, applied_at,
    old_value, new_value of bid changes) and the current bid: a day before the first change ran at that change's
    old value, a day after a change at its new value."""
    # a vectorised look-up (a Python loop over millions of text ids cost seconds)
    bids = pd.Series(current_bid, dtype=float)
    out = pd.Series(days["entity_id"].astype(str).map(bids), index=days.index, dtype=float)
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
    left = pd.DataFrame(
        {
            "row": np.arange(len(days)),
            "entity_id": days["entity_id"].astype(str).to_numpy(),
            "date": pd.to_datetime(days["date"]).dt.normalize().astype("datetime64[ns]").to_numpy(),
        }
    ).sort_values("date")
    right = ch[["entity_id", "day", "new"]].astype({"day": "datetime64[ns]"}).sort_values("day")
    # the newest change applied on or before each day, per entity; before the first change, its old value
    m = pd.merge_asof(left, right, left_on="date", right_on="day", by="entity_id", direction="backward")
    first_old = ch.groupby("entity_id")["old"].first()
    value = m["new"].where(m["new"].notna(), m["entity_id"].map(first_old)).to_numpy(float)
    known = ~np.isnan(value)
    arr = out.to_numpy(copy=True)
    arr[m["row"].to_numpy()[known]] = value[known]
    return pd.Series(arr, index=days.index, dtype=float)


def pool_levels(frame: pd.DataFrame) -> pd.Series:
    """Shrink each target's log level toward its group's precision-weighted mean (columns: group, level, log_sd).

    A target whose own estimate is sure keeps it; a thin one moves toward what its ad group's auctions say."""
    lg = np.log(frame["level"].astype(float))
    prec = 1.0 / np.maximum(frame["log_sd"].astype(float), 0.02) ** 2
    grp = frame["group"].astype(str)
    mean = (lg * prec).groupby(grp).transform("sum") / prec.groupby(grp).transform("sum")
    tau_prec = 1.0 / POOL_SPREAD**2
    return np.exp((lg * prec + mean * tau_prec) / (prec + tau_prec))
