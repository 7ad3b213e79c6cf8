"""A sync killed with SIGKILL at several points and run again ends equal to an uninterrupted one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from synchelp import dump, duplicates

from services.store import open_db

ROOT = Path(__file__).resolve().parents[3]
ARGS = ["--sandbox", "--days", "8", "--sandbox-seed", "7", "--sandbox-latency", "0.3", "--poll", "0.1"]


def _env():
    env = dict(os.environ)
    env.pop("DASHBOARD_SECRET_KEYS", None)
    env["PYTHONPATH"] = str(ROOT)
    return env


def _cli(db: Path, kill_after: int | None = None) -> dict | None:
    """Run the CLI; with kill_after, SIGKILL it once that many progress lines were printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.sync", "--db", str(db), *ARGS],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    seen, last = 0, None
    try:
        for line in proc.stdout:
            if line.startswith("progress"):
                seen += 1
                if kill_after is not None and seen >= kill_after:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(timeout=30)
                    return None
            elif line.startswith("{"):
                last = json.loads(line)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, proc.returncode
    return last


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    db = tmp_path_factory.mktemp("kill") / "ref.db"
    summary = _cli(db)
    assert summary["status"] == "ok"
    return db


@pytest.mark.parametrize("kill_after", [1, 6, 25])
def test_killed_sync_resumes_to_the_same_database(reference, tmp_path, kill_after):
    db = tmp_path / "k.db"
    assert _cli(db, kill_after=kill_after) is None
    written = open_db(db).conn.execute("SELECT COUNT(*) FROM sync_tasks WHERE status = 'done'").fetchone()[0]
    summary = _cli(db)
    assert summary["status"] == "ok"
    if kill_after > 2:
        assert summary["resumed"] and summary["reports_skipped"] == written
    assert dump(db) == dump(reference)
    assert not duplicates(db)
    runs = open_db(db).conn.execute("SELECT status, COUNT(*) FROM sync_runs GROUP BY status").fetchall()
    assert dict(runs).get("running", 0) == 0
