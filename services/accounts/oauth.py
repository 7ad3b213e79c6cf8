"""Connect with Amazon: the authorization-code grant with PKCE (reference amazon-ads-api.md §1).

1. `start` stores a pending connection (SHA-256 of `state`, the PKCE verifier and the app's client secret
   encrypted) and returns the consent URL of the account's region.
2. Amazon sends the browser back to the app with `code` and `state` (or `error`); that lands in a *new*
   Streamlit session, which is why nothing of this lives in session_state or a cache.
3. `finish` consumes the state row (single use, ten minutes, atomically), exchanges the code for a refresh
   token and stores the account (or the new token of the account being reconnected).

No token, code, verifier or secret is ever logged, returned or put in an exception message.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlite_utils import Database

from services.accounts import authorize
from services.accounts import registry as accounts
from services.amazon.lwa import LwaClient
from services.amazon.regions import REGIONS, hosts_for
from services.errors import AuthorizationExpired, DashboardError, InvalidCredentials
from services.secrets.vault import Vault
from services.store import write

logger = logging.getLogger(__name__)

SCOPE = "advertising::campaign_management"
STATE_TTL = 600.0  # ten minutes
STATE_RE_LEN = (20, 200)


class ConsentError(DashboardError):
    """The consent round trip failed; the message says what to do."""


@dataclass(frozen=True)
class Finished:
    account_id: str
    name: str
    reconnected: bool
    profiles: int = 0


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8", "replace")).hexdigest()


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _check_redirect(uri: str) -> str:
    parts = urllib.parse.urlsplit((uri or "").strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise ConsentError(
            "The app's return address (DASHBOARD_REDIRECT_URI) must be an http(s) URL without a #fragment."
        )
    return parts.geturl()


def start(
    db: Database,
    vault: Vault,
    *,
    name: str,
    region: str,
    client_id: str,
    client_secret: str | None,
    redirect_uri: str,
    sandbox_url: str | None = None,
    account_id: str | None = None,
    seller_hint: str | None = None,
    now: float | None = None,
) -> str:
    """Record a pending connection and return the URL of Amazon's consent page for `region`.

    `account_id` set = reconnecting that account (its stored client credentials are used at exchange time).
    `seller_hint` is a sandbox-only convenience (`seller=second`), ignored for Amazon.
    """
    now = time.time() if now is None else now
    region = (region or "").strip().upper()
    if region not in REGIONS:
        raise ConsentError("Pick the region of the account: North America, Europe or Far East.")
    redirect_uri = _check_redirect(redirect_uri)
    if account_id is None and not (client_secret or "").strip():
        raise ConsentError(
            "The client secret of your Login with Amazon app is needed before going to Amazon "
            "(fill it in, or set LWA_CLIENT_SECRET)."
        )
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    row = {
        "state_hash": _hash(state),
        "verifier_enc": vault.encrypt(verifier),
        "name": name,
        "region": region,
        "backend": "sandbox" if sandbox_url else "amazon",
        "sandbox_url": sandbox_url,
        "client_id": client_id,
        "client_secret_enc": vault.encrypt(client_secret.strip()) if client_secret else None,
        "redirect_uri": redirect_uri,
        "account_id": account_id,
        "created_at": now,
        "expires_at": now + STATE_TTL,
        "used_at": None,
    }
    with write(db):
        # expired and used rows go as soon as anyone starts a new flow
        db.conn.execute("DELETE FROM oauth_states WHERE expires_at < ? OR used_at IS NOT NULL", [now - 3600])
        db.conn.execute(
            "INSERT INTO oauth_states ({}) VALUES ({})".format(", ".join(row), ", ".join("?" for _ in row)),
            list(row.values()),
        )
    query = {
        "client_id": client_id,
        "scope": SCOPE,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": _challenge(verifier),
        "code_challenge_method": "S256",
    }
    if sandbox_url and seller_hint:
        query["seller"] = seller_hint
    logger.info("consent flow started (region %s, %s)", region, "reconnect" if account_id else "new account")
    return hosts_for(region, sandbox_url).consent_url + "?" + urllib.parse.urlencode(query)


def is_callback(params: dict) -> bool:
    """Whether the page was opened by Amazon's redirect."""
    return any(k in params for k in ("code", "state", "error"))


def _first(params: dict, key: str) -> str:
    v = params.get(key)
    if isinstance(v, (list, tuple)):
        v = v[0] if v else ""
    return str(v or "").strip()


def _consume(db: Database, state: str, now: float) -> dict:
    """Mark the pending row used (atomically) and return it; a second arrival with the same state finds nothing."""
    if not (STATE_RE_LEN[0] <= len(state) <= STATE_RE_LEN[1]):
        raise ConsentError(
            "This sign-in link is not one this app started (missing or altered state). "
            "Nothing was connected; start again with “Connect with Amazon”."
        )
    h = _hash(state)
    with write(db):
        cur = db.conn.execute("SELECT * FROM oauth_states WHERE state_hash = ?", [h])
        found = cur.fetchone()
        if found is None:
            raise ConsentError(
                "This sign-in link is not one this app started (missing or altered state). "
                "Nothing was connected; start again with “Connect with Amazon”."
            )
        row = dict(zip([d[0] for d in cur.description], found))
        if row["used_at"] is not None:
            raise ConsentError(
                "This sign-in link was already used. Nothing more was changed; "
                "start again with “Connect with Amazon” if the account is not connected."
            )
        db.conn.execute("UPDATE oauth_states SET used_at = ? WHERE state_hash = ?", [now, h])
    if row["expires_at"] < now:
        raise ConsentError(
            "The sign-in took longer than ten minutes and expired. Nothing was connected; "
            "start again with “Connect with Amazon”."
        )
    return row


def finish(db: Database, vault: Vault, params: dict, *, now: float | None = None) -> Finished:
    """Handle Amazon's redirect: check state, exchange the code, store the authorization."""
    now = time.time() if now is None else now
    state, code, error = _first(params, "state"), _first(params, "code"), _first(params, "error")
    if error:
        # a denial still burns the state, so the same link cannot be replayed with a code later
        if state:
            try:
                _consume(db, state, now)
            except ConsentError:
                pass
        if error == "access_denied":
            raise ConsentError(
                "You cancelled on Amazon's consent page, so nothing was connected. Start again whenever you are ready."
            )
        raise ConsentError(f"Amazon did not grant access ({error[:40]}). Nothing was connected; try again.")
    row = _consume(db, state, now)
    if not code or len(code) > 512 or any(c.isspace() for c in code):
        raise ConsentError("Amazon's answer came back without a sign-in code. Nothing was connected; try again.")

    sandbox_url = row["sandbox_url"] if row["backend"] == "sandbox" else None
    if row["account_id"]:
        try:
            account = accounts.get_account(db, row["account_id"])
        except accounts.AccountNotFound:
            raise ConsentError(
                "The account being reconnected was removed meanwhile. Connect it as a new account."
            ) from None
        client_id = account["client_id"]
        client_secret = vault.decrypt(account["client_secret_enc"])
    else:
        client_id, client_secret = row["client_id"], vault.decrypt(row["client_secret_enc"])
    verifier = vault.decrypt(row["verifier_enc"])
    with write(db):  # the row has served: its secrets go now, the used marker stays until purged
        db.conn.execute(
            "UPDATE oauth_states SET verifier_enc = '', client_secret_enc = NULL WHERE state_hash = ?",
            [row["state_hash"]],
        )
    lwa = LwaClient(hosts_for(row["region"], sandbox_url).token_url, client_id, client_secret)
    try:
        tokens = lwa.exchange_code(code, row["redirect_uri"], verifier)
    except AuthorizationExpired:
        raise ConsentError(
            "Amazon says this sign-in code expired or was already used (codes last five minutes). "
            "Nothing was connected; start again with “Connect with Amazon”."
        ) from None
    except InvalidCredentials:
        raise ConsentError(
            "Amazon rejected this app's client ID or client secret, so the sign-in code could not be "
            "used. Check the app credentials and start again."
        ) from None
    # Who signed in, before anything is stored: a sign-in as another seller must not replace this account's
    # token (it used to, while the page said "nothing was changed").
    try:
        profiles = authorize.authorized_profiles(
            row["region"], client_id, client_secret, tokens["refresh_token"], sandbox_url=sandbox_url
        )
    except DashboardError:
        raise ConsentError(
            "Amazon did not list the advertising profiles of this sign-in, so it could not be checked. "
            "Nothing was connected; try again in a few minutes."
        ) from None
    reconnect = bool(row["account_id"])
    account_id, mine = authorize.save_authorization(
        db,
        vault,
        name=account["name"] if reconnect else row["name"],
        region=account["region"] if reconnect else row["region"],
        client_id=client_id,
        client_secret=client_secret,
        refresh_token=tokens["refresh_token"],
        profiles=profiles,
        account_id=row["account_id"] or None,
        backend=row["backend"],
        sandbox_url=sandbox_url,
        authorized_on=datetime.now(UTC).date().isoformat(),
    )
    logger.info("account %s through consent", "reconnected" if reconnect else "connected")
    return Finished(account_id, account["name"] if reconnect else row["name"], reconnect, len(mine))


def purge(db: Database, now: float | None = None) -> int:
    """Drop pending flows older than their ten minutes (and used ones)."""
    now = time.time() if now is None else now
    with write(db):
        return db.conn.execute("DELETE FROM oauth_states WHERE expires_at < ? OR used_at IS NOT NULL", [now]).rowcount
