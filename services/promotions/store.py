"""Promotion drafts and records: saved as typed (even when invalid), exported, then linked to the
coupon Amazon created once it appears in a synced coupon report.

Own schema: `sqlite_utils.Migrations("promotions")`, applied idempotently by every public function
(`ensure_schema`), beside the store's "ppc_dashboard" migrations in the same database file.

Record status: draft → exported → linked. A linked record shows with the synced coupon's status
(scheduled / live / ended, see promotions.py). Amazon assigns the coupon id, and there is no API
to create coupons, so linking matches an exported coupon to a report row by name (title suffix or
internal name against the report's name / websiteMessage), the same ASIN set, and the start date.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlite_utils import Database, Migrations

from services.analytics.export import export_filename, to_safe_csv
from services.promotions.checks import normalize_asin, split_ids
from services.promotions.drafts import ValidationResult, draft_from_dict
from services.promotions.files import (
    XLSX_MIME,
    coupon_bulk_frame,
    coupon_file_name,
    ped_frame,
    to_xlsx,
)
from services.promotions.rules import parse_date, validate
from services.store import migrations_pending, write
from services.store.db import check_schema

migrations = Migrations("promotions")
RECORD_STATUSES = ("draft", "exported", "linked")


@migrations()
def m001_promotion_records(db: Database) -> None:
    db.conn.execute("""CREATE TABLE IF NOT EXISTS promotion_records (
        record_id TEXT PRIMARY KEY,
        account_id TEXT,
        profile_id TEXT,
        marketplace_id TEXT,
        kind TEXT NOT NULL,
        name TEXT,
        status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft','exported','linked')),
        draft TEXT NOT NULL,
        errors TEXT,
        warnings TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        exported_at TEXT,
        export_format TEXT,
        coupon_id TEXT,
        linked_at TEXT
    )""")
    db.conn.execute("CREATE INDEX IF NOT EXISTS idx_promotion_records_profile ON promotion_records(profile_id, status)")
    db.conn.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS idx_promotion_records_coupon ON promotion_records(coupon_id) "
        "WHERE coupon_id IS NOT NULL"
    )


_lock = threading.Lock()


def ensure_schema(db: Database) -> None:
    """Apply this module's migrations if pending (safe to call on every use, and from several processes).

    A database where a newer version recorded promotion migrations this code does not know is refused."""
    with _lock:
        if not migrations_pending(db, migrations):
            check_schema(db, "The database", migrations)
            return
        check_schema(db, "The database", migrations)
        with write(db):
            if migrations.pending(db):
                migrations.apply(db)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _draft_dict(draft) -> dict:
    if isinstance(draft, Mapping):
        return dict(draft)
    d = draft.to_dict()
    return d


def _jsonable(d: Mapping[str, Any]) -> str:
    return json.dumps(d, default=lambda o: o.isoformat() if hasattr(o, "isoformat") else str(o), ensure_ascii=False)


def _row(r: Mapping[str, Any]) -> dict:
    out = dict(r)
    out["draft"] = json.loads(out["draft"]) if out.get("draft") else {}
    out["errors"] = json.loads(out["errors"]) if out.get("errors") else {}
    out["warnings"] = json.loads(out["warnings"]) if out.get("warnings") else {}
    return out


def record_name(draft: Mapping[str, Any]) -> str:
    name = str(draft.get("name") or "").strip()
    if not name:
        name = str(draft.get("title_suffix") or "").strip()
    return name[:200]


# ---------------------------------------------------------------------------------------- drafts


def save_draft(
    db: Database,
    draft,
    *,
    profile_id: str | None = None,
    account_id: str | None = None,
    record_id: str | None = None,
    validation: ValidationResult | None = None,
) -> str:
    """Save what was typed (valid or not); returns the record id. Updating an exported record puts it back
    to draft (the exported file no longer matches it); a linked record can't be edited."""
    ensure_schema(db)
    d = _draft_dict(draft)
    kind = str(d.get("kind") or "coupon")
    now = _now()
    errors = _jsonable(validation.errors) if validation else None
    warnings = _jsonable(validation.warnings) if validation else None
    with write(db):
        if record_id:
            cur = db.conn.execute("SELECT status FROM promotion_records WHERE record_id = ?", [record_id]).fetchone()
            if cur is None:
                raise KeyError(f"no promotion record {record_id}")
            if cur[0] == "linked":
                raise ValueError("This promotion is live on Amazon; change it in Seller Central.")
            db.conn.execute(
                "UPDATE promotion_records SET kind = ?, name = ?, draft = ?, errors = ?, warnings = ?, updated_at = ?, "
                "status = 'draft', profile_id = COALESCE(?, profile_id), account_id = COALESCE(?, account_id), "
                "marketplace_id = ? WHERE record_id = ?",
                [
                    kind,
                    record_name(d),
                    _jsonable(d),
                    errors,
                    warnings,
                    now,
                    profile_id,
                    account_id,
                    d.get("marketplace_id"),
                    record_id,
                ],
            )
            return record_id
        record_id = uuid.uuid4().hex
        db.conn.execute(
            "INSERT INTO promotion_records (record_id, account_id, profile_id, marketplace_id, kind, name, status, draft, "
            "errors, warnings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?)",
            [
                record_id,
                account_id,
                profile_id,
                d.get("marketplace_id"),
                kind,
                record_name(d),
                _jsonable(d),
                errors,
                warnings,
                now,
                now,
            ],
        )
    return record_id


def get_record(db: Database, record_id: str) -> dict | None:
    ensure_schema(db)
    r = next(iter(db.query("SELECT * FROM promotion_records WHERE record_id = ?", [record_id])), None)
    return _row(r) if r else None


def get_draft(db: Database, record_id: str):
    """The stored draft as a CouponDraft / PercentOffDraft / PedDraft (to refill the form)."""
    rec = get_record(db, record_id)
    return None if rec is None else draft_from_dict(rec["draft"])


def list_records(
    db: Database, profile_id: str | None = None, status: str | None = None, kind: str | None = None
) -> list[dict]:
    ensure_schema(db)
    sql, params = "SELECT * FROM promotion_records WHERE 1=1", []
    for col, val in (("profile_id", profile_id), ("status", status), ("kind", kind)):
        if val is not None:
            sql += f" AND {col} = ?"
            params.append(val)
    return [_row(r) for r in db.query(sql + " ORDER BY created_at, record_id", params)]


def records_version(db: Database, profile_id: str) -> str:
    """Changes whenever a record of the profile is added, changed or deleted: part of the key under which the
    Promotions page caches its overview (which lists drafts and exports beside the synced promotions)."""
    ensure_schema(db)
    row = db.conn.execute(
        "SELECT COUNT(*), group_concat(record_id || ':' || updated_at || ':' || status, ',') "
        "FROM (SELECT record_id, updated_at, status FROM promotion_records WHERE profile_id = ? ORDER BY record_id)",
        [profile_id],
    ).fetchone()
    return f"{row[0]}|{hashlib.sha256((row[1] or '').encode()).hexdigest()[:16]}"


def delete_record(db: Database, record_id: str) -> None:
    ensure_schema(db)
    with write(db):
        db.conn.execute("DELETE FROM promotion_records WHERE record_id = ?", [record_id])


def account_asins(db: Database, profile_id: str) -> set[str]:
    """ASINs the account is known to sell: its product ads, advertised products and coupons."""
    out: set[str] = set()
    for sql in (
        "SELECT DISTINCT asin FROM product_ads WHERE profile_id = ?",
        "SELECT DISTINCT asin FROM advertised_product_day WHERE profile_id = ?",
    ):
        try:
            out |= {r[0] for r in db.conn.execute(sql, [profile_id]) if r[0]}
        except Exception:  # table absent in a bare database
            pass
    try:
        for (a,) in db.conn.execute("SELECT asins FROM coupons WHERE profile_id = ?", [profile_id]):
            out |= set(json.loads(a or "[]"))
    except Exception:
        pass
    return {normalize_asin(a) for a in out}


def account_skus(db: Database, profile_id: str) -> set[str]:
    try:
        return {
            r[0]
            for r in db.conn.execute(
                "SELECT DISTINCT sku FROM product_ads WHERE profile_id = ? AND sku IS NOT NULL", [profile_id]
            )
        }
    except Exception:
        return set()


# ---------------------------------------------------------------------------------------- export


@dataclass
class ExportResult:
    ok: bool
    data: bytes | None
    filename: str | None
    mime: str | None
    frame: pd.DataFrame | None
    record_ids: list[str]
    results: dict[str, ValidationResult] = field(default_factory=dict)
    message: str = ""


def _validate_record(
    db: Database, rec: dict, today: date, now: datetime | None, known_asins, known_skus, prices
) -> ValidationResult:
    draft = draft_from_dict(rec["draft"])
    pid = rec.get("profile_id")
    if known_asins is None and pid:
        known_asins = account_asins(db, pid) or None
    if known_skus is None and pid:
        known_skus = account_skus(db, pid) or None
    return validate(draft, today=today, now=now, known_asins=known_asins, known_skus=known_skus, prices=prices)


def export_coupons(
    db: Database,
    record_ids: Iterable[str],
    *,
    today: date,
    fmt: str = "csv",
    known_asins: Iterable[str] | None = None,
    prices: Mapping[str, float] | None = None,
    profile_label: str = "coupons",
) -> ExportResult:
    """Validate the coupon records and build one bulk file (one coupon per row). Only when every record
    is valid is the file produced and the records moved to "exported"; otherwise nothing changes and
    `results` holds each record's errors by field."""
    ensure_schema(db)
    ids = list(dict.fromkeys(record_ids))
    recs = [get_record(db, r) for r in ids]
    results: dict[str, ValidationResult] = {}
    for rid, rec in zip(ids, recs):
        if rec is None:
            results[rid] = ValidationResult(errors={"record": ["This draft no longer exists."]})
            continue
        if rec["kind"] != "coupon":
            results[rid] = ValidationResult(errors={"kind": ["Only coupons go into the coupon bulk file."]})
            continue
        results[rid] = _validate_record(db, rec, today, None, known_asins, None, prices)
    if not ids:
        return ExportResult(False, None, None, None, None, [], {}, "Choose at least one coupon to export.")
    bad = [r for r, v in results.items() if not v.ok]
    if bad:
        return ExportResult(
            False,
            None,
            None,
            None,
            None,
            ids,
            results,
            f"{len(bad)} of {len(ids)} coupon(s) need fixing before export.",
        )
    drafts = [draft_from_dict(r["draft"]) for r in recs]
    frame = coupon_bulk_frame(drafts)
    data = to_safe_csv(frame) if fmt == "csv" else to_xlsx(frame)
    now = _now()
    with write(db):
        for rid, v in results.items():
            db.conn.execute(
                "UPDATE promotion_records SET status = 'exported', exported_at = ?, export_format = ?, "
                "errors = ?, warnings = ?, updated_at = ? WHERE record_id = ? AND status != 'linked'",
                [now, fmt, _jsonable(v.errors), _jsonable(v.warnings), now, rid],
            )
    return ExportResult(
        True,
        data,
        coupon_file_name(profile_label, today, fmt),
        "text/csv" if fmt == "csv" else XLSX_MIME,
        frame,
        ids,
        results,
        f"{len(ids)} coupon(s) in the file. Upload it in Seller Central › Advertising › Coupons › "
        "Create in bulk; they are linked here once the coupon report shows them.",
    )


def export_ped(
    db: Database,
    record_id: str,
    *,
    today: date,
    fmt: str = "csv",
    known_skus: Iterable[str] | None = None,
    prices: Mapping[str, float] | None = None,
) -> ExportResult:
    """Validate a PED record and build its upload file; the record moves to "exported" when valid."""
    ensure_schema(db)
    rec = get_record(db, record_id)
    if rec is None or rec["kind"] != "ped":
        v = ValidationResult(errors={"record": ["This is not a Prime Exclusive Discount draft."]})
        return ExportResult(False, None, None, None, None, [record_id], {record_id: v}, v.errors["record"][0])
    v = _validate_record(db, rec, today, None, None, known_skus, prices)
    if not v.ok:
        return ExportResult(False, None, None, None, None, [record_id], {record_id: v}, "Fix the marked fields first.")
    frame = ped_frame(draft_from_dict(rec["draft"]))
    data = to_safe_csv(frame) if fmt == "csv" else to_xlsx(frame)
    now = _now()
    with write(db):
        db.conn.execute(
            "UPDATE promotion_records SET status = 'exported', exported_at = ?, export_format = ?, "
            "errors = ?, warnings = ?, updated_at = ? WHERE record_id = ?",
            [now, fmt, _jsonable(v.errors), _jsonable(v.warnings), now, record_id],
        )
    return ExportResult(
        True,
        data,
        export_filename("ped", rec.get("name") or "discount", today, ext=fmt),
        "text/csv" if fmt == "csv" else XLSX_MIME,
        frame,
        [record_id],
        {record_id: v},
        "Upload it in Seller Central › Advertising › Prime Exclusive Discounts.",
    )


def export_peds(
    db: Database,
    record_ids: Iterable[str],
    *,
    today: date,
    fmt: str = "csv",
    known_skus: Iterable[str] | None = None,
    prices: Mapping[str, float] | None = None,
) -> ExportResult:
    """Every valid PED draft of `record_ids` gets its upload file (each PED is its own discount in Seller Central,
    with its own name and dates, so one file each); several files come as one ZIP. Invalid drafts stay drafts
    and are named in the result."""
    import io
    import zipfile

    ids = list(dict.fromkeys(record_ids))
    if not ids:
        return ExportResult(False, None, None, None, None, [], {}, "Choose at least one Prime Exclusive Discount.")
    skus = list(known_skus) if known_skus is not None else None
    done = {rid: export_ped(db, rid, today=today, fmt=fmt, known_skus=skus, prices=prices) for rid in ids}
    good = [r for r in done.values() if r.ok]
    results = {rid: v for r in done.values() for rid, v in r.results.items()}
    failed = len(ids) - len(good)
    if not good:
        return ExportResult(False, None, None, None, None, ids, results, "Fix the marked fields first.")
    if len(good) == 1:
        one = good[0]
        note = f" {failed} other draft(s) need fixing first." if failed else ""
        return ExportResult(True, one.data, one.filename, one.mime, one.frame, ids, results, one.message + note)
    buf, names = io.BytesIO(), set()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, r in enumerate(good, start=1):
            name = str(r.filename)
            if name in names:  # two drafts with the same name on the same day: keep both files
                stem, dot, ext = name.rpartition(".")
                name = f"{stem}-{n}{dot}{ext}"
            names.add(name)
            z.writestr(name, r.data or b"")
    frame = pd.concat([r.frame for r in good if r.frame is not None], ignore_index=True)
    note = f" {failed} other draft(s) need fixing first and stay drafts." if failed else ""
    return ExportResult(
        True,
        buf.getvalue(),
        export_filename("ped-files", "prime-exclusive-discounts", today, ext="zip"),
        "application/zip",
        frame,
        ids,
        results,
        f"{len(good)} Prime Exclusive Discount files in the ZIP, one per discount: create each discount in "
        "Seller Central › Advertising › Prime Exclusive Discounts and upload its file." + note,
    )


def mark_exported(db: Database, record_ids: Iterable[str], fmt: str = "manual") -> None:
    """For promotions created by hand in Seller Central from our instructions (percentage off, BOGO)."""
    ensure_schema(db)
    now = _now()
    with write(db):
        for rid in record_ids:
            db.conn.execute(
                "UPDATE promotion_records SET status = 'exported', exported_at = ?, export_format = ?, "
                "updated_at = ? WHERE record_id = ? AND status = 'draft'",
                [now, fmt, now, rid],
            )


# ---------------------------------------------------------------------------------------- linking


def _norm_text(s: Any) -> str:
    return " ".join(str(s or "").casefold().split())


def _names(draft: Mapping[str, Any]) -> set[str]:
    return {n for n in (_norm_text(draft.get("title_suffix")), _norm_text(draft.get("name"))) if n}


def coupon_matches(draft: Mapping[str, Any], coupon: Mapping[str, Any]) -> bool:
    """Same name (title suffix or internal name = report name or websiteMessage, or inside websiteMessage),
    the same ASIN set, and the same start date."""
    names = _names(draft)
    cname, msg = _norm_text(coupon.get("name")), _norm_text(coupon.get("website_message"))
    if not names or not (names & {cname, msg} or any(n and n in msg for n in names)):
        return False
    mine = {normalize_asin(a) for a in split_ids(draft.get("asins"))}
    raw = coupon.get("asins")
    theirs = set(json.loads(raw)) if isinstance(raw, str) else set(raw or [])
    if mine != {normalize_asin(a) for a in theirs}:
        return False
    start = parse_date(draft.get("start_date"))
    c_start = parse_date(str(coupon.get("start_date_time") or "")[:10])
    return start is not None and start == c_start


def link_coupons(db: Database, profile_id: str | None = None) -> list[tuple[str, str]]:
    """Link exported coupon records to the synced coupons they became. Returns [(record_id, coupon_id)].

    A coupon id is linked to at most one record; when several exported records match, the oldest export wins.
    """
    ensure_schema(db)
    recs = list_records(db, profile_id=profile_id, status="exported", kind="coupon")
    if not recs:
        return []
    taken = {r[0] for r in db.conn.execute("SELECT coupon_id FROM promotion_records WHERE coupon_id IS NOT NULL")}
    sql, params = "SELECT coupon_id, profile_id, name, website_message, asins, start_date_time FROM coupons", []
    if profile_id is not None:
        sql += " WHERE profile_id = ?"
        params.append(profile_id)
    coupons = [dict(r) for r in db.query(sql + " ORDER BY coupon_id", params)]
    links: list[tuple[str, str]] = []
    for rec in sorted(recs, key=lambda r: (r.get("exported_at") or "", r["record_id"])):
        for c in coupons:
            if c["coupon_id"] in taken:
                continue
            if rec.get("profile_id") and c.get("profile_id") and rec["profile_id"] != c["profile_id"]:
                continue
            if coupon_matches(rec["draft"], c):
                links.append((rec["record_id"], c["coupon_id"]))
                taken.add(c["coupon_id"])
                break
    if links:
        now = _now()
        with write(db):
            for rid, cid in links:
                db.conn.execute(
                    "UPDATE promotion_records SET status = 'linked', coupon_id = ?, linked_at = ?, "
                    "updated_at = ? WHERE record_id = ? AND status = 'exported'",
                    [cid, now, now, rid],
                )
    return links
