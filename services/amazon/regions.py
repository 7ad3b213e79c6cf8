"""Region routing: the one place that knows which Amazon host serves which region.

Every client receives its base URL from here, so pointing the whole app at the
local sandbox is a single argument (``sandbox_url``) rather than scattered
string edits.
"""

from __future__ import annotations

from dataclasses import dataclass

REGIONS = ("NA", "EU", "FE")


@dataclass(frozen=True)
class Hosts:
    ads: str
    spapi: str
    token_url: str
    consent_url: str


_REAL_HOSTS: dict[str, Hosts] = {
    "NA": Hosts(
        ads="https://advertising-api.amazon.com",
        spapi="https://sellingpartnerapi-na.amazon.com",
        token_url="https://api.amazon.com/auth/o2/token",
        consent_url="https://www.amazon.com/ap/oa",
    ),
    "EU": Hosts(
        ads="https://advertising-api-eu.amazon.com",
        spapi="https://sellingpartnerapi-eu.amazon.com",
        token_url="https://api.amazon.co.uk/auth/o2/token",
        consent_url="https://eu.account.amazon.com/ap/oa",
    ),
    "FE": Hosts(
        ads="https://advertising-api-fe.amazon.com",
        spapi="https://sellingpartnerapi-fe.amazon.com",
        token_url="https://api.amazon.co.jp/auth/o2/token",
        consent_url="https://apac.account.amazon.com/ap/oa",
    ),
}

# Country codes as Amazon Ads profiles spell them (UK, not GB); IE is served by the EU hosts.
_COUNTRY_REGION: dict[str, str] = {
    **dict.fromkeys(("US", "CA", "MX", "BR"), "NA"),
    **dict.fromkeys(
        ("UK", "FR", "IT", "ES", "DE", "NL", "AE", "PL", "TR", "EG", "SA", "SE", "BE", "IN", "ZA", "IE"),
        "EU",
    ),
    **dict.fromkeys(("JP", "AU", "SG"), "FE"),
}
# ISO spells the United Kingdom GB; accept it so data from other sources routes correctly.
_ALIASES = {"GB": "UK"}

MARKETPLACE_IDS: dict[str, str] = {
    "US": "ATVPDKIKX0DER",
    "CA": "A2EUQ1WTGCTBG2",
    "MX": "A1AM78C64UM0Y8",
    "BR": "A2Q3Y263D00KWC",
    "UK": "A1F83G8C2ARO7P",
    "DE": "A1PA6795UKMFR9",
    "FR": "A13V1IB3VIYZZH",
    "IT": "APJ6JRA9NG5V4",
    "ES": "A1RKKUPIHCS9HS",
    "NL": "A1805IZSGTT6HS",
    "SE": "A2NODRKZP88ZB9",
    "PL": "A1C3SOZRARQ6R3",
    "BE": "AMEN7PMS3EDWL",
    "TR": "A33AVAJ2PDY3EV",
    "AE": "A2VIGQ35RCS4UG",
    "SA": "A17E79C6D8DWNP",
    "EG": "ARBP9OOSHTCHU",
    "IN": "A21TJRUUN4KGV",
    "JP": "A1VC38T7YXB528",
    "AU": "A39IBJ37TRP1C6",
    "SG": "A19VAU5U5O7RUS",
    "IE": "A28R8C7NBKEWEA",
}


def _normalize_region(region: str) -> str:
    key = (region or "").strip().upper()
    if key not in REGIONS:
        raise ValueError(f"Unknown Amazon region {region!r}; expected one of {', '.join(REGIONS)}")
    return key


def hosts_for(region: str, sandbox_url: str | None = None) -> Hosts:
    """Hosts for a region; with ``sandbox_url`` the local sandbox stands in for every Amazon host."""
    key = _normalize_region(region)
    if sandbox_url:
        base = sandbox_url.rstrip("/")
        regional = f"{base}/{key.lower()}"
        return Hosts(ads=regional, spapi=regional, token_url=f"{base}/auth/o2/token", consent_url=f"{base}/ap/oa")
    return _REAL_HOSTS[key]


def region_for_country(country_code: str) -> str:
    """A profile only works on its own region's host, so routing follows its country code."""
    code = (country_code or "").strip().upper()
    code = _ALIASES.get(code, code)
    try:
        return _COUNTRY_REGION[code]
    except KeyError:
        raise ValueError(f"Amazon Ads does not serve the country code {country_code!r}") from None


def marketplace_id_for_country(country_code: str) -> str:
    """SP-API calls name marketplaces by ID while Ads profiles name them by country."""
    code = (country_code or "").strip().upper()
    code = _ALIASES.get(code, code)
    try:
        return MARKETPLACE_IDS[code]
    except KeyError:
        raise ValueError(f"No Amazon marketplace is known for the country code {country_code!r}") from None
