"""The store: migrations, WAL, write transactions, natural keys."""

from __future__ import annotations

import pytest

from services import store
from services.store import open_db, write


def test_schema_tables_and_wal(tmp_path):
    db = open_db(tmp_path / "a.db")
    names = set(db.table_names())
    for t in (
        "accounts",
        "profiles",
        *store.ENTITY_TABLES,
        *store.REPORT_TABLES,
        "coupons",
        "coupon_snapshots",
        "deals",
        "deal_products",
        "sync_runs",
        "sync_tasks",
    ):
        assert t in names, t
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert not store.migrations.pending(db)
    # reopening applies nothing new and keeps a single record per migration
    db2 = open_db(tmp_path / "a.db")
    applied = [m.name for m in store.migrations.applied(db2)]
    assert len(applied) == len(set(applied))


def test_natural_keys_replace_not_duplicate(tmp_path):
    db = open_db(tmp_path / "a.db")
    row = {"profile_id": "1", "date": "2024-01-01", "campaign_id": "9", "impressions": 10, "clicks": 1, "cost": 1.5}
    with write(db):
        store.upsert_rows(db, "campaign_day", [row])
    with write(db):
        store.upsert_rows(db, "campaign_day", [dict(row, clicks=2)])
    rows = list(db["campaign_day"].rows)
    assert len(rows) == 1 and rows[0]["clicks"] == 2


def test_replace_window_drops_restated_rows(tmp_path):
    db = open_db(tmp_path / "a.db")

    def mk(d, c):
        return {"profile_id": "1", "date": d, "campaign_id": c, "impressions": 1, "clicks": 0, "cost": 0}

    with write(db):
        store.upsert_rows(db, "campaign_day", [mk("2024-01-01", "a"), mk("2024-01-02", "b"), mk("2024-01-05", "c")])
    with write(db):
        store.replace_window(db, "campaign_day", "1", "2024-01-01", "2024-01-03", [mk("2024-01-02", "b")])
    assert sorted((r["date"], r["campaign_id"]) for r in db["campaign_day"].rows) == [
        ("2024-01-02", "b"),
        ("2024-01-05", "c"),
    ]


def test_write_rolls_back_on_error(tmp_path):
    db = open_db(tmp_path / "a.db")
    with pytest.raises(RuntimeError):
        with write(db):
            store.upsert_rows(db, "sync_runs", [{"run_id": "r", "account_id": "a", "started_at": "x"}])
            raise RuntimeError("boom")
    assert db["sync_runs"].count == 0
    assert not db.conn.in_transaction


def test_value_helpers():
    assert store.as_id(123) == "123" and store.as_id(123.0) == "123" and store.as_id("0012") == "0012"
    assert store.as_id(None) is None
    assert store.money(1.005) in (1.0, 1.01) and store.money("2.345") == pytest.approx(2.35, abs=0.006)
    assert store.as_int("3") == 3


def test_migrations_object_is_extendable():
    from sqlite_utils import Migrations

    assert isinstance(store.migrations, Migrations)


def test_writer_blocks_second_writer_without_error(tmp_path):
    path = tmp_path / "a.db"
    a, b = open_db(path), open_db(path)
    a.conn.execute("BEGIN IMMEDIATE")
    a.conn.execute("INSERT INTO sync_runs(run_id, account_id, started_at) VALUES ('1','a','t')")
    import threading

    threading.Timer(0.3, lambda: a.conn.execute("COMMIT")).start()
    with write(b):  # waits for a's commit via busy_timeout, no "database is locked"
        b.conn.execute("INSERT INTO sync_runs(run_id, account_id, started_at) VALUES ('2','a','t')")
    assert b["sync_runs"].count == 2
