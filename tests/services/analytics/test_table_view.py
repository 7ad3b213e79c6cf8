import pandas as pd
import pytest

from services.analytics import table_view as tv


def _campaigns():
    return pd.DataFrame(
        {
            "campaign_id": ["1", "2", "3"],
            "campaign_name": ["Yoga Mats - Exact", "Backpacks - Auto", "Yoga Mats - Auto"],
            "state": ["ENABLED", "PAUSED", "ENABLED"],
            "budget": [50.0, 20.0, 30.0],
            "cost": [30.0, 10.0, 0.0],
            "sales": [100.0, 0.0, 20.0],
            "orders": [4, 0, 1],
            "clicks": [60, 20, 5],
            "impressions": [6000, 2000, 500],
            "acos": [0.3, None, 0.0],
            "ctr": [0.01, 0.01, 0.01],
        }
    )


def test_reading_order_puts_name_spend_sales_acos_orders_first():
    shown = tv.arrange(_campaigns(), tv.CAMPAIGN_COLUMNS)
    assert list(shown.columns[:5]) == ["campaign_name", "cost", "sales", "acos", "orders"]
    assert shown.columns[-1] == "campaign_id"


def test_totals_row_sums_and_recomputes_ratios():
    df = tv.with_totals(_campaigns(), "campaign_name", "campaigns")
    total = df.iloc[0]
    assert total["campaign_name"] == "Total · 3 campaigns" and tv.is_total(total, "campaign_name")
    assert total["cost"] == 40.0 and total["sales"] == 120.0 and total["orders"] == 5 and total["budget"] == 100.0
    assert total["acos"] == pytest.approx(40 / 120)  # from the sums, not the mean of the rows' ACOS
    assert total["ctr"] == pytest.approx(85 / 8500)
    assert pd.isna(total["state"]) and pd.isna(total["campaign_id"])
    assert len(df) == 4 and not any(tv.is_total(r, "campaign_name") for _, r in df.iloc[1:].iterrows())


def test_search_and_filters():
    df = _campaigns()
    assert list(tv.search(df, "  yoga ", ["campaign_name"])["campaign_id"]) == ["1", "3"]
    assert list(tv.search(df, "(", ["campaign_name"])["campaign_id"]) == []  # typed text, not a pattern
    assert tv.search(df, "", ["campaign_name"]).equals(df)
    assert list(tv.keep_values(df, "state", ["PAUSED"])["campaign_id"]) == ["2"]
    assert len(tv.keep_values(df, "state", [])) == 3
