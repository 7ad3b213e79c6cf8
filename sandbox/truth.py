"""Ground truth accessors of the World for evaluation code (never served over the Amazon endpoints)."""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

from .constants import PLC_CTR, PLC_CVR, PLC_VOL_KW, PLC_VOL_PT, UNITS_PER_ORDER, _r2
from .profile import Profile


class WorldTruth:
    """Mixin of ``World``: latent truth per product, target, search term, campaign, coupon; matured profit."""

    def truth_products(self, profile_id: str) -> pd.DataFrame:
        p = self._p(profile_id)
        return pd.DataFrame(
            {
                "asin": p.p_asin,
                "sku": p.p_sku,
                "title": p.p_title,
                "price": p.p_price,
                "margin": p.p_margin,
                "base_cvr": p.p_cvr,
            }
        )

    def _target_truth_arrays(self, p: Profile):
        if p._dirty:
            p._rebuild()
        nT = len(p.t_kind)
        tt, tq = p.term_t.a, p.term_q.a
        ad_prod = np.asarray(p.ad_prod)
        ag_cvr = np.zeros(len(p.adgroups))
        ag_price = np.zeros(len(p.adgroups))
        ag_margin = np.zeros(len(p.adgroups))
        cnt = np.zeros(len(p.adgroups))
        for ag, pr in zip(p.ad_ag, ad_prod):
            if pr >= 0:
                ag_cvr[ag] += p.p_cvr[pr]
                ag_price[ag] += p.p_price[pr]
                ag_margin[ag] += p.p_margin[pr]
                cnt[ag] += 1
        cnt = np.maximum(cnt, 1)
        ag_cvr /= cnt
        ag_price /= cnt
        ag_margin /= cnt
        term_cvr = p.q_rel.a[tq] * ag_cvr[p.s_tag[tt]]
        s = p.s_term * p.q_vol.a[tq] * p.q_ctr.a[tq] * (~p.term_blocked)
        with np.errstate(invalid="ignore", divide="ignore"):
            t_cvr = np.nan_to_num(np.bincount(tt, s * term_cvr, minlength=nT) / np.bincount(tt, s, minlength=nT))
        mix = np.where(p.s_pt[:, None], PLC_VOL_PT[None, :], PLC_VOL_KW[None, :])
        cvr_mult = (mix * PLC_CTR * PLC_CVR).sum(1) / (mix * PLC_CTR).sum(1)
        return term_cvr, t_cvr * cvr_mult, ag_price[p.s_tag] * UNITS_PER_ORDER, ag_margin[p.s_tag], cvr_mult

    def truth_targets(self, profile_id: str) -> pd.DataFrame:
        """Latent truth per keyword/target.  true_cvr is click-weighted over terms and placements."""
        p = self._p(profile_id)
        term_cvr, t_cvr, aov, margin, _ = self._target_truth_arrays(p)
        rows = {
            "entity_id": [],
            "kind": [],
            "campaign_id": [],
            "ad_group_id": [],
            "text": [],
            "match_type": [],
            "state": [],
        }
        for e, k in zip(p.t_ent, p.t_kind):
            rows["entity_id"].append(e["keywordId"] if k == "keyword" else e["targetId"])
            rows["kind"].append(k)
            rows["campaign_id"].append(e["campaignId"])
            rows["ad_group_id"].append(e["adGroupId"])
            if k == "keyword":
                rows["text"].append(e["keywordText"])
                rows["match_type"].append(e["matchType"])
            else:
                ex = e.get("expression") or [{}]
                rows["text"].append(
                    ";".join(
                        f"{x.get('type')}={x.get('value', '')}" if x.get("value") else str(x.get("type")) for x in ex
                    )
                )
                rows["match_type"].append(
                    "TARGETING_EXPRESSION_PREDEFINED" if e.get("expressionType") == "AUTO" else "TARGETING_EXPRESSION"
                )
            rows["state"].append(e["state"])
        df = pd.DataFrame(rows)
        mix = np.where(p.s_pt[:, None], PLC_VOL_PT[None, :], PLC_VOL_KW[None, :])
        df["true_ctr"] = p.s_ctr * (mix * PLC_CTR).sum(1)
        df["true_cvr"] = t_cvr
        df["aov"] = aov
        df["margin"] = margin
        df["volume"] = p.s_V
        df["competitor_bid"] = p.s_comp
        df["bid"] = p.s_bid
        df["planted"] = p.t_planted
        return df

    def truth_search_terms(self, profile_id: str) -> pd.DataFrame:
        p = self._p(profile_id)
        term_cvr, t_cvr, aov, margin, cvr_mult = self._target_truth_arrays(p)
        tt, tq = p.term_t.a, p.term_q.a
        ids = np.array([e.get("keywordId") or e.get("targetId") for e in p.t_ent], dtype=object)
        ag_ids = np.array([a["adGroupId"] for a in p.adgroups], dtype=object)
        camp_ids = np.array([c["campaignId"] for c in p.campaigns], dtype=object)
        qtext = np.array(p.queries, dtype=object)
        nonexact = np.array(
            [k == "target" or e.get("matchType") in ("BROAD", "PHRASE") for k, e in zip(p.t_kind, p.t_ent)]
        )
        in_exact = np.array([q in p.exact_texts for q in p.queries])[tq]
        cvr = term_cvr * cvr_mult[tt]
        med = float(np.median(cvr[cvr > 0])) if (cvr > 0).any() else 0.0
        exp_clicks = p.s_term * p.q_vol.a[tq] * p.q_ctr.a[tq] * 0.5
        harvest = nonexact[tt] & ~in_exact & (cvr >= max(0.08, 1.5 * med)) & (exp_clicks >= 0.15) & ~p.term_blocked
        return pd.DataFrame(
            {
                "ad_group_id": ag_ids[p.s_tag[tt]],
                "campaign_id": camp_ids[p.s_tcamp[tt]],
                "entity_id": ids[tt],
                "search_term": qtext[tq],
                "true_cvr": cvr,
                "volume": p.s_term * p.q_vol.a[tq],
                "blocked": p.term_blocked.copy(),
                "is_bleeder": p.q_rel.a[tq] == 0.0,
                "is_harvestable": harvest,
            }
        )

    def truth_query_impressions(self, profile_id: str, query: str) -> pd.DataFrame:
        """Expected impressions a day (no season, weekday or budget cap) of one query, per target that serves it.

        For evaluation and tests of the auction: the sum over targets is the advertiser's total for the query."""
        p = self._p(profile_id)
        if p._dirty:
            p._rebuild()
        qi = p.qmap.get(query.strip().lower())
        cols = ["entity_id", "ad_group_id", "impressions"]
        if qi is None:
            return pd.DataFrame(columns=cols)
        lam, _, _ = p._demand(1.0, 1.0)
        tt, tq = p.term_t.a, p.term_q.a
        idx = np.flatnonzero(tq == qi)
        t = tt[idx]
        w = p.s_term[idx] * p.q_vol.a[qi] * ~p.term_blocked[idx]
        with np.errstate(invalid="ignore", divide="ignore"):
            imps = np.nan_to_num(lam[t].sum(1) * w / p.s_V[t])
        ag_ids = [p.adgroups[int(p.s_tag[x])]["adGroupId"] for x in t]
        ids = [p.t_ent[int(x)].get("keywordId") or p.t_ent[int(x)].get("targetId") for x in t]
        return pd.DataFrame({"entity_id": ids, "ad_group_id": ag_ids, "impressions": imps}, columns=cols)

    def truth_auction(self, profile_id: str) -> dict:
        """The simulation's latent inputs, for an evaluation oracle that computes each target's profit-maximising bid.

        Per target (arrays of length nT): entity ids, kind, match type, text, campaign and ad group indexes,
        `live`, volume `V`, competitor bid `comp`, base click-through `ctr`, product-page mix `pt`, current `bid`.
        Per campaign: ids, placement percentages `pct` (top, rest of search, product page), `budget`, `on`.
        Per campaign also `camp_kind` ("auto": automatic targeting, no keyword can be added to it; "kw": manual
        keywords; else manual product targeting). Per ad group: ids, its campaign's index `ag_camp`, `ag_on`, the
        products its enabled ads advertise `ag_products`, and `value_per_conv`, the expected margin (account
        currency) of one conversion of a click on it before relevance and placement (mean over its ads of product
        CVR x units x margin value, where 12 % of purchases are another product of the catalogue, as
        ``simulate_day`` draws them).
        Per term (target, query) pair: `term_t`, `term_q`, click weight `term_w` (its share of the target's clicks
        is term_w / sum over the target), `term_blocked`. Per query: text, `rel`, `vol`, `comp`, `ctr`, `reach`."""
        p = self._p(profile_id)
        if p._dirty:
            p._rebuild()
        ad_prod = np.asarray(p.ad_prod)
        pm = p.p_price * p.p_margin
        other = float(pm.mean()) if len(pm) else 0.0
        val = np.zeros(len(p.adgroups))
        cnt = np.zeros(len(p.adgroups))
        ag_products: list[set[int]] = [set() for _ in p.adgroups]
        for a, (ag, pr) in enumerate(zip(p.ad_ag, ad_prod)):
            if pr >= 0 and p.ads[a]["state"] == "ENABLED":
                val[ag] += p.p_cvr[pr] * UNITS_PER_ORDER * (0.88 * pm[pr] + 0.12 * other)
                cnt[ag] += 1
                ag_products[ag].add(int(pr))
        val = np.where(cnt > 0, val / np.maximum(cnt, 1), 0.0)
        tt, tq = p.term_t.a, p.term_q.a
        camp_on = np.array([c["state"] == "ENABLED" for c in p.campaigns])
        return {
            "entity_id": np.array([e.get("keywordId") or e.get("targetId") for e in p.t_ent], dtype=object),
            "kind": np.array(p.t_kind, dtype=object),
            "match_type": np.array([e.get("matchType", "") for e in p.t_ent], dtype=object),
            "text": np.array([(e.get("keywordText") or "").lower() for e in p.t_ent], dtype=object),
            "t_camp": p.s_tcamp.copy(),
            "t_ag": p.s_tag.copy(),
            "live": p.s_t_on & camp_on[p.s_tcamp],
            "V": p.s_V.copy(),
            "comp": p.s_comp.copy(),
            "ctr": p.s_ctr.copy(),
            "pt": p.s_pt.copy(),
            "bid": p.s_bid.copy(),
            "campaign_id": np.array([c["campaignId"] for c in p.campaigns], dtype=object),
            "pct": p.s_pct.copy(),
            "budget": p.s_budget_c / 100.0,
            "camp_on": camp_on,
            "camp_kind": np.array(p.camp_kind, dtype=object),
            "ad_group_id": np.array([a["adGroupId"] for a in p.adgroups], dtype=object),
            "ag_camp": np.array([p.ent_index["campaigns"][a["campaignId"]] for a in p.adgroups], dtype=int),
            "ag_on": np.array([a.get("state") == "ENABLED" for a in p.adgroups]),
            "ag_products": ag_products,
            "value_per_conv": val,
            "term_t": tt.copy(),
            "term_q": tq.copy(),
            "term_w": p.s_term * p.q_vol.a[tq] * p.q_ctr.a[tq] * ~p.term_blocked,
            "term_blocked": p.term_blocked.copy(),
            "query": np.array(p.queries, dtype=object),
            "rel": p.q_rel.a.copy(),
            "vol": p.q_vol.a.copy(),
            "q_comp": p.q_comp.a.copy(),
            "q_ctr": p.q_ctr.a.copy(),
            "reach": p.q_reach.a.copy(),
            "exact_texts": set(p.exact_texts),
        }

    def truth_campaigns(self, profile_id: str) -> pd.DataFrame:
        p = self._p(profile_id)
        return pd.DataFrame(
            {"campaign_id": [c["campaignId"] for c in p.campaigns], "kind": p.camp_kind, "planted": p.camp_planted}
        )

    def truth_coupons(self, seller_id: str) -> pd.DataFrame:
        rows = []
        for p in self._profiles.values():
            if p.seller["sellerId"] != seller_id:
                continue
            for c in p.coupons:
                rows.append({"coupon_id": c["couponId"], "marketplace_id": p.marketplace, "planted": c["_planted"]})
        return pd.DataFrame(rows, columns=["coupon_id", "marketplace_id", "planted"])

    def true_profit(self, profile_id: str, start: _dt.date, end: _dt.date) -> dict:
        """Fully matured outcomes of the simulated days in [start, end]: profit = sales x margin - spend."""
        p = self._p(profile_id)
        ev = p.slice("ev", start, end)
        sales_c = ev["sales"]
        spend = ev["cost"].sum() / 100.0
        sales = sales_c.sum() / 100.0
        gross = float((sales_c * p.p_margin[ev["pprod"]]).sum() / 100.0)
        return {
            "sales": _r2(sales),
            "spend": _r2(spend),
            "profit": _r2(gross - spend),
            "units": int(ev["units"].sum()),
            "orders": int(ev["conv"].sum()),
        }
