"""Accounts: encrypted at rest, demo stored like a real account, removal deletes everything."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from services import accounts, store
from services.secrets.vault import Vault
from services.store import open_db, write


@pytest.fixture()
def db_vault(tmp_path):
    db = open_db(tmp_path / "a.db")
    return db, Vault(secret_keys=Fernet.generate_key().decode())


def test_add_account_encrypts_secrets(db_vault):
    db, vault = db_vault
    aid = accounts.add_account(
        db, vault, "Shop", "na", "amzn1.application-oa2-client.x", "amzn1.oa2-cs.v1.s", "Atzr|token"
    )
    row = db["accounts"].get(aid)
    assert row["region"] == "NA" and row["backend"] == "amazon" and row["status"] == "ok"
    raw = " ".join(str(v) for v in row.values())
    assert "Atzr|token" not in raw and "amzn1.oa2-cs.v1.s" not in raw
    assert vault.decrypt(row["refresh_token_enc"]) == "Atzr|token"
    listed = accounts.list_accounts(db)
    assert listed[0]["name"] == "Shop" and not any(k.endswith("_enc") for k in listed[0])
    # same name again updates (reconnect), no second account
    assert accounts.add_account(db, vault, "Shop", "NA", "c", "s", "Atzr|new") == aid
    assert db["accounts"].count == 1


def test_connect_demo_idempotent_updates_url(db_vault):
    db, vault = db_vault
    creds = {"client_id": "cid", "client_secret": "cs", "refresh_token": "Atzr|demo"}
    a = accounts.connect_demo(db, vault, "http://127.0.0.1:1", creds)
    b = accounts.connect_demo(db, vault, "http://127.0.0.1:2", creds)
    assert a == b
    acc = accounts.get_account(db, a)
    assert acc["backend"] == "sandbox" and acc["sandbox_url"] == "http://127.0.0.1:2"


def test_clients_decrypt_refresh_token_lazily(db_vault, monkeypatch):
    db, vault = db_vault
    aid = accounts.add_account(
        db, vault, "S", "EU", "cid", "cs", "Atzr|rt", backend="sandbox", sandbox_url="http://127.0.0.1:9"
    )
    calls = []
    orig = vault.decrypt
    monkeypatch.setattr(vault, "decrypt", lambda t: calls.append(t) or orig(t))
    c = accounts.clients_for(db, vault, aid)
    n = len(calls)  # the client secret only
    assert c.ads("eu").base_url == "http://127.0.0.1:9/eu"
    assert c.spapi("NA").base_url == "http://127.0.0.1:9/na"
    assert len(calls) == n  # refresh token not decrypted until a token is needed
    assert "refresh_token_enc" not in c.account


def test_reconnect_and_remove(db_vault):
    db, vault = db_vault
    aid = accounts.add_account(db, vault, "S", "NA", "cid", "cs", "Atzr|rt")
    other = accounts.add_account(db, vault, "T", "NA", "cid", "cs", "Atzr|rt2")
    with write(db):
        store.upsert_rows(
            db, "profiles", [{"profile_id": "1", "account_id": aid}, {"profile_id": "2", "account_id": other}]
        )
        store.upsert_rows(
            db,
            "campaign_day",
            [
                {"profile_id": "1", "date": "2024-01-01", "campaign_id": "c", "impressions": 1, "clicks": 0, "cost": 0},
                {"profile_id": "2", "date": "2024-01-01", "campaign_id": "c", "impressions": 1, "clicks": 0, "cost": 0},
            ],
        )
        store.upsert_rows(db, "coupons", [{"coupon_id": "k", "account_id": aid}])
        store.upsert_rows(db, "coupon_snapshots", [{"coupon_id": "k", "snapshot_date": "2024-01-01"}])
    accounts.mark_reconnect_needed(db, aid)
    assert accounts.get_account(db, aid)["status"] == "reconnect_needed"
    accounts.update_refresh_token(db, vault, aid, "Atzr|again")
    assert accounts.get_account(db, aid)["status"] == "ok"
    accounts.remove_account(db, aid)
    assert [r["profile_id"] for r in db["campaign_day"].rows] == ["2"]
    assert db["coupons"].count == 0 and db["coupon_snapshots"].count == 0
    assert [r["account_id"] for r in db["accounts"].rows] == [other]


def test_claim_profiles_is_the_one_ownership_rule(db_vault):
    """Offline: held profiles, sellers of other accounts and, once known, any other seller are refused."""
    db, vault = db_vault
    a = accounts.add_account(db, vault, "A", "NA", "cid", "cs", "Atzr|a")
    b = accounts.add_account(db, vault, "B", "NA", "cid", "cs", "Atzr|b")

    def p(pid, seller, country="US"):
        return {"profile_id": pid, "seller_id": seller, "country_code": country}

    mine, refused = accounts.claim_profiles(db, a, [p("1", "SA"), p("2", "SA", "UK")])
    assert [m["profile_id"] for m in mine] == ["1", "2"] and not refused
    assert accounts.get_account(db, a)["seller_ids"] == "SA"  # identity recorded at the first claim
    # B's token lists A's profiles (a takeover): nothing moves, and B records no identity from them
    mine, refused = accounts.claim_profiles(db, b, [p("1", "SA"), p("3", "SA", "DE")])
    assert mine == [] and [r.profile_id for r in refused] == ["1", "3"]
    assert refused[0].owner == "A" and "already connected as “A”" in refused[0].sentence
    assert "belongs to the seller connected as “A”" in refused[1].sentence
    assert accounts.get_account(db, b)["seller_ids"] is None
    # A's token now lists another seller's profile: refused too, A keeps its own
    mine, refused = accounts.claim_profiles(db, a, [p("1", "SA"), p("9", "SZ", "CA")])
    assert [m["profile_id"] for m in mine] == ["1"] and refused[0].owner is None
    assert "another Amazon seller" in refused[0].sentence
    assert {r["profile_id"]: r["account_id"] for r in db["profiles"].rows} == {"1": a, "2": a}
