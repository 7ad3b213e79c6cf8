"""Products: advertised products by name, and what else shoppers bought after the click."""

import streamlit as st

from pages import common
from services.analytics import table_view as tv

PRODUCT_COLUMNS = ["image_url", "name", "brand", "asin", "sku", *tv.READING_ORDER, "total_sales", "organic_sales"]
PRODUCT_COLUMNS += ["tacos", "organic_share", "sessions", "unit_session_pct", "ads"]
HALO_COLUMNS = ["advertised_name", "purchased_name", "orders", "units", "sales", "advertised_asin", "purchased_asin"]

c = common.need_controls()
st.title("Products")
advertised, halo = common.products(c.account_id, c.query(), c.version())
st.subheader("Advertised products")
st.caption("Total and organic sales, TACoS and sessions come from Seller Central (about 72 hours late).")
text = st.text_input("Search products", key="product_search", placeholder="Part of a name, an ASIN or a SKU")
products = tv.arrange(tv.search(advertised, text, ["name", "brand", "asin", "sku"]), PRODUCT_COLUMNS)
per_asin = ("total_sales", "organic_sales", "sessions")  # repeated on each SKU row of an ASIN: no total
common.table(tv.with_totals(products, "name", "products", exclude=per_asin), c, "products_table")
common.download(products, "advertised-products", c, key="dl_products", label="Download the advertised products (CSV)")
st.subheader("Halo: other products bought after an ad click")
halo = tv.arrange(halo, HALO_COLUMNS)
common.table(halo, c, "halo_table")
common.download(halo, "halo", c, key="dl_halo", label="Download the halo purchases (CSV)")
