"""Entry point: page config, navigation and the shared sidebar.

Pages live in `pages/` and stay thin: they read widgets, call one function in
`services/` and render. Run with `make run` (or `streamlit run app.py`).
"""
from pathlib import Path

import streamlit as st

HERE = Path(__file__).parent

st.set_page_config(page_title="Amazon Ads dashboard", page_icon="📈", layout="wide")

pages = [
    st.Page(HERE / "pages" / "connect.py", title="Connect", icon="🔌", url_path="connect", default=True),
]
nav = st.navigation(pages)
nav.run()
