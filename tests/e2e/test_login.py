"""Signing in with a real OpenID Connect provider: each person sees only the accounts granted to them.

`oidc-provider-mock` runs a real provider (discovery, authorization form, token endpoint, signed ID tokens) in this
test process on loopback; `streamlit run app.py` uses it through Streamlit's own `st.login`, configured by a
temporary secrets.toml. Two sellers from the sandbox (also in this process), synced into a store of their own:

- Alice is a viewer of the Demo Seller: she sees its data and no other account, has no Apply control, and the
  services refuse her changes;
- Bob is an approver of the Second Seller: he sees only that account and applies its approved suggestions;
- Carol signed in with no grant: one sentence, no account name, no data;
- before signing in: only a login button, whatever page the URL names;
- Dave, an admin, sees both accounts and grants Carol the Second Seller on the Access page: her next visit shows it.
"""

from __future__ import annotations

import secrets
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from tests.e2e.conftest import AppServer, _free_port, _interesting, _require_browser, in_ci, wait_for_app_loaded
from tests.e2e.conftest import wait_for_app_run as settle

try:
    from playwright.sync_api import Page, expect
except ImportError:  # requirements-dev.txt installs it; CI must not hide its absence
    if in_ci():
        raise
    pytest.skip("the playwright package is not installed (make install-dev)", allow_module_level=True)
try:
    from oidc_provider_mock import User, run_server_in_thread
except ImportError:
    if in_ci():
        raise
    pytest.skip("oidc-provider-mock is not installed (make install-dev)", allow_module_level=True)

# the setup syncs two sellers and starts the app (~2 min), then five people sign in: ~8 min on a loaded 2-core machine
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

NO_ACCESS = "You have no access yet; ask an admin to grant you an account."
USERS = {
    "alice": {"email": "Alice@Example.com", "email_verified": True},  # the grant is stored lower-cased
    "bob": {"email": "bob@example.com", "email_verified": True},
    "carol": {"email": "carol@example.com", "email_verified": True},
    "dave": {"email": "dave@example.com", "email_verified": True},
}
ACTION_TIMEOUT = 90_000


class Team:
    """The store, the two accounts, the provider and the app: what every test here looks at."""

    def __init__(self, path: Path, vault, demo: str, second: str, server: AppServer, secret_values: list[str]):
        self.path, self.vault, self.demo, self.second, self.server = path, vault, demo, second, server
        self.secret_values = secret_values
        self.url = f"http://localhost:{server.port}"  # the host of the redirect_uri: the login cookie lives there

    def db(self, user: str | None = None):
        """A connection acting for `user` (by email), as the app binds it for that person's session."""
        from services.accounts import grants
        from services.store import open_db

        db = open_db(self.path)
        return db if user is None else grants.bind(db, grants.person_for(db, user))


@pytest.fixture(scope="module")
def team(request):
    _require_browser()
    from cryptography.fernet import Fernet

    from sandbox import demo_credentials, start_sandbox
    from sandbox.credentials import AUTHORIZATIONS, DEMO_CLIENT
    from services import accounts, connect, optimizer
    from services.accounts import grants
    from services.secrets.vault import Vault
    from services.store import open_db

    workdir = Path(tempfile.mkdtemp(prefix="dashboard-login-"))
    sandbox = start_sandbox(port=0, seed=7, scale="demo", report_latency=0.2)
    key = Fernet.generate_key().decode()
    path, vault = workdir / "team.db", Vault(secret_keys=key)
    db = open_db(path)
    demo = accounts.connect_demo(db, vault, sandbox.url, demo_credentials())
    connect.refresh_profiles(db, vault, demo)
    second, _ = connect.connect_and_list(
        db,
        vault,
        "Second Seller",
        "NA",
        DEMO_CLIENT["client_id"],
        DEMO_CLIENT["client_secret"],
        AUTHORIZATIONS["second"]["refresh_token"],
        sandbox_url=sandbox.url,
    )
    for account_id in (demo, second):  # the profile a session opens on is enough (and keeps the setup short)
        first = connect.stored_profiles(db, account_id)["profile_id"].iloc[0]
        assert connect.run_sync(path, vault, account_id, [first], days=14).status == "ok"
        assert len(optimizer.generate(db, account_id, first, attribution="14d")) > 0
    grants.grant(db, "alice@example.com", demo, grants.VIEWER)
    grants.grant(db, "bob@example.com", second, grants.APPROVER)
    grants.add_admin(db, "dave@example.com")

    provider = run_server_in_thread(port=0, user_claims=[User(sub=s, claims=c) for s, c in USERS.items()])
    oidc = provider.__enter__()
    port = _free_port()
    cookie_secret, client_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    secrets_toml = workdir / "secrets.toml"
    secrets_toml.write_text(
        "[auth]\n"
        f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
        f'cookie_secret = "{cookie_secret}"\n'
        'client_id = "ads-dashboard"\n'
        f'client_secret = "{client_secret}"\n'
        f'server_metadata_url = "http://localhost:{oidc.server_port}/.well-known/openid-configuration"\n'
    )
    server = AppServer(
        workdir,
        port=port,
        env={"DASHBOARD_DB": str(path), "DASHBOARD_SECRET_KEYS": key},
        args=("--secrets.files", str(secrets_toml)),
    )
    try:
        server.wait_healthy()
        yield Team(path, vault, demo, second, server, [cookie_secret, client_secret])
    finally:
        server.stop()
        provider.__exit__(None, None, None)
        sandbox.stop()
        if getattr(request.session, "testsfailed", 0):
            sys.stdout.write("\n---- streamlit server output ----\n" + "\n".join(_interesting(server.output())[-150:]))
        else:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture()
def new_tab(browser):
    """`new_tab()`: a browser context of its own (its own cookies, so each person signs in afresh)."""
    contexts = []

    def make() -> Page:
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


# ---------------------------------------------------------------- what a person does and sees


def sign_in(page: Page, team: Team, sub: str) -> None:
    """Open the app, press Log in, pick the person on the provider's form, come back signed in."""
    page.goto(team.url)
    wait_for_app_loaded(page)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/oauth2/authorize" in url, timeout=30_000)
    page.get_by_role("button", name=sub, exact=True).click()
    page.wait_for_url(lambda url: url.startswith(team.url) and "oauth2callback" not in url, timeout=30_000)
    wait_for_app_loaded(page)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Signed in as", timeout=30_000)


def go_to(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    settle(page, timeout=ACTION_TIMEOUT)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def nav_titles(page: Page) -> list[str]:
    nav = page.get_by_test_id("stSidebarNav")
    # each link reads "<material icon name>\n\n<title>": the title is its last line
    return [t.strip().splitlines()[-1] for t in nav.get_by_role("link").all_inner_texts()] if nav.count() else []


def account_options(page: Page) -> list[str]:
    """The options of the Connect page's account selector, or the one account shown when there is no choice."""
    box = page.get_by_role("combobox", name="Account", exact=True)
    box.first.click()
    options = [t.strip() for t in page.get_by_role("option").all_inner_texts()]
    page.keyboard.press("Escape")
    return options


def shows_nothing_of_any_account(page: Page) -> None:
    body = page.locator("body")
    for name in ("Demo Seller", "Second Seller"):
        expect(body).not_to_contain_text(name)
    for testid in ("stDataFrame", "stMetric", "stPlotlyChart", "stSelectbox"):
        expect(page.get_by_test_id(testid)).to_have_count(0)


# ---------------------------------------------------------------- the tests


def before_signing_in_only_a_login_button(team: Team, tab: Page) -> None:
    for where in ("", "/overview", "/suggestions", "/access"):
        tab.goto(team.url + where)
        wait_for_app_loaded(tab)
        expect(tab.get_by_role("button", name="Log in")).to_be_visible()
        shows_nothing_of_any_account(tab)
        assert nav_titles(tab) == []


def viewer_sees_her_account_and_cannot_apply(team: Team, tab: Page) -> None:
    from services.accounts.grants import NotPermitted
    from services.optimizer import review

    sign_in(tab, team, "alice")
    expect(tab.get_by_test_id("stSidebar")).to_contain_text("alice@example.com")
    assert "Access" not in nav_titles(tab)
    assert account_options(tab) == ["Demo Seller"]
    expect(tab.get_by_role("button", name="Explore the demo seller")).to_have_count(0)
    expect(tab.get_by_role("button", name="Remove this account")).to_have_count(0)
    expect(tab.get_by_role("button", name="Sync now")).to_be_disabled()
    expect(tab.locator("body")).not_to_contain_text("Second Seller")

    go_to(tab, "Overview")  # the account's data
    expect(tab.get_by_role("heading", name="Overview")).to_be_visible()
    expect(tab.get_by_test_id("stMetric").first).to_be_visible()

    go_to(tab, "Suggestions")  # read and export; no decision, apply or undo control
    expect(tab.get_by_text("view-only")).to_be_visible()
    expect(tab.get_by_test_id("stDataFrame").first).to_be_visible()
    expect(tab.get_by_role("button", name="Download suggestions (CSV)")).to_be_visible()
    for name in ("Apply approved changes", "Approve", "Undo the last apply", "Refresh suggestions"):
        expect(tab.get_by_role("button", name=name)).to_have_count(0)
    expect(tab.locator("body")).not_to_contain_text("Second Seller")

    # and the service refuses her, whatever a page would show
    db = team.db("alice@example.com")
    profile = db.conn.execute("SELECT profile_id FROM profiles WHERE account_id = ?", [team.demo]).fetchone()[0]
    pending = [r[0] for r in db.conn.execute("SELECT suggestion_id FROM suggestions WHERE account_id = ?", [team.demo])]
    with pytest.raises(NotPermitted, match="view-only"):
        review.decide(db, pending, "approve")
    with pytest.raises(NotPermitted, match="view-only"):
        review.apply_approved_changes(db, team.vault, team.demo, profile, pending, confirmed=True)
    assert not db.conn.execute("SELECT COUNT(*) FROM change_history WHERE account_id = ?", [team.demo]).fetchone()[0]


def approver_sees_only_his_account_and_applies(team: Team, tab: Page) -> None:
    sign_in(tab, team, "bob")
    assert account_options(tab) == ["Second Seller"]
    expect(tab.locator("body")).not_to_contain_text("Demo Seller")
    go_to(tab, "Overview")
    expect(tab.get_by_test_id("stMetric").first).to_be_visible()
    expect(tab.locator("body")).not_to_contain_text("Demo Seller")

    go_to(tab, "Suggestions")
    approve = tab.get_by_role("button", name="Approve (")
    expect(approve).to_be_enabled()
    approve.click()
    settle(tab, timeout=ACTION_TIMEOUT)
    tab.get_by_role("button", name="Apply approved changes to Amazon").click()
    settle(tab, timeout=ACTION_TIMEOUT)
    tab.get_by_role("button", name="Yes, send to Amazon").click()
    settle(tab, timeout=ACTION_TIMEOUT)
    expect(tab.get_by_test_id("stException")).to_have_count(0)
    expect(tab.get_by_text("Amazon accepted")).to_be_visible(timeout=ACTION_TIMEOUT)

    db = team.db()
    applied = dict(db.conn.execute("SELECT account_id, SUM(ok) FROM change_history GROUP BY account_id").fetchall())
    assert applied.get(team.second, 0) > 0 and team.demo not in applied  # his account only


def stranger_with_no_grant_sees_one_sentence_and_nothing_else(team: Team, tab: Page) -> None:
    sign_in(tab, team, "carol")
    expect(tab.get_by_text(NO_ACCESS)).to_be_visible()
    shows_nothing_of_any_account(tab)
    assert nav_titles(tab) == []
    for where in ("/overview", "/suggestions", "/connect", "/access"):  # typing a page's address changes nothing
        tab.goto(team.url + where)
        wait_for_app_loaded(tab)
        expect(tab.get_by_text(NO_ACCESS)).to_be_visible()
        shows_nothing_of_any_account(tab)
    tab.goto(team.url)  # (an unknown address leaves Streamlit's "page not found" dialog over the page)
    wait_for_app_loaded(tab)
    tab.get_by_role("button", name="Log out").click()  # and out again: back to the login button alone
    tab.wait_for_url(lambda url: "/oauth2/end_session" in url, timeout=30_000)  # the provider's end of session
    tab.goto(team.url)
    wait_for_app_loaded(tab)
    expect(tab.get_by_role("button", name="Log in")).to_be_visible()
    shows_nothing_of_any_account(tab)


def admin_grants_the_stranger_an_account_on_the_access_page(team: Team, tab: Page, stranger_tab: Page) -> None:
    from services.accounts import grants

    sign_in(tab, team, "dave")
    assert "Access" in nav_titles(tab)
    assert account_options(tab) == ["Demo Seller", "Second Seller"]  # an admin sees every account
    go_to(tab, "Access")
    tab.get_by_label("Sign-in email", exact=True).fill("Carol@Example.com")
    box = tab.get_by_role("combobox", name="Account", exact=True).last  # the form's, not the sidebar's switcher
    box.click()
    tab.get_by_role("option", name="Second Seller").click()
    tab.get_by_role("button", name="Grant").click()
    settle(tab, timeout=ACTION_TIMEOUT)
    expect(tab.get_by_text("carol@example.com is now viewer on Second Seller.")).to_be_visible()
    assert grants.person_for(team.db(), "carol@example.com").roles == {team.second: grants.VIEWER}

    sign_in(stranger_tab, team, "carol")  # her next visit shows the account she was just given, and only it
    assert account_options(stranger_tab) == ["Second Seller"]
    expect(stranger_tab.locator("body")).not_to_contain_text("Demo Seller")


def test_a_team_signs_in_and_each_person_sees_only_what_was_granted(team, new_tab):
    """One walk, so the module's heavy setup runs once (and on one xdist worker); each step names what broke."""
    before_signing_in_only_a_login_button(team, new_tab())
    viewer_sees_her_account_and_cannot_apply(team, new_tab())
    approver_sees_only_his_account_and_applies(team, new_tab())
    stranger_with_no_grant_sees_one_sentence_and_nothing_else(team, new_tab())
    admin_grants_the_stranger_an_account_on_the_access_page(team, new_tab(), new_tab())
    output = team.server.output()  # the login's client secret and cookie secret never reach the log
    assert output and not any(value in output for value in team.secret_values)
