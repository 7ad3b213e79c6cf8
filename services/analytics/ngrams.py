"""N-gram analysis of search terms: the practitioner's tool for finding negatives.

A word that appears across many search terms can waste money even when no single
term looks bad; aggregating 1-, 2- and 3-word fragments surfaces it. Each term
counts a fragment once, however often the fragment repeats inside it.

Stop words ("for", "with", "für", "pour", "para", "per" …) carry no intent, so they would top every ranking
("for" was third by spend). A fragment is dropped when it starts or ends with a stop word of the marketplace's
language; inside a fragment they stay, so "mat for kids" is kept as a 3-gram while "for" and "for kids" go.
The language follows the profile's marketplace (`language_of`).
"""

from __future__ import annotations

import re

import pandas as pd

from services.analytics.metrics import add_ratios

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_ELISION = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|all|dell|nell|sull|un)['’](?=[^\W_])", re.UNICODE)
METRIC_COLUMNS = ["impressions", "clicks", "cost", "sales", "orders", "units"]

# Short lists on purpose: the words that join a shopper's query, not a linguist's full list (a longer list starts
# removing words with intent, such as "without" or "mini").
STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "a an and the for with of to in on at by from or as is are be it its this that my your our "
        "vs versus best top".split()
    ),
    "de": frozenset(
        "der die das den dem des ein eine einen einem einer eines und oder für fuer mit ohne von vom zu zum zur "
        "im in am an auf aus bei für als ist sind".split()
    ),
    "fr": frozenset(
        "le la les l un une des du de d et ou pour avec sans sur dans en au aux par à a est sont ce cette".split()
    ),
    "es": frozenset("el la los las lo un una unos unas de del y o para con sin en por al a que es son su sus".split()),
    "it": frozenset(
        "il lo la i gli le l un uno una di del della dei delle da dal e o per con senza in nel nella su a al "
        "alla che è sono".split()
    ),
    "ja": frozenset("の に は を が と で も や へ から まで より".split()),
}
# The language a marketplace's shoppers type in (Amazon's country codes; the UK profile's code is UK or GB).
COUNTRY_LANGUAGE = {
    "US": "en", "UK": "en", "GB": "en", "CA": "en", "AU": "en", "IN": "en", "SG": "en", "AE": "en", "SA": "en",
    "DE": "de", "AT": "de", "CH": "de",
    "FR": "fr", "BE": "fr",
    "ES": "es", "MX": "es",
    "IT": "it",
    "JP": "ja",
}  # fmt: skip


def language_of(country_code: str | None) -> str:
    """The language of a marketplace's search terms; English when the country is unknown."""
    return COUNTRY_LANGUAGE.get(str(country_code or "").upper(), "en")


def tokenize(term: str) -> list[str]:
    """Lower-cased words; punctuation, markup and emoji are separators, letters of any script are kept."""
    return _WORD.findall(str(term).lower())


def _words(term: str, language: str | None) -> list[str]:
    words = tokenize(term)
    if language in ("fr", "it"):  # "l'eau" is the word "eau"
        words = [_ELISION.sub("", w) for w in words]
    return words


def fragments(term: str, n: int, language: str | None = None) -> set[str]:
    """The term's n-word fragments; with a language, those starting or ending with one of its stop words drop."""
    words = _words(term, language)
    stop = STOP_WORDS.get(language or "", frozenset())
    return {
        " ".join(words[i : i + n])
        for i in range(len(words) - n + 1)
        if words[i] not in stop and words[i + n - 1] not in stop
    }


def ngram_table(terms: pd.DataFrame, n: int, min_terms: int = 1, language: str | None = None) -> pd.DataFrame:
    """Aggregate metrics of every n-word fragment over the search terms that contain it.

    `terms` has one row per search term (already summed over the date range) with a
    `search_term` column and any of the metric columns. `language` drops that language's stop words
    (see the module's docstring). Returns fragments sorted by spend.
    """
    if n not in (1, 2, 3):
        raise ValueError("n-grams are 1, 2 or 3 words long")
    metrics = [c for c in METRIC_COLUMNS if c in terms.columns]
    if terms.empty:
        return pd.DataFrame(columns=["ngram", "terms", *metrics])
    exploded = terms[["search_term", *metrics]].copy()
    exploded["ngram"] = exploded["search_term"].map(lambda t: sorted(fragments(t, n, language)))
    exploded = exploded.explode("ngram").dropna(subset=["ngram"])
    grouped = exploded.groupby("ngram", sort=False).agg(
        terms=("search_term", "nunique"), **{c: (c, "sum") for c in metrics}
    )
    grouped = grouped[grouped["terms"] >= min_terms].reset_index()
    grouped = add_ratios(grouped, ["acos", "cvr", "cpc"])
    sort_col = "cost" if "cost" in grouped.columns else "terms"
    return grouped.sort_values([sort_col, "ngram"], ascending=[False, True], ignore_index=True)
