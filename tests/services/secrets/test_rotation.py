"""Key rotation that cannot lose data (issue 12): real processes killed with SIGKILL at every step of a rotation,
then a fresh process loads the keys it finds and must decrypt every secret; an unwritable `--keys-out` changes
nothing; a missing key file beside encrypted secrets is an error, never a new key; `--verify` changes nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from services import accounts
from services.accounts import oauth
from services.secrets.vault import ENV_VAR, KILL_AT_ENV, KILL_POINTS, Vault, VaultError, key_file_for
from services.store import open_db

ROOT = Path(__file__).resolve().parents[3]
ACCOUNTS = 50


def rotate_keys(*args: str, keys: str | None = None, kill_at: str | None = None) -> subprocess.CompletedProcess:
    """`python -m services.rotate_keys …` in a process of its own (keys from `keys`, else the key file)."""
    env = {k: v for k, v in os.environ.items() if k not in (ENV_VAR, KILL_AT_ENV)}
    if keys:
        env[ENV_VAR] = keys
    if kill_at:
        env[KILL_AT_ENV] = kill_at
    return subprocess.run(
        [sys.executable, "-m", "services.rotate_keys", *args, "--secrets-toml", os.devnull],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def fill(path: Path, vault: Vault) -> dict[str, tuple[str, str]]:
    """50 accounts and a pending consent, like the store the issue lost: account id -> (client secret, token)."""
    db = open_db(path)
    plain = {}
    for i in range(ACCOUNTS):
        secret, token = f"amzn1.oa2-cs.v1.secret{i:03d}", f"Atzr|token-{i:03d}-" + "x" * 40
        plain[accounts.add_account(db, vault, f"Seller {i}", "NA", "cid", secret, token)] = (secret, token)
    oauth.start(
        db,
        vault,
        name="Pending",
        region="NA",
        client_id="amzn1.application-oa2-client." + "a" * 32,
        client_secret="amzn1.oa2-cs.v1.pending",
        redirect_uri="http://localhost:8501/",
    )
    return plain


def ciphertexts(path: Path) -> list[tuple]:
    db = open_db(path)
    rows = db.conn.execute("SELECT client_secret_enc, refresh_token_enc FROM accounts ORDER BY account_id").fetchall()
    return rows + db.conn.execute("SELECT verifier_enc, client_secret_enc FROM oauth_states").fetchall()


def decrypt_all(path: Path, keys: str | None = None) -> dict[str, tuple[str, str]]:
    """What a freshly started app reads: a new Vault from the keys it finds, every secret decrypted."""
    vault = Vault(secret_keys=keys, db_path=path)
    db = open_db(path)
    out = {
        aid: (vault.decrypt(cs), vault.decrypt(rt))
        for aid, cs, rt in db.conn.execute("SELECT account_id, client_secret_enc, refresh_token_enc FROM accounts")
    }
    verifier, pending = db.conn.execute("SELECT verifier_enc, client_secret_enc FROM oauth_states").fetchone()
    assert vault.decrypt(verifier) and vault.decrypt(pending) == "amzn1.oa2-cs.v1.pending"
    return out


@pytest.fixture()
def key_file_store(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    path = tmp_path / "store.db"
    plain = fill(path, Vault(db_path=path))
    return path, plain


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_at_each_step_of_a_key_file_rotation_loses_nothing(key_file_store, point):
    path, plain = key_file_store
    before = ciphertexts(path)
    died = rotate_keys("--db", str(path), kill_at=point)
    assert died.returncode == -signal.SIGKILL, died.stderr
    keys_in_file = len(key_file_for(path).read_text().strip().split(","))
    assert keys_in_file == (1 if point in ("checked", "key_tmp_written") else 2)  # new key first, old kept
    if point != "reencrypted":
        assert ciphertexts(path) == before  # nothing re-encrypted before the keys were saved; a torn txn rolls back
    # a fresh process loads the keys it finds and decrypts every secret
    checked = rotate_keys("--db", str(path), "--verify")
    assert checked.returncode == 0, checked.stderr
    assert f"All {2 * ACCOUNTS + 2} stored secret(s) decrypt" in checked.stdout
    assert decrypt_all(path) == plain
    # the next rotation completes, and only then may the old keys go
    assert rotate_keys("--db", str(path)).returncode == 0
    assert rotate_keys("--db", str(path), "--drop-old-keys").returncode == 0
    assert len(key_file_for(path).read_text().strip().split(",")) == 1
    assert rotate_keys("--db", str(path), "--verify").returncode == 0 and decrypt_all(path) == plain
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith((".tmp", ".probe"))]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_at_each_step_with_keys_from_the_configuration(tmp_path, monkeypatch, point):
    """Keys from DASHBOARD_SECRET_KEYS: the new list goes to --keys-out first; the operator loads that file next."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    old = Fernet.generate_key().decode()
    path, out = tmp_path / "env.db", tmp_path / "new.keys"
    plain = fill(path, Vault(secret_keys=old))
    died = rotate_keys("--db", str(path), "--keys-out", str(out), keys=old, kill_at=point)
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert out.exists() == (point not in ("checked", "key_tmp_written"))
    next_keys = out.read_text().strip() if out.exists() else old
    assert rotate_keys("--db", str(path), "--verify", keys=next_keys).returncode == 0
    assert decrypt_all(path, next_keys) == plain
    if point not in ("reencrypted",):  # until the transaction commits, the old configuration still works too
        assert decrypt_all(path, old) == plain


@pytest.mark.parametrize("where", ["missing/folder/new.keys", "/proc/new.keys"])
def test_unwritable_keys_out_is_refused_before_anything_changes(tmp_path, monkeypatch, where):
    monkeypatch.delenv(ENV_VAR, raising=False)
    old = Fernet.generate_key().decode()
    path = tmp_path / "env.db"
    plain = fill(path, Vault(secret_keys=old))
    before = ciphertexts(path)
    target = where if where.startswith("/") else str(tmp_path / where)
    refused = rotate_keys("--db", str(path), "--keys-out", target, keys=old)
    assert refused.returncode == 2
    assert "nothing was changed" in refused.stderr.lower() and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert ciphertexts(path) == before  # the issue: "3 of 3 accounts plus the pending consent were lost"
    assert rotate_keys("--db", str(path), "--verify", keys=old).returncode == 0
    assert decrypt_all(path, old) == plain


def test_missing_key_file_beside_secrets_is_an_error_not_a_new_key(key_file_store):
    path, plain = key_file_store
    kf = key_file_for(path)
    saved = kf.read_bytes()
    kf.unlink()
    with pytest.raises(VaultError, match="key file .* is missing.*Restore the key file"):
        Vault(db_path=path)
    assert not kf.exists()  # the issue: a new key was created silently, and every secret was unreadable for good
    for args in (["--verify"], [], ["--drop-old-keys"]):
        r = rotate_keys("--db", str(path), *args)
        assert r.returncode == 2 and "is missing" in r.stderr and "Traceback" not in r.stderr
        assert not kf.exists()
    kf.write_bytes(saved)
    os.chmod(kf, 0o600)
    assert decrypt_all(path) == plain


def test_verify_reports_each_failure_class_and_changes_nothing(key_file_store):
    path, _ = key_file_store
    db = open_db(path)
    stranger = Vault(secret_keys=Fernet.generate_key().decode())
    db.conn.execute(
        "UPDATE accounts SET refresh_token_enc = ? WHERE name IN ('Seller 1', 'Seller 2')", [stranger.encrypt("x")]
    )
    db.conn.execute("UPDATE oauth_states SET verifier_enc = ?", [stranger.encrypt("v")])
    db.conn.commit()
    before, key_before = path.read_bytes(), key_file_for(path).read_bytes()
    r = rotate_keys("--db", str(path), "--verify")
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "2 secret(s) in accounts.refresh_token_enc cannot be decrypted with the configured keys.",
        "1 secret(s) in oauth_states.verifier_enc cannot be decrypted with the configured keys.",
    ]
    assert "gAAAA" not in r.stdout + r.stderr
    assert path.read_bytes() == before and key_file_for(path).read_bytes() == key_before
    # and old keys are not dropped while a secret would still need them
    assert rotate_keys("--db", str(path), "--drop-old-keys").returncode == 2
