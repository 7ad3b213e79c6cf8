"""A year of authorization: days left, warnings at 30 and 7, invalid_grant mid-sync, removal."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from cryptography.fernet import Fernet

from sandbox.credentials import AUTHORIZATIONS, DEMO_CLIENT
from services import accounts, connect
from services.errors import AuthorizationExpired
from services.secrets import token_life
from services.secrets.vault import Vault
from services.store import DATA_TABLES, SUMMARY_TABLES, open_db

TODAY = date(2026, 6, 1)


@pytest.mark.parametrize(
    "age, level, days",
    [
        (0, "ok", 365),
        (334, "ok", 31),
        (335, "warn", 30),
        (357, "warn", 8),
        (358, "urgent", 7),
        (364, "urgent", 1),
        (365, "expired", 0),
        (500, "expired", -135),
    ],
)
def test_levels(age, level, days):
    life = token_life.assess({"status": "ok", "authorized_on": (TODAY - timedelta(days=age)).isoformat()}, TODAY)
    assert (life.level, life.days_left) == (level, days)
    assert life.can_sync == (level != "expired")
    if level in ("warn", "urgent"):
        assert f"{days} day" in life.message and "Reconnect" in life.message


def test_reconnect_needed_and_unknown_date():
    life = token_life.assess({"status": "reconnect_needed", "authorized_on": TODAY.isoformat()}, TODAY)
    assert life.level == "reconnect_needed" and not life.can_sync and "stopped" in life.message
    assert token_life.assess({"status": "ok", "authorized_on": None}).level == "unknown"
    assert token_life.assess({"status": "ok", "authorized_on": "not a date"}).level == "unknown"


@pytest.fixture()
def store(tmp_path):
    path = tmp_path / "life.db"
    return path, open_db(path), Vault(secret_keys=Fernet.generate_key().decode())


def test_expiring_authorization_warns_through_connect(store, sandbox):
    path, db, vault = store
    auth = AUTHORIZATIONS["expiring"]
    aid = accounts.add_account(
        db,
        vault,
        "Expiring",
        "NA",
        DEMO_CLIENT["client_id"],
        DEMO_CLIENT["client_secret"],
        auth["refresh_token"],
        backend="sandbox",
        sandbox_url=sandbox.url,
        authorized_on=(date.today() - timedelta(days=345)).isoformat(),
    )
    life = connect.token_status(db, aid)
    assert life.level == "warn" and life.days_left == 20


def test_invalid_grant_during_sync_flags_account_and_writes_nothing_half(store, fresh_sandbox):
    """The seller revokes consent while reports are arriving: completed reports stay whole, the rest never land."""
    path, db, vault = store
    rt = AUTHORIZATIONS["demo"]["refresh_token"]
    aid = accounts.add_account(
        db,
        vault,
        "Demo",
        "NA",
        DEMO_CLIENT["client_id"],
        DEMO_CLIENT["client_secret"],
        rt,
        backend="sandbox",
        sandbox_url=fresh_sandbox.url,
    )
    connect.refresh_profiles(db, vault, aid)
    state = fresh_sandbox.state
    revoked = []

    def progress(stage, done, total, rows):
        if stage == "reports" and done >= 2 and not revoked:
            with state.lock:
                state.refresh_tokens[rt]["revoked"] = True
                state.access_tokens.clear()  # the cached access token dies too: next call is a 401, then invalid_grant
            revoked.append(done)

    with pytest.raises(AuthorizationExpired, match="reconnect"):
        connect.run_sync(path, vault, aid, None, progress, days=30)
    assert revoked
    assert accounts.get_account(db, aid)["status"] == "reconnect_needed"
    # every report marked done is stored (its rows, deduplicated on the natural key); nothing outside them
    done = db.conn.execute(
        "SELECT profile_id, report_type, start, end, rows FROM sync_tasks WHERE status = 'done'"
    ).fetchall()
    for pid, table, start, end, rows in done:
        n = db.conn.execute(
            f"SELECT COUNT(*) FROM [{table}] WHERE profile_id = ? AND date BETWEEN ? AND ?", [pid, start, end]
        ).fetchone()[0]
        assert 0 < n <= rows or n == rows == 0
    for table in ("campaign_day", "placement_day", "target_day", "search_term_day", "advertised_product_day"):
        windows = [(r[0], r[2], r[3]) for r in done if r[1] == table]
        outside = "SELECT COUNT(*) FROM [{}] WHERE NOT ({})".format(
            table, " OR ".join("(profile_id = ? AND date BETWEEN ? AND ?)" for _ in windows) or "0"
        )
        assert db.conn.execute(outside, [v for w in windows for v in w]).fetchone()[0] == 0, table
    assert db.conn.execute("SELECT COUNT(*) FROM sync_tasks WHERE status != 'done'").fetchone()[0] > 0
    run = db.conn.execute("SELECT status, finished_at FROM sync_runs").fetchone()
    assert run[0] == "reconnect_needed" and run[1]
    # syncs stop: the next attempt refuses before any HTTP
    before = len(state.access_tokens)
    with pytest.raises(AuthorizationExpired, match="stopped until you reconnect"):
        connect.run_sync(path, vault, aid, None, days=3)
    assert len(state.access_tokens) == before
    assert db.conn.execute("SELECT COUNT(*) FROM sync_runs").fetchone()[0] == 1


def test_expired_by_date_stops_syncs_without_asking_amazon(store, sandbox):
    path, db, vault = store
    aid = accounts.add_account(
        db,
        vault,
        "Old",
        "NA",
        DEMO_CLIENT["client_id"],
        DEMO_CLIENT["client_secret"],
        AUTHORIZATIONS["demo"]["refresh_token"],
        backend="sandbox",
        sandbox_url=sandbox.url,
        authorized_on=(date.today() - timedelta(days=366)).isoformat(),
    )
    with pytest.raises(AuthorizationExpired, match="more than a year old"):
        connect.run_sync(path, vault, aid, None, days=3)


def test_remove_account_deletes_tokens_and_data(demo_store, tmp_path):
    import shutil

    src, vault, aid, _sb = demo_store
    path = tmp_path / "copy.db"
    src_db = open_db(src)
    src_db.conn.execute(f"VACUUM INTO '{path}'")
    db = open_db(path)
    assert db["campaign_day"].count > 0 and db["search_term_span"].count > 0
    connect.remove_account(db, aid)
    assert db["accounts"].count == 0
    for table in DATA_TABLES + SUMMARY_TABLES + ("sync_runs", "sync_tasks", "oauth_states"):
        assert db[table].count == 0, table
    db.conn.execute("VACUUM")  # freed pages are gone from the file too
    raw = path.read_bytes()
    assert b"Atzr|" not in raw and b"gAAAAA" not in raw  # no token, not even its ciphertext
    del shutil
