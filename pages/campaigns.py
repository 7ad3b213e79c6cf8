"""Campaigns: every campaign with spend, sales and ACOS first; click a row for its ad groups, then its targets."""

import streamlit as st

from pages import common
from services.analytics import table_view as tv
from services.analytics.charts import placement_figure
from services.analytics.presentation import enum_label

CHARTS = {
    "sales_trend": st.column_config.LineChartColumn("Sales trend"),
    "budget_use": st.column_config.ProgressColumn("Budget use", min_value=0.0, max_value=1.0, format="percent"),
}


def clicked_row(key: str, shown, label_column: str):
    """The row a person clicked in the table `key` (None for none, or for the totals row)."""
    selection = st.session_state.get(key)
    rows = (selection or {}).get("selection", {}).get("rows", []) if selection else []
    if not rows or rows[0] >= len(shown):
        return None
    row = shown.iloc[rows[0]]
    return None if tv.is_total(row, label_column) else row


def clickable_table(df, key: str, label_column: str, noun: str, **kw):
    """The table with its totals row, one row selectable: the click drills down (Streamlit's row selection)."""
    shown = tv.with_totals(df, label_column, noun)
    common.table(shown, c, key, on_select="rerun", selection_mode="single-row", **kw)
    return clicked_row(key, shown, label_column)


c = common.need_controls()
st.title("Campaigns")
campaigns = common.campaigns(c.account_id, c.query(), c.version())

left, mid, right = st.columns([2, 1, 1])
text = left.text_input("Search campaigns", key="campaign_search", placeholder="Part of a campaign name")
states = mid.multiselect(
    "State",
    sorted(campaigns["state"].dropna().unique()),
    format_func=lambda v: str(enum_label("state", v)),
    key="campaign_states",
)
targeting = right.multiselect(
    "Targeting",
    sorted(campaigns["targeting_type"].dropna().unique()),
    format_func=lambda v: str(enum_label("targeting_type", v)),
    key="campaign_targeting",
)
found = tv.keep_values(
    tv.keep_values(tv.search(campaigns, text, ["campaign_name"]), "state", states), "targeting_type", targeting
)
table = tv.arrange(found, tv.CAMPAIGN_COLUMNS)
st.caption(f"{len(table)} of {len(campaigns)} campaigns · click a row to see its ad groups and targets.")
campaign = clickable_table(table, "campaigns_table", "campaign_name", "campaigns", column_config=CHARTS)
common.download(
    table.drop(columns=["sales_trend"]), "campaigns", c, key="dl_campaigns", label="Download these campaigns (CSV)"
)

if campaign is None:
    st.info("Click a campaign's row to see its ad groups, their targets and the campaign's placements.")
else:
    campaign_id = campaign["campaign_id"]
    if st.session_state.get("_drilled_campaign") != campaign_id:  # another campaign: its own ad groups, none chosen
        st.session_state["_drilled_campaign"] = campaign_id
        st.session_state.pop("ad_groups_table", None)
    st.subheader(f"Ad groups of {common.md(campaign['campaign_name'])}")
    groups = tv.arrange(common.ad_groups(c.account_id, c.query(), campaign_id, c.version()), tv.AD_GROUP_COLUMNS)
    group = clickable_table(groups, "ad_groups_table", "ad_group_name", "ad groups")
    common.download(groups, "ad-groups", c, key="dl_ad_groups", label="Download these ad groups (CSV)")
    if group is None:
        st.caption("Click an ad group's row to see its keywords and targets.")
    else:
        st.subheader(f"Keywords and targets of {common.md(group['ad_group_name'])}")
        targets = tv.arrange(
            common.targets(c.account_id, c.query(), group["ad_group_id"], c.version()), tv.TARGET_COLUMNS
        )
        common.table(tv.with_totals(targets, "targeting", "targets"), c, "targets_table")
        common.download(targets, "targets", c, key="dl_targets", label="Download these targets (CSV)")
    st.subheader("Placements")
    place = common.placements(c.account_id, c.query(), campaign_id, c.version())
    st.plotly_chart(placement_figure(place, c.currency), key="placement_chart")
    place = tv.arrange(place, ["placement", *tv.READING_ORDER])
    common.table(place, c, "placements_table")
    common.download(place, "placements", c, key="dl_placements", label="Download the placements (CSV)")
