"""Grants: who may see and change which account once people sign in, the one check the services make, the CLI."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from services import accounts, connect
from services.accounts import grants
from services.accounts.grants import APPROVER, VIEWER, NotPermitted
from services.optimizer import review
from services.optimizer.suggestions import ensure_schema
from services.secrets.vault import Vault
from services.store import open_db, write


@pytest.fixture()
def store(tmp_path):
    """A store with two accounts (no network needed: nothing here talks to Amazon)."""
    path = tmp_path / "g.db"
    db = open_db(path)
    vault = Vault(secret_keys=Fernet.generate_key().decode())
    one = accounts.add_account(db, vault, "Shop One", "NA", "cid", "cs", "Atzr|one")
    two = accounts.add_account(db, vault, "Shop Two", "NA", "cid", "cs", "Atzr|two")
    return path, db, one, two


def as_person(path, user: str | None):
    """A fresh connection acting for `user` (None: the local user without a login), as pages/common.store() does."""
    db = open_db(path)
    person = grants.LOCAL_USER if user is None else grants.person_for(db, user)
    return grants.bind(db, person)


# ------------------------------------------------------------------ identity


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"sub": "abc", "email": "Alice@Example.COM", "email_verified": True}, "alice@example.com"),
        ({"sub": "abc", "email": " Alice@Example.com "}, "alice@example.com"),  # no email_verified claim at all
        ({"sub": "abc", "email": "alice@example.com", "email_verified": False}, "abc"),  # unverified: not trusted
        ({"sub": "Case-Kept-Sub"}, "Case-Kept-Sub"),
        ({"email": ""}, None),
        ({}, None),
    ],
)
def test_user_key_is_the_email_lower_cased_or_the_sub(claims, expected):
    assert grants.user_key(claims) == expected


# ------------------------------------------------------------------ grants, admins, rights


def test_grant_is_one_row_per_person_and_account_and_replaces_the_role(store):
    path, db, one, two = store
    assert grants.grant(db, "Alice@Example.com", "Shop One", VIEWER) == one  # by name
    grants.grant(db, "alice@example.com", one, APPROVER)  # by id, other case: the same person, the role replaced
    grants.grant(db, "bob@example.com", two, VIEWER)
    rows = grants.list_grants(db)
    assert [(r["user"], r["account"], r["role"]) for r in rows] == [
        ("alice@example.com", "Shop One", APPROVER),
        ("bob@example.com", "Shop Two", VIEWER),
    ]
    assert grants.revoke(db, "ALICE@example.com", one) is True
    assert grants.revoke(db, "alice@example.com", one) is False
    assert [r["user"] for r in grants.list_grants(db)] == ["bob@example.com"]


@pytest.mark.parametrize(
    ("user", "account", "role", "words"),
    [
        ("alice@example.com", "No Such Shop", VIEWER, "no connected account"),
        ("alice@example.com", "Shop One", "owner", "viewer"),
        ("   ", "Shop One", VIEWER, "email"),
        ("a\x00b@example.com", "Shop One", VIEWER, "email"),
    ],
)
def test_a_bad_grant_is_refused_with_a_sentence_and_nothing_is_written(store, user, account, role, words):
    _, db, _, _ = store
    with pytest.raises(grants.InvalidGrant, match=words):
        grants.grant(db, user, account, role)
    assert grants.list_grants(db) == []


def test_rights_of_viewer_approver_admin_stranger_and_the_local_user(store):
    path, db, one, two = store
    grants.grant(db, "viewer@example.com", one, VIEWER)
    grants.grant(db, "approver@example.com", two, APPROVER)
    grants.add_admin(db, "boss@example.com")
    viewer, approver = grants.person_for(db, "viewer@example.com"), grants.person_for(db, "Approver@example.com")
    boss, stranger = grants.person_for(db, "boss@example.com"), grants.person_for(db, "nobody@example.com")
    assert viewer.visible([one, two]) == [one] and viewer.can_view(one) and not viewer.can_change(one)
    assert approver.visible([one, two]) == [two] and approver.can_change(two) and not approver.can_view(one)
    assert boss.visible([one, two]) == [one, two] and boss.can_change(one) and boss.can_administer
    assert stranger.visible([one, two]) == [] and not stranger.can_administer
    assert grants.LOCAL_USER.visible([one, two]) == [one, two] and grants.LOCAL_USER.can_change(two)


def test_removing_an_account_removes_its_grants(store):
    _, db, one, two = store
    grants.grant(db, "alice@example.com", one, APPROVER)
    grants.grant(db, "alice@example.com", two, VIEWER)
    accounts.remove_account(db, one)
    assert [(r["account_id"], r["role"]) for r in grants.list_grants(db)] == [(two, VIEWER)]


def test_the_last_admin_cannot_be_removed_from_the_app(store):
    path, db, _, _ = store
    grants.add_admin(db, "boss@example.com")
    with pytest.raises(grants.InvalidGrant, match="last admin"):
        grants.remove_admin(as_person(path, "boss@example.com"), "boss@example.com")
    assert grants.list_admins(db) == ["boss@example.com"]
    assert grants.remove_admin(db, "boss@example.com") is True  # the operator's command line may


# ------------------------------------------------------------------ the services refuse, whatever the page shows


def _suggestion(db, account_id: str, sid: str) -> None:
    ensure_schema(db)
    with write(db):
        db.conn.execute(
            "INSERT INTO suggestions (suggestion_id, suggestion_key, account_id, profile_id, created_at, status) "
            "VALUES (?, ?, ?, 'p1', '2026-01-01', 'pending')",
            [sid, sid, account_id],
        )


def test_a_viewer_cannot_approve_apply_undo_sync_or_remove_in_the_services(store):
    path, db, one, _ = store
    grants.grant(db, "viewer@example.com", one, VIEWER)
    _suggestion(db, one, "s1")
    viewer = as_person(path, "viewer@example.com")
    with pytest.raises(NotPermitted, match="view-only"):
        review.decide(viewer, ["s1"], "approve")
    with pytest.raises(NotPermitted, match="view-only"):  # refused before any client or vault is touched
        review.apply_approved_changes(viewer, None, one, "p1", ["s1"], confirmed=True)
    with pytest.raises(NotPermitted, match="view-only"):
        review.undo_changes(viewer, None, one, "p1", ["c1"], confirmed=True)
    with pytest.raises(NotPermitted, match="view-only"):
        connect.run_sync(viewer, None, one, None)
    with pytest.raises(NotPermitted, match="Only an admin"):
        connect.remove_account(viewer, one)
    with pytest.raises(NotPermitted, match="Only an admin"):
        grants.grant(viewer, "viewer@example.com", one, APPROVER)
    assert db.conn.execute("SELECT status FROM suggestions").fetchone()[0] == "pending"
    assert accounts.get_account(db, one)["name"] == "Shop One"
    assert grants.person_for(db, "viewer@example.com").roles == {one: VIEWER}


def test_an_approver_decides_only_on_their_own_account(store):
    path, db, one, two = store
    grants.grant(db, "approver@example.com", two, APPROVER)
    _suggestion(db, one, "s1")
    _suggestion(db, two, "s2")
    approver = as_person(path, "approver@example.com")
    assert review.decide(approver, ["s2"], "approve") == 1
    with pytest.raises(NotPermitted, match="no access to this account"):
        review.decide(approver, ["s1", "s2"], "reject")  # one foreign id refuses the whole decision
    with pytest.raises(NotPermitted, match="no access"):
        connect.run_sync(approver, None, one, None)
    statuses = dict(db.conn.execute("SELECT suggestion_id, status FROM suggestions").fetchall())
    assert statuses == {"s1": "pending", "s2": "approved"}


def test_the_connect_page_lists_only_granted_accounts(store):
    path, db, one, two = store
    grants.grant(db, "viewer@example.com", one, VIEWER)
    assert connect.list_accounts(as_person(path, "viewer@example.com"))["account_id"].tolist() == [one]
    assert connect.list_accounts(as_person(path, "stranger@example.com")).empty
    assert connect.list_accounts(as_person(path, None))["account_id"].tolist() == [one, two]  # no login: all


# ------------------------------------------------------------------ CLI


def cli(*argv: str) -> int:
    """The exit code, whether main returned it or argparse raised it."""
    try:
        return grants.main(list(argv))
    except SystemExit as exc:
        return int(exc.code)


def test_cli_grant_list_revoke(store, capsys):
    path, db, one, _ = store
    assert cli("--db", str(path), "grant", "Boss@Example.com", "--admin") == 0
    assert cli("--db", str(path), "grant", "alice@example.com", "Shop One", "viewer") == 0
    assert cli("--db", str(path), "list") == 0
    out = capsys.readouterr().out
    assert "admin boss@example.com" in out and f"viewer alice@example.com on Shop One ({one})" in out
    assert cli("--db", str(path), "revoke", "alice@example.com", one) == 0
    assert grants.list_grants(db) == []


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["grant", "alice@example.com", "No Such Shop", "viewer"], "no connected account"),
        (["grant", "alice@example.com", "Shop One"], "Give the role"),
        (["grant", "alice@example.com", "Shop One", "owner"], "invalid choice"),
        (["grant", "alice@example.com"], "Name the account"),
        (["grant", "alice@example.com", "Shop One", "viewer", "--admin"], "not both"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(store, capsys, argv, words):
    path, db, _, _ = store
    code = cli("--db", str(path), *argv)
    err = capsys.readouterr().err
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err
    assert grants.list_grants(db) == [] and grants.list_admins(db) == []


def test_cli_bad_db_path_is_one_line_and_exit_2(tmp_path, capsys):
    assert cli("--db", str(tmp_path / "missing.db"), "list") == 2
    (tmp_path / "notes.txt").write_text("not a database")
    assert cli("--db", str(tmp_path / "notes.txt"), "list") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "no database" in err[0] and "not a SQLite database" in err[1]
    assert not (tmp_path / "missing.db").exists()
