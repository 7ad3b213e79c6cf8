"""Connecting an account: what the Connect page calls.

The page never sees a token after the form is submitted: it hands the values to
`connect_account`, which checks the refresh token by exchanging it with Login with
Amazon, stores it encrypted and returns only the account id. The demo seller goes
through the same token store as a real account.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sqlite_utils import Database

from services.accounts import authorize, grants, oauth
from services.accounts import registry as accounts
from services.accounts.profiles import profiles_frame
from services.amazon.lwa import LwaClient
from services.amazon.regions import REGIONS, hosts_for
from services.errors import AuthorizationExpired, DashboardError, InvalidCredentials
from services.secrets import token_life
from services.secrets.vault import Vault, VaultError, keys_fingerprint  # noqa: F401 - VaultError: for the pages
from services.store import open_db, write

DEFAULT_DB = Path("data") / "dashboard.db"

CLIENT_ID_RE = re.compile(r"^amzn1\.application-oa2-client\.[0-9a-f]{32}$")
REFRESH_TOKEN_RE = re.compile(r"^Atzr\|[A-Za-z0-9_\-+/=|.%~]{20,2000}$")


class InvalidInput(DashboardError):
    """A form value that cannot be right; the message names the field."""


def db_path() -> Path:
    """Where the store lives (`DASHBOARD_DB`), created on first use."""
    path = Path(os.environ.get("DASHBOARD_DB", str(DEFAULT_DB)))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def open_store(path: Path | None = None) -> Database:
    return open_db(path or db_path())


def make_vault(path: Path | None = None, secret_keys: str | None = None) -> Vault:
    """Keys from the caller (secrets.toml), else the environment, else a key file beside the database."""
    return Vault(secret_keys=secret_keys, db_path=path or db_path())


def vault_fingerprint(path: Path, secret_keys: str | None = None) -> str:
    """What the app's cached vault is keyed by: changes when the keys or the key file change (never the keys)."""
    return keys_fingerprint(path, secret_keys)


def mask_token(token: str | None) -> str:
    """`Atzr|…wxyz`: enough to recognise a token, never enough to use it."""
    if not token:
        return ""
    prefix = token.split("|", 1)[0] + "|" if "|" in token[:6] else ""
    return f"{prefix}…{token[-4:]}" if len(token) > 8 else "…"


def check_app(region: str, client_id: str, client_secret: str) -> None:
    """The region and the Login with Amazon app's id and secret, before anything is sent or stored."""
    if region not in REGIONS:
        raise InvalidInput("Pick the region of the account: North America, Europe or Far East.")
    if not CLIENT_ID_RE.match(client_id):
        raise InvalidInput(
            "The client ID should look like amzn1.application-oa2-client. followed by 32 letters and digits."
        )
    if (
        not client_secret
        or len(client_secret) > 500
        or any(c.isspace() for c in client_secret)
        or not client_secret.isascii()
    ):
        raise InvalidInput("The client secret is empty or malformed; copy it again from your Login with Amazon app.")


def check_credentials(client_id: str, client_secret: str, refresh_token: str, region: str) -> None:
    """Refuse values that cannot be Amazon credentials before sending them anywhere."""
    client_id, client_secret, refresh_token = (str(v or "").strip() for v in (client_id, client_secret, refresh_token))
    if refresh_token.startswith("Atza|"):
        raise InvalidInput(
            "That is an access token (Atza|…), which lasts an hour; paste the refresh token, which starts with Atzr|."
        )
    check_app(region, client_id, client_secret)
    if not REFRESH_TOKEN_RE.match(refresh_token):
        raise InvalidInput(
            "The refresh token should start with Atzr| and contain no spaces; it may have been cut off when copied."
        )


def connect_account(
    db: Database,
    vault: Vault,
    name: str,
    region: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    sandbox_url: str | None = None,
    authorized_on: str | None = None,
) -> str:
    """Check the token by exchanging it once, then store the account with its secrets encrypted."""
    grants.require(db, None, grants.ADMINISTER)
    name = " ".join(str(name or "").split())[:80]
    if not name or not name.isprintable():
        raise InvalidInput("Give the account a name, for example the seller's brand.")
    client_id, client_secret, refresh_token = (str(v or "").strip() for v in (client_id, client_secret, refresh_token))
    check_credentials(client_id, client_secret, refresh_token, region)
    try:
        LwaClient(hosts_for(region, sandbox_url).token_url, client_id, client_secret).refresh(refresh_token)
    except AuthorizationExpired:
        raise InvalidInput(
            "Amazon does not accept this refresh token: it may be cut off, revoked, or issued to another app's "
            "client ID. Copy it again, or use “Connect with Amazon”. Nothing was saved."
        ) from None
    sandbox = sandbox_url or None
    try:
        profiles = authorize.authorized_profiles(region, client_id, client_secret, refresh_token, sandbox_url=sandbox)
    except DashboardError:
        raise InvalidInput(
            "Amazon did not list the advertising profiles of this authorization, so it could not be checked. "
            "Nothing was saved; try again in a few minutes."
        ) from None
    account_id, _ = authorize.save_authorization(
        db,
        vault,
        name=name,
        region=region,
        client_id=client_id,
        client_secret=client_secret,
        refresh_token=refresh_token,
        profiles=profiles,
        backend="sandbox" if sandbox else "amazon",
        sandbox_url=sandbox,
        authorized_on=authorized_on,
    )
    return account_id


def connect_demo_seller(db: Database, vault: Vault) -> str:
    """Start (or reuse) this process's sandbox and connect its demo seller like any account."""
    grants.require(db, None, grants.ADMINISTER)
    from services.demo import demo_credentials, sandbox_url

    return accounts.connect_demo(db, vault, sandbox_url(), demo_credentials())


def refresh_profiles(db: Database, vault: Vault, account_id: str) -> pd.DataFrame:
    """Ask every region for the account's profiles and store the ones it may hold (HTTP outside any transaction).

    A profile another account holds, or another seller's, is refused with a sentence and nothing is stored.
    """
    grants.require(db, None, grants.ADMINISTER)
    clients = accounts.clients_for(db, vault, account_id)
    frames = [profiles_frame(clients.ads(region).list_profiles(), region=region) for region in REGIONS]
    df = pd.concat(frames, ignore_index=True)
    rows = df.to_dict("records")
    _, refused = accounts.check_profiles(db, account_id, rows)
    if refused:
        raise InvalidInput(refused[0].sentence + " Nothing was changed.")
    accounts.claim_profiles(db, account_id, rows)
    return df


def stored_profiles(db: Database, account_id: str) -> pd.DataFrame:
    cur = db.conn.execute(
        "SELECT profile_id, country_code, currency_code, timezone, marketplace_id, account_name, region FROM profiles "
        "WHERE account_id = ? ORDER BY CASE region WHEN 'NA' THEN 0 WHEN 'EU' THEN 1 ELSE 2 END, country_code",
        [account_id],
    )
    return pd.DataFrame(cur.fetchall(), columns=[c[0] for c in cur.description])


def list_accounts(db: Database) -> pd.DataFrame:
    """The accounts the connection's person may see (every account without a login, or for an admin)."""
    person = grants.acting_person(db)
    rows = [r for r in accounts.list_accounts(db) if person.can_view(r["account_id"])]
    cols = ["account_id", "name", "region", "backend", "status", "authorized_on"]
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)


ProgressFn = Callable[[str, int, int, int], None]


def run_sync(
    store: Database | Path,
    vault: Vault,
    account_id: str,
    profile_ids: list[str] | None,
    progress: ProgressFn | None = None,
    days: int | None = None,
):
    """Sync the chosen profiles; an account flagged 'reconnect needed' (or past its year) is not synced at all.

    `store` is the page's connection (it carries the signed-in person: syncing needs the approver role) or a path."""
    from services.sync import sync_account

    db = store if isinstance(store, Database) else open_store(store)
    db_path_ = (
        Path(store) if not isinstance(store, Database) else Path(db.conn.execute("PRAGMA database_list").fetchone()[2])
    )
    grants.require(db, account_id, grants.CHANGE)
    check_sync_request(db, account_id, profile_ids, days)
    summary = sync_account(db_path_, account_id, vault, profile_ids=profile_ids, days=days, progress=progress)
    if summary.status == "reconnect_needed":  # the sync kept every completed report; nothing is half-written
        life = token_status(db, account_id)
        if life.level == "reconnect_needed":
            raise AuthorizationExpired(life.message)
        raise InvalidCredentials()
    return summary


def configured_client_id() -> str:
    """The operator's Login with Amazon app id, from the environment (secrets.toml root keys land there too)."""
    return os.environ.get("LWA_CLIENT_ID", "")


def configured_client_secret() -> str:
    return os.environ.get("LWA_CLIENT_SECRET", "")


def describe_summary(summary) -> str:
    """One line a marketer reads after a sync."""
    get = summary.get if isinstance(summary, dict) else lambda k, d=None: getattr(summary, k, d)
    reports, rows, seconds = get("reports", 0), get("rows", 0), get("seconds", 0.0)
    failures = get("failures", 0)
    failed = len(failures) if isinstance(failures, (list, tuple)) else int(failures or 0)
    text = f"Synced {reports} reports, {rows:,} rows in {float(seconds):.0f} s."
    text += f" {failed} report(s) failed and will be fetched again next time." if failed else ""
    notes = get("notes", None) or []
    return " ".join([text, *notes]) if isinstance(notes, (list, tuple)) else text


def sales_traffic_notice(db: Database, account_id: str) -> str | None:
    """The sentence the Connect page shows while the authorization lacks the sales-and-traffic role (the last sync
    of a profile got Amazon's 403): TACoS and organic share cannot be computed without total sales."""
    from services.sync.sales import NO_ROLE, NO_ROLE_SENTENCE

    row = db.conn.execute(
        "SELECT 1 FROM sales_traffic_status s JOIN profiles p USING (profile_id) "
        "WHERE p.account_id = ? AND s.status = ? LIMIT 1",
        [account_id, NO_ROLE],
    ).fetchone()
    return NO_ROLE_SENTENCE if row else None


# ------------------------------------------------------------------------------ the token's whole life

DEFAULT_REDIRECT_URI = "http://localhost:8501/"
MAX_SYNC_DAYS = 95


def redirect_uri() -> str:
    """Where Amazon sends the browser back: the app's own URL (must be an Allowed Return URL of the LWA app)."""
    return os.environ.get("DASHBOARD_REDIRECT_URI", DEFAULT_REDIRECT_URI)


def _clean_name(name: str) -> str:
    name = " ".join(str(name or "").split())[:80]
    if not name or not name.isprintable():
        raise InvalidInput("Give the account a name, for example the seller's brand.")
    return name


def start_consent(db: Database, vault: Vault, name: str, region: str, client_id: str, client_secret: str) -> str:
    """'Connect with Amazon' for a real account: the consent URL of the region (pending state stored server-side)."""
    grants.require(db, None, grants.ADMINISTER)
    name = _clean_name(name)
    client_id = str(client_id or "").strip()
    client_secret = str(client_secret or "").strip() or configured_client_secret()
    check_app(region, client_id, client_secret)
    return oauth.start(
        db,
        vault,
        name=name,
        region=region,
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=redirect_uri(),
    )


def start_sandbox_consent(db: Database, vault: Vault, seller: str = "demo", name: str | None = None) -> str:
    """The same flow against the embedded sandbox's consent page (its demo app client)."""
    grants.require(db, None, grants.ADMINISTER)
    from services.demo import demo_credentials, sandbox_url

    creds = demo_credentials()
    label = _clean_name(name or ("Demo Seller (consent)" if seller == "demo" else f"Sandbox {seller} seller"))
    return oauth.start(
        db,
        vault,
        name=label,
        region="NA",
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        redirect_uri=redirect_uri(),
        sandbox_url=sandbox_url(),
        seller_hint=seller,
    )


def start_reconnect(db: Database, vault: Vault, account_id: str, seller_hint: str | None = None) -> str:
    """Consent again for an existing account (before the year ends, or after a revocation)."""
    grants.require(db, None, grants.ADMINISTER)
    account = accounts.get_account(db, account_id)
    sandbox = account["sandbox_url"] if account["backend"] == "sandbox" else None
    return oauth.start(
        db,
        vault,
        name=account["name"],
        region=account["region"],
        client_id=account["client_id"],
        client_secret=None,
        redirect_uri=redirect_uri(),
        sandbox_url=sandbox,
        account_id=account_id,
        seller_hint=seller_hint,
    )


def finish_consent(db: Database, vault: Vault, params: dict) -> tuple[str, str]:
    """Amazon's redirect arrived: exchange the code, check who signed in, store the account. (account_id, sentence)"""
    grants.require(db, None, grants.ADMINISTER)
    done = oauth.finish(db, vault, params)
    verb = "reconnected" if done.reconnected else "connected"
    return done.account_id, (
        f"{done.name} is {verb}: Amazon authorized this dashboard for a year, "
        f"{done.profiles} advertising profile(s) found."
    )


def connect_and_list(
    db: Database,
    vault: Vault,
    name: str,
    region: str,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    authorized_on: str | None = None,
    sandbox_url: str | None = None,
) -> tuple[str, str]:
    """The paste-a-token path in one call: check, list profiles, store encrypted. (account_id, sentence)"""
    account_id = connect_account(
        db,
        vault,
        name,
        region,
        client_id,
        client_secret or configured_client_secret(),
        refresh_token,
        sandbox_url=sandbox_url,
        authorized_on=authorized_on,
    )
    profiles = stored_profiles(db, account_id)
    regions = sorted(set(profiles["region"])) if not profiles.empty else []
    if not regions:
        return account_id, "Connected, but Amazon lists no advertising profiles for this authorization yet."
    if region not in regions:
        where = ", ".join(regions)
        return account_id, (
            f"Connected. This authorization's profiles are in {where}, not {region}; "
            "they are listed below and sync from their own region."
        )
    return account_id, f"Connected: {len(profiles)} advertising profile(s) found. Pick the ones to sync below."


def token_status(db: Database, account_id: str) -> token_life.TokenLife:
    return token_life.assess(accounts.get_account(db, account_id))


def account_card(db: Database, vault: Vault, account_id: str) -> dict:
    """What the page may show about an account: no secret, the refresh token masked."""
    account = accounts.get_account(db, account_id)
    try:
        masked = mask_token(vault.decrypt(account["refresh_token_enc"])) if account["refresh_token_enc"] else ""
    except Exception:  # noqa: BLE001 - a key problem must not break the page
        masked = "(cannot be decrypted with the configured keys)"
    return {
        "name": account["name"],
        "region": account["region"],
        "backend": account["backend"],
        "client_id": account["client_id"],
        "refresh_token": masked,
        "authorized_on": account["authorized_on"],
        "status": account["status"],
    }


def owns_profile(db: Database, account_id: str, profile_id: str) -> bool:
    row = db.conn.execute(
        "SELECT 1 FROM profiles WHERE account_id = ? AND profile_id = ?", [account_id, str(profile_id)]
    ).fetchone()
    return row is not None


def check_sync_request(db: Database, account_id: str, profile_ids: list[str] | None, days: int | None) -> None:
    """Refuse a sync that cannot be right before anything is written."""
    life = token_status(db, account_id)
    if not life.can_sync:
        raise AuthorizationExpired(life.message)
    if days is not None and not (1 <= int(days) <= MAX_SYNC_DAYS):
        raise InvalidInput(f"Amazon keeps {MAX_SYNC_DAYS} days of reports: pick between 1 and {MAX_SYNC_DAYS} days.")
    foreign = [p for p in profile_ids or [] if not owns_profile(db, account_id, p)]
    if foreign:
        raise InvalidInput(
            "Profile "
            + ", ".join(str(p)[:20] for p in foreign[:3])
            + " does not belong to this account; pick one of its own profiles."
        )


def remove_account(db: Database, account_id: str) -> None:
    """Delete the account, its tokens, its pending consents and all its data."""
    grants.require(db, None, grants.ADMINISTER)
    with write(db):
        db.conn.execute("DELETE FROM oauth_states WHERE account_id = ?", [account_id])
    accounts.remove_account(db, account_id)


def key_notice(vault: Vault) -> str:
    return vault.describe()


def scheduled_runs(db: Database, account_id: str, limit: int = 10) -> pd.DataFrame:
    """The job queue's latest syncs and autopilot runs of this account, as the Connect page shows them (no token,
    no raw summary: what an autopilot run did is one sentence)."""
    from services.jobs.records import job_runs

    rows = job_runs(db, account_id, limit)
    cols = ["Job", "Queued", "Started", "Finished", "Outcome", "Result", "Reason"]
    if not rows:
        return pd.DataFrame(columns=cols)
    outcome = {
        "ok": "Synced",
        "partial": "Synced, some reports failed",
        "reconnect_needed": "Reconnect needed",
        "failed": "Failed",
        "queued": "Waiting for a worker",
        "running": "Running",
    }
    autopilot_outcome = {
        **outcome,
        "ok": "Ran",
        "partial": "Ran, Amazon refused some changes",
        "skipped": "Changed nothing: the sync did not finish",
    }
    return pd.DataFrame(
        [
            [
                "Autopilot" if r["kind"] == "autopilot" else "Sync",
                r["enqueued_at"],
                r["started_at"],
                r["finished_at"],
                (autopilot_outcome if r["kind"] == "autopilot" else outcome).get(r["status"], r["status"]),
                _job_result(r),
                r["error"] or "",
            ]
            for r in rows
        ],
        columns=cols,
    )


def _job_result(row: dict) -> str:
    """'12,345 rows' for a sync; '5 changes applied, 482 held back by the guardrails' for an autopilot run."""
    try:
        summary = json.loads(row["summary"]) if row.get("summary") else {}
    except ValueError:
        return ""
    if not isinstance(summary, dict):
        return ""
    if row["kind"] != "autopilot":
        return f"{int(summary['rows']):,} rows" if isinstance(summary.get("rows"), int) else ""
    runs = summary.get("runs") or []
    held = sum(sum(int(n) for n in (r.get("skipped") or {}).values()) for r in runs)
    if summary.get("dry_run"):
        return f"dry run: {sum(int(r.get('kept') or 0) for r in runs)} change(s) it would make; nothing changed"
    applied, refused = (sum(int(r.get(k) or 0) for r in runs) for k in ("applied", "failed"))
    return f"{applied} change(s) applied, {refused} refused, {held} held back by the guardrails"


def autopilot_schedule(db: Database, account_id: str) -> dict | None:
    """The account's autopilot schedule ({every_hours, enabled, next_run_at}), or None: never turned on."""
    from services.jobs.records import get_schedule

    return get_schedule(db, account_id, "autopilot")


def set_autopilot_schedule(db: Database, account_id: str, every_hours: int, enabled: bool) -> dict:
    """Turn the scheduled autopilot on or off for one account (an approver's decision: it changes the live
    account without asking). `python -m services.jobs schedule` then enqueues its runs. Returns the schedule."""
    from services.jobs.records import get_schedule, set_schedule

    grants.require(db, account_id, grants.CHANGE)
    set_schedule(db, account_id, every_hours, kind="autopilot", enabled=enabled)
    return get_schedule(db, account_id, "autopilot") or {}


SYNC_STAGES = {
    "profiles": "Advertising profiles",
    "entities": "Campaign settings",
    "reports": "Campaign reports",
    "coupons": "Coupons",
    "deals": "Deals",
    "sales": "Seller Central sales",
    "done": "All downloads",
}


def sync_progress_text(stage: str, done: int, total: int, rows: int) -> str:
    """The progress line in a marketer's words: "Downloads from Amazon: 12 of 96 ready · 48,210 rows saved (last:
    campaign reports)". The counts are of all the sync's downloads (reports, settings, coupons, deals, sales), so
    the line names the kind of the latest one instead of pretending they are all of that kind."""
    what = SYNC_STAGES.get(stage, stage.replace("_", " ").capitalize()).lower()
    return f"Downloads from Amazon: {done:,} of {total:,} ready · {rows:,} rows saved (last: {what})"
