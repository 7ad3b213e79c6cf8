"""Peak memory of the app process (not a test): python -m bench.memory_bench --store DIR

Two measures, both against a synced store (the large world from `bench.page_bench --keep DIR`):

1. server (when /usr/bin/chromium and playwright are there): `streamlit run app.py` headless on a free port
   with DASHBOARD_DEMO=1 (the session opens on the demo seller, i.e. the synced account), and Debian's Chromium
   (Playwright) loading every page from the sidebar in turn, waiting for each script run to finish. Peak RSS =
   VmHWM of the streamlit process from /proc/<pid>/status. The demo mode also starts its embedded demo-scale
   sandbox inside that process (as `make run` does); its world is part of the figure.
2. apptest: every page walked by AppTest (cold, cleared-cache and warm runs) in one fresh Python process;
   peak RSS = VmHWM of that process (not ru_maxrss, which a child inherits from a big parent). Always available.

Target: none set by the issue; the figure is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.page_bench import PAGES, ROOT, STORE_NAME, _run_child, _vm_hwm_mb, load_store

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser_available() -> str | None:
    """None when the server measure can run, else why not."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM}"
    return None


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _wait_run(page, timeout: float = 120_000) -> None:
    from playwright.sync_api import expect

    page.wait_for_timeout(300)
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout, state="attached"
    )
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout, state="attached"
    )
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout)


def server_peak(store_dir: Path, meta: dict, rounds: int = 1) -> dict:
    """VmHWM of a real `streamlit run` while Chromium opens every page `rounds` times."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = dict(
        os.environ,
        DASHBOARD_DB=str(store_dir / STORE_NAME),
        DASHBOARD_SECRET_KEYS=meta["key"],
        DASHBOARD_DEMO="1",
        DASHBOARD_SANDBOX_LATENCY="0.1",
        PYTHONUNBUFFERED="1",
    )
    env.pop("DASHBOARD_SANDBOX_SCALE", None)
    log = tempfile.NamedTemporaryFile(prefix="memory-bench-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    out: dict = {"how": "VmHWM of `streamlit run app.py` while headless Chromium loads every page", "page_load_s": {}}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}")
            try:
                if requests.get(f"{url}/_stcore/health", timeout=2).text.strip() == "ok":
                    break
            except requests.RequestException:
                pass
            time.sleep(0.25)
        else:
            raise RuntimeError("streamlit did not become healthy in 120 s")
        out["idle_rss_mb"] = _rss_mb(proc.pid)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
                ctx.set_default_timeout(120_000)
                page = ctx.new_page()
                page.goto(url)
                _wait_run(page)
                for r in range(rounds):
                    for name in PAGES:
                        t0 = time.perf_counter()
                        page.get_by_test_id("stSidebarNav").get_by_text(name, exact=True).click()
                        _wait_run(page)
                        out["page_load_s"].setdefault(name, []).append(round(time.perf_counter() - t0, 2))
                        if r == 0:
                            if page.get_by_test_id("stException").count():
                                out.setdefault("exceptions", []).append(name)
                            out.setdefault("tables_shown", {})[name] = page.get_by_test_id("stDataFrame").count()
            finally:
                browser.close()
        out["after_rss_mb"] = _rss_mb(proc.pid)
        out["peak_rss_mb"] = _vm_hwm_mb(proc.pid)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        log.close()
        os.unlink(log.name)
    return out


def apptest_peak(store_dir: Path, meta: dict) -> dict:
    r = _run_child(store_dir, meta, list(PAGES))
    return {
        "how": "VmHWM of one Python process running AppTest over every page (cold, cleared, warm)",
        "peak_rss_mb": r["ru_maxrss_mb"],
        "exceptions": [n for n, p in r["pages"].items() if p["exception"]] or None,
    }


def run(store: str, server: bool = True, apptest: bool = True) -> dict:
    store_dir = Path(store)
    meta = load_store(store_dir)
    out: dict = {}
    why = browser_available() if server else "not requested"
    if why is None:
        try:
            out["server"] = server_peak(store_dir, meta)
        except Exception as exc:  # noqa: BLE001 - report, fall back on the AppTest figure
            out["server"] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    else:
        out["server"] = {"skipped": why}
    out["apptest"] = (
        apptest_peak(store_dir, meta)
        if (apptest or not out["server"].get("peak_rss_mb"))
        else {"skipped": "server measured"}
    )
    best = out["server"].get("peak_rss_mb") or out["apptest"].get("peak_rss_mb")
    out["peak_rss_mb"] = best
    out["measured_by"] = "server" if out["server"].get("peak_rss_mb") else "apptest"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.memory_bench")
    ap.add_argument("--store", required=True, help="a store built with python -m bench.page_bench --keep DIR")
    ap.add_argument("--no-server", action="store_true", help="only the AppTest measure")
    a = ap.parse_args()
    print(json.dumps(run(a.store, server=not a.no_server), indent=1))


if __name__ == "__main__":
    main()
