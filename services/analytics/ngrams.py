"""N-gram analysis of search terms: the practitioner's tool for finding negatives.

A word that appears across many search terms can waste money even when no single
term looks bad; aggregating 1-, 2- and 3-word fragments surfaces it. Each term
counts a fragment once, however often the fragment repeats inside it.
"""

from __future__ import annotations

import re

import pandas as pd

from services.analytics.metrics import add_ratios

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
METRIC_COLUMNS = ["impressions", "clicks", "cost", "sales", "orders", "units"]


def tokenize(term: str) -> list[str]:
    """Lower-cased words; punctuation, markup and emoji are separators, letters of any script are kept."""
    return _WORD.findall(str(term).lower())


def fragments(term: str, n: int) -> set[str]:
    words = tokenize(term)
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def ngram_table(terms: pd.DataFrame, n: int, min_terms: int = 1) -> pd.DataFrame:
    """Aggregate metrics of every n-word fragment over the search terms that contain it.

    `terms` has one row per search term (already summed over the date range) with a
    `search_term` column and any of the metric columns. Returns fragments sorted by spend.
    """
    if n not in (1, 2, 3):
        raise ValueError("n-grams are 1, 2 or 3 words long")
    metrics = [c for c in METRIC_COLUMNS if c in terms.columns]
    if terms.empty:
        return pd.DataFrame(columns=["ngram", "terms", *metrics])
    exploded = terms[["search_term", *metrics]].copy()
    exploded["ngram"] = exploded["search_term"].map(lambda t: sorted(fragments(t, n)))
    exploded = exploded.explode("ngram").dropna(subset=["ngram"])
    grouped = exploded.groupby("ngram", sort=False).agg(
        terms=("search_term", "nunique"), **{c: (c, "sum") for c in metrics}
    )
    grouped = grouped[grouped["terms"] >= min_terms].reset_index()
    grouped = add_ratios(grouped, ["acos", "cvr", "cpc"])
    sort_col = "cost" if "cost" in grouped.columns else "terms"
    return grouped.sort_values([sort_col, "ngram"], ascending=[False, True], ignore_index=True)
