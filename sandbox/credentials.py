"""Deterministic demo app clients and seller authorizations of the sandbox.

Everything here is derived from fixed strings with SHA-256/512, so the demo
credentials are the same on every machine and every run (they are printed by
``python -m sandbox --credentials``).  They are worthless outside the sandbox.

``AUTHORIZATIONS`` maps a name to ``{"refresh_token", "seller_name", "seller_id",
"days_ago", "authorized_on", "revoked", "client_id"}`` and optionally ``"roles"`` (the SP-API roles granted;
absent means all; "no_sales_role" lacks the one GET_SALES_AND_TRAFFIC_REPORT needs).  ``authorized_on`` is
relative to the real ``date.today()`` at import time; the server uses
:func:`resolve` to compute it against ``world.today`` and to look up the world's
``sellerId`` (by seller name).  Seller ids depend on the world's seed: every server
keeps its own resolved copy, and ``seller_id`` here is filled in place with the ids of
the most recently started sandbox (use ``resolve(handle.world)`` when several run).

An authorization older than ``AUTHORIZATION_LIFETIME_DAYS`` (365) is expired:
LWA answers ``invalid_grant`` as for a revoked one.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib

AUTHORIZATION_LIFETIME_DAYS = 365
ADS_SCOPE = "advertising::campaign_management"
LEGACY_ADS_SCOPE = "cpc_advertising:campaign_management"


def _hex(label: str, n: int) -> str:
    return (
        hashlib.sha256(("amazon-ppc-sandbox/" + label).encode()).hexdigest()[:n]
        if n <= 64
        else (hashlib.sha512(("amazon-ppc-sandbox/" + label).encode()).hexdigest()[:n])
    )


def _urlsafe(label: str, nbytes: int = 270) -> str:
    raw = b""
    i = 0
    while len(raw) < nbytes:
        raw += hashlib.sha512(f"amazon-ppc-sandbox/{label}/{i}".encode()).digest()
        i += 1
    return base64.urlsafe_b64encode(raw[:nbytes]).decode().rstrip("=")


def _client(label: str, name: str) -> dict:
    return {
        "client_id": "amzn1.application-oa2-client." + _hex(label + "/id", 32),
        "client_secret": "amzn1.oa2-cs.v1." + _hex(label + "/secret", 64),
        "name": name,
    }


DEMO_CLIENT = _client("demo-client", "PPC Dashboard (sandbox demo app)")
SECOND_CLIENT = _client("second-client", "Another app (sandbox)")
CLIENTS: dict[str, dict] = {c["client_id"]: c for c in (DEMO_CLIENT, SECOND_CLIENT)}


def _auth(name: str, seller_name: str, days_ago: int, revoked: bool = False, roles: tuple | None = None) -> dict:
    out = {
        "refresh_token": "Atzr|IwEBI" + _urlsafe("refresh/" + name),
        "seller_name": seller_name,
        "seller_id": None,  # filled from the world (see resolve / start_sandbox)
        "days_ago": days_ago,
        "authorized_on": _dt.date.today() - _dt.timedelta(days=days_ago),
        "revoked": revoked,
        "client_id": DEMO_CLIENT["client_id"],
    }
    if roles is not None:  # None: every SP-API role; a tuple: only these (spapi_reports_api.SALES_ROLE etc.)
        out["roles"] = roles
    return out


AUTHORIZATIONS: dict[str, dict] = {
    "demo": _auth("demo", "Demo Seller", 100),
    "second": _auth("second", "Second Seller", 200),
    "expiring": _auth("expiring", "Second Seller", 345),
    "revoked": _auth("revoked", "Demo Seller", 100, revoked=True),
    # the demo seller, authorized without the Selling Partner Insights role: GET_SALES_AND_TRAFFIC_REPORT is a 403
    "no_sales_role": _auth("no_sales_role", "Demo Seller", 100, roles=("reports", "catalog")),
}


def seller_id_for(world, seller_name: str) -> str | None:
    """The world's sellerId of the seller called ``seller_name`` (first/second seller as fallback)."""
    sellers = world.sellers()
    for s in sellers:
        if s.get("name") == seller_name:
            return s["sellerId"]
    fallback = {"Demo Seller": 0, "Second Seller": 1}.get(seller_name)
    if fallback is not None and fallback < len(sellers):
        return sellers[fallback]["sellerId"]
    return None


AGENCY_PREFIX = "Agency Seller "


def agency_authorization_name(seller_name: str) -> str:
    """ "Agency Seller 07" -> "agency-07": the authorization of an extra seller of `--sellers N`."""
    return "agency-" + seller_name.removeprefix(AGENCY_PREFIX)


def agency_credentials(k: int) -> dict:
    """The demo app client and the refresh token of the k-th agency seller (1-based), as an agency would paste them."""
    return {
        "client_id": DEMO_CLIENT["client_id"],
        "client_secret": DEMO_CLIENT["client_secret"],
        "refresh_token": _auth(f"agency-{k:02d}", "", 30)["refresh_token"],
    }


def resolve(world) -> dict[str, dict]:
    """AUTHORIZATIONS with seller_id and authorized_on computed for ``world`` (a copy), plus one authorization per
    agency seller the world has (`--sellers N`), authorized 30 days ago."""
    out = {}
    for name, a in AUTHORIZATIONS.items():
        b = dict(a)
        b["seller_id"] = seller_id_for(world, a["seller_name"])
        b["authorized_on"] = world.today - _dt.timedelta(days=a["days_ago"])
        out[name] = b
    for s in world.sellers():
        if s["name"].startswith(AGENCY_PREFIX):
            name = agency_authorization_name(s["name"])
            b = _auth(name, s["name"], 30)
            b["seller_id"], b["authorized_on"] = s["sellerId"], world.today - _dt.timedelta(days=30)
            out[name] = b
    return out


def demo_credentials() -> dict:
    return {
        "client_id": DEMO_CLIENT["client_id"],
        "client_secret": DEMO_CLIENT["client_secret"],
        "refresh_token": AUTHORIZATIONS["demo"]["refresh_token"],
    }
