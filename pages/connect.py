"""Connect: pick the demo seller (or, later, a real account) and see its advertising profiles."""
import streamlit as st

from services.errors import DashboardError
from services.profiles import list_demo_profiles

st.title("Connect your Amazon Ads account")
st.write(
    "Explore the dashboard on a simulated seller first: the demo seller runs on a local "
    "stand-in for Amazon, so no token leaves this machine."
)

if st.button("Explore the demo seller", key="demo", type="primary"):
    try:
        st.session_state["demo_profiles"] = list_demo_profiles()
    except DashboardError as exc:
        st.error(str(exc))

profiles = st.session_state.get("demo_profiles")
if profiles is not None:
    st.subheader("Advertising profiles")
    st.dataframe(profiles, hide_index=True, use_container_width=True)
