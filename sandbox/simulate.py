"""The daily simulation of a profile: negatives, sim arrays, demand, promotion lift, one day of click events.

Vectorised over all targets with numpy; each day draws from its own RNG seeded by (seed, profile, day)."""

from __future__ import annotations

import datetime as _dt
import math

import numpy as np

from .constants import _LAG_P, PLC_COMP, PLC_CTR, PLC_CVR, PLC_VOL_KW, PLC_VOL_PT, WEEKDAY


class ProfileSimulation:
    """Mixin of ``Profile``: turns the current entity state into simulated days (``simulate_day``) and views."""

    # ------------------------------------------------------------------ negatives / sim arrays
    def _apply_negatives(self, ag_only: set[int] | None = None) -> None:
        """Recompute which (target, term) pairs are blocked by enabled ad-group negative keywords."""
        tag = np.asarray(self.t_ag, dtype=np.int32)
        term_ag = tag[self.term_t.a]
        if len(self.term_blocked) < len(self.term_t):
            self.term_blocked = np.concatenate(
                [self.term_blocked, np.zeros(len(self.term_t) - len(self.term_blocked), bool)]
            )
        by_ag: dict[int, list[tuple[str, str]]] = {}
        for n in self.negatives:
            if n["state"] != "ENABLED":
                continue
            ai = self.ent_index["adGroups"].get(n["adGroupId"])
            if ai is not None:
                by_ag.setdefault(ai, []).append((n["matchType"], n["keywordText"].lower()))
        ags = set(by_ag) if ag_only is None else ag_only
        for ai in ags:
            idx = np.flatnonzero(term_ag == ai)
            negs = by_ag.get(ai, [])
            for i in idx:
                text = self.queries[self.term_q.a[i]].lower()
                blocked = False
                for mt, nt in negs:
                    if mt == "NEGATIVE_EXACT":
                        blocked = text == nt
                    else:
                        blocked = f" {nt} " in f" {text} "
                    if blocked:
                        break
                self.term_blocked[i] = blocked
        self._dirty = True

    def _rebuild(self) -> None:
        """Sim arrays from the current entity state (bids, states, budgets, placements, negatives)."""
        nT = len(self.t_kind)
        self.s_tag = np.asarray(self.t_ag, dtype=np.int64)
        agc = np.asarray(self.ag_camp, dtype=np.int64)
        self.s_tcamp = agc[self.s_tag]
        ag_on = np.array([a["state"] == "ENABLED" for a in self.adgroups])
        ag_bid = np.array([float(a["defaultBid"]) for a in self.adgroups])
        self.s_camp_on = np.array([c["state"] == "ENABLED" for c in self.campaigns])
        self.s_camp_start = np.array([_dt.date.fromisoformat(c["startDate"]).toordinal() for c in self.campaigns])
        self.s_camp_end = np.array(
            [_dt.date.fromisoformat(c["endDate"]).toordinal() if c.get("endDate") else 10**7 for c in self.campaigns]
        )
        self.s_budget_c = np.array(
            [int(round(float(c["budget"]["budget"]) * 100)) for c in self.campaigns], dtype=np.int64
        )
        pct = np.zeros((len(self.campaigns), 3))
        for ci, c in enumerate(self.campaigns):
            for pb in (c.get("dynamicBidding") or {}).get("placementBidding") or []:
                j = {"PLACEMENT_TOP": 0, "PLACEMENT_REST_OF_SEARCH": 1, "PLACEMENT_PRODUCT_PAGE": 2}.get(
                    pb.get("placement")
                )
                if j is not None:
                    pct[ci, j] = float(pb.get("percentage") or 0)
        self.s_pct = pct
        t_on = np.array([e["state"] == "ENABLED" for e in self.t_ent], dtype=bool)
        bid = np.array([float(e["bid"]) if e.get("bid") is not None else np.nan for e in self.t_ent])
        bid = np.where(np.isnan(bid), ag_bid[self.s_tag], bid)
        self.s_bid = bid
        # enabled ads per ad group (CSR)
        ad_ag = np.asarray(self.ad_ag, dtype=np.int64)
        ad_on = np.array([a["state"] == "ENABLED" for a in self.ads], dtype=bool) & (np.asarray(self.ad_prod) >= 0)
        en = np.flatnonzero(ad_on)
        order = en[np.argsort(ad_ag[en], kind="stable")]
        cnt = np.bincount(ad_ag[order], minlength=len(self.adgroups))
        self.s_ag_ptr = np.concatenate([[0], np.cumsum(cnt)])[:-1]
        self.s_ag_nads = cnt
        self.s_ag_ads = order
        self.s_t_on = t_on & ag_on[self.s_tag] & (cnt[self.s_tag] > 0)
        self.s_pt = np.asarray(self.t_pt, dtype=bool)
        # latent per target from its unblocked terms, each term's share of its query's auction
        tt, tq = self.term_t.a, self.term_q.a
        self.s_term = self._auction_shares()
        s = self.s_term * self.q_vol.a[tq] * (~self.term_blocked)
        V = np.bincount(tt, s, minlength=nT)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.s_V = V
            self.s_ctr = np.nan_to_num(np.bincount(tt, s * self.q_ctr.a[tq], minlength=nT) / V)
            self.s_comp = np.nan_to_num(np.bincount(tt, s * self.q_comp.a[tq], minlength=nT) / V, nan=1.0)
            cw = s * self.q_ctr.a[tq]
            tot = np.bincount(tt, cw, minlength=nT)
            cs = np.cumsum(cw)
            first = np.searchsorted(tt, np.arange(nT))
            base = np.concatenate([[0.0], cs])[first]
            within = cs - base[tt]
            G = tt + np.where(tot[tt] > 0, within / np.where(tot[tt] > 0, tot[tt], 1), 0.0)
        last = np.r_[tt[1:] != tt[:-1], True]
        G[last] = tt[last] + 1.0
        self.s_G = G
        self._dirty = False

    AUCTION_POWER = 2.0  # how strongly the higher (bid x match) wins the advertiser's own duplicates

    def _auction_shares(self) -> np.ndarray:
        """Each term's share of its query's impressions for this advertiser (needs ``s_bid``, ``s_t_on``).

        On Amazon one advertiser's ads compete in the same auction: a search shows at most one of them, the one
        with the best bid x relevance. So a query's reach for this advertiser (``q_reach``) is split between the
        live terms that match it, in proportion to (match share x bid) ** AUCTION_POWER; a duplicate target
        (a harvested exact keyword beside its broad or auto source) takes impressions from the others rather
        than adding new ones. A term that is not live (paused, blocked by a negative) gets the share it would
        have if it joined, so its latent truth stays defined; it serves nothing while not live.
        The competitor auction (``_demand``'s ``1 - exp(-bid / competitor bid)``) still applies on top: a
        higher bid on the winning term buys more of the query, which is what harvesting is worth."""
        tt, tq = self.term_t.a, self.term_q.a
        camp_on = self.s_camp_on[self.s_tcamp[tt]]
        live = self.s_t_on[tt] & camp_on & ~self.term_blocked[: len(tt)]
        w = (self.term_s.a * np.nan_to_num(self.s_bid[tt])) ** self.AUCTION_POWER
        w_live = np.bincount(tq, w * live, minlength=len(self.q_reach))
        denom = w_live[tq] + w * ~live
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(denom > 0, w / np.where(denom > 0, denom, 1.0), 0.0)
        return self.q_reach.a[tq] * share

    def _expected_spend(self) -> np.ndarray:
        lam, ctr, bidp = self._demand(1.0, 1.0)
        spend = (lam * ctr * bidp * 0.75).sum(1)
        return np.bincount(self.s_tcamp, spend, minlength=len(self.campaigns))

    def _demand(self, season: float, wd: float):
        bidp = self.s_bid[:, None] * (1 + self.s_pct[self.s_tcamp] / 100.0)
        share = 1 - np.exp(-bidp / (self.s_comp[:, None] * PLC_COMP[None, :]))
        volshare = np.where(self.s_pt[:, None], PLC_VOL_PT[None, :], PLC_VOL_KW[None, :])
        lam = (self.s_V * season * wd * self.s_t_on)[:, None] * volshare * share
        ctr = np.clip(self.s_ctr[:, None] * PLC_CTR[None, :], 0, 0.5)
        return lam, ctr, bidp

    # ------------------------------------------------------------------ simulation
    def lift(self, date: _dt.date) -> np.ndarray:
        lift = np.ones(len(self.p_asin))
        for c in self.coupons:
            s = self.coupon_series(c)
            k = (date - c["_start"]).days
            if 0 <= k < len(s["active"]) and s["active"][k]:
                for pi in c["_prods"]:
                    lift[pi] *= c["_lift"]
        for d in self.deals:
            if d["_start"] <= date <= d["_end"]:
                for pi in d["_prods"]:
                    lift[pi] *= d["_lift"]
        return lift

    def simulate_day(self) -> None:
        if self._dirty:
            self._rebuild()
        date = self.sim_until
        di = (date - self.start).days
        rng = np.random.default_rng([self.world.seed, self.idx, date.toordinal()])
        season = 1 + 0.12 * math.sin(2 * math.pi * date.toordinal() / 365.0 + self.idx)
        wd = WEEKDAY[date.weekday()]
        ordn = date.toordinal()
        camp_live = self.s_camp_on & (self.s_camp_start <= ordn) & (self.s_camp_end >= ordn)
        lam, ctr, bidp = self._demand(season, wd)
        lam *= camp_live[self.s_tcamp][:, None]
        nT = lam.shape[0]
        cpc = np.floor(bidp * rng.uniform(0.55, 0.95, size=(nT, 3)) * 100)
        cpc = np.clip(cpc, 2, np.floor(bidp * 100 + 1e-6)).astype(np.int64)
        nC = len(self.campaigns)
        demand = np.bincount(self.s_tcamp, (lam * ctr * cpc).sum(1), minlength=nC)
        budget = self.s_budget_c.astype(float)
        f = np.minimum(1.0, np.where(demand > 0, budget * 0.97 / np.maximum(demand, 1e-9), 1.0))
        imps = rng.poisson(lam * f[self.s_tcamp][:, None])
        clicks = rng.binomial(imps, ctr)
        flat = clicks.ravel()
        nz = np.flatnonzero(flat)
        reps = flat[nz]
        ev = np.repeat(nz, reps)
        tgt = (ev // 3).astype(np.int64)
        plc = (ev % 3).astype(np.int8)
        cost = cpc.ravel()[ev]
        # hard budget cap (spend never exceeds the daily budget)
        camp = self.s_tcamp[tgt]
        order = np.lexsort((rng.random(len(ev)), camp))
        cs = np.cumsum(cost[order])
        cnts = np.bincount(camp, minlength=nC)
        starts = np.concatenate([[0], np.cumsum(cnts)])[:-1]
        base = np.concatenate([[0], cs])[starts]
        within = cs - base[camp[order]]
        keep_sorted = within <= self.s_budget_c[camp[order]]
        keep = np.zeros(len(ev), dtype=bool)
        keep[order] = keep_sorted
        dropped = np.bincount(camp[~keep], minlength=nC)
        tgt, plc, cost, camp = tgt[keep], plc[keep], cost[keep], camp[keep]
        n = len(tgt)
        term = np.searchsorted(self.s_G, tgt + rng.random(n) * (1 - 1e-9), side="right").astype(np.int64)
        term = np.minimum(term, len(self.s_G) - 1)
        ag = self.s_tag[tgt]
        ad = self.s_ag_ads[self.s_ag_ptr[ag] + np.floor(rng.random(n) * self.s_ag_nads[ag]).astype(np.int64)]
        prod = np.asarray(self.ad_prod, dtype=np.int64)[ad]
        lift = self.lift(date)
        p = self.q_rel.a[self.term_q.a[term]] * self.p_cvr[prod] * PLC_CVR[plc] * lift[prod]
        conv = rng.random(n) < np.minimum(p, 0.95)
        lag = rng.choice(30, size=n, p=_LAG_P).astype(np.int8)
        r = rng.random(n)
        units = (1 + (r < 0.15) + (r < 0.03)).astype(np.int16)
        pprod = np.where(rng.random(n) < 0.88, prod, rng.integers(0, len(self.p_asin), n))
        sales = np.where(conv, units * self.p_price_c[pprod], 0).astype(np.int64)
        tnz = np.flatnonzero(imps.sum(1))
        volshare = np.where(self.s_pt, PLC_VOL_PT[0], PLC_VOL_KW[0])
        pot = self.s_V * season * wd * self.s_t_on * camp_live[self.s_tcamp] * volshare
        top_pot = np.bincount(self.s_tcamp, pot, minlength=nC)
        self.days.append(
            {
                "date": date,
                "ev": {
                    "day": np.full(n, di, np.int32),
                    "tgt": tgt.astype(np.int32),
                    "term": term.astype(np.int32),
                    "plc": plc,
                    "ad": ad.astype(np.int32),
                    "cost": cost.astype(np.int64),
                    "conv": conv,
                    "lag": lag,
                    "units": np.where(conv, units, 0).astype(np.int16),
                    "pprod": pprod.astype(np.int32),
                    "sales": sales,
                },
                "imp": {
                    "day": np.full(len(tnz), di, np.int32),
                    "tgt": tnz.astype(np.int32),
                    "imps": imps[tnz].astype(np.int32),
                },
                "camp": {
                    "budget_c": self.s_budget_c.copy(),
                    "oob": (demand > budget) | (dropped > 0),
                    "top_imps": np.bincount(self.s_tcamp, imps[:, 0], minlength=nC),
                    "top_pot": top_pot,
                },
            }
        )
        self.sim_until = date + _dt.timedelta(days=1)
        self._cache.clear()

    # views over days ------------------------------------------------------------------
    def slice(self, key: str, start: _dt.date, end: _dt.date) -> dict[str, np.ndarray]:
        """Rows (events or impressions) whose day is in [start, end]: a fresh concatenation of those days only.

        Nothing is cached: a copy of the whole history per key (ev + imp, about 200 MB on the large world) stayed
        in memory beside the per-day arrays it duplicated, and reports read a few days at a time anyway."""
        a = max(0, (start - self.start).days)
        b = min(len(self.days), (end - self.start).days + 1)
        if b <= a:
            return {k: v[:0] for k, v in self.days[0][key].items()}
        parts = [d[key] for d in self.days[a:b]]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def campday(self, start: _dt.date, end: _dt.date) -> list[tuple[_dt.date, dict]]:
        a = max(0, (start - self.start).days)
        b = min(len(self.days), (end - self.start).days + 1)
        return [(self.days[i]["date"], self.days[i]["camp"]) for i in range(a, b)]
