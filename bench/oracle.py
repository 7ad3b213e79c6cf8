"""The oracle: a weekly policy that knows the sandbox's truth (`World.truth_auction`), for `bench.optimizer_eval`.

It bounds what is achievable: the optimizer's profit over the oracle's says how much of it the optimizer earns,
and one lever at a time (oracle minus a lever, optimizer plus the oracle's lever) says where the gap is.

The true profit-maximising bid, from the sandbox's click and CPC model (`sandbox/simulate.py`):
for target t at base bid b in a campaign with placement percentages pi_j (j = top, rest of search, product page),
the placement bid is b_j = b (1 + pi_j / 100) and, per day (season, weekday and promotion lift only scale it),

    impressions_j = V x vol_j x (1 - exp(-b_j / (c x k_j)))      V: the target's volume (its terms' share of
                                                                  their queries), c: competitor bid, k_j: PLC_COMP,
                                                                  vol_j: PLC_VOL_KW or PLC_VOL_PT
    clicks_j      = impressions_j x min(ctr x PLC_CTR_j, 0.5)
    CPC_j         = E[floor(100 b_j U) / 100], U ~ Uniform(0.55, 0.95)  ~=  0.75 b_j - 0.005
    value/click_j = PLC_CVR_j x (sum over terms of w_i rel_i / sum w_i) x value_per_conv(ad group)

where w_i is a term's click weight and value_per_conv is the ad group's mean of product CVR x units x margin value
(12 % of purchases are another catalogue product). Profit(b) = sum_j clicks_j (value/click_j - CPC_j).
With one placement, x = b / (c k) and v = value/click: d/dx [(1 - e^-x)(v - 0.75 c k x)] = 0 gives
    v / (0.75 c k) = x + e^x - 1,
one root, increasing in v / c: bid higher where a click is worth more, lower where competitors bid more, and never
as high as the break-even bid v / 0.75. With three placements sharing one base bid the optimum has no closed form,
so the oracle evaluates Profit(b) exactly on a fine grid (GRID_POINTS log-spaced multiples of the break-even bid)
and takes the best; for placements it evaluates each candidate set of percentages the same way per campaign.
What it ignores (second order): its own bids moving traffic between the advertiser's duplicate targets (the shared
auction), the 0.95 cap on a click's conversion probability, and promotion lift.

The other levers, from the same expected profit per click:
- negatives: every (ad group, search term) whose expected clicks lose money at the planned bids (true value per
  click below the CPC), except ASIN terms and an exact keyword's own text (its bid handles it);
- harvesting: every non-exact converting term whose expected profit as an exact keyword at its own optimal bid
  (HARVEST_SHARE of the query's reach: it shares the auction with its source) beats what it earns in its sources by
  more than HARVEST_MIN_GAIN a day; the exact keyword goes into the source ad group (same products) at that bid,
  or, when the source is an automatic campaign (Amazon takes no keyword there), into the manual keyword ad group
  that sells most of the same products (`harvest_home`);
- budgets: every campaign with positive expected profit gets BUDGET_HEADROOM x its expected spend at peak season
  and weekday (never less than it has);
- placements: per campaign, the placement percentages (from PCT_CHOICES) that maximise its expected profit.
"""

from __future__ import annotations

import itertools

import numpy as np

from sandbox.constants import PLC_COMP, PLC_CTR, PLC_CVR, PLC_VOL_KW, PLC_VOL_PT

LEVERS = ("bids", "budgets", "harvesting", "negatives", "placements")
LEVER_SUGGESTION_TYPE = {
    "bids": "bid",
    "budgets": "budget",
    "harvesting": "harvest",
    "negatives": "negative",
    "placements": "placement",
}
MIN_BID = 0.02
GRID_POINTS = 32
HARVEST_SHARE = 0.8  # an exact keyword at a competitive bid wins most of its query against a broad/auto source
HARVEST_MIN_GAIN = 0.1  # per day (account currency): below that a new keyword is noise
HARVEST_MAX_PER_WEEK = 60
NEGATIVE_MIN_LOSS = 0.002  # per day: a pair expected to lose less than this is not worth an entity
BUDGET_HEADROOM = 1.6
PEAK = 1.12 * 1.08  # season peak x busiest weekday
PCT_CHOICES = ((0, 50, 100, 200), (0, 25, 50), (0, 25, 50))  # top, rest of search, product page


def _cpc(bj: np.ndarray) -> np.ndarray:
    return np.clip(0.75 * bj - 0.005, 0.02, np.maximum(bj, 0.02))


def target_curves(V, comp, ctr, pt, vpc0, bids, pct):
    """Expected daily (profit, spend, clicks, clicks-weighted CVR multiplier, CPC) per row of `bids` (n, G)."""
    bj = bids[..., None] * (1 + pct / 100.0)[:, None, :]
    share = 1 - np.exp(-bj / (comp[:, None, None] * PLC_COMP))
    vs = np.where(pt[:, None], PLC_VOL_PT[None, :], PLC_VOL_KW[None, :])
    clicks = (V[:, None] * vs)[:, None, :] * share * np.clip(ctr[:, None] * PLC_CTR, 0, 0.5)[:, None, :]
    cpc = _cpc(bj)
    vpc = (vpc0[:, None] * PLC_CVR)[:, None, :]
    profit = (clicks * (vpc - cpc)).sum(-1)
    spend = (clicks * cpc).sum(-1)
    n = clicks.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mult = np.where(n > 0, (clicks * PLC_CVR).sum(-1) / np.where(n > 0, n, 1), 1.0)
    return profit, spend, n, mult


def _grid(vpc0: np.ndarray) -> np.ndarray:
    top = np.maximum(vpc0 * PLC_CVR.max() / 0.75, MIN_BID * 2)
    return np.maximum(top[:, None] * np.geomspace(0.01, 1.0, GRID_POINTS)[None, :], MIN_BID)


class Plan:
    """What the oracle sends this week, as Ads API payloads."""

    def __init__(self) -> None:
        self.keyword_bids: list[dict] = []
        self.target_bids: list[dict] = []
        self.campaigns: dict[str, dict] = {}
        self.negatives: list[dict] = []
        self.new_keywords: list[dict] = []

    def counts(self) -> dict:
        return {
            "bids": len(self.keyword_bids) + len(self.target_bids),
            "campaigns": len(self.campaigns),
            "negatives": len(self.negatives),
            "new_keywords": len(self.new_keywords),
        }


def plan(truth: dict, campaigns: list[dict], levers: set[str]) -> Plan:
    """The oracle's changes for this week from the truth snapshot; only the levers named act."""
    T = truth
    out = Plan()
    live = T["live"]
    nT = len(live)
    tt, tq, tw = T["term_t"], T["term_q"], T["term_w"]
    W = np.bincount(tt, tw, minlength=nT)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel_t = np.nan_to_num(np.bincount(tt, tw * T["rel"][tq], minlength=nT) / W)
    vpc0 = rel_t * T["value_per_conv"][T["t_ag"]]
    pct_now = T["pct"][T["t_camp"]]
    grid = _grid(vpc0) if "bids" in levers else np.nan_to_num(T["bid"])[:, None]
    args = (T["V"], T["comp"], T["ctr"], T["pt"], vpc0)

    def best_under(pct_rows):
        profit, spend, n, mult = target_curves(*args, grid, pct_rows)
        k = np.argmax(profit, axis=1)
        r = np.arange(nT)
        return grid[r, k], profit[r, k], spend[r, k], n[r, k], mult[r, k]

    bid, profit, spend, clicks, mult = best_under(pct_now)
    pct_camp = T["pct"].copy()
    if "placements" in levers:
        best_val = np.full(len(T["campaign_id"]), -np.inf)
        for combo in itertools.product(*PCT_CHOICES):
            pc = np.broadcast_to(np.array(combo, float), (nT, 3))
            b2, p2, s2, n2, m2 = best_under(pc)
            val = np.bincount(T["t_camp"], p2 * live, minlength=len(best_val))
            better = val > best_val + 1e-9
            best_val[better] = val[better]
            pct_camp[better] = combo
            tb = better[T["t_camp"]]
            bid[tb], profit[tb], spend[tb], clicks[tb], mult[tb] = b2[tb], p2[tb], s2[tb], n2[tb], m2[tb]
        by_id = {c["campaignId"]: c for c in campaigns}
        for ci, cid in enumerate(T["campaign_id"]):
            if not T["camp_on"][ci] or np.allclose(pct_camp[ci], T["pct"][ci]):
                continue
            c = by_id.get(cid, {})
            strategy = (c.get("dynamicBidding") or {}).get("strategy") or "LEGACY_FOR_SALES"
            pb = [
                {"placement": name, "percentage": int(pct_camp[ci, j])}
                for j, name in enumerate(("PLACEMENT_TOP", "PLACEMENT_REST_OF_SEARCH", "PLACEMENT_PRODUCT_PAGE"))
            ]
            out.campaigns.setdefault(cid, {"campaignId": cid})["dynamicBidding"] = {
                "strategy": strategy,
                "placementBidding": pb,
            }
    if "bids" in levers:
        for i in np.flatnonzero(live):
            new = round(float(max(bid[i], MIN_BID)), 2)
            if abs(new - float(T["bid"][i])) >= 0.01:
                key = "keywordId" if T["kind"][i] == "keyword" else "targetId"
                (out.keyword_bids if key == "keywordId" else out.target_bids).append(
                    {key: str(T["entity_id"][i]), "bid": new}
                )
    # per term: expected daily profit at the planned bids
    with np.errstate(invalid="ignore", divide="ignore"):
        cpc_t = np.where(clicks > 0, spend / np.where(clicks > 0, clicks, 1), 0.0)
        term_clicks = np.where(W[tt] > 0, clicks[tt] * tw / np.where(W[tt] > 0, W[tt], 1), 0.0)
    term_vpc = T["rel"][tq] * T["value_per_conv"][T["t_ag"][tt]] * mult[tt]
    term_profit = term_clicks * (term_vpc - cpc_t[tt]) * live[tt] * ~T["term_blocked"]
    texts = T["query"][tq]
    is_asin = np.array([len(q) == 10 and q.startswith("b0") for q in T["query"]])[tq]
    if "negatives" in levers:
        ag = T["t_ag"][tt]
        pair_profit: dict[tuple[int, int], float] = {}
        for i in np.flatnonzero((term_profit < 0) & ~is_asin):
            key = (int(ag[i]), int(tq[i]))
            pair_profit[key] = pair_profit.get(key, 0.0)
        for i in np.flatnonzero(term_profit != 0):
            key = (int(ag[i]), int(tq[i]))
            if key in pair_profit:
                pair_profit[key] += float(term_profit[i])
        own_exact = {(int(T["t_ag"][t]), T["text"][t]) for t in range(nT) if T["match_type"][t] == "EXACT" and live[t]}
        for (a, q), p in pair_profit.items():
            if p < -NEGATIVE_MIN_LOSS and (a, T["query"][q]) not in own_exact:
                ci = int(T["t_camp"][np.flatnonzero(T["t_ag"] == a)[0]])
                out.negatives.append(
                    {
                        "campaignId": str(T["campaign_id"][ci]),
                        "adGroupId": str(T["ad_group_id"][a]),
                        "keywordText": str(T["query"][q]),
                        "matchType": "NEGATIVE_EXACT",
                        "state": "ENABLED",
                    }
                )
    extra_spend = np.zeros(len(T["campaign_id"]))
    extra_profit = np.zeros(len(T["campaign_id"]))
    if "harvesting" in levers:
        nonexact = (T["kind"] == "target") & ~T["pt"] | np.isin(T["match_type"], ["BROAD", "PHRASE"])
        cand = np.flatnonzero(nonexact[tt] & live[tt] & ~T["term_blocked"] & ~is_asin & (T["rel"][tq] > 0))
        cand = [i for i in cand if texts[i] not in T["exact_texts"]]
        by_q: dict[int, list[int]] = {}
        for i in cand:
            by_q.setdefault(int(tq[i]), []).append(i)
        if by_q:
            qs = np.array(list(by_q))
            src = np.array([max(by_q[q], key=lambda i: term_clicks[i]) for q in qs])
            homes: dict[int, int] = {}
            d_ag = np.array([harvest_home(T, int(a), homes) for a in T["t_ag"][tt[src]]], dtype=int)
            qs, src, d_ag = qs[d_ag >= 0], src[d_ag >= 0], d_ag[d_ag >= 0]
        if by_q and len(qs):
            s_ag = d_ag  # where the keyword goes: the source's ad group, or a manual one selling the same products
            s_camp = T["ag_camp"][d_ag]
            V = T["reach"][qs] * T["vol"][qs] * HARVEST_SHARE
            v0 = T["rel"][qs] * T["value_per_conv"][s_ag]
            g = _grid(v0)
            pc = pct_camp[s_camp]
            pr, sp, _, _ = target_curves(V, T["q_comp"][qs], T["q_ctr"][qs], np.zeros(len(qs), bool), v0, g, pc)
            k = np.argmax(pr, axis=1)
            r = np.arange(len(qs))
            now = np.array([sum(term_profit[i] for i in by_q[q]) for q in qs])
            gain = pr[r, k] - HARVEST_SHARE * now
            order = np.argsort(-gain)
            for j in order[:HARVEST_MAX_PER_WEEK]:
                if gain[j] <= HARVEST_MIN_GAIN:
                    break
                out.new_keywords.append(
                    {
                        "campaignId": str(T["campaign_id"][s_camp[j]]),
                        "adGroupId": str(T["ad_group_id"][s_ag[j]]),
                        "keywordText": str(T["query"][qs[j]]),
                        "matchType": "EXACT",
                        "state": "ENABLED",
                        "bid": round(float(max(g[j, k[j]], MIN_BID)), 2),
                    }
                )
                extra_spend[s_camp[j]] += sp[j, k[j]]
                extra_profit[s_camp[j]] += pr[j, k[j]]
    if "budgets" in levers:
        nC = len(T["campaign_id"])
        c_spend = np.bincount(T["t_camp"], spend * live, minlength=nC) + extra_spend
        c_profit = np.bincount(T["t_camp"], profit * live, minlength=nC) + extra_profit
        for ci in np.flatnonzero(T["camp_on"] & (c_profit > 0)):
            want = float(np.ceil(BUDGET_HEADROOM * PEAK * c_spend[ci]))
            if want > T["budget"][ci] + 0.5:
                cid = str(T["campaign_id"][ci])
                out.campaigns.setdefault(cid, {"campaignId": cid})["budget"] = {"budget": want, "budgetType": "DAILY"}
    return out


def harvest_home(T: dict, ag: int, memo: dict[int, int]) -> int:
    """The ad group a term harvested from ad group `ag` goes into, or -1: the source itself when its campaign takes
    keywords (a manual keyword campaign: a broad or phrase source), else, as Amazon allows no keyword in an
    automatic campaign, the enabled ad group of a live manual keyword campaign that advertises the most of the
    source's products (ties: the higher value per conversion); -1 when no such ad group exists."""
    if ag in memo:
        return memo[ag]
    home = -1
    if T["camp_kind"][T["ag_camp"][ag]] == "kw":
        home = ag
    else:
        want = T["ag_products"][ag]
        best = (0, 0.0)
        for b, products in enumerate(T["ag_products"]):
            c = T["ag_camp"][b]
            if not (T["ag_on"][b] and T["camp_on"][c] and T["camp_kind"][c] == "kw"):
                continue
            score = (len(want & products), float(T["value_per_conv"][b]))
            if score[0] > 0 and score > best:
                home, best = b, score
    memo[ag] = home
    return home


def apply(client, profile_id: str, p: Plan) -> int:
    """Send the plan through the Ads API (as the seller would); returns the number of changes that succeeded."""
    ok = 0
    for method, kind, items in (
        ("update", "campaigns", list(p.campaigns.values())),
        ("update", "keywords", p.keyword_bids),
        ("update", "targets", p.target_bids),
        ("create", "negativeKeywords", p.negatives),
        ("create", "keywords", p.new_keywords),
    ):
        if items:
            ok += len(getattr(client, method)(profile_id, kind, items).succeeded)
    return ok
