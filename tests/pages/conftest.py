"""AppTest fixtures: the real app against the embedded demo sandbox, with a store of its own."""

from __future__ import annotations

import os
import shutil

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APP = os.path.join(ROOT, "app.py")


@pytest.fixture(scope="session")
def app_env(tmp_path_factory):
    """Point the app at a temporary store and a test key; the embedded sandbox gets a short report latency.

    The key is the session's (the same in every xdist worker), so the demo store one worker synced is readable in
    the other (`demo_account`)."""
    from shared_build import session_key

    db = tmp_path_factory.mktemp("app") / "dashboard.db"
    saved = {k: os.environ.get(k) for k in ("DASHBOARD_DB", "DASHBOARD_SECRET_KEYS", "DASHBOARD_SANDBOX_LATENCY")}
    os.environ["DASHBOARD_DB"] = str(db)
    os.environ["DASHBOARD_SECRET_KEYS"] = session_key()
    os.environ["DASHBOARD_SANDBOX_LATENCY"] = "0.1"
    yield db
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def demo_account(request, app_env, tmp_path_factory):
    """The demo seller connected and synced once (90 days) through the same services the Connect page calls.

    Synced once per test session, not once per xdist worker: the first worker that needs it syncs a store of the
    session (tests/support/shared_build.py) against its embedded seed-7 sandbox; each worker whose store is still
    untouched starts from a copy of it, pointed at its own embedded sandbox of the same world. A worker whose store
    an earlier test already opened (its file may be in use) or whose sandbox's day differs syncs its own, as before.
    """
    from shared_build import SHARED_FIXTURES, build_once, read_meta, sandbox_world, seal, write_meta

    from services import connect
    from services.demo import sandbox_url

    def connect_and_sync(path) -> str:
        db = connect.open_store(path)
        vault = connect.make_vault(path)
        account_id = connect.connect_demo_seller(db, vault)
        connect.refresh_profiles(db, vault, account_id)
        summary = connect.run_sync(path, vault, account_id, None, days=90)
        assert summary.status == "ok", summary.line()
        return account_id

    def build(folder) -> None:
        connect_and_sync(folder / "build.db")
        seal(folder / "build.db", folder / "dashboard.db")
        write_meta(folder, world=sandbox_world(sandbox_url()))

    untouched = not any(os.path.exists(f"{app_env}{suffix}") for suffix in ("", "-wal", "-journal"))
    if not untouched:
        return connect_and_sync(app_env)
    built = build_once(tmp_path_factory, "demo_account", build, request, help_with=SHARED_FIXTURES)
    if read_meta(built)["world"] != sandbox_world(sandbox_url()):
        return connect_and_sync(app_env)
    shutil.copyfile(built / "dashboard.db", app_env)
    db = connect.open_store(app_env)
    vault = connect.make_vault(app_env)
    account_id = connect.connect_demo_seller(db, vault)  # now on this worker's embedded sandbox
    connect.refresh_profiles(db, vault, account_id)
    return account_id


def new_app(account_id: str | None = None, page: str | None = None, timeout: float = 30):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=timeout)
    if account_id:
        at.session_state["account_id"] = account_id
    at.run()
    if page:
        at.switch_page(f"pages/{page}").run()
    return at


@pytest.fixture(autouse=True)
def _navigation_like_the_server(monkeypatch):
    """Run every AppTest rerun through app.py, as the real server does.

    AppTest resets `PagesManager.uses_pages_directory` before each run, and because
    this project keeps its pages in `pages/` (the customer's layout) a rerun after
    `switch_page` would execute the page file alone, in Streamlit's legacy mode,
    skipping app.py and its sidebar. The real server sets the flag to False for good
    once app.py has called `st.navigation`; this fixture does the same for AppTest.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
