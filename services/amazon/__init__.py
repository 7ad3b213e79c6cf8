"""Amazon's APIs as plain clients: one HTTP retry policy (`http`), one region-to-host map (`regions`), Login with
Amazon (`lwa`), the Ads API (`ads`) and the SP-API Reports API (`spapi`).

Imports only `services.errors`: no store, no secrets, no Streamlit, so every client is usable and testable alone.
"""
