"""AppTest of every analytics page with the demo sandbox behind it."""

import json

import pytest

from tests.pages.conftest import new_app

PAGES = ["overview.py", "campaigns.py", "search_terms.py", "products.py"]


@pytest.mark.parametrize("page", PAGES)
def test_empty_state_before_connecting(app_env, page, tmp_path, monkeypatch):
    # a store of its own: the session's store may already hold the demo account, whichever test ran first
    monkeypatch.setenv("DASHBOARD_DB", str(tmp_path / "empty.db"))
    at = new_app(page=page)
    assert not at.exception
    assert "Connect an account" in at.info[0].value


def _tile(at, label):
    return next(m.value for m in at.metric if m.label == label)


def _figure(at, key):
    chart = [c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id] or at.get("plotly_chart")
    return json.loads(chart[0].proto.spec)


def test_overview_tiles_trend_and_comparison(demo_account):
    at = new_app(demo_account, "overview.py")
    assert not at.exception, at.exception
    labels = {m.label for m in at.metric}
    assert labels == {
        "Spend",
        "Sales",
        "ACOS",
        "ROAS",
        "Orders",
        "Units",
        "Impressions",
        "Clicks",
        "CTR",
        "CPC",
        "CVR",
        "AOV",
        "Total sales",
        "Organic sales",
        "TACoS",
        "Organic share",
        "Sessions",
        "Unit session %",
    }
    assert all(m.delta for m in at.metric)  # previous period exists: every tile has a change
    fig = _figure(at, "trend")
    assert [t["name"] for t in fig["data"][:3]] == ["Spend (USD)", "Sales (USD)", "ACOS %"]
    assert len(fig["data"][0]["x"]) == 30
    assert fig["layout"]["shapes"], "settling days are shaded"
    spend_30 = _tile(at, "Spend")

    # a shorter range changes the numbers; no comparison removes the deltas
    at.sidebar.selectbox(key="range_choice").set_value("Last 7 days").run()
    assert _tile(at, "Spend") != spend_30
    assert len(_figure(at, "trend")["data"][0]["x"]) == 7
    at.sidebar.selectbox(key="comparison_choice").set_value("No comparison").run()
    assert not any(m.delta for m in at.metric)
    at.radio(key="trend_grain").set_value("Weekly").run()
    assert len(_figure(at, "trend")["data"][0]["x"]) <= 2


def test_profile_switch_changes_currency(demo_account):
    at = new_app(demo_account, "overview.py")
    box = at.sidebar.selectbox(key="profile_id")
    uk = next(i for i, label in enumerate(box.options) if label.startswith("UK"))
    box.select_index(uk).run()
    assert not at.exception
    assert _tile(at, "Spend").startswith("£")


def test_campaigns_table_and_placements(demo_account):
    """The drill-down by row click is tested in test_workbench_pages; here the table and the placements chart."""
    at = new_app(demo_account, "campaigns.py")
    assert not at.exception, at.exception
    campaigns = at.dataframe[0].value
    assert len(campaigns) >= 20 and "sales_trend" in campaigns.columns
    at.session_state["campaigns_table"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert not at.dataframe[1].value.empty
    fig = _figure(at, "placement")
    assert set(fig["data"][0]["x"]) <= {"Top of search", "Rest of search", "Product pages"}


def test_search_terms_views_and_ngrams(demo_account):
    at = new_app(demo_account, "search_terms.py")
    assert not at.exception, at.exception
    all_terms = at.dataframe[0].value
    assert {"search_term", "triggered_by", "match_type"} <= set(all_terms.columns)
    at.radio(key="st_view").set_value("Wasted spend").run()
    wasted = at.dataframe[0].value
    assert (wasted["orders"] == 0).all() and len(wasted) < len(all_terms)
    at.radio(key="st_view").set_value("N-grams").run()
    at.radio(key="ngram_n").set_value(2).run()
    grams = at.dataframe[0].value
    assert grams["ngram"].str.count(" ").eq(1).all()
    assert not at.exception


def test_products_page(demo_account):
    at = new_app(demo_account, "products.py")
    assert not at.exception, at.exception
    assert not at.dataframe[0].value.empty
    assert not at.dataframe[1].value.empty
