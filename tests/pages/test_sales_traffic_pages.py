"""Total sales on the pages: TACoS and organic share on Overview, per-ASIN totals and product names on Products."""

from __future__ import annotations

import json

from services import connect
from tests.pages.conftest import new_app


def _tile(at, label):
    return next(m.value for m in at.metric if m.label == label)


def _percent(text: str) -> float:
    return float(text.rstrip("%")) / 100


def test_overview_shows_tacos_and_organic_share(demo_account, app_env):
    at = new_app(demo_account, "overview.py")
    assert not at.exception, at.exception
    tacos, share = _percent(_tile(at, "TACoS")), _percent(_tile(at, "Organic share"))
    acos = _percent(_tile(at, "ACOS"))
    assert 0 < tacos < acos  # spend over all sales is below spend over ad sales
    assert 0 < share < 1
    chart = next(c for c in at.get("plotly_chart") if "organic_chart" in c.proto.id)
    fig = json.loads(chart.proto.spec)
    assert [t["name"] for t in fig["data"]] == ["Ad sales (USD)", "Organic sales (USD)", "TACoS %"]
    # the stacked bars add up to Amazon's total of each day, read straight from the store
    db = connect.open_store(app_env)
    totals = dict(
        db.conn.execute(
            "SELECT date, ordered_product_sales FROM sales_traffic_account_day JOIN profiles USING (profile_id) "
            "WHERE country_code = 'US'"  # the page opens on the US profile (its figures are in USD)
        ).fetchall()
    )
    for x, ad, organic in zip(fig["data"][0]["x"], fig["data"][0]["y"], fig["data"][1]["y"]):
        assert abs(ad + organic - totals[x[:10]]) < 0.02


def test_products_show_names_and_total_sales(demo_account):
    at = new_app(demo_account, "products.py")
    assert not at.exception, at.exception
    advertised, halo = at.dataframe[0].value.iloc[1:], at.dataframe[1].value  # the products' totals row first
    assert advertised["name"].notna().all() and (advertised["name"] != advertised["asin"]).all()
    assert {"total_sales", "organic_sales", "tacos", "sessions"} <= set(advertised.columns)
    assert (advertised["total_sales"].fillna(0) + 0.005 >= advertised["sales"]).all()
    assert halo["advertised_name"].notna().all() and halo["purchased_name"].notna().all()
