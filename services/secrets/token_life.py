"""How long an account's Amazon authorization has left, and what the UI should say about it.

Amazon authorizations last a year from consent; after that LWA answers invalid_grant and the data quietly
stops. The store records `authorized_on`; warnings start 30 days before the end and turn urgent at 7.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from services.dates import to_date

LIFETIME_DAYS = 365
WARN_DAYS = 30
URGENT_DAYS = 7


@dataclass(frozen=True)
class TokenLife:
    days_left: int | None
    level: str  # ok | warn | urgent | expired | reconnect_needed | unknown
    message: str

    @property
    def needs_action(self) -> bool:
        return self.level in ("warn", "urgent", "expired", "reconnect_needed")

    @property
    def can_sync(self) -> bool:
        return self.level not in ("expired", "reconnect_needed")


def days_left(authorized_on, today: date | None = None) -> int | None:
    start = to_date(authorized_on)
    if start is None:
        return None
    today = today or datetime.now(UTC).date()
    return LIFETIME_DAYS - (today - start).days


def assess(account: dict, today: date | None = None) -> TokenLife:
    """From an accounts row (status, authorized_on): days left and the sentence to show."""
    left = days_left(account.get("authorized_on"), today)
    if account.get("status") == "reconnect_needed":
        return TokenLife(
            left,
            "reconnect_needed",
            "Amazon no longer accepts this account's authorization (revoked or expired). "
            "Its syncs are stopped until you reconnect it.",
        )
    if left is None:
        return TokenLife(None, "unknown", "The authorization date is unknown; Amazon authorizations last a year.")
    if left <= 0:
        return TokenLife(
            left,
            "expired",
            "This account's Amazon authorization is more than a year old and has expired. "
            "Reconnect it to keep the data coming.",
        )
    plural = "day" if left == 1 else "days"
    if left <= URGENT_DAYS:
        return TokenLife(
            left, "urgent", f"The Amazon authorization ends in {left} {plural}. Reconnect now or syncing will stop."
        )
    if left <= WARN_DAYS:
        return TokenLife(left, "warn", f"The Amazon authorization ends in {left} {plural}. Reconnect it soon.")
    return TokenLife(left, "ok", f"Authorization valid for {left} more {plural}.")
