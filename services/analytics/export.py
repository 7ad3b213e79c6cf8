"""The one safe CSV writer.

Search terms are typed by shoppers and campaign names by anyone with console
access; a cell starting with `=`, `+`, `-`, `@`, tab or CR is run as a formula by
Excel and Sheets (OWASP "CSV Injection", CWE-1236). Every export goes through
`to_safe_csv`, which prefixes such text cells with `'` and writes UTF-8 with a BOM
so Excel shows accents, emoji and right-to-left text correctly.
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_cell(value: object) -> object:
    """Prefix formula-looking text with an apostrophe; numbers stay numbers (-1.5 is not a formula)."""
    if isinstance(value, str):
        cleaned = value.replace("\x00", "")
        if cleaned.startswith(FORMULA_TRIGGERS):
            return "'" + cleaned
        return cleaned
    return value


def neutralize_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of df whose text cells and headers are safe for spreadsheets (shared with the XLSX writers)."""
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
            continue
        out[col] = series.map(neutralize_cell)
    out.columns = [neutralize_cell(str(c)) for c in out.columns]
    return out


def to_safe_csv(df: pd.DataFrame) -> bytes:
    """CSV bytes, UTF-8 with BOM, every text cell neutralised."""
    # CRLF line ends (RFC 4180) also make pandas quote cells that contain a bare CR.
    return neutralize_frame(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "export"


def export_filename(
    table: str, profile: str, start: date | None = None, end: date | None = None, ext: str = "csv"
) -> str:
    """`campaigns_us-1234_2026-10-01_2026-10-30.csv`: the profile and range travel with the file."""
    parts = [_slug(table), _slug(profile)]
    if start is not None:
        parts.append(start.isoformat())
    if end is not None:
        parts.append(end.isoformat())
    return "_".join(parts) + "." + ext
