"""HTTP protocol layer of the sandbox: routing, auth, faults, admin endpoints.

One loopback server stands for every Amazon host (see README.md): an optional
``/na``, ``/eu`` or ``/fe`` path prefix stands for that region's Ads / SP-API
host; without a prefix every region is served at once.

Modules:
  server.py          core: state, request/response plumbing, routing, Ads auth, faults, admin
  server_lwa.py      Login with Amazon: /auth/o2/token and the /ap/oa consent page
  server_sp.py       /v2/profiles and Sponsored Products v3 list/create/update/delete
  server_reports.py  Reporting v3, report downloads, SP-API Reports 2021-06-30

Faults (``POST /_sandbox/faults`` with a JSON object; ``GET`` shows it, ``DELETE`` clears it)::

  {"rules": [{"method": "POST", "path": "/sp/keywords/list", "status": 429, "retry_after": 1, "times": 2},
             {"path": "/reporting/reports", "status": 500, "times": 1}],
   "fail_next_reports": 1,        # the next N created reports (Ads v3 or SP-API) end FAILED / FATAL
   "stuck_reports": false,        # reports never leave PROCESSING / IN_PROGRESS
   "expire_download_urls": true,  # every report download answers the S3 "Request has expired" 400
   "access_token_ttl": 2,         # seconds until newly issued access tokens stop working (expires_in still says 3600)
   "slow_seconds": 0.5,           # added latency on every Ads / SP-API call
   "auth_code_ttl": 300}          # lifetime of consent codes (test knob; LWA uses 5 minutes)

A rule matches on ``path`` (exact, after the region prefix is removed; a trailing ``*``
matches a prefix) and optional ``method``; it fires ``times`` times (default 1) then
disappears.  ``status`` 429 bodies/headers follow reference section 6; a rule may carry
its own ``body``.  ``--fault-rate P`` additionally fails each Ads / SP-API call with
probability P (seeded): 429 with or without Retry-After, 500 or 503.
"""
from __future__ import annotations

import datetime as dt
import email.message
import json
import random
import re
import secrets
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sandbox import credentials

REGIONS = ("na", "eu", "fe")
# reference section 2 (hosts) and 3 (marketplace ids)
COUNTRY_REGION = {
    **{c: "na" for c in ("US", "CA", "MX", "BR")},
    **{c: "eu" for c in ("UK", "GB", "FR", "IT", "ES", "DE", "NL", "AE", "PL", "TR", "EG", "SA", "SE", "BE", "IN",
                         "ZA", "IE")},
    **{c: "fe" for c in ("JP", "AU", "SG")},
}
MARKETPLACE_COUNTRY = {
    "ATVPDKIKX0DER": "US", "A2EUQ1WTGCTBG2": "CA", "A1AM78C64UM0Y8": "MX", "A2Q3Y263D00KWC": "BR",
    "A1F83G8C2ARO7P": "UK", "A1PA6795UKMFR9": "DE", "A13V1IB3VIYZZH": "FR", "APJ6JRA9NG5V4": "IT",
    "A1RKKUPIHCS9HS": "ES", "A1805IZSGTT6HS": "NL", "A2NODRKZP88ZB9": "SE", "A1C3SOZRARQ6R3": "PL",
    "AMEN7PMS3EDWL": "BE", "A33AVAJ2PDY3EV": "TR", "A2VIGQ35RCS4UG": "AE", "A17E79C6D8DWNP": "SA",
    "ARBP9OOSHTCHU": "EG", "A21TJRUUN4KGV": "IN", "A1VC38T7YXB528": "JP", "A39IBJ37TRP1C6": "AU",
    "A19VAU5U5O7RUS": "SG", "A28R8C7NBKEWEA": "IE",
}

ACCESS_TOKEN_LIFETIME = 3600


def default_faults() -> dict:
    return {"rules": [], "fail_next_reports": 0, "stuck_reports": False, "expire_download_urls": False,
            "access_token_ttl": None, "slow_seconds": 0.0, "auth_code_ttl": 300}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso_z(t: dt.datetime | float) -> str:
    if not isinstance(t, dt.datetime):
        t = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


# --------------------------------------------------------------------------------------------- plumbing
class Request:
    def __init__(self, method: str, target: str, headers: email.message.Message, body: bytes, server_url: str):
        self.method = method.upper()
        parts = urllib.parse.urlsplit(target)
        self.raw_path = parts.path or "/"
        self.query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        self.query_string = parts.query
        self.headers = headers
        self.body = body
        self.region: str | None = None
        self.path = self.raw_path
        m = re.match(r"^/(na|eu|fe)(/.*)?$", self.raw_path)
        if m:
            self.region, self.path = m.group(1), (m.group(2) or "/")
        host = headers.get("Host")
        self.base_url = f"http://{host}" if host and re.match(r"^[A-Za-z0-9.\-\[\]:]+$", host) else server_url
        self.request_id = str(uuid.uuid4())

    def header(self, name: str, default: str | None = None) -> str | None:
        v = self.headers.get(name)
        return v.strip() if isinstance(v, str) else default

    def q(self, name: str, default: str | None = None) -> str | None:
        v = self.query.get(name)
        return v[0] if v else default

    @property
    def media_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    def json(self):
        """The JSON body; raises ValueError when it is not valid JSON (empty body = None)."""
        if not self.body.strip():
            return None
        return json.loads(self.body.decode("utf-8"))


class Response:
    def __init__(self, status: int, body=b"", content_type: str = "application/json", headers: dict | None = None):
        self.status = status
        if isinstance(body, (dict, list)):
            body = json.dumps(body, separators=(",", ":")).encode()
        elif isinstance(body, str):
            body = body.encode("utf-8")
        self.body: bytes = body
        self.content_type = content_type
        self.headers = dict(headers or {})


class HttpError(Exception):
    def __init__(self, response: Response):
        super().__init__(response.status)
        self.response = response


def ads_error(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    # Spec (SponsoredProducts.json *ExceptionResponseContent) requires {code, message}; the older/universal
    # body of reference section 6 uses "details": we send both keys with the same text.
    return Response(status, {"code": code, "message": message, "details": message}, headers=headers)


def reporting_error(status: int, detail: str, headers: dict | None = None) -> Response:
    # ReportingVersion3.json AsyncReportingError is {code: "<status>", detail}; reference section 5 notes that
    # Airbyte reads "details" (plural), so both keys are sent.
    return Response(status, {"code": str(status), "detail": detail, "details": detail}, headers=headers)


def spapi_error(status: int, code: str, message: str, details: str = "", headers: dict | None = None) -> Response:
    # reports_2021-06-30.json ErrorList
    return Response(status, {"errors": [{"code": code, "message": message, "details": details}]}, headers=headers)


def error_for_family(family: str, status: int, code: str, message: str, headers: dict | None = None) -> Response:
    if family == "reporting":
        return reporting_error(status, message, headers)
    if family == "spapi":
        sp_code = {400: "InvalidInput", 401: "Unauthorized", 403: "Unauthorized", 404: "NotFound",
                   415: "InvalidInput", 429: "QuotaExceeded", 500: "InternalFailure",
                   503: "ServiceUnavailable"}.get(status, code)
        return spapi_error(status, sp_code, message, headers=headers)
    return ads_error(status, code, message, headers)


# --------------------------------------------------------------------------------------------- state
class SandboxState:
    """Everything the protocol layer remembers. ``lock`` guards it and every call into the world."""

    def __init__(self, world, report_latency: float = 2.0, fault_rate: float = 0.0, seed: int = 7):
        self.world = world
        self.lock = threading.RLock()
        self.report_latency = float(report_latency)
        self.fault_rate = float(fault_rate)
        self.rng = random.Random(f"faults/{seed}")
        self.access_tokens: dict[str, dict] = {}
        self.refresh_tokens: dict[str, dict] = {}
        self.codes: dict[str, dict] = {}
        self.ads_reports: dict[str, dict] = {}
        self.sp_reports: dict[str, dict] = {}
        self.sp_documents: dict[str, dict] = {}
        self.downloads: dict[str, dict] = {}  # signature -> {"kind", "id", "expires_at"}
        self.faults = default_faults()
        self.sp_report_seq = 50_000_000_000 + seed * 1_000
        with self.lock:
            resolved = credentials.resolve(world)
        # seller ids depend on the world's seed: each server keeps its own resolved copy; the module-level
        # AUTHORIZATIONS only remembers the ids of the most recently started sandbox.
        self.authorizations = resolved
        for name, a in resolved.items():
            credentials.AUTHORIZATIONS[name]["seller_id"] = a["seller_id"]
            self.refresh_tokens[a["refresh_token"]] = {**a, "name": name}

    # -- sellers / profiles (world calls under the lock)
    def seller_profiles(self, seller_id: str) -> list[dict]:
        with self.lock:
            ids = next((s["profileIds"] for s in self.world.sellers() if s["sellerId"] == seller_id), [])
            return [p for p in (self.world.profile(str(i)) for i in ids) if p]

    def today(self) -> dt.date:
        with self.lock:
            return self.world.today

    def authorization_expired(self, auth: dict) -> bool:
        return (self.today() - auth["authorized_on"]).days > credentials.AUTHORIZATION_LIFETIME_DAYS

    # -- access tokens
    def issue_access_token(self, client_id: str, seller_id: str) -> str:
        token = "Atza|IwEBI" + secrets.token_urlsafe(300)  # ~400 chars (reference: >= 350, <= 2048 bytes)
        ttl = self.faults.get("access_token_ttl") or ACCESS_TOKEN_LIFETIME
        with self.lock:
            now = time.time()
            self.access_tokens = {k: v for k, v in self.access_tokens.items() if v["expires_at"] > now - 86400}
            self.access_tokens[token] = {"client_id": client_id, "seller_id": seller_id, "expires_at": now + ttl}
        return token

    def lookup_access_token(self, token: str | None) -> tuple[dict | None, str]:
        """(record, problem): problem is "" when valid, else "missing", "unknown" or "expired"."""
        if not token:
            return None, "missing"
        with self.lock:
            rec = self.access_tokens.get(token)
        if rec is None:
            return None, "unknown"
        if rec["expires_at"] <= time.time():
            return None, "expired"
        return rec, ""

    # -- faults
    def take_fault(self, req: Request, family: str) -> Response | None:
        with self.lock:
            for rule in list(self.faults["rules"]):
                if rule.get("method") and rule["method"].upper() != req.method:
                    continue
                p = rule.get("path", "*")
                if not (p == "*" or p == req.path or (p.endswith("*") and req.path.startswith(p[:-1]))):
                    continue
                rule["times"] = rule.get("times", 1) - 1
                if rule["times"] <= 0:
                    self.faults["rules"].remove(rule)
                return fault_response(family, int(rule.get("status", 500)), rule.get("retry_after"), rule.get("body"))
            if self.fault_rate > 0 and self.rng.random() < self.fault_rate:
                kind = self.rng.choice(("429ra", "429", "500", "503"))
                if kind.startswith("429"):
                    return fault_response(family, 429, 1 if kind == "429ra" else None)
                return fault_response(family, int(kind), None)
        return None


def fault_response(family: str, status: int, retry_after=None, body=None) -> Response:
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if status == 429:
        headers["x-amzn-ErrorType"] = "ThrottlingException"
        if family == "spapi":
            headers["x-amzn-RateLimit-Limit"] = "0.0167"
            resp = spapi_error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.",
                               headers=headers)
        else:
            headers["amazon-advertising-api-throttled"] = "true"
            # live 429 (reference section 6, ads-advanced-tools-docs#422) is {"message": "Too Many Requests"};
            # the spec's ThrottlingException also requires "code": THROTTLED.  Reporting uses its own shape.
            if family == "reporting":
                resp = reporting_error(429, "Too Many Requests", headers=headers)
            else:
                resp = Response(429, {"code": "THROTTLED", "message": "Too Many Requests"}, headers=headers)
    elif status == 503:
        resp = error_for_family(family, 503, "SERVICE_UNAVAILABLE", "Service Unavailable", headers)
    elif status >= 500:
        resp = error_for_family(family, status, "INTERNAL_ERROR", "Service Error", headers)
    else:
        resp = error_for_family(family, status, "INVALID_ARGUMENT", "Injected fault", headers)
    if body is not None:
        resp = Response(status, body, headers=headers)
    return resp


# --------------------------------------------------------------------------------------------- Ads auth
class AdsContext:
    def __init__(self, seller_id: str, client_id: str, profile: dict | None):
        self.seller_id = seller_id
        self.client_id = client_id
        self.profile = profile

    @property
    def profile_id(self) -> str:
        return str(self.profile["profileId"])


def ads_auth(state: SandboxState, req: Request, family: str, need_scope: bool = True) -> AdsContext:
    def fail(status, code, msg):
        raise HttpError(error_for_family(family, status, code, msg))

    authz = req.header("Authorization") or ""
    m = re.match(r"^Bearer\s+(\S+)$", authz, re.I)
    rec, problem = state.lookup_access_token(m.group(1) if m else None)
    if problem == "missing":
        fail(401, "UNAUTHORIZED", "Not authorized to access this advertiser" if authz else
             "Authorization header is missing")
    if problem == "expired":
        fail(401, "UNAUTHORIZED", "Not authorized to access this advertiser: the access token has expired")
    if problem:
        fail(401, "UNAUTHORIZED", "Not authorized to access this advertiser")
    client_id = req.header("Amazon-Advertising-API-ClientId")
    if not client_id:
        fail(400 if family != "reporting" else 400, "INVALID_ARGUMENT",
             "Missing required header: Amazon-Advertising-API-ClientId")
    if client_id != rec["client_id"]:
        fail(401, "UNAUTHORIZED", "Not authorized to access this advertiser: the client id does not match "
                                  "the access token")
    scope = req.header("Amazon-Advertising-API-Scope")
    profile = None
    if need_scope:
        if not scope:
            fail(401, "UNAUTHORIZED", "Scope header is missing")
        owned = {str(p["profileId"]): p for p in state.seller_profiles(rec["seller_id"])}
        profile = owned.get(scope)
        if profile is None or (req.region and COUNTRY_REGION.get(profile["countryCode"]) != req.region):
            fail(401, "UNAUTHORIZED", f"Not authorized to access scope {scope}")
    return AdsContext(rec["seller_id"], rec["client_id"], profile)


def read_json_body(req: Request, family: str, default=None):
    try:
        data = req.json()
    except (ValueError, UnicodeDecodeError):
        raise HttpError(error_for_family(family, 400, "INVALID_ARGUMENT", "Malformed request body: invalid JSON"))
    return default if data is None else data


# --------------------------------------------------------------------------------------------- admin
def admin_state(state: SandboxState, req: Request, m) -> Response:
    with state.lock:
        w = state.world
        return Response(200, {"today": w.today.isoformat(), "seed": w.seed, "scale": w.scale,
                              "report_latency": state.report_latency, "fault_rate": state.fault_rate,
                              "reports": len(state.ads_reports), "spapi_reports": len(state.sp_reports)})


def admin_advance(state: SandboxState, req: Request, m) -> Response:
    body = read_json_body(req, "admin", {})
    days = body.get("days", 1) if isinstance(body, dict) else None
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 400:
        return Response(400, {"code": "INVALID_ARGUMENT", "message": "days must be an integer from 1 to 400"})
    with state.lock:
        state.world.advance(days)
    return admin_state(state, req, m)


FAULT_KEYS = {"rules": list, "fail_next_reports": int, "stuck_reports": bool, "expire_download_urls": bool,
              "access_token_ttl": (int, float, type(None)), "slow_seconds": (int, float),
              "auth_code_ttl": (int, float)}


def admin_faults(state: SandboxState, req: Request, m) -> Response:
    if req.method == "DELETE":
        with state.lock:
            state.faults = default_faults()
        return Response(200, state.faults)
    if req.method == "POST":
        body = read_json_body(req, "admin", {})
        if not isinstance(body, dict):
            return Response(400, {"code": "INVALID_ARGUMENT", "message": "expected a JSON object"})
        for k, v in body.items():
            if k not in FAULT_KEYS or not isinstance(v, FAULT_KEYS[k]) or (
                    FAULT_KEYS[k] is int and isinstance(v, bool)):
                return Response(400, {"code": "INVALID_ARGUMENT", "message": f"invalid fault setting: {k}"})
        for r in body.get("rules", []):
            if not isinstance(r, dict) or not isinstance(r.get("status", 500), int) or not isinstance(
                    r.get("times", 1), int) or not isinstance(r.get("path", "*"), str):
                return Response(400, {"code": "INVALID_ARGUMENT", "message": "invalid fault rule"})
        with state.lock:
            for k, v in body.items():
                if k == "rules":
                    state.faults["rules"].extend(dict(r) for r in v)
                else:
                    state.faults[k] = v
    with state.lock:
        return Response(200, json.loads(json.dumps(state.faults)))


def admin_coupons_upload(state: SandboxState, req: Request, m) -> Response:
    from sandbox.server_reports import parse_coupon_csv

    seller = req.q("seller") or "demo"
    if seller in state.authorizations:
        seller = state.authorizations[seller]["seller_id"]
    mkt = req.q("marketplaceId")
    with state.lock:
        sellers = {s["sellerId"] for s in state.world.sellers()}
    if seller not in sellers:
        return Response(400, {"errors": [{"row": None, "message": f"unknown seller {seller}"}]})
    if mkt not in MARKETPLACE_COUNTRY:
        return Response(400, {"errors": [{"row": None, "message": "marketplaceId is missing or unknown"}]})
    try:
        text = req.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Response(400, {"errors": [{"row": None, "message": "the file must be UTF-8 CSV"}]})
    rows, errors = parse_coupon_csv(text)
    if errors:
        return Response(400, {"errors": errors})
    try:
        with state.lock:
            ids = state.world.upload_coupons(seller, mkt, rows)
    except ValueError as e:
        return Response(400, {"errors": [{"row": None, "message": str(e)}]})
    return Response(200, {"couponIds": list(ids)})


# --------------------------------------------------------------------------------------------- routing
def _routes():
    from sandbox import server_lwa as lwa, server_reports as rep, server_sp as sp

    coll = "(campaigns|adGroups|keywords|targets|negativeKeywords|productAds)"
    return [
        # (methods, regex, handler, family)
        ({"POST"}, r"/auth/o2/token", lwa.token, "lwa"),
        ({"GET"}, r"/ap/oa", lwa.consent_page, "consent"),
        ({"GET", "POST"}, r"/ap/oa/decision", lwa.consent_decision, "consent"),
        ({"GET"}, r"/v2/profiles", sp.list_profiles, "ads"),
        ({"GET"}, r"/v2/profiles/([^/]+)", sp.get_profile, "ads"),
        ({"POST"}, rf"/sp/{coll}/list", sp.list_entities, "ads"),
        ({"POST"}, rf"/sp/{coll}/delete", sp.archive_entities, "ads"),
        ({"POST", "PUT"}, rf"/sp/{coll}", sp.mutate_entities, "ads"),
        ({"POST"}, r"/reporting/reports", rep.create_report, "reporting"),
        ({"GET", "DELETE"}, r"/reporting/reports/([^/]+)", rep.get_report, "reporting"),
        ({"GET"}, r"/_download/reports/([^/]+)/([^/]+)", rep.download_ads, "download"),
        ({"GET"}, r"/_download/spapi/([^/]+)", rep.download_spapi, "download"),
        ({"POST", "GET"}, r"/reports/2021-06-30/reports", rep.sp_create_or_list, "spapi"),
        ({"GET", "DELETE"}, r"/reports/2021-06-30/reports/([^/]+)", rep.sp_get_report, "spapi"),
        ({"GET"}, r"/reports/2021-06-30/documents/([^/]+)", rep.sp_get_document, "spapi"),
        ({"GET"}, r"/_sandbox/state", admin_state, "admin"),
        ({"POST"}, r"/_sandbox/advance", admin_advance, "admin"),
        ({"GET", "POST", "DELETE"}, r"/_sandbox/faults", admin_faults, "admin"),
        ({"POST"}, r"/_sandbox/coupons/upload", admin_coupons_upload, "admin"),
    ]


_ROUTES = None
PREFIXABLE = {"ads", "reporting", "spapi"}


def dispatch(state: SandboxState, req: Request) -> Response:
    global _ROUTES
    if _ROUTES is None:
        _ROUTES = [(ms, re.compile("^" + rx + "/?$"), fn, fam) for ms, rx, fn, fam in _routes()]
    allowed: set[str] = set()
    family = "ads"
    for methods, rx, fn, fam in _ROUTES:
        m = rx.match(req.path)
        if not m or (req.region and fam not in PREFIXABLE):
            continue
        family = fam
        if req.method not in methods:
            allowed |= methods
            continue
        if fam in PREFIXABLE:
            fault = state.take_fault(req, fam)
            slow = state.faults.get("slow_seconds") or 0
            if slow:
                time.sleep(min(float(slow), 30.0))
            if fault is not None:
                return fault
        try:
            return fn(state, req, m)
        except HttpError as e:
            return e.response
    if allowed:
        if family == "spapi":
            return spapi_error(405, "MethodNotAllowed", "Method not allowed", headers={"Allow": ", ".join(sorted(allowed))})
        return Response(405, {"code": "METHOD_NOT_ALLOWED", "message": f"{req.method} is not allowed on this resource",
                              "details": f"{req.method} is not allowed on this resource"},
                        headers={"Allow": ", ".join(sorted(allowed))})
    if req.path.startswith("/reports/"):
        return spapi_error(404, "NotFound", "Resource not found")
    return Response(404, {"code": "NOT_FOUND", "message": "Resource not found", "details": "Resource not found"})


def _log(msg: str) -> None:
    try:
        from services.secrets.logsafe import redact  # the same redaction as the app's logs (paths never carry queries)

        msg = redact(msg)
    except ImportError:  # the sandbox also runs without the dashboard beside it
        pass
    try:
        sys.stderr.write(f"[sandbox] {msg}\n")
    except Exception:
        pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Server"
    sys_version = ""
    state: SandboxState  # set by make_server
    max_body = 20 * 1024 * 1024

    def _handle(self):
        start = time.monotonic()
        req = None
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0 or length > self.max_body:
                raise ValueError("bad Content-Length")
            body = self.rfile.read(length) if length else b""
            req = Request(self.command, self.path, self.headers, body, self.server.url)
            resp = dispatch(self.state, req)
        except Exception as e:  # never let a traceback leave the server
            tb = traceback.extract_tb(e.__traceback__)
            where = f"{tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else "?"
            _log(f"internal error {type(e).__name__} at {where}")  # no message: it could hold a token
            resp = Response(500, {"code": "INTERNAL_ERROR", "message": "Service Error", "details": "Service Error"})
        rid = req.request_id if req else str(uuid.uuid4())
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(resp.body)))
            self.send_header("x-amzn-RequestId", rid)
            for k, v in resp.headers.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        path = req.raw_path if req else "?"  # never the query string: it can carry codes
        _log(f"{self.command} {path} {resp.status} {1000 * (time.monotonic() - start):.0f}ms")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

    def log_message(self, format, *args):  # silence the default access log (it prints full URLs)
        pass


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # A sync opens dozens of connections at once; the default backlog of 5 made the kernel reset some.
    request_queue_size = 128

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def make_server(state: SandboxState, port: int = 0) -> SandboxHTTPServer:
    handler = type("BoundHandler", (Handler,), {"state": state})
    return SandboxHTTPServer(("127.0.0.1", port), handler)
