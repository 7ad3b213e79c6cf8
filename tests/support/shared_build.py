"""Build an expensive test artefact once per test session, shared by the pytest-xdist workers (not a test module).

`make test` runs two xdist workers, each its own process with its own sandbox. The synced demo stores take minutes
to build, and each worker used to build its own. Now the first worker that needs one builds it under a file lock in
the session's temporary folder (shared by the workers); the other waits for it and copies the SQLite file. A copy is
tied to nothing of the sandbox that served it but its URL (rewritten by the idempotent connect) and its day: every
sandbox of one seed serves the same world for the same day, and the demo refresh tokens are static, so a worker's
own sandbox accepts the copy. When the day differs (a run across midnight UTC) the caller builds its own.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import sqlite3
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet


def session_dir(tmp_path_factory) -> Path:
    """The folder every worker of this session sees: under xdist each worker's basetemp is a folder of the session's
    (`<session>/popen-gwN`, or `<--basetemp>/gwN`); named by the session's id, so that a `--basetemp` used again
    never hands a new session the artefacts of an old one."""
    base = Path(tmp_path_factory.getbasetemp())
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / f"shared-{session_id()}"
    folder.mkdir(exist_ok=True)
    return folder


SESSION_ID_VAR = "DASHBOARD_TEST_SESSION_ID"


def session_id() -> str:
    """This test session's id, made with its key (`session_key`) and inherited by the workers the same way."""
    return os.environ.setdefault(SESSION_ID_VAR, uuid.uuid4().hex[:12])


SESSION_KEY_VAR = "DASHBOARD_TEST_SESSION_KEY"


def session_key() -> str:
    """One Fernet key for the whole session, so a store encrypted by one worker is readable by the other.

    tests/conftest.py sets it in `pytest_configure`, which runs in the controller before it starts the xdist workers,
    so they inherit it; outside pytest (a helper imported on its own) a key of this process is made."""
    return os.environ.setdefault(SESSION_KEY_VAR, Fernet.generate_key().decode())


# The session fixtures whose artefact is built once for all workers (tests/conftest.py, tests/pages/conftest.py); a
# worker waiting for one of them builds another of them meanwhile, if the session's tests need it.
SHARED_FIXTURES = ("demo_account", "demo_store", "default_sync")

_helping = False  # set while this worker builds something else as it waits (never nested)


def _free(lock_path: Path) -> bool:
    """Whether nobody holds the lock right now (a build in progress holds it)."""
    with open(lock_path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(f, fcntl.LOCK_UN)
        return True


@contextmanager
def _own_timeout(config):
    """Run the help on a budget of its own (pytest-timeout's per-test `timeout`, as each build had when every worker
    built its own), then give the waiting test back the time it had left: the help is the session's work, not the
    waiting test's. Only pytest-timeout's `signal` method arms ITIMER_REAL; with no timer armed this does nothing."""
    left, _ = signal.getitimer(signal.ITIMER_REAL)
    try:
        budget = float(config.getini("timeout") or 0)
    except (ValueError, TypeError):
        budget = 0.0
    if not left or not budget:
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, left)


def _help_while_waiting(request, root: Path, names: tuple[str, ...]) -> None:
    """While another worker builds what this one needs, build another shared fixture the session's tests need and
    nobody has started: on two cores the waiting worker would otherwise leave one idle for minutes."""
    global _helping
    if _helping or request is None:
        return
    wanted = {n for item in request.session.items for n in getattr(item, "fixturenames", ()) if n in names}
    _helping = True
    try:
        for name in names:
            if name in wanted and not (root / name).is_dir() and _free(root / f"{name}.lock"):
                try:
                    with _own_timeout(request.config):
                        request.getfixturevalue(name)
                except pytest.FixtureLookupError:  # not visible from here (e.g. tests/pages' own fixtures)
                    continue
                except (Exception, pytest.fail.Exception):  # noqa: BLE001 - that fixture's own tests report it
                    continue
    finally:
        _helping = False


def build_once(
    tmp_path_factory, name: str, build: Callable[[Path], None], request=None, help_with: tuple[str, ...] = ()
) -> Path:
    """The folder `build(folder)` filled, built by the first worker that asks; the others wait on the lock.

    `name` is also the name of the session fixture that calls this, so that a worker which finds another building it
    can first set up one of `help_with` (session fixtures that build shared artefacts too) for the session.
    A build that raises leaves nothing behind, so the next worker that asks tries again (and fails the same way)."""
    root = session_dir(tmp_path_factory)
    done = root / name
    if done.is_dir():  # renamed into place only once complete
        return done
    with open(root / f"{name}.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _help_while_waiting(request, root, help_with)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.is_dir():
                work = root / f"{name}.partial"
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir()
                started, cpu = time.monotonic(), time.process_time()  # the sandbox serves from a thread of ours
                build(work)
                spent = {"seconds": time.monotonic() - started, "cpu_seconds": time.process_time() - cpu}
                spent = {k: round(v, 1) for k, v in spent.items()} | {"by": os.environ.get("PYTEST_XDIST_WORKER", "")}
                (work / "built.json").write_text(json.dumps(spent))  # what the build cost, for whoever tunes it
                work.rename(done)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return done


def seal(build_db: Path, dest: Path) -> None:
    """`dest`: a consistent one-file copy of the live WAL database `build_db` (SQLite's backup API, the -wal's pages
    included), which is then removed (its connections may still be open: the files go when they close)."""
    src, dst = sqlite3.connect(build_db), sqlite3.connect(dest)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{build_db}{suffix}").unlink(missing_ok=True)


def sandbox_world(url: str) -> dict:
    """What makes the world of the sandbox at `url`: its seed, scale and day (the same three, the same world)."""
    r = requests.get(url.rstrip("/") + "/_sandbox/state", timeout=10)
    r.raise_for_status()
    state = r.json()
    return {k: state[k] for k in ("seed", "scale", "today")}


def write_meta(folder: Path, **meta) -> None:
    (folder / "meta.json").write_text(json.dumps(meta))


def read_meta(folder: Path) -> dict:
    return json.loads((folder / "meta.json").read_text())
