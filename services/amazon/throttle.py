"""Per-profile pacing of Amazon calls: a 429 for one profile holds that profile's calls, never the others'.

Amazon's Ads limits are per advertiser (profile) and dynamic. A sync runs dozens of threads for one profile
(every report is polled at once) and an agency's worker syncs many profiles together, so the retry policy alone
is not enough: one throttled report poll would be retried while its siblings keep calling. The gate holds every
call of a throttled profile until its back-off ends, and, when the policy sets `per_profile_rate`, spaces a
profile's calls evenly (a token bucket) so our own bursts never cause the 429 in the first place.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable

import requests

SCOPE_HEADER = "Amazon-Advertising-API-Scope"


class ProfileGate:
    """Token bucket and back-off per key (the profile id, or the host for calls without a profile)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._next_free: dict[str, float] = {}  # when the key may send its next call
        self._held_until: dict[str, float] = {}

    def reserve(self, key: str, rate: float | None, *, own_backoff_done: bool = False) -> float:
        """Seconds to wait before this call may go (the slot is taken now, so waiters queue in order).

        The caller that got the 429 has already slept its back-off (`own_backoff_done`): the hold is for the others.
        """
        with self._lock:
            now = self._clock()
            start = now if own_backoff_done else max(now, self._held_until.get(key, 0.0))
            if rate and rate > 0:
                start = max(start, self._next_free.get(key, 0.0))
                self._next_free[key] = start + 1.0 / rate
            return start - now

    def release(self, key: str) -> None:
        """Amazon answered this key again after a 429: lift the hold early."""
        with self._lock:
            self._held_until.pop(key, None)

    def hold(self, key: str, seconds: float) -> None:
        """After a 429: nobody calls for this key until `seconds` have passed."""
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            self._held_until[key] = max(self._held_until.get(key, 0.0), until)


_gates: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_gates_lock = threading.Lock()


def gate_for(session: requests.Session) -> ProfileGate:
    """One gate per HTTP session: an account's clients share a session, so they share their profiles' gates."""
    with _gates_lock:
        gate = _gates.get(session)
        if gate is None:
            gate = _gates[session] = ProfileGate()
        return gate


def key_for(url: str, headers: dict | None) -> str:
    from urllib.parse import urlsplit

    scope = (headers or {}).get(SCOPE_HEADER)
    host = urlsplit(url).netloc
    return f"{host}/{scope}" if scope else host
