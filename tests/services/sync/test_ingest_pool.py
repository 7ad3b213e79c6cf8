"""Reports read and written by worker processes: the same store as threads, errors as the sync's own exceptions,
and no worker outliving a killed sync."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from synchelp import FAST_POLICY, dump, duplicates, run_sync

from services.errors import DownloadExpired
from services.store import open_db, write
from services.sync.ingest_pool import IngestPool

ROOT = Path(__file__).resolve().parents[3]


def test_worker_processes_write_the_same_store_as_threads(sandbox, tmp_path):
    by_process = run_sync(tmp_path / "p.db", sandbox.url, days=8, poll=0.05, ingest_processes=2)
    by_thread = run_sync(tmp_path / "t.db", sandbox.url, days=8, poll=0.05, ingest_processes=0)
    assert by_process.status == by_thread.status == "ok"
    assert by_process.reports == by_thread.reports > 0 and by_process.rows == by_thread.rows > 0
    assert dump(tmp_path / "p.db") == dump(tmp_path / "t.db")
    assert not duplicates(tmp_path / "p.db")
    done = open_db(tmp_path / "p.db").conn.execute("SELECT COUNT(*) FROM sync_tasks WHERE status = 'done'")
    assert done.fetchone()[0] == by_process.reports


def test_an_expired_link_in_a_worker_is_a_download_expired_in_the_sync(sandbox, tmp_path):
    """A refused download comes back as DownloadExpired, so `wait_report` asks Amazon for a fresh link."""
    db = open_db(tmp_path / "e.db")
    with write(db):
        db.conn.execute(
            "INSERT INTO sync_tasks (run_id, task_key, profile_id, report_type, start, end, status, attempts) "
            "VALUES ('r', 't', '1', 'campaign_day', '2025-01-01', '2025-01-02', 'pending', 0)"
        )
    pool = IngestPool(tmp_path / "e.db", processes=1)
    try:
        url = f"{sandbox.url}/_download/reports/x-1/report-x.json.gz?X-Amz-Signature=not-ours"
        task = {"task_key": "t", "report_type": "campaign_day", "start": "2025-01-01", "end": "2025-01-02"}
        with pytest.raises(DownloadExpired):
            pool.ingest(url, task, {"profile_id": "1"}, "rep", "r", policy=FAST_POLICY, stop=threading.Event())
    finally:
        pool.close()
    assert db.conn.execute("SELECT status FROM sync_tasks").fetchone()[0] == "pending"


def test_workers_die_with_a_killed_sync(tmp_path):
    """A SIGKILLed sync leaves no worker behind that could still write a report after it (resume counts on it)."""
    script = (
        "import multiprocessing, sys, time\n"
        "from services.sync.ingest_pool import IngestPool\n"
        f"pool = IngestPool({str(tmp_path / 'k.db')!r}, processes=2)\n"
        "print(' '.join(str(p.pid) for p in multiprocessing.active_children()), flush=True)\n"
        "time.sleep(60)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) >= 2  # the pool's two workers (and multiprocessing's resource tracker)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        alive = pids
        while alive and time.monotonic() < deadline:
            time.sleep(0.1)
            alive = [p for p in pids if _running(p)]
        assert not alive, alive
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; it only waits for its (dead) parent's reaper
