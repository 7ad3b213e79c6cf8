"""Search-term rules: negatives for terms that do not convert, and harvesting converting terms as exact keywords."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd

from services.analytics.metrics import add_ratios
from services.optimizer.bids import campaign_break_even, campaign_targets
from services.optimizer.model import (
    CLICK_ELASTICITY,
    OptimizerInput,
    _attach_names,
    _empty_suggestions,
    _enabled_parents,
    _finish,
    _hier_cvr,
    _in_window,
    _nan_none,
    _num,
    _per_campaign,
    _plain_rows,
    _round_money,
    shrink,
    term_history,
    window,
)
from services.optimizer.settings import Settings, SettingsBook

ASIN_RE = r"^b0[0-9a-z]{8}$"


def _term_frame(inp: OptimizerInput, s: Settings) -> tuple[pd.DataFrame, date, date, set[str]]:
    """Search terms aggregated per (campaign, ad group, term) over the window, with their parents' rates, and the
    terms that converted anywhere; built once per run (negatives and harvesting both read it; read-only)."""
    key = ("term_frame", s)
    if key not in inp.memo:
        inp.memo[key] = _build_term_frame(inp, s)
    return inp.memo[key]


def _build_term_frame(inp: OptimizerInput, s: Settings) -> tuple[pd.DataFrame, date, date, set[str]]:
    start, end = window(inp.as_of, s.search_term_lookback_days, s.settling_days)
    summed = _summed_terms(inp, s)
    st = _num(inp.search_term_day if summed is None else summed)
    for c in ("campaign_id", "ad_group_id", "entity_id"):
        st[c] = st[c].astype(str)
    st["term"] = st["search_term"].astype(str).str.strip().str.lower()
    # orders ever seen for the term in this ad group (the whole history, settling days included):
    ever, converting = term_history(inp, st)
    if summed is None:
        win = _in_window(st, start, end)
    else:
        # in the order the daily rows come from the store (its key: date, keyword, term), so that "first" below
        # names each term by the same row as when the days were summed here
        win = st.sort_values(["first_date", "entity_id", "search_term"], kind="stable")
    if "match_type" not in win.columns:
        win = win.assign(match_type=None)
    win = win.assign(match_type=win["match_type"].fillna("").astype(str).str.upper())
    agg = (
        win.groupby(["campaign_id", "ad_group_id", "term"], dropna=False)
        .agg(
            clicks=("clicks", "sum"),
            cost=("cost", "sum"),
            orders=("orders", "sum"),
            sales=("sales", "sum"),
            impressions=("impressions", "sum"),
            search_term=("search_term", "first"),
            source_entity=("entity_id", "first"),
        )
        .reset_index()
    )
    keys = ["campaign_id", "ad_group_id", "term"]
    agg = agg.merge(_match_types(win, keys), left_on=keys, right_index=True, how="left")
    agg = agg.merge(ever, left_on=["ad_group_id", "term"], right_index=True, how="left")
    parents = _ad_group_totals(inp, s, win)
    parents = _hier_cvr(parents, s)[
        ["campaign_id", "ad_group_id", "cvr_campaign", "cvr_ad_group", "aov_ad_group", "orders", "clicks"]
    ].rename(columns={"orders": "ag_orders", "clicks": "ag_clicks"})
    agg = agg.merge(parents, on=["campaign_id", "ad_group_id"], how="left")
    # leave-one-out parent rate: the ad group without the term itself, so a heavy bleeder does not drag down
    # the rate it is compared against
    rest_o = (agg["ag_orders"].fillna(0) - agg["orders"]).clip(lower=0)
    rest_n = (agg["ag_clicks"].fillna(0) - agg["clicks"]).clip(lower=0)
    camp = agg["cvr_campaign"].fillna(agg["cvr_ad_group"]).fillna(0.1)
    agg["cvr_parent_loo"], _ = shrink(rest_o, rest_n, camp, s.prior_max_clicks)
    agg = agg.drop(columns=["ag_orders", "ag_clicks", "cvr_campaign"])
    agg["cvr_ad_group"] = agg["cvr_ad_group"].fillna(parents["cvr_ad_group"].mean() if not parents.empty else 0.1)
    agg["aov_ad_group"] = agg["aov_ad_group"].fillna(parents["aov_ad_group"].mean() if not parents.empty else 25.0)
    agg["cvr_shrunk"], agg["weight"] = shrink(agg["orders"], agg["clicks"], agg["cvr_ad_group"], s.prior_max_clicks)
    agg = add_ratios(agg, ["acos", "cvr", "cpc", "aov"])
    agg = _attach_names(agg, inp)
    return agg, start, end, converting


def _summed_terms(inp: OptimizerInput, s: Settings) -> pd.DataFrame | None:
    """The loader's per-(keyword, term, match type) sums when they cover this run's search-term window (and the
    whole-history orders came with them), else None: the rules sum `search_term_day` themselves."""
    totals = inp.search_term_totals
    ok = window(inp.as_of, s.search_term_lookback_days, s.settling_days) == inp.totals_window
    return totals if totals is not None and ok and inp.search_term_history is not None else None


def _no_search_terms(inp: OptimizerInput, s: Settings) -> bool:
    summed = _summed_terms(inp, s)
    return inp.search_term_day.empty if summed is None else summed.empty


def _ad_group_totals(inp: OptimizerInput, s: Settings, win: pd.DataFrame) -> pd.DataFrame:
    """Orders, clicks and sales per (campaign, ad group) over the search-term window: the parent rates come from the
    keyword/target report of that window (clicks of every term), summed by the loader in SQL when it did so for
    this window, else here; the search terms themselves when the report has no row in the window."""
    start_end = window(inp.as_of, s.search_term_lookback_days, s.settling_days)
    totals = inp.ad_group_totals
    if totals is not None and not totals.empty and inp.totals_window == start_end:
        out = _num(totals, ["orders", "clicks", "sales"])
    else:
        tday = _num(_in_window(inp.target_day, *start_end))
        if tday.empty:
            tday = win
        out = tday.groupby([tday["campaign_id"].astype(str), tday["ad_group_id"].astype(str)], dropna=False)[
            ["orders", "clicks", "sales"]
        ].sum()
        out = out.reset_index()
    for c in ("campaign_id", "ad_group_id"):
        out[c] = out[c].astype(str)
    return out.sort_values(["campaign_id", "ad_group_id"], ignore_index=True)[
        ["campaign_id", "ad_group_id", "orders", "clicks", "sales"]
    ]


def _match_types(win: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Per group of `keys`, its distinct match types sorted and joined by commas ("BROAD,PHRASE").

    There are a handful of match types, so each group's set is a bit mask summed in one vectorised groupby and
    each distinct mask is spelt once (a Python join per group took half a minute on a large profile)."""
    pairs = win[keys + ["match_type"]].drop_duplicates()
    names = sorted(pairs["match_type"].unique())
    if len(names) > 62:  # more kinds than bits: join per group
        return (
            pairs.sort_values("match_type")
            .groupby(keys, dropna=False)["match_type"]
            .agg(",".join)
            .rename("match_types")
        )
    code = {m: i for i, m in enumerate(names)}
    bits = pd.Series(np.left_shift(1, pairs["match_type"].map(code).to_numpy(np.int64)), index=pairs.index)
    masks = bits.groupby([pairs[k] for k in keys], dropna=False).sum()
    spelt = {m: ",".join(n for i, n in enumerate(names) if m >> i & 1) for m in masks.unique()}
    return masks.map(spelt).rename("match_types")


def _negated(inp: OptimizerInput) -> set[tuple[str, str]]:
    """(ad_group_id, term) pairs already negated exactly, plus ('campaign:'+id, term) for campaign negatives."""
    neg = inp.negatives
    if neg is None or neg.empty:
        return set()
    neg = neg.copy()
    if "state" in neg.columns:
        neg = neg[neg["state"].astype(str).str.lower().isin(["enabled", ""])]
    out = set()
    for r in neg.itertuples(index=False):
        term = str(r.keyword_text).strip().lower()
        ag = getattr(r, "ad_group_id", None)
        if ag is None or (isinstance(ag, float) and math.isnan(ag)) or ag == "":
            out.add(("campaign:" + str(r.campaign_id), term))
        else:
            out.add((str(ag), term))
    return out


def _exact_keywords(inp: OptimizerInput) -> set[tuple[str, str]]:
    ent = inp.entities
    if ent.empty:
        return set()
    kw = ent[(ent["kind"] == "keyword") & (ent["match_type"].astype(str).str.upper() == "EXACT")]
    if "state" in kw.columns:
        kw = kw[kw["state"].astype(str).str.lower() != "archived"]
    return set(zip(kw["ad_group_id"].astype(str).tolist(), kw["text"].astype(str).str.strip().str.lower().tolist()))


def bleeder_probability(expected_orders: float | np.ndarray, cvr_ratio: float) -> float | np.ndarray:
    """P(the term's CVR < cvr_ratio x its parents' CVR | no order where `expected_orders` were expected).

    Beta-binomial in its Poisson limit: the term's rate relative to its parent, rho, has the prior Gamma(1, 1)
    (mean 1: a term converts like its ad group until shown otherwise; shape 1 = one pseudo-order, the same
    prior strength as `shrink`). No order where E orders were expected gives the posterior Gamma(1, 1 + E), so
    P(rho < k) = 1 - exp(-k (1 + E)). With k = 0.5, confidence 0.85 needs E >= 2.8 expected orders, 0.9 needs 3.6."""
    e = np.asarray(expected_orders, dtype=float)
    return 1.0 - np.exp(-cvr_ratio * (1.0 + np.maximum(e, 0.0)))


def negative_suggestions(
    inp: OptimizerInput, book: SettingsBook, targets: dict[str, float] | None = None
) -> pd.DataFrame:
    """Bleeders: search terms that cost clicks and, with high posterior probability, convert at well under their
    ad group's rate (`bleeder_probability` >= `bleeder_confidence`). The expected orders are the term's clicks
    times its ad group's leave-one-out CVR (shrunk toward the campaign), summed over every ad group of the
    account where it got clicks and never an order, unless the term converted somewhere in the account: then
    only the ad group's own evidence counts. A term with any order in the ad group is never negated there."""
    s0 = book.account
    if _no_search_terms(inp, s0):
        return _empty_suggestions()
    targets = targets if targets is not None else campaign_targets(inp, book)
    agg, start, end, converts_somewhere = _term_frame(inp, s0)
    negated = _negated(inp)
    exact_own = _exact_keywords(inp)
    enabled = _enabled_parents(inp)
    agg = agg.copy()
    agg["expected"] = agg["clicks"] * agg["cvr_parent_loo"]
    zero = (agg["orders_ever"].fillna(0) <= 0) & (agg["orders"] <= 0)
    pooled = agg[zero].groupby("term")["expected"].sum()
    agg["expected_pooled"] = agg["term"].map(pooled).fillna(0.0)
    own_only = agg["term"].isin(converts_somewhere)
    agg.loc[own_only, "expected_pooled"] = agg.loc[own_only, "expected"]
    break_even = campaign_break_even(inp)
    rows = []
    cand = agg[zero]
    cand = cand[~(cand["clicks"] < _per_campaign(cand, book, "bleeder_min_clicks"))]
    # every candidate's posterior at once (a NumPy call per row was a quarter of a second on a large profile)
    ratio = _per_campaign(cand, book, "bleeder_cvr_ratio")
    cand = cand.assign(posterior=bleeder_probability(cand["expected_pooled"].to_numpy(float), ratio.to_numpy(float)))
    for r in _plain_rows(cand):
        s = book.for_campaign(r.campaign_id)
        if (r.ad_group_id, r.term) in negated or ("campaign:" + r.campaign_id, r.term) in negated:
            continue
        if (r.ad_group_id, r.term) in exact_own:
            continue  # the ad group's own exact keyword: that is a bid question, not a negative
        if enabled is not None and (r.campaign_id, r.ad_group_id) not in enabled:
            continue
        if r.clicks < s.bleeder_min_clicks:
            continue
        prob = float(r.posterior)
        target = targets.get(r.campaign_id, s.default_target_acos)
        # expected loss: a click costs its CPC and earns CVR x AOV x break-even ACOS; the term loses money once
        # it converts at under `loss_ratio` of its ad group's rate, and P(that) uses the same posterior. The CPC
        # is the one at the bid its keyword is worth (value bid: AOV x CVR x target), not today's: an over-bid
        # keyword makes every term look like a loser, and the bid rule, not a negative, is the fix for that
        # (judged at today's CPC, precision on tuning seed 1 fell from about 0.9 to 0.70).
        be = break_even.get(r.campaign_id) or target / max(s.break_even_share, 1e-9)
        click_value = float(r.cvr_parent_loo * r.aov_ad_group * be)
        cpc_now = float(r.cost / r.clicks) if r.clicks else 0.0
        cpc = min(cpc_now, CPC_RATIO * float(r.cvr_parent_loo * r.aov_ad_group * target))
        loss_ratio = cpc / click_value if click_value > 0 else 0.0
        prob_loss = float(bleeder_probability(r.expected_pooled, min(loss_ratio, 1.0))) if loss_ratio > 0 else 0.0
        by_loss = prob_loss >= s.bleeder_confidence and prob < s.bleeder_confidence
        if prob < s.bleeder_confidence and not by_loss:
            continue
        elsewhere = r.expected_pooled - r.expected
        if by_loss:
            prob = prob_loss
            why = (
                f'Negate "{r.search_term}" in this ad group: {int(r.clicks)} clicks (${r.cost:.2f}) without an '
                f"order; a click here earns ${click_value:.2f} at its ad group's conversion rate and costs about "
                f"${cpc:.2f} even at the bid its keyword is worth, so the term loses money unless it converts at "
                f"over {loss_ratio:.0%} of that rate, and it is {prob:.0%} likely it does not."
            )
            rows.append(_negative_row(r, why, "expected_loss", prob, target, start, end))
            continue
        why = (
            f'Negate "{r.search_term}" in this ad group: {int(r.clicks)} clicks and ${r.cost:.2f} spent without '
            f"an order, where the rest of its ad group converts at {r.cvr_parent_loo:.1%} and would have brought "
            f"about {r.expected:.1f}"
            + (
                f" ({elsewhere:.1f} more expected from its clicks in other ad groups, also without an order)"
                if elsewhere > 0.05
                else ""
            )
            + f"; {prob:.0%} likely it converts at under {s.bleeder_cvr_ratio:.0%} of its ad group's rate."
        )
        rows.append(
            _negative_row(r, why, "bleeder_pooled" if elsewhere > 0.05 else "bleeder", prob, target, start, end)
        )
    return _finish(rows, inp)


def _negative_row(r, why: str, rule: str, prob: float, target: float, start: date, end: date) -> dict:
    return {
        "type": "negative",
        "entity_kind": "negative_keyword",
        "entity_id": None,
        "campaign_id": r.campaign_id,
        "campaign_name": r.campaign_name,
        "ad_group_id": r.ad_group_id,
        "ad_group_name": r.ad_group_name,
        "keyword_text": r.search_term,
        "match_type": "NEGATIVE_EXACT",
        "search_term": r.search_term,
        "current_value": None,
        "proposed_value": None,
        "rule": rule,
        "reason": why,
        "confidence": prob,
        "clicks": int(r.clicks),
        "orders": 0,
        "spend": float(r.cost),
        "sales": 0.0,
        "acos": None,
        "cvr_raw": _nan_none(r.cvr),
        "cvr_shrunk": float(r.cvr_shrunk),
        "aov": float(r.aov_ad_group),
        "target_acos": target,
        "value_bid": None,
        "expected_spend_change": -float(r.cost) * 7.0 / max((end - start).days + 1, 1),
        "expected_sales_change": 0.0,
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
    }


CPC_RATIO = 0.75  # CPC as a share of the bid in a second-price auction (as in `response_curve.KAPPA_PRIOR`)


def _harvest_destinations(inp: OptimizerInput) -> dict[str, tuple[str, str]]:
    """source ad group -> (campaign, ad group) of a manual ad group advertising the same products,
    preferring one that already holds exact keywords; failing that, a manual keyword ad group is its own."""
    if inp.product_ads.empty or inp.campaigns.empty or inp.ad_groups.empty:
        return {}
    pa = inp.product_ads.copy()
    pa["ad_group_id"] = pa["ad_group_id"].astype(str)
    pa["campaign_id"] = pa["campaign_id"].astype(str)
    if "state" in pa.columns:
        pa = pa[pa["state"].astype(str).str.lower() == "enabled"]
    camps = inp.campaigns.assign(campaign_id=inp.campaigns["campaign_id"].astype(str))
    manual = set(camps.loc[camps["targeting_type"].astype(str).str.upper() == "MANUAL", "campaign_id"])
    live = _enabled_parents(inp) or set()
    ent = inp.entities
    exact_groups: dict[str, int] = {}
    kw_groups: set[str] = set()
    if not ent.empty:
        kw = ent[ent["kind"] == "keyword"]
        kw_groups = set(kw["ad_group_id"].astype(str))
        ex = kw[kw["match_type"].astype(str).str.upper() == "EXACT"]
        exact_groups = ex.groupby(ex["ad_group_id"].astype(str)).size().to_dict()
    # each ad group's products (a Python set per ad group from one pass; a groupby-apply cost a second)
    products: dict[str, set] = {ag: set() for ag in pa["ad_group_id"].astype(object)}
    for ag, asin in zip(pa["ad_group_id"].astype(object), pa["asin"].astype(object)):
        if not pd.isna(asin):
            products[ag].add(asin)
    asins = {ag: frozenset(products[ag]) for ag in sorted(products)}
    # each ad group's campaign (its first product ad's), looked up once rather than by a scan per ad group
    camp_of = pa.drop_duplicates("ad_group_id").set_index("ad_group_id")["campaign_id"].to_dict()
    candidates = [(ag, a) for ag, a in asins.items() if camp_of[ag] in manual and ag in kw_groups]
    out = {}
    for src, src_asins in asins.items():
        best, best_score = None, -1.0
        for ag, dest_asins in candidates:
            if ag == src or (camp_of[ag], ag) not in live or not (src_asins & dest_asins):
                continue
            score = len(src_asins & dest_asins) / len(src_asins | dest_asins) + (1.0 if exact_groups.get(ag) else 0)
            if score > best_score:
                best, best_score = ag, score
        if best is not None:
            out[src] = (camp_of[best], best)
        elif camp_of[src] in manual and src in kw_groups and (camp_of[src], src) in live:
            # no other manual ad group sells these products: the exact keyword goes beside its broad or phrase
            # source, where its own bid and its full match win the advertiser's shared auction for the query
            out[src] = (camp_of[src], src)
    return out


def harvest_suggestions(
    inp: OptimizerInput, book: SettingsBook, targets: dict[str, float] | None = None
) -> pd.DataFrame:
    s0 = book.account
    if _no_search_terms(inp, s0):
        return _empty_suggestions()
    targets = targets if targets is not None else campaign_targets(inp, book)
    agg, start, end, _ = _term_frame(inp, s0)
    agg = agg[~(agg["orders"] < _per_campaign(agg, book, "harvest_min_orders"))]  # the order gate, per campaign
    agg = agg[~agg["term"].str.match(ASIN_RE)]
    exact_all = {t for _, t in _exact_keywords(inp)}
    dest = _harvest_destinations(inp)
    negated = _negated(inp)
    enabled = _enabled_parents(inp)
    names = _attach_names(
        pd.DataFrame({"campaign_id": [d[0] for d in dest.values()], "ad_group_id": [d[1] for d in dest.values()]}), inp
    )
    name_of = {r.ad_group_id: (r.campaign_name, r.ad_group_name) for r in names.itertuples(index=False)}
    break_even = campaign_break_even(inp)
    weeks = max((end - start).days + 1, 1) / 7.0
    rows = []
    seen_terms: set[str] = set()
    for r in _plain_rows(agg.sort_values(["orders", "sales"], ascending=False)):
        s = book.for_campaign(r.campaign_id)
        mts = set(filter(None, r.match_types.split(",")))
        if "EXACT" in mts:
            continue  # only auto, broad and phrase sources
        if r.orders < s.harvest_min_orders or r.term in exact_all or r.term in seen_terms:
            continue
        if enabled is not None and (r.campaign_id, r.ad_group_id) not in enabled:
            continue
        target = targets.get(r.campaign_id, s.default_target_acos)
        be = break_even.get(r.campaign_id) or target / max(s.break_even_share, 1e-9)
        if r.acos is None or pd.isna(r.acos) or r.acos > be * s.harvest_max_acos_factor:
            continue  # far above break-even on its own record: even its own bid would not make it pay
        if r.ad_group_id not in dest:
            continue
        d_camp, d_ag = dest[r.ad_group_id]
        aov = (r.sales + 2 * r.aov_ad_group) / (r.orders + 2)
        value_bid = float(aov * r.cvr_shrunk * target)
        if value_bid < s.min_bid:
            continue  # at its shrunk CVR the term is not worth the lowest bid: more traffic would lose money
        bid = _round_money(min(value_bid, s.max_bid))
        # expected profit a week as an exact keyword at that bid: its clicks there (more or fewer than now as the
        # bid is above or below what its source pays, CLICK_ELASTICITY) x (CVR x AOV x margin - CPC) ...
        source_bid = r.cost / r.clicks / CPC_RATIO if r.clicks else bid
        clicks_week = r.clicks / weeks * (bid / max(source_bid, 0.01)) ** CLICK_ELASTICITY
        profit_week = float(clicks_week * (r.cvr_shrunk * aov * be - CPC_RATIO * bid))
        # ... against what it earns in its source today: the harvest moves the query there (the source is negated,
        # and one advertiser's ads share one auction), so what counts is the gain, which is largest where the
        # source pays far more, or far less, than this term is worth
        gain_week = profit_week - float((r.clicks * r.cvr_shrunk * aov * be - r.cost) / weeks)
        if profit_week <= 0 or gain_week <= 0:
            continue
        seen_terms.add(r.term)
        # negate the source so the two do not compete, unless the keyword goes into the source ad group itself,
        # where a negative exact would block it too
        isolate = (r.ad_group_id, r.term) not in negated and d_ag != r.ad_group_id
        why = (
            f'Add "{r.search_term}" as an exact keyword: {int(r.orders)} orders from {int(r.clicks)} clicks at '
            f"{r.acos:.0%} ACOS (break-even {be:.0%}); at its own bid of ${bid:.2f} it should earn about "
            f"${profit_week:.2f} a week, ${gain_week:.2f} more than in its source"
            + (", and negate it exactly in the source ad group so the two do not compete." if isolate else ".")
        )
        dn = name_of.get(d_ag, (None, None))
        rows.append(
            {
                "type": "harvest",
                "entity_kind": "keyword",
                "entity_id": None,
                "campaign_id": r.campaign_id,
                "campaign_name": r.campaign_name,
                "ad_group_id": r.ad_group_id,
                "ad_group_name": r.ad_group_name,
                "keyword_text": r.search_term,
                "match_type": "EXACT",
                "search_term": r.search_term,
                "dest_campaign_id": d_camp,
                "dest_campaign_name": dn[0],
                "dest_ad_group_id": d_ag,
                "dest_ad_group_name": dn[1],
                "current_value": None,
                "proposed_value": bid,
                "rule": "harvest_exact" + ("+isolate" if isolate else ""),
                "reason": why,
                "confidence": float(r.weight),
                "clicks": int(r.clicks),
                "orders": int(r.orders),
                "spend": float(r.cost),
                "sales": float(r.sales),
                "acos": _nan_none(r.acos),
                "cvr_raw": _nan_none(r.cvr),
                "cvr_shrunk": float(r.cvr_shrunk),
                "aov": float(aov),
                "target_acos": target,
                "value_bid": value_bid,
                "expected_spend_change": 0.0,
                "expected_sales_change": 0.0,
                "window_start": start.isoformat(),
                "window_end": end.isoformat(),
                "_score": gain_week,
            }
        )
    # every term with positive expected profit, the most profitable first; the cap is a setting, not the limit
    rows.sort(key=lambda x: -x["_score"])
    rows = rows[: max(int(s0.harvest_max_per_run), 0)]
    for x in rows:
        x.pop("_score")
    return _finish(rows, inp)


# ------------------------------------------------------------------------------------------
# budgets and placements
