"""Browser fixtures: the real app under `streamlit run`, driven by Playwright with Debian's Chromium.

The server is started and waited for the way Streamlit's own end-to-end tests do it
(`e2e_playwright/conftest.py`): a free port, `/_stcore/health` returning `ok`, then the
app's run state in the page (`wait_for_app_run`). Playwright cannot download its own
browser in this project's build environment, so it launches `/usr/bin/chromium`, which
`make test` installs with apt-get when it can. Without it the tests are skipped with the
reason, except under CI=true, where a missing browser is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
# The machine's closed network refuses Chromium's background connections; these keep it quiet and local.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 90  # seconds for /_stcore/health on a busy 2-core machine


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _missing_browser_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (make install-dev installs requirements-dev.txt)"
    if not os.access(CHROMIUM, os.X_OK):
        if hasattr(os, "geteuid") and os.geteuid() != 0:
            why = "not root, so make test could not apt-get install it; run: sudo apt-get install chromium"
        elif not shutil.which("apt-get"):
            why = "no apt-get on this system to install Debian's chromium"
        else:
            why = "apt-get install chromium did not provide it (see make test's output; make e2e-browser retries)"
        return f"Chromium not found at {CHROMIUM}: {why}"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing_browser_reason()
    if reason is None:
        return
    if in_ci():  # CI must run the browser tests: the browser fixture fails them instead of hiding them
        return
    for item in items:
        if item.get_closest_marker("e2e") is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


def _require_browser() -> None:
    reason = _missing_browser_reason()
    if reason is not None:
        if in_ci():
            pytest.fail(f"CI=true requires the browser tests to run, but {reason}", pytrace=False)
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """`streamlit run app.py` on a free port, its output kept in a file for the report on failure."""

    def __init__(self, workdir: Path, *, port: int | None = None, env: dict | None = None, args: tuple[str, ...] = ()):
        """`port`, `env` (e.g. a prepared DASHBOARD_DB and its key) and extra `args` (e.g. --secrets.files) let a
        test serve a store of its own; by default a fresh store and key."""
        from cryptography.fernet import Fernet

        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = workdir / "dashboard.db"
        self.log_path = workdir / "server.log"
        env_ = dict(os.environ)
        env_.update(
            {
                "DASHBOARD_DB": str(self.db),
                "DASHBOARD_SECRET_KEYS": Fernet.generate_key().decode(),
                "DASHBOARD_SANDBOX_LATENCY": "0.1",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env_.update(env or {})
        self.db = Path(env_["DASHBOARD_DB"])
        env = env_
        env.pop("DASHBOARD_DEMO", None)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.headless",
                "true",
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
                *args,
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_healthy(self, timeout: float = SERVER_START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.output()}")
            try:
                r = requests.get(f"{self.url}/_stcore/health", timeout=2)
                if r.status_code == 200 and r.text.strip() == "ok":
                    return
            except requests.RequestException:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"streamlit not healthy after {timeout:.0f}s on {self.url}:\n{self.output()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # only the process this fixture started
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()


def _interesting(output: str) -> list[str]:
    """The server's log without the embedded sandbox's routine `[sandbox] GET /path 200 5ms` lines."""
    return [line for line in output.splitlines() if not re.match(r"^\[sandbox\] [A-Z]+ \S+ [23]\d\d ", line)]


@pytest.fixture(scope="session")
def app_server(request):
    """The dashboard on a free port with a temporary store, a generated key and a fast embedded sandbox."""
    _require_browser()
    workdir = Path(tempfile.mkdtemp(prefix="dashboard-e2e-"))
    server = AppServer(workdir)
    try:
        server.wait_healthy()
    except Exception:
        server.stop()
        raise
    yield server
    server.stop()
    failed = getattr(request.session, "testsfailed", 0)
    if failed:  # the server's side of the story, next to the failing step
        sys.stdout.write(
            f"\n---- streamlit server output ({server.log_path}), sandbox successes left out ----\n"
            + "\n".join(_interesting(server.output())[-200:])
            + "\n"
        )
    else:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


@pytest.fixture()
def page(browser, app_server, request):
    """A fresh browser context (own session, downloads allowed) on a wide screen; a failing test leaves
    a screenshot of what the browser showed at that moment (NN-FAILED.png beside the steps)."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(30_000)
    pg = context.new_page()
    yield pg
    if request.node.stash.get(_CALL_FAILED, False):
        folder = SCREENSHOTS / request.node.name
        folder.mkdir(parents=True, exist_ok=True)
        n = len(list(folder.glob("[0-9][0-9]-*.png"))) + 1
        try:
            pg.screenshot(path=str(folder / f"{n:02d}-FAILED.png"))
        except Exception as exc:  # noqa: BLE001 - the test's own failure is what matters
            sys.stdout.write(f"no failure screenshot: {exc}\n")
    context.close()


@pytest.fixture()
def shots(request):
    """`shots("name")` writes tests/e2e/screenshots/<test name>/NN-name.png (full page) and returns its path."""
    folder = SCREENSHOTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))

    def take(page, name: str) -> Path:
        path = folder / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    take.folder = folder
    return take


def wait_for_app_run(page, wait_delay_ms: int = 200, timeout: float = 60_000) -> None:
    """Streamlit's own wait: connected, script not running, no skeleton left (e2e_playwright/conftest.py)."""
    from playwright.sync_api import expect

    page.wait_for_timeout(wait_delay_ms)
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout, state="attached"
    )
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout, state="attached"
    )
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout)


def wait_for_app_loaded(page, timeout: float = 60_000) -> None:
    page.wait_for_selector("[data-testid='stAppViewContainer']", timeout=timeout, state="attached")
    wait_for_app_run(page, timeout=timeout)
