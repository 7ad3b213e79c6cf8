"""Shared fixtures: the sandbox is the backend of every test, over real HTTP on loopback."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "tests" / "specs"  # Amazon's specifications, copied with their licences (SOURCES.md)


@pytest.fixture(scope="session")
def specs_dir() -> Path:
    if not SPECS.is_dir():
        pytest.fail(f"Amazon's specs are missing from {SPECS}")
    return SPECS


@pytest.fixture(scope="session")
def sandbox():
    """One demo-scale sandbox per test session (seed 7, short report latency)."""
    from sandbox import start_sandbox

    handle = start_sandbox(port=0, seed=7, scale="demo", report_latency=0.2)
    yield handle
    handle.stop()


@pytest.fixture()
def fresh_sandbox():
    """A sandbox of its own, for tests that change the world (advance days, apply changes, faults)."""
    from sandbox import start_sandbox

    handle = start_sandbox(port=0, seed=11, scale="demo", report_latency=0.2)
    yield handle
    handle.stop()


def pytest_configure(config):
    """The session's id and Fernet key, made here so that the xdist workers (started after this) inherit them."""
    from shared_build import session_id, session_key

    session_id()
    session_key()


@pytest.fixture(scope="session")
def demo_store(request, sandbox, tmp_path_factory):
    """The demo seller synced once (60 days) into a store of its own: (db_path, vault, account_id, sandbox).

    Synced once per test session, not once per xdist worker: the first worker that needs it builds it against its
    own seed-7 sandbox and the other copies the file and points it at its own sandbox of the same world
    (tests/support/shared_build.py)."""
    from shared_build import SHARED_FIXTURES, build_once, read_meta, sandbox_world, seal, session_key, write_meta

    from sandbox import demo_credentials
    from services import accounts
    from services.secrets.vault import Vault
    from services.store import open_db
    from services.sync import sync_account

    vault = Vault(secret_keys=session_key())

    def build(folder: Path) -> None:
        path = folder / "build.db"
        account_id = accounts.connect_demo(open_db(path), vault, sandbox.url, demo_credentials())
        summary = sync_account(path, account_id, vault, days=60)
        assert summary.status == "ok", summary.line()
        seal(path, folder / "demo.db")
        write_meta(folder, world=sandbox_world(sandbox.url))

    built = build_once(tmp_path_factory, "demo_store", build, request, help_with=SHARED_FIXTURES)
    if read_meta(built)["world"] != sandbox_world(sandbox.url):  # another day (midnight UTC passed): build our own
        built = tmp_path_factory.mktemp("store_build")
        build(built)
    path = tmp_path_factory.mktemp("store") / "demo.db"
    shutil.copyfile(built / "demo.db", path)
    account_id = accounts.connect_demo(open_db(path), vault, sandbox.url, demo_credentials())  # this sandbox's URL
    return path, vault, account_id, sandbox


@pytest.fixture(scope="session")
def default_sync(request, sandbox, tmp_path_factory):
    """The demo seller synced once over the default range (95 days) with the sync tests' fast retry policy:
    (folder with demo.db, summary, progress events). Tests copy demo.db before they change it (`synced_copy`)."""
    from shared_build import SHARED_FIXTURES, build_once, read_meta, sandbox_world, seal, write_meta
    from synchelp import run_sync

    def build(folder: Path) -> None:
        events = []
        summary = run_sync(folder / "build.db", sandbox.url, progress=lambda *a: events.append(a))
        seal(folder / "build.db", folder / "demo.db")
        (folder / "result.pickle").write_bytes(pickle.dumps((summary, events)))
        write_meta(folder, world=sandbox_world(sandbox.url))

    built = build_once(tmp_path_factory, "default_sync", build, request, help_with=SHARED_FIXTURES)
    if read_meta(built)["world"] != sandbox_world(sandbox.url):  # another day (midnight UTC passed): build our own
        built = tmp_path_factory.mktemp("sync_build")
        build(built)
    summary, events = pickle.loads((built / "result.pickle").read_bytes())
    return built, summary, events
