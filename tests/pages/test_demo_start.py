"""`make run` (DASHBOARD_DEMO=1) opens on the demo seller: its profiles are listed on the first visit."""

from tests.pages.conftest import new_app


def test_first_visit_lands_on_the_demo_seller(app_env, monkeypatch):
    monkeypatch.setenv("DASHBOARD_DEMO", "1")
    at = new_app()
    assert not at.exception, at.exception
    assert at.session_state["account_id"]
    profiles = at.dataframe[0].value
    assert sorted(profiles["country_code"]) == ["DE", "UK", "US"]


def test_refuses_a_non_loopback_address_without_a_login(app_env):
    """server.address 0.0.0.0 and no [auth]: the page says why and nothing else is drawn (issue 12)."""
    from streamlit import config

    saved = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        at = new_app()
    finally:
        config.set_option("server.address", saved)
    assert not at.exception, at.exception
    assert len(at.error) == 1 and "no login is configured" in at.error[0].value
    assert not at.button and not at.sidebar.selectbox  # the app itself never ran


def test_serves_on_the_committed_loopback_address(app_env):
    from streamlit import config

    assert config.get_option("server.address") == "127.0.0.1"  # .streamlit/config.toml
    at = new_app()
    assert not at.exception and not any("no login is configured" in e.value for e in at.error)
