"""Listing an account's advertising profiles across Amazon's three regions.

Amazon answers `GET /v2/profiles` per regional host, and a profile works only on
its own region's host, so an account's profiles are the union over NA, EU and FE.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

PROFILE_COLUMNS = [
    "profile_id",
    "country_code",
    "currency_code",
    "timezone",
    "marketplace_id",
    "account_name",
    "region",
    "seller_id",
]


def profile_rows(profiles: Iterable[dict], region: str | None = None) -> list[dict]:
    """The same rows as plain dicts (what the ownership check and the store take)."""
    return profiles_frame(profiles, region).to_dict("records")


def profiles_frame(profiles: Iterable[dict], region: str | None = None) -> pd.DataFrame:
    """Flatten `/v2/profiles` items into the rows the Connect page shows (ids as text)."""
    rows = []
    for p in profiles:
        info = p.get("accountInfo") or {}
        rows.append(
            {
                "profile_id": str(p["profileId"]),
                "country_code": p.get("countryCode", ""),
                "currency_code": p.get("currencyCode", ""),
                "timezone": p.get("timezone", ""),
                "marketplace_id": info.get("marketplaceStringId", ""),
                "account_name": info.get("name", ""),
                "region": region or "",
                "seller_id": str(info["id"]) if info.get("id") not in (None, "") else None,
            }
        )
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)
