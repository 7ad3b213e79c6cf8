"""CLI: ``python -m sandbox --port 8765 [--seed N] [--scale demo|large] [--report-latency S] [--fault-rate P]``
and ``python -m sandbox --credentials`` (demo client_id, client_secret, refresh_token as one JSON object)."""

from __future__ import annotations

import argparse
import json
import sys
import time


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sandbox", description="Local Amazon Ads / LWA / SP-API sandbox")
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0 = any free port)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--scale", choices=("demo", "large"), default="demo")
    p.add_argument("--report-latency", type=float, default=2.0, help="seconds until a report completes")
    p.add_argument("--fault-rate", type=float, default=0.0, help="probability of a random 429/500/503")
    p.add_argument("--sellers", type=int, default=0, help="extra small agency sellers (0-200), for load tests")
    p.add_argument("--rate-limit", type=float, default=0.0, help="Ads calls per second per profile (0 = no cap)")
    p.add_argument("--credentials", action="store_true", help="print the demo credentials as JSON and exit")
    a = p.parse_args(argv)
    try:  # any logging (and the server's stderr lines) goes through the dashboard's redaction filter
        from services.secrets.logsafe import install_redaction

        install_redaction()
    except ImportError:
        pass
    if a.credentials:
        from sandbox.credentials import demo_credentials

        print(json.dumps(demo_credentials()))
        return 0
    if not 0.0 <= a.fault_rate <= 1.0:
        p.error("--fault-rate must be between 0 and 1")
    if not 0 <= a.sellers <= 200:
        p.error("--sellers must be between 0 and 200")
    if a.rate_limit < 0:
        p.error("--rate-limit must be 0 (no cap) or more")
    from sandbox import allocator, start_sandbox

    allocator.tune()  # a process of its own: big report buffers get their own mappings, returned when freed
    h = start_sandbox(
        port=a.port,
        seed=a.seed,
        scale=a.scale,
        report_latency=a.report_latency,
        fault_rate=a.fault_rate,
        sellers=a.sellers,
        rate_limit=a.rate_limit,
    )
    print(f"Amazon sandbox listening on {h.url}  (seed {a.seed}, scale {a.scale}; Ctrl-C to stop)", flush=True)
    print(f"  token: {h.url}/auth/o2/token   consent: {h.url}/ap/oa   Ads/SP-API: {h.url}[/na|/eu|/fe]", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
    finally:
        h.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
