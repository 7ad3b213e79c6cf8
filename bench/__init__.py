"""Benchmarks (not timed tests): each module exposes run() -> dict."""
