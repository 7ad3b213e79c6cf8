"""The one safe CSV writer (files for people), and the text-only XLSX writer (files for Amazon).

Search terms are typed by shoppers and campaign names by anyone with console
access; a cell starting with `=`, `+`, `-`, `@`, tab or CR is run as a formula by
Excel and Sheets (OWASP "CSV Injection", CWE-1236). Every export goes through
`to_safe_csv`, which prefixes such text cells with `'` and writes UTF-8 with a BOM
so Excel shows accents, emoji and right-to-left text correctly.

Files uploaded to Amazon (bulk operations, coupon and PED files) must carry the seller's text exactly:
an apostrophe there would reach Amazon as part of a keyword or SKU (`'+SUM…`, `'-ABC`). `text_xlsx`
writes every cell as a typed string cell instead, so no spreadsheet can read it as a formula and
nothing is added to the text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import date

import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A negative amount written as text ("-26.14", "-3.50%": the registry's money and percent cells) is a number to a
# spreadsheet, not a formula: it stays as it is. Anything more ("-2+3") is guarded.
_PLAIN_NUMBER = re.compile(r"-\d+(?:\.\d+)?%?")


def neutralize_cell(value: object) -> object:
    """Prefix formula-looking text with an apostrophe; numbers stay numbers (-1.5 is not a formula), also when
    they come as text ("-26.14", "-12.50%": the presentation layer writes money and percentages as text)."""
    if isinstance(value, str):
        cleaned = value.replace("\x00", "")
        if cleaned.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(cleaned):
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


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # XML 1.0 cannot hold these; openpyxl refuses them


def text_xlsx(columns: Sequence[str], rows: Iterable[Sequence[object]], sheet: str) -> bytes:
    """XLSX bytes for Amazon: every text a string cell (type "s", format "@"), never a formula, no apostrophe.

    Numbers given as numbers stay numbers; everything else is written as its text.
    Empty cells (None, NaN, "") stay empty. Widths follow the longest value (capped) so the file reads well."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    widths = [len(str(c)) for c in columns]
    for r, values in enumerate([list(columns), *map(list, rows)], start=1):
        for c, value in enumerate(values, start=1):
            if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
                continue
            cell = ws.cell(row=r, column=c)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cell.value = value  # a number (a bid, a budget) cannot be a formula: Amazon reads it as a number
                widths[c - 1] = max(widths[c - 1], len(str(value)))
                continue
            text = _ILLEGAL_XML.sub("", str(value))
            cell.value = text  # openpyxl types "=…" as a formula here …
            cell.data_type = "s"  # … so the type is set back to a plain string, written as text
            cell.number_format = "@"
            widths[c - 1] = max(widths[c - 1], min(len(text), 60))
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = width + 2
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


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
