"""`python -m services.sync` refuses bad input with exit 2 and one line on stderr, never a traceback (issue 12)."""

from __future__ import annotations

import hashlib
import os
import sqlite3

import pytest
from cryptography.fernet import Fernet

from services.store import open_db
from services.sync.cli import main

FAST = ["--sandbox-latency", "0.05", "--poll", "0.05"]


@pytest.fixture(autouse=True)
def _keys(monkeypatch):
    monkeypatch.setenv("DASHBOARD_SECRET_KEYS", Fernet.generate_key().decode())


def _one_line_refusal(capsys, *fragments: str) -> str:
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    lines = [line for line in err.strip().splitlines() if not line.startswith("[sandbox]")]  # the sandbox's log
    assert len(lines) == 1, err
    assert "sync ok" not in out, out
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def _digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _runs(db_path) -> int:
    return sqlite3.connect(db_path).execute("SELECT COUNT(*) FROM sync_runs").fetchone()[0]


def test_unknown_profile_exits_non_zero(tmp_path, capsys):
    db = tmp_path / "s.db"
    assert main(["--db", str(db), "--sandbox", "--profile", "999999", "--days", "1", *FAST]) == 2
    _one_line_refusal(capsys, "999999")
    # the account's profiles are now stored: a second try is refused before any sync starts
    name = sqlite3.connect(db).execute("SELECT name FROM accounts").fetchone()[0]
    runs = _runs(db)
    assert main(["--db", str(db), "--account", name, "--profile", "999999", *FAST]) == 2
    _one_line_refusal(capsys, "999999")
    assert _runs(db) == runs


@pytest.mark.parametrize("days", ["-1", "0", "96", "100000"])
def test_days_out_of_range_is_refused_not_clamped(tmp_path, capsys, days):
    db = tmp_path / "s.db"
    assert main(["--db", str(db), "--sandbox", "--days", days, *FAST]) == 2
    _one_line_refusal(capsys, "--days", "1 and 95", days)
    assert not db.exists()  # refused before anything was created


def test_db_that_is_a_folder(tmp_path, capsys):
    assert main(["--db", str(tmp_path), "--account", "x"]) == 2
    _one_line_refusal(capsys, "is a folder")


def test_db_that_is_a_text_file(tmp_path, capsys):
    db = tmp_path / "notes.db"
    db.write_text("campaign,cost\nshoes,12\n")
    before = _digest(db)
    assert main(["--db", str(db), "--account", "x"]) == 2
    _one_line_refusal(capsys, "not a SQLite database")
    assert _digest(db) == before


def test_db_that_is_read_only(tmp_path, capsys):
    db = tmp_path / "s.db"
    open_db(db).conn.close()
    os.chmod(db, 0o444)
    before = _digest(db)
    assert main(["--db", str(db), "--account", "x"]) == 2
    _one_line_refusal(capsys, "read-only")
    assert _digest(db) == before


def test_db_in_a_missing_folder(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "nope" / "s.db"), "--account", "x"]) == 2
    _one_line_refusal(capsys, "does not exist")


def test_newer_schema_is_refused_before_anything_is_written(tmp_path, capsys):
    db = tmp_path / "s.db"
    d = open_db(db)
    d.conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('ppc_dashboard', 'm999_future', 'x')"
    )
    d.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    d.conn.close()
    before = _digest(db)
    assert main(["--db", str(db), "--sandbox", "--days", "1", *FAST]) == 2
    _one_line_refusal(capsys, "newer version", "m999_future")
    assert _digest(db) == before
    wal = tmp_path / "s.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM accounts").fetchone()[0] == 0
