"""Loopback by default: without a login the app refuses a non-loopback address (issue 12)."""

import pytest

from services.accounts.exposure import is_loopback, serve_refusal


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.1.1", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_addresses(address):
    assert is_loopback(address)
    assert serve_refusal(address, login_configured=False) is None


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "", None, "192.168.1.20", "10.0.0.5", "dashboard.example.com"])
def test_non_loopback_is_refused_without_a_login(address):
    assert not is_loopback(address)
    sentence = serve_refusal(address, login_configured=False)
    assert sentence and "no login is configured" in sentence and "127.0.0.1" in sentence
    if not address:
        assert "every network interface" in sentence


@pytest.mark.parametrize("address", ["0.0.0.0", "", "192.168.1.20"])
def test_with_a_login_any_address_is_allowed(address):
    assert serve_refusal(address, login_configured=True) is None
