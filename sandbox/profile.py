"""One advertiser profile of the simulated world: its identity, ids and the state its mixins fill in.

Generation, daily simulation and promotions are separate mixins (``generate.py``, ``simulate.py``,
``promotions.py``) so each concern reads on its own; ``Profile`` only ties them together."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

import numpy as np

from .constants import MARKETS
from .generate import ProfileGeneration
from .promotions import ProfilePromotions
from .simulate import ProfileSimulation

if TYPE_CHECKING:  # annotations only: world.py imports this module
    from .world import World


class Profile(ProfileGeneration, ProfileSimulation, ProfilePromotions):
    """One advertiser profile: entities (SP v3 dicts), latent truth arrays and simulated events."""

    def __init__(self, world: World, idx: int, country: str, seller: dict, size: dict):
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
