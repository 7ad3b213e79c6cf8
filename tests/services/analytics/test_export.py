import csv
import io
from datetime import date

import pandas as pd
import pytest

from services.analytics.export import export_filename, neutralize_cell, to_safe_csv

HOSTILE = [
    '=HYPERLINK("http://evil","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\tcmd",
    "\rcmd",
    "<script>alert(1)</script>",
    "חולצה כחולה",
    "كوب قهوة",
    "🔥 hot deal 🔥",
    "x" * 250,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_no_cell_can_start_a_formula(text):
    out = neutralize_cell(text)
    assert not str(out).startswith(("=", "+", "-", "@", "\t", "\r"))
    assert str(out).lstrip("'") == text  # nothing lost but the guard


def test_numbers_stay_numbers():
    assert neutralize_cell(-1.5) == -1.5
    assert neutralize_cell(0) == 0
    assert neutralize_cell("shoes") == "shoes"


def test_csv_round_trip_is_utf8_bom_and_lossless():
    df = pd.DataFrame({"search_term": HOSTILE, "cost": [-1.5] * len(HOSTILE), "=evil header": range(len(HOSTILE))})
    raw = to_safe_csv(df)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["search_term", "cost", "'=evil header"]
    for original, row in zip(HOSTILE, rows[1:]):
        assert row[0].lstrip("'") == original
        assert not row[0].startswith(("=", "+", "-", "@", "\t", "\r"))
        assert row[1] == "-1.5"


def test_nul_bytes_dropped():
    assert neutralize_cell("a\x00b") == "ab"


def test_export_filename_carries_profile_and_range():
    name = export_filename("Search terms", "US 1234 / Demo", date(2026, 10, 1), date(2026, 10, 30))
    assert name == "search-terms_us-1234-demo_2026-10-01_2026-10-30.csv"


@pytest.mark.parametrize("text", ["-26.14", "-3.50%", "-7"])
def test_a_negative_amount_as_text_stays_a_number(text):
    assert neutralize_cell(text) == text


@pytest.mark.parametrize("text", ["-26.14+1", "-1e5", "- 3", "-3%%", "-.5"])
def test_anything_more_than_a_plain_negative_number_is_guarded(text):
    assert neutralize_cell(text) == "'" + text


def test_numbers_written_as_text_stay_numbers_and_formulas_do_not():
    """Money and percentages reach the CSV as text ("-26.14", "-12.50%"): a spreadsheet reads them as numbers,
    so no apostrophe; anything else starting with "-" is still neutralised."""
    from services.analytics.export import neutralize_cell

    assert neutralize_cell("-26.14") == "-26.14" and neutralize_cell("-12.50%") == "-12.50%"
    assert neutralize_cell("-2+3+cmd|' /C calc'!A0") == "'-2+3+cmd|' /C calc'!A0"
    assert neutralize_cell("-1e5") == "'-1e5"
