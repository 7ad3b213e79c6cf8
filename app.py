"""Entry point: page config, navigation and the shared sidebar.

Pages live in `pages/` and stay thin: they read widgets, call one function in
`services/` and render. The sidebar controls are drawn here, before the page runs,
so that they keep their values across pages. Run with `make run`.
"""

import logging
import os
from pathlib import Path

import streamlit as st

from pages import common
from services.accounts.exposure import serve_refusal
from services.secrets.logsafe import install_redaction

HERE = Path(__file__).parent
install_redaction()

st.set_page_config(page_title="Amazon Ads dashboard", page_icon="📈", layout="wide")

# Nobody let in: without a login, only a loopback address is served (anyone reaching the port could apply bids).
refusal = serve_refusal(st.get_option("server.address"), common.login_configured())
if refusal:
    logging.getLogger(__name__).error("refusing to serve: %s", refusal)
    st.error(refusal)
    st.stop()


def page(name: str, title: str, icon: str, **kw) -> st.Page:
    """Material icons ship with Streamlit, so they render where no emoji font is installed."""
    return st.Page(HERE / "pages" / name, title=title, icon=icon, url_path=name.removesuffix(".py"), **kw)


# With a login: a login button until signed in, one sentence while nothing is granted, and only then the pages,
# each showing only the accounts granted (pages/common.py). Without one: the local user, every right, as before.
me = common.person()
if common.login_configured():
    if not st.user.is_logged_in:
        st.navigation([st.Page(common.login_view, title="Log in", icon=":material/login:")], position="hidden").run()
        st.stop()
    common.signed_in_menu(me)
    if not me.can_administer and not me.roles:
        st.navigation([st.Page(common.no_access_view, title="No access")], position="hidden").run()
        st.stop()
admin_pages = (
    {"Admin": [page("access.py", "Access", ":material/group:")]}
    if common.login_configured() and me.can_administer
    else {}
)

nav = st.navigation(
    {
        "Account": [page("connect.py", "Connect", ":material/power:", default=True)],
        "Analytics": [
            page("overview.py", "Overview", ":material/monitoring:"),
            page("campaigns.py", "Campaigns", ":material/campaign:"),
            page("search_terms.py", "Search terms", ":material/search:"),
            page("products.py", "Products", ":material/inventory_2:"),
        ],
        "Act": [
            page("suggestions.py", "Suggestions", ":material/lightbulb:"),
            page("goals.py", "Goals", ":material/flag:"),
            page("promotions.py", "Promotions", ":material/sell:"),
        ],
        **admin_pages,
    }
)
if os.environ.get("DASHBOARD_DEMO") == "1" and me.can_administer and not common.current_account():
    common.open_demo_seller()  # `make run`: a first visit lands on the demo seller, ready to sync
try:
    st.session_state["_controls"] = common.sidebar()
except Exception:  # the sidebar must never take the page down; details go to the server log
    logging.getLogger(__name__).exception("sidebar failed")
    st.session_state["_controls"] = None
    st.sidebar.error("The controls could not be loaded. Try syncing again from the Connect page.")
nav.run()
