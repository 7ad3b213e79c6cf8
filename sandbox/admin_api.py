"""Sandbox-only admin endpoints under ``/_sandbox/``: state, advance, faults, and the coupon bulk-file upload.

The coupon CSV parser lives here because only the upload endpoint reads Seller Central bulk files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

from sandbox.protocol import MARKETPLACE_COUNTRY, Request, Response, SandboxState, default_faults, read_json_body


# --------------------------------------------------------------------------------------------- admin
def admin_state(state: SandboxState, req: Request, m) -> Response:
    with state.lock:
        w = state.world
        return Response(
            200,
            {
                "today": w.today.isoformat(),
                "seed": w.seed,
                "scale": w.scale,
                "report_latency": state.report_latency,
                "fault_rate": state.fault_rate,
                "rate_limit": state.rate_limit,
                "throttled": dict(state.throttled),
                "sellers": len(w.sellers()),
                "reports": len(state.ads_reports),
                "spapi_reports": len(state.sp_reports),
            },
        )


def admin_advance(state: SandboxState, req: Request, m) -> Response:
    body = read_json_body(req, "admin", {})
    days = body.get("days", 1) if isinstance(body, dict) else None
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 400:
        return Response(400, {"code": "INVALID_ARGUMENT", "message": "days must be an integer from 1 to 400"})
    with state.lock:
        state.world.advance(days)
    return admin_state(state, req, m)


FAULT_KEYS = {
    "rules": list,
    "fail_next_reports": int,
    "stuck_reports": bool,
    "expire_download_urls": bool,
    "access_token_ttl": (int, float, type(None)),
    "slow_seconds": (int, float),
    "auth_code_ttl": (int, float),
}


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
            if (
                k not in FAULT_KEYS
                or not isinstance(v, FAULT_KEYS[k])
                or (FAULT_KEYS[k] is int and isinstance(v, bool))
            ):
                return Response(400, {"code": "INVALID_ARGUMENT", "message": f"invalid fault setting: {k}"})
        for r in body.get("rules", []):
            if (
                not isinstance(r, dict)
                or not isinstance(r.get("status", 500), int)
                or not isinstance(r.get("times", 1), int)
                or not isinstance(r.get("path", "*"), str)
            ):
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


# --------------------------------------------------------------------------------------------- coupon bulk CSV
# Column names as the reference's bulk-template table gives them (promotions.md section 2, columns A-H);
# "Percentage off" / "Money off" are accepted as older spellings.
CSV_COLUMNS = (
    "ASIN list",
    "Discount type",
    "% off value",
    "Money-off value",
    "Title suffix",
    "Budget",
    "Start date",
    "End date",
)
CSV_ALIASES = {"percentage off": "% off value", "money off": "money-off value"}


def _csv_date(v: str) -> dt.date | None:
    v = (v or "").strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(v, fmt).date()
        except ValueError:
            pass
    return None


def _csv_num(v: str) -> float | None:
    v = (v or "").strip().replace("%", "").replace("$", "").replace(",", "")
    try:
        return float(v)
    except ValueError:
        return None


def parse_coupon_csv(text: str) -> tuple[list[dict], list[dict]]:
    """Seller Central coupon bulk file -> (rows for World.upload_coupons, errors [{row, message}])."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        return [], [{"row": None, "message": "the file is empty"}]
    header = {CSV_ALIASES.get(h.strip().lower(), h.strip().lower()): h for h in reader.fieldnames if h}
    missing = [c for c in CSV_COLUMNS if c.lower() not in header]
    if missing:
        return [], [{"row": None, "message": f"missing column(s): {', '.join(missing)}"}]
    rows, errors = [], []
    for n, raw in enumerate(reader, start=2):  # row 1 is the header
        get = {k: (raw.get(h) or "").strip() for k, h in header.items()}
        if not any(get.values()):
            continue
        problems = []
        asins = [a for a in re.split(r"[;,\s]+", get["asin list"]) if a]
        if not asins:
            problems.append("ASIN list is empty")
        elif any(not re.match(r"^[A-Z0-9]{10}$", a) for a in asins):
            problems.append("ASIN list holds an invalid ASIN")
        dtype = get["discount type"].lower()
        if dtype in ("percentage off", "percent off", "percentage"):
            dtype, value = "Percentage Off", _csv_num(get["% off value"])
        elif dtype in ("money off", "amount off", "money"):
            dtype, value = "Money Off", _csv_num(get["money-off value"])
        else:
            dtype, value = None, None
            problems.append("Discount type must be 'Percentage Off' or 'Money Off'")
        if dtype and (value is None or value <= 0):
            problems.append(
                f"{'% off value' if dtype == 'Percentage Off' else 'Money-off value'} must be a positive number"
            )
        budget = _csv_num(get["budget"])
        if budget is None or budget <= 0:
            problems.append("Budget must be a positive number")
        start, end = _csv_date(get["start date"]), _csv_date(get["end date"])
        if start is None or end is None:
            problems.append("Start date and End date must be dates (YYYY-MM-DD or MM/DD/YYYY)")
        elif end < start:
            problems.append("End date must be on or after Start date")
        if not get["title suffix"]:
            problems.append("Title suffix is required")
        once = get.get("once per customer", "")
        if once and once.lower() not in ("yes", "no", "true", "false", "y", "n", "1", "0"):
            problems.append("Once per customer must be Yes or No")
        if problems:
            errors.append({"row": n, "message": "; ".join(problems)})
            continue
        rows.append(
            {
                "asins": asins,
                "discount_type": dtype,
                "discount_value": value,
                "title": get["title suffix"],
                "budget": budget,
                "start_date": start,
                "end_date": end,
                "customer_segment": get.get("customer segment") or "All (Default)",
                "once_per_customer": (once.lower() in ("yes", "true", "y", "1")) if once else True,
            }
        )
    if not rows and not errors:
        errors.append({"row": None, "message": "the file holds no coupon rows"})
    return rows, errors
