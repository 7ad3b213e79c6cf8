"""Connect (consent and paste), sync, fail a few ways; then read the database file and every log line written:
no refresh token, access token, client secret or authorization code appears in plain text."""

from __future__ import annotations

import logging
import re
import urllib.parse

import pytest
import requests
from cryptography.fernet import Fernet

from sandbox.credentials import AUTHORIZATIONS, DEMO_CLIENT, SECOND_CLIENT
from services import accounts, connect
from services.accounts import oauth
from services.errors import DashboardError
from services.secrets.logsafe import RedactingFilter, install_redaction
from services.secrets.vault import Vault
from services.store import open_db

REDIRECT = "http://localhost:8501/"
SHAPES = [
    re.compile(rb"Atz[ra]\|"),
    re.compile(rb"amzn1\.oa2-cs\.v1\."),
    re.compile(rb"client_secret=(?!\[REDACTED\])"),
    re.compile(rb"[?&]code=(?!\[REDACTED\])"),
]


@pytest.fixture()
def logfile(tmp_path):
    """Every log line of the process, at DEBUG (urllib3 included), into a file through the app's redaction."""
    path = tmp_path / "app.log"
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    install_redaction()
    yield path
    root.removeHandler(handler)
    root.setLevel(old_level)
    handler.close()


def _consent(db, vault, sb, seller):
    url = oauth.start(
        db,
        vault,
        name=f"Consent {seller}",
        region="NA",
        client_id=DEMO_CLIENT["client_id"],
        client_secret=DEMO_CLIENT["client_secret"],
        redirect_uri=REDIRECT,
        sandbox_url=sb.url,
        seller_hint=seller,
    )
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    requests.get(url, timeout=5)
    r = requests.post(
        sb.url + "/ap/oa/decision", data={**query, "decision": "approve"}, timeout=5, allow_redirects=False
    )
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.headers["Location"]).query))


def test_database_and_logs_hold_no_secret(sandbox, tmp_path, logfile, capfd):
    path = tmp_path / "leak.db"
    db, vault = open_db(path), Vault(db_path=path)  # the key-file case: keys beside, never inside, the database
    logging.getLogger("test").info(
        "starting refresh_token=%s", AUTHORIZATIONS["demo"]["refresh_token"]
    )  # a careless line

    back = _consent(db, vault, sandbox, "second")
    aid, sentence = connect.finish_consent(db, vault, back)
    assert "connected" in sentence
    pasted, _ = connect.connect_and_list(
        db,
        vault,
        "Pasted",
        "NA",
        DEMO_CLIENT["client_id"],
        DEMO_CLIENT["client_secret"],
        AUTHORIZATIONS["demo"]["refresh_token"],
        sandbox_url=sandbox.url,
    )
    accounts.update_refresh_token(db, vault, pasted, AUTHORIZATIONS["demo"]["refresh_token"])
    connect.run_sync(path, vault, aid, None, days=3)
    failures = [
        lambda: oauth.finish(db, vault, back),  # replay
        lambda: connect.connect_and_list(
            db,
            vault,
            "Revoked",
            "NA",
            DEMO_CLIENT["client_id"],
            DEMO_CLIENT["client_secret"],
            AUTHORIZATIONS["revoked"]["refresh_token"],
            sandbox_url=sandbox.url,
        ),
        lambda: connect.connect_and_list(
            db,
            vault,
            "Wrong secret",
            "NA",
            DEMO_CLIENT["client_id"],
            SECOND_CLIENT["client_secret"],
            AUTHORIZATIONS["demo"]["refresh_token"],
            sandbox_url=sandbox.url,
        ),
    ]
    messages = []
    for fail in failures:
        with pytest.raises(DashboardError) as info:
            fail()
        messages.append(str(info.value))
    logging.getLogger("test").exception(
        "boom with code=%s", back["code"], exc_info=ValueError(f"exchange failed: code={back['code']}")
    )

    consent_token = vault.decrypt(accounts.get_account(db, aid)["refresh_token_enc"])
    with sandbox.state.lock:
        access_tokens = list(sandbox.state.access_tokens)
    assert access_tokens
    secrets = [
        consent_token,
        AUTHORIZATIONS["demo"]["refresh_token"],
        AUTHORIZATIONS["revoked"]["refresh_token"],
        DEMO_CLIENT["client_secret"],
        SECOND_CLIENT["client_secret"],
        back["code"],
        *access_tokens,
    ]

    db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    out, err = capfd.readouterr()
    haystacks = {
        "log file": logfile.read_bytes(),
        "stdout/stderr (sandbox log lines)": (out + err).encode(),
        "messages": " ".join(messages).encode(),
    }
    for f in tmp_path.iterdir():
        if f.name.startswith("leak.db"):
            haystacks[f.name] = f.read_bytes()
    assert len(haystacks["log file"]) > 1000  # urllib3 and the app did log
    assert b"[REDACTED]" in haystacks["log file"]
    for where, blob in haystacks.items():
        for s in secrets:
            for needle in {s, urllib.parse.quote(s, safe=""), s[5:45]}:
                assert needle.encode() not in blob, f"a secret in {where}"
        if where != "leak.db.key":
            for shape in SHAPES:
                assert not shape.search(blob), f"{shape.pattern!r} in {where}"


def test_filter_redacts_every_shape():
    rec = logging.LogRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        "POST grant_type=refresh_token&refresh_token=Atzr|abc&client_secret=amzn1.oa2-cs.v1.ff&code=ANxyz "
        "Authorization: Bearer Atza|tok",
        None,
        None,
    )
    RedactingFilter().filter(rec)
    text = rec.getMessage()
    for leaked in ("Atzr|abc", "amzn1.oa2-cs.v1.ff", "ANxyz", "Atza|tok"):
        assert leaked not in text


def test_repr_of_live_objects_holds_no_secret(sandbox, tmp_path):
    path = tmp_path / "r.db"
    db, vault = open_db(path), Vault(secret_keys=Fernet.generate_key().decode())
    aid = accounts.connect_demo(
        db,
        vault,
        sandbox.url,
        {
            "client_id": DEMO_CLIENT["client_id"],
            "client_secret": DEMO_CLIENT["client_secret"],
            "refresh_token": AUTHORIZATIONS["demo"]["refresh_token"],
        },
    )
    clients = accounts.clients_for(db, vault, aid)
    clients.ads("NA").list_profiles()
    text = " ".join(
        repr(o) for o in (clients, clients.tokens, vault, clients.account, connect.account_card(db, vault, aid))
    )
    assert "Atz" not in text.replace("Atzr|…", "") and DEMO_CLIENT["client_secret"] not in text
    assert (
        connect.account_card(db, vault, aid)["refresh_token"] == "Atzr|…" + AUTHORIZATIONS["demo"]["refresh_token"][-4:]
    )


def test_rotate_keys_command_reencrypts_every_row(sandbox, tmp_path, monkeypatch, capsys):
    from services.secrets import rotate_keys

    monkeypatch.delenv("DASHBOARD_SECRET_KEYS", raising=False)
    path = tmp_path / "rot.db"
    db, vault = open_db(path), Vault(db_path=path)
    aid = accounts.connect_demo(
        db,
        vault,
        sandbox.url,
        {
            "client_id": DEMO_CLIENT["client_id"],
            "client_secret": DEMO_CLIENT["client_secret"],
            "refresh_token": AUTHORIZATIONS["demo"]["refresh_token"],
        },
    )
    oauth.start(
        db,
        vault,
        name="pending",
        region="NA",
        client_id=DEMO_CLIENT["client_id"],
        client_secret=DEMO_CLIENT["client_secret"],
        redirect_uri=REDIRECT,
        sandbox_url=sandbox.url,
    )
    before = accounts.get_account(db, aid)["refresh_token_enc"]
    assert rotate_keys.main(["--db", str(path), "--secrets-toml", str(tmp_path / "none.toml")]) == 0
    out = capsys.readouterr().out
    assert "1 accounts, 1 oauth_states" in out and "gAAAA" not in out
    new_vault = Vault(db_path=path)
    new_primary = Vault(secret_keys=new_vault.keys_csv.split(",")[0])
    acc = accounts.get_account(db, aid)
    assert acc["refresh_token_enc"] != before
    assert new_primary.decrypt(acc["refresh_token_enc"]) == AUTHORIZATIONS["demo"]["refresh_token"]
    assert new_primary.decrypt(db.conn.execute("SELECT verifier_enc FROM oauth_states").fetchone()[0])
    # keys from the environment: refuses without --keys-out, writes an owner-only file with it
    monkeypatch.setenv("DASHBOARD_SECRET_KEYS", new_vault.keys_csv)
    with pytest.raises(SystemExit, match="--keys-out"):
        rotate_keys.main(["--db", str(path), "--secrets-toml", str(tmp_path / "none.toml")])
    keys_out = tmp_path / "new.keys"
    assert (
        rotate_keys.main(
            ["--db", str(path), "--keys-out", str(keys_out), "--secrets-toml", str(tmp_path / "none.toml")]
        )
        == 0
    )
    import os
    import stat

    assert stat.S_IMODE(os.stat(keys_out).st_mode) == 0o600
    assert (
        Vault(secret_keys=keys_out.read_text()).decrypt(accounts.get_account(db, aid)["client_secret_enc"])
        == DEMO_CLIENT["client_secret"]
    )
