"""Files Seller Central accepts: the coupon bulk file and the Prime Exclusive Discount upload.

There is no API to create coupons, promotions or PEDs (promotions.md §2), so the form exports
these files. Columns:

- Coupon bulk file, one coupon per row: A–H exactly as the reference table names them
  ("ASIN list", "Discount type", "% off value", "Money-off value", "Title suffix", "Budget",
  "Start date", "End date"), then the two extra columns a coupon needs and the template
  probably holds but the reference could not confirm: "Customer segment" and "Once per customer".
  Values: ASINs ";"-separated, "Percentage Off" / "Money Off", dates YYYY-MM-DD, segment as
  Amazon's report spells it ("All (Default)", "Amazon Prime", "Amazon Student"), Yes/No.
- PED upload: "sku" and "Discount Type" (confirmed in published copies), plus "Discount Value"
  (the value column is not confirmed: check against a downloaded template).

CSV (a file people open) goes through `analytics.export.to_safe_csv`, formula guard included. XLSX (the
file uploaded to Amazon) goes through `analytics.export.text_xlsx`: every cell a typed text cell, so Excel
neither runs a formula nor turns a date or an ISBN-ASIN into a number, and Amazon receives the SKU or
title exactly as written (no guard apostrophe).
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import pandas as pd

from services.analytics.export import text_xlsx, to_safe_csv
from services.promotions.checks import _discount_type, _segment, normalize_asin, parse_number, split_ids
from services.promotions.drafts import PED_TYPES, REPORT_SEGMENT, CouponDraft, PedDraft
from services.promotions.rules import parse_date

COUPON_COLUMNS = [
    "ASIN list",
    "Discount type",
    "% off value",
    "Money-off value",
    "Title suffix",
    "Budget",
    "Start date",
    "End date",
]
COUPON_EXTRA_COLUMNS = ["Customer segment", "Once per customer"]
COUPON_FILE_COLUMNS = COUPON_COLUMNS + COUPON_EXTRA_COLUMNS
PED_FILE_COLUMNS = ["sku", "Discount Type", "Discount Value"]

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _fmt_num(v) -> str:
    n = parse_number(v)
    if n is None:
        return ""
    return f"{n:.2f}".rstrip("0").rstrip(".") if n != int(n) else str(int(n))


def coupon_row(d: CouponDraft) -> dict[str, str]:
    kind = _discount_type(d.discount_type) or "percent"
    start, end = parse_date(d.start_date), parse_date(d.end_date)
    seg = _segment(d.customer_segment) or "All"
    return {
        "ASIN list": ";".join(normalize_asin(a) for a in split_ids(d.asins)),
        "Discount type": "Percentage Off" if kind == "percent" else "Money Off",
        "% off value": _fmt_num(d.percent_off) if kind == "percent" else "",
        "Money-off value": f"{parse_number(d.money_off):.2f}"
        if kind == "money" and parse_number(d.money_off) is not None
        else "",
        "Title suffix": (d.title_suffix or "").strip(),
        "Budget": _fmt_num(d.budget),
        "Start date": start.isoformat() if start else "",
        "End date": end.isoformat() if end else "",
        "Customer segment": REPORT_SEGMENT[seg],
        "Once per customer": "Yes" if d.once_per_customer else "No",
    }


def coupon_bulk_frame(drafts: Iterable[CouponDraft]) -> pd.DataFrame:
    """One coupon per row, every cell text, columns exactly COUPON_FILE_COLUMNS."""
    return pd.DataFrame([coupon_row(d) for d in drafts], columns=COUPON_FILE_COLUMNS, dtype=object)


def ped_frame(draft: PedDraft) -> pd.DataFrame:
    dtype = PED_TYPES.get(str(draft.discount_type or "").strip().lower(), "Percentage Off")
    value = _fmt_num(draft.discount_value)
    rows = [{"sku": s.strip(), "Discount Type": dtype, "Discount Value": value} for s in split_ids(draft.skus)]
    return pd.DataFrame(rows, columns=PED_FILE_COLUMNS, dtype=object)


def to_xlsx(df: pd.DataFrame, sheet: str = "Template") -> bytes:
    """XLSX bytes for Seller Central: every cell typed text, exactly as written (no formula, no apostrophe)."""
    frame = df.astype(object).where(df.notna(), "")
    return text_xlsx([str(c) for c in frame.columns], frame.itertuples(index=False), sheet)


def coupon_bulk_csv(drafts: Iterable[CouponDraft]) -> bytes:
    return to_safe_csv(coupon_bulk_frame(drafts))


def coupon_bulk_xlsx(drafts: Iterable[CouponDraft]) -> bytes:
    return to_xlsx(coupon_bulk_frame(drafts))


def ped_csv(draft: PedDraft) -> bytes:
    return to_safe_csv(ped_frame(draft))


def ped_xlsx(draft: PedDraft) -> bytes:
    return to_xlsx(ped_frame(draft))


def read_back(data: bytes, fmt: str = "csv") -> pd.DataFrame:
    """Read an exported file as text (for tests and for the page's preview)."""
    if fmt == "xlsx":
        return pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False)
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")


def coupon_file_name(marketplace: str, today, fmt: str = "csv") -> str:
    from services.analytics.export import export_filename

    return export_filename("coupons-bulk", marketplace, today, ext=fmt)
