"""Who may see and change which account once people sign in (issue 12, "nobody let in").

Without a login configured (`[auth]` absent from secrets.toml) the dashboard serves only on loopback to the one
person at this computer, who has every right, as before: `LOCAL_USER`. With a login, each signed-in person is
a `Person` built from the store:

- `grants` (natural key (user, account_id)): `viewer` reads and exports; `approver` may also approve, reject,
  apply, undo and sync that account.
- `dashboard_admins`: see every account, may connect, reconnect and remove accounts and grant access. The first
  admin is added on the command line (`python -m services.accounts.grants --db PATH grant EMAIL --admin`).

A user is the OpenID Connect email, lower-cased, or the `sub` claim when there is no (verified) email.

The app binds the signed-in person to every store connection it hands to a page (`bind`); the service entry
points that change something call `require(db, account_id, action)`, the one place the rule lives, so a hidden
button is never the only guard. A connection nobody bound (the CLI, the job worker) acts for the operator of
the machine, who could edit the database file anyway.

CLI:  python -m services.accounts.grants --db PATH list
      python -m services.accounts.grants --db PATH grant USER ACCOUNT viewer|approver
      python -m services.accounts.grants --db PATH grant USER --admin
      python -m services.accounts.grants --db PATH revoke USER ACCOUNT
      python -m services.accounts.grants --db PATH revoke USER --admin
ACCOUNT is the account's name (as on the Connect page) or its id. Bad input: exit 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from services.errors import DashboardError
from services.store import open_db, write

VIEWER, APPROVER = "viewer", "approver"
ROLES = (VIEWER, APPROVER)
CHANGE = "change"  # approve, reject, apply, undo, sync one account: approvers (and admins)
ADMINISTER = "administer"  # connect, reconnect, remove accounts; grant access: admins
NO_ACCESS = "You have no access yet; ask an admin to grant you an account."
MAX_USER_LENGTH = 254  # the longest email address


class NotPermitted(DashboardError):
    """The signed-in person may not do this; the sentence says what they may do instead."""

    default_message = "You are not allowed to do this. Nothing was changed."


class InvalidGrant(DashboardError):
    """A grant that cannot be right (unknown account, empty user, unknown role)."""


@dataclass(frozen=True)
class Person:
    """Who is using this session and what they may do; `user` None is the local user without a login."""

    user: str | None
    admin: bool = False
    roles: Mapping[str, str] = field(default_factory=dict)  # account_id -> viewer | approver

    @property
    def local(self) -> bool:
        return self.user is None

    @property
    def can_administer(self) -> bool:
        return self.local or self.admin

    def role(self, account_id: str | None) -> str | None:
        if self.can_administer:
            return APPROVER
        return self.roles.get(str(account_id)) if account_id else None

    def can_view(self, account_id: str | None) -> bool:
        return self.role(account_id) is not None

    def can_change(self, account_id: str | None) -> bool:
        return self.role(account_id) == APPROVER

    def visible(self, account_ids: Iterable[str]) -> list[str]:
        """The given accounts this person may see, in the given order."""
        return [a for a in account_ids if self.can_view(a)]


LOCAL_USER = Person(user=None, admin=True)


def normalize_user(text: object) -> str:
    """An email is compared lower-cased (providers differ in case); a `sub` is kept as the provider wrote it."""
    value = " ".join(str(text or "").split())
    return value.lower() if "@" in value else value


def user_key(claims: Mapping[str, object]) -> str | None:
    """The person an OpenID Connect identity stands for: the email unless the provider says it is not verified,
    else `sub`; None when neither is present (such a session is treated as nobody)."""
    email = claims.get("email")
    if email and claims.get("email_verified") is not False:
        return normalize_user(email) or None
    sub = claims.get("sub")
    return normalize_user(sub) or None if sub else None


def person_for(db: Database, user: str) -> Person:
    """The signed-in person with their admin flag and grants, read from the store."""
    user = normalize_user(user)
    admin = db.conn.execute("SELECT 1 FROM dashboard_admins WHERE user = ?", [user]).fetchone() is not None
    rows = db.conn.execute("SELECT account_id, role FROM grants WHERE user = ?", [user]).fetchall()
    return Person(user=user, admin=admin, roles={str(a): r for a, r in rows})


# ------------------------------------------------------------------ the one check

_bound: weakref.WeakKeyDictionary[Database, Person] = weakref.WeakKeyDictionary()


def bind(db: Database, person: Person) -> Database:
    """Every later `require` on this connection checks `person`. Returns `db`, for `return bind(open(...), p)`."""
    _bound[db] = person
    return db


def acting_person(db: Database) -> Person:
    """The person bound to this connection; an unbound one (CLI, job worker) is the machine's operator."""
    return _bound.get(db, LOCAL_USER)


def require(db: Database, account_id: str | None, action: str) -> None:
    """Raise NotPermitted, with a sentence, unless the connection's person may do `action` on `account_id`."""
    person = acting_person(db)
    if action == ADMINISTER:
        if not person.can_administer:
            raise NotPermitted(
                "Only an admin can connect, reconnect or remove accounts and grant access. Nothing was changed."
            )
        return
    if action != CHANGE:
        raise ValueError(f"unknown action {action!r}")
    if not person.can_view(account_id):
        raise NotPermitted("You have no access to this account; ask an admin to grant it. Nothing was changed.")
    if not person.can_change(account_id):
        raise NotPermitted(
            "Your access to this account is view-only: approving, applying, undoing and syncing need the "
            "approver role; ask an admin. Nothing was changed."
        )


# ------------------------------------------------------------------ grants and admins


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _check_user(user: object) -> str:
    key = normalize_user(user)
    if not key or len(key) > MAX_USER_LENGTH or not key.isprintable():
        raise InvalidGrant("Give the person's sign-in email (or their login's subject id), on one line.")
    return key


def resolve_account(db: Database, account: str) -> tuple[str, str]:
    """(account_id, name) of an account given by id or by name."""
    ref = str(account or "").strip()
    row = db.conn.execute(
        "SELECT account_id, name FROM accounts WHERE account_id = ? OR name = ? ORDER BY account_id = ? DESC LIMIT 1",
        [ref, ref, ref],
    ).fetchone()
    if row is None:
        raise InvalidGrant(f"There is no connected account called {ref[:80]!r}; give its name or id.")
    return str(row[0]), str(row[1])


def grant(db: Database, user: str, account: str, role: str, by: str | None = None) -> str:
    """Give `user` the role on the account (replacing an earlier role there); returns the account id."""
    require(db, None, ADMINISTER)
    key = _check_user(user)
    if role not in ROLES:
        raise InvalidGrant(f"The role must be {VIEWER} (read and export) or {APPROVER} (may also apply); got {role!r}.")
    account_id, _ = resolve_account(db, account)
    with write(db):
        db.conn.execute(
            "INSERT INTO grants (user, account_id, role, granted_at, granted_by) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (user, account_id) DO UPDATE SET role = excluded.role, granted_at = excluded.granted_at, "
            "granted_by = excluded.granted_by",
            [key, account_id, role, _now(), by],
        )
    return account_id


def revoke(db: Database, user: str, account: str) -> bool:
    """Take the account away from `user`; False when they had no grant there."""
    require(db, None, ADMINISTER)
    key = _check_user(user)
    account_id, _ = resolve_account(db, account)
    with write(db):
        cur = db.conn.execute("DELETE FROM grants WHERE user = ? AND account_id = ?", [key, account_id])
    return cur.rowcount > 0


def add_admin(db: Database, user: str, by: str | None = None) -> str:
    require(db, None, ADMINISTER)
    key = _check_user(user)
    with write(db):
        db.conn.execute(
            "INSERT INTO dashboard_admins (user, added_at, added_by) VALUES (?, ?, ?) ON CONFLICT (user) DO NOTHING",
            [key, _now(), by],
        )
    return key


def remove_admin(db: Database, user: str) -> bool:
    """Remove an admin. From the app, the last admin is kept (nobody could grant anything again from there)."""
    person = acting_person(db)
    require(db, None, ADMINISTER)
    key = _check_user(user)
    with write(db):
        admins = [r[0] for r in db.conn.execute("SELECT user FROM dashboard_admins")]
        if not person.local and admins == [key]:
            raise InvalidGrant(
                "This is the last admin: add another admin first (or use the command line on the server)."
            )
        cur = db.conn.execute("DELETE FROM dashboard_admins WHERE user = ?", [key])
    return cur.rowcount > 0


def list_grants(db: Database) -> list[dict]:
    """Every grant with the account's name, for the admin page and the CLI (no secret in it)."""
    cur = db.conn.execute(
        "SELECT g.user, a.name AS account, g.account_id, g.role, g.granted_at, g.granted_by FROM grants g "
        "JOIN accounts a USING (account_id) ORDER BY g.user, a.name"
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def list_admins(db: Database) -> list[str]:
    return [r[0] for r in db.conn.execute("SELECT user FROM dashboard_admins ORDER BY user")]


# ------------------------------------------------------------------ CLI


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        print(f"{self.prog}: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="python -m services.accounts.grants", description="Who may see and change which account.")
    ap.add_argument("--db", required=True, help="path of the dashboard's SQLite database")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="every admin and grant")
    for name, help_ in (("grant", "give a person a role on an account, or make them an admin"), ("revoke", "undo")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("user", help="the person's sign-in email (or their OpenID Connect subject id)")
        p.add_argument("account", nargs="?", help="the account's name or id")
        if name == "grant":
            p.add_argument("role", nargs="?", choices=ROLES, help="viewer: read and export; approver: may also apply")
        p.add_argument("--admin", action="store_true", help="admin rights instead of an account grant")
    return ap


def _run(args: argparse.Namespace, db: Database) -> str:
    if args.command == "list":
        lines = [f"admin {u}" for u in list_admins(db)]
        lines += [f"{g['role']} {g['user']} on {g['account']} ({g['account_id']})" for g in list_grants(db)]
        return "\n".join(lines) or "Nobody has access yet: grant someone --admin first."
    if args.admin:
        if args.account:
            raise InvalidGrant("Give either --admin or an account, not both.")
        if args.command == "grant":
            return f"{add_admin(db, args.user, by='command line')} is an admin."
        done = remove_admin(db, args.user)
        return f"{normalize_user(args.user)} is no longer an admin." if done else "That person was not an admin."
    if not args.account:
        raise InvalidGrant("Name the account (its name or id), or give --admin.")
    if args.command == "grant":
        if not args.role:
            raise InvalidGrant(f"Give the role: {VIEWER} (read and export) or {APPROVER} (may also apply).")
        grant(db, args.user, args.account, args.role, by="command line")
        return f"{normalize_user(args.user)} is now {args.role} on {resolve_account(db, args.account)[1]}."
    done = revoke(db, args.user, args.account)
    return "Access revoked." if done else "That person had no access to this account; nothing changed."


def main(argv: list[str] | None = None) -> int:
    from services.store.db import check_db_path

    args = _parser().parse_args(argv)
    try:
        if not Path(args.db).is_file():
            raise InvalidGrant(f"There is no database at {args.db}: start the dashboard once, or give the right --db.")
        check_db_path(args.db)
        print(_run(args, open_db(args.db)))
        return 0
    except DashboardError as exc:
        print(str(exc), file=sys.stderr)
    except sqlite3.DatabaseError as exc:
        print(f"The database {args.db} cannot be used: {exc}.", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
