"""Constants and small helpers of the simulated world, shared by its modules and by the report builder.

They live apart from ``world.py`` so that generation, simulation, entities, truth and reports can use them without
importing the ``World`` facade (which imports all of those)."""

from __future__ import annotations

import datetime as _dt

import numpy as np

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
    # marketplaces no default world uses; a profile there shops in its own language (sandbox.localize)
    "FR": ("A13V1IB3VIYZZH", "EUR", "Europe/Paris", "EU", 0.92),
    "ES": ("A1RKKUPIHCS9HS", "EUR", "Europe/Madrid", "EU", 0.92),
    "IT": ("APJ6JRA9NG5V4", "EUR", "Europe/Rome", "EU", 0.92),
    "JP": ("A1VC38T7YXB528", "JPY", "Asia/Tokyo", "FE", 150.0),
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
