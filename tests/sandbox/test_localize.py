"""Search terms and listings in each marketplace's language (issue 14: "Search terms in DE, UK and other marketplaces
are in their language"). The default worlds host US, UK, DE and CA; a FR, ES, IT or JP profile (an agency seller
placed there) shops in French, Spanish, Italian or Japanese from the same latent world."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

import sandbox.world
from sandbox import catalog_api
from sandbox.localize import LANGUAGES, localize
from services.analytics.ngrams import STOP_WORDS, language_of, ngram_table

TODAY = dt.date(2025, 6, 1)
ENGLISH = {"for", "kids", "women", "large", "cheap", "mat", "bottle", "case", "board", "candle"}  # not "black friday"
LOCAL_WORDS = {
    "FR": {"pour", "enfant", "noir", "grand", "tapis", "gourde", "laisse", "coque", "planche", "bougie", "sac"},
    "ES": {"para", "niños", "negro", "grande", "esterilla", "botella", "correa", "funda", "tabla", "vela", "mochila"},
    "IT": {"per", "bambini", "nero", "grande", "tappetino", "borraccia", "guinzaglio", "cover", "tagliere", "zaino"},
}


def test_every_table_renders_each_english_phrase_once_and_idempotently():
    german = set(LANGUAGES["DE"])
    for country, table in LANGUAGES.items():
        assert set(table) == german, country  # the same phrases in every language
        for english, local in table.items():
            assert localize(english, country) == local
            assert localize(local, country) == local, (country, english, local)  # a rendered text stays put
    assert localize("non slip yoga mat for kids", "FR") == "antidérapant tapis de yoga pour enfant"
    assert localize("non slip yoga mat for kids", "JP") == "滑り止め ヨガマット 子供用"
    assert localize("=cmd|' /C calc'!A0 yoga mat", "IT") == "=cmd|' /C calc'!A0 tappetino yoga"  # odd text intact
    assert localize("non slip yoga mat", "US") == "non slip yoga mat"


@pytest.fixture(scope="module")
def world():
    """The demo world with four agency sellers placed in FR, ES, IT and JP (small profiles, 40 days)."""
    saved = sandbox.world.AGENCY_COUNTRIES
    sandbox.world.AGENCY_COUNTRIES = ("FR", "ES", "IT", "JP")
    try:
        yield sandbox.world.World(seed=7, scale="demo", sellers=4, today=TODAY)
    finally:
        sandbox.world.AGENCY_COUNTRIES = saved


def _terms(w, country: str) -> pd.DataFrame:
    pid = next(p["profileId"] for p in w.profiles() if p["countryCode"] == country)
    cols = ["date", "keywordId", "searchTerm", "impressions", "clicks", "cost", "sales7d", "purchases7d"]
    rows = w.report_rows(pid, "spSearchTerm", ["searchTerm"], "SUMMARY", TODAY - dt.timedelta(30),
                         TODAY - dt.timedelta(1), cols)  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


@pytest.mark.parametrize("country", ["FR", "ES", "IT", "JP"])
def test_a_profile_in_each_marketplace_shops_in_its_language(world, country):
    terms = _terms(world, country)
    words = [t for t in terms["searchTerm"] if not re.fullmatch(r"b0[0-9a-z]{8}", t)]  # ASINs are no language
    assert len(words) >= 20 and terms["clicks"].sum() > 0
    seen = set(" ".join(words).split())
    assert not ENGLISH & seen, (country, ENGLISH & seen)
    if country == "JP":
        assert sum(bool(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", t)) for t in words) > 0.9 * len(words)
    else:
        assert LOCAL_WORDS[country] & seen, (country, sorted(seen)[:40])
    # the n-grams of those terms drop that language's own stop words
    language = language_of(country)
    grams = ngram_table(terms.rename(columns={"searchTerm": "search_term", "sales7d": "sales"}), 1, language=language)
    assert not set(grams["ngram"]) & STOP_WORDS[language]


@pytest.mark.parametrize("country", ["FR", "ES", "IT", "JP"])
def test_listings_are_titled_in_the_marketplaces_language(world, country):
    p = next(p for p in world._profiles.values() if p.country == country)
    local = catalog_api.item_name(p, 0, country)
    assert local != p.p_title[0] and local.split()[0] == p.p_title[0].split()[0]  # brand first, words translated
    rival = catalog_api._title("Veloria", "yoga mat", "thick", country)
    assert rival == {"FR": "Veloria Tapis de yoga épais", "ES": "Veloria Esterilla yoga gruesa",
                     "IT": "Veloria Tappetino yoga spesso", "JP": "Veloria ヨガマット 厚手"}[country]  # fmt: skip
