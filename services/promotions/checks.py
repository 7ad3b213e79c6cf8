"""Parsing and checking of the form's free text and id lists: hostile text (formula starts, markup, emoji, bidi
controls, 10k-character strings) becomes an error or a warning with a plain message, never an exception.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from services.promotions.drafts import (
    ASIN_RE,
    BIDI_CONTROLS,
    DISCOUNT_TYPES,
    FORMULA_START,
    ISBN10_RE,
    MARKUP_RE,
    MAX_TEXT,
    SEGMENTS,
    SKU_RE,
    ValidationResult,
)

# ---------------------------------------------------------------------------------------- parsing helpers


def _short(text: str, n: int = 40) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= n else text[: n - 1] + "…"


def parse_number(value: Any) -> float | None:
    """A finite number from a widget value ('1,234.50', ' 20 ', 20, '20%'); None when it is not one."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        f = float(value)
    else:
        text = str(value).strip()
        if not text or len(text) > 32:
            return None
        text = text.replace(",", "").replace("%", "").strip()
        text = re.sub(r"^[$£€¥₹]", "", text).strip()
        try:
            f = float(text)
        except ValueError:
            return None
    if math.isnan(f) or math.isinf(f):
        return None
    return f


def split_ids(value: Any) -> list[str]:
    """ASIN/SKU list from a list or from text separated by ; , spaces or new lines (order kept)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        parts = [p for v in value for p in re.split(r"[;,\s]+", str(v))]
    else:
        parts = re.split(r"[;,\s]+", str(value))
    return [p.strip() for p in parts if p and p.strip()]


def normalize_asin(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().upper()


def is_valid_asin(text: str) -> bool:
    """B0 + 8 letters/digits, or a 10-digit ISBN (books carry their ISBN-10 as ASIN)."""
    return bool(ASIN_RE.match(text) or ISBN10_RE.match(text))


def _has_emoji(text: str) -> bool:
    for ch in text:
        o = ord(ch)
        if (
            o >= 0x1F000
            or 0x2600 <= o <= 0x27BF
            or 0x2B00 <= o <= 0x2BFF
            or 0xFE00 <= o <= 0xFE0F
            or ch == "\u200d"
            or unicodedata.category(ch) == "Cs"
        ):
            return True
    return False


def _has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def check_text(
    res: ValidationResult, f: str, value: Any, *, label: str, max_len: int, required: bool, allow_emoji: bool = False
) -> str:
    """Common checks of any free text; returns the cleaned text (surrounding spaces removed)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        value = str(value)
    text = value.strip()
    if not text:
        if required:
            res.error(f, f"{label} is required.")
        return ""
    if len(text) > max(max_len, MAX_TEXT):
        res.error(f, f"{label} is {len(text):,} characters long; the limit is {max_len}.")
        return text
    if len(text) > max_len:
        res.error(f, f"{label} is {len(text)} characters long; the limit is {max_len}.")
    if text.startswith(FORMULA_START):
        res.error(f, f"{label} can't start with {text[0]!r}: spreadsheets would read it as a formula.")
    if MARKUP_RE.search(text):
        res.error(
            f,
            f"{label} can't contain HTML, markup or entities such as “{_short(MARKUP_RE.search(text).group(0), 20)}”.",
        )
    if any(ch in BIDI_CONTROLS for ch in text):
        res.error(f, f"{label} contains invisible text-direction controls; type it again without them.")
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in BIDI_CONTROLS and ch not in "\u200d" for ch in text):
        res.error(f, f"{label} contains line breaks or invisible control characters.")
    if not allow_emoji and _has_emoji(text):
        res.error(f, f"{label} can't contain emoji or pictographic symbols; Amazon rejects them.")
    if _has_rtl(text):
        res.warn(
            f,
            f"{label} contains right-to-left script (Arabic/Hebrew); Amazon rejects text in a language "
            "the marketplace doesn't support.",
        )
    return text


def check_ids(
    res: ValidationResult, f: str, value: Any, *, known: Iterable[str] | None, max_count: int, what: str = "ASIN"
) -> list[str]:
    """Well-formed, unique, known to the account. Returns the normalised, de-duplicated list."""
    if isinstance(value, str) and len(value) > 200_000:
        res.error(f, f"The {what} list is too long to read.")
        return []
    raw = split_ids(value)
    if not raw:
        res.error(f, f"Add at least one {what}.")
        return []
    out: list[str] = []
    seen: set[str] = set()
    bad: list[str] = []
    for item in raw:
        norm = normalize_asin(item) if what == "ASIN" else item.strip()
        if what == "ASIN" and not is_valid_asin(norm):
            bad.append(item)
            continue
        if what == "SKU" and not SKU_RE.match(norm):
            bad.append(item)
            continue
        if norm in seen:
            continue
        seen.add(norm)
        out.append(norm)
    if bad:
        shown = ", ".join(_short(b, 20) for b in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        if what == "ASIN":
            res.error(
                f,
                f"Not a valid ASIN: {shown}. An ASIN is B0 followed by 8 letters or digits "
                "(or a 10-digit ISBN for books).",
            )
        else:
            res.error(f, f"Not a valid SKU: {shown}. A SKU is 1–40 printable characters.")
    if len(raw) - len(bad) > len(out):
        res.warn(f, f"Duplicate {what}s were removed.")
    if len(out) > max_count:
        res.error(f, f"At most {max_count:,} {what}s per promotion; this list has {len(out):,}.")
    if known is not None and out:
        known_set = {normalize_asin(k) if what == "ASIN" else str(k) for k in known}
        unknown = [a for a in out if a not in known_set]
        if unknown:
            shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            res.error(f, f"Not in this account's catalogue: {shown}.")
    return out


def _segment(value: Any) -> str | None:
    if value is None:
        return "All"
    return SEGMENTS.get(str(value).strip().lower()[:40])


def _discount_type(value: Any) -> str | None:
    if value is None:
        return None
    return DISCOUNT_TYPES.get(str(value).strip().lower()[:40])
