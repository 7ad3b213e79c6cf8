"""Reports downloaded, parsed, converted and written by worker processes, so that parsing never starves the writer.

Why processes and not threads: parsing and converting a report is Python work under the global interpreter lock.
With the sync's threads doing it, the thread inside a write transaction waited for the lock behind the parsers:
in the demo sync (2 s report latency) the write transactions were held 58 s in all for 14.5 s of `executemany`.
A worker process does the whole of one report (`ReportWriter.write_report`, exactly as a thread would: staged or
written straight in, atomically with its task), and the sync's threads only poll and wait.

Bounds: `processes` workers (each holds at most one chunk of rows), fed by the sync's download slots. Workers are
started eagerly by the thread that runs the sync and die with it (Linux parent-death signal), so a killed sync
leaves no worker behind that could finish a report after it; a report a worker did not finish is written by
nobody, as when the sync process itself is killed. Errors come back as the same exception types the sync handles
(DownloadExpired asks for a fresh link, AmazonUnavailable/RepeatedKeys retry the report).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import threading
from typing import Any

from services.errors import AmazonRequestError, AmazonUnavailable, DashboardError, DownloadExpired
from services.sync.ingest import CHUNK_ROWS, IngestResult, RepeatedKeys, ReportWriter
from services.sync.runs import _Stop

logger = logging.getLogger(__name__)

INGEST_PROCESSES = 2  # the machine's cores are shared with Amazon's side in the benchmark: two keep both busy

_writer: ReportWriter | None = None
_session: Any = None


def _die_with_parent(parent: int) -> None:
    """Worker initializer: SIGKILL when the sync's thread that started us ends (Linux), and quit if it already has."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown still ends us
        pass
    if os.getppid() != parent:
        os._exit(0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the sync's to handle; it then ends its workers


def _error(e: BaseException) -> tuple[str, Any]:
    """An exception as plain data (DashboardError subclasses do not all survive pickling with their fields)."""
    if isinstance(e, DownloadExpired):
        return ("expired", e.status)
    if isinstance(e, AmazonRequestError):
        return ("request", (e.status, str(e)))
    if isinstance(e, RepeatedKeys):
        return ("repeated", str(e))
    if isinstance(e, DashboardError):
        return ("unavailable", str(e))
    if isinstance(e, OSError):
        return ("os", f"{type(e).__name__}: {e}")
    return ("other", f"{type(e).__name__}: {e}")


def _raise(kind: str, data: Any) -> None:
    if kind == "expired":
        raise DownloadExpired(data)
    if kind == "request":
        raise AmazonRequestError(data[0], user_message=data[1])
    if kind == "repeated":
        raise RepeatedKeys(data)
    if kind == "unavailable":
        raise AmazonUnavailable(data)
    if kind == "os":
        raise OSError(data)
    raise RuntimeError(f"a report worker failed: {data}")


def _ingest(
    db_path: str, chunk_rows: int, url: str, policy, task: dict, profile: dict, report_id: str, run_id: str
) -> tuple[str, Any]:
    """In the worker: read the report at `url` and write it (one report at a time per worker)."""
    global _writer, _session
    import requests

    from services.amazon.ads import iter_report_rows

    try:
        if _writer is None or _writer.db_path != db_path:
            _writer = ReportWriter(db_path, chunk_rows=chunk_rows)
        if _session is None:
            _session = requests.Session()
        rows = iter_report_rows(_session, url, policy=policy)
        return ("ok", _writer.write_report(task, profile, report_id, run_id, rows))
    except Exception as e:  # noqa: BLE001 - returned as data, raised again in the sync
        return _error(e)


class IngestPool:
    """A few worker processes that write whole reports; `ingest` blocks the calling thread until its report is in."""

    def __init__(self, db_path, processes: int = INGEST_PROCESSES, chunk_rows: int | None = None) -> None:
        self.db_path = str(db_path)
        self.chunk_rows = chunk_rows or CHUNK_ROWS
        ctx = multiprocessing.get_context("spawn")  # never fork a process that has threads
        self._pool = ctx.Pool(processes, initializer=_die_with_parent, initargs=(os.getpid(),))
        self._closed = threading.Event()

    def ingest(
        self, url: str, task: dict, profile: dict, report_id: str, run_id: str, *, policy, stop: threading.Event
    ) -> IngestResult:
        pending = self._pool.apply_async(
            _ingest, (self.db_path, self.chunk_rows, url, policy, task, profile, report_id, run_id)
        )
        while True:
            try:
                kind, data = pending.get(timeout=0.25)
                break
            except multiprocessing.TimeoutError:
                if stop.is_set() or self._closed.is_set():
                    raise _Stop() from None
        if kind == "ok":
            return data
        _raise(kind, data)
        raise AssertionError("unreachable")

    def close(self) -> None:
        """After the last report: let the workers finish and exit (their connections close with them)."""
        self._closed.set()
        self._pool.close()
        self._pool.join()

    def terminate(self) -> None:
        """On an error or a stop: end the workers now (a report in a worker's hands is simply not written)."""
        self._closed.set()
        self._pool.terminate()
        self._pool.join()
