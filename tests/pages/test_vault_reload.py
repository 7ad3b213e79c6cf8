"""The running app and its keys (issue 12): after a rotation the cached vault reloads, without a restart, and a
missing key file beside encrypted secrets stops the page with a sentence instead of creating a new key."""

from __future__ import annotations

import pytest

from services import accounts
from services.secrets import rotate_keys
from services.secrets.vault import Vault, key_file_for
from services.store import open_db
from tests.pages.conftest import new_app

TOKEN = "Atzr|IwEBI-rotation-test-" + "k" * 40


@pytest.fixture()
def key_file_app(tmp_path, monkeypatch):
    """The app on a store of its own whose keys live in the key file beside it (no configured keys)."""
    monkeypatch.delenv("DASHBOARD_SECRET_KEYS", raising=False)
    path = tmp_path / "app.db"
    monkeypatch.setenv("DASHBOARD_DB", str(path))
    db = open_db(path)
    account_id = accounts.add_account(db, Vault(db_path=path), "Rotating Shop", "NA", "cid", "cs", TOKEN)
    return path, account_id


def token_caption(at) -> str:
    return next(c.value for c in at.caption if "refresh token" in c.value)


def test_vault_reloads_after_a_rotation_without_restart(key_file_app, tmp_path):
    path, account_id = key_file_app
    at = new_app(account_id)
    assert not at.exception, at.exception
    assert "Atzr|…" + TOKEN[-4:] in token_caption(at)
    rotate_keys.rotate(path, secrets_toml=tmp_path / "none.toml")  # same process: the app's cache is warm
    assert len(key_file_for(path).read_text().strip().split(",")) == 2
    again = new_app(account_id)
    assert not again.exception, again.exception
    caption = token_caption(again)
    assert "cannot be decrypted" not in caption  # the issue: shown until a restart
    assert "Atzr|…" + TOKEN[-4:] in caption


def test_missing_key_file_stops_the_page_with_a_sentence(key_file_app):
    path, account_id = key_file_app
    key_file_for(path).unlink()
    at = new_app(account_id)
    assert not at.exception, at.exception
    assert any("is missing" in e.value and "Restore the key file" in e.value for e in at.error)
    assert not key_file_for(path).exists()
