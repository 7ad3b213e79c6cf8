"""The bulk file round-trips through openpyxl with exactly the reference's headers and rows."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
from openpyxl import load_workbook

from services.optimizer import bulksheet

EXPECTED_HEADERS = [
    "Product",
    "Entity",
    "Operation",
    "Campaign ID",
    "Ad Group ID",
    "Portfolio ID",
    "Ad ID",
    "Keyword ID",
    "Product Targeting ID",
    "Campaign Name",
    "Ad Group Name",
    "Start Date",
    "End Date",
    "Targeting Type",
    "State",
    "Daily Budget",
    "SKU",
    "ASIN",
    "Ad Group Default Bid",
    "Bid",
    "Keyword Text",
    "Native Language Keyword",
    "Native Language Locale",
    "Match Type",
    "Bidding Strategy",
    "Placement",
    "Percentage",
    "Product Targeting Expression",
]


def sugg(**kw):
    base = {
        "type": None,
        "entity_kind": None,
        "entity_id": None,
        "campaign_id": None,
        "ad_group_id": None,
        "search_term": None,
        "dest_campaign_id": None,
        "dest_ad_group_id": None,
        "proposed_value": None,
        "current_value": None,
        "rule": None,
    }
    base.update(kw)
    return base


SUGGESTIONS = pd.DataFrame(
    [
        sugg(
            type="bid",
            entity_kind="keyword",
            entity_id="111111111111111111",
            campaign_id="900000000000001",
            ad_group_id="800000000000001",
            proposed_value=0.87,
        ),
        sugg(
            type="bid", entity_kind="target", entity_id="222", campaign_id="901", ad_group_id="801", proposed_value=0.4
        ),
        sugg(type="negative", campaign_id="901", ad_group_id="801", search_term='=HYPERLINK("x") mat'),
        sugg(
            type="harvest",
            campaign_id="902",
            ad_group_id="802",
            dest_campaign_id="903",
            dest_ad_group_id="803",
            search_term="cork yoga mat",
            proposed_value=1.05,
            rule="harvest_exact+isolate",
        ),
        sugg(type="budget", entity_id="904", campaign_id="904", current_value=20.0, proposed_value=24.0),
        sugg(type="placement", entity_id="904", campaign_id="904", current_value=10.0, proposed_value=30.0),
        # the same negative again (from another rule): one row per entity
        sugg(type="negative", campaign_id="902", ad_group_id="802", search_term="Cork Yoga Mat"),
    ]
)
CAMPAIGNS = pd.DataFrame([{"campaign_id": "904", "portfolio_id": "555", "end_date": "2027-01-31"}])


def row(**values):
    r = {h: None for h in EXPECTED_HEADERS}
    r["Product"] = "Sponsored Products"
    r.update(values)
    return [r[h] for h in EXPECTED_HEADERS]


EXPECTED_ROWS = [
    row(
        Entity="Keyword",
        Operation="Update",
        **{
            "Campaign ID": "900000000000001",
            "Ad Group ID": "800000000000001",
            "Keyword ID": "111111111111111111",
            "Bid": 0.87,
        },
    ),
    row(
        Entity="Product Targeting",
        Operation="Update",
        **{"Campaign ID": "901", "Ad Group ID": "801", "Product Targeting ID": "222", "Bid": 0.4},
    ),
    row(
        Entity="Negative Keyword",
        Operation="Create",
        State="enabled",
        **{
            "Campaign ID": "901",
            "Ad Group ID": "801",
            "Keyword Text": '=HYPERLINK("x") mat',  # exactly as the shopper typed it: Amazon gets no apostrophe
            "Match Type": "negativeExact",
        },
    ),
    row(
        Entity="Keyword",
        Operation="Create",
        State="enabled",
        Bid=1.05,
        **{"Campaign ID": "903", "Ad Group ID": "803", "Keyword Text": "cork yoga mat", "Match Type": "exact"},
    ),
    row(
        Entity="Campaign",
        Operation="Update",
        **{"Campaign ID": "904", "Portfolio ID": "555", "End Date": "20270131", "Daily Budget": 24.0},
    ),
    row(
        Entity="Bidding Adjustment",
        Operation="Update",
        Placement="Placement Top",
        Percentage=30,
        **{"Campaign ID": "904"},
    ),
    row(
        Entity="Negative Keyword",
        Operation="Create",
        State="enabled",
        **{"Campaign ID": "902", "Ad Group ID": "802", "Keyword Text": "Cork Yoga Mat", "Match Type": "negativeExact"},
    ),
]


def test_bulk_file_round_trip():
    data = bulksheet.to_bulk_xlsx(SUGGESTIONS, CAMPAIGNS)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Sponsored Products Campaigns"]
    rows = [list(r) for r in wb["Sponsored Products Campaigns"].iter_rows(values_only=True)]
    assert rows[0] == EXPECTED_HEADERS
    assert rows[1:] == EXPECTED_ROWS


def test_bulk_text_cells_are_typed_text_and_never_formulas():
    """Amazon must receive `=HYPERLINK(…) mat` as keyword text: a string cell, no formula, no guard apostrophe."""
    data = bulksheet.to_bulk_xlsx(SUGGESTIONS, CAMPAIGNS)
    ws = load_workbook(io.BytesIO(data))["Sponsored Products Campaigns"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value is not None]
    assert all(c.data_type in ("s", "n") for c in cells)  # no "f" (formula)
    texts = [c.value for c in cells if c.data_type == "s"]
    assert '=HYPERLINK("x") mat' in texts and not any(t.startswith("'") for t in texts)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml


def test_one_row_per_entity():
    frame = bulksheet.bulk_frame(SUGGESTIONS, CAMPAIGNS)
    negs = frame[frame["Entity"] == "Negative Keyword"]
    assert len(negs) == len(negs.drop_duplicates(["Ad Group ID"]))
    assert list(frame.columns) == EXPECTED_HEADERS
