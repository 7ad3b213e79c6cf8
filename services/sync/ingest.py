"""Writing one report into the store as a stream, in bounded chunks, atomically with its task.

A report of millions of rows never exists whole in memory: rows arrive one by one from the download, are
converted `CHUNK_ROWS` at a time and staged in a TEMP table of the writing connection (SQLite's temp database:
no lock on the store, nothing another connection can see). Once the last row is staged, one short
`BEGIN IMMEDIATE` transaction swaps the window in: DELETE the window, copy the staged rows, mark the task 'done'.

Why staging rather than writing chunks straight into the table with the task still 'pending': a reader never sees
half a window, a report that fails half-way (link expired, body cut off, FAILED on retry) leaves the previous data
exactly as it was, and a killed process leaves nothing behind at all (its temp database dies with it), so resume
and idempotency are exactly what they were when a report was written in one transaction. The cost is one copy
inside SQLite (INSERT … SELECT, no Python per row). A report that fits in its first chunk with no repeated key
(checked in Python, a set of its keys) needs no staging: its rows are already in memory, so that same transaction
writes them straight in. The guarantees are the same; the cost is one insert per row instead of two.

Repeated natural keys: Amazon reports a row once per natural key (a search term once per date and target). If a
report repeats one anyway, the staging upsert sums the additive metrics (clicks, cost, sales, …) instead of
letting the later row overwrite the earlier; a grain with a non-additive column (a share) refuses the report with
a clear log line. Either way it is counted and logged, never silent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter

from services.errors import AmazonUnavailable
from services.store import METRIC_COLUMNS, MONEY_METRICS, forget_spans, open_db, write
from services.sync.reports import convert_report_rows
from services.sync.runs import _now_iso

logger = logging.getLogger(__name__)

# Rows converted per step: ~1 KB of tuples a row for the widest grain, so ~60 MB for each of the sync's download
# slots. A report of at most this many rows with distinct keys (every report of the demo world's 31-day windows)
# skips the staging table and is written straight into the store: one insert per row instead of two.
CHUNK_ROWS = 60_000

# Columns Amazon's semantics let us add up when a report repeats a natural key.
_OTHER_SKU = {f"{kind}_other_sku_{w}d" for kind in ("purchases", "sales", "units") for w in (7, 14)}
ADDITIVE = set(METRIC_COLUMNS.values()) | _OTHER_SKU
_MONEY = MONEY_METRICS | {"sales_other_sku_7d", "sales_other_sku_14d"}
# Columns that are measurements but cannot be added: a repeated key in a report carrying one is refused.
NON_ADDITIVE = {"top_of_search_impression_share"}


class RepeatedKeys(AmazonUnavailable):
    """A report repeated natural keys in a way that cannot be added up; retried like an unreadable report."""


@dataclass
class IngestResult:
    rows: int  # rows written (distinct natural keys)
    received: int  # rows Amazon sent
    repeated: int  # rows that repeated a natural key and were summed into an earlier one


class ReportWriter:
    """One per sync: a small pool of connections (each with its TEMP staging tables), one per report being written,
    so their number (and their page caches) is bounded by the sync's download slots, not by its thread count."""

    def __init__(self, db_path, chunk_rows: int = CHUNK_ROWS) -> None:
        self.db_path = db_path
        self.chunk_rows = chunk_rows
        self._idle: list = []
        self._all: list = []
        self._staged: dict[int, set[str]] = {}
        self._lock = threading.Lock()
        self._keys: dict[str, list[str]] = {}

    def _take(self):
        with self._lock:
            if self._idle:
                return self._idle.pop()
        db = open_db(self.db_path)
        db.conn.execute("PRAGMA temp_store=FILE")  # staging spills to disk, not RAM
        with self._lock:
            self._all.append(db)
            self._staged[id(db)] = set()
        return db

    def _give(self, db) -> None:
        with self._lock:
            self._idle.append(db)

    def close(self) -> None:
        with self._lock:
            for db in self._all:
                try:
                    db.conn.close()
                except Exception:  # noqa: BLE001 - a connection of a thread that is still writing
                    pass
            self._all.clear()
            self._idle.clear()

    def _natural_key(self, db, table: str) -> list[str]:
        if table not in self._keys:
            info = db.conn.execute(f"PRAGMA main.table_info([{table}])").fetchall()
            self._keys[table] = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5] > 0]
        return self._keys[table]

    def _stage_table(self, db, table: str, cols: list[str]) -> tuple[str, str]:
        """The worker's TEMP copy of `table` (same columns, the natural key unique) and its upsert statement."""
        stage = f"stage_{table}"
        key = self._natural_key(db, table)
        if table not in self._staged[id(db)]:
            db.conn.execute(f"DROP TABLE IF EXISTS temp.[{stage}]")
            db.conn.execute(f"CREATE TEMP TABLE [{stage}] AS SELECT * FROM main.[{table}] WHERE 0")
            db.conn.execute(f"CREATE UNIQUE INDEX temp.[{stage}_key] ON [{stage}] ({', '.join(key)})")
            self._staged[id(db)].add(table)
        updates = []
        for c in cols:
            if c in ADDITIVE or c in NON_ADDITIVE:
                total = f"coalesce([{c}] + excluded.[{c}], [{c}], excluded.[{c}])"
                updates.append(f"[{c}] = " + (f"round({total}, 2)" if c in _MONEY else total))
        upsert = "INSERT INTO [{}] ({}) VALUES ({}) ON CONFLICT ({}) DO {}".format(
            stage,
            ", ".join(f"[{c}]" for c in cols),
            ", ".join("?" * len(cols)),
            ", ".join(key),
            ("UPDATE SET " + ", ".join(updates)) if updates else "NOTHING",
        )
        return stage, upsert

    def _distinct(self, db, table: str, cols: list[str], values: list[tuple]) -> bool:
        """True when no two rows of `values` share a natural key (the normal case: checked in Python, no index)."""
        key = self._natural_key(db, table)
        if not set(key) <= set(cols):
            return False
        keyof = itemgetter(*[cols.index(c) for c in key])
        return len(set(map(keyof, values))) == len(values)

    def _swap_in(
        self,
        db,
        task: dict,
        pid: str,
        report_id: str,
        run_id: str,
        table: str,
        cols: list[str],
        count: int,
        stage: str | None,
        values: list[tuple] | None = None,
    ) -> None:
        """One short BEGIN IMMEDIATE transaction: DELETE the window, write the report's `count` rows (from the staging
        table, or `values` themselves when the report was one chunk with distinct keys), mark the task 'done'."""
        conn = db.conn
        col_list = ", ".join(f"[{c}]" for c in cols)
        with write(db):
            conn.execute(
                f"DELETE FROM main.[{table}] WHERE profile_id = ? AND date BETWEEN ? AND ?",
                [pid, task["start"], task["end"]],
            )
            if stage is None:
                conn.executemany(
                    f"INSERT OR REPLACE INTO main.[{table}] ({col_list}) VALUES ({', '.join('?' * len(cols))})", values
                )
            else:
                conn.execute(
                    f"INSERT OR REPLACE INTO main.[{table}] ({col_list}) SELECT {col_list} FROM temp.[{stage}]"
                )
            forget_spans(db, table, pid, task["start"], task["end"])  # the sums over these days are stale
            conn.execute(
                "UPDATE sync_tasks SET status = 'done', report_id = ?, rows = ?, attempts = attempts + 1, "
                "error = NULL, finished_at = ? WHERE run_id = ? AND task_key = ?",
                [report_id, count, _now_iso(), run_id, task["task_key"]],
            )

    def write_report(
        self, task: dict, profile: dict, report_id: str, run_id: str, rows: Iterator[dict]
    ) -> IngestResult:
        """Stage `rows` chunk by chunk, then swap the window in with the task's 'done' in one transaction."""
        db = self._take()
        conn = db.conn
        table, pid = task["report_type"], profile["profile_id"]
        rows = iter(rows)  # a list would restart at every islice
        received = 0
        stage = None
        try:
            # converted straight from the stream: only the chunk's tuples exist, never a list of its dicts
            cols, values = convert_report_rows(table, pid, profile.get("currency_code"), islice(rows, self.chunk_rows))
            if len(values) < self.chunk_rows and self._distinct(db, table, cols, values):
                # the whole report is this one chunk (islice stopped short: the stream ended) and repeats no key
                self._swap_in(db, task, pid, report_id, run_id, table, cols, len(values), None, values)
                return IngestResult(rows=len(values), received=len(values), repeated=0)
            while True:
                if stage is None:
                    stage, upsert = self._stage_table(db, table, cols)
                    conn.execute(f"DELETE FROM temp.[{stage}]")
                if not values:
                    break
                conn.execute("BEGIN")  # touches only the temp database: no lock on the store
                try:
                    conn.executemany(upsert, values)
                finally:
                    conn.execute("COMMIT")
                received += len(values)
                values = None
                cols, values = convert_report_rows(
                    table, pid, profile.get("currency_code"), islice(rows, self.chunk_rows)
                )
            staged = conn.execute(f"SELECT COUNT(*) FROM temp.[{stage}]").fetchone()[0]
            repeated = received - staged
            if repeated:
                logger.warning(
                    "report %s (%s %s %s..%s) repeated %d natural keys in %d rows",
                    report_id, table, pid, task["start"], task["end"], repeated, received,
                )  # fmt: skip
                if NON_ADDITIVE & set(cols):
                    raise RepeatedKeys(
                        f"Amazon's {table} report for {task['start']}..{task['end']} listed {repeated} rows twice "
                        "with values that cannot be added up; it was not stored. The next sync asks for it again."
                    )
            self._swap_in(db, task, pid, report_id, run_id, table, cols, staged, stage)
            return IngestResult(rows=staged, received=received, repeated=repeated)
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if stage is not None:
                conn.execute(f"DELETE FROM temp.[{stage}]")
            self._give(db)
