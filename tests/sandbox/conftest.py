"""Fixtures for the sandbox protocol tests (sandbox-wide fixtures live in tests/conftest.py)."""

from __future__ import annotations

import pytest
import requests

from sandbox.credentials import AUTHORIZATIONS, DEMO_CLIENT


def lwa_token(url: str, refresh_token: str | None = None, client: dict | None = None) -> str:
    client = client or DEMO_CLIENT
    r = requests.post(
        url + "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token or AUTHORIZATIONS["demo"]["refresh_token"],
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
        },
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


class Ads:
    """A tiny authenticated session on one sandbox (headers only; no retries, no magic)."""

    def __init__(self, url: str, token: str, client_id: str = DEMO_CLIENT["client_id"]):
        self.url = url
        self.token = token
        self.client_id = client_id
        self.s = requests.Session()

    def headers(self, profile_id=None, **extra) -> dict:
        h = {"Authorization": f"Bearer {self.token}", "Amazon-Advertising-API-ClientId": self.client_id}
        if profile_id is not None:
            h["Amazon-Advertising-API-Scope"] = str(profile_id)
        h.update(extra)
        return h

    def profiles(self, prefix: str = "") -> list[dict]:
        r = self.s.get(self.url + prefix + "/v2/profiles", headers=self.headers(), timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def profile_id(self, country: str = "US") -> str:
        return str(next(p["profileId"] for p in self.profiles() if p["countryCode"] == country))

    def post(self, path, json=None, profile_id=None, **extra):
        return self.s.post(self.url + path, json=json, headers=self.headers(profile_id, **extra), timeout=30)

    def put(self, path, json=None, profile_id=None, **extra):
        return self.s.put(self.url + path, json=json, headers=self.headers(profile_id, **extra), timeout=30)

    def get(self, path, profile_id=None, **extra):
        return self.s.get(self.url + path, headers=self.headers(profile_id, **extra), timeout=30)

    def delete(self, path, profile_id=None, **extra):
        return self.s.delete(self.url + path, headers=self.headers(profile_id, **extra), timeout=30)


@pytest.fixture()
def ads(sandbox) -> Ads:
    return Ads(sandbox.url, lwa_token(sandbox.url))


@pytest.fixture()
def fresh_ads(fresh_sandbox) -> Ads:
    return Ads(fresh_sandbox.url, lwa_token(fresh_sandbox.url))


@pytest.fixture()
def make_ads():
    """Factory: make_ads(url, refresh_token=None, client=None) -> Ads with a fresh access token."""

    def make(url, refresh_token=None, client=None):
        client = client or DEMO_CLIENT
        return Ads(url, lwa_token(url, refresh_token, client), client["client_id"])

    return make


@pytest.fixture(scope="session")
def own_sandbox():
    """One mutable sandbox (seed 11) shared by the protocol tests that change the world or set faults:
    building a world costs seconds, so the protocol tests share this one instead of fresh_sandbox."""
    from sandbox import start_sandbox

    handle = start_sandbox(port=0, seed=11, scale="demo", report_latency=0.2)
    yield handle
    handle.stop()


@pytest.fixture()
def own(own_sandbox):
    """own_sandbox with its faults cleared before and after the test."""
    requests.delete(own_sandbox.url + "/_sandbox/faults", timeout=5)
    yield own_sandbox
    requests.delete(own_sandbox.url + "/_sandbox/faults", timeout=5)


@pytest.fixture()
def own_ads(own) -> Ads:
    return Ads(own.url, lwa_token(own.url))
