"""`make run` (DASHBOARD_DEMO=1) opens on the demo seller: its profiles are listed on the first visit."""

from tests.pages.conftest import new_app


def test_first_visit_lands_on_the_demo_seller(app_env, monkeypatch):
    monkeypatch.setenv("DASHBOARD_DEMO", "1")
    at = new_app()
    assert not at.exception, at.exception
    assert at.session_state["account_id"]
    profiles = at.dataframe[0].value
    assert sorted(profiles["country_code"]) == ["DE", "UK", "US"]
