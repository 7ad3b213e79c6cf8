"""The Amazon sandbox: a loopback HTTP server speaking Amazon's wire protocol.

Public API (see README.md)::

    h = start_sandbox(port=0, seed=7, scale="demo", report_latency=2.0, fault_rate=0.0, today=None)
    h.url, h.port, h.world ; h.stop()
    demo_credentials() -> {"client_id", "client_secret", "refresh_token"}
"""

from __future__ import annotations

import datetime as _dt
import threading

from sandbox.credentials import demo_credentials

__all__ = ["start_sandbox", "demo_credentials", "SandboxHandle"]


class SandboxHandle:
    """A running sandbox: ``url``, ``port``, ``world`` (ground truth, never served) and ``stop()``."""

    def __init__(self, httpd, thread: threading.Thread, state):
        self._httpd = httpd
        self._thread = thread
        self.state = state
        self.world = state.world
        self.port: int = httpd.server_address[1]
        self.url: str = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self) -> str:
        return f"<SandboxHandle {self.url} seed={self.world.seed} scale={self.world.scale}>"


def start_sandbox(
    port: int = 0,
    seed: int = 7,
    scale: str = "demo",
    report_latency: float = 2.0,
    fault_rate: float = 0.0,
    today: _dt.date | None = None,
    sellers: int = 0,
    rate_limit: float = 0.0,
) -> SandboxHandle:
    """Build a world and serve it on 127.0.0.1:``port`` (0 = a free port) in a daemon thread.

    `sellers` adds that many small agency sellers ("Agency Seller 01"…, authorizations "agency-01"…, see
    `sandbox.credentials.agency_credentials`); `rate_limit` caps each profile's Ads calls per second (0 = no cap).
    """
    from sandbox.protocol import SandboxState
    from sandbox.server import make_server
    from sandbox.world import World

    world = World(seed=seed, scale=scale, today=today, sellers=sellers)
    state = SandboxState(world, report_latency=report_latency, fault_rate=fault_rate, seed=seed, rate_limit=rate_limit)
    httpd = make_server(state, port)
    thread = threading.Thread(
        target=httpd.serve_forever,
        name=f"sandbox-{httpd.server_address[1]}",
        kwargs={"poll_interval": 0.1},
        daemon=True,
    )
    thread.start()
    return SandboxHandle(httpd, thread, state)
