"""Search terms: what shoppers typed, what it cost, what to negate or harvest.

The table is one page of rows from SQL (filters, sort and paging run in the store; totals cover every matching row);
the CSV download writes every matching row when clicked. Negate and harvest create suggestions that go through the
same confirmation, apply, history and undo as the Suggestions page.
"""

import streamlit as st

from pages import common
from services.analytics import search_terms as terms
from services.errors import DashboardError
from services.optimizer import from_terms, review

VIEWS = {
    "All search terms": "all",
    "Wasted spend": "wasted",
    "Converters not yet exact": "converters",
    "N-grams": "ngrams",
}
ORDERS = {"Any": "any", "With orders": "with", "Without orders": "without"}
SORT_LABELS = {
    "cost": "Spend",
    "clicks": "Clicks",
    "orders": "Orders",
    "sales": "Sales",
    "impressions": "Impressions",
    "acos": "ACOS",
    "search_term": "Search term",
}
MATCH_LABELS = {
    "EXACT": "Exact",
    "PHRASE": "Phrase",
    "BROAD": "Broad",
    "TARGETING_EXPRESSION": "Product targeting",
    "TARGETING_EXPRESSION_PREDEFINED": "Auto targeting",
}
SELECTED = "st_selected_keys"  # the selection: natural keys (keyword or target id, search term), never positions
RENDERED = "_st_rendered_keys"  # keys of the table drawn last run, in order: what a click's positions refer to
TABLE = "search_terms_table"
PLAN = "st_apply_ids"  # the approved suggestion ids the open confirmation lists (and will send)
FIRST = ["search_term", "term_product", "triggered_by", "target_product", "match_type", "campaign_name"]
FIRST += ["ad_group_name", "cost", "sales", "acos", "orders", "clicks"]
FILES = {"all": "search-terms", "wasted": "wasted-spend", "converters": "converters-not-yet-exact"}

c = common.need_controls()
db = common.store()
q, version = c.query(), c.version()
st.title("Search terms")
view = VIEWS[st.radio("View", list(VIEWS), horizontal=True, key="st_view")]

f1, f2, f3 = st.columns([3, 3, 2])
search = f1.text_input("Search terms or targeting containing", key="st_search")
campaigns = common.campaign_choices(c.account_id, q, version)
picked_campaigns = f2.multiselect(
    "Campaign", list(campaigns), format_func=lambda cid: campaigns.get(cid, cid), key="st_campaigns"
)
match_types = f3.multiselect(
    "Match type", list(MATCH_LABELS), format_func=lambda m: MATCH_LABELS.get(m, m), key="st_match"
)
g1, g2, g3, g4 = st.columns([2, 2, 2, 2])
min_clicks = g1.number_input("Minimum clicks", min_value=0, value=0, step=1, key="st_min_clicks")
orders = ORDERS[g2.selectbox("Orders", list(ORDERS), key="st_orders")]
sort = g3.selectbox("Sort by", list(SORT_LABELS), format_func=SORT_LABELS.get, key="st_sort")
descending = g4.toggle("Largest first", value=True, key="st_desc")

floor, expected = terms.WASTE_FLOOR, terms.WASTE_EXPECTED_ORDERS
if view == "wasted":
    w1, w2 = st.columns(2)
    floor = int(
        w1.number_input("Judge a term only after at least … clicks", 1, 1000, terms.WASTE_FLOOR, key="st_floor")
    )
    expected = float(
        w2.number_input(
            "… and enough clicks to expect this many orders at its ad group's rate",
            0.5,
            10.0,
            terms.WASTE_EXPECTED_ORDERS,
            0.5,
            key="st_expected",
        )
    )
try:
    f = terms.TermFilter(
        view="all" if view == "ngrams" else view,
        search=search,
        campaign_ids=tuple(picked_campaigns),
        match_types=tuple(match_types),
        min_clicks=int(min_clicks),
        orders=orders,
        waste_floor=floor,
        waste_expected_orders=expected,
        sort=sort,
        descending=bool(descending),
    )
except ValueError as exc:
    st.error(str(exc))
    st.stop()

if view == "wasted":
    w = common.waste_summary(c.account_id, q, floor, expected, version)
    cvr = f"{w.account_cvr:.1%}" if w.account_cvr else "—"
    st.caption(
        f"A term counts as wasted when it had no order after at least {floor} clicks, and after enough clicks that "
        f"{expected:g} order(s) were to be expected at its ad group's conversion rate (the account's {cvr} when the "
        "ad group has none): an ad group converting at 5 % needs 20 clicks. "
        f"**Wasted: {w.wasted_cost:,.2f} {common.md(c.currency)} on {w.wasted_terms:,} terms.** "
        f"Too few clicks to judge yet: {w.unjudged_cost:,.2f} on {w.unjudged_terms:,} terms without an order, "
        f"of which {w.single_click_cost:,.2f} on {w.single_click_terms:,} single-click terms. "
        f"(Every term with a click and no order adds up to {w.naive_cost:,.2f} on {w.naive_terms:,} terms.)"
    )
elif view == "converters":
    st.caption("Terms with orders that no enabled exact keyword of this profile targets yet: harvest candidates.")

if view == "ngrams":
    n = st.radio("Fragment length", [1, 2, 3], format_func=lambda k: f"{k}-word", horizontal=True, key="ngram_n")
    grams, count = common.ngrams(c.account_id, q, f, n, version)
    st.caption(
        f"Top {len(grams):,} of {count:,} fragments by spend, over the terms the filters match. Words such as "
        "“for” or “with” (in the marketplace's language) are left out at the start or end of a fragment."
    )
    common.table(grams, c, "ngram_table", ["ngram", "terms"])
    common.download(
        lambda: terms.ngram_page(common.store(), q, f, n, limit=None)[0], "n-grams", c, key="dl_search_terms"
    )
    st.stop()

page = int(st.number_input("Page", min_value=1, value=1, step=1, key="st_page")) - 1
tp = common.term_page(c.account_id, q, f, page, version)
first_row = tp.page * terms.PAGE_SIZE
t = tp.totals
st.caption(
    f"Showing {first_row + 1 if len(tp.rows) else 0:,}–{first_row + len(tp.rows):,} of {tp.matched:,} matching "
    f"search terms ({tp.total:,} in the range) · page {tp.page + 1} of {tp.pages}. "
    f"Matching total: spend {t.get('cost', 0):,.2f} {common.md(c.currency)}, sales {t.get('sales', 0):,.2f}, "
    f"{t.get('orders', 0):,} orders, {t.get('clicks', 0):,} clicks."
)

# Selection by identity, as on the Suggestions page: Streamlit reports row positions of the table clicked, mapped
# here to the natural keys of that very table (kept from the previous run); the keys drawn as selected are
# recomputed for the table shown now, so paging, sorting or filtering never moves a selection to another term.
shown = tp.rows
shown_keys = shown["row_key"].tolist()
selected: list[str] = list(st.session_state.get(SELECTED, []))
table_state = st.session_state.get(TABLE)
if RENDERED in st.session_state and isinstance(table_state, dict):
    selection = table_state.get("selection")
    rows = selection.get("rows") if isinstance(selection, dict) else None
    selected = review.merge_selection(selected, st.session_state[RENDERED], rows)
if st.session_state.pop("st_clear_selection", False):
    selected = []
st.session_state[SELECTED] = selected
st.session_state[RENDERED] = shown_keys
st.session_state[TABLE] = {"selection": {"rows": review.positions_of(selected, shown_keys), "columns": [], "cells": []}}
common.table(
    shown,
    c,
    TABLE,
    FIRST + (["waste_threshold"] if view == "wasted" else []),
    on_select="rerun",
    selection_mode="multi-row",
)
common.download(
    lambda: terms.all_terms(common.store(), q, f).drop(columns=["row_key"]), FILES[view], c, key="dl_search_terms"
)

# ------------------------------------------------------------------ negate or harvest the selected terms
st.subheader("Act on the selected search terms")
hidden = len([k for k in selected if k not in set(shown_keys)])
if not selected:
    st.caption("Tick rows in the table to negate them or harvest them as exact keywords.")
else:
    st.caption(
        f"{len(selected)} search term(s) selected"
        + (f", {hidden} of them not on this page or hidden by the filters" if hidden else "")
        + ". The action covers every selected term."
    )
    if st.button("Clear selection", key="st_clear"):
        st.session_state["st_clear_selection"] = True
        st.rerun()
a1, a2 = st.columns([3, 2])
action = a1.radio(
    "Action", list(from_terms.ACTIONS), format_func=from_terms.ACTIONS.get, horizontal=True, key="st_action"
)
bid = None
if action == "harvest_exact":
    use_cpc = a2.toggle("Start each at its own CPC", value=True, key="st_bid_cpc")
    if not use_cpc:
        bid = float(a2.number_input(f"Bid ({c.currency})", 0.02, 1000.0, 0.75, 0.05, key="st_bid"))
b1, b2 = st.columns(2)
send = b1.button("Send to Amazon…", key="st_send", type="primary", disabled=not selected)
later = b2.button("Add to Suggestions for review", key="st_review", disabled=not selected)
if send or later:
    picked = terms.rows_by_key(db, q, selected)
    suggestions, skipped = from_terms.build(
        db,
        c.profile_id,
        picked,
        action,
        start=q.start.isoformat(),
        end=q.end.isoformat(),
        bid=bid,
        currency=c.currency,
    )
    for sentence in skipped:
        st.warning(common.md(sentence))
    if not suggestions.empty:
        ids = from_terms.add(db, c.account_id, suggestions, status="approved" if send else "pending")
        st.session_state["st_clear_selection"] = True
        if send:
            st.session_state[PLAN] = ids
        else:
            st.success(f"{len(ids)} suggestion(s) added for review.")
            st.page_link(common.page_path("suggestions.py"), label="Review them on Suggestions", icon="✅")

if st.session_state.get(PLAN):
    plan = review.apply_plan(db, c.account_id, c.profile_id, st.session_state[PLAN])
    st.warning(
        f"Send {len(plan.changes)} change(s) to Amazon now? They take effect in the live account; each one is "
        "listed below. They are approved suggestions: cancel, and they wait on the Suggestions page."
    )
    st.dataframe(plan.changes.drop(columns=["suggestion_id"]), hide_index=True, width="stretch", key="st_plan")
    y, n = st.columns(2)
    if y.button("Yes, send to Amazon", key="st_apply_confirm", type="primary", disabled=plan.changes.empty):
        st.session_state.pop(PLAN, None)
        try:
            st.session_state["st_apply_result"] = review.apply_approved_changes(
                db, common.vault(), c.account_id, c.profile_id, plan.suggestion_ids, confirmed=True
            )
            st.session_state["st_undo_ids"] = review.undoable_ids(db, c.account_id, c.profile_id, True)
            st.rerun()  # redraw without the question
        except DashboardError as exc:
            common.show_error(exc)
    if n.button("Cancel", key="st_apply_cancel"):
        st.session_state.pop(PLAN, None)
        st.rerun()
result = st.session_state.get("st_apply_result")
if result is not None:
    ok = int(result["ok"].sum()) if "ok" in result else 0
    if ok == len(result):
        st.success(f"Amazon accepted {ok} of {len(result)} change(s). They are in the change history on Suggestions.")
    else:
        st.error(f"Amazon refused {len(result) - ok} of {len(result)} change(s); see why below.")
    st.dataframe(result, hide_index=True, width="stretch", key="st_apply_table")
undo_ids = [
    i for i in st.session_state.get("st_undo_ids", []) if i in set(review.undoable_ids(db, c.account_id, c.profile_id))
]
if undo_ids and st.button(f"Undo these {len(undo_ids)} change(s) on Amazon", key="st_undo"):
    try:
        st.session_state["st_apply_result"] = review.undo_changes(
            db, common.vault(), c.account_id, c.profile_id, undo_ids, confirmed=True
        )
        st.session_state.pop("st_undo_ids", None)
        st.rerun()
    except DashboardError as exc:
        common.show_error(exc)
