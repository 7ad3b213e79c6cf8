"""Suggested changes: review with evidence, approve, apply after confirmation, undo."""

from dataclasses import replace

import streamlit as st

from pages import change_review, common, readonly
from services import optimizer as sugg
from services.analytics import charts
from services.analytics.export import export_filename
from services.analytics.metrics import format_money
from services.errors import DashboardError
from services.optimizer import TYPE_LABELS, detail, review, worklist

SELECTED = "sugg_selected_ids"  # the selection: suggestion ids, never row positions
RENDERED = "_sugg_rendered_ids"  # ids of the table drawn last run, in order: what a click's positions refer to
TABLE = "sugg_table"
APPLY_IDS = "apply_ids"  # the approved ids the open confirmation lists (and will send)
RESULT = "apply_result"  # {"kind": "apply" | "undo", "frame": Amazon's per-item answer}
FILTER_SEEN = "_sugg_filter_seen"  # the filter of the last run: another filter starts again at page 1
STATUS_LABELS = {s: s.capitalize() for s in sugg.STATUSES}

c = common.need_controls()
if not common.can_change(c.account_id):  # a viewer: read and export only (the services refuse changes too)
    readonly.suggestions(c)
    st.stop()
db, vault = common.store(), common.vault()
tz, tz_name = detail.zone(st.context.timezone)
st.title("Suggested changes")
st.caption("Every suggestion shows its evidence and one sentence of why. Nothing reaches Amazon until you confirm.")
change_review.impact_line(c)


def generate() -> int:
    with st.spinner("Computing suggestions from the latest data…"):
        fresh = sugg.generate(db, c.account_id, c.profile_id, attribution=f"{c.window}d")
    common.forget_suggestions()
    return len(fresh)


def when(t) -> str:
    return detail.local_time(t.isoformat(), tz) if t is not None else "never"


# ---------------------------------------------------------------- fresh suggestions after every sync
fresh = worklist.freshness(db, c.account_id, c.profile_id)
auto_key = f"_sugg_auto_{c.account_id}_{c.profile_id}_{fresh.synced_at}"
if fresh.stale and not st.session_state.get(auto_key):
    st.session_state[auto_key] = True  # once per sync and session, even when it fails: no loop of retries
    try:
        n = generate()
        st.success(f"New data from the sync of {when(fresh.synced_at)}: suggestions refreshed, {n} ready for review.")
        fresh = worklist.freshness(db, c.account_id, c.profile_id)
    except DashboardError as exc:
        common.show_error(exc)
s1, s2 = st.columns([3, 2], vertical_alignment="center")
if s2.button("Refresh suggestions from the latest data", key="generate"):  # first: the line beside it is then true
    try:
        st.success(f"{generate()} suggestion(s) ready for review.")
        fresh = worklist.freshness(db, c.account_id, c.profile_id)
    except DashboardError as exc:
        common.show_error(exc)
if fresh.stale:  # prominent, with the button right beside it
    s1.warning(
        f"The data synced {when(fresh.synced_at)} is newer than these suggestions "
        f"(computed {when(fresh.generated_at)}). Refresh them to review today's data."
    )
else:
    s1.caption(f"Suggestions computed {when(fresh.generated_at)} · data synced {when(fresh.synced_at)} ({tz_name}).")

# ---------------------------------------------------------------- the work list (filtered, sorted, paged in SQL)
f1, f2, f3, f4 = st.columns([3, 2, 2, 2])
types = f1.multiselect("Type", list(TYPE_LABELS.values()), key="sugg_types")
statuses = f2.multiselect(
    "Status", list(sugg.STATUSES), default=["pending", "approved"], format_func=STATUS_LABELS.get, key="sugg_status"
)
min_conf = f3.slider("Minimum confidence", 0.0, 1.0, 0.0, 0.05, key="sugg_conf")
sort_by = f4.selectbox("Sort by", list(worklist.SORTS), format_func=worklist.SORTS.get, key="sugg_sort")
g1, g2 = st.columns([2, 3])
search = g2.text_input("Search campaign, ad group, keyword or search term", key="sugg_search")
flt = worklist.ListFilter(
    types=worklist.type_keys(types),
    statuses=tuple(statuses),
    min_confidence=float(min_conf),
    search=search.strip(),
    campaign_id=st.session_state.get("sugg_campaign") or None,
    sort_by=sort_by,
)
if st.session_state.get(FILTER_SEEN) != flt:
    st.session_state[FILTER_SEEN] = flt
    st.session_state["sugg_page"] = 1  # another filter or order: its first page
version = common.suggestions_version(c.account_id, c.profile_id)
flt_page = replace(flt, page=int(st.session_state.get("sugg_page") or 1))
wl, campaigns = common.suggestion_list(c.account_id, c.profile_id, flt_page, c.currency, version)
campaign_names = dict(zip(campaigns["campaign_id"].astype(str), campaigns["campaign_name"]))
counts = dict(zip(campaigns["campaign_id"].astype(str), campaigns["count"]))
if flt.campaign_id and flt.campaign_id not in campaign_names:  # the other filters leave that campaign nothing
    campaign_names[flt.campaign_id] = "(no suggestions with these filters)"
    counts[flt.campaign_id] = 0
g1.selectbox(
    "Campaign",
    [""] + list(campaign_names),
    format_func=lambda cid: (
        f"All campaigns ({len(campaigns)})" if not cid else f"{campaign_names.get(cid) or cid} ({counts.get(cid, 0)})"
    ),
    key="sugg_campaign",
)

summary = " · ".join(f"**{r.label}**: {r.count}" for r in wl.by_type.itertuples())
st.write(summary or "No suggestions match.")
rows = wl.rows
if wl.total:
    first = (wl.page - 1) * flt.page_size + 1
    impact = float(wl.by_type["expected_profit_change"].sum())
    st.caption(
        f"Showing {first:,}–{first + len(rows) - 1:,} of {wl.total:,}, sorted by "
        f"{worklist.SORTS[sort_by].lower()}. Expected profit impact of all {wl.total:,}: "
        f"{format_money(impact, c.currency)} a week (sales change × margin − spend change; a rough estimate)."
    )

# Selection by identity: the truth is the list of selected suggestion ids in session_state. Streamlit reports
# row positions of the table the user clicked on, so they are mapped to ids through the ids of that very table
# (kept from the previous run), and the selection drawn is recomputed from the ids for the table shown now.
# Filtering, sorting, searching, paging or applying therefore never moves a selection to another suggestion.
shown_ids = rows["suggestion_id"].astype(str).tolist()
selected_ids: list[str] = list(st.session_state.get(SELECTED, []))
table_state = st.session_state.get(TABLE)
if RENDERED in st.session_state and isinstance(table_state, dict):
    selection = table_state.get("selection")
    picked_rows = selection.get("rows") if isinstance(selection, dict) else None
    selected_ids = review.merge_selection(selected_ids, st.session_state[RENDERED], picked_rows)
if st.session_state.pop("sugg_clear_selection", False):
    selected_ids = []
st.session_state[SELECTED] = selected_ids
st.session_state[RENDERED] = shown_ids
st.session_state[TABLE] = {
    "selection": {"rows": review.positions_of(selected_ids, shown_ids), "columns": [], "cells": []}
}
view = rows.assign(status=rows["status"].map(STATUS_LABELS))
columns = [
    "type_label",
    "status",
    "change",
    "expected_profit_change",
    "campaign_name",
    "ad_group_name",
    "keyword_text",
    "search_term",
    "product",
    "reason",
    "confidence",
    "clicks",
    "orders",
    "spend",
    "sales",
    "acos",
]
config = common.column_config(view[columns], c.currency)  # headers and formats from the one registry
config["reason"] = st.column_config.TextColumn("Why", width="large", help="The whole sentence is in Details below")
config["confidence"] = st.column_config.ProgressColumn("Confidence", min_value=0.0, max_value=1.0, format="percent")
st.dataframe(
    view,
    hide_index=True,
    width="stretch",
    key=TABLE,
    on_select="rerun",
    selection_mode="multi-row",
    column_order=columns,
    column_config=config,
)
if wl.pages > 1:
    p1, p2 = st.columns([1, 4], vertical_alignment="bottom")
    p1.number_input(f"Page (of {wl.pages})", min_value=1, max_value=wl.pages, step=1, key="sugg_page")
    p2.caption(f"{flt.page_size} suggestions a page; selections on other pages stay selected.")

visible = worklist.matching_ids(db, c.account_id, c.profile_id, flt, among=selected_ids) if selected_ids else []
hidden = len(selected_ids) - len(visible)
scope_label = f"{len(visible)} selected" if selected_ids else f"all {wl.total} shown"
if hidden:
    st.caption(
        f"{len(selected_ids)} selected, {hidden} hidden by filters: the buttons act only on the "
        f"{len(visible)} you can see. Widen the filters to act on the others, or clear the selection."
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
    acts_on = len(visible) if selected_ids else wl.total
    if col.button(f"{label} ({scope_label})", key=f"decide_{decision}", disabled=not acts_on):
        ids = visible if selected_ids else worklist.matching_ids(db, c.account_id, c.profile_id, flt)
        n = review.decide(db, ids, decision)
        common.forget_suggestions()
        st.toast(f"{n} suggestion(s): {decision}")
        st.rerun()

# ---------------------------------------------------------------- the detail of the suggestion picked
focus = next((i for i in reversed(selected_ids) if i in set(visible)), shown_ids[0] if shown_ids else None)
row = detail.suggestion_detail(db, c.account_id, c.profile_id, focus) if focus else None
if row is not None:
    st.subheader("Details")
    if not selected_ids:
        st.caption("Tick a row to see its details; this is the first suggestion of the list.")
    st.markdown(f"**{common.md(detail.headline(row, c.currency))}**")
    st.write(common.md(row.get("reason") or ""))
    product = detail.product_name(db, c.profile_id, row)
    if product:
        st.caption(f"Product: {common.md(product)} ({detail.asin_in(row)})")
    target = detail.target_sentence(detail.evidence_of(row), row.get("target_acos"))
    if target:
        st.info(common.md(target))
    st.dataframe(
        detail.evidence_table(db, c.account_id, c.profile_id, row, c.currency),
        hide_index=True,
        width="stretch",
        key="sugg_evidence",
        column_config={
            "evidence": st.column_config.TextColumn("Evidence"),
            "value": st.column_config.TextColumn("Value"),
            "meaning": st.column_config.TextColumn("What it means", width="large"),
        },
    )
    what, days = detail.entity_days(db, c.profile_id, row)
    if not days.empty:
        st.caption(f"The {what}, last {len(days)} synced days (sales are 7-day attributed).")
        st.plotly_chart(charts.recent_days_figure(days, c.currency), key="sugg_recent_days")

# ---------------------------------------------------------------- apply
n_approved = worklist.status_count(db, c.account_id, c.profile_id, "approved")
st.subheader("Apply")
st.write(f"{n_approved} approved change(s) waiting.")
e1, e2 = st.columns(2)
if n_approved:
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
    "Download these suggestions (CSV)",
    lambda: review.suggestions_csv(worklist.matching_rows(db, c.account_id, c.profile_id, flt), c.currency),
    key="dl_sugg",
    on_click="ignore",  # written on click: every suggestion the filters match, all pages
    file_name=export_filename("suggestions", c.profile_id, c.period.start, c.period.end),
    mime="text/csv",
)
if st.button("Apply approved changes to Amazon…", key="apply", type="primary", disabled=not n_approved):
    # the ids are fixed here: the confirmation lists them and exactly they are sent
    st.session_state[APPLY_IDS] = worklist.ids_with_status(db, c.account_id, c.profile_id, "approved")
if st.session_state.get(APPLY_IDS):
    plan = review.apply_plan(db, c.account_id, c.profile_id, st.session_state[APPLY_IDS], c.currency)
    st.warning(
        f"Send {len(plan.changes)} change(s) to Amazon now? They take effect in the live account; each one is listed "
        f"below. Expected effect: spend {plan.spend_change:+,.2f} {c.currency}, sales {plan.sales_change:+,.2f} "
        f"{c.currency} a week (per the suggestions' estimates)."
    )
    st.dataframe(
        plan.changes,
        hide_index=True,
        width="stretch",
        key="apply_plan",
        column_order=["entity_type", "entity", "campaign", "ad_group", "field", "change"],
        column_config=common.column_config(plan.changes, c.currency),
    )
    y, n = st.columns(2)
    if y.button("Yes, send to Amazon", key="apply_confirm", type="primary", disabled=plan.changes.empty):
        st.session_state.pop(APPLY_IDS, None)
        try:
            st.session_state[RESULT] = {
                "kind": "apply",
                "frame": review.apply_approved_changes(
                    db, vault, c.account_id, c.profile_id, plan.suggestion_ids, confirmed=True
                ),
            }
            common.forget_suggestions()
            st.rerun()  # redraw without the question, with the approved list now empty
        except DashboardError as exc:
            common.show_error(exc)
    if n.button("Cancel", key="apply_cancel"):
        st.session_state.pop(APPLY_IDS, None)
        st.rerun()
result = st.session_state.get(RESULT)
if isinstance(result, dict):
    all_ok, sentence = review.outcome_sentence(result["kind"], result["frame"])
    if all_ok:  # an if statement: a bare `a if c else b` expression is written out by Streamlit's magic
        st.success(sentence)
    else:
        st.error(sentence)
    st.dataframe(result["frame"], hide_index=True, width="stretch", key="apply_table")

# ---------------------------------------------------------------- history and undo
st.subheader("Change history")
if st.context.timezone and tz_name == st.context.timezone:
    st.caption(f"Times in your browser's time zone ({tz_name}).")
else:
    st.caption("Times in UTC: your browser did not tell its time zone.")
hist = change_review.history(c, db, tz_name)  # each applied change with its measured effect
st.dataframe(
    hist,
    hide_index=True,
    width="stretch",
    key="history_table",
    column_order=[col for col in hist.columns if col not in ("old_value", "new_value", "change_id")],
    column_config={
        **common.column_config(hist, c.currency),
        "applied_at": st.column_config.TextColumn(f"Applied ({tz_name})"),
        "undone_at": st.column_config.TextColumn(f"Undone ({tz_name})"),
        "ok": st.column_config.CheckboxColumn("Accepted"),
    },
)
common.download(hist, "change-history", c, key="dl_history", label="Download the change history (CSV)")
change_review.effects_download(c)
undoable = review.undoable_ids(db, c.account_id, c.profile_id, last_batch_only=True)
if st.button(f"Undo the last apply ({len(undoable)} change(s))…", key="undo", disabled=not undoable):
    st.session_state["confirm_undo"] = True
if st.session_state.get("confirm_undo") and undoable:
    st.warning("Put these values back in the live account?")
    if st.button("Yes, undo on Amazon", key="undo_confirm", type="primary"):
        st.session_state["confirm_undo"] = False
        try:
            st.session_state[RESULT] = {
                "kind": "undo",
                "frame": review.undo_changes(db, vault, c.account_id, c.profile_id, undoable, confirmed=True),
            }
            common.forget_suggestions()
            st.rerun()
        except DashboardError as exc:
            common.show_error(exc)

# ---------------------------------------------------------------- the autopilot's runs
change_review.autopilot_runs(c, db, vault, tz_name, may_change=True, result_key=RESULT)
