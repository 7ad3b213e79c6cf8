import logging
import threading
import time

import pytest
from fakes import (
    ACCESS_TOKEN,
    BASE,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    FakeAmazon,
    NoSleep,
    Reply,
    session_for,
    token_reply,
)

from services.amazon.http import RetryPolicy
from services.amazon.lwa import AccessToken, LwaClient, TokenSource
from services.errors import AmazonRequestError, AmazonUnavailable, AuthorizationExpired, InvalidCredentials

TOKEN_URL = f"{BASE}/auth/o2/token"
CODE = "ANdNAVhyhqirUelHGEHA-secret-code"


class Clock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def make(fake, clock=None):
    return LwaClient(
        TOKEN_URL,
        CLIENT_ID,
        CLIENT_SECRET,
        session=session_for(fake),
        policy=RetryPolicy(max_attempts=3),
        clock=clock or Clock(),
        sleep=NoSleep(),
    )


def assert_clean(text):
    for secret in (ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET, CODE, "Atza|", "Atzr|"):
        assert secret not in text


def test_refresh_sends_form_and_returns_expiry():
    fake = FakeAmazon().on("POST", "/auth/o2/token", token_reply(expires_in=3600))
    token = make(fake, Clock(100.0)).refresh(REFRESH_TOKEN)
    assert token.value == ACCESS_TOKEN and token.expires_at == 3700.0
    call = fake.calls[0]
    assert call.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert call.form() == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH_TOKEN,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert b"Atzr%7C" in call.body


def test_access_token_repr_hides_value():
    token = AccessToken(ACCESS_TOKEN, 5.0)
    assert_clean(repr(token))
    assert_clean(str(token))


def test_exchange_code_with_pkce():
    fake = FakeAmazon().on("POST", "/auth/o2/token", token_reply())
    out = make(fake).exchange_code(CODE, "https://app.example/callback", code_verifier="v" * 50)
    assert out == {"refresh_token": REFRESH_TOKEN, "access_token": ACCESS_TOKEN, "expires_in": 3600}
    form = fake.calls[0].form()
    assert form["grant_type"] == "authorization_code" and form["code"] == CODE
    assert form["redirect_uri"] == "https://app.example/callback" and form["code_verifier"] == "v" * 50


LWA_ERRORS = [
    (
        Reply(
            400,
            {
                "error": "invalid_grant",
                "error_description": f"The request has an invalid grant parameter : refresh_token {REFRESH_TOKEN}",
            },
        ),
        AuthorizationExpired,
    ),
    (
        Reply(401, {"error": "invalid_client", "error_description": f"Client authentication failed {CLIENT_SECRET}"}),
        InvalidCredentials,
    ),
    (
        Reply(400, {"error": "invalid_request", "error_description": f"bad parameter : code {CODE} {ACCESS_TOKEN}"}),
        AmazonRequestError,
    ),
    (Reply(503, {"error": "server_error"}), AmazonUnavailable),
]


@pytest.mark.parametrize("reply,exc_type", LWA_ERRORS)
def test_lwa_errors_are_typed_and_clean(reply, exc_type, caplog):
    caplog.set_level(logging.DEBUG)
    lwa = make(FakeAmazon().on("POST", "/auth/o2/token", reply))
    with pytest.raises(exc_type) as info:
        lwa.refresh(REFRESH_TOKEN)
    for text in (str(info.value), repr(info.value), info.value.user_message, caplog.text, repr(lwa)):
        assert_clean(text)
    with pytest.raises(exc_type) as info:
        make(FakeAmazon().on("POST", "/auth/o2/token", reply)).exchange_code(CODE, "https://x/cb")
    for text in (str(info.value), repr(info.value), caplog.text):
        assert_clean(text)


def test_invalid_grant_message():
    lwa = make(FakeAmazon().on("POST", "/auth/o2/token", Reply(400, {"error": "invalid_grant"})))
    with pytest.raises(AuthorizationExpired) as info:
        lwa.refresh(REFRESH_TOKEN)
    assert str(info.value) == "This Amazon authorization has expired or was revoked. Reconnect the account."


def test_token_source_caches_and_renews_a_minute_early():
    clock = Clock(0.0)
    fake = FakeAmazon().on("POST", "/auth/o2/token", token_reply("Atza|one"), token_reply("Atza|two"))
    source = TokenSource(make(fake, clock), REFRESH_TOKEN)
    assert source.get() == "Atza|one"
    clock.now = 3539.0  # 61 s before expiry: still cached
    assert source.get() == "Atza|one"
    assert len(fake.calls) == 1
    clock.now = 3541.0  # 59 s before expiry: renewed
    assert source.get() == "Atza|two"
    assert len(fake.calls) == 2
    assert_clean(repr(source))


def test_token_source_callable_refresh_token_read_at_use():
    reads = []
    fake = FakeAmazon().on("POST", "/auth/o2/token", token_reply())
    source = TokenSource(make(fake), lambda: reads.append(1) or REFRESH_TOKEN)
    assert reads == []
    source.get()
    source.get()
    assert reads == [1]
    assert fake.calls[0].form()["refresh_token"] == REFRESH_TOKEN


def test_invalidate_forces_refresh_and_stale_guard():
    fake = FakeAmazon().on(
        "POST", "/auth/o2/token", token_reply("Atza|one"), token_reply("Atza|two"), token_reply("Atza|three")
    )
    source = TokenSource(make(fake), REFRESH_TOKEN)
    assert source.get() == "Atza|one"
    source.invalidate("Atza|one")
    assert source.get() == "Atza|two"
    source.invalidate("Atza|one")  # someone else's stale 401: keep the new token
    assert source.get() == "Atza|two"
    source.invalidate()
    assert source.get() == "Atza|three"


def test_token_source_thread_safe_one_refresh():
    def slow_token(call):
        time.sleep(0.05)
        return token_reply()

    fake = FakeAmazon().on("POST", "/auth/o2/token", slow_token)
    source = TokenSource(make(fake), REFRESH_TOKEN)
    barrier = threading.Barrier(32)
    results = []

    def worker():
        barrier.wait()
        results.append(source.get())

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [ACCESS_TOKEN] * 32
    assert len(fake.calls) == 1 and source.refreshes == 1


def test_refresh_retries_throttling():
    fake = FakeAmazon().on("POST", "/auth/o2/token", Reply(429, headers={"Retry-After": "1"}), token_reply())
    assert make(fake).refresh(REFRESH_TOKEN).value == ACCESS_TOKEN
