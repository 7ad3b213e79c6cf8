"""Connect: explore the demo seller or connect a real account, pick profiles, sync."""
import streamlit as st

from pages import common
from services import connect
from services.errors import AuthorizationExpired, DashboardError

st.title("Connect your Amazon Ads account")
db, vault = common.store(), common.vault()

left, right = st.columns(2)
with left:
    st.subheader("Try it first")
    st.write("The demo seller runs on a local stand-in for Amazon: the same screens, no token needed.")
    if st.button("Explore the demo seller", key="demo", type="primary"):
        try:
            st.session_state[common.ACCOUNT_KEY] = connect.connect_demo_seller(db, vault)
            connect.refresh_profiles(db, vault, st.session_state[common.ACCOUNT_KEY])
        except DashboardError as exc:
            common.show_error(exc)
with right:
    st.subheader("Your own account")
    with st.form("real_account", clear_on_submit=True):
        name = st.text_input("Account name", placeholder="e.g. the seller's brand")
        region = st.selectbox("Region", ["NA", "EU", "FE"], format_func={"NA": "North America", "EU": "Europe", "FE": "Far East"}.get)
        client_id = st.text_input("Client ID", value=connect.configured_client_id())
        client_secret = st.text_input("Client secret", type="password", help="Left empty, the one in secrets.toml or the environment is used.")
        refresh_token = st.text_input("Refresh token", type="password", help="Starts with Atzr|. Stored encrypted on this machine only.")
        submitted = st.form_submit_button("Check and connect")
    if submitted:
        try:
            st.session_state[common.ACCOUNT_KEY] = connect.connect_account(
                db, vault, name, region, client_id, client_secret or connect.configured_client_secret(), refresh_token
            )
            connect.refresh_profiles(db, vault, st.session_state[common.ACCOUNT_KEY])
            st.success("Connected. Pick the profiles to sync below.")
        except DashboardError as exc:
            common.show_error(exc)

account_id = common.current_account()
accounts = connect.list_accounts(db)
if not accounts.empty:
    names = dict(zip(accounts["account_id"], accounts["name"]))
    if account_id not in names:
        account_id = None
    chosen = st.selectbox("Account", list(names), format_func=names.get, index=list(names).index(account_id) if account_id else 0, key="account_choice")
    if chosen != account_id:
        st.session_state[common.ACCOUNT_KEY] = account_id = chosen

if account_id:
    profiles = connect.stored_profiles(db, account_id)
    st.subheader("Advertising profiles")
    st.dataframe(profiles, hide_index=True, width="stretch")
    picked = st.multiselect(
        "Profiles to sync", profiles["profile_id"].tolist(), default=profiles["profile_id"].tolist(),
        format_func=lambda p: f"{profiles.set_index('profile_id').loc[p, 'country_code']} ({p})", key="sync_profiles",
    )
    if st.button("Sync now", key="sync", type="primary", disabled=not picked):
        bar = st.progress(0.0, text="Starting…")

        def progress(stage: str, done: int, total: int, rows: int) -> None:
            bar.progress(min(done / total, 1.0) if total else 0.0, text=f"{stage}: {done}/{total} · {rows:,} rows")

        try:
            summary = connect.run_sync(connect.db_path(), vault, account_id, picked, progress)
            bar.progress(1.0, text="Done")
            st.success(connect.describe_summary(summary))
            st.switch_page(common.page_path("overview.py"))
        except AuthorizationExpired as exc:
            st.error(f"{exc} Syncs of this account are paused until it is reconnected.")
        except DashboardError as exc:
            common.show_error(exc)
