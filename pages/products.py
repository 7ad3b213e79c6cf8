"""Products: advertised ASINs and SKUs, and what else shoppers bought after the click."""

import streamlit as st

from pages import common

c = common.need_controls()
st.title("Products")
advertised, halo = common.products(c.account_id, c.query(), c.version())
st.subheader("Advertised products")
st.caption("Total and organic sales, TACoS and sessions come from Seller Central (about 72 hours late).")
common.table(advertised, c, "products_table", ["asin", "name", "sku", "ads"])
common.download(advertised, "advertised-products", c, key="dl_products")
st.subheader("Halo: other products bought after an ad click")
common.table(halo, c, "halo_table", ["advertised_asin", "advertised_name", "purchased_asin", "purchased_name"])
common.download(halo, "halo", c, key="dl_halo")
