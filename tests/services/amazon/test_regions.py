import pytest

from services.amazon.regions import REGIONS, Hosts, hosts_for, marketplace_id_for_country, region_for_country


def test_real_hosts_per_region():
    assert hosts_for("NA") == Hosts(
        "https://advertising-api.amazon.com",
        "https://sellingpartnerapi-na.amazon.com",
        "https://api.amazon.com/auth/o2/token",
        "https://www.amazon.com/ap/oa",
    )
    eu = hosts_for("eu")
    assert eu.ads == "https://advertising-api-eu.amazon.com"
    assert eu.spapi == "https://sellingpartnerapi-eu.amazon.com"
    assert eu.token_url == "https://api.amazon.co.uk/auth/o2/token"
    assert eu.consent_url == "https://eu.account.amazon.com/ap/oa"
    fe = hosts_for("FE")
    assert fe.ads == "https://advertising-api-fe.amazon.com"
    assert fe.spapi == "https://sellingpartnerapi-fe.amazon.com"
    assert fe.token_url == "https://api.amazon.co.jp/auth/o2/token"
    assert fe.consent_url == "https://apac.account.amazon.com/ap/oa"


@pytest.mark.parametrize("region", REGIONS)
def test_sandbox_hosts_use_region_prefix(region):
    h = hosts_for(region, "http://127.0.0.1:8765/")
    prefix = f"http://127.0.0.1:8765/{region.lower()}"
    assert h.ads == h.spapi == prefix
    assert h.token_url == "http://127.0.0.1:8765/auth/o2/token"
    assert h.consent_url == "http://127.0.0.1:8765/ap/oa"


def test_unknown_region_rejected():
    with pytest.raises(ValueError):
        hosts_for("XX")


@pytest.mark.parametrize(
    "country,region",
    [
        ("US", "NA"),
        ("CA", "NA"),
        ("MX", "NA"),
        ("BR", "NA"),
        ("UK", "EU"),
        ("GB", "EU"),
        ("DE", "EU"),
        ("FR", "EU"),
        ("IT", "EU"),
        ("ES", "EU"),
        ("NL", "EU"),
        ("SE", "EU"),
        ("PL", "EU"),
        ("BE", "EU"),
        ("TR", "EU"),
        ("AE", "EU"),
        ("SA", "EU"),
        ("EG", "EU"),
        ("IN", "EU"),
        ("ZA", "EU"),
        ("IE", "EU"),
        ("JP", "FE"),
        ("AU", "FE"),
        ("SG", "FE"),
        ("us", "NA"),
    ],
)
def test_region_for_country(country, region):
    assert region_for_country(country) == region


def test_profile_country_routes_to_its_host():
    profiles = [
        {"profileId": 1, "countryCode": "US"},
        {"profileId": 2, "countryCode": "UK"},
        {"profileId": 3, "countryCode": "JP"},
    ]
    hosts = [hosts_for(region_for_country(p["countryCode"])).ads for p in profiles]
    assert hosts == [
        "https://advertising-api.amazon.com",
        "https://advertising-api-eu.amazon.com",
        "https://advertising-api-fe.amazon.com",
    ]


def test_unknown_country_rejected():
    with pytest.raises(ValueError):
        region_for_country("ZZ")


def test_marketplace_ids():
    assert marketplace_id_for_country("US") == "ATVPDKIKX0DER"
    assert marketplace_id_for_country("UK") == marketplace_id_for_country("GB") == "A1F83G8C2ARO7P"
