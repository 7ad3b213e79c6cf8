"""Connected Amazon accounts (one seller authorization each) and the API clients built from them.

Secrets (client secret, refresh token) are stored encrypted by the Vault and decrypted only at the moment
a token is needed. The demo seller is stored exactly like a real account, with backend 'sandbox' and the
sandbox's URL standing in for every Amazon host.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from sqlite_utils import Database

from services.amazon.regions import REGIONS, hosts_for
from services.errors import DashboardError
from services.secrets.vault import Vault
from services.store import write

DEMO_ACCOUNT_NAME = "Demo Seller"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class AccountNotFound(LookupError):
    pass


def get_account(db: Database, account_id: str) -> dict:
    row = db.conn.execute("SELECT * FROM accounts WHERE account_id = ?", [account_id]).fetchone()
    if row is None:
        raise AccountNotFound(f"no account {account_id!r}")
    cols = [d[0] for d in db.conn.execute("SELECT * FROM accounts LIMIT 0").description]
    return dict(zip(cols, row))


def find_account(db: Database, name: str) -> dict | None:
    row = db.conn.execute("SELECT account_id FROM accounts WHERE name = ?", [name]).fetchone()
    return get_account(db, row[0]) if row else None


def list_accounts(db: Database) -> list[dict]:
    """Accounts without their secrets (safe to show)."""
    cur = db.conn.execute(
        "SELECT account_id, name, region, backend, sandbox_url, client_id, authorized_on, status, created_at "
        "FROM accounts ORDER BY created_at, name"
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def add_account(
    db: Database,
    vault: Vault,
    name: str,
    region: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    backend: str = "amazon",
    sandbox_url: str | None = None,
    authorized_on: str | None = None,
) -> str:
    """Store a seller authorization (secrets encrypted). Same name again = update it (reconnect)."""
    region = region.strip().upper()
    if region not in REGIONS:
        raise ValueError(f"unknown region {region!r}")
    if backend not in ("amazon", "sandbox"):
        raise ValueError(f"unknown backend {backend!r}")
    if backend == "sandbox" and not sandbox_url:
        raise ValueError("a sandbox account needs sandbox_url")
    values: dict[str, Any] = {
        "name": name,
        "region": region,
        "backend": backend,
        "sandbox_url": sandbox_url,
        "client_id": client_id,
        "client_secret_enc": vault.encrypt(client_secret),
        "refresh_token_enc": vault.encrypt(refresh_token),
        "authorized_on": authorized_on or datetime.now(UTC).date().isoformat(),
        "status": "ok",
        "updated_at": _now(),
    }
    with write(db):
        row = db.conn.execute("SELECT account_id FROM accounts WHERE name = ?", [name]).fetchone()
        if row:
            account_id = row[0]
            db.conn.execute(
                "UPDATE accounts SET {} WHERE account_id = ?".format(", ".join(f"[{k}] = ?" for k in values)),
                [*values.values(), account_id],
            )
        else:
            account_id = uuid.uuid4().hex[:16]
            values.update(account_id=account_id, created_at=_now())
            db.conn.execute(
                "INSERT INTO accounts ({}) VALUES ({})".format(
                    ", ".join(f"[{k}]" for k in values), ", ".join("?" for _ in values)
                ),
                list(values.values()),
            )
    return account_id


def connect_demo(db: Database, vault: Vault, sandbox_url: str, demo_credentials: dict) -> str:
    """The demo seller, connected through the same token store as a real account (idempotent).

    The sandbox's port changes between processes, so its URL is updated on every call. An account that holds the
    demo's name but another authorization (a real seller, or a consent as another sandbox seller) is never
    rewritten: that was how `--sandbox` took over an existing account.
    """
    existing = find_account(db, DEMO_ACCOUNT_NAME)
    if existing is not None and (
        existing["backend"] != "sandbox"
        or not existing["refresh_token_enc"]
        or vault.decrypt(existing["refresh_token_enc"]) != demo_credentials["refresh_token"]
    ):
        raise SellerConflict(
            f"An account named “{DEMO_ACCOUNT_NAME}” is already connected to another Amazon authorization, so the "
            "demo seller was not connected over it. Rename or remove that account first; nothing was changed."
        )
    return add_account(
        db,
        vault,
        DEMO_ACCOUNT_NAME,
        "NA",
        demo_credentials["client_id"],
        demo_credentials["client_secret"],
        demo_credentials["refresh_token"],
        backend="sandbox",
        sandbox_url=sandbox_url,
    )


def update_refresh_token(
    db: Database, vault: Vault, account_id: str, refresh_token: str, authorized_on: str | None = None
) -> None:
    """After the seller grants consent again."""
    with write(db):
        db.conn.execute(
            "UPDATE accounts SET refresh_token_enc = ?, status = 'ok', authorized_on = ?, updated_at = ? "
            "WHERE account_id = ?",
            [vault.encrypt(refresh_token), authorized_on or datetime.now(UTC).date().isoformat(), _now(), account_id],
        )


def mark_reconnect_needed(db: Database, account_id: str) -> None:
    with write(db):
        db.conn.execute(
            "UPDATE accounts SET status = 'reconnect_needed', updated_at = ? WHERE account_id = ?",
            [_now(), account_id],
        )


def mark_ok(db: Database, account_id: str) -> None:
    with write(db):
        db.conn.execute("UPDATE accounts SET status = 'ok', updated_at = ? WHERE account_id = ?", [_now(), account_id])


def remove_account(db: Database, account_id: str) -> None:
    """Delete the account, its tokens and every row of its data, in one transaction.

    "Its data" is the rows of the profiles it owns: ownership is guarded by `claim_profiles`, so a profile of
    another seller can never have been moved here, and its rows stay.
    """
    from services.store import ENTITY_TABLES, REPORT_TABLES, SALES_TABLES, SUMMARY_TABLES

    with write(db):
        pids = [r[0] for r in db.conn.execute("SELECT profile_id FROM profiles WHERE account_id = ?", [account_id])]
        for table in ENTITY_TABLES + REPORT_TABLES + SALES_TABLES + SUMMARY_TABLES:
            db.conn.executemany(f"DELETE FROM [{table}] WHERE profile_id = ?", [(p,) for p in pids])
        db.conn.execute(
            "DELETE FROM coupon_snapshots WHERE coupon_id IN (SELECT coupon_id FROM coupons WHERE account_id = ?)",
            [account_id],
        )
        db.conn.execute("DELETE FROM coupons WHERE account_id = ?", [account_id])
        db.conn.execute(
            "DELETE FROM deal_products WHERE promotion_id IN (SELECT promotion_id FROM deals WHERE account_id = ?)",
            [account_id],
        )
        db.conn.execute("DELETE FROM deals WHERE account_id = ?", [account_id])
        db.conn.execute(
            "DELETE FROM sync_tasks WHERE run_id IN (SELECT run_id FROM sync_runs WHERE account_id = ?)", [account_id]
        )
        db.conn.execute("DELETE FROM sync_runs WHERE account_id = ?", [account_id])
        db.conn.execute("DELETE FROM profiles WHERE account_id = ?", [account_id])
        db.conn.execute("DELETE FROM accounts WHERE account_id = ?", [account_id])


# --------------------------------------------------------------------------------------------
# one seller, one account


class SellerConflict(DashboardError):
    """An authorization or a profile of a seller that another account holds (or not this account's seller)."""

    default_message = "This Amazon seller is already connected as another account; nothing was changed."


@dataclass(frozen=True)
class RefusedProfile:
    profile_id: str
    owner: str | None  # the name of the account that holds it, None when it is simply another seller's
    sentence: str


def _ids(text: str | None) -> set[str]:
    return {s for s in (text or "").split(",") if s}


def _identity(db: Database, account_id: str | None) -> tuple[set[str], set[str]]:
    """(seller ids, profile ids) an account is known by: the recorded identity plus what its profiles say."""
    if account_id is None:
        return set(), set()
    row = db.conn.execute("SELECT seller_ids FROM accounts WHERE account_id = ?", [account_id]).fetchone()
    sellers = _ids(row[0]) if row else set()
    owned = set()
    for pid, sid in db.conn.execute("SELECT profile_id, seller_id FROM profiles WHERE account_id = ?", [account_id]):
        owned.add(str(pid))
        if sid:
            sellers.add(str(sid))
    return sellers, owned


def check_profiles(db: Database, account_id: str | None, profiles: list[dict]) -> tuple[list[dict], list]:
    """The ownership rule, read only: which of Amazon's profiles (`profile_id`, `seller_id`) `account_id` may hold.

    Refused: a profile another account holds; a profile of a seller another account was connected as; and, for an
    account whose seller is known, a profile of any other seller (its token now belongs to someone else).
    `account_id` None = a new account.
    """
    ids = [str(p["profile_id"]) for p in profiles]
    holders: dict[str, tuple[str, str]] = {}
    if ids:
        for pid, aid, name in db.conn.execute(
            "SELECT p.profile_id, a.account_id, a.name FROM profiles p JOIN accounts a ON a.account_id = p.account_id "
            "WHERE p.profile_id IN ({})".format(", ".join("?" * len(ids))),
            ids,
        ):
            holders[str(pid)] = (aid, name)
    sellers_elsewhere: dict[str, str] = {}
    for aid, name in db.conn.execute("SELECT account_id, name FROM accounts").fetchall():
        if aid != account_id:
            for sid in _identity(db, aid)[0]:
                sellers_elsewhere.setdefault(sid, name)
    my_sellers, _ = _identity(db, account_id)
    mine, refused = [], []
    for p, pid in zip(profiles, ids):
        sid = str(p.get("seller_id") or "")
        where = f"{pid} ({p['country_code']})" if p.get("country_code") else pid
        holder = holders.get(pid)
        if holder and holder[0] != account_id:
            refused.append(
                RefusedProfile(
                    pid, holder[1], f"Profile {where} is already connected as “{holder[1]}”; it was left there."
                )
            )
        elif sid and sid in sellers_elsewhere:
            owner = sellers_elsewhere[sid]
            refused.append(
                RefusedProfile(
                    pid, owner, f"Profile {where} belongs to the seller connected as “{owner}”; it was left there."
                )
            )
        elif sid and my_sellers and sid not in my_sellers:
            refused.append(
                RefusedProfile(
                    pid,
                    None,
                    f"Profile {where} belongs to another Amazon seller than the one this account was connected as; "
                    "it was not added. Reconnect the account while signed in as its own seller.",
                )
            )
        else:
            mine.append(p)
    return mine, refused


def claim_profiles(db: Database, account_id: str, profiles: list[dict]) -> tuple[list[dict], list[RefusedProfile]]:
    """Store the profiles `account_id` may hold (see `check_profiles`) and return (mine, refused).

    The one place a profile is written: the Connect page, the consent callback, the CLI and every sync go through
    it, so no path can move another account's profile (and, on removal, its data). An account connected before
    the seller was recorded gets its identity from the first profiles it claims.
    """
    from services.store import upsert_rows

    with write(db):
        mine, refused = check_profiles(db, account_id, profiles)
        rows = [{**p, "account_id": account_id} for p in mine]
        if rows:
            upsert_rows(db, "profiles", rows)
        _record_sellers(db, account_id, mine)
    return mine, refused


def _record_sellers(db: Database, account_id: str, profiles: list[dict]) -> None:
    row = db.conn.execute("SELECT seller_ids FROM accounts WHERE account_id = ?", [account_id]).fetchone()
    known = _ids(row[0]) if row else set()
    new = known | {str(p["seller_id"]) for p in profiles if p.get("seller_id")}
    if new != known:
        db.conn.execute("UPDATE accounts SET seller_ids = ? WHERE account_id = ?", [",".join(sorted(new)), account_id])


# --------------------------------------------------------------------------------------------
# clients


@dataclass
class AccountClients:
    """API clients of one account; one HTTP session (and one token cache) shared by all regions."""

    account: dict
    tokens: Any
    session: requests.Session
    policy: Any = None
    _ads: dict = field(default_factory=dict)
    _spapi: dict = field(default_factory=dict)

    @property
    def sandbox_url(self) -> str | None:
        return self.account["sandbox_url"] if self.account["backend"] == "sandbox" else None

    def ads(self, region: str):
        from services.amazon.ads import AdsClient

        region = region.upper()
        if region not in self._ads:
            self._ads[region] = AdsClient(
                hosts_for(region, self.sandbox_url).ads,
                self.account["client_id"],
                self.tokens,
                session=self.session,
                policy=self.policy,
            )
        return self._ads[region]

    def spapi(self, region: str):
        from services.amazon.spapi import SpApiReports

        region = region.upper()
        if region not in self._spapi:
            self._spapi[region] = SpApiReports(
                hosts_for(region, self.sandbox_url).spapi, self.tokens, session=self.session, policy=self.policy
            )
        return self._spapi[region]

    def stats(self) -> dict[str, int]:
        from services.amazon.http import stats_for

        return stats_for(self.session).snapshot()


def _session(pool: int = 64) -> requests.Session:
    s = requests.Session()
    adapter = HTTPAdapter(pool_connections=8, pool_maxsize=pool)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def clients_for(
    db: Database, vault: Vault, account_id: str, *, policy=None, session: requests.Session | None = None, clock=None
) -> AccountClients:
    """Clients for an account. The refresh token is decrypted only when LWA is called (callable TokenSource)."""
    from services.amazon.lwa import LwaClient, TokenSource

    account = get_account(db, account_id)
    session = session or _session()
    sandbox_url = account["sandbox_url"] if account["backend"] == "sandbox" else None
    token_url = hosts_for(account["region"], sandbox_url).token_url
    secret_enc, refresh_enc = account["client_secret_enc"], account["refresh_token_enc"]
    lwa_kwargs: dict[str, Any] = {"session": session}
    if policy is not None:
        lwa_kwargs["policy"] = policy
    if clock is not None:
        lwa_kwargs["clock"] = clock
    lwa = LwaClient(token_url, account["client_id"], vault.decrypt(secret_enc), **lwa_kwargs)
    tokens = TokenSource(lwa, lambda: vault.decrypt(refresh_enc))
    public = {k: v for k, v in account.items() if not k.endswith("_enc")}
    return AccountClients(account=public, tokens=tokens, session=session, policy=policy)
