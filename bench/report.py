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


def markdown_section(results: dict) -> str:
    """The README's table and machine line from a results.json (python -m bench.report bench/results.json)."""
    m = results["machine"]
    return "\n".join(
        [
            markdown_table(results["table"]),
            "",
            f"Measured {m['date']} on {m['nproc']} cores ({m['cpu']}), {m['memory_gb']} GB RAM, Python {m['python']}; "
            f"load average {results.get('load_at_start')} at the start, {results.get('load_at_end')} at the end "
            "(a shared machine: other people's tests were running).",
        ]
    )


if __name__ == "__main__":
    import json

    print(markdown_section(json.loads(Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results.json").read_text())))
