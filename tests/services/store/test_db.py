"""services/store/db.py: the store's files are private (0600) and a newer schema is refused untouched (issue 12)."""

from __future__ import annotations

import hashlib
import os

import pytest

from services.store import open_db, write
from services.store.db import NewerSchema, StoreUnavailable, check_db_path


def _mode(path) -> int:
    return os.stat(path).st_mode & 0o777


def test_database_wal_and_shm_are_created_0600(tmp_path):
    path = tmp_path / "new.db"
    db = open_db(path)
    with write(db):
        db.conn.execute("CREATE TABLE scratch (x)")
        db.conn.execute("INSERT INTO scratch VALUES (1)")
    for name in ("new.db", "new.db-wal", "new.db-shm"):
        assert (tmp_path / name).exists(), name
        assert _mode(tmp_path / name) == 0o600, (name, oct(_mode(tmp_path / name)))


def test_files_an_older_version_left_0644_are_tightened_on_open(tmp_path):
    path = tmp_path / "old.db"
    open_db(path).conn.close()
    os.chmod(path, 0o644)
    db = open_db(path)
    db.conn.execute("SELECT COUNT(*) FROM accounts").fetchone()
    assert _mode(path) == 0o600
    for extra in ("old.db-wal", "old.db-shm"):
        if (tmp_path / extra).exists():
            assert _mode(tmp_path / extra) == 0o600


def test_newer_schema_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "newer.db"
    db = open_db(path)
    db.conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('ppc_dashboard', 'm999_future', 'x')"
    )
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(NewerSchema) as exc:
        open_db(path)
    assert "newer version" in str(exc.value) and "m999_future" in str(exc.value)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_other_migration_sets_are_not_mistaken_for_newer(tmp_path):
    path = tmp_path / "x.db"
    db = open_db(path)
    db.conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('suggestions', 'whatever', 'x')"
    )
    db.conn.close()
    open_db(path).conn.close()  # another module's set: its own module checks it


def test_check_db_path_sentences(tmp_path):
    with pytest.raises(StoreUnavailable, match="is a folder"):
        check_db_path(tmp_path)
    text = tmp_path / "t.db"
    text.write_text("hello")
    with pytest.raises(StoreUnavailable, match="not a SQLite database"):
        check_db_path(text)
    with pytest.raises(StoreUnavailable, match="does not exist"):
        check_db_path(tmp_path / "missing" / "x.db")
    check_db_path(tmp_path / "fresh.db")  # a new file in a writable folder is fine
    empty = tmp_path / "empty.db"
    empty.touch()
    check_db_path(empty)  # SQLite treats an empty file as a new database


def test_a_newer_promotions_schema_is_refused_by_promotions(tmp_path):
    from services.promotions import store as ps

    path = tmp_path / "p.db"
    db = open_db(path)
    ps.ensure_schema(db)
    db.conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('promotions', 'p999_future', 'x')"
    )
    with pytest.raises(NewerSchema, match="p999_future"):
        ps.ensure_schema(open_db(path))


def test_migrations_pending_reads_the_database_record(tmp_path):
    """The one-read check the pages run on every rerun agrees with sqlite-utils' own `pending`."""
    from sqlite_utils import Migrations

    from services.store import migrations_pending, open_db

    db = open_db(tmp_path / "m.db")
    extra = Migrations("pending_check")

    @extra()
    def m001_one(db):
        db.conn.execute("CREATE TABLE one (x)")

    assert migrations_pending(db, extra) and extra.pending(db)
    extra.apply(db)
    assert not migrations_pending(db, extra) and not extra.pending(db)

    @extra()
    def m002_two(db):
        db.conn.execute("CREATE TABLE two (x)")

    assert migrations_pending(db, extra) and [m.name for m in extra.pending(db)] == ["m002_two"]
