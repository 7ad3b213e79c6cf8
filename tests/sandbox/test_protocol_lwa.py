"""Login with Amazon token endpoint: grants, client auth, error statuses and bodies (reference section 1)."""

from __future__ import annotations

import base64
import datetime as dt
import time

import requests

from sandbox import credentials
from sandbox.credentials import AUTHORIZATIONS, DEMO_CLIENT, SECOND_CLIENT


def _token(url, **form):
    return requests.post(url + "/auth/o2/token", data=form, timeout=10)


def _refresh_form(name="demo", client=DEMO_CLIENT):
    return {
        "grant_type": "refresh_token",
        "refresh_token": AUTHORIZATIONS[name]["refresh_token"],
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
    }


def test_demo_credentials_format():
    c = credentials.demo_credentials()
    assert c["client_id"].startswith("amzn1.application-oa2-client.") and len(c["client_id"].split(".")[-1]) == 32
    assert c["client_secret"].startswith("amzn1.oa2-cs.v1.") and len(c["client_secret"].split(".")[-1]) == 64
    assert c["refresh_token"].startswith("Atzr|") and len(c["refresh_token"]) > 300
    assert SECOND_CLIENT["client_id"] != DEMO_CLIENT["client_id"]
    assert AUTHORIZATIONS["revoked"]["revoked"] and not AUTHORIZATIONS["demo"]["revoked"]


def test_authorizations_resolve_to_world_sellers(sandbox):
    res = credentials.resolve(sandbox.world)
    names = {s["sellerId"]: s["name"] for s in sandbox.world.sellers()}
    assert names[res["demo"]["seller_id"]] == "Demo Seller"
    assert names[res["second"]["seller_id"]] == "Second Seller"
    assert res["expiring"]["authorized_on"] == sandbox.world.today - dt.timedelta(days=345)


def test_refresh_grant_form_with_charset(sandbox):
    r = requests.post(
        sandbox.url + "/auth/o2/token",
        data=_refresh_form(),
        headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
        timeout=10,
    )
    assert r.status_code == 200
    body = r.json()
    assert body["access_token"].startswith("Atza|") and len(body["access_token"]) >= 350
    assert body["refresh_token"] == AUTHORIZATIONS["demo"]["refresh_token"]
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert r.headers["x-amzn-RequestId"]


def test_refresh_grant_json_and_basic_auth(sandbox):
    form = _refresh_form()
    assert requests.post(sandbox.url + "/auth/o2/token", json=form, timeout=10).status_code == 200
    basic = base64.b64encode(f"{DEMO_CLIENT['client_id']}:{DEMO_CLIENT['client_secret']}".encode()).decode()
    r = requests.post(
        sandbox.url + "/auth/o2/token",
        headers={"Authorization": "Basic " + basic},
        data={"grant_type": "refresh_token", "refresh_token": form["refresh_token"]},
        timeout=10,
    )
    assert r.status_code == 200


def test_expiring_authorization_still_works(sandbox):
    assert _token(sandbox.url, **_refresh_form("expiring")).status_code == 200


def test_unknown_refresh_token_invalid_grant(sandbox):
    r = _token(sandbox.url, **{**_refresh_form(), "refresh_token": "Atzr|nope"})
    assert r.status_code == 400
    assert r.json() == {
        "error": "invalid_grant",
        "error_description": "The request has an invalid grant parameter : refresh_token",
    }


def test_revoked_refresh_token_invalid_grant(sandbox):
    r = _token(sandbox.url, **_refresh_form("revoked"))
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"
    assert "User may have revoked or didn't grant the permission." in r.json()["error_description"]
    assert r.json()["error_description"].startswith("The request has an invalid grant parameter : refresh_token")


def test_expired_authorization_after_a_year(own):
    # 'expiring' was authorized 345 days ago: 21 more simulated days push it past 365.
    assert _token(own.url, **_refresh_form("expiring")).status_code == 200
    assert requests.post(own.url + "/_sandbox/advance", json={"days": 21}, timeout=120).status_code == 200
    r = _token(own.url, **_refresh_form("expiring"))
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_refresh_token_of_another_client(sandbox):
    r = _token(sandbox.url, **_refresh_form(client=SECOND_CLIENT))
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_invalid_client(sandbox):
    r = _token(sandbox.url, **{**_refresh_form(), "client_secret": "amzn1.oa2-cs.v1.wrong"})
    assert r.status_code == 401
    assert r.json() == {"error": "invalid_client", "error_description": "Client authentication failed"}
    r = _token(sandbox.url, **{**_refresh_form(), "client_id": "amzn1.application-oa2-client.unknown"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_invalid_request_and_unsupported_grant(sandbox):
    form = _refresh_form()
    del form["refresh_token"]
    r = _token(sandbox.url, **form)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = _token(sandbox.url, **{**_refresh_form(), "grant_type": "password"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = _token(sandbox.url, **{**_refresh_form(), "grant_type": "authorization_code"})  # no code
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_request", "error_description": "The request has an invalid parameter : code"}
    r = requests.post(sandbox.url + "/auth/o2/token", data="x", headers={"Content-Type": "text/plain"}, timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_unknown_code_invalid_grant(sandbox):
    r = _token(
        sandbox.url,
        grant_type="authorization_code",
        code="ANnope",
        redirect_uri="https://x.test/cb",
        client_id=DEMO_CLIENT["client_id"],
        client_secret=DEMO_CLIENT["client_secret"],
    )
    assert r.status_code == 400
    assert r.json()["error_description"] == "The request has an invalid grant parameter : code"


def test_access_token_expiry_is_enforced(own, make_ads):
    url = own.url
    assert requests.post(url + "/_sandbox/faults", json={"access_token_ttl": 0.3}, timeout=10).status_code == 200
    ads = make_ads(url)
    assert ads.get("/v2/profiles").status_code == 200
    time.sleep(0.4)
    r = ads.get("/v2/profiles")
    assert r.status_code == 401 and r.json()["code"] == "UNAUTHORIZED"
