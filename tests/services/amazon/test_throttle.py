"""Per-profile pacing: a 429 holds one profile's calls, never another's; a rate spaces one profile's calls."""

from __future__ import annotations

from fakes import BASE, FakeAmazon, NoSleep, Reply, session_for

from services.amazon.http import RetryPolicy, send
from services.amazon.throttle import SCOPE_HEADER, ProfileGate, gate_for, key_for


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_hold_delays_only_its_own_profile():
    clock = Clock()
    gate = ProfileGate(clock)
    gate.hold("host/A", 5.0)
    assert gate.reserve("host/A", None) == 5.0
    assert gate.reserve("host/B", None) == 0.0
    assert gate.reserve("host/A", None, own_backoff_done=True) == 0.0  # the caller that slept its back-off
    clock.t += 5.0
    assert gate.reserve("host/A", None) == 0.0


def test_a_rate_spaces_calls_evenly_per_profile():
    clock = Clock()
    gate = ProfileGate(clock)
    waits = [gate.reserve("host/A", 4.0) for _ in range(5)]
    assert waits == [0.0, 0.25, 0.5, 0.75, 1.0]  # 4 calls a second, queued in order
    assert gate.reserve("host/B", 4.0) == 0.0
    clock.t += 2.0
    assert gate.reserve("host/A", 4.0) == 0.0


def test_key_is_host_and_profile_scope():
    assert key_for(f"{BASE}/sp/campaigns/list", {SCOPE_HEADER: "123"}).endswith("/123")
    assert "/" not in key_for(f"{BASE}/v2/profiles", {})


def test_send_holds_the_throttled_profile_for_the_next_caller():
    fake = FakeAmazon().on(
        "POST", "/sp/campaigns/list", Reply(429, headers={"Retry-After": "7"}), Reply(200, {"ok": 1})
    )
    session = session_for(fake)
    sleep = NoSleep()
    url = f"{BASE}/sp/campaigns/list"
    gate = gate_for(session)
    seen = []

    def sleep_and_look(seconds):  # while the throttled call backs off, a sibling of A must wait and B must not
        seen.append((gate.reserve(key_for(url, {SCOPE_HEADER: "A"}), None), gate.reserve(key_for(url, {}), None)))
        sleep(seconds)

    r = send(session, "POST", url, policy=RetryPolicy(), sleep=sleep_and_look, headers={SCOPE_HEADER: "A"}, json={})
    assert r.status_code == 200 and sleep.delays == [7.0]  # its own back-off, once
    assert 6.0 < seen[0][0] <= 7.0 and seen[0][1] == 0.0
    assert gate.reserve(key_for(url, {SCOPE_HEADER: "A"}), None) == 0.0  # answered again: the hold is lifted
