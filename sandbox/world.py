"""The simulated Amazon sellers ("the world"): catalogue, campaigns, latent truth, daily simulation.

Design (why it looks like this):
- Latent truth lives at the *query* level (search volume, click-through, relevance -> conversion, competitor
  bid level).  A target (keyword / targeting clause) is a weighted bag of queries (its search terms), so a
  target's truth is the weighted mean of its terms, a negative keyword simply removes terms, and a harvested
  EXACT keyword inherits the query's truth and gets its own traffic.
- The simulation is a per-day loop vectorised over all targets (never per target-day in Python).  Every click
  is an event (target, search term, placement, ad, cost, converted?, lag, units, purchased product, sales); every
  report is an aggregation of events, so reports at different grains are consistent to the cent.
- Conversions happen `lag` days after the click.  A report only counts a conversion whose purchase day is
  before `today`, and an attribution window w only counts lag < w: recent days "settle" deterministically.
- Each day draws from its own RNG seeded by (seed, profile, day): history never changes after advance().
"""
from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import numpy as np
import pandas as pd

from . import catalog as cat

KINDS = ("campaigns", "adGroups", "keywords", "targets", "negativeKeywords", "productAds")

# Placements.  Names as Amazon writes them in spCampaigns placementClassification (Reporting v3 doc examples
# use "Top of Search on-Amazon", "Detail Page on-Amazon", "Other on-Amazon"; the reference gives no enum).
PLACEMENTS = ("Top of Search on-Amazon", "Other on-Amazon", "Detail Page on-Amazon")
PLC_VOL_KW = np.array([0.25, 0.45, 0.30])
PLC_VOL_PT = np.array([0.10, 0.20, 0.70])
PLC_CTR = np.array([2.2, 0.9, 0.6])
PLC_CVR = np.array([1.35, 0.9, 0.8])
PLC_COMP = np.array([1.6, 1.0, 0.85])
WEEKDAY = np.array([0.97, 0.95, 0.96, 0.99, 1.04, 1.08, 1.05])
# purchase lag after the click (days); window w counts lag < w
_LAG_P = np.zeros(30)
_LAG_P[0], _LAG_P[1], _LAG_P[2] = 0.70, 0.12, 0.07
_LAG_P[3:7] = 0.05 / 4
_LAG_P[7:14] = 0.035 / 7
_LAG_P[14:30] = 0.025 / 16
_LAG_P /= _LAG_P.sum()
UNITS_PER_ORDER = 1 + 0.15 + 0.03

MARKETS = {
    "US": ("ATVPDKIKX0DER", "USD", "America/Los_Angeles", "NA", 1.0),
    "UK": ("A1F83G8C2ARO7P", "GBP", "Europe/London", "EU", 0.8),
    "DE": ("A1PA6795UKMFR9", "EUR", "Europe/Berlin", "EU", 0.92),
    "CA": ("A2EUQ1WTGCTBG2", "CAD", "America/Los_Angeles", "NA", 1.35),
}
AUTO_TYPES = ("QUERY_HIGH_REL_MATCHES", "QUERY_BROAD_REL_MATCHES", "ASIN_ACCESSORY_RELATED", "ASIN_SUBSTITUTE_RELATED")


def _iso(d: _dt.date, t: str = "00:00:00") -> str:
    return f"{d.isoformat()}T{t}Z"


def _r2(x: float) -> float:
    return float(round(x + 0.0, 2))


class _Grow:
    """A growable 1-D numpy array (append in chunks, amortised)."""

    def __init__(self, dtype, data=None):
        self.a = np.asarray(data if data is not None else [], dtype=dtype)

    def extend(self, vals):
        self.a = np.concatenate([self.a, np.asarray(vals, dtype=self.a.dtype)])

    def __len__(self):
        return len(self.a)


class Profile:
    """One advertiser profile: entities (SP v3 dicts), latent truth arrays and simulated events."""

    def __init__(self, world: "World", idx: int, country: str, seller: dict, size: dict):
        self.world = world
        self.idx = idx
        self.country = country
        mkt, cur, tz, region, fx = MARKETS[country]
        self.marketplace, self.currency, self.timezone, self.region, self.fx = mkt, cur, tz, region, fx
        self.seller = seller
        self.size = size
        rng = np.random.default_rng([world.seed, idx, 17])
        self.rng = rng
        self.profile_id = str(int(rng.integers(1_000_000_000_000_000, 4_000_000_000_000_000)))
        self._next_id = int(rng.integers(1 * 10**14, 2 * 10**14))
        self.start = world.today - _dt.timedelta(days=size["days"])
        self.sim_until = self.start  # first day not yet simulated
        self.days: list[dict] = []  # per simulated day: events + impressions + campaign-day
        self._cache: dict[str, Any] = {}
        self._dirty = True
        self.queries: list[str] = []
        self.qmap: dict[str, int] = {}
        self._gen()

    # ------------------------------------------------------------------ ids
    def new_id(self) -> str:
        self._next_id += int(self.rng.integers(1, 5000))
        return str(self._next_id)

    # ------------------------------------------------------------------ generation
    def _q(self, text: str, vol: float, rel: float, comp: float, ctr: float, qv: list) -> int:
        i = self.qmap.get(text)
        if i is None:
            i = len(self.queries)
            self.queries.append(text)
            self.qmap[text] = i
            qv.append((vol, rel, comp, ctr))
        return i

    def _gen(self) -> None:
        rng, size, fx = self.rng, self.size, self.fx
        created = _iso(self.start - _dt.timedelta(days=30), "10:00:00")
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
        self.t_kind: list[str] = []     # "keyword" | "target"
        self.t_ent: list[dict] = []
        self.t_ag: list[int] = []
        self.t_pt: list[bool] = []      # product-page-heavy placement mix
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
        exact_texts: set[str] = set()
        head_tails: dict[int, list[int]] = {}

        def vol():
            return float(rng.lognormal(4.0, 1.3))

        def new_query(text, base_rel=None, v=None):
            rel = base_rel if base_rel is not None else float(rng.lognormal(0.0, 0.45))
            return self._q(text, v if v is not None else vol(), rel,
                           float(rng.lognormal(math.log(0.75 * fx), 0.35)),
                           float(rng.lognormal(math.log(0.0045), 0.4)), qv)

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

        plant_oob = set(int(i) for i in rng.choice(np.flatnonzero(kinds == "kw"), size=min(2, int((kinds == "kw").sum())), replace=False))
        for ci in range(n_camp):
            kind = str(kinds[ci])
            theme = int(rng.choice(themes))
            label, nouns, attrs, brand = cat.THEMES[theme]
            cid = self.new_id()
            mt_style = str(rng.choice(["EXACT", "PHRASE", "BROAD", "MIXED"]))
            if kind == "auto":
                name = f"SP - {label} - Auto"
            elif kind == "kw":
                name = f"SP - {label} - {mt_style.title()} KW"
            else:
                name = f"SP - {label} - Product Targeting"
            name = f"{name} {ci + 1:03d}"
            if hostile_names and ci % 9 == 4:
                name = hostile_names.pop(0)
            start = self.start - _dt.timedelta(days=int(rng.integers(10, 200)))
            state = "ENABLED" if rng.random() > 0.08 or ci < 4 or ci in plant_oob else str(rng.choice(["PAUSED", "ARCHIVED"]))
            top = int(rng.choice([0, 0, 0, 10, 25, 50, 100]))
            pb = [{"placement": "PLACEMENT_TOP", "percentage": top}]
            if rng.random() < 0.3:
                pb.append({"placement": "PLACEMENT_PRODUCT_PAGE", "percentage": int(rng.choice([10, 20, 40]))})
            camp = {
                "campaignId": cid, "name": name, "state": state,
                "targetingType": "AUTO" if kind == "auto" else "MANUAL",
                "startDate": start.isoformat(),
                "budget": {"budget": 0.0, "budgetType": "DAILY", "effectiveBudget": 0.0},
                "dynamicBidding": {"strategy": str(rng.choice(["LEGACY_FOR_SALES", "MANUAL", "AUTO_FOR_SALES"], p=[0.6, 0.3, 0.1])),
                                   "placementBidding": pb},
                "tags": {},
                "extendedData": {"creationDateTime": _iso(start, "09:12:00"), "lastUpdateDateTime": _iso(start, "09:12:00")},
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
                    ag_name = "=IMPORTXML(\"http://evil.example\",\"//a\") <script>alert(1)</script>"
                dbid = round(float(rng.uniform(0.4, 1.2)) * fx, 2)
                ag = {"adGroupId": agid, "campaignId": cid, "name": ag_name,
                      "state": "ENABLED" if rng.random() > 0.05 or gi == 0 else "PAUSED", "defaultBid": dbid,
                      "extendedData": {"creationDateTime": _iso(start, "09:13:00"), "lastUpdateDateTime": _iso(start, "09:13:00")}}
                ai = len(self.adgroups)
                self.ent_index["adGroups"][agid] = ai
                self.adgroups.append(ag)
                self.ag_camp.append(ci)
                self.ag_theme.append(theme)
                prods = rng.choice(theme_prods, size=min(len(theme_prods), int(rng.integers(1, 3))), replace=False)
                for pi in prods:
                    adid = self.new_id()
                    ad = {"adId": adid, "campaignId": cid, "adGroupId": agid, "state": "ENABLED",
                          "asin": self.p_asin[pi], "sku": self.p_sku[pi],
                          "extendedData": {"creationDateTime": _iso(start, "09:14:00"), "lastUpdateDateTime": _iso(start, "09:14:00")}}
                    self.ent_index["productAds"][adid] = len(self.ads)
                    self.ads.append(ad)
                    self.ad_ag.append(ai)
                    self.ad_prod.append(int(pi))
                ext = {"creationDateTime": _iso(start, "09:15:00"), "lastUpdateDateTime": _iso(start, "09:15:00")}
                if kind == "auto":
                    for j, at in enumerate(AUTO_TYPES):
                        tid = self.new_id()
                        ent = {"targetId": tid, "campaignId": cid, "adGroupId": agid,
                               "expression": [{"type": at}], "resolvedExpression": [{"type": at}],
                               "expressionType": "AUTO", "state": "ENABLED",
                               "bid": round(dbid * float(rng.uniform(0.7, 1.3)), 2), "extendedData": dict(ext)}
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
                            qs = [new_query(cat.asin(rng).lower(), v=vol() * 0.4) for _ in range(int(rng.integers(10, 30)))]
                            sh = [float(rng.uniform(0.05, 0.3)) for _ in qs]
                        else:
                            a = cat.asin(rng)
                            expr = [{"type": "ASIN_SAME_AS", "value": a}]
                            rexpr = [{"type": "ASIN_SAME_AS", "value": a}]
                            qs = [new_query(a.lower())] + [new_query(cat.asin(rng).lower(), v=vol() * 0.2) for _ in range(int(rng.integers(0, 3)))]
                            sh = [0.6] + [0.2] * (len(qs) - 1)
                        planted = ""
                        if rng.random() < 0.04:
                            planted = "bleeder"
                            for q in qs:
                                qv[q] = (qv[q][0] * 2, 0.0, qv[q][2], qv[q][3])
                        ent = {"targetId": tid, "campaignId": cid, "adGroupId": agid, "expression": expr,
                               "resolvedExpression": rexpr, "expressionType": "MANUAL",
                               "state": "ENABLED" if rng.random() > 0.05 else "PAUSED",
                               "bid": round(dbid * float(rng.uniform(0.6, 1.4)), 2), "extendedData": dict(ext)}
                        self.ent_index["targets"][tid] = len(self.targets)
                        self.targets.append(ent)
                        add_target("target", ent, ai, True, planted, qs, sh)
                else:
                    used = set()
                    for j in range(per_ag):
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
                            tl = [new_query(f"{head} {s}", base_rel=0.0, v=vol() * 0.5) for s in cat.SUFFIXES[:int(rng.integers(2, 6))]]
                        else:
                            tl = tails_of(hq, theme)
                        if mt == "EXACT":
                            qs = [hq, new_query(cat.plural(head), base_rel=qv[hq][1], v=qv[hq][0] * 0.15),
                                  new_query(cat.typo(head, rng), base_rel=qv[hq][1], v=qv[hq][0] * 0.05)]
                            sh = [1.0, 1.0, 1.0]
                            exact_texts.add(head)
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
                        ent = {"keywordId": kid, "campaignId": cid, "adGroupId": agid, "keywordText": head,
                               "matchType": mt, "state": "ENABLED" if rng.random() > 0.04 or planted else "PAUSED",
                               "bid": bid, "extendedData": dict(ext)}
                        self.ent_index["keywords"][kid] = len(self.keywords)
                        self.keywords.append(ent)
                        add_target("keyword", ent, ai, False, planted, qs, sh)
                    # a few pre-existing negatives
                    if rng.random() < 0.4:
                        nid = self.new_id()
                        neg = {"keywordId": nid, "campaignId": cid, "adGroupId": agid,
                               "keywordText": f"{nouns[0]} {cat.IRRELEVANT[int(rng.integers(len(cat.IRRELEVANT)))]}",
                               "matchType": "NEGATIVE_PHRASE", "state": "ENABLED", "extendedData": dict(ext)}
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
        cand = np.flatnonzero(np.isin(np.array([self.t_kind[t] == "target" or self.t_ent[t].get("matchType") in ("BROAD", "PHRASE")
                                                for t in range(len(self.t_kind))])[self.term_t.a], True))
        cand = [i for i in cand[rng.permutation(len(cand))][:400]
                if self.queries[self.term_q.a[i]] not in exact_texts and self.q_rel.a[self.term_q.a[i]] > 0
                and not self.queries[self.term_q.a[i]].startswith("b0")][: max(5, len(self.t_kind) // 150)]
        for i in cand:
            qi = self.term_q.a[i]
            self.q_rel.a[qi] = max(self.q_rel.a[qi], 2.2)
            self.q_vol.a[qi] = max(self.q_vol.a[qi], 200.0)
            self.term_s.a[i] = max(self.term_s.a[i], 0.6)
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
        # planted efficient campaigns: make their queries strong converters
        for ci in np.flatnonzero(np.array(self.camp_planted) == "efficient_out_of_budget"):
            tmask = self.s_tcamp == ci
            qs = np.unique(self.term_q.a[tmask[self.term_t.a]])
            qs = qs[self.q_rel.a[qs] > 0]  # bleeders stay bleeders
            self.q_rel.a[qs] = np.maximum(self.q_rel.a[qs], 1.8)
        self._dirty = True
        self._gen_promotions()

    # ------------------------------------------------------------------ negatives / sim arrays
    def _apply_negatives(self, ag_only: set[int] | None = None) -> None:
        """Recompute which (target, term) pairs are blocked by enabled ad-group negative keywords."""
        tag = np.asarray(self.t_ag, dtype=np.int32)
        term_ag = tag[self.term_t.a]
        if len(self.term_blocked) < len(self.term_t):
            self.term_blocked = np.concatenate([self.term_blocked, np.zeros(len(self.term_t) - len(self.term_blocked), bool)])
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
        self.s_camp_end = np.array([_dt.date.fromisoformat(c["endDate"]).toordinal() if c.get("endDate") else 10**7 for c in self.campaigns])
        self.s_budget_c = np.array([int(round(float(c["budget"]["budget"]) * 100)) for c in self.campaigns], dtype=np.int64)
        pct = np.zeros((len(self.campaigns), 3))
        for ci, c in enumerate(self.campaigns):
            for pb in (c.get("dynamicBidding") or {}).get("placementBidding") or []:
                j = {"PLACEMENT_TOP": 0, "PLACEMENT_REST_OF_SEARCH": 1, "PLACEMENT_PRODUCT_PAGE": 2}.get(pb.get("placement"))
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
        # latent per target from its unblocked terms
        tt, tq = self.term_t.a, self.term_q.a
        s = self.term_s.a * self.q_vol.a[tq] * (~self.term_blocked)
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
        self.days.append({
            "date": date,
            "ev": {"day": np.full(n, di, np.int32), "tgt": tgt.astype(np.int32), "term": term.astype(np.int32),
                   "plc": plc, "ad": ad.astype(np.int32), "cost": cost.astype(np.int64), "conv": conv, "lag": lag,
                   "units": np.where(conv, units, 0).astype(np.int16), "pprod": pprod.astype(np.int32), "sales": sales},
            "imp": {"day": np.full(len(tnz), di, np.int32), "tgt": tnz.astype(np.int32), "imps": imps[tnz].astype(np.int32)},
            "camp": {"budget_c": self.s_budget_c.copy(), "oob": (demand > budget) | (dropped > 0),
                     "top_imps": np.bincount(self.s_tcamp, imps[:, 0], minlength=nC), "top_pot": top_pot},
        })
        self.sim_until = date + _dt.timedelta(days=1)
        self._cache.clear()

    # concatenated views ------------------------------------------------------------
    def _concat(self, key: str) -> dict[str, np.ndarray]:
        c = self._cache.get(key)
        if c is None:
            parts = [d[key] for d in self.days]
            c = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
            c["_off"] = np.concatenate([[0], np.cumsum([len(p["day"]) for p in parts])])
            self._cache[key] = c
        return c

    def slice(self, key: str, start: _dt.date, end: _dt.date) -> dict[str, np.ndarray]:
        """Rows (events or impressions) whose day is in [start, end]."""
        c = self._concat(key)
        a = max(0, (start - self.start).days)
        b = min(len(self.days), (end - self.start).days + 1)
        if b <= a:
            return {k: v[:0] for k, v in c.items() if k != "_off"}
        lo, hi = c["_off"][a], c["_off"][b]
        return {k: v[lo:hi] for k, v in c.items() if k != "_off"}

    def campday(self, start: _dt.date, end: _dt.date) -> list[tuple[_dt.date, dict]]:
        a = max(0, (start - self.start).days)
        b = min(len(self.days), (end - self.start).days + 1)
        return [(self.days[i]["date"], self.days[i]["camp"]) for i in range(a, b)]

    # ------------------------------------------------------------------ promotions
    def _gen_promotions(self) -> None:
        rng = np.random.default_rng([self.world.seed, self.idx, 99])
        today = self.world.today
        self.coupons: list[dict] = []
        self.deals: list[dict] = []
        n_c = int(rng.integers(4, 8)) if self.size["campaigns"] >= 10 else 3
        segs = ["All (Default)", "Amazon Prime", "Amazon Student"]
        plans = ["pacing_fast", "pacing_slow"] + [""] * (n_c - 2)
        for i in range(n_c):
            planted = plans[i]
            prods = [int(x) for x in rng.choice(len(self.p_asin), size=int(rng.integers(1, 4)), replace=False)]
            if planted:
                start = today - _dt.timedelta(days=10)
                dur = 30
            else:
                start = today - _dt.timedelta(days=int(rng.integers(5, 110)))
                dur = int(rng.integers(7, 60))
            pct = rng.random() < 0.6
            val = float(rng.choice([5, 10, 15, 20, 25])) if pct else float(round(float(rng.choice([2, 3, 5, 10])) * self.fx, 2))
            seg = segs[0] if i % 3 == 0 or planted else segs[i % 3]
            c = self._make_coupon(prods, "PERCENT_OFF_LIST_PRICE" if pct else "AMOUNT_OFF_LIST_PRICE", val, None,
                                  start, start + _dt.timedelta(days=dur - 1), seg, planted, rng)
            daily = self._coupon_daily_cost(c)
            if planted == "pacing_fast":
                c["budget"] = float(round(max(100.0, daily * 13), 0))
            elif planted == "pacing_slow":
                c["budget"] = float(round(max(100.0, daily * dur * 8), 0))
            else:
                c["budget"] = float(round(max(100.0, daily * dur * float(rng.uniform(0.8, 2.5))), 0))
            self.coupons.append(c)
        for j, typ in enumerate(["BEST_DEAL", "LIGHTNING_DEAL"] if self.size["campaigns"] >= 10 else ["LIGHTNING_DEAL"]):
            prods = [int(x) for x in rng.choice(len(self.p_asin), size=2 if typ == "BEST_DEAL" else 1, replace=False)]
            start = today - _dt.timedelta(days=int(rng.integers(15, 80)))
            end = start + _dt.timedelta(days=6 if typ == "BEST_DEAL" else 0)
            did = str(int(rng.integers(10**10, 10**11)))
            created = start - _dt.timedelta(days=int(rng.integers(14, 40)))
            self.deals.append({"promotionId": did, "type": typ, "_start": start, "_end": end, "_prods": prods,
                               "_lift": 1.5 if typ == "BEST_DEAL" else 1.8, "_created": created,
                               "promotionName": f"{self.p_title[prods[0]][:40]} {'Best Deal' if typ == 'BEST_DEAL' else 'Lightning Deal'}",
                               "_seed": int(rng.integers(1 << 30))})

    def _make_coupon(self, prods, dtype, val, budget, start, end, seg, planted, rng) -> dict:
        cid = "A" + "".join(rng.choice(cat.ALNUM, 13))
        depth = (val / 100.0) if dtype == "PERCENT_OFF_LIST_PRICE" else min(0.6, val / float(np.mean(self.p_price[prods])))
        segf = {"All (Default)": 1.0, "Amazon Prime": 0.65, "Amazon Student": 0.15}.get(seg, 0.5)
        name = f"{'%g%%' % val if dtype == 'PERCENT_OFF_LIST_PRICE' else '%s %.2f' % (self.currency, val)} off {self.p_title[prods[0]][:30]}"
        return {"couponId": cid, "name": name, "websiteMessage": f"Save on {self.p_title[prods[0]][:40]}",
                "discountType": dtype, "discountAmount": val, "customerSegment": seg, "budget": budget,
                "_start": start, "_end": end, "_prods": prods, "_depth": depth, "_segf": segf,
                "_lift": 1 + min(0.6, depth * 1.6) * segf, "_planted": planted, "_seed": int(rng.integers(1 << 30))}

    def _coupon_daily_cost(self, c) -> float:
        units = sum(self.p_base_units[p] for p in c["_prods"]) * (0.4 + c["_depth"]) * c["_segf"]
        disc = np.mean([self._disc_c(c, p) for p in c["_prods"]]) / 100.0
        price = np.mean(self.p_price[c["_prods"]])
        return float(units * (disc + 0.025 * (price - disc)))

    def _disc_c(self, c, p) -> int:
        if c["discountType"] == "PERCENT_OFF_LIST_PRICE":
            return int(round(self.p_price_c[p] * c["discountAmount"] / 100.0))
        return min(int(round(c["discountAmount"] * 100)), int(self.p_price_c[p] * 0.8))

    def coupon_series(self, c) -> dict:
        """Deterministic daily series over the coupon's whole span (independent of ads)."""
        s = c.get("_series")
        if s is not None:
            return s
        n = (c["_end"] - c["_start"]).days + 1
        rng = np.random.default_rng([self.world.seed, self.idx, c["_seed"]])
        budget_c = int(round((c["budget"] or 0) * 100))
        red = np.zeros(n, np.int64); clips = np.zeros(n, np.int64); disc = np.zeros(n, np.int64)
        spent = np.zeros(n, np.int64); sales = np.zeros(n, np.int64); active = np.zeros(n, bool)
        cum = 0
        fee_c = 0
        for k in range(n):
            if budget_c and cum >= budget_c * 0.999:
                break
            active[k] = True
            for p in c["_prods"]:
                r = int(rng.poisson(self.p_base_units[p] * (0.4 + c["_depth"]) * c["_segf"]))
                d1 = self._disc_c(c, p)
                sale = r * (int(self.p_price_c[p]) - d1)
                fee = (500 if (fee_c == 0 and r > 0) else 0)
                f2 = min(int(round(sale * 0.025)), max(0, 200000 - fee_c))
                cost = r * d1 + fee + f2
                if budget_c and cum + cost > budget_c:  # budget runs out within the day
                    room = budget_c - cum
                    per = max(1, d1 + int(round((int(self.p_price_c[p]) - d1) * 0.025)))
                    r = max(0, min(r, (room - fee) // per))
                    sale = r * (int(self.p_price_c[p]) - d1)
                    f2 = int(round(sale * 0.025))
                    fee = fee if r > 0 else 0
                    cost = r * d1 + fee + f2
                fee_c += fee + f2
                red[k] += r
                clips[k] += r + int(rng.poisson(r * 2.5 + 1))
                disc[k] += r * d1
                spent[k] += cost
                sales[k] += sale
                cum += cost
        s = {"red": red, "clips": clips, "disc": disc, "spent": spent, "sales": sales, "active": active}
        c["_series"] = s
        return s

    def deal_series(self, d) -> dict:
        rng = np.random.default_rng([self.world.seed, self.idx, d["_seed"]])
        n = (d["_end"] - d["_start"]).days + 1
        units = {p: rng.poisson(self.p_base_units[p] * 3.0 * (0.5 if d["type"] == "LIGHTNING_DEAL" else 1.0), n) for p in d["_prods"]}
        gv = {p: (units[p] * rng.uniform(8, 15, n)).astype(np.int64) for p in d["_prods"]}
        return {"units": units, "gv": gv}


class World:
    """The simulated Amazon sellers.  Deterministic from (seed, scale, today)."""

    def __init__(self, seed: int = 7, scale: str = "demo", today: _dt.date | None = None) -> None:
        if scale not in ("demo", "large"):
            raise ValueError("scale must be 'demo' or 'large'")
        self.seed = int(seed)
        self.scale = scale
        self.today = today or _dt.datetime.now(_dt.timezone.utc).date()
        r = np.random.default_rng([self.seed, 4242])
        suffix = "".join(r.choice(cat.ALNUM, 8))
        suffix2 = "".join(r.choice(cat.ALNUM, 7))
        self._sellers = [
            {"sellerId": f"A2DEMO{suffix}", "name": "Demo Seller", "profileIds": []},
            {"sellerId": f"A3SECOND{suffix2}", "name": "Second Seller", "profileIds": []},
        ]
        self._profiles: dict[str, Profile] = {}
        specs = [("US", 0), ("UK", 0), ("DE", 0), ("CA", 1)]
        for i, (country, si) in enumerate(specs):
            pr = np.random.default_rng([self.seed, i, 3])
            if si == 1:
                size = {"campaigns": 5, "targets": 180, "products": 12, "days": 120}
            elif scale == "large" and country == "US":
                size = {"campaigns": 520, "targets": 52000, "products": 250, "days": 95, "volume": 0.6}
            else:
                size = {"campaigns": int(pr.integers(20, 31)), "targets": int(pr.integers(1100, 1800)),
                        "products": int(pr.integers(30, 51)), "days": 120}
            p = Profile(self, i, country, self._sellers[si], size)
            self._profiles[p.profile_id] = p
            self._sellers[si]["profileIds"].append(p.profile_id)
        for p in self._profiles.values():
            while p.sim_until < self.today:
                p.simulate_day()

    # ------------------------------------------------------------------ accounts
    def sellers(self) -> list[dict]:
        return [{"sellerId": s["sellerId"], "name": s["name"], "profileIds": list(s["profileIds"])} for s in self._sellers]

    def profiles(self) -> list[dict]:
        return [self._profile_json(p) for p in self._profiles.values()]

    def _profile_json(self, p: Profile) -> dict:
        return {"profileId": int(p.profile_id), "countryCode": p.country, "currencyCode": p.currency,
                "dailyBudget": 999999999.0, "timezone": p.timezone,
                "accountInfo": {"marketplaceStringId": p.marketplace, "id": p.seller["sellerId"], "type": "seller",
                                "name": p.seller["name"], "validPaymentMethod": True}}

    def profile(self, profile_id: str) -> dict | None:
        p = self._profiles.get(str(profile_id))
        return self._profile_json(p) if p else None

    def region_of(self, profile_id: str) -> str | None:
        p = self._profiles.get(str(profile_id))
        return p.region if p else None

    def _p(self, profile_id: str) -> Profile:
        p = self._profiles.get(str(profile_id))
        if p is None:
            raise KeyError(f"unknown profile {profile_id}")
        return p

    def _p_by_seller(self, seller_id: str, marketplace_id: str) -> Profile | None:
        for p in self._profiles.values():
            if p.seller["sellerId"] == seller_id and p.marketplace == marketplace_id:
                return p
        return None

    # ------------------------------------------------------------------ entities
    def _list(self, p: Profile, kind: str) -> list[dict]:
        return {"campaigns": p.campaigns, "adGroups": p.adgroups, "keywords": p.keywords, "targets": p.targets,
                "negativeKeywords": p.negatives, "productAds": p.ads}[kind]

    def _serving(self, p: Profile, kind: str, e: dict) -> tuple[str, list]:
        if kind == "campaigns":
            ci = p.ent_index["campaigns"][e["campaignId"]]
            camp = e
        else:
            ci = p.ent_index["campaigns"].get(e.get("campaignId"))
            camp = p.campaigns[ci] if ci is not None else None
        today = self.today
        cstat = "CAMPAIGN_STATUS_ENABLED"
        if camp is not None:
            if camp["state"] == "ARCHIVED":
                cstat = "CAMPAIGN_ARCHIVED"
            elif camp["state"] == "PAUSED":
                cstat = "CAMPAIGN_PAUSED"
            elif camp.get("endDate") and _dt.date.fromisoformat(camp["endDate"]) < today:
                cstat = "ENDED"
            elif _dt.date.fromisoformat(camp["startDate"]) > today:
                cstat = "PENDING_START_DATE"
            elif p.days and ci is not None and ci < len(p.days[-1]["camp"]["oob"]) and p.days[-1]["camp"]["oob"][ci]:
                cstat = "CAMPAIGN_OUT_OF_BUDGET"
        if kind == "campaigns":
            st = cstat
        else:
            own = {"ARCHIVED": "ARCHIVED", "PAUSED": "PAUSED"}.get(e["state"])
            if kind == "adGroups":
                st = f"AD_GROUP_{own}" if own else (cstat if cstat != "CAMPAIGN_STATUS_ENABLED" else "AD_GROUP_STATUS_ENABLED")
            else:
                ai = p.ent_index["adGroups"].get(e.get("adGroupId"))
                ag = p.adgroups[ai] if ai is not None else None
                if own:
                    st = (f"AD_{own}" if kind == "productAds" else f"TARGETING_CLAUSE_{own}")
                elif ag is not None and ag["state"] != "ENABLED":
                    st = f"AD_GROUP_{ag['state']}"
                elif cstat != "CAMPAIGN_STATUS_ENABLED":
                    st = cstat
                else:
                    st = "AD_STATUS_LIVE" if kind == "productAds" else "TARGETING_CLAUSE_STATUS_LIVE"
        # Detail names are the status plus "_DETAIL", as the spec's *ServingStatusReason enums list them.
        details = [] if st.endswith(("ENABLED", "LIVE")) else [{"name": f"{st}_DETAIL", "message": st.replace("_", " ").capitalize()}]
        return st, details

    def _out(self, p: Profile, kind: str, e: dict) -> dict:
        o = dict(e)
        if "budget" in o:
            o["budget"] = dict(o["budget"])
        if "dynamicBidding" in o:
            o["dynamicBidding"] = {**o["dynamicBidding"], "placementBidding": [dict(x) for x in o["dynamicBidding"].get("placementBidding", [])]}
        for k in ("expression", "resolvedExpression"):
            if k in o:
                o[k] = [dict(x) for x in o[k]]
        if "tags" in o:
            o["tags"] = dict(o["tags"])
        st, det = self._serving(p, kind, e)
        o["extendedData"] = {**e.get("extendedData", {}), "servingStatus": st, "servingStatusDetails": det}
        return o

    def entities(self, profile_id: str, kind: str) -> list[dict]:
        """SP v3 entities of a kind, stable order by id (ids grow monotonically), ARCHIVED included."""
        p = self._p(profile_id)
        return [self._out(p, kind, e) for e in self._list(p, kind)]

    def get_entity(self, profile_id: str, kind: str, entity_id: str) -> dict | None:
        p = self._p(profile_id)
        i = p.ent_index[kind].get(str(entity_id))
        return None if i is None else self._out(p, kind, self._list(p, kind)[i])

    def _now_iso(self) -> str:
        return _iso(self.today, "12:00:00")

    def create_entities(self, profile_id: str, kind: str, items: list[dict]) -> list[dict]:
        """Store validated items with new ids; new keywords/targets get latent truth from their queries."""
        p = self._p(profile_id)
        out = []
        now = self._now_iso()
        for it in items:
            e = {k: v for k, v in it.items() if k != "extendedData"}
            e.setdefault("state", "ENABLED")
            eid = p.new_id()
            e["extendedData"] = {"creationDateTime": now, "lastUpdateDateTime": now}
            if kind == "campaigns":
                e["campaignId"] = eid
                e.setdefault("startDate", self.today.isoformat())
                b = dict(e.get("budget") or {"budget": 10.0})
                b.setdefault("budgetType", "DAILY")
                b["effectiveBudget"] = b.get("budget")
                e["budget"] = b
                e.setdefault("dynamicBidding", {"strategy": "LEGACY_FOR_SALES", "placementBidding": []})
                e.setdefault("tags", {})
                p.ent_index[kind][eid] = len(p.campaigns)
                p.campaigns.append(e)
                p.camp_kind.append("auto" if e.get("targetingType") == "AUTO" else "kw")
                p.camp_planted.append("")
            elif kind == "adGroups":
                e["adGroupId"] = eid
                ci = p.ent_index["campaigns"][str(e["campaignId"])]
                p.ent_index[kind][eid] = len(p.adgroups)
                p.adgroups.append(e)
                p.ag_camp.append(ci)
                p.ag_theme.append(int(p.ag_theme[-1]) if p.ag_theme else 0)
                if p.camp_kind[ci] == "auto":  # Amazon creates the four auto targeting clauses
                    for at in AUTO_TYPES:
                        self.create_entities(profile_id, "targets", [{"campaignId": e["campaignId"], "adGroupId": eid,
                                             "expression": [{"type": at}], "expressionType": "AUTO", "state": "ENABLED"}])
            elif kind == "productAds":
                e["adId"] = eid
                pi = p.sku_index.get(e.get("sku"), p.asin_index.get(e.get("asin"), -1))
                if pi >= 0:
                    e.setdefault("sku", p.p_sku[pi])
                    e.setdefault("asin", p.p_asin[pi])
                ai = p.ent_index["adGroups"][str(e["adGroupId"])]
                p.ent_index[kind][eid] = len(p.ads)
                p.ads.append(e)
                p.ad_ag.append(ai)
                p.ad_prod.append(pi)
            elif kind == "negativeKeywords":
                e["keywordId"] = eid
                p.ent_index[kind][eid] = len(p.negatives)
                p.negatives.append(e)
                ai = p.ent_index["adGroups"].get(str(e["adGroupId"]))
                if ai is not None:
                    p._apply_negatives({ai})
            elif kind in ("keywords", "targets"):
                if kind == "keywords":
                    e["keywordId"] = eid
                else:
                    e["targetId"] = eid
                    e.setdefault("resolvedExpression", [dict(x) for x in e.get("expression", [])])
                    e.setdefault("expressionType", "MANUAL")
                p.ent_index[kind][eid] = len(self._list(p, kind))
                self._list(p, kind).append(e)
                self._new_target(p, kind, e)
            else:
                raise ValueError(kind)
            p._dirty = True
            out.append(self._out(p, kind, e))
        return out

    def _qid(self, p: Profile, text: str, rel=None, vol=None) -> int:
        i = p.qmap.get(text)
        if i is not None:
            return i
        import zlib
        h = np.random.default_rng([self.seed, p.idx, zlib.crc32(text.encode("utf-8"))])
        i = len(p.queries)
        p.queries.append(text)
        p.qmap[text] = i
        p.q_vol.extend([vol if vol is not None else float(h.lognormal(3.0, 1.0))])
        p.q_rel.extend([rel if rel is not None else float(h.lognormal(-0.3, 0.5))])
        p.q_comp.extend([float(h.lognormal(math.log(0.75 * p.fx), 0.35))])
        p.q_ctr.extend([float(h.lognormal(math.log(0.0045), 0.4))])
        return i

    def _new_target(self, p: Profile, kind: str, e: dict) -> None:
        ai = p.ent_index["adGroups"][str(e["adGroupId"])]
        qs: list[int] = []
        sh: list[float] = []
        if kind == "keywords":
            text = e["keywordText"].strip().lower()
            mt = e["matchType"]
            qs.append(self._qid(p, text))
            sh.append(1.0 if mt == "EXACT" else 0.5)
            if mt == "EXACT":
                p.exact_texts.add(text)
            else:
                words = text.split()
                pad = f" {text} "
                for qi, qt in enumerate(p.queries):
                    if qt == text:
                        continue
                    ok = (pad in f" {qt} ") if mt == "PHRASE" else all(w in qt.split() for w in words)
                    if ok:
                        qs.append(qi)
                        sh.append(0.35)
                        if len(qs) > 40:
                            break
            pt = False
        else:
            types = [x.get("type") for x in e.get("expression", [])]
            pt = True
            if any(t in ("QUERY_HIGH_REL_MATCHES", "QUERY_BROAD_REL_MATCHES") for t in types):
                pt = False
            th = cat.THEMES[p.ag_theme[ai] % len(cat.THEMES)]
            vals = [str(x.get("value", "")) for x in e.get("expression", []) if x.get("value")]
            if any(t == "ASIN_SAME_AS" for t in types) and vals:
                qs.append(self._qid(p, vals[0].lower()))
                sh.append(0.6)
            else:
                rng = np.random.default_rng([self.seed, p.idx, len(p.t_kind)])
                for _ in range(20):
                    if pt:
                        qs.append(self._qid(p, cat.asin(rng).lower(), vol=float(rng.lognormal(3.0, 1.0))))
                    else:
                        qs.append(self._qid(p, f"{th[2][int(rng.integers(len(th[2])))]} {th[1][0]}"))
                    sh.append(0.15)
        ti = len(p.t_kind)
        p.t_kind.append("keyword" if kind == "keywords" else "target")
        p.t_ent.append(e)
        p.t_ag.append(ai)
        p.t_pt.append(pt)
        p.t_planted.append("")
        p.term_t.extend([ti] * len(qs))
        p.term_q.extend(qs)
        p.term_s.extend(sh)
        p.term_blocked = np.concatenate([p.term_blocked, np.zeros(len(qs), bool)])
        p._apply_negatives({ai})

    def update_entity(self, profile_id: str, kind: str, entity_id: str, changes: dict) -> dict:
        p = self._p(profile_id)
        e = self._list(p, kind)[p.ent_index[kind][str(entity_id)]]
        for k, v in changes.items():
            if k in ("campaignId", "adGroupId", "keywordId", "targetId", "adId", "extendedData") and k in e:
                continue
            if k == "budget" and isinstance(v, dict):
                b = dict(e.get("budget") or {})
                b.update(v)
                b["effectiveBudget"] = b.get("budget")
                e["budget"] = b
            elif k == "dynamicBidding" and isinstance(v, dict):
                db = dict(e.get("dynamicBidding") or {})
                db.update(v)
                e["dynamicBidding"] = db
            else:
                e[k] = v
        e.setdefault("extendedData", {})["lastUpdateDateTime"] = self._now_iso()
        if kind == "negativeKeywords":
            ai = p.ent_index["adGroups"].get(str(e["adGroupId"]))
            if ai is not None:
                p._apply_negatives({ai})
        p._dirty = True
        return self._out(p, kind, e)

    def archive_entity(self, profile_id: str, kind: str, entity_id: str) -> dict:
        return self.update_entity(profile_id, kind, entity_id, {"state": "ARCHIVED"})

    # ------------------------------------------------------------------ time
    def advance(self, days: int, profile_ids: list[str] | None = None) -> None:
        """Simulate `days` more days under the current settings; history is never re-drawn.

        `profile_ids` (evaluation use): simulate only these profiles; the others fall behind until the next
        advance without `profile_ids`, which catches them up (under the settings of that moment). Each day's
        draws depend only on (seed, profile, day), so the simulated profiles get exactly the days a full
        advance would give them."""
        only = None if profile_ids is None else {str(x) for x in profile_ids}
        for _ in range(int(days)):
            self.today = self.today + _dt.timedelta(days=1)
            for pid, p in self._profiles.items():
                if only is None or pid in only:
                    while p.sim_until < self.today:
                        p.simulate_day()

    # ------------------------------------------------------------------ reports
    def report_rows(self, profile_id: str, report_type_id: str, group_by: list[str], time_unit: str,
                    start: _dt.date, end: _dt.date, columns: list[str], filters: list[dict] | None = None) -> list[dict]:
        from . import reports
        return reports.report_rows(self, self._p(profile_id), report_type_id, group_by, time_unit, start, end, columns, filters)

    def totals(self, profile_id: str, start: _dt.date, end: _dt.date) -> dict:
        from . import reports
        return reports.totals(self, self._p(profile_id), start, end)

    # ------------------------------------------------------------------ promotions
    def coupons(self, seller_id: str, marketplace_id: str, start_from: _dt.datetime, start_to: _dt.datetime) -> list[dict]:
        from . import reports
        p = self._p_by_seller(seller_id, marketplace_id)
        return [] if p is None else reports.coupon_items(self, p, start_from, start_to)

    def deals(self, seller_id: str, marketplace_id: str, start_from: _dt.datetime, start_to: _dt.datetime) -> list[dict]:
        from . import reports
        p = self._p_by_seller(seller_id, marketplace_id)
        return [] if p is None else reports.deal_items(self, p, start_from, start_to)

    def upload_coupons(self, seller_id: str, marketplace_id: str, rows: list[dict]) -> list[str]:
        p = self._p_by_seller(seller_id, marketplace_id)
        if p is None:
            raise KeyError("no profile for that seller and marketplace")
        rng = np.random.default_rng([self.seed, p.idx, 7, len(p.coupons), self.today.toordinal()])
        ids = []
        for row in rows:
            prods = [p.asin_index[a] for a in row.get("asins", []) if a in p.asin_index]
            dt = "PERCENT_OFF_LIST_PRICE" if str(row.get("discount_type", "")).lower().startswith("perc") else "AMOUNT_OFF_LIST_PRICE"
            sd, ed = row["start_date"], row["end_date"]
            if isinstance(sd, _dt.datetime):
                sd = sd.date()
            if isinstance(ed, _dt.datetime):
                ed = ed.date()
            c = p._make_coupon(prods or [0], dt, float(row["discount_value"]), float(row["budget"]), sd, ed,
                               row.get("customer_segment") or "All (Default)", "", rng)
            c["name"] = str(row.get("title") or c["name"])
            c["_once"] = bool(row.get("once_per_customer", True))
            c["_asins"] = list(row.get("asins", []))
            p.coupons.append(c)
            ids.append(c["couponId"])
        return ids

    # ------------------------------------------------------------------ truth
    def truth_products(self, profile_id: str) -> pd.DataFrame:
        p = self._p(profile_id)
        return pd.DataFrame({"asin": p.p_asin, "sku": p.p_sku, "title": p.p_title, "price": p.p_price,
                             "margin": p.p_margin, "base_cvr": p.p_cvr})

    def _target_truth_arrays(self, p: Profile):
        if p._dirty:
            p._rebuild()
        nT = len(p.t_kind)
        tt, tq = p.term_t.a, p.term_q.a
        ad_prod = np.asarray(p.ad_prod)
        ag_cvr = np.zeros(len(p.adgroups)); ag_price = np.zeros(len(p.adgroups)); ag_margin = np.zeros(len(p.adgroups))
        cnt = np.zeros(len(p.adgroups))
        for ai_, (ag, pr) in enumerate(zip(p.ad_ag, ad_prod)):
            if pr >= 0:
                ag_cvr[ag] += p.p_cvr[pr]; ag_price[ag] += p.p_price[pr]; ag_margin[ag] += p.p_margin[pr]; cnt[ag] += 1
        cnt = np.maximum(cnt, 1)
        ag_cvr /= cnt; ag_price /= cnt; ag_margin /= cnt
        term_cvr = p.q_rel.a[tq] * ag_cvr[p.s_tag[tt]]
        s = p.term_s.a * p.q_vol.a[tq] * p.q_ctr.a[tq] * (~p.term_blocked)
        with np.errstate(invalid="ignore", divide="ignore"):
            t_cvr = np.nan_to_num(np.bincount(tt, s * term_cvr, minlength=nT) / np.bincount(tt, s, minlength=nT))
        mix = np.where(p.s_pt[:, None], PLC_VOL_PT[None, :], PLC_VOL_KW[None, :])
        cvr_mult = (mix * PLC_CTR * PLC_CVR).sum(1) / (mix * PLC_CTR).sum(1)
        return term_cvr, t_cvr * cvr_mult, ag_price[p.s_tag] * UNITS_PER_ORDER, ag_margin[p.s_tag], cvr_mult

    def truth_targets(self, profile_id: str) -> pd.DataFrame:
        """Latent truth per keyword/target.  true_cvr is click-weighted over terms and placements."""
        p = self._p(profile_id)
        term_cvr, t_cvr, aov, margin, _ = self._target_truth_arrays(p)
        rows = {"entity_id": [], "kind": [], "campaign_id": [], "ad_group_id": [], "text": [], "match_type": [], "state": []}
        for e, k in zip(p.t_ent, p.t_kind):
            rows["entity_id"].append(e["keywordId"] if k == "keyword" else e["targetId"])
            rows["kind"].append(k)
            rows["campaign_id"].append(e["campaignId"])
            rows["ad_group_id"].append(e["adGroupId"])
            if k == "keyword":
                rows["text"].append(e["keywordText"]); rows["match_type"].append(e["matchType"])
            else:
                ex = e.get("expression") or [{}]
                rows["text"].append(";".join(f"{x.get('type')}={x.get('value', '')}" if x.get("value") else str(x.get("type")) for x in ex))
                rows["match_type"].append("TARGETING_EXPRESSION_PREDEFINED" if e.get("expressionType") == "AUTO" else "TARGETING_EXPRESSION")
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
        nonexact = np.array([k == "target" or e.get("matchType") in ("BROAD", "PHRASE") for k, e in zip(p.t_kind, p.t_ent)])
        in_exact = np.array([q in p.exact_texts for q in p.queries])[tq]
        cvr = term_cvr * cvr_mult[tt]
        med = float(np.median(cvr[cvr > 0])) if (cvr > 0).any() else 0.0
        exp_clicks = p.term_s.a * p.q_vol.a[tq] * p.q_ctr.a[tq] * 0.5
        harvest = nonexact[tt] & ~in_exact & (cvr >= max(0.08, 1.5 * med)) & (exp_clicks >= 0.15) & ~p.term_blocked
        return pd.DataFrame({"ad_group_id": ag_ids[p.s_tag[tt]], "campaign_id": camp_ids[p.s_tcamp[tt]], "entity_id": ids[tt],
                             "search_term": qtext[tq], "true_cvr": cvr, "volume": p.term_s.a * p.q_vol.a[tq],
                             "blocked": p.term_blocked.copy(),
                             "is_bleeder": p.q_rel.a[tq] == 0.0, "is_harvestable": harvest})

    def truth_campaigns(self, profile_id: str) -> pd.DataFrame:
        p = self._p(profile_id)
        return pd.DataFrame({"campaign_id": [c["campaignId"] for c in p.campaigns], "kind": p.camp_kind,
                             "planted": p.camp_planted})

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
        return {"sales": _r2(sales), "spend": _r2(spend), "profit": _r2(gross - spend),
                "units": int(ev["units"].sum()), "orders": int(ev["conv"].sum())}
