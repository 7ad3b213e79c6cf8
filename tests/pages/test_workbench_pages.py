"""AppTest of issue 14's workbench: a row click drills down, products carry names, the promoted ASINs' ad
performance agrees with the Products page, and every CSV download reads back with the page's headers."""

from __future__ import annotations

import csv
import io
import json
import re

import pandas as pd
import pytest

from services import connect, promotions
from services.analytics import presentation
from services.dates import to_date
from services.promotions.analytics import asin_list, profile_as_of
from tests.pages.conftest import new_app

MONEY_TEXT = re.compile(r"-?\d+\.\d{2}")
PERCENT_TEXT = re.compile(r"-?\d+\.\d{2}%")


def _click(at, table_key: str, row: int):
    """A click on a row of a selectable table: Streamlit keeps the selection in session state under the table's key."""
    at.session_state[table_key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return at.run()


def _headers(df_element) -> list[str]:
    """The headers a person sees: each column's label from the table's column config (else its name)."""
    config = json.loads(df_element.proto.columns or "{}")
    return [config.get(c, {}).get("label") or c for c in df_element.value.columns]


def _us_profile(db) -> str:
    return db.conn.execute("SELECT profile_id FROM profiles WHERE country_code = 'US'").fetchone()[0]


def test_campaigns_first_screen_labels_totals_and_drill_down_by_row_click(demo_account):
    at = new_app(demo_account, "campaigns.py")
    assert not at.exception, at.exception
    table = at.dataframe[0]
    campaigns = table.value
    # the first screen shows what a marketer reads first
    assert list(campaigns.columns[:5]) == ["campaign_name", "cost", "sales", "acos", "orders"]
    assert _headers(table)[:5] == ["Campaign", "Spend", "Sales", "ACOS", "Orders"]
    total, rows = campaigns.iloc[0], campaigns.iloc[1:]
    assert total["campaign_name"] == f"Total · {len(rows)} campaigns"
    assert total["cost"] == pytest.approx(rows["cost"].sum(), abs=0.01)
    assert total["acos"] == pytest.approx(rows["cost"].sum() / rows["sales"].sum())
    # Amazon console labels, and a serving status for every campaign
    assert set(rows["bidding_strategy"]) <= set(presentation.ENUM_LABELS["bidding_strategy"].values())
    assert not rows["serving_status"].isin([None, "None", ""]).any() and "Delivering" in set(rows["serving_status"])
    assert not rows["campaign_name"].iloc[0].startswith(("<", "=", "+", "@"))  # the biggest reads like a seller's
    assert len(at.dataframe) == 1 and "Click a campaign's row" in at.info[0].value

    _click(at, "campaigns_table", 0)  # the totals row drills nowhere
    assert len(at.dataframe) == 1

    _click(at, "campaigns_table", 1)
    assert not at.exception, at.exception
    assert at.subheader[0].value.startswith("Ad groups of ")
    groups = at.dataframe[1].value
    assert groups.iloc[0]["ad_group_name"].startswith("Total · ")
    assert groups.iloc[0]["cost"] == pytest.approx(rows.iloc[0]["cost"], abs=0.05)  # the clicked campaign's
    _click(at, "ad_groups_table", 1)
    assert not at.exception, at.exception
    targets = at.dataframe[2].value
    assert list(targets.columns[:5]) == ["targeting", "cost", "sales", "acos", "orders"]
    assert targets.iloc[0]["cost"] == pytest.approx(groups.iloc[1]["cost"], abs=0.05)
    assert not set(targets["match_type"].dropna()) & {"EXACT", "PHRASE", "BROAD", "QUERY_HIGH_REL_MATCHES"}

    # another campaign: its own ad groups, and no target table until one of them is clicked
    _click(at, "campaigns_table", 2)
    assert at.dataframe[1].value.iloc[0]["cost"] == pytest.approx(rows.iloc[1]["cost"], abs=0.05)
    assert "Keywords and targets of" not in " ".join(h.value for h in at.subheader)

    at.text_input(key="campaign_search").input(rows.iloc[3]["campaign_name"][:12]).run()
    found = at.dataframe[0].value.iloc[1:]
    assert (
        len(found) >= 1 and found["campaign_name"].str.contains(rows.iloc[3]["campaign_name"][:12], regex=False).all()
    )


def test_product_names_on_products_and_promotions(demo_account):
    at = new_app(demo_account, "products.py")
    assert not at.exception, at.exception
    products = at.dataframe[0].value.iloc[1:]
    assert list(products.columns[:4]) == ["image_url", "name", "brand", "asin"]
    assert products["name"].notna().all() and (products["name"] != products["asin"]).all()
    assert products["brand"].notna().all()
    # main images from the catalogue, drawn by the sandbox on this machine (nothing fetched from outside)
    on_this_machine = r"http://127\.0\.0\.1:\d+/_images/B0[0-9A-Z]{8}\.svg"
    assert products["image_url"].notna().all() and products["image_url"].str.fullmatch(on_this_machine).all()
    config = json.loads(at.dataframe[0].proto.columns)["image_url"]
    assert config["type_config"]["type"] == "image" and config["label"] == "Image"
    halo = at.dataframe[1].value
    assert list(halo.columns[:2]) == ["advertised_name", "purchased_name"] and halo["advertised_name"].notna().all()

    at = new_app(demo_account, "promotions.py")
    assert not at.exception, at.exception
    perf = next(d.value for d in at.dataframe if "period" in d.value.columns)
    per_asin = perf[perf["asin"] != "All promoted ASINs"]
    assert not per_asin.empty and per_asin["name"].notna().all()
    # the promotions list names its ASINs too, in their order
    from services.analytics.sales import product_names

    names = product_names(connect.open_store(), at.session_state["profile_id"])
    listed = next(d.value for d in at.dataframe if "asin_names" in d.value.columns)
    listed = listed[listed["asins"].str.len() > 0]
    assert not listed.empty
    # a draft typed by hand may hold a code the catalogue does not know (another test in this shared store saves
    # one with '=HYPERLINK("x")'): it is shown as typed; every synced promotion's ASINs are known and named
    for asins, named in zip(listed["asins"], listed["asin_names"]):
        assert named == "; ".join(names.get(a) or a for a in asins.split("; ")), (asins, named)
    synced = listed[listed["promotion_id"].notna()] if "promotion_id" in listed.columns else listed
    known = [all(a in names for a in x.split("; ")) for x in synced["asins"]]
    assert known and all(known), synced[["asins", "asin_names"]]


def test_other_sellers_asins_carry_their_names_on_search_terms(demo_account):
    """Why: product-targeting search terms ("b0…") and the ASINs product targets aim at showed bare codes; other
    sellers' ASINs now come from the same Catalog Items cache, most clicked first."""
    from services.analytics.sales import product_names

    db = connect.open_store()
    pid = _us_profile(db)
    names = product_names(db, pid)
    own = {a for (a,) in db.conn.execute("SELECT DISTINCT upper(asin) FROM product_ads WHERE profile_id = ?", [pid])}
    assert len(set(names) - own) > 50, "other sellers' ASINs are named too"
    at = new_app(demo_account, "search_terms.py")
    at.text_input(key="st_search").set_value("b0").run()
    assert not at.exception, at.exception
    table = next(d for d in at.dataframe if d.key == "search_terms_table").value
    typed = table[table["search_term"].str.fullmatch(r"b0[0-9a-z]{8}")]
    assert len(typed) >= 20
    top = typed.sort_values("clicks", ascending=False).head(10)  # the most clicked are named on the first sync
    assert top["term_product"].notna().all(), top[["search_term", "term_product"]]
    assert (top["term_product"] == top["search_term"].str.upper().map(names)).all()
    aimed = table[table["triggered_by"].fillna("").str.contains(r"asin=\"?B0", case=False, regex=True)]
    aimed = aimed.sort_values("clicks", ascending=False).head(10)
    assert len(aimed) == 10 and aimed["target_product"].notna().all(), aimed[["triggered_by", "target_product"]]


def test_promotion_ad_performance_agrees_with_products(demo_account):
    """Why: the section was zero everywhere while Products showed the same ASINs earning in the same days."""
    db = connect.open_store()
    pid = _us_profile(db)
    at = new_app(demo_account, "promotions.py")
    assert not at.exception, at.exception
    overview = promotions.promotions_overview(db, pid)
    coupon = overview[(overview["kind"] == "coupon") & overview["promotion_id"].notna()].iloc[0]  # the page's first
    _, during = promotions.promotion_windows(to_date(coupon["start"]), to_date(coupon["end"]), profile_as_of(db, pid))
    perf = next(d.value for d in at.dataframe if "period" in d.value.columns)
    during_rows = perf[(perf["period"] == "During the promotion") & (perf["asin"] != "All promoted ASINs")]
    assert set(during_rows["asin"]) <= set(asin_list(coupon["asins"]))
    assert during_rows["clicks"].sum() > 0 and during_rows["sales"].sum() > 0

    products = new_app(demo_account, "products.py")
    products.sidebar.selectbox(key="range_choice").set_value("Custom").run()
    products.sidebar.date_input(key="custom_range").set_value(during).run()
    assert not products.exception, products.exception
    table = products.dataframe[0].value.iloc[1:]
    by_asin = table.groupby("asin")[["clicks", "sales", "orders"]].sum()
    for r in during_rows.itertuples():
        assert r.clicks == by_asin.loc[r.asin, "clicks"], r.asin
        assert r.orders == by_asin.loc[r.asin, "orders"], r.asin
        assert r.sales == pytest.approx(by_asin.loc[r.asin, "sales"], abs=0.01), r.asin


@pytest.fixture
def downloads(monkeypatch):
    """Every download button of a run, with the bytes its click would produce (the same callable the page gave)."""
    import streamlit

    seen: dict[str, tuple[str, bytes]] = {}
    real = streamlit.download_button

    def spy(label, data, *args, **kwargs):
        body = data() if callable(data) else data
        seen[kwargs.get("key") or label] = (label, body if isinstance(body, bytes) else str(body).encode())
        return real(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", spy)
    return seen


def _read(body: bytes) -> list[dict]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def _check_formats(rows: list[dict], where: str) -> None:
    """Money has two decimals, percentages are percentages, ids are whole digit strings."""
    for name, col in presentation.COLUMNS.items():
        header = col.label
        values = [r[header] for r in rows if r.get(header)]
        if not values:
            continue
        if col.kind == "money":
            bad = [v for v in values if not MONEY_TEXT.fullmatch(v)]
            assert not bad, f"{where}: {header} is not money with 2 decimals: {bad[:3]}"
        elif col.kind == "percent":
            bad = [v for v in values if not PERCENT_TEXT.fullmatch(v)]
            assert not bad, f"{where}: {header} is not a percentage: {bad[:3]}"
        elif col.kind == "multiple":
            bad = [v for v in values if not MONEY_TEXT.fullmatch(v)]
            assert not bad, f"{where}: {header} is not rounded to 2 decimals: {bad[:3]}"
        elif col.kind == "count":
            bad = [v for v in values if not re.fullmatch(r"-?\d+", v)]
            assert not bad, f"{where}: {header} is not a whole count: {bad[:3]}"
        elif col.kind == "id" and name.endswith("_id"):
            bad = [v for v in values if not re.fullmatch(r"[0-9A-Za-z-]+", v) or "e+" in v or v.endswith(".0")]
            assert not bad, f"{where}: {header} lost digits: {bad[:3]}"


@pytest.mark.parametrize("page", ["overview.py", "campaigns.py", "products.py", "promotions.py"])
def test_csv_downloads_read_back_with_the_pages_headers(demo_account, downloads, page):
    at = new_app(demo_account, page)
    if page == "campaigns.py":
        _click(at, "campaigns_table", 1)
        _click(at, "ad_groups_table", 1)
    assert not at.exception, at.exception
    tables = [d for d in at.dataframe]
    assert downloads, "the page offers its tables as CSV"
    labels = [label for label, _ in downloads.values()]
    assert len(set(labels)) == len(labels) and all(lbl != "Download CSV" for lbl in labels), labels
    page_headers = [[h for h, c in zip(_headers(t), t.value.columns) if presentation.kind(c) != "list"] for t in tables]
    for key, (label, body) in downloads.items():
        rows = _read(body)
        header = list(rows[0].keys()) if rows else []
        if key != "dl_daily":  # the daily trend is a chart on the page; its CSV has the registry's headers too
            assert header in page_headers, f"{label}: CSV headers {header} are none of the page's {page_headers}"
        assert not set(header) & presentation.raw_names(), f"{label}: a field name as a header: {header}"
        _check_formats(rows, label)
    if page == "campaigns.py":
        rows = _read(downloads["dl_campaigns"][1])
        db = connect.open_store()
        ids = {
            r[0] for r in db.conn.execute("SELECT campaign_id FROM campaigns WHERE profile_id = ?", [_us_profile(db)])
        }
        assert {r["Campaign ID"] for r in rows} <= ids and len(rows) == len(tables[0].value) - 1  # all but the total
        assert pd.Series([r["Campaign ID"] for r in rows]).str.len().min() >= 10  # every digit kept, as text
