"""Overview: is the account profitable, and what changed since the comparison period?"""

import streamlit as st

from pages import common
from services.analytics.charts import ad_vs_organic_figure, trend_figure
from services.analytics.metrics import format_compact, format_metric, format_percent
from services.analytics.periods import comparison_gap, comparison_period
from services.analytics.sales import known_days

TILES_PER_ROW = 6  # 18 tiles in three rows; format_compact keeps every value short enough for this width

c = common.need_controls()
st.title("Overview")
st.caption(f"{c.period} · {c.window}-day attribution" + (f" · compared with {c.comparison}" if c.comparison else ""))

data = common.overview(c.account_id, c.query(), c.comparison, c.version())
# the sidebar drops a comparison period that lies wholly before the synced data; partly before, the overview does
choice = st.session_state.get("comparison_choice", "No comparison")
wanted = None if choice == "No comparison" else comparison_period(c.period, choice)
gap = data.comparison_gap or comparison_gap(wanted, c.first_date)
if gap:
    st.warning(
        f"The comparison period ({wanted}) starts before the synced data ({gap}), so its totals would cover only "
        "part of it, or none: no changes are shown. Pick a shorter range, or sync more days on the Connect page."
    )
cols = st.columns(TILES_PER_ROW)
for i, tile in enumerate(data.tiles):
    if gap:
        delta, color, arrow = gap, "off", "off"
    else:
        delta = None if tile.change is None else format_percent(tile.change)
        color, arrow = ("normal" if tile.higher_is_better else "inverse"), "auto"
    cols[i % TILES_PER_ROW].metric(
        tile.label,
        format_compact(tile.name, tile.value, c.currency),
        delta,
        help=f"{tile.label}: {format_metric(tile.name, tile.value, c.currency)}"
        + (
            f" (previous period {format_metric(tile.name, tile.previous, c.currency)})"
            if tile.previous is not None
            else ""
        ),
        delta_color=color,
        delta_arrow=arrow,
        border=True,
    )
if data.settling:
    st.caption(
        f"The last {len(data.settling)} day(s) are still settling: Amazon adds late conversions for about three days."
    )

grain = st.radio("Trend", ["Daily", "Weekly"], horizontal=True, key="trend_grain")
changes = common.applied_changes(c.account_id, c.profile_id, c.version())
st.plotly_chart(trend_figure(data.daily, grain, data.settling, changes, c.currency), key="trend_chart")
common.download(data.daily, "daily", c, key="dl_daily", label="Download the daily trend (CSV)")

st.subheader("Ad sales and organic sales")
if known_days(data.daily):
    st.plotly_chart(ad_vs_organic_figure(data.daily, grain, c.currency), key="organic_chart")
    st.caption("Total sales come from Seller Central and arrive about 72 hours late; newer days are left out.")
else:
    st.info(
        "No total sales for this range yet, so TACoS and organic share stay empty. Amazon publishes them about "
        "72 hours late, and the Amazon authorization needs the sales-and-traffic role (see Connect)."
    )

st.subheader("Biggest movers")
if gap:
    st.write(f"No movers: the comparison period has {gap}.")
elif data.movers.empty:
    st.write("No comparison period selected, or nothing to compare.")
else:
    movers = ["campaign_name", "cost", "cost_prev", "cost_change", "sales", "sales_prev", "sales_change"]
    common.table(data.movers, c, "movers", movers)
    common.download(data.movers[movers], "movers", c, key="dl_movers", label="Download the biggest movers (CSV)")
