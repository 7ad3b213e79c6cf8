"""One seller, one account (issue 12): a sign-in as another seller never replaces an account's token, a profile
another account holds is refused on every path (consent, paste, demo, sync, CLI --account and --sandbox), and
removing an account deletes only the rows of the profiles it owns.

The sandbox has two sellers: "demo" (US, UK, DE) and "second" (CA). A consent with `seller=second` for an account
connected as demo is exactly the takeover the issue reproduced.
"""

from __future__ import annotations

import json

import pytest
from consent import consent
from cryptography.fernet import Fernet

from sandbox.credentials import AUTHORIZATIONS, DEMO_CLIENT
from services import accounts, connect
from services.errors import DashboardError
from services.secrets.vault import Vault
from services.store import open_db
from services.sync import cli, sync_account

DEMO_TOKEN = AUTHORIZATIONS["demo"]["refresh_token"]


@pytest.fixture()
def two_sellers(tmp_path, sandbox):
    """Account "Demo" connected as the demo seller and "Second" as the second seller, through the consent page."""
    path = tmp_path / "two.db"
    db, vault = open_db(path), Vault(secret_keys=Fernet.generate_key().decode())
    demo = consent(db, vault, sandbox, name="Demo", seller="demo")
    second = consent(db, vault, sandbox, name="Second", seller="second")
    assert sorted(owners(db).values()) == sorted([demo] * 3 + [second])
    return path, db, vault, demo, second


def token_of(db, vault, account_id: str) -> str:
    return vault.decrypt(accounts.get_account(db, account_id)["refresh_token_enc"])


def owners(db) -> dict[str, str]:
    return {r["profile_id"]: r["account_id"] for r in db["profiles"].rows}


def test_identity_recorded_at_first_connect(two_sellers, sandbox):
    _, db, _, demo, second = two_sellers
    ids = {a: accounts.get_account(db, a)["seller_ids"] for a in (demo, second)}
    demo_seller = {str(p["accountInfo"]["id"]) for p in sandbox.world.profiles() if p["countryCode"] == "US"}
    assert ids[demo] == ",".join(sorted(demo_seller))
    assert ids[second] and ids[second] != ids[demo]


def test_reconnect_as_another_seller_is_refused_and_keeps_the_token(two_sellers, sandbox):
    _, db, vault, demo, second = two_sellers
    before, tokens = owners(db), {a: token_of(db, vault, a) for a in (demo, second)}
    with pytest.raises(DashboardError, match="another seller than the one connected as “Second”.*nothing was changed"):
        consent(db, vault, sandbox, seller="demo", account_id=second)
    assert token_of(db, vault, second) == tokens[second]  # the issue: it *was* replaced
    with pytest.raises(DashboardError, match="another seller than the one connected as “Demo”"):
        consent(db, vault, sandbox, seller="second", account_id=demo)
    assert token_of(db, vault, demo) == tokens[demo]
    assert owners(db) == before
    # the right seller reconnects fine
    assert consent(db, vault, sandbox, seller="second", account_id=second) == second
    assert owners(db) == before


def test_consent_for_a_seller_already_connected_is_refused(two_sellers, sandbox):
    _, db, vault, demo, _ = two_sellers
    with pytest.raises(DashboardError, match="already connected as “Demo”. Reconnect that account instead"):
        consent(db, vault, sandbox, name="Demo again", seller="demo")
    # the same through the name of the other account (a new consent with an existing name updates that account)
    with pytest.raises(DashboardError, match="another seller than the one connected as “Second”"):
        consent(db, vault, sandbox, name="Second", seller="demo")
    assert db["accounts"].count == 2 and set(owners(db).values()) == {demo, two_sellers[4]}


def test_paste_a_token_path_is_refused(two_sellers, sandbox):
    _, db, vault, _, second = two_sellers
    token = token_of(db, vault, second)
    paste = dict(
        region="NA",
        client_id=DEMO_CLIENT["client_id"],
        client_secret=DEMO_CLIENT["client_secret"],
        refresh_token=DEMO_TOKEN,
        sandbox_url=sandbox.url,
    )
    with pytest.raises(DashboardError, match="another seller than the one connected as “Second”"):
        connect.connect_and_list(db, vault, "Second", **paste)
    assert token_of(db, vault, second) == token
    with pytest.raises(DashboardError, match="already connected as “Demo”"):
        connect.connect_and_list(db, vault, "Pasted demo", **paste)
    assert accounts.find_account(db, "Pasted demo") is None


def test_demo_button_never_rewrites_another_authorization(tmp_path, sandbox):
    db, vault = open_db(tmp_path / "d.db"), Vault(secret_keys=Fernet.generate_key().decode())
    held = consent(db, vault, sandbox, name=accounts.DEMO_ACCOUNT_NAME, seller="second")
    token = token_of(db, vault, held)
    creds = {"client_id": DEMO_CLIENT["client_id"], "client_secret": DEMO_CLIENT["client_secret"]}
    with pytest.raises(DashboardError, match="already connected to another Amazon authorization"):
        accounts.connect_demo(db, vault, sandbox.url, {**creds, "refresh_token": DEMO_TOKEN})
    assert token_of(db, vault, held) == token


def test_sync_of_a_taken_over_account_moves_nothing(two_sellers):
    """A token replaced before this fix (or by any path we do not know of): the sync refuses the other profiles."""
    path, db, vault, demo, second = two_sellers
    before = owners(db)
    accounts.update_refresh_token(db, vault, second, DEMO_TOKEN)  # what the old reconnect did
    summary = sync_account(path, second, vault, days=1)
    assert owners(db) == before  # the issue: "its next sync moved the first seller's three profiles to it"
    assert summary.status == "partial" and summary.failures == 3 and summary.reports == 0
    assert all("already connected as “Demo”" in e for e in summary.errors[-3:])


def test_cli_account_refuses_and_exits_non_zero(two_sellers, capsys):
    path, db, vault, _, second = two_sellers
    before = owners(db)
    accounts.update_refresh_token(db, vault, second, DEMO_TOKEN)
    key = vault.keys_csv
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DASHBOARD_SECRET_KEYS", key)
        code = cli.main(["--db", str(path), "--account", "Second", "--days", "1"])
    assert code == 1 and owners(open_db(path)) == before
    errors = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["errors"]
    assert any("already connected as “Demo”" in e for e in errors)


def test_cli_sandbox_never_rewrites_an_existing_account(tmp_path, sandbox, capsys, monkeypatch):
    """`--sandbox` used to rewrite an account named like the demo with the demo's token, then sync over it."""
    path = tmp_path / "cli.db"
    db, vault = open_db(path), Vault(secret_keys=Fernet.generate_key().decode())
    monkeypatch.setenv("DASHBOARD_SECRET_KEYS", vault.keys_csv)
    held = consent(db, vault, sandbox, name=accounts.DEMO_ACCOUNT_NAME, seller="second")
    token = token_of(db, vault, held)
    assert cli.main(["--db", str(path), "--sandbox", "--days", "1", "--sandbox-latency", "0.1"]) == 2
    assert "already connected to another Amazon authorization" in capsys.readouterr().err
    assert token_of(db, vault, held) == token


def test_cli_sandbox_leaves_profiles_another_account_holds(tmp_path, sandbox, capsys, monkeypatch):
    """The demo seller connected by consent (same seed as the CLI's sandbox): `--sandbox` syncs none of it."""
    path = tmp_path / "cli2.db"
    db, vault = open_db(path), Vault(secret_keys=Fernet.generate_key().decode())
    monkeypatch.setenv("DASHBOARD_SECRET_KEYS", vault.keys_csv)
    held = consent(db, vault, sandbox, name="Demo (consent)", seller="demo")
    before = owners(db)
    assert set(before.values()) == {held}
    code = cli.main(["--db", str(path), "--sandbox", "--days", "1", "--sandbox-latency", "0.1"])
    assert code == 1 and owners(open_db(path)) == before
    errors = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["errors"]
    assert sum("already connected as “Demo (consent)”" in e for e in errors) == 3


def test_removal_deletes_only_the_owners_rows(two_sellers, sandbox):
    path, db, vault, demo, second = two_sellers
    for aid in (demo, second):
        assert sync_account(path, aid, vault, days=2).status == "ok"

    def campaign_days(account_id: str) -> int:
        return db.conn.execute(
            "SELECT COUNT(*) FROM campaign_day WHERE profile_id IN (SELECT profile_id FROM profiles "
            "WHERE account_id = ?)",
            [account_id],
        ).fetchone()[0]

    demo_rows, second_rows = campaign_days(demo), campaign_days(second)
    assert demo_rows > 0 and second_rows > 0
    total = db["campaign_day"].count
    # the sequence: a wrong-seller reconnect (refused now; forced below as the old code did), a sync, removal
    with pytest.raises(DashboardError):
        consent(db, vault, sandbox, seller="demo", account_id=second)
    accounts.update_refresh_token(db, vault, second, DEMO_TOKEN)
    sync_account(path, second, vault, days=2)
    connect.remove_account(db, second)
    assert campaign_days(demo) == demo_rows  # the issue: 4,390 -> 70
    assert db["campaign_day"].count == total - second_rows
    assert db["profiles"].count == 3 and accounts.find_account(db, "Second") is None
