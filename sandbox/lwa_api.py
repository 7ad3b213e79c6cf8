"""Login with Amazon: ``POST /auth/o2/token`` and the ``/ap/oa`` consent page (reference section 1).

Sandbox-only conveniences (documented, not Amazon's):
  * ``/ap/oa?...&seller=second`` picks which seller "logs in" on the consent page (default ``demo``;
    any name of ``credentials.AUTHORIZATIONS`` or a sellerId of the world).
  * Any absolute http(s) ``redirect_uri`` is accepted (Amazon checks it against the app's Allowed Return URLs).
  * ``redirect_uri`` may be left out of the code exchange (python-amazon-ad-api does so); when sent it must match.
Refresh tokens are bound to the app client they were issued to; the static demo ones belong to the demo client.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
import urllib.parse

from sandbox import credentials
from sandbox.protocol import Request, Response, SandboxState

_JSON = "application/json;charset=UTF-8"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
SCOPES = {credentials.ADS_SCOPE, credentials.LEGACY_ADS_SCOPE, "profile"}


def _err(status: int, error: str, description: str) -> Response:
    return Response(
        status, {"error_description": description, "error": error}, content_type=_JSON, headers=dict(_NO_STORE)
    )


def _invalid_grant(param: str, revoked: bool = False) -> Response:
    msg = f"The request has an invalid grant parameter : {param}"
    if revoked:
        msg += ". User may have revoked or didn't grant the permission."
    return _err(400, "invalid_grant", msg)


def _form(req: Request) -> dict | None:
    mt = req.media_type
    if mt == "application/json":
        try:
            data = req.json() or {}
        except (ValueError, UnicodeDecodeError):
            return None
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else None
    if mt in ("application/x-www-form-urlencoded", ""):
        try:
            pairs = urllib.parse.parse_qsl(req.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return None
        return dict(pairs)
    return None


def token(state: SandboxState, req: Request, m) -> Response:
    form = _form(req)
    if form is None:
        return _err(400, "invalid_request", "The request has an invalid parameter : Content-Type")
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    authz = req.header("Authorization") or ""
    if authz.lower().startswith("basic "):
        try:
            cid, _, sec = base64.b64decode(authz[6:].strip()).decode().partition(":")
            client_id, client_secret = urllib.parse.unquote(cid), urllib.parse.unquote(sec)
        except Exception:
            return _err(401, "invalid_client", "Client authentication failed")
    grant = form.get("grant_type")
    if not grant:
        return _err(400, "invalid_request", "The request is missing a required parameter : grant_type")
    if grant not in ("refresh_token", "authorization_code"):
        return _err(
            400, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server"
        )
    if not client_id:
        return _err(400, "invalid_request", "The request is missing a required parameter : client_id")
    client = credentials.CLIENTS.get(client_id)
    if client is None or not client_secret or not secrets.compare_digest(client["client_secret"], client_secret):
        return _err(401, "invalid_client", "Client authentication failed")
    if grant == "refresh_token":
        return _refresh(state, form, client_id)
    return _code(state, form, client_id)


def _ok(state: SandboxState, client_id: str, seller_id: str, refresh_token: str) -> Response:
    with state.lock:
        roles = (state.refresh_tokens.get(refresh_token) or {}).get("roles")
    access = state.issue_access_token(client_id, seller_id, roles=roles)
    return Response(
        200,
        {"access_token": access, "refresh_token": refresh_token, "token_type": "bearer", "expires_in": 3600},
        content_type=_JSON,
        headers=dict(_NO_STORE),
    )


def _refresh(state: SandboxState, form: dict, client_id: str) -> Response:
    rt = form.get("refresh_token")
    if not rt:
        return _err(400, "invalid_request", "The request is missing a required parameter : refresh_token")
    with state.lock:
        auth = state.refresh_tokens.get(rt)
    if auth is None or auth["client_id"] != client_id:
        return _invalid_grant("refresh_token")
    if auth["revoked"] or state.authorization_expired(auth):
        return _invalid_grant("refresh_token", revoked=True)
    return _ok(state, client_id, auth["seller_id"], rt)


def _code(state: SandboxState, form: dict, client_id: str) -> Response:
    code = form.get("code")
    if not code:
        return _err(400, "invalid_request", "The request has an invalid parameter : code")
    with state.lock:
        rec = state.codes.get(code)
        if rec is None or rec["used"] or rec["expires_at"] <= time.time() or rec["client_id"] != client_id:
            return _invalid_grant("code")
        if form.get("redirect_uri") and form["redirect_uri"] != rec["redirect_uri"]:
            return _invalid_grant("redirect_uri")
        rec["used"] = True  # single use, even when the PKCE check below fails
        if rec.get("challenge"):
            verifier = form.get("code_verifier") or ""
            if rec["method"] == "S256":
                calc = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            else:
                calc = verifier
            if not verifier or not secrets.compare_digest(calc, rec["challenge"]):
                return _invalid_grant("code_verifier")
        today = state.world.today
        rt = "Atzr|IwEBI" + secrets.token_urlsafe(270)
        state.refresh_tokens[rt] = {
            "refresh_token": rt,
            "seller_id": rec["seller_id"],
            "authorized_on": today,
            "revoked": False,
            "client_id": client_id,
            "name": "consent",
            "seller_name": rec.get("seller_name"),
            "days_ago": 0,
        }
    return _ok(state, client_id, rec["seller_id"], rt)


# --------------------------------------------------------------------------------------------- consent page
def _page(status: int, title: str, body_html: str) -> Response:
    doc = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;max-width:40em;margin:3em auto'>{body_html}</body></html>"
    )
    return Response(status, doc, content_type="text/html;charset=UTF-8")


def _redirect(uri: str, params: dict) -> Response:
    params = {k: v for k, v in params.items() if v is not None}
    sep = "&" if urllib.parse.urlsplit(uri).query else "?"
    return Response(
        302,
        b"",
        content_type="text/html;charset=UTF-8",
        headers={"Location": uri + sep + urllib.parse.urlencode(params)},
    )


def _params(req: Request) -> dict:
    if req.method == "POST":
        try:
            p = dict(urllib.parse.parse_qsl(req.body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            p = {}
        for k, v in req.query.items():
            p.setdefault(k, v[0])
        return p
    return {k: v[0] for k, v in req.query.items()}


def _check(state: SandboxState, p: dict):
    """(error_response, seller_id, seller_name). Errors before redirect_uri is trusted are 400 pages."""
    client = credentials.CLIENTS.get(p.get("client_id", ""))
    if client is None:
        return (
            _page(
                400,
                "Error",
                "<h1>We're sorry!</h1><p>An error occurred when we tried to process your "
                "request: the client_id is unknown (invalid_client).</p>",
            ),
            None,
            None,
        )
    uri = p.get("redirect_uri", "")
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        return (
            _page(
                400,
                "Error",
                "<h1>400 Bad Request</h1><p>An unknown scope was requested or the redirect "
                f"URI {html.escape(uri)} has not been whitelisted for this application.</p>",
            ),
            None,
            None,
        )
    state_param = p.get("state")
    if p.get("response_type") != "code":
        return (
            _redirect(
                uri,
                {
                    "error": "unsupported_response_type",
                    "error_description": "response_type must be code",
                    "state": state_param,
                },
            ),
            None,
            None,
        )
    scopes = (p.get("scope") or "").split()
    if not scopes or any(s not in SCOPES for s in scopes):
        return (
            _redirect(
                uri,
                {"error": "invalid_scope", "error_description": "An unknown scope was requested", "state": state_param},
            ),
            None,
            None,
        )
    method = p.get("code_challenge_method") or ("plain" if p.get("code_challenge") else None)
    if method not in (None, "S256", "plain") or (method and not p.get("code_challenge")):
        return (
            _redirect(
                uri,
                {
                    "error": "invalid_request",
                    "error_description": "invalid code_challenge_method",
                    "state": state_param,
                },
            ),
            None,
            None,
        )
    who = p.get("seller") or "demo"
    auth = state.authorizations.get(who)
    with state.lock:
        sellers = state.world.sellers()
    if auth is not None:
        seller = next((s for s in sellers if s["sellerId"] == auth["seller_id"]), None)
    else:
        seller = next((s for s in sellers if s["sellerId"] == who), None)
    if seller is None:
        return _page(400, "Error", f"<h1>Unknown sandbox seller {html.escape(who)}</h1>"), None, None
    return None, seller["sellerId"], seller["name"]


_FIELDS = (
    "client_id",
    "scope",
    "response_type",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "seller",
)


def consent_page(state: SandboxState, req: Request, m) -> Response:
    p = _params(req)
    err, seller_id, seller_name = _check(state, p)
    if err is not None:
        return err
    app = credentials.CLIENTS[p["client_id"]]["name"]
    hidden = "".join(
        f"<input type='hidden' name='{f}' value='{html.escape(p[f], quote=True)}'>"
        for f in _FIELDS
        if p.get(f) is not None
    )
    body = (
        f"<h1>Amazon (sandbox)</h1><p>Signed in as <b>{html.escape(seller_name)}</b>.</p>"
        f"<p><b>{html.escape(app)}</b> would like to access your Amazon Advertising data "
        f"(scope {html.escape(p['scope'])}): manage your campaigns and read performance data.</p>"
        f"<form method='post' action='/ap/oa/decision'>{hidden}"
        "<button type='submit' name='decision' value='approve'>Allow</button> "
        "<button type='submit' name='decision' value='deny'>Cancel</button></form>"
        "<p><small>Sandbox: add <code>seller=second</code> to the URL to log in as the second seller.</small></p>"
    )
    return _page(200, "Amazon Sign-In (sandbox)", body)


def consent_decision(state: SandboxState, req: Request, m) -> Response:
    p = _params(req)
    err, seller_id, seller_name = _check(state, p)
    if err is not None:
        return err
    decision = (p.get("decision") or "").lower()
    if decision in ("deny", "cancel"):
        return _redirect(
            p["redirect_uri"],
            {"error": "access_denied", "error_description": "The user denied the request", "state": p.get("state")},
        )
    if decision not in ("approve", "allow"):
        return _page(400, "Error", "<h1>400 Bad Request</h1><p>decision must be approve or deny</p>")
    code = "AN" + secrets.token_urlsafe(15).replace("-", "x").replace("_", "y")
    method = p.get("code_challenge_method") or ("plain" if p.get("code_challenge") else None)
    with state.lock:
        now = time.time()
        state.codes = {k: v for k, v in state.codes.items() if v["expires_at"] > now - 3600}
        state.codes[code] = {
            "client_id": p["client_id"],
            "redirect_uri": p["redirect_uri"],
            "seller_id": seller_id,
            "seller_name": seller_name,
            "challenge": p.get("code_challenge"),
            "method": method,
            "expires_at": now + float(state.faults.get("auth_code_ttl") or 300),
            "used": False,
            "scope": p["scope"],
        }
    return _redirect(p["redirect_uri"], {"code": code, "scope": p["scope"], "state": p.get("state")})
