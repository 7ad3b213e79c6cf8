"""Thin Streamlit pages: read widgets, call one function in `services`, render.

`pages.common` holds the shared sidebar and the only `st.cache_*` wrappers. Pages may import `services`;
`services` never imports pages or Streamlit (import-linter contracts in `pyproject.toml`).
"""
