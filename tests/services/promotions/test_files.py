import io
import zipfile
from datetime import date

import openpyxl

from services.promotions.drafts import CouponDraft, PedDraft
from services.promotions.files import (
    COUPON_FILE_COLUMNS,
    PED_FILE_COLUMNS,
    coupon_bulk_csv,
    coupon_bulk_frame,
    coupon_bulk_xlsx,
    ped_csv,
    ped_xlsx,
    read_back,
)

REFERENCE_COUPON_COLUMNS = [
    "ASIN list",
    "Discount type",
    "% off value",
    "Money-off value",
    "Title suffix",
    "Budget",
    "Start date",
    "End date",
]  # promotions.md §2, columns A–H


def drafts():
    return [
        CouponDraft(
            asins=["B0ABCDEF12", "b0zzzzzzz9"],
            discount_type="percent",
            percent_off=20,
            title_suffix="Acme garden hose",
            budget=500,
            start_date=date(2026, 3, 5),
            end_date=date(2026, 4, 1),
            customer_segment="Prime",
            once_per_customer=True,
        ),
        CouponDraft(
            asins="0306406152",
            discount_type="money",
            money_off=3.5,
            title_suffix="=HYPERLINK(1)",
            budget="1000",
            start_date="2026-03-10",
            end_date="2026-03-20",
            once_per_customer=False,
        ),
    ]


def test_coupon_columns_are_the_reference_a_to_h_then_extras():
    assert COUPON_FILE_COLUMNS[:8] == REFERENCE_COUPON_COLUMNS
    assert COUPON_FILE_COLUMNS[8:] == ["Customer segment", "Once per customer"]


def test_coupon_csv_reads_back_with_exact_columns_and_values():
    df = read_back(coupon_bulk_csv(drafts()))
    assert list(df.columns) == COUPON_FILE_COLUMNS
    assert len(df) == 2
    r0, r1 = df.iloc[0], df.iloc[1]
    assert r0["ASIN list"] == "B0ABCDEF12;B0ZZZZZZZ9"
    assert r0["Discount type"] == "Percentage Off" and r0["% off value"] == "20" and r0["Money-off value"] == ""
    assert r0["Start date"] == "2026-03-05" and r0["End date"] == "2026-04-01" and r0["Budget"] == "500"
    assert r0["Customer segment"] == "Amazon Prime" and r0["Once per customer"] == "Yes"
    assert r1["ASIN list"] == "0306406152"  # ISBN kept as text, leading zero intact
    assert r1["Discount type"] == "Money Off" and r1["Money-off value"] == "3.50" and r1["% off value"] == ""
    assert r1["Title suffix"] == "'=HYPERLINK(1)"  # formula neutralised
    assert r1["Customer segment"] == "All (Default)" and r1["Once per customer"] == "No"


def test_coupon_csv_is_utf8_bom():
    assert coupon_bulk_csv(drafts()).startswith(b"\xef\xbb\xbf")


def test_coupon_xlsx_reads_back_with_exact_columns_and_text_cells():
    data = coupon_bulk_xlsx(drafts())
    df = read_back(data, "xlsx")
    assert list(df.columns) == COUPON_FILE_COLUMNS
    assert df.iloc[1]["ASIN list"] == "0306406152"
    assert df.iloc[1]["Title suffix"] == "=HYPERLINK(1)"  # Amazon gets the title as typed, no guard apostrophe
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.value is None or (isinstance(cell.value, str) and cell.data_type == "s")  # never "f"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()  # no formula stored anywhere


def test_empty_frame_still_has_columns():
    assert list(coupon_bulk_frame([]).columns) == COUPON_FILE_COLUMNS


def test_ped_file_columns_and_rows():
    d = PedDraft(name="PED", skus=["SKU-1", "@SKU-2"], discount_type="percent", discount_value=15)
    for fmt, data in (("csv", ped_csv(d)), ("xlsx", ped_xlsx(d))):
        df = read_back(data, fmt)
        assert list(df.columns) == PED_FILE_COLUMNS == ["sku", "Discount Type", "Discount Value"]
        # the CSV is for people (formula guard); the XLSX is for Amazon (the SKU exactly, as a text cell)
        assert df["sku"].tolist() == (["SKU-1", "'@SKU-2"] if fmt == "csv" else ["SKU-1", "@SKU-2"])
        assert set(df["Discount Type"]) == {"Percentage Off"} and set(df["Discount Value"]) == {"15"}
