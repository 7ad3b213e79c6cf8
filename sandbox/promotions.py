"""Coupons and deals: generation per profile, deterministic daily series, SP-API documents, the World's calls.

Promotions are independent of ads (own RNG streams) except for the sales lift they give (see ``simulate.py``)."""

from __future__ import annotations

import datetime as _dt

import numpy as np

from . import catalog as cat


class ProfilePromotions:
    """Mixin of ``Profile``: coupons and deals of one marketplace."""

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
            val = (
                float(rng.choice([5, 10, 15, 20, 25]))
                if pct
                else float(round(float(rng.choice([2, 3, 5, 10])) * self.fx, 2))
            )
            seg = segs[0] if i % 3 == 0 or planted else segs[i % 3]
            c = self._make_coupon(
                prods,
                "PERCENT_OFF_LIST_PRICE" if pct else "AMOUNT_OFF_LIST_PRICE",
                val,
                None,
                start,
                start + _dt.timedelta(days=dur - 1),
                seg,
                planted,
                rng,
            )
            daily = self._coupon_daily_cost(c)
            if planted == "pacing_fast":
                c["budget"] = float(round(max(100.0, daily * 13), 0))
            elif planted == "pacing_slow":
                c["budget"] = float(round(max(100.0, daily * dur * 8), 0))
            else:
                c["budget"] = float(round(max(100.0, daily * dur * float(rng.uniform(0.8, 2.5))), 0))
            self.coupons.append(c)
        for _j, typ in enumerate(
            ["BEST_DEAL", "LIGHTNING_DEAL"] if self.size["campaigns"] >= 10 else ["LIGHTNING_DEAL"]
        ):
            prods = [int(x) for x in rng.choice(len(self.p_asin), size=2 if typ == "BEST_DEAL" else 1, replace=False)]
            start = today - _dt.timedelta(days=int(rng.integers(15, 80)))
            end = start + _dt.timedelta(days=6 if typ == "BEST_DEAL" else 0)
            did = str(int(rng.integers(10**10, 10**11)))
            created = start - _dt.timedelta(days=int(rng.integers(14, 40)))
            self.deals.append(
                {
                    "promotionId": did,
                    "type": typ,
                    "_start": start,
                    "_end": end,
                    "_prods": prods,
                    "_lift": 1.5 if typ == "BEST_DEAL" else 1.8,
                    "_created": created,
                    "promotionName": f"{self.p_title[prods[0]][:40]} {'Best Deal' if typ == 'BEST_DEAL' else 'Lightning Deal'}",
                    "_seed": int(rng.integers(1 << 30)),
                }
            )

    def _make_coupon(self, prods, dtype, val, budget, start, end, seg, planted, rng) -> dict:
        cid = "A" + "".join(rng.choice(cat.ALNUM, 13))
        depth = (
            (val / 100.0) if dtype == "PERCENT_OFF_LIST_PRICE" else min(0.6, val / float(np.mean(self.p_price[prods])))
        )
        segf = {"All (Default)": 1.0, "Amazon Prime": 0.65, "Amazon Student": 0.15}.get(seg, 0.5)
        name = f"{f'{val:g}%' if dtype == 'PERCENT_OFF_LIST_PRICE' else f'{self.currency} {val:.2f}'} off {self.p_title[prods[0]][:30]}"
        return {
            "couponId": cid,
            "name": name,
            "websiteMessage": f"Save on {self.p_title[prods[0]][:40]}",
            "discountType": dtype,
            "discountAmount": val,
            "customerSegment": seg,
            "budget": budget,
            "_start": start,
            "_end": end,
            "_prods": prods,
            "_depth": depth,
            "_segf": segf,
            "_lift": 1 + min(0.6, depth * 1.6) * segf,
            "_planted": planted,
            "_seed": int(rng.integers(1 << 30)),
        }

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
        red = np.zeros(n, np.int64)
        clips = np.zeros(n, np.int64)
        disc = np.zeros(n, np.int64)
        spent = np.zeros(n, np.int64)
        sales = np.zeros(n, np.int64)
        active = np.zeros(n, bool)
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
                fee = 500 if (fee_c == 0 and r > 0) else 0
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
        units = {
            p: rng.poisson(self.p_base_units[p] * 3.0 * (0.5 if d["type"] == "LIGHTNING_DEAL" else 1.0), n)
            for p in d["_prods"]
        }
        gv = {p: (units[p] * rng.uniform(8, 15, n)).astype(np.int64) for p in d["_prods"]}
        return {"units": units, "gv": gv}


# ---------------------------------------------------------------------------------------- SP-API documents
def _naive_utc(x) -> _dt.datetime:
    if isinstance(x, str):
        x = _dt.datetime.fromisoformat(x.replace("Z", "+00:00"))
    if isinstance(x, _dt.date) and not isinstance(x, _dt.datetime):
        x = _dt.datetime.combine(x, _dt.time())
    if x.tzinfo is not None:
        x = x.astimezone(_dt.UTC).replace(tzinfo=None)
    return x


def coupon_items(world, p, start_from, start_to) -> list[dict]:
    """sellerCouponReport.json `coupons` items; values cumulative up to yesterday (promotions.md §1.3)."""
    lo, hi = _naive_utc(start_from), _naive_utc(start_to)
    out = []
    for c in p.coupons:
        sdt = _dt.datetime.combine(c["_start"], _dt.time())
        if not (lo <= sdt <= hi):
            continue
        s = p.coupon_series(c)
        k = max(0, min(len(s["red"]), (world.today - c["_start"]).days))
        spent = int(s["spent"][:k].sum())
        budget = float(c["budget"] or 0.0)
        item = {
            "couponId": c["couponId"],
            "merchantId": p.seller["sellerId"],
            "marketplaceId": p.marketplace,
            "currencyCode": p.currency,
            "name": c["name"],
            "websiteMessage": c["websiteMessage"],
            "startDateTime": f"{c['_start'].isoformat()}T00:00:00Z",
            "endDateTime": f"{c['_end'].isoformat()}T23:59:59Z",
            "customerSegment": c["customerSegment"],
            "discountType": c["discountType"],
            "discountAmount": c["discountAmount"],
            "clips": int(s["clips"][:k].sum()),
            "redemptions": int(s["red"][:k].sum()),
            "budget": round(budget, 2),
            "totalDiscount": round(int(s["disc"][:k].sum()) / 100.0, 2),
            "budgetSpent": round(spent / 100.0, 2),
            "budgetRemaining": round(max(0.0, budget - spent / 100.0), 2),
            "budgetPercentageUsed": round(min(100.0, 100.0 * spent / 100.0 / budget), 2) if budget > 0 else 0.0,
            "sales": round(int(s["sales"][:k].sum()) / 100.0, 2),
            "asins": [{"asin": a} for a in (c.get("_asins") or [p.p_asin[i] for i in c["_prods"]])],
        }
        out.append(item)
    return out


def deal_items(world, p, start_from, start_to) -> list[dict]:
    """promotionReport.json `promotions` items, seller view (BEST_DEAL / LIGHTNING_DEAL only)."""
    lo, hi = _naive_utc(start_from), _naive_utc(start_to)
    out = []
    for d in p.deals:
        lightning = d["type"] == "LIGHTNING_DEAL"
        sdt = _dt.datetime.combine(d["_start"], _dt.time(10 if lightning else 0))
        if not (lo <= sdt <= hi):
            continue
        edt = _dt.datetime.combine(d["_end"], _dt.time(22, 0) if lightning else _dt.time(23, 59, 59))
        s = p.deal_series(d)
        k = max(0, min((d["_end"] - d["_start"]).days + 1, (world.today - d["_start"]).days))
        prods = []
        tu, tr, tg = 0, 0, 0
        for pi in d["_prods"]:
            u = int(s["units"][pi][:k].sum())
            g = int(s["gv"][pi][:k].sum())
            rev = u * int(round(p.p_price_c[pi] * 0.8))
            tu, tr, tg = tu + u, tr + rev, tg + g
            prods.append(
                {
                    "asin": p.p_asin[pi],
                    "productName": p.p_title[pi],
                    "productGlanceViews": g,
                    "productUnitsSold": u,
                    "productRevenue": round(rev / 100.0, 2),
                    "productRevenueCurrencyCode": p.currency,
                }
            )
        out.append(
            {
                "promotionId": d["promotionId"],
                "promotionName": d["promotionName"],
                "merchantId": p.seller["sellerId"],
                "unitsSold": tu,
                "revenue": round(tr / 100.0, 2),
                "revenueCurrencyCode": p.currency,
                "startDateTime": sdt.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "endDateTime": edt.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "type": d["type"],
                "status": "APPROVED",
                "creationChannel": "SELF-SERVICE",
                "marketplaceId": p.marketplace,
                "glanceViews": tg,
                "createdDateTime": f"{d['_created'].isoformat()}T15:02:11Z",
                "lastUpdatedDateTime": f"{d['_start'].isoformat()}T00:00:00Z",
                "includedProducts": prods,
            }
        )
    return out


class WorldPromotions:
    """Mixin of ``World``: coupon/deal listings for SP-API documents and the Seller Central coupon upload."""

    def coupons(
        self, seller_id: str, marketplace_id: str, start_from: _dt.datetime, start_to: _dt.datetime
    ) -> list[dict]:
        p = self._p_by_seller(seller_id, marketplace_id)
        return [] if p is None else coupon_items(self, p, start_from, start_to)

    def deals(
        self, seller_id: str, marketplace_id: str, start_from: _dt.datetime, start_to: _dt.datetime
    ) -> list[dict]:
        p = self._p_by_seller(seller_id, marketplace_id)
        return [] if p is None else deal_items(self, p, start_from, start_to)

    def upload_coupons(self, seller_id: str, marketplace_id: str, rows: list[dict]) -> list[str]:
        p = self._p_by_seller(seller_id, marketplace_id)
        if p is None:
            raise KeyError("no profile for that seller and marketplace")
        rng = np.random.default_rng([self.seed, p.idx, 7, len(p.coupons), self.today.toordinal()])
        ids = []
        for row in rows:
            prods = [p.asin_index[a] for a in row.get("asins", []) if a in p.asin_index]
            dt = (
                "PERCENT_OFF_LIST_PRICE"
                if str(row.get("discount_type", "")).lower().startswith("perc")
                else "AMOUNT_OFF_LIST_PRICE"
            )
            sd, ed = row["start_date"], row["end_date"]
            if isinstance(sd, _dt.datetime):
                sd = sd.date()
            if isinstance(ed, _dt.datetime):
                ed = ed.date()
            c = p._make_coupon(
                prods or [0],
                dt,
                float(row["discount_value"]),
                float(row["budget"]),
                sd,
                ed,
                row.get("customer_segment") or "All (Default)",
                "",
                rng,
            )
            c["name"] = str(row.get("title") or c["name"])
            c["_once"] = bool(row.get("once_per_customer", True))
            c["_asins"] = list(row.get("asins", []))
            p.coupons.append(c)
            ids.append(c["couponId"])
        return ids
