"""Turning whatever a form, a report or the store gives into a date, in one place.

Amazon's reports, SQLite rows, pandas frames and form widgets hand over dates as
`date`, `datetime`, `Timestamp`, ISO text or nothing; every caller wants either a
`date`/`datetime` or None, never an exception on a bad value.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

MAX_TEXT = 40  # longer text is not a date; refusing it early keeps hostile input cheap


def to_date(value: Any) -> date | None:
    """A calendar date, or None for blanks, NaN and anything unparseable."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime):  # also pandas.Timestamp
        return None if value != value else value.date()  # NaT compares unequal to itself
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if len(text) < 10 or len(text) > MAX_TEXT:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def to_datetime(value: Any) -> datetime | None:
    """A date-time (a plain date means its midnight), or None; a trailing Z is read as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
