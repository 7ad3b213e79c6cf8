"""SP-API Reports 2021-06-30: create, list, get, cancel, and report documents for coupons, deals and total sales
and traffic (GET_SALES_AND_TRAFFIC_REPORT, built by ``sales_traffic.py``)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import secrets
import time
import uuid

from sandbox.protocol import (
    COUNTRY_REGION,
    MARKETPLACE_COUNTRY,
    HttpError,
    Request,
    Response,
    SandboxState,
    iso_z,
    read_json_body,
    spapi_error,
)
from sandbox.reports_api import SP_REPORT_TYPES, SPAPI_URL_TTL, _check_download, _issue_url, _s3_error

SALES_TRAFFIC = "GET_SALES_AND_TRAFFIC_REPORT"
SALES_ROLE = "sales_and_traffic"  # a seller authorization without it gets 403 for SALES_TRAFFIC (credentials.py)
DATE_GRANULARITIES = ("DAY", "WEEK", "MONTH")
ASIN_GRANULARITIES = ("PARENT", "CHILD", "SKU")


# --------------------------------------------------------------------------------------------- SP-API
def spapi_auth(state: SandboxState, req: Request) -> dict:
    rec, problem = state.lookup_access_token(req.header("x-amz-access-token"))
    if problem == "expired":
        raise HttpError(
            spapi_error(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided has expired.",
            )
        )
    if problem:
        raise HttpError(spapi_error(403, "Unauthorized", "Access to requested resource is denied.", ""))
    return rec


def _sp_status(state: SandboxState, r: dict, now: float) -> str:
    if r.get("cancelled"):
        return "CANCELLED"
    age = now - r["created"]
    if age < state.report_latency / 2:
        return "IN_QUEUE"
    if age < state.report_latency or r["stuck"]:
        return "IN_PROGRESS"
    return "FATAL" if r["fatal"] else "DONE"


def _parse_dt(v) -> dt.datetime | None:
    if not isinstance(v, str):
        return None
    try:
        t = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def sp_create_or_list(state: SandboxState, req: Request, m) -> Response:
    auth = spapi_auth(state, req)
    if req.method == "GET":
        return _sp_list(state, req, auth)
    body = read_json_body(req, "spapi", None)

    def invalid(details):
        return spapi_error(400, "InvalidInput", "Invalid input", details)

    if not isinstance(body, dict):
        return invalid("The request body must be a JSON object")
    rtype, mkts, opts = body.get("reportType"), body.get("marketplaceIds"), body.get("reportOptions")
    if not isinstance(rtype, str) or not rtype:
        return invalid("reportType is required")
    if not isinstance(mkts, list) or not mkts or not all(isinstance(x, str) for x in mkts):
        return invalid("marketplaceIds is required and must be a non-empty list of strings")
    if opts is not None and (
        not isinstance(opts, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in opts.items())
    ):
        return invalid("reportOptions must be a map of string keys to string values")
    for f in ("dataStartTime", "dataEndTime"):
        if body.get(f) is not None and _parse_dt(body[f]) is None:
            return invalid(f"{f} must be an ISO 8601 date-time")
    if rtype == SALES_TRAFFIC and SALES_ROLE not in auth.get("roles", (SALES_ROLE,)):
        # Amazon answers a missing Selling Partner Insights role with its plain 403 (no detail)
        return spapi_error(403, "Unauthorized", "Access to requested resource is denied.", "")
    if rtype == SALES_TRAFFIC and len(mkts) != 1:
        return invalid("This report type supports only one marketplaceId per report")
    if rtype not in SP_REPORT_TYPES and rtype != SALES_TRAFFIC:
        return invalid(f"Report type {rtype} is not supported by the sandbox (supported: {', '.join(SP_REPORT_TYPES)})")
    with state.lock:
        profiles = state.world.sellers()
    seller_mkts = set()
    for p in state.seller_profiles(auth["seller_id"]):
        seller_mkts.add(p["accountInfo"]["marketplaceStringId"])
    for mk in mkts:
        country = MARKETPLACE_COUNTRY.get(mk)
        if country is None or mk not in seller_mkts or (req.region and COUNTRY_REGION.get(country) != req.region):
            return invalid(f"Invalid marketplaceId {mk} for this seller and endpoint")
    now = time.time()
    with state.lock:
        fail = state.faults.get("fail_next_reports", 0) > 0
        if fail:
            state.faults["fail_next_reports"] -= 1
        state.sp_report_seq += 1
        rid = str(state.sp_report_seq)
        state.sp_reports[rid] = {
            "reportId": rid,
            "reportType": rtype,
            "marketplaceIds": list(mkts),
            "reportOptions": dict(opts or {}),
            "seller_id": auth["seller_id"],
            "created": now,
            "fatal": fail,
            "stuck": bool(state.faults.get("stuck_reports")),
            "dataStartTime": body.get("dataStartTime"),
            "dataEndTime": body.get("dataEndTime"),
            "region": req.region or COUNTRY_REGION.get(MARKETPLACE_COUNTRY[mkts[0]], "na"),
            "documentId": None,
            "cancelled": False,
        }
        del profiles
    return Response(202, {"reportId": rid})


def _sp_report_json(state: SandboxState, r: dict, now: float) -> dict:
    status = _sp_status(state, r, now)
    if status in ("DONE", "FATAL"):
        _sp_document(state, r)  # decides FATAL for unusable reportOptions
        status = _sp_status(state, r, now)
    out = {
        "reportId": r["reportId"],
        "reportType": r["reportType"],
        "marketplaceIds": r["marketplaceIds"],
        "createdTime": iso_z(r["created"]).replace(".000Z", "Z")[:19] + "Z",
        "processingStatus": status,
    }
    for f in ("dataStartTime", "dataEndTime"):
        if r.get(f):
            out[f] = r[f]
    if status in ("IN_PROGRESS", "DONE", "FATAL"):
        out["processingStartTime"] = iso_z(r["created"] + state.report_latency / 2)[:19] + "Z"
    if status in ("DONE", "FATAL"):
        out["processingEndTime"] = iso_z(r["created"] + state.report_latency)[:19] + "Z"
        out["reportDocumentId"] = r["documentId"]
    return out


def _sales_traffic_document(state: SandboxState, r: dict) -> dict:
    from sandbox import sales_traffic  # the world's numpy code loads only when such a report is made

    opts = r["reportOptions"]
    dg, ag = opts.get("dateGranularity", "DAY"), opts.get("asinGranularity", "PARENT")
    if dg not in DATE_GRANULARITIES or ag not in ASIN_GRANULARITIES:
        r["fatal"] = True
        return {"errorDetails": f"Invalid reportOptions: dateGranularity must be one of {', '.join(DATE_GRANULARITIES)}"
                f" and asinGranularity one of {', '.join(ASIN_GRANULARITIES)}."}  # fmt: skip
    start, end = _parse_dt(r.get("dataStartTime")), _parse_dt(r.get("dataEndTime"))
    today = state.world.today
    end_d = end.date() if end else today
    start_d = start.date() if start else end_d - dt.timedelta(days=1)
    p = state.world._p_by_seller(r["seller_id"], r["marketplaceIds"][0])
    if p is None:
        r["fatal"] = True
        return {"errorDetails": "The seller has no data in this marketplace."}
    return sales_traffic.report_document(state.world, p, start_d, end_d, dg, ag)


def _sp_document(state: SandboxState, r: dict) -> None:
    if r["documentId"] is not None:
        return
    if r["reportType"] == SALES_TRAFFIC:
        doc = _sales_traffic_document(state, r) if not r["fatal"] else {"errorDetails": "Report generation failed."}
        _store_document(state, r, doc)
        return
    frm, to, key = SP_REPORT_TYPES[r["reportType"]]
    opts = r["reportOptions"]
    if r["fatal"]:
        doc = {"errorDetails": "Report generation failed due to an internal error. Please try again."}
    elif _parse_dt(opts.get(frm)) is None or _parse_dt(opts.get(to)) is None:
        # promotions.md section 5: Amazon ends such a report FATAL with a document holding errorDetails
        doc = {
            "errorDetails": f"Please provide report options {frm} and {to} in the valid format, ISO-8601 "
            f'date-time, for example "2011-12-03T10:15:30Z".'
        }
        r["fatal"] = True
    else:
        start_from, start_to = _parse_dt(opts[frm]), _parse_dt(opts[to])
        items = []
        for mk in r["marketplaceIds"]:
            fn = state.world.coupons if key == "coupons" else state.world.deals
            items.extend(fn(r["seller_id"], mk, start_from, start_to))
        doc = {
            "reportSpecification": {
                "reportType": r["reportType"],
                "reportOptions": dict(opts),
                "marketplaceIds": list(r["marketplaceIds"]),
            },
            key: items,
        }
    _store_document(state, r, doc)


def _store_document(state: SandboxState, r: dict, doc: dict) -> None:
    did = f"amzn1.spdoc.1.4.{r['region']}.{uuid.uuid4()}.T{secrets.token_hex(6).upper()}.{secrets.randbelow(10**4)}"
    state.sp_documents[did] = {
        "reportDocumentId": did,
        "seller_id": r["seller_id"],
        "gz": gzip.compress(json.dumps(doc, ensure_ascii=False).encode("utf-8"), mtime=0),
    }
    r["documentId"] = did


def _sp_list(state: SandboxState, req: Request, auth: dict) -> Response:
    types = [t for t in (req.q("reportTypes") or "").split(",") if t]
    if not types and not req.q("nextToken"):
        return spapi_error(400, "InvalidInput", "Invalid input", "reportTypes or nextToken is required")
    statuses = [s for s in (req.q("processingStatuses") or "").split(",") if s]
    now = time.time()
    with state.lock:
        out = [
            _sp_report_json(state, r, now)
            for r in state.sp_reports.values()
            if r["seller_id"] == auth["seller_id"] and (not types or r["reportType"] in types)
        ]
    if statuses:
        out = [r for r in out if r["processingStatus"] in statuses]
    out.sort(key=lambda r: r["createdTime"], reverse=True)
    return Response(200, {"reports": out[: int(req.q("pageSize") or 10)]})


def sp_get_report(state: SandboxState, req: Request, m) -> Response:
    auth = spapi_auth(state, req)
    rid = m.group(1)
    now = time.time()
    with state.lock:
        r = state.sp_reports.get(rid)
        if r is None or r["seller_id"] != auth["seller_id"]:
            return spapi_error(404, "NotFound", "The report was not found", f"reportId {rid}")
        if req.method == "DELETE":
            if _sp_status(state, r, now) != "IN_QUEUE":
                return spapi_error(
                    400, "InvalidInput", "Invalid input", "Only reports with processingStatus IN_QUEUE can be cancelled"
                )
            r["cancelled"] = True
            return Response(200, b"", content_type="application/json")
        return Response(200, _sp_report_json(state, r, now))


def sp_get_document(state: SandboxState, req: Request, m) -> Response:
    auth = spapi_auth(state, req)
    did = m.group(1)
    with state.lock:
        d = state.sp_documents.get(did)
        if d is None or d["seller_id"] != auth["seller_id"]:
            return spapi_error(404, "NotFound", "The report document was not found", f"reportDocumentId {did}")
        url, _ = _issue_url(state, req, "spapi", did, SPAPI_URL_TTL + 1, f"/_download/spapi/{did}")
    return Response(200, {"reportDocumentId": did, "url": url, "compressionAlgorithm": "GZIP"})


def download_spapi(state: SandboxState, req: Request, m) -> Response:
    did = m.group(1)
    with state.lock:
        err = _check_download(state, req, "spapi", did)
        if err is not None:
            return err
        d = state.sp_documents.get(did)
        if d is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return Response(200, d["gz"], content_type="application/octet-stream")
