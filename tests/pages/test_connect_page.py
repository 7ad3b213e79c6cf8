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
