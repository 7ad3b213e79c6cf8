"""The machine a run was measured on, and the one table `python -m bench` prints (also as Markdown)."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu or platform.processor(),
        "memory_gb": mem_gb,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def met(v: bool | None) -> str:
    return "—" if v is None else ("yes" if v else "NO")


def text_table(rows: list[dict]) -> str:
    heads = ["metric", "value", "target", "met?"]
    cells = [[r["metric"], fmt(r["value"]), r.get("target") or "—", met(r.get("met"))] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]

    def line(cs):
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) if i == 1 else c.ljust(w)  # noqa: E731
            for i, (c, w) in enumerate(zip(cs, widths))
        )

    return "\n".join([line(heads), line(["-" * w for w in widths]), *(line(c) for c in cells)])


def markdown_table(rows: list[dict]) -> str:
    out = ["| metric | value | target | met? |", "|---|---:|---|---|"]
    for r in rows:
        out.append(f"| {r['metric']} | {fmt(r['value'])} | {r.get('target') or '—'} | {met(r.get('met'))} |")
    return "\n".join(out)


def pages_table(results: dict) -> str:
    """Issue 15's page table: each page's cold and warm run with the bare SQL it needs beside it."""
    pages = (results.get("pages") or {}).get("pages") or {}
    if not pages:
        return ""
    out = [
        "| page | cold | warm | bare SQL | warm / SQL | target (cold / warm) | met? |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for name, p in pages.items():
        t = p.get("targets_s") or {}
        ok = bool(p.get("cold_ok") and p.get("warm_ok") and not p.get("exception"))
        ratio = p.get("warm_over_sql")
        out.append(
            f"| {name} | {fmt(p.get('cold_worst_s'))} s | {fmt(p.get('warm_s'))} s | {fmt(p.get('bare_sql_s'))} s | "
            f"{'—' if ratio is None else f'{ratio:.2f}×'} | ≤ {fmt(t.get('cold'))} s / ≤ {fmt(t.get('warm'))} s "
            f"| {met(ok)} |"
        )
    return "\n".join(out)


def markdown_section(results: dict) -> str:
    """The README's tables and machine line from a results.json (python -m bench.report bench/results.json)."""
    m = results["machine"]
    pages = pages_table(results)
    return "\n".join(
        [
            markdown_table(results["table"]),
            "",
            *([pages, ""] if pages else []),
            f"Measured {m['date']} on {m['nproc']} cores ({m['cpu']}), {m['memory_gb']} GB RAM, Python {m['python']}; "
            f"load average {results.get('load_at_start')} at the start, {results.get('load_at_end')} at the end "
            "(a shared machine whose speed drifts through the day: compare figures within one run).",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    """python -m bench.report [bench/results.json] [--markdown]: the README's Performance section (Markdown, the
    default), or the plain-text table `python -m bench` prints with --text."""
    import argparse
    import json

    ap = argparse.ArgumentParser(prog="python -m bench.report")
    ap.add_argument("results", nargs="?", default="bench/results.json")
    ap.add_argument("--markdown", action="store_true", help="the README's section (the default)")
    ap.add_argument("--text", action="store_true", help="the plain table instead")
    a = ap.parse_args(argv)
    results = json.loads(Path(a.results).read_text())
    print(text_table(results["table"]) if a.text else markdown_section(results))


if __name__ == "__main__":
    main()
