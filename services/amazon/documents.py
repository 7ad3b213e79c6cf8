"""Report documents read as streams: gzip inflated block by block and JSON parsed incrementally (ijson), so a
report of gigabytes passes through a few hundred kilobytes of memory. Used by the Ads and SP-API clients.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import zlib
from collections.abc import Iterator
from typing import Any

import ijson
import requests

from services.errors import (
    AmazonUnavailable,
)

logger = logging.getLogger(__name__)


def decode_json_payload(content: bytes) -> Any:
    """Report files are gzip (unless a proxy already inflated them) holding UTF-8 JSON."""
    if content[:2] == b"\x1f\x8b":
        content = gzip.decompress(content)
    return json.loads(content.decode("utf-8-sig"))


STREAM_BLOCK = 1 << 16


class _InflatingReader(io.RawIOBase):
    """A file-like view of an HTTP body that is inflated as it is read: gzip (one or more members) or, when a proxy
    already inflated it, plain JSON. A byte-order mark is dropped. At most one block of input and one block of output
    are held, so a report of gigabytes passes through a few hundred kilobytes of memory."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self._blocks = iter(blocks)
        self._inflate: Any = None  # a decompressobj, False for a plain body, None before the first bytes
        self._pending = b""
        self._pos = 0
        self.first_byte: bytes | None = None

    def readable(self) -> bool:
        return True

    def _next_raw(self) -> bytes | None:
        for block in self._blocks:
            if block:
                return block
        return None

    def _inflated(self) -> bytes | None:
        """The next piece of the inflated body (b"" when a block gave nothing yet), None at its end."""
        d = self._inflate
        if d and d.unconsumed_tail:
            return d.decompress(d.unconsumed_tail, STREAM_BLOCK)
        if d and d.eof and d.unused_data:  # the next gzip member
            rest = d.unused_data
            self._inflate = d = zlib.decompressobj(wbits=31)
            return d.decompress(rest, STREAM_BLOCK)
        raw = self._next_raw()
        if raw is None:
            if d and not d.eof:
                raise EOFError("the gzip stream ended early")
            return None
        if d is None:
            self._inflate = d = zlib.decompressobj(wbits=31) if raw[:2] == b"\x1f\x8b" else False
        if d is False:
            return raw
        if d.eof:  # a member ended exactly at a block boundary
            self._inflate = d = zlib.decompressobj(wbits=31)
        return d.decompress(raw, STREAM_BLOCK)

    def readinto(self, buffer) -> int:
        while self._pos >= len(self._pending):
            out = self._inflated()
            if out is None:
                return 0
            if self.first_byte is None and out:
                out = out.removeprefix(b"\xef\xbb\xbf")
                stripped = out.lstrip()
                if stripped:
                    self.first_byte = stripped[:1]
            self._pending, self._pos = out, 0
        n = min(len(buffer), len(self._pending) - self._pos)
        buffer[:n] = memoryview(self._pending)[self._pos : self._pos + n]
        self._pos += n
        return n


def iter_json_rows(blocks: Iterator[bytes]) -> Iterator[dict]:
    """The rows of a report file (a JSON array of objects), parsed incrementally by ijson's C backend.

    Numbers come as int/float (never Decimal), as `json.loads` gave them. Anything but an array of objects is an
    unreadable report (AmazonUnavailable, retried by the sync), never a silently empty one."""
    reader = _InflatingReader(blocks)
    not_rows = "The report Amazon delivered was not a list of rows. Try again later."
    try:
        for row in ijson.items(io.BufferedReader(reader, STREAM_BLOCK), "item", use_float=True):
            if reader.first_byte != b"[" or not isinstance(row, dict):
                raise AmazonUnavailable(not_rows)
            yield row
    except (ijson.JSONError, zlib.error, OSError, EOFError, ValueError, requests.RequestException) as exc:
        raise AmazonUnavailable("The report Amazon delivered could not be read. Try again later.") from exc
    if reader.first_byte != b"[":
        raise AmazonUnavailable(not_rows)


def read_json_document(blocks: Iterator[bytes]) -> Any:
    """A whole JSON document parsed from the stream as it arrives (no copy of the body as bytes or text): for
    SP-API documents, small objects whose keys decide what they mean."""
    try:
        for document in ijson.items(io.BufferedReader(_InflatingReader(blocks), STREAM_BLOCK), "", use_float=True):
            return document
    except (ijson.JSONError, zlib.error, OSError, EOFError, ValueError, requests.RequestException) as exc:
        raise AmazonUnavailable("The report Amazon delivered could not be read. Try again later.") from exc
    raise AmazonUnavailable("The report Amazon delivered was empty. Try again later.")
