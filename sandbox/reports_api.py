"""Reporting v3: report requests, the lifecycle (PENDING, PROCESSING, COMPLETED, FAILED) and downloads."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import itertools
import json
import os
import queue
import re
import secrets
import tempfile
import threading
import time
import uuid

from sandbox import allocator
from sandbox.json_rows import json_rows
from sandbox.protocol import (
    COUNTRY_REGION,
    FileResponse,
    HttpError,
    Request,
    Response,
    SandboxState,
    _log,
    ads_auth,
    iso_z,
    read_json_body,
    reporting_error,
)

MAX_SPAN_DAYS = 31
LOOKBACK_DAYS = 95
URL_TTL = 3600
SPAPI_URL_TTL = 300
SP_REPORT_TYPES = {
    "GET_COUPON_PERFORMANCE_REPORT": ("couponStartDateFrom", "couponStartDateTo", "coupons"),
    "GET_PROMOTION_PERFORMANCE_REPORT": ("promotionStartDateFrom", "promotionStartDateTo", "promotions"),
}


def _reports_module():
    from sandbox import report_columns

    return report_columns


# --------------------------------------------------------------------------------------------- Reporting v3
def _bad(detail: str):
    raise HttpError(reporting_error(400, detail))


def _date(v, name) -> dt.date:
    if not isinstance(v, str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", v):
        _bad(f"Invalid {name}: expected YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        _bad(f"Invalid {name}: {v}")


def validate_report_request(body, today: dt.date) -> tuple[dt.date, dt.date, dict]:
    if not isinstance(body, dict):
        _bad("Request body must be a JSON object")
    for f in ("startDate", "endDate", "configuration"):
        if body.get(f) is None:
            _bad(f"{f} is required")
    start, end = _date(body["startDate"], "startDate"), _date(body["endDate"], "endDate")
    if end < start:
        _bad("endDate must be on or after startDate")
    if (end - start).days + 1 > MAX_SPAN_DAYS:
        _bad(f"Report date range is too large: the maximum is {MAX_SPAN_DAYS} days")
    if start < today - dt.timedelta(days=LOOKBACK_DAYS):
        _bad(f"Report date is too far in the past. Reports are available for the last {LOOKBACK_DAYS} days")
    if end > today:
        _bad("endDate cannot be in the future")
    if body.get("name") is not None and not isinstance(body["name"], str):
        _bad("name must be a string")
    cfg = body["configuration"]
    if not isinstance(cfg, dict):
        _bad("configuration must be an object")
    for f in ("adProduct", "reportTypeId", "groupBy", "columns", "timeUnit", "format"):
        if cfg.get(f) is None:
            _bad(f"configuration.{f} is required")
    if cfg["adProduct"] not in (
        "ALL",
        "DEMAND_SIDE_PLATFORM",
        "SPONSORED_BRANDS",
        "SPONSORED_DISPLAY",
        "SPONSORED_PRODUCTS",
        "SPONSORED_TELEVISION",
    ):
        _bad(f"Invalid adProduct: {cfg['adProduct']}")
    if cfg["adProduct"] != "SPONSORED_PRODUCTS":
        # sandbox: only Sponsored Products is simulated
        _bad(f"adProduct {cfg['adProduct']} is not supported for this account")
    rep = _reports_module()
    rt = cfg["reportTypeId"]
    if rt not in rep.REPORT_TYPES:
        _bad(f"Invalid reportTypeId: {rt}. Supported values: {', '.join(sorted(rep.REPORT_TYPES))}")
    spec = rep.REPORT_TYPES[rt]
    gb = cfg["groupBy"]
    if not isinstance(gb, list) or not gb or not all(isinstance(g, str) for g in gb):
        _bad("configuration.groupBy must be a non-empty list")
    bad = [g for g in gb if g not in spec["groupBy"]]
    if bad:
        _bad(f"Invalid groupBy value(s) {bad} for reportTypeId {rt}. Allowed: {sorted(spec['groupBy'])}")
    cols = cfg["columns"]
    if not isinstance(cols, list) or not cols or not all(isinstance(c, str) for c in cols):
        _bad("configuration.columns must be a non-empty list")
    allowed = rep.allowed_columns(rt, list(gb))
    bad = [c for c in cols if c not in allowed]
    if bad:
        _bad(f"Invalid column(s) {bad} for reportTypeId {rt} and groupBy {gb}")
    if cfg["timeUnit"] not in ("DAILY", "SUMMARY"):
        _bad(f"Invalid timeUnit: {cfg['timeUnit']}. Allowed: DAILY, SUMMARY")
    if cfg["timeUnit"] == "SUMMARY" and "date" in cols:
        _bad("Column date is not supported with timeUnit SUMMARY; use startDate and endDate")
    if cfg["timeUnit"] == "DAILY" and ({"startDate", "endDate"} & set(cols)):
        _bad("Columns startDate and endDate are not supported with timeUnit DAILY; use date")
    if cfg["format"] != "GZIP_JSON":
        _bad(f"Invalid format: {cfg['format']}. Allowed: GZIP_JSON")
    filters = cfg.get("filters")
    if filters is not None:
        if not isinstance(filters, list):
            _bad("configuration.filters must be a list")
        for f in filters:
            if (
                not isinstance(f, dict)
                or not isinstance(f.get("field"), str)
                or not isinstance(f.get("values"), list)
                or not all(isinstance(v, str) for v in f["values"])
            ):
                _bad('Each filter must be {"field": string, "values": [string]}')
            if f["field"] not in spec["filters"]:
                _bad(f"Invalid filter field {f['field']} for reportTypeId {rt}. Allowed: {sorted(spec['filters'])}")
    config = {
        "adProduct": cfg["adProduct"],
        "reportTypeId": rt,
        "groupBy": list(gb),
        "columns": list(cols),
        "timeUnit": cfg["timeUnit"],
        "format": cfg["format"],
        "filters": filters if filters else None,
    }
    return start, end, config


def _report_ct(req: Request, kind: str) -> str:
    vnd = f"application/vnd.{kind}asyncreportresponse.v3+json"
    return vnd if vnd in (req.header("Accept") or "").lower() else "application/json"


def create_report(state: SandboxState, req: Request, m) -> Response:
    ctx = ads_auth(state, req, "reporting")
    if req.media_type not in ("application/vnd.createasyncreportrequest.v3+json", "application/json"):
        return reporting_error(415, f"Unsupported Media Type: {req.media_type or 'none'}")
    body = read_json_body(req, "reporting", None)
    start, end, config = validate_report_request(body, state.today())
    key = hashlib.sha256((ctx.profile_id + json.dumps(body, sort_keys=True)).encode()).hexdigest()
    now = time.time()
    with state.lock:
        for r in state.ads_reports.values():
            if r["key"] == key and _ads_status(state, r, now) in ("PENDING", "PROCESSING"):
                return reporting_error(425, f"The Request is a duplicate of : {r['reportId']}")
        fail = state.faults.get("fail_next_reports", 0) > 0
        if fail:
            state.faults["fail_next_reports"] -= 1
        rid = str(uuid.uuid4())
        rec = {
            "reportId": rid,
            "profile_id": ctx.profile_id,
            "seller_id": ctx.seller_id,
            "key": key,
            "created": now,
            "name": body.get("name"),
            "startDate": start,
            "endDate": end,
            "config": config,
            "fail": fail,
            "stuck": bool(state.faults.get("stuck_reports")),
            "rows": None,
            "file": None,
            "size": None,
            "generated": None,
            "url": None,
            "url_expires": None,
            "bucket": "eu" if COUNTRY_REGION.get(ctx.profile["countryCode"]) == "eu" else "us",
        }
        state.ads_reports[rid] = rec
        _enqueue(state, rec)
        return Response(200, _report_json(state, req, rec, now), content_type=_report_ct(req, "create"))


def _ads_status(state: SandboxState, r: dict, now: float) -> str:
    age = now - r["created"]
    if age < state.report_latency / 2:
        return "PENDING"
    if age < state.report_latency or r["stuck"]:
        return "PROCESSING"
    if r["fail"]:
        return "FAILED"
    return "COMPLETED" if r["file"] is not None else "PROCESSING"  # rows still being generated


REPORT_WORKERS = 3  # reports generated at once, each outside the global lock but for its world reads
CHUNK_DAYS = 10  # a DAILY report is read from the world at most this many days at a time (short lock holds) ...
# ... and at most about this many rows: a frame costs ~1 KB a row with its intermediates, on each of the workers
# (10 days of the large world's targeting report were 440k rows, and three at once took the sandbox past 2 GB)
CHUNK_FRAME_ROWS = 100_000
CHUNK_ROWS = 5_000  # rows serialised and gzipped at a time (one dict per row while serialised)
_sequence = itertools.count()


def _estimated_rows(state: SandboxState, r: dict) -> int:
    """Rows a report will roughly have, so that the workers always take the smallest waiting report first."""
    p = state.world._p(r["profile_id"])
    days = (r["endDate"] - r["startDate"]).days + 1
    per_day = len(p.campaigns) if r["config"]["reportTypeId"] == "spCampaigns" else len(p.t_kind)
    return days * per_day


def _enqueue(state: SandboxState, r: dict) -> None:
    """Generate on a few background workers per server, smallest report first, so that polls never do the (slow)
    work themselves and a small report never waits behind a big one; a report whose latency has passed stays
    PROCESSING until its file exists. Called under state.lock."""
    if getattr(state, "_report_queue", None) is None:
        state._report_queue = queue.PriorityQueue()
        state._report_dir = tempfile.TemporaryDirectory(prefix="sandbox-reports-")

        def work():
            while True:
                _, _, rec = state._report_queue.get()
                try:
                    _generate(state, rec)
                except Exception as e:  # a broken generation fails the report instead of the server
                    rec["fail"] = True
                    _log(f"report generation failed: {type(e).__name__}")
                allocator.trim()  # the report's transient arrays and rows are freed: give their pages back

        for i in range(REPORT_WORKERS):
            threading.Thread(target=work, name=f"sandbox-reports-{i}", daemon=True).start()
    if not r["fail"]:
        state._report_queue.put((_estimated_rows(state, r), next(_sequence), r))


def _chunk_days(state: SandboxState, r: dict) -> int:
    """Days of a DAILY report read at a time: CHUNK_DAYS, fewer where a day has many rows (one day at least)."""
    days = (r["endDate"] - r["startDate"]).days + 1
    per_day = max(_estimated_rows(state, r) // max(days, 1), 1)
    return max(1, min(CHUNK_DAYS, CHUNK_FRAME_ROWS // per_day))


def _frames(state: SandboxState, r: dict):
    """The report's rows, a few days at a time. Only reading the world holds the lock (it is not thread-safe);
    serialising and compressing, the slow part, runs outside it, so polls and downloads are never held up."""
    from sandbox import reports

    c = r["config"]
    first, last = r["startDate"], r["endDate"]
    with state.lock:
        days = _chunk_days(state, r) if c["timeUnit"] == "DAILY" else (last - first).days + 1
    step = dt.timedelta(days=days)
    while first <= last:
        upto = min(first + step - dt.timedelta(days=1), last)
        with state.lock:
            p = state.world._p(r["profile_id"])
            frame = reports.report_frame(
                state.world, p, c["reportTypeId"], c["groupBy"], c["timeUnit"], first, upto, c["columns"], c["filters"]
            )
        yield frame
        first = upto + dt.timedelta(days=1)


def _generate(state: SandboxState, r: dict) -> None:
    """Write the report document to a temporary file in chunks: a JSON array, gzipped at a fast level. The same
    bytes as one `json.dumps` of all rows, without ever holding them all."""
    path = os.path.join(state._report_dir.name, f"{r['reportId']}.json.gz")
    with open(path, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=1, mtime=0) as gz:
        gz.write(b"[")
        sep = b""
        for frame in _frames(state, r):
            for i in range(0, len(frame), CHUNK_ROWS):
                text = json_rows(frame.iloc[i : i + CHUNK_ROWS])
                gz.write(sep + text.encode("utf-8"))
                sep = b","
        gz.write(b"]")
    with state.lock:
        r["size"] = os.path.getsize(path)
        r["file"] = path
        r["generated"] = r["created"] + state.report_latency


def _issue_url(state: SandboxState, req: Request, kind: str, ident: str, ttl: int, path: str) -> tuple[str, float]:
    sig = secrets.token_hex(32)
    expires = time.time() + ttl
    state.downloads[sig] = {"kind": kind, "id": ident, "expires_at": expires}
    date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    url = (
        f"{req.base_url}{path}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={date}"
        f"&X-Amz-SignedHeaders=host&X-Amz-Expires={ttl - 1}&X-Amz-Signature={sig}"
    )
    return url, expires


def _report_json(state: SandboxState, req: Request, r: dict, now: float) -> dict:
    status = _ads_status(state, r, now)
    out = {
        "reportId": r["reportId"],
        "name": r["name"],
        "status": status,
        "startDate": r["startDate"].isoformat(),
        "endDate": r["endDate"].isoformat(),
        "configuration": r["config"],
        "createdAt": iso_z(r["created"]),
        "updatedAt": iso_z(min(now, r["created"] + state.report_latency) if status != "PENDING" else r["created"]),
        "generatedAt": None,
        "fileSize": None,
        "url": None,
        "urlExpiresAt": None,
        "failureReason": None,
    }
    if status == "FAILED":
        out["failureReason"] = "Report generation failed due to an internal error. Please retry the request."
    elif status == "COMPLETED":
        if r["url"] is None or r["url_expires"] <= now:
            epoch_ms = int(now * 1000)
            r["url"], r["url_expires"] = _issue_url(
                state,
                req,
                "ads",
                r["reportId"],
                URL_TTL,
                f"/_download/reports/{r['reportId']}-{epoch_ms}/report-{r['reportId']}.json.gz",
            )
        out.update(
            generatedAt=iso_z(r["generated"]), fileSize=r["size"], url=r["url"], urlExpiresAt=iso_z(r["url_expires"])
        )
    return out


def get_report(state: SandboxState, req: Request, m) -> Response:
    ctx = ads_auth(state, req, "reporting")
    rid = m.group(1)
    now = time.time()
    with state.lock:
        r = state.ads_reports.get(rid)
        if r is None or r["profile_id"] != ctx.profile_id:
            return reporting_error(404, f"Report {rid} not found")
        if req.method == "DELETE":
            status = _ads_status(state, r, now)
            if status != "PENDING":
                return reporting_error(400, f"Report {rid} cannot be cancelled: its status is {status}")
            del state.ads_reports[rid]
            return Response(
                200,
                {"code": "200", "detail": "Report cancelled", "reportId": rid},
                content_type=_report_ct(req, "delete"),
            )
        return Response(200, _report_json(state, req, r, now), content_type=_report_ct(req, "get"))


def _s3_error(status: int, code: str, message: str, extra: str = "") -> Response:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
        f"{extra}<RequestId>{secrets.token_hex(8).upper()}</RequestId><HostId>{secrets.token_urlsafe(48)}"
        "</HostId></Error>"
    )
    return Response(status, body, content_type="application/xml")


def _check_download(state: SandboxState, req: Request, kind: str, ident: str) -> Response | None:
    sig = req.q("X-Amz-Signature")
    rec = state.downloads.get(sig or "")
    if rec is None or rec["kind"] != kind or rec["id"] != ident:
        return _s3_error(403, "AccessDenied", "Access Denied")
    now = time.time()
    if rec["expires_at"] <= now or state.faults.get("expire_download_urls"):
        exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(min(rec["expires_at"], now)))
        return _s3_error(
            400,
            "AccessDenied",
            "Request has expired",
            f"<X-Amz-Expires>{req.q('X-Amz-Expires') or ''}</X-Amz-Expires><Expires>{exp}</Expires>"
            f"<ServerTime>{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now))}</ServerTime>",
        )
    return None


def download_ads(state: SandboxState, req: Request, m) -> Response:
    folder, fname = m.group(1), m.group(2)
    rid = folder.rsplit("-", 1)[0]
    with state.lock:
        err = _check_download(state, req, "ads", rid)
        if err is not None:
            return err
        r = state.ads_reports.get(rid)
        if r is None or fname != f"report-{rid}.json.gz" or r["file"] is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return FileResponse(200, r["file"], content_type="application/x-gzip")  # sent from disk, after the lock
