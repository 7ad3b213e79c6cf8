"""The seller's side of "Connect with Amazon" against the sandbox's real consent page (not a test module)."""

from __future__ import annotations

import urllib.parse

import requests

from sandbox.credentials import DEMO_CLIENT
from services.accounts import oauth

REDIRECT = "http://localhost:8501/"


def begin(db, vault, sb, *, name="Seller via consent", seller=None, client=DEMO_CLIENT, account_id=None, **kw) -> str:
    """Start a consent flow (a reconnect when `account_id` is given); `seller` picks the sandbox seller."""
    return oauth.start(
        db,
        vault,
        name=name,
        region="NA",
        client_id=client["client_id"],
        client_secret=None if account_id else client["client_secret"],
        redirect_uri=REDIRECT,
        sandbox_url=sb.url,
        seller_hint=seller,
        account_id=account_id,
        **kw,
    )


def browser(url: str, decision: str = "approve") -> dict:
    """What the seller's browser does: open the consent page, press a button, follow the redirect back."""
    page = requests.get(url, timeout=5, allow_redirects=False)
    assert page.status_code == 200 and "value='approve'" in page.text
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    r = requests.post(
        url.split("?")[0] + "/decision", data={**query, "decision": decision}, timeout=5, allow_redirects=False
    )
    assert r.status_code == 302
    location = r.headers["Location"]
    assert location.startswith(REDIRECT)
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def consent(db, vault, sb, **kw) -> str:
    """The whole round trip as the Connect page runs it: start, approve on the consent page, finish. The account id."""
    from services import connect

    return connect.finish_consent(db, vault, browser(begin(db, vault, sb, **kw)))[0]
