"""Listing an account's advertising profiles across Amazon's three regions.

Amazon answers `GET /v2/profiles` per regional host, and a profile works only on
its own region's host, so an account's profiles are the union over NA, EU and FE.
"""
from __future__ import annotations

from typing import Iterable

import pandas as pd

from services.ads_api import AdsClient
from services.lwa import LwaClient, TokenSource
from services.regions import REGIONS, hosts_for

PROFILE_COLUMNS = ["profile_id", "country_code", "currency_code", "timezone", "marketplace_id", "account_name", "region"]


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
            }
        )
    return pd.DataFrame(rows, columns=PROFILE_COLUMNS)


def list_account_profiles(
    client_id: str, client_secret: str, refresh_token: str, sandbox_url: str | None = None, region: str = "NA"
) -> pd.DataFrame:
    """Exchange the refresh token once, then ask every regional host for its profiles."""
    token_url = hosts_for(region, sandbox_url).token_url
    tokens = TokenSource(LwaClient(token_url, client_id, client_secret), refresh_token)
    frames = []
    for r in REGIONS:
        client = AdsClient(hosts_for(r, sandbox_url).ads, client_id, tokens)
        frames.append(profiles_frame(client.list_profiles(), region=r))
    return pd.concat(frames, ignore_index=True) if frames else profiles_frame([])


def list_demo_profiles() -> pd.DataFrame:
    """The demo seller's profiles, fetched over HTTP from the embedded sandbox."""
    from services.demo import demo_credentials, sandbox_url

    creds = demo_credentials()
    return list_account_profiles(creds["client_id"], creds["client_secret"], creds["refresh_token"], sandbox_url())
