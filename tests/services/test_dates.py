from datetime import date, datetime

import pandas as pd
import pytest

from services.dates import to_date, to_datetime


@pytest.mark.parametrize(
    "value,expected",
    [
        (None, None),
        ("", None),
        (float("nan"), None),
        (pd.NaT, None),
        (date(2026, 6, 2), date(2026, 6, 2)),
        (datetime(2026, 6, 2, 23, 59), date(2026, 6, 2)),
        (pd.Timestamp("2026-06-02T10:00"), date(2026, 6, 2)),
        ("2026-06-02T00:00:00Z", date(2026, 6, 2)),
        ("2026-13-40", None),
        ("=1+1", None),
        ("x" * 10_000, None),
        ("٢٠٢٦-٠٦-٠٢", None),
    ],
)
def test_to_date(value, expected):
    assert to_date(value) == expected


def test_to_datetime():
    assert to_datetime("2026-06-02T10:15:30Z").utcoffset().total_seconds() == 0
    assert to_datetime(date(2026, 6, 2)) == datetime(2026, 6, 2)
    assert to_datetime("not a date") is None and to_datetime("9" * 100) is None
