"""Connections, short write transactions and value coercions of the local store.

- `open_db(path)` gives a connection of its own (one per thread / per script run), WAL, busy_timeout,
  foreign keys, migrations applied once per path per process.
- Writes happen only inside `with write(db):` (BEGIN IMMEDIATE … COMMIT), short, never around HTTP.
- Ids are TEXT (Amazon's id types vary between endpoints); money is REAL rounded to 2 decimals.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from services.store.schema import migrations

BUSY_TIMEOUT_MS = 10_000
# --------------------------------------------------------------------------------------------
# connection + transactions


_applied_lock = threading.Lock()
_applied_paths: set[str] = set()


def _connect(path: str | Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions, only the explicit ones of write().
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def open_db(path: str | Path, *, migrate: bool = True) -> Database:
    """A new connection to the store at `path` (created if absent), migrations applied once per process."""
    path = str(path)
    conn = _connect(path)
    if path != ":memory:":
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() != "wal":
            _retry_busy(lambda: conn.execute("PRAGMA journal_mode=WAL"))
    db = Database(conn)
    if migrate:
        key = path if path == ":memory:" else str(Path(path).resolve())
        with _applied_lock:
            if key not in _applied_paths or path == ":memory:":
                apply_migrations(db)
                _applied_paths.add(key)
    return db


def apply_migrations(db: Database) -> None:
    """Apply pending migrations under one BEGIN IMMEDIATE (safe when several processes start at once)."""
    if not migrations.pending(db):
        return
    with write(db):
        migrations.apply(db)  # nested: sqlite-utils uses savepoints inside our transaction


def _retry_busy(fn, attempts: int = 8):
    for i in range(attempts):
        try:
            return fn()
        except sqlite3.OperationalError as e:
            msg = str(e).lower()
            if ("locked" not in msg and "busy" not in msg) or i == attempts - 1:
                raise
            time.sleep(0.05 * (2**i) * (0.5 + random.random()))


@contextmanager
def write(db: Database) -> Iterator[Database]:
    """One short write transaction: BEGIN IMMEDIATE (retried on SQLITE_BUSY) … COMMIT, rollback on error.

    Nested use joins the outer transaction. Never make an HTTP call inside.
    """
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    _retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"))
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        _retry_busy(lambda: conn.execute("COMMIT"))


# --------------------------------------------------------------------------------------------
# value helpers


def money(v: Any) -> float | None:
    if v is None or v == "":
        return None
    return round(float(v), 2)


def as_id(v: Any) -> str | None:
    """Amazon ids as text: 123 / 123.0 / "123" all become "123"."""
    if v is None or v == "":
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def as_int(v: Any) -> int | None:
    if v is None or v == "":
        return None
    return int(round(float(v)))


def as_float(v: Any) -> float | None:
    if v is None or v == "":
        return None
    return float(v)


def to_json(v: Any) -> str | None:
    if v is None:
        return None
    return json.dumps(v, sort_keys=True, separators=(",", ":"), default=str)


# --------------------------------------------------------------------------------------------
# bulk writers (executemany; natural primary keys)


def upsert_rows(
    db: Database, table: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None
) -> int:
    """INSERT OR REPLACE of many rows in one executemany (call inside write()). Returns the row count."""
    if not rows:
        return 0
    cols = list(columns or rows[0].keys())
    sql = "INSERT OR REPLACE INTO [{}] ({}) VALUES ({})".format(
        table, ", ".join(f"[{c}]" for c in cols), ", ".join("?" for _ in cols)
    )
    db.conn.executemany(sql, [tuple(r.get(c) for c in cols) for r in rows])
    return len(rows)


def replace_window(
    db: Database,
    table: str,
    profile_id: str,
    start: str,
    end: str,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
) -> int:
    """A report window is the truth for its dates: delete the profile's rows in [start, end], insert the new ones.

    Rows that Amazon no longer reports (restatements) disappear; re-fetches never duplicate.
    """
    db.conn.execute(f"DELETE FROM [{table}] WHERE profile_id = ? AND date BETWEEN ? AND ?", [profile_id, start, end])
    return upsert_rows(db, table, rows, columns)


def table_columns(db: Database, table: str) -> list[str]:
    return [r[1] for r in db.conn.execute(f"PRAGMA table_info([{table}])")]


# --------------------------------------------------------------------------------------------
# helpers for tests / tools


def dump_table(db: Database, table: str, exclude: Iterable[str] = ()) -> list[tuple]:
    """All rows of `table` ordered by every column, without the `exclude` columns (for equality checks)."""
    cols = [c for c in table_columns(db, table) if c not in set(exclude)]
    sql = "SELECT {} FROM [{}] ORDER BY {}".format(
        ", ".join(f"[{c}]" for c in cols), table, ", ".join(f"[{c}]" for c in cols)
    )
    return [tuple(r) for r in db.conn.execute(sql)]
