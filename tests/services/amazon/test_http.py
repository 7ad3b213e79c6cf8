import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from fakes import BASE, FakeAmazon, NoSleep, Reply, session_for

from services.amazon.http import RetryPolicy, backoff_delay, parse_retry_after, send, stats_for
from services.errors import AmazonOutcomeUnknown, AmazonUnavailable

URL = f"{BASE}/sp/keywords/list?X-Amz-Signature=secret-signature"


def run(fake, policy=None, rng=lambda: 0.5):
    policy = policy or RetryPolicy()
    sleep = NoSleep()
    session = session_for(fake)
    return send(session, "POST", URL, policy=policy, sleep=sleep, rng=rng, json={}), sleep, session


def test_429_honours_retry_after_seconds():
    fake = FakeAmazon().on("POST", "/sp/keywords/list", Reply(429, headers={"Retry-After": "3"}), Reply(200, {}))
    response, sleep, session = run(fake)
    assert response.status_code == 200
    assert sleep.delays == [3.0]
    assert stats_for(session).snapshot() == {"requests": 2, "retries": 1, "throttled": 1}


def test_429_honours_retry_after_http_date():
    when = datetime.now(UTC) + timedelta(seconds=10)
    fake = FakeAmazon().on(
        "POST",
        "/sp/keywords/list",
        Reply(429, headers={"Retry-After": format_datetime(when, usegmt=True)}),
        Reply(200, {}),
    )
    response, sleep, _ = run(fake)
    assert response.status_code == 200
    assert 8.0 <= sleep.delays[0] <= 10.0


def test_429_without_retry_after_uses_exponential_backoff_with_jitter():
    fake = FakeAmazon().on("POST", "/sp/keywords/list", Reply(429), Reply(429), Reply(429), Reply(200, {}))
    response, sleep, _ = run(fake, RetryPolicy(base_delay=1.0, max_delay=30.0), rng=lambda: 0.5)
    assert response.status_code == 200
    assert sleep.delays == [0.5, 1.0, 2.0]


def test_5xx_retried_then_success():
    fake = FakeAmazon().on("POST", "/sp/keywords/list", Reply(500), Reply(503), Reply(200, {"ok": 1}))
    response, sleep, session = run(fake)
    assert response.json() == {"ok": 1}
    assert len(sleep.delays) == 2
    assert stats_for(session).retries == 2


def test_connection_error_retried():
    fake = FakeAmazon().on("POST", "/sp/keywords/list", requests.ConnectionError("boom"), Reply(200, {}))
    response, sleep, _ = run(fake)
    assert response.status_code == 200 and len(sleep.delays) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 415, 422, 425])
def test_other_4xx_not_retried(status):
    fake = FakeAmazon().on("POST", "/sp/keywords/list", Reply(status, {"code": str(status)}))
    response, sleep, _ = run(fake)
    assert response.status_code == status
    assert sleep.delays == [] and len(fake.calls) == 1


def test_give_up_raises_amazon_unavailable(caplog):
    caplog.set_level(logging.DEBUG)
    fake = FakeAmazon().on("POST", "/sp/keywords/list", Reply(429))
    with pytest.raises(AmazonUnavailable) as info:
        run(fake, RetryPolicy(max_attempts=4))
    assert len(fake.calls) == 4
    assert "throttl" in str(info.value).lower() or "limiting" in str(info.value).lower()
    assert "secret-signature" not in caplog.text and "X-Amz" not in caplog.text
    assert "/sp/keywords/list" in caplog.text


def test_give_up_on_connection_errors():
    fake = FakeAmazon().on("POST", "/sp/keywords/list", requests.ConnectTimeout("slow"))
    with pytest.raises(AmazonUnavailable) as info:
        run(fake, RetryPolicy(max_attempts=3))
    assert len(fake.calls) == 3
    assert "not responding" in str(info.value)


def test_backoff_cap_and_jitter_bounds():
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0)
    for n in range(12):
        ceiling = min(30.0, 2**n)
        assert backoff_delay(n, policy, rng=lambda: 0.0) == 0.0
        assert backoff_delay(n, policy, rng=lambda: 0.999999) <= ceiling
        assert backoff_delay(n, policy, rng=lambda: 0.999999) == pytest.approx(ceiling, rel=1e-5)
    assert backoff_delay(20, policy, rng=lambda: 1.0) == 30.0
    values = [backoff_delay(6, policy) for _ in range(500)]
    assert all(0 <= v <= 30.0 for v in values) and max(values) - min(values) > 10


def test_retry_after_parsing():
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("99999") == 600.0
    past = format_datetime(datetime.now(UTC) - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(past) == 0.0


def test_every_call_has_timeout():
    seen = {}

    class Spy(FakeAmazon):
        def send(self, request, **kwargs):
            seen["timeout"] = kwargs.get("timeout")
            return super().send(request, **kwargs)

    fake = Spy().on("POST", "/sp/keywords/list", Reply(200, {}))
    run(fake, RetryPolicy(timeout=(2, 9)))
    assert seen["timeout"] == (2, 9)


# -- creates (POST of new entities) are never repeated blind: Amazon has no idempotency key -------------------
CREATE_URL = f"{BASE}/sp/negativeKeywords"


def send_create(fake):
    sleep = NoSleep()
    session = session_for(fake)
    return send(session, "POST", CREATE_URL, policy=RetryPolicy(), sleep=sleep, idempotent=False, json={}), sleep


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_create_after_5xx_is_not_repeated_and_says_the_outcome_is_unknown(status):
    fake = FakeAmazon().on("POST", "/sp/negativeKeywords", Reply(status), Reply(207, {}))
    with pytest.raises(AmazonOutcomeUnknown) as info:
        send_create(fake)
    assert len(fake.calls) == 1  # the 5xx may have been created anyway: a repeat could duplicate it
    assert str(status) in str(info.value) and "may or may not" in str(info.value)


def test_create_after_read_timeout_is_not_repeated():
    fake = FakeAmazon().on("POST", "/sp/negativeKeywords", requests.ReadTimeout("slow"), Reply(207, {}))
    with pytest.raises(AmazonOutcomeUnknown):
        send_create(fake)
    assert len(fake.calls) == 1


def test_create_is_retried_when_amazon_certainly_did_not_process_it():
    fake = FakeAmazon().on(
        "POST",
        "/sp/negativeKeywords",
        Reply(429, headers={"Retry-After": "1"}),  # throttled requests are not processed
        requests.ConnectTimeout("no connection"),  # never reached Amazon
        Reply(207, {}),
    )
    response, sleep = send_create(fake)
    assert response.status_code == 207 and len(fake.calls) == 3 and len(sleep.delays) == 2
