"""Suggested changes: review with evidence, approve, apply after confirmation, undo."""

import streamlit as st

from pages import common, readonly
from services import optimizer as sugg
from services.analytics.export import export_filename
from services.errors import DashboardError
from services.optimizer import TYPE_LABELS, review

SELECTED = "sugg_selected_ids"  # the selection: suggestion ids, never row positions
RENDERED = "_sugg_rendered_ids"  # ids of the table drawn last run, in order: what a click's positions refer to
TABLE = "sugg_table"
APPLY_IDS = "apply_ids"  # the approved ids the open confirmation lists (and will send)

c = common.need_controls()
if not common.can_change(c.account_id):  # a viewer: read and export only (the services refuse changes too)
    readonly.suggestions(c)
    st.stop()
db, vault = common.store(), common.vault()
st.title("Suggested changes")
st.caption("Every suggestion shows its evidence and one sentence of why. Nothing reaches Amazon until you confirm.")

if st.button("Refresh suggestions from the latest data", key="generate"):
    try:
        fresh = sugg.generate(db, c.account_id, c.profile_id, attribution=f"{c.window}d")
        st.success(f"{len(fresh)} suggestion(s) ready for review.")
    except DashboardError as exc:
        common.show_error(exc)

f1, f2, f3, f4 = st.columns([3, 2, 2, 2])
types = f1.multiselect("Type", list(TYPE_LABELS.values()), key="sugg_types")
statuses = f2.multiselect("Status", list(sugg.STATUSES), default=["pending", "approved"], key="sugg_status")
min_conf = f3.slider("Minimum confidence", 0.0, 1.0, 0.0, 0.05, key="sugg_conf")
sort_by = f4.selectbox("Sort by", sugg.SORTABLE, key="sugg_sort")
search = st.text_input("Search campaign, ad group, keyword or search term", key="sugg_search")
shown = review.shown_suggestions(
    db,
    c.account_id,
    c.profile_id,
    types=types,
    statuses=statuses,
    min_confidence=min_conf,
    search=search,
    sort_by=sort_by,
)

summary = shown.groupby("type_label").size() if not shown.empty else {}
st.write(" · ".join(f"**{label}**: {count}" for label, count in dict(summary).items()) or "No suggestions match.")
cols = [
    "type_label",
    "status",
    "campaign_name",
    "ad_group_name",
    "keyword_text",
    "search_term",
    "current_value",
    "proposed_value",
    "reason",
    "confidence",
    "clicks",
    "orders",
    "spend",
    "sales",
    "acos",
    "cvr_raw",
    "cvr_shrunk",
    "expected_spend_change",
    "expected_sales_change",
    "rule",
]
# Selection by identity: the truth is the list of selected suggestion ids in session_state. Streamlit reports
# row positions of the table the user clicked on, so they are mapped to ids through the ids of that very table
# (kept from the previous run), and the selection drawn is recomputed from the ids for the table shown now.
# Filtering, sorting, searching or applying therefore never moves a selection to another suggestion.
shown_ids = shown["suggestion_id"].astype(str).tolist()
selected_ids: list[str] = list(st.session_state.get(SELECTED, []))
table_state = st.session_state.get(TABLE)
if RENDERED in st.session_state and isinstance(table_state, dict):
    selection = table_state.get("selection")
    rows = selection.get("rows") if isinstance(selection, dict) else None
    selected_ids = review.merge_selection(selected_ids, st.session_state[RENDERED], rows)
if st.session_state.pop("sugg_clear_selection", False):
    selected_ids = []
st.session_state[SELECTED] = selected_ids
st.session_state[RENDERED] = shown_ids
st.session_state[TABLE] = {
    "selection": {"rows": review.positions_of(selected_ids, shown_ids), "columns": [], "cells": []}
}
st.dataframe(
    shown[[col for col in cols if col in shown.columns] + ["suggestion_id"]],
    hide_index=True,
    width="stretch",
    key=TABLE,
    on_select="rerun",
    selection_mode="multi-row",
    column_config={
        "confidence": st.column_config.ProgressColumn("Confidence", min_value=0.0, max_value=1.0),
        "acos": st.column_config.NumberColumn("ACOS", format="percent"),
        "suggestion_id": None,  # the identity the selection is kept by; not for reading
    },
)
scope = review.decision_scope(selected_ids, shown_ids)
if scope.hidden:
    st.caption(
        f"{len(selected_ids)} selected, {scope.hidden} hidden by filters: the buttons act only on the "
        f"{len(scope.ids)} you can see. Widen the filters to act on the others, or clear the selection."
    )
if selected_ids and st.button("Clear selection", key="sugg_clear"):
    st.session_state["sugg_clear_selection"] = True
    st.rerun()
b1, b2, b3, b4 = st.columns(4)
for col, label, decision in (
    (b1, "Approve", "approve"),
    (b2, "Reject", "reject"),
    (b3, "Snooze 7 days", "snooze"),
    (b4, "Back to pending", "reset"),
):
    if col.button(f"{label} ({scope.label})", key=f"decide_{decision}", disabled=not scope.ids):
        n = review.decide(db, scope.ids, decision)
        st.toast(f"{n} suggestion(s): {decision}")
        st.rerun()

approved = review.shown_suggestions(
    db,
    c.account_id,
    c.profile_id,
    types=None,
    statuses=["approved"],
    min_confidence=0.0,
    search="",
    sort_by="confidence",
)
st.subheader("Apply")
st.write(f"{len(approved)} approved change(s) waiting.")
e1, e2 = st.columns(2)
if not approved.empty:
    data, name = review.bulk_file(db, c.account_id, c.profile_id, c.period.end)  # the workbook is written on click
    e1.download_button(
        "Download bulk file (XLSX) of approved changes",
        data,
        file_name=name,
        key="dl_bulk",
        on_click="ignore",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
e2.download_button(
    "Download suggestions (CSV)",
    lambda: sugg.export_suggestions_csv(shown),
    key="dl_sugg",
    on_click="ignore",  # written on click
    file_name=export_filename("suggestions", c.profile_id, c.period.start, c.period.end),
    mime="text/csv",
)
if st.button("Apply approved changes to Amazon…", key="apply", type="primary", disabled=approved.empty):
    # the ids are fixed here: the confirmation lists them and exactly they are sent
    st.session_state[APPLY_IDS] = approved["suggestion_id"].astype(str).tolist()
if st.session_state.get(APPLY_IDS):
    plan = review.apply_plan(db, c.account_id, c.profile_id, st.session_state[APPLY_IDS])
    st.warning(
        f"Send {len(plan.changes)} change(s) to Amazon now? They take effect in the live account; each one is listed below. "
        f"Expected effect: spend {plan.spend_change:+,.2f} {c.currency}, sales {plan.sales_change:+,.2f} {c.currency} "
        "(per the suggestions' estimates)."
    )
    st.dataframe(plan.changes.drop(columns=["suggestion_id"]), hide_index=True, width="stretch", key="apply_plan")
    y, n = st.columns(2)
    if y.button("Yes, send to Amazon", key="apply_confirm", type="primary", disabled=plan.changes.empty):
        st.session_state.pop(APPLY_IDS, None)
        try:
            st.session_state["apply_result"] = review.apply_approved_changes(
                db, vault, c.account_id, c.profile_id, plan.suggestion_ids, confirmed=True
            )
            st.rerun()  # redraw without the question, with the approved list now empty
        except DashboardError as exc:
            common.show_error(exc)
    if n.button("Cancel", key="apply_cancel"):
        st.session_state.pop(APPLY_IDS, None)
        st.rerun()
result = st.session_state.get("apply_result")
if result is not None:
    ok = int(result["ok"].sum()) if "ok" in result else 0
    if ok == len(result):  # an if statement: a bare `a if c else b` expression is written out by Streamlit's magic
        st.success(f"Amazon accepted {ok} of {len(result)} change(s).")
    else:
        st.error(f"Amazon refused {len(result) - ok} of {len(result)} change(s); see why below.")
    st.dataframe(result, hide_index=True, width="stretch", key="apply_table")

st.subheader("Change history")
hist = review.history(db, c.account_id, c.profile_id)
st.dataframe(hist, hide_index=True, width="stretch", key="history_table")
common.download(hist, "change-history", c, key="dl_history")
undoable = review.undoable_ids(db, c.account_id, c.profile_id, last_batch_only=True)
if st.button(f"Undo the last apply ({len(undoable)} change(s))…", key="undo", disabled=not undoable):
    st.session_state["confirm_undo"] = True
if st.session_state.get("confirm_undo") and undoable:
    st.warning("Put these values back in the live account?")
    if st.button("Yes, undo on Amazon", key="undo_confirm", type="primary"):
        st.session_state["confirm_undo"] = False
        try:
            st.session_state["apply_result"] = review.undo_changes(
                db, vault, c.account_id, c.profile_id, undoable, confirmed=True
            )
            st.rerun()
        except DashboardError as exc:
            common.show_error(exc)
