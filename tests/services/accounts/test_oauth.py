"""Connect with Amazon against the sandbox's real consent page: success, reuse, expiry, forged state, denial."""

from __future__ import annotations

import urllib.parse

import pytest
import requests
from consent import begin, browser
from cryptography.fernet import Fernet

from sandbox.credentials import DEMO_CLIENT, SECOND_CLIENT
from services import accounts
from services.accounts import oauth
from services.accounts.oauth import ConsentError
from services.secrets.vault import Vault
from services.store import open_db

REDIRECT = "http://localhost:8501/"


@pytest.fixture()
def store(tmp_path):
    return open_db(tmp_path / "o.db"), Vault(secret_keys=Fernet.generate_key().decode())


def test_consent_url_has_region_host_scope_state_and_pkce(store, sandbox):
    db, vault = store
    url = begin(db, vault, sandbox)
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert url.startswith(sandbox.url + "/ap/oa?")
    assert q["scope"] == "advertising::campaign_management" and q["response_type"] == "code"
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert q["redirect_uri"] == REDIRECT and len(q["state"]) >= 40
    row = db.conn.execute("SELECT * FROM oauth_states").fetchone()
    blob = " ".join(str(v) for v in row)
    assert q["state"] not in blob and DEMO_CLIENT["client_secret"] not in blob  # hashed / encrypted
    # a real account's region decides the consent host
    eu = oauth.start(
        db,
        vault,
        name="EU seller",
        region="EU",
        client_id=DEMO_CLIENT["client_id"],
        client_secret=DEMO_CLIENT["client_secret"],
        redirect_uri=REDIRECT,
    )
    assert eu.startswith("https://eu.account.amazon.com/ap/oa?")


def test_success_stores_account_and_cleans_state(store, sandbox):
    db, vault = store
    back = browser(begin(db, vault, sandbox, seller="second"))
    assert set(back) >= {"code", "state", "scope"}
    done = oauth.finish(db, vault, back)
    acc = accounts.get_account(db, done.account_id)
    assert acc["name"] == "Seller via consent" and acc["status"] == "ok" and acc["authorized_on"]
    assert vault.decrypt(acc["refresh_token_enc"]).startswith("Atzr|")
    clients = accounts.clients_for(db, vault, done.account_id)
    assert [p["countryCode"] for p in clients.ads("NA").list_profiles()] == ["CA"]  # the second seller's
    row = db.conn.execute("SELECT used_at, verifier_enc, client_secret_enc FROM oauth_states").fetchone()
    assert row[0] is not None and row[1] == "" and row[2] is None


def test_reused_redirect_and_reused_code(store, sandbox):
    db, vault = store
    back = browser(begin(db, vault, sandbox))
    oauth.finish(db, vault, back)
    with pytest.raises(ConsentError, match="already used"):
        oauth.finish(db, vault, back)  # the same redirect replayed
    # the same code smuggled in with a fresh, valid state: LWA refuses it (single use)
    fresh = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(begin(db, vault, sandbox, name="Other")).query))
    with pytest.raises(ConsentError, match="expired or was already used"):
        oauth.finish(db, vault, {"code": back["code"], "state": fresh["state"]})
    assert [a["name"] for a in accounts.list_accounts(db)] == ["Seller via consent"]


def test_expired_code(store, fresh_sandbox):
    db, vault = store
    requests.post(fresh_sandbox.url + "/_sandbox/faults", json={"auth_code_ttl": 0.05}, timeout=5)
    back = browser(begin(db, vault, fresh_sandbox))
    import time

    time.sleep(0.2)
    with pytest.raises(ConsentError, match="five minutes"):
        oauth.finish(db, vault, back)
    assert accounts.list_accounts(db) == []


def test_state_older_than_ten_minutes(store, sandbox):
    db, vault = store
    import time

    back = browser(begin(db, vault, sandbox, now=time.time() - 601))
    with pytest.raises(ConsentError, match="ten minutes"):
        oauth.finish(db, vault, back)
    assert accounts.list_accounts(db) == []


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: {**b, "state": b["state"][:-2] + "xx"},  # forged
        lambda b: {k: v for k, v in b.items() if k != "state"},  # missing
        lambda b: {**b, "state": ""},  # empty
        lambda b: {**b, "state": "ü" * 50},  # non-ASCII garbage
        lambda b: {**b, "state": "x" * 5000},  # huge
    ],
)
def test_forged_or_missing_state(store, sandbox, mutate):
    db, vault = store
    back = browser(begin(db, vault, sandbox))
    with pytest.raises(ConsentError, match="not one this app started"):
        oauth.finish(db, vault, mutate(back))
    assert accounts.list_accounts(db) == []
    oauth.finish(db, vault, back)  # the genuine redirect still works: the forgery burned nothing
    assert len(accounts.list_accounts(db)) == 1


def test_denied_consent(store, sandbox):
    db, vault = store
    back = browser(begin(db, vault, sandbox), decision="deny")
    assert back["error"] == "access_denied" and "code" not in back
    with pytest.raises(ConsentError, match="cancelled"):
        oauth.finish(db, vault, back)
    assert accounts.list_accounts(db) == []
    with pytest.raises(ConsentError, match="already used"):  # the state died with the denial
        oauth.finish(db, vault, {"code": "ANforged", "state": back["state"]})


def test_wrong_client_secret_is_said_plainly(store, sandbox):
    db, vault = store
    url = oauth.start(
        db,
        vault,
        name="x",
        region="NA",
        client_id=DEMO_CLIENT["client_id"],
        client_secret=SECOND_CLIENT["client_secret"],
        redirect_uri=REDIRECT,
        sandbox_url=sandbox.url,
    )
    with pytest.raises(ConsentError, match="client ID or client secret"):
        oauth.finish(db, vault, browser(url))


def test_reconnect_renews_flagged_account(store, sandbox):
    db, vault = store
    done = oauth.finish(db, vault, browser(begin(db, vault, sandbox)))
    accounts.mark_reconnect_needed(db, done.account_id)
    db.conn.execute("UPDATE accounts SET authorized_on = '2020-01-01' WHERE account_id = ?", [done.account_id])
    again = oauth.finish(db, vault, browser(begin(db, vault, sandbox, account_id=done.account_id)))
    assert again.reconnected and again.account_id == done.account_id
    acc = accounts.get_account(db, done.account_id)
    assert acc["status"] == "ok" and acc["authorized_on"] > "2020-01-01"
    assert len(accounts.list_accounts(db)) == 1


def test_bad_redirect_uri_refused(store, sandbox):
    db, vault = store
    for uri in ("javascript:alert(1)", "localhost:8501", "http://x/#frag", ""):
        with pytest.raises(ConsentError, match="return address"):
            oauth.start(
                db,
                vault,
                name="x",
                region="NA",
                client_id=DEMO_CLIENT["client_id"],
                client_secret="s",
                redirect_uri=uri,
                sandbox_url=sandbox.url,
            )
