"""The demo seller: an embedded Amazon sandbox, started once per process.

The dashboard talks to the demo seller exactly as it talks to Amazon, over HTTP on
loopback, so the demo exercises the same clients as a real account. Only the
sandbox's public entry point (`sandbox.start_sandbox`) is imported here; its
internals stay out of the app.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

_lock = threading.Lock()
_handle = None


@dataclass(frozen=True)
class DemoSettings:
    """How the embedded sandbox is started; environment variables let `make bench` use the large world."""

    seed: int = 7
    scale: str = "demo"
    report_latency: float = 1.0

    @classmethod
    def from_env(cls) -> DemoSettings:
        return cls(
            seed=int(os.environ.get("DASHBOARD_SANDBOX_SEED", "7")),
            scale=os.environ.get("DASHBOARD_SANDBOX_SCALE", "demo"),
            report_latency=float(os.environ.get("DASHBOARD_SANDBOX_LATENCY", "1.0")),
        )


def sandbox_url(settings: DemoSettings | None = None) -> str:
    """Base URL of this process's sandbox, starting it on a free loopback port on first use."""
    global _handle
    with _lock:
        if _handle is None:
            from sandbox import start_sandbox

            s = settings or DemoSettings.from_env()
            _handle = start_sandbox(port=0, seed=s.seed, scale=s.scale, report_latency=s.report_latency)
        return _handle.url


def start_sandbox(**kwargs):
    """A sandbox of its own (the sync CLI's `--sandbox`), through the sandbox's public entry point."""
    from sandbox import start_sandbox as _start

    return _start(**kwargs)


def demo_credentials() -> dict[str, str]:
    """The demo app client and seller refresh token, as a new user would paste them."""
    from sandbox import demo_credentials as _creds

    return dict(_creds())
