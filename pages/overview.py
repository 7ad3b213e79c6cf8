"""Overview: is the account profitable, and what changed since the comparison period?"""

import streamlit as st

from pages import common
from services.analytics.charts import ad_vs_organic_figure, trend_figure
from services.analytics.metrics import format_compact, format_metric, format_percent
from services.analytics.sales import known_days

c = common.need_controls()
st.title("Overview")
st.caption(f"{c.period} · {c.window}-day attribution" + (f" · compared with {c.comparison}" if c.comparison else ""))

data = common.overview(c.account_id, c.query(), c.comparison, c.version())
cols = st.columns(6)
for i, tile in enumerate(data.tiles):
    delta = None if tile.change is None else format_percent(tile.change)
    cols[i % 6].metric(
        tile.label,
        format_compact(tile.name, tile.value, c.currency),
        delta,
        help=format_metric(tile.name, tile.value, c.currency),
        delta_color="normal" if tile.higher_is_better else "inverse",
        border=True,
    )
if data.settling:
    st.caption(
        f"The last {len(data.settling)} day(s) are still settling: Amazon adds late conversions for about three days."
    )

grain = st.radio("Trend", ["Daily", "Weekly"], horizontal=True, key="trend_grain")
changes = common.applied_changes(c.account_id, c.profile_id, c.version())
st.plotly_chart(trend_figure(data.daily, grain, data.settling, changes, c.currency), key="trend_chart")

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
if data.movers.empty:
    st.write("No comparison period selected, or nothing to compare.")
else:
    common.table(data.movers, c, "movers")
    common.download(data.movers, "movers", c, key="dl_movers")
common.download(data.daily, "daily", c, key="dl_daily")
