"""Helpers shared by the sync tests (not a test module)."""

from __future__ import annotations

from shared_build import session_key

from services import accounts, store
from services.amazon.http import RetryPolicy
from services.store import open_db

FAST_POLICY = RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=0.05, timeout=(5, 30))
KEY = session_key()  # the session's: a store synced in one xdist worker opens in the other (shared_build.py)

# columns that legitimately differ between two syncs of the same data
VOLATILE = {"account_id", "finished_at", "started_at", "created_at", "updated_at"}


def vault():
    from services.secrets.vault import Vault

    return Vault(secret_keys=KEY)


def demo_account(db_path, sandbox_url, creds=None):
    from sandbox import demo_credentials

    db = open_db(db_path)
    return accounts.connect_demo(db, vault(), sandbox_url, creds or demo_credentials())


def run_sync(db_path, sandbox_url, **kw):
    from services.sync import sync_account

    aid = demo_account(db_path, sandbox_url)
    kw.setdefault("policy", FAST_POLICY)
    return sync_account(db_path, aid, vault(), **kw)


def dump(db_path, tables=store.DATA_TABLES):
    db = open_db(db_path)
    out = {t: store.dump_table(db, t, exclude=VOLATILE) for t in tables}
    db.conn.close()
    return out


def duplicates(db_path) -> dict:
    """Rows whose natural key appears twice (impossible with real PKs, checked anyway)."""
    db = open_db(db_path)
    bad = {}
    for t in store.DATA_TABLES:
        pk = [r[1] for r in db.conn.execute(f"PRAGMA table_info([{t}])") if r[5]]
        n = db.conn.execute(
            f"SELECT COUNT(*) FROM (SELECT {', '.join(pk)} FROM [{t}] GROUP BY {', '.join(pk)} HAVING COUNT(*) > 1)"
        ).fetchone()[0]
        if n:
            bad[t] = n
    return bad
