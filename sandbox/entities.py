"""Sponsored Products entities of the World: list, get, create, update, archive, and their serving status.

New keywords/targets get latent truth from their queries here, so that created entities join the simulation."""

from __future__ import annotations

import datetime as _dt
import math

import numpy as np

from . import catalog as cat
from .constants import AUTO_TYPES, _iso
from .profile import Profile


class WorldEntities:
    """Mixin of ``World``: SP v3 entity dicts in and out (``_p`` comes from ``World``)."""

    def _list(self, p: Profile, kind: str) -> list[dict]:
        return {
            "campaigns": p.campaigns,
            "adGroups": p.adgroups,
            "keywords": p.keywords,
            "targets": p.targets,
            "negativeKeywords": p.negatives,
            "productAds": p.ads,
        }[kind]

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
                st = (
                    f"AD_GROUP_{own}"
                    if own
                    else (cstat if cstat != "CAMPAIGN_STATUS_ENABLED" else "AD_GROUP_STATUS_ENABLED")
                )
            else:
                ai = p.ent_index["adGroups"].get(e.get("adGroupId"))
                ag = p.adgroups[ai] if ai is not None else None
                if own:
                    st = f"AD_{own}" if kind == "productAds" else f"TARGETING_CLAUSE_{own}"
                elif ag is not None and ag["state"] != "ENABLED":
                    st = f"AD_GROUP_{ag['state']}"
                elif cstat != "CAMPAIGN_STATUS_ENABLED":
                    st = cstat
                else:
                    st = "AD_STATUS_LIVE" if kind == "productAds" else "TARGETING_CLAUSE_STATUS_LIVE"
        # Detail names are the status plus "_DETAIL", as the spec's *ServingStatusReason enums list them.
        details = (
            []
            if st.endswith(("ENABLED", "LIVE"))
            else [{"name": f"{st}_DETAIL", "message": st.replace("_", " ").capitalize()}]
        )
        return st, details

    def _out(self, p: Profile, kind: str, e: dict) -> dict:
        o = dict(e)
        if "budget" in o:
            o["budget"] = dict(o["budget"])
        if "dynamicBidding" in o:
            o["dynamicBidding"] = {
                **o["dynamicBidding"],
                "placementBidding": [dict(x) for x in o["dynamicBidding"].get("placementBidding", [])],
            }
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
        negated_ags: set[int] = set()  # negatives are applied once per ad group after the batch (was per item)
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
                        self.create_entities(
                            profile_id,
                            "targets",
                            [
                                {
                                    "campaignId": e["campaignId"],
                                    "adGroupId": eid,
                                    "expression": [{"type": at}],
                                    "expressionType": "AUTO",
                                    "state": "ENABLED",
                                }
                            ],
                        )
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
                    negated_ags.add(ai)
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
        if negated_ags:
            p._apply_negatives(negated_ags)
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
        p.q_reach.extend([0.0])  # set by the first target that matches it (``_new_target``)
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
        # Amazon's auction: one advertiser's targets share a query's impressions. A query nobody served yet gets
        # the new term's reach; a query already served keeps its reach, so a duplicate (e.g. a harvested exact
        # keyword) takes traffic from the existing targets instead of adding its own.
        for q, share in zip(qs, sh):
            if p.q_reach.a[q] <= 0:
                p.q_reach.a[q] = share
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
