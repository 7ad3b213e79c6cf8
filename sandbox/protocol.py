"""What every protocol module of the sandbox shares: requests, responses, error bodies, state, Ads auth, faults.

It imports no endpoint module, so ``server.py`` (routing) and the endpoint modules (``lwa_api``, ``ads_*``,
``reports_api``, ``admin_api``) can all import it without a cycle."""

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
import urllib.parse
import uuid

from sandbox import credentials

REGIONS = ("na", "eu", "fe")
# reference section 2 (hosts) and 3 (marketplace ids)
COUNTRY_REGION = {
    **{c: "na" for c in ("US", "CA", "MX", "BR")},
    **{
        c: "eu"
        for c in ("UK", "GB", "FR", "IT", "ES", "DE", "NL", "AE", "PL", "TR", "EG", "SA", "SE", "BE", "IN", "ZA", "IE")
    },
    **{c: "fe" for c in ("JP", "AU", "SG")},
}
MARKETPLACE_COUNTRY = {
    "ATVPDKIKX0DER": "US",
    "A2EUQ1WTGCTBG2": "CA",
    "A1AM78C64UM0Y8": "MX",
    "A2Q3Y263D00KWC": "BR",
    "A1F83G8C2ARO7P": "UK",
    "A1PA6795UKMFR9": "DE",
    "A13V1IB3VIYZZH": "FR",
    "APJ6JRA9NG5V4": "IT",
    "A1RKKUPIHCS9HS": "ES",
    "A1805IZSGTT6HS": "NL",
    "A2NODRKZP88ZB9": "SE",
    "A1C3SOZRARQ6R3": "PL",
    "AMEN7PMS3EDWL": "BE",
    "A33AVAJ2PDY3EV": "TR",
    "A2VIGQ35RCS4UG": "AE",
    "A17E79C6D8DWNP": "SA",
    "ARBP9OOSHTCHU": "EG",
    "A21TJRUUN4KGV": "IN",
    "A1VC38T7YXB528": "JP",
    "A39IBJ37TRP1C6": "AU",
    "A19VAU5U5O7RUS": "SG",
    "A28R8C7NBKEWEA": "IE",
}

ACCESS_TOKEN_LIFETIME = 3600


def default_faults() -> dict:
    return {
        "rules": [],
        "fail_next_reports": 0,
        "stuck_reports": False,
        "expire_download_urls": False,
        "access_token_ttl": None,
        "slow_seconds": 0.0,
        "auth_code_ttl": 300,
    }


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso_z(t: dt.datetime | float) -> str:
    if not isinstance(t, dt.datetime):
        t = dt.datetime.fromtimestamp(t, dt.UTC)
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


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


class FileResponse(Response):
    """A response whose body is a file on disk, sent in blocks by the server (a report of hundreds of megabytes
    is never read into memory)."""

    def __init__(self, status: int, path: str, content_type: str = "application/octet-stream"):
        super().__init__(status, b"", content_type=content_type)
        self.file = path


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
        sp_code = {
            400: "InvalidInput",
            401: "Unauthorized",
            403: "Unauthorized",
            404: "NotFound",
            415: "InvalidInput",
            429: "QuotaExceeded",
            500: "InternalFailure",
            503: "ServiceUnavailable",
        }.get(status, code)
        return spapi_error(status, sp_code, message, headers=headers)
    return ads_error(status, code, message, headers)


# --------------------------------------------------------------------------------------------- state
class SandboxState:
    """Everything the protocol layer remembers. ``lock`` guards it and every call into the world."""

    def __init__(
        self, world, report_latency: float = 2.0, fault_rate: float = 0.0, seed: int = 7, rate_limit: float = 0.0
    ):
        self.world = world
        # `--rate-limit R`: each profile may make R Ads calls a second (bursts of 2R); beyond that a 429 THROTTLED
        # with Retry-After: 1, counted under "rate_limit" so a test can tell our bursts from injected faults.
        self.rate_limit = float(rate_limit)
        self._buckets: dict[str, list[float]] = {}  # profile id -> [tokens, last refill]
        self.throttled: dict[str, int] = {"rate_limit": 0, "fault": 0}
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
            if name in credentials.AUTHORIZATIONS:
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
    def issue_access_token(self, client_id: str, seller_id: str, roles: tuple[str, ...] | None = None) -> str:
        """``roles``: the SP-API roles of the authorization (None: all of them; see credentials.py)."""
        token = "Atza|IwEBI" + secrets.token_urlsafe(300)  # ~400 chars (reference: >= 350, <= 2048 bytes)
        ttl = self.faults.get("access_token_ttl") or ACCESS_TOKEN_LIFETIME
        with self.lock:
            now = time.time()
            self.access_tokens = {k: v for k, v in self.access_tokens.items() if v["expires_at"] > now - 86400}
            self.access_tokens[token] = {"client_id": client_id, "seller_id": seller_id, "expires_at": now + ttl}
            if roles is not None:
                self.access_tokens[token]["roles"] = tuple(roles)
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

    # -- the documented per-profile rate
    def over_rate(self, profile_id: str) -> bool:
        """Token bucket per profile: `rate_limit` tokens a second, up to 2 x rate_limit saved."""
        if self.rate_limit <= 0:
            return False
        now = time.monotonic()
        with self.lock:
            tokens, last = self._buckets.get(profile_id, (2 * self.rate_limit, now))
            tokens = min(2 * self.rate_limit, tokens + (now - last) * self.rate_limit)
            if tokens < 1:
                self._buckets[profile_id] = [tokens, now]
                self.throttled["rate_limit"] += 1
                return True
            self._buckets[profile_id] = [tokens - 1, now]
            return False

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
                if int(rule.get("status", 500)) == 429:
                    self.throttled["fault"] += 1
                return fault_response(family, int(rule.get("status", 500)), rule.get("retry_after"), rule.get("body"))
            if self.fault_rate > 0 and self.rng.random() < self.fault_rate:
                kind = self.rng.choice(("429ra", "429", "500", "503"))
                if kind.startswith("429"):
                    self.throttled["fault"] += 1
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
            resp = spapi_error(
                429, "QuotaExceeded", "You exceeded your quota for the requested resource.", headers=headers
            )
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
        fail(
            401,
            "UNAUTHORIZED",
            "Not authorized to access this advertiser" if authz else "Authorization header is missing",
        )
    if problem == "expired":
        fail(401, "UNAUTHORIZED", "Not authorized to access this advertiser: the access token has expired")
    if problem:
        fail(401, "UNAUTHORIZED", "Not authorized to access this advertiser")
    client_id = req.header("Amazon-Advertising-API-ClientId")
    if not client_id:
        fail(
            400 if family != "reporting" else 400,
            "INVALID_ARGUMENT",
            "Missing required header: Amazon-Advertising-API-ClientId",
        )
    if client_id != rec["client_id"]:
        fail(
            401,
            "UNAUTHORIZED",
            "Not authorized to access this advertiser: the client id does not match the access token",
        )
    scope = req.header("Amazon-Advertising-API-Scope")
    profile = None
    if need_scope:
        if not scope:
            fail(401, "UNAUTHORIZED", "Scope header is missing")
        owned = {str(p["profileId"]): p for p in state.seller_profiles(rec["seller_id"])}
        profile = owned.get(scope)
        if profile is None or (req.region and COUNTRY_REGION.get(profile["countryCode"]) != req.region):
            fail(401, "UNAUTHORIZED", f"Not authorized to access scope {scope}")
        if state.over_rate(scope):
            raise HttpError(fault_response(family, 429, 1))
    return AdsContext(rec["seller_id"], rec["client_id"], profile)


def read_json_body(req: Request, family: str, default=None):
    try:
        data = req.json()
    except (ValueError, UnicodeDecodeError):
        raise HttpError(
            error_for_family(family, 400, "INVALID_ARGUMENT", "Malformed request body: invalid JSON")
        ) from None
    return default if data is None else data


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
