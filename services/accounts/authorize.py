"""Connecting an authorization: list who signed in, then store it, refusing another seller's (issue 12).

The order matters: the refresh token is used to list the authorization's profiles (HTTP, no transaction open)
*before* anything is stored, and `save_authorization` checks identity and ownership in the same transaction as
every write, so a refusal leaves the token, the profiles and the seller identity exactly as they were.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlite_utils import Database

from services.accounts.registry import (
    AccountClients,
    SellerConflict,
    _identity,
    _now,
    _session,
    add_account,
    check_profiles,
    claim_profiles,
    get_account,
)
from services.amazon.regions import REGIONS, hosts_for
from services.errors import AmazonRequestError
from services.secrets.vault import Vault
from services.store import write


def authorized_profiles(
    region: str, client_id: str, client_secret: str, refresh_token: str, sandbox_url: str | None = None
) -> list[dict]:
    """`GET /v2/profiles` in every region with an authorization that is not stored yet: who signed in.

    HTTP: call it before any write transaction. A region the seller has no access to is skipped; if every region
    refuses, the first refusal is raised.
    """
    from services.accounts.profiles import profile_rows
    from services.amazon.lwa import LwaClient, TokenSource

    session = _session(8)
    lwa = LwaClient(hosts_for(region, sandbox_url).token_url, client_id, client_secret, session=session)
    account = {"backend": "sandbox" if sandbox_url else "amazon", "sandbox_url": sandbox_url, "client_id": client_id}
    clients = AccountClients(account=account, tokens=TokenSource(lwa, refresh_token), session=session)
    rows: list[dict] = []
    errors: list[AmazonRequestError] = []
    for r in REGIONS:
        try:
            rows.extend(profile_rows(clients.ads(r).list_profiles(), region=r))
        except AmazonRequestError as e:
            errors.append(e)
    if errors and len(errors) == len(REGIONS):
        raise errors[0]
    return rows


def save_authorization(
    db: Database,
    vault: Vault,
    *,
    name: str,
    region: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    profiles: list[dict],
    account_id: str | None = None,
    backend: str = "amazon",
    sandbox_url: str | None = None,
    authorized_on: str | None = None,
) -> tuple[str, list[dict]]:
    """Store an authorization whose `profiles` (from `authorized_profiles`) were listed: (account_id, profiles).

    Identity first, in the same transaction as every write: reconnecting an account (by id, or by its name) with
    another seller's sign-in, or connecting a seller another account holds, raises `SellerConflict` and changes
    nothing: no token, no profile, no seller identity.
    """
    with write(db):
        if account_id is None:
            found = db.conn.execute("SELECT account_id FROM accounts WHERE name = ?", [name]).fetchone()
            target = found[0] if found else None
        else:
            target = get_account(db, account_id)["account_id"]
        if target is not None:
            current = get_account(db, target)
            sellers, owned = _identity(db, target)
            new_sellers = {str(p["seller_id"]) for p in profiles if p.get("seller_id")}
            new_ids = {str(p["profile_id"]) for p in profiles}
            if (sellers or owned) and not (sellers & new_sellers or owned & new_ids):
                raise SellerConflict(
                    f"This Amazon sign-in is for another seller than the one connected as “{current['name']}”. "
                    f"Sign in to Amazon as the seller of “{current['name']}” and reconnect; nothing was changed."
                )
            if current["backend"] != backend:
                raise SellerConflict(
                    f"An account named “{current['name']}” already exists for another connection; "
                    "pick another name. Nothing was changed."
                )
        mine, refused = check_profiles(db, target, profiles)
        if refused:
            owner = next((r.owner for r in refused if r.owner), None)
            raise SellerConflict(
                f"This seller is already connected as “{owner}”. Reconnect that account instead; nothing was changed."
                if owner
                else refused[0].sentence + " Nothing was changed."
            )
        if target is None:
            target = add_account(
                db,
                vault,
                name,
                region,
                client_id,
                client_secret,
                refresh_token,
                backend=backend,
                sandbox_url=sandbox_url,
                authorized_on=authorized_on,
            )
        else:
            db.conn.execute(
                "UPDATE accounts SET client_id = ?, refresh_token_enc = ?, client_secret_enc = ?, status = 'ok', "
                "authorized_on = ?, "
                "sandbox_url = COALESCE(?, sandbox_url), updated_at = ? WHERE account_id = ?",
                [
                    client_id,
                    vault.encrypt(refresh_token),
                    vault.encrypt(client_secret),
                    authorized_on or datetime.now(UTC).date().isoformat(),
                    sandbox_url,
                    _now(),
                    target,
                ],
            )
        claim_profiles(db, target, profiles)
    return target, mine
