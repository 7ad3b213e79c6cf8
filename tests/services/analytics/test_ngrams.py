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


def test_stop_words_drop_per_marketplace_language():
    from services.analytics.ngrams import language_of

    terms = pd.DataFrame(
        {"search_term": ["yoga mat for kids", "mat for women", "mat with strap"], "cost": [30.0, 20.0, 10.0]}
    )
    plain = ngram_table(terms, 1)
    assert "for" in set(plain["ngram"])  # without a language nothing is dropped
    uni = ngram_table(terms, 1, language=language_of("US"))
    assert "for" not in set(uni["ngram"]) and "with" not in set(uni["ngram"])
    assert list(uni["ngram"])[0] == "mat"
    bi = set(ngram_table(terms, 2, language="en")["ngram"])
    assert "for kids" not in bi and "mat for" not in bi and "yoga mat" in bi
    assert "mat for kids" in set(ngram_table(terms, 3, language="en")["ngram"])  # inside a fragment they stay

    german = pd.DataFrame({"search_term": ["yogamatte für kinder", "matte mit gurt"], "cost": [5.0, 4.0]})
    assert language_of("DE") == "de"
    assert {"für", "mit"}.isdisjoint(ngram_table(german, 1, language=language_of("DE"))["ngram"])
    assert "für" in set(ngram_table(german, 1, language="en")["ngram"])  # English words only for English
    assert fragments("tapis de yoga pour l'enfant", 1, "fr") == {"tapis", "yoga", "enfant"}
    assert fragments("esterilla de yoga para niños", 1, language_of("ES")) == {"esterilla", "yoga", "niños"}
    assert fragments("tappetino da yoga per bambini", 1, language_of("IT")) == {"tappetino", "yoga", "bambini"}
    assert language_of(None) == "en" and language_of("JP") == "ja"
