"""A tiny in-process stand-in for Amazon, plugged into requests as a transport adapter.

Tests get real ``requests.Response`` objects (headers, status, bytes) without a
socket, and can script answers per (method, path) and inspect every request sent.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

BASE = "https://amazon.test"
ACCESS_TOKEN = "Atza|IwEBIFAKEACCESSTOKENabcdefghijklmnopqrstuvwxyz0123456789"
REFRESH_TOKEN = "Atzr|IwEBIFAKEREFRESHTOKENzyxwvutsrqponmlkjihgfedcba9876543210"
CLIENT_ID = "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef"
CLIENT_SECRET = "amzn1.oa2-cs.v1.deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef"


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict | None = None
    raw: bytes | None = None


@dataclass
class Call:
    method: str
    path: str
    query: dict
    headers: CaseInsensitiveDict
    body: bytes | None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs((self.body or b"").decode()).items()}


Handler = Callable[[Call], "Reply | Exception"]


class FakeAmazon(BaseAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[tuple[str, str], list[Handler | Reply | Exception]] = {}
        self.calls: list[Call] = []

    def on(self, method: str, path: str, *replies: Handler | Reply | Exception) -> FakeAmazon:
        """Queue replies; the last one repeats forever."""
        self.routes[(method.upper(), path)] = list(replies)
        return self

    def calls_to(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path == path]

    def send(self, request, **kwargs):  # noqa: D401 - requests adapter API
        assert kwargs.get("timeout") is not None, "every call must carry a timeout"
        parts = urlsplit(request.url)
        body = request.body.encode() if isinstance(request.body, str) else request.body
        call = Call(request.method, parts.path, parse_qs(parts.query), CaseInsensitiveDict(request.headers), body)
        self.calls.append(call)
        queue = self.routes.get((request.method, parts.path))
        if not queue:
            reply: Reply | Exception = Reply(404, {"code": "404", "detail": f"no fake route {parts.path}"})
        else:
            item = queue.pop(0) if len(queue) > 1 else queue[0]
            reply = item(call) if callable(item) and not isinstance(item, (Reply, Exception)) else item
        if isinstance(reply, Exception):
            raise reply
        response = requests.Response()
        response.status_code = reply.status
        headers = {"Content-Type": "application/json", **(reply.headers or {})}
        response.headers = CaseInsensitiveDict(headers)
        if reply.raw is not None:
            response._content = reply.raw
        else:
            response._content = b"" if reply.body is None else json.dumps(reply.body).encode()
        response._content_consumed = True  # a body already read: iter_content (streamed downloads) slices it
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


def session_for(fake: FakeAmazon) -> requests.Session:
    session = requests.Session()
    session.mount(BASE, fake)
    return session


def token_reply(token: str = ACCESS_TOKEN, expires_in: int = 3600) -> Reply:
    return Reply(
        200, {"access_token": token, "refresh_token": REFRESH_TOKEN, "token_type": "bearer", "expires_in": expires_in}
    )


def gz(obj: Any) -> bytes:
    return gzip.compress(json.dumps(obj).encode("utf-8"))


class NoSleep:
    """Records requested sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


# -- the real sandbox over HTTP -------------------------------------------------------------


def sandbox_clients(
    url: str,
    region: str = "NA",
    *,
    refresh_token: str | None = None,
    client_secret: str | None = None,
    sleep=None,
    policy=None,
):
    """(AdsClient, SpApiReports, TokenSource) wired exactly as the app wires them, via services.regions."""
    from sandbox import demo_credentials
    from services.amazon.ads import AdsClient
    from services.amazon.http import RetryPolicy
    from services.amazon.lwa import LwaClient, TokenSource
    from services.amazon.regions import hosts_for
    from services.amazon.spapi import SpApiReports

    creds = demo_credentials()
    hosts = hosts_for(region, url)
    session = requests.Session()
    sleep = sleep or NoSleep()
    policy = policy or RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)
    lwa = LwaClient(
        hosts.token_url,
        creds["client_id"],
        client_secret or creds["client_secret"],
        session=session,
        policy=policy,
        sleep=sleep,
    )
    tokens = TokenSource(lwa, refresh_token or creds["refresh_token"])
    ads = AdsClient(hosts.ads, creds["client_id"], tokens, session=session, policy=policy, sleep=sleep)
    sp = SpApiReports(hosts.spapi, tokens, session=session, policy=policy, sleep=sleep)
    return ads, sp, tokens


def set_faults(url: str, faults: dict) -> None:
    requests.post(f"{url}/_sandbox/faults", json=faults, timeout=5).raise_for_status()


def clear_faults(url: str) -> None:
    requests.delete(f"{url}/_sandbox/faults", timeout=5).raise_for_status()
