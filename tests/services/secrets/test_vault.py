"""Secrets at rest: MultiFernet, key sources, rotation."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography.fernet import Fernet

from services.secrets.vault import Vault, VaultError
from services.store import open_db, write


def test_key_file_created_once_0600(tmp_path, monkeypatch):
    monkeypatch.delenv("DASHBOARD_SECRET_KEYS", raising=False)
    db_path = tmp_path / "d.db"
    v = Vault(db_path=db_path)
    assert v.key_source == "key_file"
    kf = tmp_path / "d.db.key"
    assert kf.exists() and stat.S_IMODE(os.stat(kf).st_mode) == 0o600
    token = v.encrypt("Atzr|secret")
    assert "Atzr" not in token
    assert Vault(db_path=db_path).decrypt(token) == "Atzr|secret"  # same key reused


def test_sources_priority(tmp_path, monkeypatch):
    k1, k2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("DASHBOARD_SECRET_KEYS", k1)
    assert Vault(db_path=tmp_path / "x.db").key_source == "env"
    assert Vault(secret_keys=k2, db_path=tmp_path / "x.db").key_source == "argument"
    assert not (tmp_path / "x.db.key").exists()
    # old key still decrypts when a new one is put first
    t = Vault(secret_keys=k1).encrypt("s")
    assert Vault(secret_keys=f"{k2},{k1}").decrypt(t) == "s"
    with pytest.raises(VaultError):
        Vault(secret_keys=k2).decrypt(t)


def test_no_key_fails_closed(monkeypatch):
    monkeypatch.delenv("DASHBOARD_SECRET_KEYS", raising=False)
    with pytest.raises(VaultError):
        Vault()
    with pytest.raises(VaultError):
        Vault(secret_keys="not-a-key")


def test_rotate_reencrypts_db(tmp_path, monkeypatch):
    monkeypatch.delenv("DASHBOARD_SECRET_KEYS", raising=False)
    db_path = tmp_path / "d.db"
    db = open_db(db_path)
    v = Vault(db_path=db_path)
    with write(db):
        db["accounts"].insert(
            {
                "account_id": "a",
                "name": "n",
                "region": "NA",
                "client_id": "c",
                "client_secret_enc": v.encrypt("cs"),
                "refresh_token_enc": v.encrypt("rt"),
                "created_at": "now",
            }
        )
    old_key = v.keys_csv.split(",")[0]
    v2 = v.rotate(db)
    row = db["accounts"].get("a")
    assert v2.decrypt(row["refresh_token_enc"]) == "rt" and v2.decrypt(row["client_secret_enc"]) == "cs"
    new_primary = v2.keys_csv.split(",")[0]
    assert new_primary != old_key
    # the rows are now encrypted with the new primary key alone
    assert Vault(secret_keys=new_primary).decrypt(row["refresh_token_enc"]) == "rt"
    # key file rewritten: a fresh vault from the file decrypts
    assert Vault(db_path=db_path).decrypt(row["client_secret_enc"]) == "cs"
