import math

import numpy as np
import pandas as pd
import pytest

from services.analytics import metrics as m


def test_safe_ratio_zero_and_missing_denominators():
    assert m.safe_ratio(10, 0) is None
    assert m.safe_ratio(10, None) is None
    assert m.safe_ratio(None, 5) is None
    assert m.safe_ratio(float("nan"), 5) is None
    assert m.safe_ratio(5, 20) == pytest.approx(0.25)


def test_ratio_series_never_infinite():
    s = m.ratio_series(pd.Series([10.0, 0.0, 5.0]), pd.Series([0.0, 0.0, 10.0]))
    assert s.isna().tolist() == [True, True, False]
    assert s.iloc[2] == pytest.approx(0.5)
    assert not np.isinf(s.fillna(0)).any()


def test_add_ratios_definitions():
    df = pd.DataFrame(
        {"cost": [20.0, 5.0], "sales": [100.0, 0.0], "clicks": [40, 0], "impressions": [1000, 0], "orders": [4, 0]}
    )
    out = m.add_ratios(df)
    assert out.loc[0, "acos"] == pytest.approx(0.2)
    assert out.loc[0, "roas"] == pytest.approx(5.0)
    assert out.loc[0, "ctr"] == pytest.approx(0.04)
    assert out.loc[0, "cpc"] == pytest.approx(0.5)
    assert out.loc[0, "cvr"] == pytest.approx(0.1)
    assert out.loc[0, "aov"] == pytest.approx(25.0)
    # zero denominators -> missing, shown as a dash
    assert math.isnan(out.loc[1, "acos"]) and math.isnan(out.loc[1, "cpc"]) and math.isnan(out.loc[1, "aov"])
    assert out.loc[1, "roas"] == 0.0
    assert m.format_metric("acos", out.loc[1, "acos"]) == m.MISSING


def test_totals_and_change():
    df = pd.DataFrame(
        {
            "cost": [10.0, 10.0],
            "sales": [50.0, 0.0],
            "orders": [2, 0],
            "clicks": [10, 10],
            "impressions": [100, 100],
            "units": [2, 0],
        }
    )
    t = m.totals(df)
    assert t["cost"] == 20.0 and t["sales"] == 50.0
    assert t["acos"] == pytest.approx(0.4)
    assert t["cvr"] == pytest.approx(0.1)
    assert "tacos" not in t  # total sales unknown: no TACoS rather than a wrong one
    assert m.change(120.0, 100.0) == pytest.approx(0.2)
    assert m.change(5.0, 0.0) is None
    assert m.change(None, 3.0) is None


def test_tacos_when_total_sales_known():
    t = m.totals(pd.DataFrame({"cost": [30.0], "total_sales": [300.0], "sales": [100.0]}).rename(columns={}))
    df = m.add_ratios(pd.DataFrame({"cost": [30.0], "total_sales": [300.0]}), ["tacos"])
    assert df.loc[0, "tacos"] == pytest.approx(0.1)
    assert t["acos"] == pytest.approx(0.3)


@pytest.mark.parametrize(
    "name,value,expected",
    [
        ("cost", 1234.5, "$1,234.50"),
        ("acos", 0.256, "25.6%"),
        ("roas", 3.456, "3.46×"),
        ("clicks", 12345, "12,345"),
        ("cpc", None, "—"),
        ("acos", float("inf"), "—"),
    ],
)
def test_format_metric(name, value, expected):
    assert m.format_metric(name, value) == expected


def test_money_format_by_currency():
    assert m.format_money(3.5, "GBP") == "£3.50"
    assert m.format_money(-3.5, "EUR") == "\u2212€3.50"  # a typographic minus before the symbol
    assert m.format_money(-26.140000000000327, "USD") == "\u2212$26.14"
    assert m.format_money(-0.001, "USD") == "$0.00"  # no "−$0.00"


@pytest.mark.parametrize(
    "name,value,currency,expected",
    [
        ("cost", 35443.4, "USD", "$35.4K"),
        ("sales", 178022.16, "GBP", "£178.0K"),
        ("impressions", 9044003, "USD", "9.0M"),
        ("cost", 950.5, "USD", "$950.50"),
        ("cost", 8347.66, "USD", "$8.3K"),
        ("clicks", 9999, "USD", "9,999"),
        ("acos", 0.199, "USD", "19.9%"),
        ("sales", None, "USD", "—"),
        ("cost", -12500, "EUR", "\u2212€12.5K"),
    ],
)
def test_format_compact_for_tiles(name, value, currency, expected):
    assert m.format_compact(name, value, currency) == expected
