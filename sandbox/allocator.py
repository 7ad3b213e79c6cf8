"""Hand freed memory back to the operating system (glibc only; a no-op elsewhere).

Why: the sandbox builds each report from large, short-lived numpy arrays and row dicts on several worker threads.
glibc keeps freed memory in per-thread arenas and raises its mmap threshold after every large free, so those
transient buffers end up on the heap, where they stay reserved after the report is written: the process's resident
size climbed with every report of a 95-day large sync (past 2 GB) although its live data did not. A fixed mmap
threshold gives big arrays their own mappings (returned on free), and `trim()` after each report returns the free
heap pages of every arena. Neither changes a single number the sandbox serves.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 20  # allocations of 1 MB and more get their own mapping, released as soon as they are freed
TRIM_THRESHOLD = 32 << 20


def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt  # noqa: B018 - glibc-only symbols: absent on musl or macOS
        libc.malloc_trim  # noqa: B018
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _libc()


def tune() -> bool:
    """Fix the mmap and trim thresholds (glibc would raise them as the process frees large blocks). True if set."""
    if _LIBC is None:
        return False
    ok = _LIBC.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return _LIBC.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok


def trim() -> None:
    """Return the free pages of every malloc arena to the operating system."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
