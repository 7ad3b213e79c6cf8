"""Two sellers, two sessions: neither sees the other's numbers, through the cache included; and no session
state or cache entry ever holds a token, secret or code."""

from __future__ import annotations

import os

import pytest

from tests.pages.conftest import new_app

SECRET_SHAPES = ("Atzr|", "Atza|", "amzn1.oa2-cs.v1.", "client_secret=", "code=")


@pytest.fixture(scope="module")
def two_accounts(app_env, tmp_path_factory):
    """An agency's store of its own: the demo seller and the second seller, each synced 14 days."""
    from sandbox.credentials import AUTHORIZATIONS, DEMO_CLIENT
    from services import connect
    from services.demo import sandbox_url

    saved = os.environ["DASHBOARD_DB"]
    path = tmp_path_factory.mktemp("agency") / "agency.db"
    os.environ["DASHBOARD_DB"] = str(path)
    try:
        db, vault = connect.open_store(path), connect.make_vault(path)
        a = connect.connect_demo_seller(db, vault)
        connect.refresh_profiles(db, vault, a)
        b, _ = connect.connect_and_list(
            db,
            vault,
            "Second Seller",
            "NA",
            DEMO_CLIENT["client_id"],
            DEMO_CLIENT["client_secret"],
            AUTHORIZATIONS["second"]["refresh_token"],
            sandbox_url=sandbox_url(),
        )
        for aid in (a, b):
            assert connect.run_sync(path, vault, aid, None, days=14).status == "ok"
        yield a, b, db
    finally:
        os.environ["DASHBOARD_DB"] = saved


def _campaign_names(at) -> set[str]:
    assert not at.exception, at.exception
    names = at.dataframe[0].value["campaign_name"]
    return set(names[~names.str.startswith("Total · ")])  # the table's totals row is not a campaign


def _own(db, account_id) -> set[str]:
    """Names of the campaigns of the account's first listed profile (what its session shows by default)."""
    pid = db.conn.execute(
        "SELECT profile_id FROM profiles WHERE account_id = ? ORDER BY CASE region WHEN 'NA' "
        "THEN 0 WHEN 'EU' THEN 1 ELSE 2 END, country_code LIMIT 1",
        [account_id],
    ).fetchone()[0]
    return {
        r[0] for r in db.conn.execute("SELECT DISTINCT campaign_name FROM campaign_day WHERE profile_id = ?", [pid])
    }


def _profiles(at) -> list[str]:
    return list(at.sidebar.selectbox(key="profile_id").options)


def test_two_sessions_two_accounts_see_only_their_own(two_accounts):
    a, b, db = two_accounts
    at_a, at_b = new_app(a, "campaigns.py"), new_app(b, "campaigns.py")
    names_a, names_b = _campaign_names(at_a), _campaign_names(at_b)
    only_a = _own(db, a) - _own(db, b)  # the sandbox's sellers share some names; these are A's alone
    assert only_a and names_a <= _own(db, a) and names_b <= _own(db, b) and not names_b & only_a
    assert all(p.startswith("CA") for p in _profiles(at_b))
    assert not any(p.startswith("CA") for p in _profiles(at_a))
    # the same pages again: now served from st.cache_data, still each its own
    at_a.run()
    at_b.run()
    assert _campaign_names(at_a) == names_a and _campaign_names(at_b) == names_b


def test_forged_profile_of_another_account_is_not_shown(two_accounts):
    a, b, db = two_accounts
    pid_a = db.conn.execute(
        "SELECT profile_id FROM profiles WHERE account_id = ? AND country_code = 'US'", [a]
    ).fetchone()[0]
    _campaign_names(new_app(a, "campaigns.py"))  # A's frames are in the cache now
    names_a = _own(db, a) - _own(db, b)
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import APP

    names_b = _own(db, b)
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["account_id"] = b
    at.session_state["profile_id"] = pid_a  # a hand-edited session pointing at A's profile
    at.run()
    at.switch_page("pages/campaigns.py").run()
    assert not at.exception
    shown = _campaign_names(at) if at.dataframe else set()
    assert not shown & names_a and shown <= names_b


def test_switching_is_one_click_and_leaves_nothing_behind(two_accounts):
    a, b, db = two_accounts
    at = new_app(a, "campaigns.py")
    assert _campaign_names(at) <= _own(db, a)
    at.sidebar.selectbox(key="sidebar_account").set_value(b).run()
    assert at.session_state["account_id"] == b
    names_b = _campaign_names(at)
    assert names_b and names_b <= _own(db, b) and not names_b & (_own(db, a) - _own(db, b))
    assert all(p.startswith("CA") for p in _profiles(at))


def _strings(obj, depth=0, seen=None):
    """Every str/bytes reachable from obj (dicts, sequences, attributes), a few levels deep."""
    seen = seen if seen is not None else set()
    if id(obj) in seen or depth > 6:
        return
    seen.add(id(obj))
    if isinstance(obj, (str, bytes)):
        yield obj if isinstance(obj, str) else obj.decode("latin-1")
        return
    if isinstance(obj, dict):
        for k, v in list(obj.items()):
            yield from _strings(k, depth + 1, seen)
            yield from _strings(v, depth + 1, seen)
        return
    if isinstance(obj, (list, tuple, set, frozenset)):
        for v in list(obj):
            yield from _strings(v, depth + 1, seen)
        return
    if hasattr(obj, "__dict__") and type(obj).__module__.startswith(("streamlit", "cachetools", "collections")):
        yield from _strings(vars(obj), depth + 1, seen)


def test_no_secret_in_session_state_or_any_cache(two_accounts):
    from streamlit.runtime.caching import cache_data_api, cache_resource_api

    a, b, db = two_accounts
    at = new_app(a, "overview.py")
    at.switch_page("pages/connect.py").run()
    at.text_input(key="p_name").input("Pasted")
    at.text_input(key="p_client_id").input("amzn1.application-oa2-client." + "b" * 32)
    at.text_input(key="p_secret").input("amzn1.oa2-cs.v1.deadbeef")
    at.text_input(key="p_token").input("Atzr|IwEB cut off")  # refused locally, no call to Amazon
    at.button(key="FormSubmitter:real_account-Check and connect").click().run()
    assert not at.exception
    # the sentence names the expected shape (shown through Markdown, so its "|" is escaped)
    assert "Atzr\\|" in at.error[0].value
    state = at.session_state._state
    for key in list(state.filtered_state):
        text = repr(state[key])
        assert not any(s in text for s in SECRET_SHAPES), key
    blobs = list(_strings(cache_data_api._data_caches)) + list(_strings(cache_resource_api._resource_caches))
    assert blobs
    for blob in blobs:
        assert not any(s in blob for s in SECRET_SHAPES[:3])
