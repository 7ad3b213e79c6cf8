from tests.pages.conftest import new_app


def test_empty_state_offers_the_demo(app_env):
    at = new_app()
    assert not at.exception
    assert at.title[0].value == "Connect your Amazon Ads account"
    assert at.button(key="demo").label == "Explore the demo seller"


def test_demo_seller_profiles_listed_over_http(app_env):
    at = new_app()
    at.button(key="demo").click().run()
    assert not at.exception, at.exception
    profiles = at.dataframe[0].value
    assert sorted(profiles["country_code"]) == ["DE", "UK", "US"]
    assert set(profiles["currency_code"]) == {"USD", "GBP", "EUR"}
    assert at.session_state["account_id"]


def test_bad_token_gets_a_sentence_not_a_traceback(app_env):
    at = new_app()
    at.text_input(key="p_name").input("Acme")
    at.text_input(key="p_client_id").input("amzn1.application-oa2-client." + "a" * 32)
    at.text_input(key="p_secret").input("amzn1.oa2-cs.v1.abc")
    at.text_input(key="p_token").input("=cmd|' /C calc'!A0")
    at.button(key="FormSubmitter:real_account-Check and connect").click().run()
    assert not at.exception
    assert "Atzr|" in at.error[0].value.replace("\\", "")  # shown escaped: messages can quote names (issue 12)


def test_sync_progress_speaks_a_marketers_language():
    """Why: "The sync progress says deals: 18/96 · 0 rows"."""
    from services.connect import sync_progress_text

    assert sync_progress_text("reports", 12, 96, 48210) == (
        "Downloads from Amazon: 12 of 96 ready · 48,210 rows saved (last: campaign reports)"
    )
    assert sync_progress_text("deals", 18, 96, 0).endswith("(last: deals)")


def test_connected_but_not_synced_pages_say_sync_now(app_env, tmp_path):
    """Why: "Before the first sync, every page says 'Connect an account' although the demo seller is connected"."""
    import os

    from services import connect

    saved = os.environ["DASHBOARD_DB"]
    path = tmp_path / "fresh.db"
    os.environ["DASHBOARD_DB"] = str(path)
    try:
        db, vault = connect.open_store(path), connect.make_vault(path)
        account_id = connect.connect_demo_seller(db, vault)
        connect.refresh_profiles(db, vault, account_id)
        for page in ("overview.py", "campaigns.py", "products.py", "promotions.py"):
            at = new_app(account_id, page)
            assert not at.exception, at.exception
            assert "isn't synced yet" in at.info[0].value and "Connect an account" not in at.info[0].value, page
            assert [link.label for link in at.get("page_link")][-1] == "Sync now on the Connect page"
    finally:
        os.environ["DASHBOARD_DB"] = saved
