"""Date ranges and comparison periods for the shared sidebar controls.

Amazon's data for a day keeps changing for about three days (conversions are
restated), so ranges end at the last complete day the store has and the newest
days are flagged as settling rather than silently compared as final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

RANGE_CHOICES = (
    "Last 7 days",
    "Last 14 days",
    "Last 30 days",
    "Last 60 days",
    "Last 90 days",
    "Month to date",
    "Custom",
)
COMPARISONS = ("Previous period", "Same period last year", "No comparison")
SETTLING_DAYS = 3
# the optimizer's rules look back this many days by default (`optimizer.settings`), leaving out the settling days;
# the sync sums search terms and keywords over those windows too (`sync.summaries`), so both name them here
TERM_RULES_LOOKBACK_DAYS = 60
RULES_LOOKBACK_DAYS = 30  # the bid, budget and placement rules' default lookback


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __str__(self) -> str:
        return f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"


def resolve_range(choice: str, latest: date, custom: tuple[date, date] | None = None) -> Period:
    """The period a sidebar choice means, ending on the latest day with data."""
    if choice == "Custom":
        if not custom:
            raise ValueError("Pick a start and an end date.")
        start, end = custom
        if start > end:
            raise ValueError("The start date must be on or before the end date.")
        return Period(start, end)
    if choice == "Month to date":
        return Period(latest.replace(day=1), latest)
    if choice.startswith("Last "):
        n = int(choice.split()[1])
        return Period(latest - timedelta(days=n - 1), latest)
    raise ValueError(f"Unknown date range: {choice}")


def comparison_period(period: Period, choice: str, earliest: date | None = None) -> Period | None:
    """The period to compare with; None when there is none or the store has no data that far back."""
    if choice == "No comparison":
        return None
    if choice == "Previous period":
        end = period.start - timedelta(days=1)
        cmp = Period(end - timedelta(days=period.days - 1), end)
    elif choice == "Same period last year":
        cmp = Period(_year_back(period.start), _year_back(period.end))
    else:
        raise ValueError(f"Unknown comparison: {choice}")
    if earliest is not None and cmp.end < earliest:
        return None
    return cmp


def comparison_gap(comparison: Period | None, first_synced: date | None) -> str | None:
    """ "no data before 28 Aug" when the comparison period starts before the first synced day, else None.

    A comparison period that lies partly or wholly before the synced data compares a full range with a part of
    one ("Spend +1,816 %"): the page shows this note instead of any percentage change."""
    if comparison is None or first_synced is None or comparison.start >= first_synced:
        return None
    return f"no data before {first_synced:%d %b %Y}"


def _year_back(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def settling_days(latest: date) -> list[date]:
    """The newest days whose conversions Amazon is still restating."""
    return [latest - timedelta(days=i) for i in range(SETTLING_DAYS)][::-1]


def settled_window(latest: date, lookback_days: int, settling_days: int = SETTLING_DAYS) -> Period:
    """The days a rule reads: `lookback_days` back from `latest` (the newest day with data), its settling days left
    out (their orders are still coming in)."""
    return Period(latest - timedelta(days=lookback_days - 1), latest - timedelta(days=settling_days))
