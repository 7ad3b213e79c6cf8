import pandas as pd
import pytest

from services.analytics.ngrams import fragments, ngram_table, tokenize


def test_tokenize_keeps_scripts_and_drops_markup():
    assert tokenize("<script>alert(1)</script> Yoga MAT") == ["script", "alert", "1", "script", "yoga", "mat"]
    assert tokenize("=cmd|' /C calc'!A0") == ["cmd", "c", "calc", "a0"]
    assert tokenize("حصيرة يوغا 🔥") == ["حصيرة", "يوغا"]
    assert tokenize("kid's mat") == ["kid's", "mat"]


def test_fragments_counted_once_per_term():
    assert fragments("mat mat mat", 1) == {"mat"}
    assert fragments("yoga mat thick", 2) == {"yoga mat", "mat thick"}
    assert fragments("mat", 3) == set()


def test_ngram_aggregates_spend_sales_orders_acos():
    terms = pd.DataFrame(
        {
            "search_term": ["yoga mat", "thick yoga mat", "free yoga video", "mat"],
            "clicks": [10, 5, 20, 2],
            "cost": [10.0, 5.0, 12.0, 1.0],
            "sales": [50.0, 0.0, 0.0, 10.0],
            "orders": [2, 0, 0, 1],
        }
    )
    uni = ngram_table(terms, 1).set_index("ngram")
    assert uni.loc["yoga", "cost"] == pytest.approx(27.0)
    assert uni.loc["yoga", "terms"] == 3
    assert uni.loc["mat", "sales"] == pytest.approx(60.0)
    assert uni.loc["mat", "acos"] == pytest.approx(16.0 / 60.0)
    assert pd.isna(uni.loc["free", "acos"])  # spend with no sales: ACOS missing, not infinite
    bi = ngram_table(terms, 2).set_index("ngram")
    assert bi.loc["yoga mat", "orders"] == 2
    assert list(ngram_table(terms, 1)["ngram"])[0] == "yoga"  # sorted by spend


def test_empty_and_invalid():
    assert ngram_table(pd.DataFrame({"search_term": [], "cost": []}), 2).empty
    with pytest.raises(ValueError):
        ngram_table(pd.DataFrame({"search_term": ["a"]}), 4)
