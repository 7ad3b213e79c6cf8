from datetime import date

import pytest

from services.analytics.periods import Period, comparison_gap, comparison_period, resolve_range, settling_days

LATEST = date(2026, 11, 27)


@pytest.mark.parametrize(
    "choice,start",
    [("Last 7 days", date(2026, 11, 21)), ("Last 30 days", date(2026, 10, 29)), ("Month to date", date(2026, 11, 1))],
)
def test_resolve_range(choice, start):
    p = resolve_range(choice, LATEST)
    assert p == Period(start, LATEST)


def test_custom_range_checks_order():
    assert resolve_range("Custom", LATEST, (date(2026, 1, 1), date(2026, 1, 31))).days == 31
    with pytest.raises(ValueError, match="start date"):
        resolve_range("Custom", LATEST, (date(2026, 2, 1), date(2026, 1, 31)))


def test_previous_period_same_length():
    p = resolve_range("Last 14 days", LATEST)
    c = comparison_period(p, "Previous period")
    assert c.days == 14 and c.end == date(2026, 11, 13)


def test_same_period_last_year_needs_data():
    p = resolve_range("Last 7 days", LATEST)
    assert comparison_period(p, "Same period last year", earliest=date(2026, 8, 1)) is None
    c = comparison_period(p, "Same period last year", earliest=date(2025, 1, 1))
    assert c == Period(date(2025, 11, 21), date(2025, 11, 27))
    assert comparison_period(Period(date(2028, 2, 29), date(2028, 2, 29)), "Same period last year").start == date(
        2027, 2, 28
    )


def test_settling_days_are_the_last_three():
    assert settling_days(LATEST) == [date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27)]


def test_comparison_gap_names_the_first_synced_day():
    p = resolve_range("Last 14 days", LATEST)
    c = comparison_period(p, "Previous period")
    assert comparison_gap(c, c.start) is None  # wholly inside the synced data
    assert comparison_gap(c, date(2026, 11, 1)) == "no data before 01 Nov 2026"  # partly before it
    assert comparison_gap(None, date(2026, 11, 1)) is None
