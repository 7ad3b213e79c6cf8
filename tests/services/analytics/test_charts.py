import json
from datetime import date, timedelta

import pandas as pd

from services.analytics.charts import placement_figure, trend_figure


def _daily(n=14):
    d0 = date(2026, 11, 1)
    return pd.DataFrame(
        {"date": [d0 + timedelta(days=i) for i in range(n)], "cost": [10.0] * n, "sales": [40.0] * (n - 1) + [0.0]}
    )


def test_trend_has_spend_sales_and_acos_with_missing_for_zero_sales():
    fig = json.loads(trend_figure(_daily(), settling=[date(2026, 11, 12), date(2026, 11, 14)]).to_json())
    names = [t["name"] for t in fig["data"]]
    assert names[:3] == ["Spend (USD)", "Sales (USD)", "ACOS %"]
    acos = fig["data"][2]["y"]
    assert acos[0] == 0.25 and acos[-1] is None  # no sales: a gap, not infinity
    # the ACOS axis reads in whole percentages ("18%"), never raw numbers such as 18.01
    assert fig["layout"]["yaxis2"]["tickformat"] == ".0%" and fig["data"][2]["hovertemplate"] == "%{y:.1%}"
    assert fig["layout"]["yaxis2"]["tickmode"] == "auto"  # not synced to the spend axis's grid (18.01, 23%)
    assert fig["layout"]["shapes"][0]["type"] == "rect"  # settling days shaded


def test_weekly_grain_sums_weeks():
    fig = json.loads(trend_figure(_daily(14), grain="Weekly").to_json())
    spend = fig["data"][0]["y"]
    assert sum(spend) == 140.0 and len(spend) <= 3


def test_change_markers():
    changes = pd.DataFrame({"applied_at": ["2026-11-05T10:00:00", "2026-11-05T11:00:00", "2026-11-09T09:00:00"]})
    fig = json.loads(trend_figure(_daily(), changes=changes).to_json())
    marker = [t for t in fig["data"] if t["name"] == "Changes applied"][0]
    assert len(marker["x"]) == 2 and marker["text"][0] == "2 changes applied: 2 by hand"


def test_change_markers_split_autopilot_from_manual_with_the_count_of_the_day():
    """`optimizer.change_markers` rows: one per day, type and source, each with its count."""
    changes = pd.DataFrame(
        {
            "applied_at": ["2026-11-05T06:00:00+00:00", "2026-11-05T06:00:00+00:00", "2026-11-05T15:00:00+00:00"],
            "change_type": ["bid", "negative", "bid"],
            "source": ["autopilot", "autopilot", "manual"],
            "count": [8, 4, 1],
        }
    )
    fig = json.loads(trend_figure(_daily(), changes=changes).to_json())
    marker = [t for t in fig["data"] if t["name"] == "Changes applied"][0]
    assert marker["x"] == ["2026-11-05T00:00:00"]
    assert marker["text"] == ["13 changes applied: 12 by the autopilot, 1 by hand (9 bid changes, 4 negative keywords)"]
    assert marker["customdata"] == [[1, 12]]  # manual, autopilot


def test_placement_figure():
    df = pd.DataFrame(
        {
            "placement": ["Top of search", "Rest of search", "Product pages"],
            "cost": [5.0, 3.0, 2.0],
            "sales": [20.0, 0.0, 4.0],
        }
    )
    fig = json.loads(placement_figure(df).to_json())
    assert fig["data"][0]["x"] == ["Top of search", "Rest of search", "Product pages"]
    assert fig["data"][2]["y"][1] is None
