"""Products: advertised ASINs and SKUs, and what else shoppers bought after the click."""
import streamlit as st

from pages import common
from services.analytics import display_columns

c = common.need_controls()
st.title("Products")
advertised, halo = common.products(c.account_id, c.query(), c.version())
st.subheader("Advertised products")
st.dataframe(advertised[display_columns(advertised, ["asin", "sku", "ads"])], hide_index=True, width="stretch", key="products_table")
common.download(advertised, "advertised-products", c, key="dl_products")
st.subheader("Halo: other products bought after an ad click")
st.dataframe(halo, hide_index=True, width="stretch", key="halo_table")
common.download(halo, "halo", c, key="dl_halo")
