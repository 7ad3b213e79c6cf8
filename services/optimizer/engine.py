"""The suggestion engine: pure rules over the store's data (no I/O, no Streamlit).

Inputs are plain DataFrames (see `OptimizerInput`; `services.optimizer.data` loads them
from the store). Output is one DataFrame of suggestions, one row each, with the columns of
`SUGGESTION_COLUMNS`: what to change (type, ids, names, current -> proposed), why (rule,
evidence, one plain sentence), how sure (confidence) and the expected effect.

Rules (thresholds live in `Settings`, per account with per-campaign overrides):

- target:     the account's goals (`services.optimizer.targets`): campaign override > product override >
              the strategy (Target ACOS, Target TACoS converted per campaign, or Profit: half the
              break-even ACOS (pre-ad margin) of the campaign's products (`break_even_share`), since the
              profit-maximising bid sits well below break-even, else the default). Every suggestion's
              `evidence` JSON records the target it aimed at and where it came from.
- bid:        value bid = AOV x CVR x target ACOS, CVR shrunk (beta-binomial) toward the ad
              group, campaign and account so sparse data is not read as "CVR 0"; dead band
              around the target; step cap per run; min/max bid; click and order gates;
              the newest `settling_days` left out; cool-down after a recent change. A target
              with clicks and no order is stepped down toward its shrunk value bid.
- negative:   search terms whose posterior probability of converting at under `bleeder_cvr_ratio`
              of their ad group's rate (Gamma(1,1) prior, leave-one-out parent rate, evidence pooled
              over the ad groups where the term never converted) reaches `bleeder_confidence`
              -> negative exact in the ad group that paid for them; or, on expected loss, whose probability of
              converting under its break-even share of that rate (CPC / (CVR x AOV x margin)) does. A term with
              any order in that ad group is never negated.
- harvest:    converting terms (>= 2 orders) of auto/broad/phrase that should earn more as an exact keyword at
              their own value bid than they earn in their source today (clicks at that bid x (CVR x AOV x margin
              - CPC), against the source's record) -> exact keyword in a manual ad group that advertises the same
              products, paired with a negative exact in the source ad group (or beside a broad/phrase source when
              no other ad group sells them); the largest gain first, at most `harvest_max_per_run`.
- budget:     campaigns that run out of budget while profitable (ACOS under break-even) get more, faster the
              further under; persistently inefficient ones less (under Profit only above break-even, where a
              dollar of budget loses money), but never while their bids are being lowered (this run or within the
              lookback): their spend still reflects the old bids.
- placement:  top-of-search percentage moved stepwise toward what its own ACOS earns.

Metrics come from `services.analytics.metrics` (add_ratios / safe_ratio), never redefined here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import numpy as np
import pandas as pd

from services.optimizer.bids import bid_suggestions
from services.optimizer.campaigns import budget_suggestions, placement_suggestions
from services.optimizer.model import SUGGESTION_TYPES, OptimizerInput, _empty_suggestions
from services.optimizer.settings import Settings, SettingsBook
from services.optimizer.targets import Target, default_target, resolve_targets
from services.optimizer.terms import harvest_suggestions, negative_suggestions

RULES = {
    "bid": bid_suggestions,
    "negative": negative_suggestions,
    "harvest": harvest_suggestions,
    "budget": budget_suggestions,
    "placement": placement_suggestions,
}


def optimize(
    inp: OptimizerInput, settings: Settings | SettingsBook | None = None, types: Iterable[str] = SUGGESTION_TYPES
) -> pd.DataFrame:
    """Every rule over one profile's data; one DataFrame of suggestions (SUGGESTION_COLUMNS)."""
    book = settings if isinstance(settings, SettingsBook) else SettingsBook(settings or Settings())
    resolved = resolve_targets(inp, book)
    targets = {cid: t.acos for cid, t in resolved.items()}
    frames = [RULES[t](inp, book, targets) for t in types]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return _empty_suggestions()
    out = pd.concat(frames, ignore_index=True)
    # never cut a budget while this run lowers bids in the same campaign: the cut bids lower its spend already
    new, old = (pd.to_numeric(out[c], errors="coerce") for c in ("proposed_value", "current_value"))
    lowering = set(out.loc[(out["type"] == "bid") & (new < old), "campaign_id"])
    out = out[~((out["type"] == "budget") & (out["rule"] == "budget_down") & out["campaign_id"].isin(lowering))]
    out["evidence"] = _target_evidence(out, resolved, default_target(book))
    # a term both negated and harvested in the same ad group is a contradiction: keep the harvest
    harvested = set(
        zip(
            out.loc[out["type"] == "harvest", "ad_group_id"].tolist(),
            out.loc[out["type"] == "harvest", "search_term"].tolist(),
        )
    )
    clash = (out["type"] == "negative") & np.array(
        [(a, t) in harvested for a, t in zip(out["ad_group_id"].tolist(), out["search_term"].tolist())], dtype=bool
    )
    return out[~clash].reset_index(drop=True)


def _target_evidence(out: pd.DataFrame, resolved: dict[str, Target], fallback: Target) -> list[str]:
    """Per row, the JSON evidence of the target its rule aimed at: every rule looks its target up by the row's
    campaign id, so the campaign's resolved target is the one used (the ACOS is the row's own `target_acos`)."""
    rows = []
    spelt: dict[tuple[str, float | None], str] = {}  # most rows share their campaign's target: spell it once
    for cid, acos in zip(out["campaign_id"].astype(str).tolist(), out["target_acos"].tolist()):
        key = (cid, None if acos is None or pd.isna(acos) else round(float(acos), 6))
        if key not in spelt:
            ev = resolved.get(cid, fallback).evidence()
            if key[1] is not None:
                ev["target_acos"] = key[1]
            spelt[key] = json.dumps(ev)
        rows.append(spelt[key])
    return rows


def group_by_type(suggestions: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{type: frame} in the order of SUGGESTION_TYPES, empty types left out."""
    return {t: suggestions[suggestions["type"] == t] for t in SUGGESTION_TYPES if (suggestions["type"] == t).any()}
