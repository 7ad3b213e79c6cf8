"""Amazon API clients and data services for the PPC dashboard: plain Python, never Streamlit.

Packages by concern, lowest first (the import-linter contracts in `pyproject.toml` check the order):
`errors`/`dates` → `amazon`, `store` → `secrets` → `accounts` → `analytics` → `sync`, `optimizer`, `promotions`
→ `connect`. `demo` is the one module that starts the embedded sandbox, through its public entry point.
"""
