"""Shared fixtures: the sandbox is the backend of every test, over real HTTP on loopback."""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def demo_store(sandbox, tmp_path_factory):
    """The demo seller synced once (60 days) into a store of its own: (db_path, vault, account_id, sandbox)."""
    from cryptography.fernet import Fernet

    from sandbox import demo_credentials
    from services import accounts
    from services.secrets.vault import Vault
    from services.store import open_db
    from services.sync import sync_account

    path = tmp_path_factory.mktemp("store") / "demo.db"
    vault = Vault(secret_keys=Fernet.generate_key().decode())
    db = open_db(path)
    account_id = accounts.connect_demo(db, vault, sandbox.url, demo_credentials())
    summary = sync_account(path, account_id, vault, days=60)
    assert summary.status == "ok", summary.line()
    return path, vault, account_id, sandbox
