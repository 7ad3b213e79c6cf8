"""Search terms: what shoppers typed, what it cost, what to negate or harvest."""

import streamlit as st

from pages import common
from services.analytics import wasted_spend

c = common.need_controls()
st.title("Search terms")
terms = common.search_terms(c.account_id, c.query(), c.version())
view = st.radio(
    "View", ["All search terms", "Wasted spend", "Converters not yet exact", "N-grams"], horizontal=True, key="st_view"
)
first = ["search_term", "triggered_by", "match_type", "campaign_name", "ad_group_name"]
if view == "All search terms":
    shown = terms
elif view == "Wasted spend":
    shown = wasted_spend(terms)
    st.caption(f"{len(shown):,} terms took clicks without an order, costing {shown['cost'].sum():,.2f} {c.currency}.")
elif view == "Converters not yet exact":
    shown = common.converters_not_exact(c.account_id, c.query(), c.version())
else:
    n = st.radio("Fragment length", [1, 2, 3], format_func=lambda k: f"{k}-word", horizontal=True, key="ngram_n")
    shown = common.ngrams(c.account_id, c.query(), n, c.version())
    first = ["ngram", "terms"]
common.table(shown, c, "search_terms_table", first)
common.download(shown, view.lower().replace(" ", "-"), c, key="dl_search_terms")
