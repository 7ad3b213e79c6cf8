"""Connections, short write transactions and value coercions of the local store.

- `open_db(path)` gives a connection of its own (one per thread / per script run), WAL, busy_timeout,
  foreign keys, migrations applied once per path per process.
- Writes happen only inside `with write(db):` (BEGIN IMMEDIATE … COMMIT), short, never around HTTP.
- Ids are TEXT (Amazon's id types vary between endpoints); money is REAL rounded to 2 decimals.
- The database, WAL and SHM files hold tokens (encrypted) and a seller's data: created 0600, owner only.
- A database written by a newer version of this code (migrations this code does not know) is refused before
  anything is written (`NewerSchema`); a path that cannot be a database gets a sentence (`StoreUnavailable`).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import stat
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database, Migrations

from services.errors import DashboardError
from services.store.schema import SPAN_LISTINGS, migrations

BUSY_TIMEOUT_MS = 10_000
# --------------------------------------------------------------------------------------------
# connection + transactions


_applied_lock = threading.Lock()
_applied_paths: set[str] = set()


class StoreUnavailable(DashboardError):
    """The path given for the store cannot be opened as a writable SQLite database."""

    default_message = "The database file cannot be opened."


class NewerSchema(DashboardError):
    """The database was written by a newer version of the dashboard: using it could half-write it."""

    default_message = "This database was written by a newer version of the dashboard."


SQLITE_HEADER = b"SQLite format 3\x00"
PRIVATE_FILE = 0o600


def check_db_path(path: str | Path) -> None:
    """Refuse, with a sentence, a path that cannot be the store: a folder, a missing folder, a file that is not
    SQLite, or a read-only file (the sync and the dashboard write to it). Touches nothing."""
    p = Path(path)
    if p.is_dir():
        raise StoreUnavailable(f"{p} is a folder, not a database file. Give the path of a .db file.")
    if not p.exists():
        parent = p.parent if str(p.parent) else Path(".")
        if not parent.is_dir():
            raise StoreUnavailable(f"The folder {parent} does not exist, so the database {p.name} cannot be created.")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise StoreUnavailable(f"The folder {parent} is read-only, so the database {p.name} cannot be created.")
        return
    try:
        with open(p, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreUnavailable(f"{p} cannot be read ({exc.strerror or 'permission denied'}).") from None
    if head and head != SQLITE_HEADER:
        raise StoreUnavailable(
            f"{p} is not a SQLite database (it holds something else). Give the dashboard's .db file."
        )
    mode = p.stat().st_mode
    if not os.access(p, os.W_OK) or not mode & stat.S_IWUSR:
        raise StoreUnavailable(f"{p} is read-only: the database must be writable. Check its permissions.")


def _create_private(path: str) -> None:
    """Create the database file 0600 before SQLite does (SQLite gives its -wal and -shm files the same mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except OSError:  # exists already (tightened after connect), or SQLite will say why it cannot open it
        return
    os.close(fd)


def _tighten(path: str) -> None:
    """Database, WAL and SHM: owner read/write only (also for files an older version created 0644)."""
    for name in (path, f"{path}-wal", f"{path}-shm"):
        try:
            st = os.stat(name)
            if st.st_mode & 0o077 and st.st_uid == os.geteuid():
                os.chmod(name, PRIVATE_FILE)
        except OSError:  # absent (no WAL yet) or not ours: nothing to tighten
            continue


def migrations_pending(db: Database, migration_set: Migrations) -> bool:
    """Whether `migration_set` has a migration this database has not recorded: one indexed read. sqlite-utils'
    `Migrations.pending` lists every table and view of the database first (twice), and the pages ask on every rerun
    (the Suggestions page ~8 times a run). Answered from the database itself, never cached per connection."""
    try:
        rows = db.conn.execute(
            f"SELECT name FROM [{migration_set.migrations_table}] WHERE migration_set = ?", [migration_set.name]
        ).fetchall()
    except sqlite3.OperationalError:  # no migrations table yet
        return True
    applied = {name for (name,) in rows}
    return any(m.name not in applied for m in migration_set._migrations)


def unknown_migrations(db: Database, migration_set: Migrations = migrations) -> list[str]:
    """Migrations recorded in the database for `migration_set` (default: the store's) that this code does not know."""
    table = migration_set.migrations_table
    if not db.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone():
        return []
    known = {m.name for m in migration_set._migrations}
    rows = db.conn.execute(f"SELECT name FROM [{table}] WHERE migration_set = ? ORDER BY rowid", [migration_set.name])
    return [name for (name,) in rows if name not in known]


def check_schema(db: Database, path: str | Path, migration_set: Migrations = migrations) -> None:
    """Raise NewerSchema when the database holds migrations from a newer version (before anything is written).

    The store checks its own set on open; a module with its own set (promotions) checks that one too."""
    newer = unknown_migrations(db, migration_set)
    if newer:
        raise NewerSchema(
            f"{path} was written by a newer version of the dashboard (schema step {newer[0]!r} is unknown here). "
            "Nothing was changed: update the dashboard, or point it at another database."
        )


def _connect(path: str | Path) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions, only the explicit ones of write().
    if str(path) != ":memory:" and not str(path).startswith("file:"):
        _create_private(str(path))
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def open_db(path: str | Path, *, migrate: bool = True) -> Database:
    """A new connection to the store at `path` (created 0600 if absent), migrations applied once per process.

    A database from a newer version is refused (NewerSchema) before anything is written to it."""
    path = str(path)
    conn = _connect(path)
    db = Database(conn)
    try:
        check_schema(db, path)
        if path != ":memory:":
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode.lower() != "wal":
                _retry_busy(lambda: conn.execute("PRAGMA journal_mode=WAL"))
            _tighten(path)
    except BaseException:
        conn.close()
        raise
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
    forget_spans(db, table, profile_id, start, end)
    return upsert_rows(db, table, rows, columns)


def forget_spans(db: Database, table: str, profile_id: str, start: str, end: str) -> None:
    """Inside the write transaction that rewrites a day table's days start..end: the sync's sums over them
    (`SPAN_LISTINGS`, built by `sync.summaries`) are stale, and their readers sum the days until the next build."""
    listing = SPAN_LISTINGS.get(table)
    if listing is not None:
        db.conn.execute(
            f"DELETE FROM {listing} WHERE profile_id = ? AND start <= ? AND end >= ?", [profile_id, end, start]
        )


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
