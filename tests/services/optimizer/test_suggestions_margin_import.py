"""The margin CSV import (services/optimizer/suggestions.py: import_margins_csv) reads what spreadsheets write and
refuses a price of 0 with a sentence per line (issue 12)."""

import codecs

import pytest

from services import optimizer as sugg
from services.store import open_db

ROWS = "asin,sku,price,cost\nB000000001,Crème brûlée – 1,20,15\nB000000002,Café,10,4\n"


_KEEP = []  # ensure_schema remembers migrated connections by id(); a freed one's id can be reused by the next test


@pytest.fixture
def db(tmp_path):
    d = open_db(tmp_path / "m.db")
    _KEEP.append(d)
    return d


def _margins(db):
    return sugg.margins_frame(db, "acc").set_index("asin")


@pytest.mark.parametrize(
    "encoded",
    [
        ROWS.encode("utf-8"),
        codecs.BOM_UTF8 + ROWS.encode("utf-8"),
        ROWS.encode("cp1252"),
        ROWS.encode("utf-16"),  # BOM + little-endian, as Python (and Excel's Unicode text) write it
        codecs.BOM_UTF16_BE + ROWS.encode("utf-16-be"),
        ROWS.replace(",", "\t").encode("utf-16"),  # Excel's "Unicode text" is tab-separated
        ROWS.replace(",", ";").encode("cp1252"),  # European Excel: semicolons
    ],
    ids=["utf8", "utf8-bom", "cp1252", "utf16-le", "utf16-be", "utf16-tabs", "cp1252-semicolons"],
)
def test_every_spreadsheet_encoding_imports_the_same(db, encoded):
    n, problems = sugg.import_margins_csv(db, "acc", encoded)
    assert (n, problems) == (2, [])
    m = _margins(db)
    assert m.loc["B000000001", "margin"] == pytest.approx(0.25) and m.loc["B000000002", "margin"] == pytest.approx(0.6)
    assert m.loc["B000000001", "sku"] == "Crème brûlée – 1"


def test_price_zero_is_refused_with_a_sentence_and_the_rest_is_kept(db):
    data = b"asin,price,cost\nB000000001,0,5\nB000000002,10,4\nB000000003,abc,4\nB000000004,-3,1\n"
    n, problems = sugg.import_margins_csv(db, "acc", data)
    assert n == 1 and list(_margins(db).index) == ["B000000002"]
    assert len(problems) == 3
    assert problems[0].startswith("line 2: ") and "price must be more than 0" in problems[0]
    assert problems[1] == "line 4: the price “abc” is not a number"
    assert problems[2].startswith("line 5: ") and "price must be more than 0" in problems[2]


def test_decimal_comma_and_currency_signs(db):
    n, problems = sugg.import_margins_csv(db, "acc", "asin;price;cost\nB000000001;€20,00;15,00\n".encode("cp1252"))
    assert (n, problems) == (1, [])
    assert _margins(db).loc["B000000001", "margin"] == pytest.approx(0.25)
