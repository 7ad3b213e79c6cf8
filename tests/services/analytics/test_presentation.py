"""The presentation registry: every table the analytics layer returns has readable headers, and a downloaded CSV
carries the page's headers with money, percent and id formats a spreadsheet reads right."""

import io

import pandas as pd
import pytest

from services import analytics
from services.analytics import presentation
from services.analytics.export import to_safe_csv
from services.store import open_db


@pytest.fixture(scope="module")
def ctx(demo_store):
    path, _, _account_id, sandbox = demo_store
    db = open_db(path)
    us = next(p for p in sandbox.world.profiles() if p["countryCode"] == "US")
    pid = str(us["profileId"])
    first, last = analytics.data_span(db, pid)
    return db, analytics.Query(pid, first, last, 7)


def test_every_column_of_the_analytics_tables_is_registered(ctx):
    db, q = ctx
    campaigns = analytics.campaigns_table(db, q)
    campaign_id = campaigns["campaign_id"].iloc[0]
    groups = analytics.ad_groups_table(db, q, campaign_id)
    frames = [
        campaigns,
        groups,
        analytics.targets_table(db, q, groups["ad_group_id"].iloc[0]),
        analytics.placements_table(db, q, campaign_id),
        analytics.search_terms_table(db, q),
        analytics.products_table(db, q),
        analytics.halo_table(db, q),
    ]
    missing = {c for df in frames for c in df.columns if c not in presentation.COLUMNS}
    assert not missing, f"columns without a header in the registry: {sorted(missing)}"


def test_enum_values_read_as_in_amazons_console():
    df = pd.DataFrame(
        {
            "bidding_strategy": ["LEGACY_FOR_SALES", "AUTO_FOR_SALES", "MANUAL"],
            "match_type": ["query_high_rel_matches", "EXACT", "something new"],
        }
    )
    out = presentation.readable(df)
    assert out["bidding_strategy"].tolist() == ["Dynamic bids - down only", "Dynamic bids - up and down", "Fixed bids"]
    assert out["match_type"].tolist() == ["Close match", "Exact", "something new"]
    assert df["match_type"].iloc[0] == "query_high_rel_matches"  # the data itself is untouched


def test_export_frame_headers_money_percent_and_ids():
    df = pd.DataFrame(
        {
            "campaign_id": [123456789012345678, None],
            "campaign_name": ["=SUM(A1)", "Kinder­spielzeug"],
            "cost": [1234.5, -26.144],
            "acos": [0.182, None],
            "clicks": [10, 3],
            "sales_trend": [[1, 2], [3, 4]],
        }
    ).astype({"campaign_id": "object"})
    back = pd.read_csv(io.BytesIO(to_safe_csv(presentation.export_frame(df))), dtype=str, keep_default_na=False)
    assert list(back.columns) == ["Campaign ID", "Campaign", "Spend", "ACOS", "Clicks"]
    assert back["Campaign ID"].tolist() == ["123456789012345678", ""]
    assert back["Spend"].tolist() == ["1234.50", "-26.14"]
    assert back["ACOS"].tolist() == ["18.20%", ""]
    assert back["Campaign"].iloc[0].startswith("'")  # the formula guard still applies after the registry


def test_unregistered_column_gets_a_sentence_cased_header_and_raw_names_lists_field_names():
    assert presentation.label("some_new_field") == "Some new field"
    names = presentation.raw_names()
    assert {"cvr_shrunk", "type_label", "expected_spend_change", "cost"} <= names
    assert "Spend" not in names
