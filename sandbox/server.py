"""HTTP layer of the sandbox: routing, dispatch and the server; endpoints live in the *_api modules.

One loopback server stands for every Amazon host (see README.md): an optional
``/na``, ``/eu`` or ``/fe`` path prefix stands for that region's Ads / SP-API
host; without a prefix every region is served at once.

Modules (each endpoint module imports only ``protocol.py``, never this one):
  server.py          routing, dispatch, the HTTP server
  protocol.py        shared: state, request/response plumbing, error bodies, Ads auth, faults, logging
  lwa_api.py         Login with Amazon: /auth/o2/token and the /ap/oa consent page
  ads_schema.py      Sponsored Products v3 enums, limits, field sets, content negotiation
  ads_list_api.py    /v2/profiles and Sponsored Products v3 list
  ads_write_api.py   Sponsored Products v3 create/update/delete (207 multi-status)
  reports_api.py     Reporting v3 and report downloads
  spapi_reports_api.py  SP-API Reports 2021-06-30 (coupons, deals, sales and traffic via sales_traffic.py)
  catalog_api.py     SP-API Catalog Items 2022-04-01 (names, brands, images per marketplace)
  bid_reco_api.py    /sp/targets/bid/recommendations v4/v5 (numbers from bid_reco.py)
  admin_api.py       /_sandbox/ admin endpoints and the coupon bulk-file parser

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

import os
import re
import shutil
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sandbox import (
    admin_api,
    ads_list_api,
    ads_write_api,
    bid_reco_api,
    catalog_api,
    lwa_api,
    reports_api,
    spapi_reports_api,
)
from sandbox.protocol import HttpError, Request, Response, SandboxState, _log, spapi_error


# --------------------------------------------------------------------------------------------- routing
def _routes():
    coll = "(campaigns|adGroups|keywords|targets|negativeKeywords|productAds)"
    return [
        # (methods, regex, handler, family)
        ({"POST"}, r"/auth/o2/token", lwa_api.token, "lwa"),
        ({"GET"}, r"/ap/oa", lwa_api.consent_page, "consent"),
        ({"GET", "POST"}, r"/ap/oa/decision", lwa_api.consent_decision, "consent"),
        ({"GET"}, r"/v2/profiles", ads_list_api.list_profiles, "ads"),
        ({"GET"}, r"/v2/profiles/([^/]+)", ads_list_api.get_profile, "ads"),
        ({"POST"}, r"/sp/targets/bid/recommendations", bid_reco_api.recommendations, "ads"),
        ({"POST"}, rf"/sp/{coll}/list", ads_list_api.list_entities, "ads"),
        ({"POST"}, rf"/sp/{coll}/delete", ads_write_api.archive_entities, "ads"),
        ({"POST", "PUT"}, rf"/sp/{coll}", ads_write_api.mutate_entities, "ads"),
        ({"POST"}, r"/reporting/reports", reports_api.create_report, "reporting"),
        ({"GET", "DELETE"}, r"/reporting/reports/([^/]+)", reports_api.get_report, "reporting"),
        ({"GET"}, r"/_download/reports/([^/]+)/([^/]+)", reports_api.download_ads, "download"),
        ({"GET"}, r"/_download/spapi/([^/]+)", spapi_reports_api.download_spapi, "download"),
        ({"POST", "GET"}, r"/reports/2021-06-30/reports", spapi_reports_api.sp_create_or_list, "spapi"),
        ({"GET", "DELETE"}, r"/reports/2021-06-30/reports/([^/]+)", spapi_reports_api.sp_get_report, "spapi"),
        ({"GET"}, r"/reports/2021-06-30/documents/([^/]+)", spapi_reports_api.sp_get_document, "spapi"),
        ({"GET"}, r"/catalog/2022-04-01/items", catalog_api.search_items, "spapi"),
        ({"GET"}, r"/catalog/2022-04-01/items/([^/]+)", catalog_api.get_item, "spapi"),
        ({"GET"}, r"/_images/([A-Za-z0-9]+)\.svg", catalog_api.image, "download"),
        ({"GET"}, r"/_sandbox/state", admin_api.admin_state, "admin"),
        ({"POST"}, r"/_sandbox/advance", admin_api.admin_advance, "admin"),
        ({"GET", "POST", "DELETE"}, r"/_sandbox/faults", admin_api.admin_faults, "admin"),
        ({"POST"}, r"/_sandbox/coupons/upload", admin_api.admin_coupons_upload, "admin"),
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
            return spapi_error(
                405, "MethodNotAllowed", "Method not allowed", headers={"Allow": ", ".join(sorted(allowed))}
            )
        return Response(
            405,
            {
                "code": "METHOD_NOT_ALLOWED",
                "message": f"{req.method} is not allowed on this resource",
                "details": f"{req.method} is not allowed on this resource",
            },
            headers={"Allow": ", ".join(sorted(allowed))},
        )
    if req.path.startswith(("/reports/", "/catalog/")):
        return spapi_error(404, "NotFound", "Resource not found")
    return Response(404, {"code": "NOT_FOUND", "message": "Resource not found", "details": "Resource not found"})


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
            body_file = getattr(resp, "file", None)
            size = os.path.getsize(body_file) if body_file else len(resp.body)
            self.send_header("Content-Length", str(size))
            self.send_header("x-amzn-RequestId", rid)
            for k, v in resp.headers.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD" and body_file:
                with open(body_file, "rb") as f:
                    shutil.copyfileobj(f, self.wfile, 1 << 16)
            elif self.command != "HEAD":
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
