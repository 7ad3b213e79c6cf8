"""Connect: the demo seller, Connect with Amazon (consent), a pasted refresh token; then profiles and sync.

Thin: every action is one call into services.connect. No token, code or secret is kept in session_state:
Amazon's redirect is read from the URL, the URL is cleared at once, and the code goes straight to services.
"""

import logging

import streamlit as st

from pages import common
from services import connect
from services.errors import AuthorizationExpired, DashboardError

log = logging.getLogger(__name__)
REGION_LABELS = {"NA": "North America", "EU": "Europe", "FE": "Far East"}

st.title("Connect your Amazon Ads account")
db, vault = common.store(), common.vault()
me = common.person()  # connecting, reconnecting and removing accounts are an admin's (the services check again)


def fail(exc: Exception) -> None:
    if not isinstance(exc, DashboardError):
        log.error("connect page action failed: %s", type(exc).__name__)
    common.show_error(exc)


def _sentence(exc: Exception) -> str:
    if not isinstance(exc, DashboardError):
        log.error("connect page action failed: %s", type(exc).__name__)
        return "Something went wrong while connecting. Nothing was saved; please try again."
    return str(exc)


def _start_consent() -> None:
    """Form callback: runs before the script, so the secret field can be emptied (never kept in session_state)."""
    ss = st.session_state
    try:
        ss["_consent_url"] = connect.start_consent(
            db, vault, ss["c_name"], ss["c_region"], ss["c_client_id"], ss["c_secret"]
        )
    except Exception as exc:  # noqa: BLE001
        ss["_connect_error"] = _sentence(exc)
    finally:
        ss["c_secret"] = ""


def _paste() -> None:
    """Form callback: connect, then empty the token and secret fields at once."""
    ss = st.session_state
    try:
        ss[common.ACCOUNT_KEY], ss["_connect_ok"] = connect.connect_and_list(
            db, vault, ss["p_name"], ss["p_region"], ss["p_client_id"], ss["p_secret"], ss["p_token"]
        )
    except Exception as exc:  # noqa: BLE001
        ss["_connect_error"] = _sentence(exc)
    finally:
        ss["p_token"] = ss["p_secret"] = ""


# ---- Amazon's redirect back (a new session): take code/state/error off the URL before anything else
callback = st.query_params.to_dict()
if connect.oauth.is_callback(callback):
    st.query_params.clear()
    try:
        st.session_state[common.ACCOUNT_KEY], sentence = connect.finish_consent(db, vault, callback)
        st.success(common.md(sentence))
    except Exception as exc:  # noqa: BLE001 - a sentence, never a traceback
        fail(exc)
    callback = None

if me.can_administer:
    left, right = st.columns(2)
    with left:
        st.subheader("Try it first")
        st.write("The demo seller runs on a local stand-in for Amazon: the same screens, no token needed.")
        if st.button("Explore the demo seller", key="demo", type="primary"):
            try:
                st.session_state[common.ACCOUNT_KEY] = connect.connect_demo_seller(db, vault)
                connect.refresh_profiles(db, vault, st.session_state[common.ACCOUNT_KEY])
            except Exception as exc:  # noqa: BLE001
                fail(exc)
        with st.expander("Try “Connect with Amazon” on the sandbox"):
            seller = st.selectbox(
                "Sandbox seller",
                ["demo", "second"],
                key="sandbox_seller",
                format_func={"demo": "Demo Seller", "second": "Second Seller"}.get,
            )
            if st.button("Start the sandbox consent", key="sandbox_consent"):
                try:
                    st.link_button("Open the sandbox's consent page", connect.start_sandbox_consent(db, vault, seller))
                    st.caption("The link works once, for ten minutes.")
                except Exception as exc:  # noqa: BLE001
                    fail(exc)

    with right:
        st.subheader("Your own account")
        consent_tab, paste_tab = st.tabs(["Connect with Amazon", "Paste a refresh token"])
        with consent_tab:
            with st.form("consent_account"):
                st.text_input("Account name", placeholder="e.g. the seller's brand", key="c_name")
                st.selectbox("Region", list(REGION_LABELS), format_func=REGION_LABELS.get, key="c_region")
                st.text_input("Client ID", value=connect.configured_client_id(), key="c_client_id")
                st.text_input(
                    "Client secret",
                    type="password",
                    key="c_secret",
                    help="Left empty, the one in secrets.toml or the environment is used.",
                )
                st.form_submit_button("Continue to Amazon", on_click=_start_consent)
            url = st.session_state.pop("_consent_url", None)
            if url:
                st.link_button("Open Amazon's consent page", url, type="primary")
                st.caption(
                    "Sign in as the seller and allow access; Amazon sends you back here. The link works once, for ten minutes."
                )
        with paste_tab:
            with st.form("real_account"):
                st.text_input("Account name", placeholder="e.g. the seller's brand", key="p_name")
                st.selectbox("Region", list(REGION_LABELS), format_func=REGION_LABELS.get, key="p_region")
                st.text_input("Client ID", value=connect.configured_client_id(), key="p_client_id")
                st.text_input(
                    "Client secret",
                    type="password",
                    key="p_secret",
                    help="Left empty, the one in secrets.toml or the environment is used.",
                )
                st.text_input(
                    "Refresh token",
                    type="password",
                    key="p_token",
                    help="Starts with Atzr|. Stored encrypted on this machine only.",
                )
                st.form_submit_button("Check and connect", on_click=_paste)
        done, failed = st.session_state.pop("_connect_ok", None), st.session_state.pop("_connect_error", None)
        if done:
            st.success(common.md(done))
        if failed:
            st.error(common.md(failed))
        notice = connect.key_notice(vault)
        (st.info if vault.key_source == "key_file" else st.caption)(notice)


def _choose() -> None:
    st.session_state[common.ACCOUNT_KEY] = st.session_state["account_choice"]
    st.session_state.pop("profile_id", None)


account_id = common.current_account()
accounts = connect.list_accounts(db)
names = dict(zip(accounts["account_id"], accounts["name"]))
if account_id not in names:
    account_id = next(iter(names), None)
    if account_id:
        st.session_state[common.ACCOUNT_KEY] = account_id
if names:
    st.session_state["account_choice"] = account_id
    st.selectbox("Account", list(names), format_func=names.get, key="account_choice", on_change=_choose)

if account_id:
    card = connect.account_card(db, vault, account_id)
    life = connect.token_status(db, account_id)
    st.caption(
        f"{REGION_LABELS.get(card['region'], card['region'])} · refresh token {card['refresh_token']} · "
        f"authorized on {card['authorized_on'] or 'unknown date'}"
    )
    if life.level in ("ok", "unknown"):
        st.caption(common.md(life.message))
    else:
        (st.warning if life.level == "warn" else st.error)(common.md(life.message))
    if me.can_administer:
        with st.expander("Reconnect or remove this account", expanded=life.needs_action):
            if st.button("Reconnect with Amazon", key="reconnect"):
                try:
                    st.link_button(
                        "Open Amazon's consent page", connect.start_reconnect(db, vault, account_id), type="primary"
                    )
                except Exception as exc:  # noqa: BLE001
                    fail(exc)
            sure = st.checkbox(
                "Yes, delete this account's tokens and all of its data from this machine", key="remove_sure"
            )
            if st.button("Remove this account", key="remove", disabled=not sure):
                try:
                    connect.remove_account(db, account_id)
                    st.session_state.pop(common.ACCOUNT_KEY, None)
                    st.session_state.pop("remove_sure", None)
                    st.cache_data.clear()  # its frames leave memory too
                    st.rerun()
                except Exception as exc:  # noqa: BLE001
                    fail(exc)

    notice = connect.sales_traffic_notice(db, account_id)
    if notice:
        st.info(notice)
    profiles = connect.stored_profiles(db, account_id)
    st.subheader("Advertising profiles")
    st.dataframe(profiles, hide_index=True, width="stretch")
    picked = st.multiselect(
        "Profiles to sync",
        profiles["profile_id"].tolist(),
        default=profiles["profile_id"].tolist(),
        format_func=lambda p: f"{profiles.set_index('profile_id').loc[p, 'country_code']} ({p})",
        key="sync_profiles",
    )
    may_sync = me.can_change(account_id)
    if not may_sync:
        st.caption("Your access to this account is view-only: an approver or an admin syncs it.")
    if st.button("Sync now", key="sync", type="primary", disabled=not picked or not life.can_sync or not may_sync):
        bar = st.progress(0.0, text="Starting…")

        def progress(stage: str, done: int, total: int, rows: int) -> None:
            bar.progress(
                min(done / total, 1.0) if total else 0.0, text=connect.sync_progress_text(stage, done, total, rows)
            )

        try:
            summary = connect.run_sync(db, vault, account_id, picked, progress)
            bar.progress(1.0, text="Done")
            st.success(common.md(connect.describe_summary(summary)))
            st.switch_page(common.page_path("overview.py"))
        except AuthorizationExpired as exc:
            st.error(f"{common.md(exc)} Use “Reconnect with Amazon” above.")
        except Exception as exc:  # noqa: BLE001
            fail(exc)

    runs = connect.scheduled_runs(db, account_id)
    if not runs.empty:
        st.subheader("Scheduled syncs and autopilot runs")
        st.caption(
            "Jobs run by the job queue (`python -m services.jobs worker`), newest first. An autopilot run's changes "
            "and their undo are on Suggestions."
        )
        st.dataframe(runs, hide_index=True, width="stretch")
