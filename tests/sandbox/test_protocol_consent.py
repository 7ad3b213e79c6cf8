"""The /ap/oa consent page and the authorization-code grant (PKCE, deny, reuse, expiry, scope)."""

from __future__ import annotations

import base64
import hashlib
import time
import urllib.parse

import requests

from sandbox.credentials import DEMO_CLIENT

REDIRECT = "https://dashboard.example/callback?x=1"


def _consent(url, **extra):
    q = {
        "client_id": DEMO_CLIENT["client_id"],
        "scope": "advertising::campaign_management",
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "state": "st<a>te&1",
    }
    q.update(extra)
    return requests.get(
        url + "/ap/oa", params={k: v for k, v in q.items() if v is not None}, timeout=5, allow_redirects=False
    ), q


def _decide(url, q, decision):
    return requests.post(url + "/ap/oa/decision", data={**q, "decision": decision}, timeout=5, allow_redirects=False)


def _qs(location):
    parts = urllib.parse.urlsplit(location)
    assert location.startswith("https://dashboard.example/callback?x=1&")
    return dict(urllib.parse.parse_qsl(parts.query))


def _exchange(url, code, **extra):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": DEMO_CLIENT["client_id"],
        "client_secret": DEMO_CLIENT["client_secret"],
        **extra,
    }
    return requests.post(url + "/auth/o2/token", data=form, timeout=5)


def test_consent_page_escapes_and_offers_both_buttons(sandbox):
    r, _ = _consent(sandbox.url, state="<script>alert(1)</script>")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;" in r.text
    assert "value='approve'" in r.text and "value='deny'" in r.text and "/ap/oa/decision" in r.text


def test_approve_with_pkce_then_use_tokens(sandbox):
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    _, q = _consent(sandbox.url, code_challenge=challenge, code_challenge_method="S256", seller="second")
    r = _decide(sandbox.url, q, "approve")
    assert r.status_code == 302
    back = _qs(r.headers["Location"])
    assert back["scope"] == "advertising::campaign_management" and back["state"] == q["state"]
    assert _exchange(sandbox.url, back["code"], code_verifier="wrong" * 10).status_code == 400  # burns the code
    r = _decide(sandbox.url, q, "approve")
    code = _qs(r.headers["Location"])["code"]
    r = _exchange(sandbox.url, code, code_verifier=verifier)
    assert r.status_code == 200
    tok = r.json()
    assert tok["refresh_token"].startswith("Atzr|") and tok["access_token"].startswith("Atza|")
    # the new refresh token belongs to the chosen seller (second: one CA profile)
    r = requests.post(
        sandbox.url + "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tok["refresh_token"],
            "client_id": DEMO_CLIENT["client_id"],
            "client_secret": DEMO_CLIENT["client_secret"],
        },
        timeout=5,
    )
    access = r.json()["access_token"]
    profiles = requests.get(
        sandbox.url + "/v2/profiles",
        timeout=5,
        headers={"Authorization": f"Bearer {access}", "Amazon-Advertising-API-ClientId": DEMO_CLIENT["client_id"]},
    ).json()
    assert [p["countryCode"] for p in profiles] == ["CA"]
    # single use
    r = _exchange(sandbox.url, code, code_verifier=verifier)
    assert r.status_code == 400
    assert r.json() == {
        "error": "invalid_grant",
        "error_description": "The request has an invalid grant parameter : code",
    }


def test_get_decision_and_plain_pkce(sandbox):
    _, q = _consent(sandbox.url, code_challenge="plainchallenge", code_challenge_method="plain")
    r = requests.get(
        sandbox.url + "/ap/oa/decision", params={**q, "decision": "approve"}, allow_redirects=False, timeout=5
    )
    code = _qs(r.headers["Location"])["code"]
    assert _exchange(sandbox.url, code, code_verifier="plainchallenge").status_code == 200


def test_deny(sandbox):
    _, q = _consent(sandbox.url)
    r = _decide(sandbox.url, q, "deny")
    assert r.status_code == 302
    back = _qs(r.headers["Location"])
    assert back["error"] == "access_denied" and back["state"] == q["state"] and "code" not in back


def test_unknown_scope_redirects_with_error(sandbox):
    r, q = _consent(sandbox.url, scope="advertising::everything")
    assert r.status_code == 302
    back = _qs(r.headers["Location"])
    assert back["error"] == "invalid_scope" and back["state"] == q["state"]


def test_unknown_client_and_bad_redirect_are_400_pages(sandbox):
    r, _ = _consent(sandbox.url, client_id="amzn1.application-oa2-client.nope")
    assert r.status_code == 400 and "Location" not in r.headers
    r, _ = _consent(sandbox.url, redirect_uri="javascript:alert(1)")
    assert r.status_code == 400 and "Location" not in r.headers


def test_expired_code(own):
    requests.post(own.url + "/_sandbox/faults", json={"auth_code_ttl": 0.2}, timeout=5)
    _, q = _consent(own.url)
    code = _qs(_decide(own.url, q, "approve").headers["Location"])["code"]
    time.sleep(0.3)
    r = _exchange(own.url, code)
    assert r.status_code == 400 and r.json()["error_description"].endswith(": code")


def test_redirect_uri_mismatch_and_other_client(sandbox):
    _, q = _consent(sandbox.url)
    code = _qs(_decide(sandbox.url, q, "approve").headers["Location"])["code"]
    assert _exchange(sandbox.url, code, redirect_uri="https://evil.example/cb").status_code == 400
    _, q = _consent(sandbox.url)
    code = _qs(_decide(sandbox.url, q, "approve").headers["Location"])["code"]
    # python-amazon-ad-api leaves redirect_uri out: accepted
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": DEMO_CLIENT["client_id"],
        "client_secret": DEMO_CLIENT["client_secret"],
    }
    r = requests.post(sandbox.url + "/auth/o2/token", data=form, timeout=5)
    assert r.status_code == 200
