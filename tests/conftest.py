"""Shared fixtures: the sandbox is the backend of every test, over real HTTP on loopback."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT.parent / "shared" / "reference" / "specs"


@pytest.fixture(scope="session")
def specs_dir() -> Path:
    if not SPECS.is_dir():
        pytest.fail(f"Amazon's specs are expected beside the repository at {SPECS}")
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
