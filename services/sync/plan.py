"""What a sync asks for: 95 days on the first run in windows of at most 31 days, later the new days plus the
last 14 again (Amazon restates conversions), and the limits that keep a run polite.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

MAX_DAYS = 95  # Amazon's SP report retention
MAX_SPAN = 31  # Amazon's maximum span of one SP report
REFETCH_DAYS = 14  # conversions are restated for days: fetch the last 14 again
MAX_IN_FLIGHT = 40  # reports requested/polled at once
REPORT_ATTEMPTS = 3  # a FAILED report is requested again this many times in all
COUPON_LOOKBACK_DAYS = 729
PROMO_LOOKAHEAD_DAYS = 180
DOWNLOAD_SLOTS = 3  # reports streamed into the store at once (one chunk of rows each); all are still polled together

ProgressFn = Callable[[str, int, int, int], None]


# ---------------------------------------------------------------------------------------------
# planning


def windows(start: date, end: date, span: int = MAX_SPAN) -> list[tuple[date, date]]:
    out = []
    cur = start
    while cur <= end:
        w_end = min(cur + timedelta(days=span - 1), end)
        out.append((cur, w_end))
        cur = w_end + timedelta(days=1)
    return out


def covered_dates(db, profile_id: str, grain: str) -> set[date]:
    covered: set[date] = set()
    for s, e in db.conn.execute(
        "SELECT start, end FROM sync_tasks WHERE profile_id = ? AND report_type = ? AND status = 'done'",
        [profile_id, grain],
    ):
        d, last = date.fromisoformat(s), date.fromisoformat(e)
        while d <= last:
            covered.add(d)
            d += timedelta(days=1)
    return covered


def plan_range(covered: set[date], today: date, days: int | None) -> tuple[date, date] | None:
    """First run: up to 95 days ending yesterday. Later: the first gap (within the horizon) or the last 14
    covered days again, whichever is earlier, to yesterday."""
    yesterday = today - timedelta(days=1)
    horizon = max(1, min(days or MAX_DAYS, MAX_DAYS))
    first = yesterday - timedelta(days=horizon - 1)
    in_horizon = {d for d in covered if first <= d <= yesterday}
    if not in_horizon:
        return first, yesterday
    d = first
    while d in in_horizon and d <= yesterday:
        d += timedelta(days=1)
    first_gap = d
    last_covered = max(in_horizon)
    start = min(first_gap, last_covered - timedelta(days=REFETCH_DAYS - 1))
    return max(start, first), yesterday


# ---------------------------------------------------------------------------------------------
