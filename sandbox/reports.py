"""Reporting v3 rows derived from the world: events grouped by the report's keys, with its columns."""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

from sandbox.report_columns import WINDOWS

from .constants import PLACEMENTS


# ---------------------------------------------------------------------------------------- helpers
def _target_meta(p):
    """Per unified target: keywordType, matchType, targeting text, bid, state."""
    ktype, text, state = [], [], []
    for k, e in zip(p.t_kind, p.t_ent):
        state.append(e["state"])
        if k == "keyword":
            ktype.append(e["matchType"])
            text.append(e["keywordText"])
        else:
            ktype.append(
                "TARGETING_EXPRESSION_PREDEFINED" if e.get("expressionType") == "AUTO" else "TARGETING_EXPRESSION"
            )
            text.append(_expr_text(e.get("expression") or []))
    return np.array(ktype, dtype=object), np.array(text, dtype=object), np.array(state, dtype=object)


_AUTO_TXT = {
    "QUERY_HIGH_REL_MATCHES": "close-match",
    "QUERY_BROAD_REL_MATCHES": "loose-match",
    "ASIN_ACCESSORY_RELATED": "complements",
    "ASIN_SUBSTITUTE_RELATED": "substitutes",
}
_PRED_TXT = {
    "ASIN_SAME_AS": "asin",
    "ASIN_CATEGORY_SAME_AS": "category",
    "ASIN_BRAND_SAME_AS": "brand",
    "ASIN_PRICE_LESS_THAN": "price<",
    "ASIN_PRICE_GREATER_THAN": "price>",
    "ASIN_PRICE_BETWEEN": "price",
    "ASIN_EXPANDED_FROM": "asin-expanded",
}


def _expr_text(expr: list[dict]) -> str:
    parts = []
    for x in expr:
        t = x.get("type")
        if t in _AUTO_TXT:
            parts.append(_AUTO_TXT[t])
        else:
            parts.append(f'{_PRED_TXT.get(t, str(t).lower())}="{x.get("value", "")}"')
    return " ".join(parts)


def _mature(world, p, ev):
    today_idx = (world.today - p.start).days
    return ev["conv"] & ((ev["day"].astype(np.int64) + ev["lag"]) <= today_idx - 1)


def _event_frame(world, p, ev) -> dict[str, np.ndarray]:
    """Per event metric columns (cents for money)."""
    mat = _mature(world, p, ev)
    ad_prod = np.asarray(p.ad_prod, dtype=np.int64)
    same = ev["pprod"] == ad_prod[ev["ad"]]
    out = {"clicks": np.ones(len(ev["day"]), np.int64), "cost": ev["cost"]}
    for w in WINDOWS:
        m = mat & (ev["lag"] < w)
        out[f"purchases{w}d"] = m.astype(np.int64)
        out[f"sales{w}d"] = np.where(m, ev["sales"], 0)
        out[f"unitsSoldClicks{w}d"] = np.where(m, ev["units"], 0).astype(np.int64)
        ms = m & same
        out[f"purchasesSameSku{w}d"] = ms.astype(np.int64)
        out[f"attributedSalesSameSku{w}d"] = np.where(ms, ev["sales"], 0)
        out[f"unitsSoldSameSku{w}d"] = np.where(ms, ev["units"], 0).astype(np.int64)
    return out


def _group(keys: list[np.ndarray], vals: dict[str, np.ndarray]):
    """Group rows by integer key columns; returns (unique key columns, summed values)."""
    if len(keys[0]) == 0:
        return [k[:0].astype(np.int64) for k in keys], {n: v[:0].astype(np.int64) for n, v in vals.items()}
    dims = [int(k.max()) + 1 for k in keys]
    comp = np.zeros(len(keys[0]), np.int64)
    for k, d in zip(keys, dims):
        comp = comp * d + k.astype(np.int64)
    uniq, inv = np.unique(comp, return_inverse=True)
    sums = {
        n: np.bincount(inv, weights=v, minlength=len(uniq))
        if v.dtype.kind == "f"
        else np.bincount(inv, weights=v.astype(np.float64), minlength=len(uniq)).round().astype(np.int64)
        for n, v in vals.items()
    }
    cols = []
    rem = uniq
    for d in reversed(dims):
        cols.append(rem % d)
        rem = rem // d
    return cols[::-1], sums


def _merge(ev_keys, ev_vals, im_keys, im_vals):
    """Outer-join two grouped tables on their key columns."""
    df_e = pd.DataFrame({f"k{i}": k for i, k in enumerate(ev_keys)} | ev_vals)
    if im_keys is None:
        return df_e
    df_i = pd.DataFrame({f"k{i}": k for i, k in enumerate(im_keys)} | im_vals)
    kc = [f"k{i}" for i in range(len(ev_keys))]
    df = pd.merge(df_i, df_e, on=kc, how="outer", sort=True)
    return df.fillna(0)


def _canonical_terms(p) -> np.ndarray:
    """Per internal term id, the first term id with the same target and the same query text.

    The world may hold several term ids for one (target, text) pair (a query generated twice, a keyword created
    later); grouping by id emitted several rows with one natural key. Cached until the profile gains terms."""
    n = len(p.term_t.a)
    cached = getattr(p, "_canon_terms", None)
    if cached is not None and len(cached) == n:
        return cached
    if n == 0:
        canon = np.zeros(0, np.int64)
    else:
        _, text_id = np.unique(np.array(p.queries, dtype=object), return_inverse=True)
        pair = p.term_t.a.astype(np.int64) * (int(text_id.max()) + 1) + text_id[p.term_q.a]
        _, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
        canon = first[inverse].astype(np.int64)
    p._canon_terms = canon
    return canon


def _build(world, p, rtype: str, group_by: list[str], start, end):
    """Daily aggregated frame for a report type: key columns k0.. (k0 = day) plus metric columns."""
    if p._dirty:
        p._rebuild()
    ev = p.slice("ev", start, end)
    im = p.slice("imp", start, end)
    evm = _event_frame(world, p, ev)
    tcamp = p.s_tcamp
    tag = p.s_tag
    gb = set(group_by)
    ad_prod = np.asarray(p.ad_prod, dtype=np.int64)
    if rtype == "spCampaigns":
        ek = [ev["day"], tcamp[ev["tgt"]]]
        ik_day, ik_t, imps = im["day"], im["tgt"], im["imps"]
        if "campaignPlacement" in gb:
            ik = [np.repeat(ik_day, 3), np.repeat(tcamp[ik_t], 3)]
            iv = imps.reshape(-1).astype(np.int64)
        else:
            ik = [ik_day, tcamp[ik_t]]
            iv = imps.sum(1).astype(np.int64)
        names = ["day", "camp"]
        if "adGroup" in gb:
            ek.append(tag[ev["tgt"]])
            ik.append(np.repeat(tag[ik_t], 3) if "campaignPlacement" in gb else tag[ik_t])
            names.append("ag")
        if "campaignPlacement" in gb:
            ek.append(ev["plc"].astype(np.int64))
            ik.append(np.tile(np.arange(3), len(ik_t)))
            names.append("plc")
        ekc, evs = _group(ek, evm)
        ikc, ivs = _group(ik, {"impressions": iv})
        df = _merge(ekc, evs, ikc, ivs)
    elif rtype == "spTargeting":
        names = ["day", "tgt"]
        ekc, evs = _group([ev["day"], ev["tgt"]], evm)
        ikc, ivs = _group([im["day"], im["tgt"]], {"impressions": im["imps"].sum(1).astype(np.int64)})
        df = _merge(ekc, evs, ikc, ivs)
    elif rtype == "spSearchTerm":
        names = ["day", "term"]
        # Amazon reports a search term once per date and target: group by the term's text, not its internal id
        ekc, evs = _group([ev["day"], _canonical_terms(p)[ev["term"]]], evm)
        df = _merge(ekc, evs, None, None)
        # term impressions: the target-day's impressions shared in proportion to the term's clicks
        tgt = p.term_t.a[df["k1"].to_numpy()]
        tk, tv = _group([ev["day"], ev["tgt"]], {"clicks": evm["clicks"]})
        ik, iv = _group([im["day"], im["tgt"]], {"impressions": im["imps"].sum(1).astype(np.int64)})
        nT = max(len(p.t_kind), 1)
        key = df["k0"].to_numpy() * nT + tgt
        tkey = tk[0] * nT + tk[1]
        ikey = ik[0] * nT + ik[1]
        tcl = tv["clicks"][np.searchsorted(tkey, key)] if len(tkey) else np.ones(len(key))
        pos = np.searchsorted(ikey, key)
        pos = np.minimum(pos, max(len(ikey) - 1, 0))
        timp = np.where((len(ikey) > 0) & (ikey[pos] == key), iv["impressions"][pos] if len(ikey) else 0, 0)
        df["impressions"] = np.maximum(
            df["clicks"].to_numpy(), np.round(timp * df["clicks"].to_numpy() / np.maximum(tcl, 1))
        ).astype(np.int64)
    elif rtype == "spAdvertisedProduct":
        names = ["day", "ad"]
        ekc, evs = _group([ev["day"], ev["ad"]], evm)
        # impressions of a target-day split over its ad group's enabled ads (remainder to the first)
        n = p.s_ag_nads[tag[im["tgt"]]]
        tot = im["imps"].sum(1).astype(np.int64)
        has = n > 0
        d_, t_, tot, n = im["day"][has], im["tgt"][has], tot[has], n[has]
        rep = np.repeat(np.arange(len(t_)), n)
        j = np.arange(len(rep)) - np.repeat(np.concatenate([[0], np.cumsum(n)])[:-1], n)
        ad = p.s_ag_ads[p.s_ag_ptr[tag[t_[rep]]] + j]
        share = tot[rep] // n[rep] + np.where(j == 0, tot[rep] % n[rep], 0)
        ikc, ivs = _group([d_[rep], ad], {"impressions": share})
        df = _merge(ekc, evs, ikc, ivs)
    elif rtype == "spPurchasedProduct":
        names = ["day", "tgt", "ad", "pprod"]
        mat = _mature(world, p, ev)
        other = mat & (ev["pprod"] != ad_prod[ev["ad"]])
        sel = {k: v[other] for k, v in ev.items()}
        vals = {}
        for w in WINDOWS:
            m = sel["lag"] < w
            vals[f"purchasesOtherSku{w}d"] = m.astype(np.int64)
            vals[f"salesOtherSku{w}d"] = np.where(m, sel["sales"], 0)
            vals[f"unitsSoldOtherSku{w}d"] = np.where(m, sel["units"], 0).astype(np.int64)
        ekc, evs = _group([sel["day"], sel["tgt"], sel["ad"], sel["pprod"]], vals)
        df = _merge(ekc, evs, None, None)
    else:
        raise ValueError(f"unknown reportTypeId {rtype}")
    df = df.rename(columns={f"k{i}": n for i, n in enumerate(names)})
    for c in df.columns:
        if c not in ("day",) and df[c].dtype.kind == "f":
            df[c] = df[c].round().astype(np.int64)
    return df


def _finish(world, p, rtype, group_by, time_unit, df, start, end, columns, filters):
    nonmetric = [c for c in ("camp", "ag", "plc", "tgt", "term", "ad", "pprod") if c in df.columns]
    if rtype == "spSearchTerm":
        df = df[df["clicks"] >= 1]
    elif rtype != "spPurchasedProduct":
        df = df[(df["impressions"] > 0) | (df["clicks"] > 0)]
    # filters on current entity states / types (before SUMMARY aggregation)
    for f in filters or []:
        field, values = f.get("field"), {str(v).upper() for v in (f.get("values") or [])}
        if not values:
            continue
        if field == "campaignStatus":
            st = np.array([c["state"] for c in p.campaigns], dtype=object)
            camp = df["camp"] if "camp" in df.columns else p.s_tcamp[_tgt_of(p, df)]
            df = df[np.isin(st[np.asarray(camp)], list(values))]
        elif field == "adStatus" and "ag" in df.columns:
            st = np.array([a["state"] for a in p.adgroups], dtype=object)
            df = df[np.isin(st[df["ag"].to_numpy()], list(values))]
        elif field in ("adKeywordStatus", "keywordType"):
            ktype, _, tstate = _target_meta(p)
            arr = tstate if field == "adKeywordStatus" else ktype
            df = df[np.isin(arr[_tgt_of(p, df)], list(values))]
        elif field == "adCreativeStatus":
            st = np.array([a["state"] for a in p.ads], dtype=object)
            df = df[np.isin(st[df["ad"].to_numpy()], list(values))]
        elif field == "campaignSite":
            df = df.iloc[0:0]  # no Amazon Business traffic in the sandbox
    if time_unit == "SUMMARY":
        if nonmetric:
            df = df.drop(columns=["day"]).groupby(nonmetric, as_index=False, sort=True).sum()
        else:
            df = df.drop(columns=["day"]).sum().to_frame().T
    else:
        df = df.sort_values(["day"] + nonmetric, kind="stable")
    df = df.reset_index(drop=True)
    return df


def _tgt_of(p, df):
    if "tgt" in df.columns:
        return df["tgt"].to_numpy()
    if "term" in df.columns:
        return p.term_t.a[df["term"].to_numpy()]
    raise KeyError("no target")


def report_frame(world, p, rtype, group_by, time_unit, start, end, columns, filters=None) -> pd.DataFrame:
    """The report's rows as a DataFrame with its columns (a copy: nothing in it refers back to the world)."""
    df = _build(world, p, rtype, group_by, start, end)
    df = _finish(world, p, rtype, group_by, time_unit, df, start, end, columns, filters)
    return _columns(world, p, rtype, df, time_unit, start, end, columns)


def report_rows(world, p, rtype, group_by, time_unit, start, end, columns, filters=None) -> list[dict]:
    return report_frame(world, p, rtype, group_by, time_unit, start, end, columns, filters).to_dict("records")


def _money(c):
    return np.round(np.asarray(c, dtype=np.float64) / 100.0, 2)


def _columns(world, p, rtype, df, time_unit, start, end, columns) -> pd.DataFrame:
    n = len(df)
    res: dict[str, object] = {}
    tgt = _tgt_of(p, df) if ("tgt" in df.columns or "term" in df.columns) else None
    camp = (
        df["camp"].to_numpy()
        if "camp" in df.columns
        else (p.s_tcamp[tgt] if tgt is not None else (p.s_tcamp[np.zeros(0, int)] if n == 0 else None))
    )
    if camp is None and "ad" in df.columns:
        camp = np.asarray(p.ag_camp)[np.asarray(p.ad_ag)[df["ad"].to_numpy()]]
    ag = (
        df["ag"].to_numpy()
        if "ag" in df.columns
        else (
            p.s_tag[tgt]
            if tgt is not None
            else (np.asarray(p.ad_ag)[df["ad"].to_numpy()] if "ad" in df.columns else None)
        )
    )
    cache = {}

    def tmeta():
        if "m" not in cache:
            cache["m"] = _target_meta(p)
        return cache["m"]

    for col in columns:
        if col in ("date", "startDate", "endDate"):
            if "day" in df.columns:
                names = np.array(
                    [(p.start + _dt.timedelta(days=i)).isoformat() for i in range(len(p.days) + 1)], dtype=object
                )
                res[col] = names[df["day"].to_numpy()]
            elif col == "date":
                res[col] = [None] * n
            else:
                res[col] = [(start if col == "startDate" else end).isoformat()] * n
        elif col in ("cost", "spend"):
            res[col] = _money(df["cost"]) if "cost" in df.columns else np.zeros(n)
        elif col == "impressions":
            res[col] = df["impressions"].to_numpy() if "impressions" in df.columns else np.zeros(n, np.int64)
        elif col == "costPerClick":
            res[col] = np.round(np.where(df["clicks"] > 0, df["cost"] / 100.0 / np.maximum(df["clicks"], 1), 0.0), 2)
        elif col == "clickThroughRate":
            imp = df["impressions"].to_numpy() if "impressions" in df.columns else np.zeros(n)
            res[col] = np.round(np.where(imp > 0, df["clicks"] / np.maximum(imp, 1), 0.0), 4)
        elif col.startswith(("sales", "attributedSalesSameSku")) and col in df.columns:
            res[col] = _money(df[col])
        elif col in df.columns and col not in ("day", "camp", "ag", "plc", "tgt", "term", "ad", "pprod"):
            res[col] = df[col].to_numpy()
        elif col == "salesOtherSku7d":
            res[col] = _money(df["sales7d"] - df["attributedSalesSameSku7d"])
        elif col == "unitsSoldOtherSku7d":
            res[col] = (df["unitsSoldClicks7d"] - df["unitsSoldSameSku7d"]).to_numpy()
        elif col.startswith("acosClicks"):
            w = col[len("acosClicks") :]
            s = df[f"sales{w}"].to_numpy()
            res[col] = np.round(np.where(s > 0, df["cost"] / np.maximum(s, 1) * 100.0, 0.0), 2)  # percent
        elif col.startswith("roasClicks"):
            w = col[len("roasClicks") :]
            c = df["cost"].to_numpy()
            res[col] = np.round(np.where(c > 0, df[f"sales{w}"] / np.maximum(c, 1), 0.0), 2)
        elif col in ("kindleEditionNormalizedPagesRead14d", "kindleEditionNormalizedPagesRoyalties14d", "addToList"):
            res[col] = np.zeros(n, np.int64)
        elif col == "campaignId":
            res[col] = _ids(p, "campaigns", "campaignId")[camp]
        elif col == "campaignName":
            res[col] = np.array([c["name"] for c in p.campaigns], dtype=object)[camp]
        elif col == "campaignStatus":
            res[col] = np.array([c["state"] for c in p.campaigns], dtype=object)[camp]
        elif col == "campaignBudgetAmount":
            if time_unit == "DAILY" and "day" in df.columns:
                res[col] = [
                    float(p.days[int(d)]["camp"]["budget_c"][i]) / 100.0
                    if i < len(p.days[int(d)]["camp"]["budget_c"])
                    else float(p.campaigns[i]["budget"]["budget"])
                    for d, i in zip(df["day"], camp)
                ]
            else:
                res[col] = [float(p.campaigns[i]["budget"]["budget"]) for i in camp]
        elif col == "campaignBudgetType":
            res[col] = ["DAILY_BUDGET"] * n
        elif col == "campaignBudgetCurrencyCode":
            res[col] = [p.currency] * n
        elif col == "campaignBiddingStrategy":
            m = {
                "LEGACY_FOR_SALES": "legacy",
                "AUTO_FOR_SALES": "optimizeForSales",
                "MANUAL": "manual",
                "RULE_BASED": "ruleBased",
            }
            res[col] = [m.get((p.campaigns[i].get("dynamicBidding") or {}).get("strategy"), "legacy") for i in camp]
        elif col == "topOfSearchImpressionShare":
            vals = []
            for d, i in zip(df["day"] if "day" in df.columns else [None] * n, camp):
                days = (
                    [p.days[int(d)]]
                    if d is not None
                    else p.days[max(0, (start - p.start).days) : (end - p.start).days + 1]
                )
                top = sum(float(x["camp"]["top_imps"][i]) for x in days if i < len(x["camp"]["top_imps"]))
                pot = sum(float(x["camp"]["top_pot"][i]) for x in days if i < len(x["camp"]["top_pot"]))
                vals.append(round(min(100.0, 100.0 * top / pot), 2) if pot > 0 else 0.0)
            res[col] = vals
        elif col == "placementClassification":
            res[col] = [PLACEMENTS[int(x)] for x in df["plc"]]
        elif col == "adGroupId":
            res[col] = _ids(p, "adgroups", "adGroupId")[ag]
        elif col == "adGroupName":
            res[col] = np.array([a["name"] for a in p.adgroups], dtype=object)[ag]
        elif col == "adStatus":
            res[col] = [p.adgroups[i]["state"] for i in ag]
        elif col == "keywordId":
            res[col] = np.array([int(e.get("keywordId") or e["targetId"]) for e in p.t_ent], dtype=np.int64)[tgt]
        elif col in ("keyword", "targeting"):
            res[col] = tmeta()[1][tgt]
        elif col in ("keywordType", "matchType"):
            res[col] = tmeta()[0][tgt]
        elif col == "adKeywordStatus":
            res[col] = tmeta()[2][tgt]
        elif col == "keywordBid":
            res[col] = np.round(p.s_bid[tgt], 2)
        elif col == "searchTerm":
            q = np.array(p.queries, dtype=object)
            res[col] = q[p.term_q.a[df["term"].to_numpy()]]
        elif col == "portfolioId":
            res[col] = [None] * n
        elif col == "adId":
            res[col] = np.array([int(p.ads[i]["adId"]) for i in df["ad"]], dtype=np.int64)
        elif col == "advertisedAsin":
            res[col] = [p.ads[i].get("asin") for i in df["ad"]]
        elif col == "advertisedSku":
            res[col] = [p.ads[i].get("sku") for i in df["ad"]]
        elif col == "purchasedAsin":
            res[col] = [p.p_asin[i] for i in df["pprod"]]
        else:
            res[col] = [None] * n
    return pd.DataFrame(res, columns=list(columns)) if n else pd.DataFrame(columns=list(columns))


def _ids(p, attr, key):
    return np.array([int(e[key]) for e in getattr(p, attr)], dtype=np.int64)


def totals(world, p, start, end) -> dict:
    """What a DAILY spCampaigns report over [start, end] sums to (money exact to the cent)."""
    df = _build(world, p, "spCampaigns", ["campaign"], start, end)
    df = df[(df["impressions"] > 0) | (df["clicks"] > 0)]
    out = {
        "impressions": int(df["impressions"].sum()),
        "clicks": int(df["clicks"].sum()),
        "cost": round(int(df["cost"].sum()) / 100.0, 2),
    }
    for w in WINDOWS:
        out[f"purchases{w}d"] = int(df[f"purchases{w}d"].sum())
        out[f"sales{w}d"] = round(int(df[f"sales{w}d"].sum()) / 100.0, 2)
        out[f"unitsSoldClicks{w}d"] = int(df[f"unitsSoldClicks{w}d"].sum())
    return out
