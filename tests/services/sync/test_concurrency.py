"""Eight threads syncing and reading the same database at once: no 'database is locked'."""

from __future__ import annotations

import threading
import time

from synchelp import demo_account, duplicates, run_sync

from services.store import open_db, write


def test_eight_threads_sync_and_read(sandbox, tmp_path):
    path = tmp_path / "c.db"
    demo_account(path, sandbox.url)
    errors: list[BaseException] = []
    stop = threading.Event()
    summaries = []

    def syncer():
        try:
            summaries.append(run_sync(path, sandbox.url, days=3))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    def reader():
        try:
            db = open_db(path)
            while not stop.is_set():
                db.conn.execute(
                    "SELECT profile_id, SUM(cost), SUM(clicks) FROM campaign_day GROUP BY profile_id"
                ).fetchall()
                db.conn.execute("SELECT COUNT(*) FROM search_term_day").fetchone()
                # a read-then-write like the UI's (settings, notes): BEGIN IMMEDIATE, never a deferred upgrade
                with write(db):
                    n = db.conn.execute("SELECT COUNT(*) FROM sync_runs").fetchone()[0]
                    db.conn.execute("UPDATE sync_runs SET params = params WHERE rowid = ?", [n])
                time.sleep(0.01)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    syncers = [threading.Thread(target=syncer) for _ in range(4)]
    readers = [threading.Thread(target=reader) for _ in range(4)]
    for t in syncers + readers:
        t.start()
    for t in syncers:
        t.join(timeout=240)
    stop.set()
    for t in readers:
        t.join(timeout=30)
    assert not errors, errors
    assert len(summaries) == 4 and all(s.status == "ok" for s in summaries), [s.errors for s in summaries]
    assert not duplicates(path)
    db = open_db(path)
    assert db["campaign_day"].count > 0
    assert db.conn.execute("SELECT COUNT(*) FROM sync_runs WHERE status = 'ok'").fetchone()[0] == 4
