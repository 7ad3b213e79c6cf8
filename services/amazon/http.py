"""The one HTTP retry policy shared by every Amazon client.

Amazon throttles dynamically (429, often without Retry-After) and has transient
5xx; every call therefore gets a timeout and a bounded retry with capped
exponential backoff and full jitter, while other 4xx fail at once because
repeating them cannot succeed. Retries are counted per session so a sync can
report how hard Amazon pushed back.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from urllib.parse import urlsplit

import requests
import urllib3

from services.amazon.throttle import gate_for, key_for
from services.errors import AmazonOutcomeUnknown, AmazonUnavailable

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# A server asking for a wait longer than this is effectively down; waiting it out would hang a sync.
MAX_RETRY_AFTER = 600.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 30.0
    timeout: tuple[float, float] = (5, 60)
    # calls per second per profile (None: paced only by Amazon's 429s); see services.amazon.throttle
    per_profile_rate: float | None = None


@dataclass
class Stats:
    """Counters per session, thread-safe, so the sync can report requests, retries and throttling."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, *, requests: int = 0, retries: int = 0, throttled: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.retries += retries
            self.throttled += throttled

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {"requests": self.requests, "retries": self.retries, "throttled": self.throttled}


_stats: weakref.WeakKeyDictionary[requests.Session, Stats] = weakref.WeakKeyDictionary()
_stats_lock = threading.Lock()


def stats_for(session: requests.Session) -> Stats:
    """Stats live beside the session (not on it) so any session, even a caller's, can be counted."""
    with _stats_lock:
        stats = _stats.get(session)
        if stats is None:
            stats = _stats[session] = Stats()
        return stats


def _path(url: str) -> str:
    # Only the path is ever logged: query strings of presigned URLs carry signatures.
    return urlsplit(url).path or "/"


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date; anything unreadable means 'not given'."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def backoff_delay(retry_number: int, policy: RetryPolicy, rng: Callable[[], float] = random.random) -> float:
    """Full jitter (uniform in [0, cap)) spreads clients that were throttled together."""
    ceiling = min(policy.max_delay, policy.base_delay * (2**retry_number))
    return ceiling * rng()


def _never_sent(exc: Exception) -> bool:
    """True when the request certainly never reached Amazon (no connection was made), so repeating it is safe."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3 MaxRetryError wraps the cause
    return isinstance(reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError))


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
    idempotent: bool = True,
    **kwargs,
) -> requests.Response:
    """Send with the retry policy; returns any non-retryable response, raises AmazonUnavailable on give-up.

    `idempotent=False` is for creates (POST of new entities): Amazon has no idempotency key, so a repeat after a
    5xx or a timeout once the request was sent could create a duplicate. Such a call is retried only when Amazon
    certainly did not process it (429 throttling, or a connection that was never established); otherwise
    AmazonOutcomeUnknown is raised and the caller must look the entity up before sending again.
    """
    kwargs.setdefault("timeout", policy.timeout)
    stats = stats_for(session)
    path = _path(url)
    attempts = max(1, policy.max_attempts)
    last_problem = ""
    throttled_seen = False
    gate, key = gate_for(session), key_for(url, kwargs.get("headers"))
    backed_off = False  # this call set the profile's hold: it keeps its own back-off, the hold is for the others
    for attempt in range(attempts):
        wait = gate.reserve(key, policy.per_profile_rate, own_backoff_done=backed_off)
        if wait > 0:
            sleep(wait)
        stats.add(requests=1)
        try:
            response = session.request(method, url, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            last_problem = "the connection failed" if isinstance(exc, requests.ConnectionError) else "it timed out"
            if isinstance(exc, requests.ConnectTimeout):
                last_problem = "the connection timed out"
            logger.warning("%s %s failed: %s (attempt %d/%d)", method, path, type(exc).__name__, attempt + 1, attempts)
            if not idempotent and not _never_sent(exc):
                raise AmazonOutcomeUnknown(
                    f"Amazon did not answer the change request ({last_problem}); it may or may not have been made."
                ) from None
            delay = backoff_delay(attempt, policy, rng)
        else:
            logger.debug("%s %s -> %d", method, path, response.status_code)
            if response.status_code not in RETRYABLE_STATUSES:
                if backed_off:
                    gate.release(key)  # Amazon takes this profile's calls again
                return response
            if response.status_code == 429:
                stats.add(throttled=1)
                throttled_seen = True
            last_problem = f"it answered {response.status_code}"
            if not idempotent and response.status_code != 429:
                response.close()
                logger.warning("%s %s -> %d; not repeated blind (create)", method, path, response.status_code)
                raise AmazonOutcomeUnknown(
                    f"Amazon answered {response.status_code} to the change request; it may or may not have been made."
                )
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            delay = retry_after if retry_after is not None else backoff_delay(attempt, policy, rng)
            if response.status_code == 429:
                gate.hold(key, delay)  # the profile's other calls wait too; other profiles go on
            backed_off = backed_off or response.status_code == 429
            logger.warning("%s %s -> %d (attempt %d/%d)", method, path, response.status_code, attempt + 1, attempts)
            response.close()
        if attempt + 1 >= attempts:
            break
        stats.add(retries=1)
        sleep(delay)
    if throttled_seen and last_problem.endswith("429"):
        message = (
            f"Amazon is limiting how fast this app may call it (still throttled after {attempts} tries). "
            "Try again in a few minutes."
        )
    else:
        message = f"Amazon is not responding right now ({last_problem}, {attempts} tries). Try again in a few minutes."
    raise AmazonUnavailable(message)
