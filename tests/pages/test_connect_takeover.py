"""The Connect page itself (issue 12): Amazon's redirect back after a reconnect signed in as another seller is
refused with a sentence, and the account keeps its token and its profiles."""

from __future__ import annotations

import pytest
from consent import browser
from streamlit.testing.v1 import AppTest

from services import accounts, connect
from tests.pages.conftest import APP


@pytest.fixture()
def page_store(app_env, tmp_path, monkeypatch):
    """A store of its own (the page tests' shared one stays as it is), keys from the test environment."""
    path = tmp_path / "takeover.db"
    monkeypatch.setenv("DASHBOARD_DB", str(path))
    return connect.open_store(path), connect.make_vault(path)


def test_reconnect_as_another_seller_on_the_page_is_refused(page_store):
    db, vault = page_store
    second, _ = connect.finish_consent(db, vault, browser(connect.start_sandbox_consent(db, vault, "second", "Second")))
    demo, _ = connect.finish_consent(db, vault, browser(connect.start_sandbox_consent(db, vault, "demo", "Demo")))
    token = vault.decrypt(accounts.get_account(db, second)["refresh_token_enc"])
    owners = {r["profile_id"]: r["account_id"] for r in db["profiles"].rows}
    # "Reconnect with Amazon" on Second's card, then the seller signs in as the demo seller on Amazon's page
    params = browser(connect.start_reconnect(db, vault, second, seller_hint="demo"))
    at = AppTest.from_file(APP, default_timeout=30)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any("another seller than the one connected as “Second”" in e and "nothing was changed" in e for e in errors)
    assert vault.decrypt(accounts.get_account(db, second)["refresh_token_enc"]) == token  # the issue: replaced
    assert {r["profile_id"]: r["account_id"] for r in db["profiles"].rows} == owners
    assert sorted(owners.values()) == sorted([demo] * 3 + [second])
