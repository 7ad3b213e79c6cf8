"""The simulated Amazon sellers ("the world"): catalogue, campaigns, latent truth, daily simulation.

Design (why it looks like this):
- Latent truth lives at the *query* level (search volume, click-through, relevance -> conversion, competitor
  bid level).  A target (keyword / targeting clause) is a weighted bag of queries (its search terms), so a
  target's truth is the weighted mean of its terms, a negative keyword simply removes terms, and a harvested
  EXACT keyword inherits the query's truth and shares the query's traffic with the advertiser's other targets
  that match it (one advertiser, one auction: the best bid x match wins most of it; no traffic is created).
- The simulation is a per-day loop vectorised over all targets (never per target-day in Python).  Every click
  is an event (target, search term, placement, ad, cost, converted?, lag, units, purchased product, sales); every
  report is an aggregation of events, so reports at different grains are consistent to the cent.
- Conversions happen `lag` days after the click.  A report only counts a conversion whose purchase day is
  before `today`, and an attribution window w only counts lag < w: recent days "settle" deterministically.
- Each day draws from its own RNG seeded by (seed, profile, day): history never changes after advance().

Layout: ``world.py`` is the facade (sellers, profiles, time, reports); the concerns live in ``profile.py``,
``generate.py``, ``simulate.py``, ``promotions.py``, ``entities.py`` and ``truth.py``.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

from . import catalog as cat
from . import reports
from .entities import WorldEntities
from .profile import Profile
from .promotions import WorldPromotions
from .truth import WorldTruth

MAX_AGENCY_SELLERS = 200
AGENCY_COUNTRIES = ("US", "CA", "UK", "DE")


def agency_seller_name(k: int) -> str:
    """The k-th extra seller of `--sellers N` (0-based): "Agency Seller 01", …"""
    return f"Agency Seller {k + 1:02d}"


def agency_seller_id(k: int) -> str:
    return f"A5AGENCY{k + 1:04d}"


class World(WorldEntities, WorldPromotions, WorldTruth):
    """The simulated Amazon sellers.  Deterministic from (seed, scale, today)."""

    def __init__(self, seed: int = 7, scale: str = "demo", today: _dt.date | None = None, sellers: int = 0) -> None:
        if scale not in ("demo", "large"):
            raise ValueError("scale must be 'demo' or 'large'")
        if not 0 <= int(sellers) <= MAX_AGENCY_SELLERS:
            raise ValueError(f"sellers must be between 0 and {MAX_AGENCY_SELLERS}")
        self.seed = int(seed)
        self.scale = scale
        self.today = today or _dt.datetime.now(_dt.UTC).date()
        r = np.random.default_rng([self.seed, 4242])
        suffix = "".join(r.choice(cat.ALNUM, 8))
        suffix2 = "".join(r.choice(cat.ALNUM, 7))
        self._sellers = [
            {"sellerId": f"A2DEMO{suffix}", "name": "Demo Seller", "profileIds": []},
            {"sellerId": f"A3SECOND{suffix2}", "name": "Second Seller", "profileIds": []},
        ]
        self._profiles: dict[str, Profile] = {}
        specs = [("US", 0), ("UK", 0), ("DE", 0), ("CA", 1)]
        # agency sellers (`--sellers N`): one small profile each, after the others so their draws stay the same
        for k in range(int(sellers)):
            self._sellers.append({"sellerId": agency_seller_id(k), "name": agency_seller_name(k), "profileIds": []})
            specs.append((AGENCY_COUNTRIES[k % len(AGENCY_COUNTRIES)], len(self._sellers) - 1))
        for i, (country, si) in enumerate(specs):
            pr = np.random.default_rng([self.seed, i, 3])
            if si == 1:
                size = {"campaigns": 5, "targets": 180, "products": 12, "days": 120}
            elif si >= 2:
                size = {"campaigns": 3, "targets": 60, "products": 6, "days": 40}
            elif scale == "large" and country == "US":
                size = {"campaigns": 520, "targets": 52000, "products": 250, "days": 95, "volume": 0.6}
            else:
                size = {
                    "campaigns": int(pr.integers(20, 31)),
                    "targets": int(pr.integers(1100, 1800)),
                    "products": int(pr.integers(30, 51)),
                    "days": 120,
                }
            p = Profile(self, i, country, self._sellers[si], size)
            self._profiles[p.profile_id] = p
            self._sellers[si]["profileIds"].append(p.profile_id)
        for p in self._profiles.values():
            while p.sim_until < self.today:
                p.simulate_day()

    # ------------------------------------------------------------------ accounts
    def sellers(self) -> list[dict]:
        return [
            {"sellerId": s["sellerId"], "name": s["name"], "profileIds": list(s["profileIds"])} for s in self._sellers
        ]

    def profiles(self) -> list[dict]:
        return [self._profile_json(p) for p in self._profiles.values()]

    def _profile_json(self, p: Profile) -> dict:
        return {
            "profileId": int(p.profile_id),
            "countryCode": p.country,
            "currencyCode": p.currency,
            "dailyBudget": 999999999.0,
            "timezone": p.timezone,
            "accountInfo": {
                "marketplaceStringId": p.marketplace,
                "id": p.seller["sellerId"],
                "type": "seller",
                "name": p.seller["name"],
                "validPaymentMethod": True,
            },
        }

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
    def report_rows(
        self,
        profile_id: str,
        report_type_id: str,
        group_by: list[str],
        time_unit: str,
        start: _dt.date,
        end: _dt.date,
        columns: list[str],
        filters: list[dict] | None = None,
    ) -> list[dict]:
        return reports.report_rows(
            self, self._p(profile_id), report_type_id, group_by, time_unit, start, end, columns, filters
        )

    def totals(self, profile_id: str, start: _dt.date, end: _dt.date) -> dict:
        return reports.totals(self, self._p(profile_id), start, end)
