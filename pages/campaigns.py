"""Campaigns: every campaign, drill-down to ad groups and targets, placements."""

import streamlit as st

from pages import common
from services.analytics.charts import placement_figure

c = common.need_controls()
st.title("Campaigns")
table = common.campaigns(c.account_id, c.query(), c.version())
common.table(
    table,
    c,
    "campaigns_table",
    [
        "campaign_name",
        "state",
        "serving_status",
        "targeting_type",
        "bidding_strategy",
        "budget",
        "budget_use",
        "sales_trend",
    ],
    column_config={
        "sales_trend": st.column_config.LineChartColumn("Sales trend"),
        "budget_use": st.column_config.ProgressColumn("Budget use", min_value=0.0, max_value=1.0, format="percent"),
    },
)
common.download(table.drop(columns=["sales_trend"]), "campaigns", c, key="dl_campaigns")

st.subheader("Drill down")
names = dict(zip(table["campaign_id"], table["campaign_name"].fillna(table["campaign_id"])))
campaign_id = st.selectbox("Campaign", list(names), format_func=lambda i: names[i], key="drill_campaign")
if campaign_id:
    groups = common.ad_groups(c.account_id, c.query(), campaign_id, c.version())
    common.table(groups, c, "ad_groups_table", ["ad_group_name", "state", "default_bid"])
    common.download(groups, "ad-groups", c, key="dl_ad_groups")
    if not groups.empty:
        gnames = dict(zip(groups["ad_group_id"], groups["ad_group_name"].fillna(groups["ad_group_id"])))
        ad_group_id = st.selectbox("Ad group", list(gnames), format_func=lambda i: gnames[i], key="drill_ad_group")
        targets = common.targets(c.account_id, c.query(), ad_group_id, c.version())
        common.table(targets, c, "targets_table", ["targeting", "kind", "match_type", "state", "bid"])
        common.download(targets, "targets", c, key="dl_targets")
    st.subheader("Placements")
    place = common.placements(c.account_id, c.query(), campaign_id, c.version())
    st.plotly_chart(placement_figure(place, c.currency), key="placement_chart")
    common.table(place, c, "placements_table", ["placement"])
    common.download(place, "placements", c, key="dl_placements")
