"""Amazon API clients and data services for the PPC dashboard.

Plain Python only: nothing in this package may import streamlit, so that the sync
job, the tests and the CLI can use it without a UI. Modules are imported
explicitly (``from services.ads_api import AdsClient``); this file re-exports
nothing so that importing one client never drags in the others.
"""
