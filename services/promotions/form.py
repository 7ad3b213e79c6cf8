"""The create-promotion form's one call per action: check against Amazon's rules, keep the draft, export.

A draft is saved whatever its state, so nothing a marketer typed is lost; errors and
warnings come back keyed by field so the page can show each next to its input.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlite_utils import Database

from services.promotions import store as ps
from services.promotions.checks import normalize_asin, split_ids
from services.promotions.drafts import CouponDraft, PedDraft, PercentOffDraft, ValidationResult
from services.promotions.rules import validate

Draft = CouponDraft | PercentOffDraft | PedDraft


def parse_tiers(text: str) -> list[dict[str, str]]:
    """ "2:10, 5:15" -> buy 2 get 10 % off, buy 5 get 15 %; the values stay text so the rules can refuse them."""
    tiers = []
    for part in str(text or "").split(","):
        if ":" in part:
            threshold, percent = part.split(":", 1)
            tiers.append({"threshold": threshold.strip(), "percent_off": percent.strip()})
    return tiers


def check_and_save(
    db: Database,
    draft: Draft,
    *,
    profile_id: str,
    account_id: str,
    record_id: str | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> tuple[str, ValidationResult]:
    """Validate with the account's own ASINs and SKUs, warn about coupons already on the same ASINs and dates,
    then save the draft (valid or not)."""
    result = validate(
        draft,
        today=today,
        now=now,
        known_asins=ps.account_asins(db, profile_id) or None,
        known_skus=ps.account_skus(db, profile_id) or None,
    )
    for sentence in overlapping_coupons(db, profile_id, draft):
        result.warn("asins", sentence)
    try:
        rid = ps.save_draft(
            db, draft, profile_id=profile_id, account_id=account_id, record_id=record_id, validation=result
        )
    except (KeyError, ValueError):  # the record went away or is already live: keep what was typed as a new draft
        rid = ps.save_draft(db, draft, profile_id=profile_id, account_id=account_id, validation=result)
    return rid, result


def _day(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def overlapping_coupons(db: Database, profile_id: str, draft: Draft) -> list[str]:
    """One sentence per ASIN of the draft that a synced coupon of this profile already promotes on overlapping
    dates (a shopper sees one coupon per product, so two compete and both pay their fees)."""
    if isinstance(draft, PedDraft):
        return []
    asins = {normalize_asin(a) for a in split_ids(draft.asins)}
    first = _day(getattr(draft, "start_date", None) or getattr(draft, "start", None))
    last = _day(getattr(draft, "end_date", None) or getattr(draft, "end", None))
    if not asins or first is None or last is None:
        return []
    out = []
    rows = db.conn.execute(
        "SELECT name, website_message, start_date_time, end_date_time, asins FROM coupons WHERE profile_id = ? "
        "ORDER BY start_date_time",
        [profile_id],
    ).fetchall()
    for name, message, start, end, listed in rows:
        c_first, c_last = _day(start), _day(end)
        if c_first is None or c_last is None or c_first > last or c_last < first:
            continue
        try:
            theirs = {normalize_asin(a) for a in split_ids(json.loads(listed or "[]"))}
        except ValueError:
            theirs = {normalize_asin(a) for a in split_ids(listed)}
        for asin in sorted(asins & theirs):
            label = name or message or "a coupon"
            out.append(
                f"{asin} already has the coupon “{label}” from {c_first:%d %b} to {c_last:%d %b}: "
                "shoppers see one coupon per product, so the two would compete."
            )
    return out


def export(
    db: Database, record_ids: list[str], kind: str, fmt: str, profile_label: str, today: date | None = None
) -> ps.ExportResult:
    """Coupons go into one bulk file; a PED gets its upload file; percentage-off and BOGO are made by hand."""
    today = today or date.today()
    if kind == "coupon":
        return ps.export_coupons(db, record_ids, today=today, fmt=fmt, profile_label=profile_label)
    if kind == "ped":
        return ps.export_peds(db, record_ids, today=today, fmt=fmt)
    ps.mark_exported(db, record_ids)
    return ps.ExportResult(
        True,
        None,
        None,
        None,
        None,
        record_ids,
        {},
        "Marked as exported: create it in Seller Central › Advertising › Promotions with these values.",
    )


KIND_LABELS = {"coupon": "Coupon", "percent_off": "Percentage off", "bogo": "Buy one get one", "ped": "Prime Exclusive"}


def first_error(errors: dict | None) -> str | None:
    """The first of a draft's rule breaks, as the form showed it next to its field."""
    for messages in (errors or {}).values():
        for message in messages or []:
            return str(message)
    return None


def drafts_table(db: Database, profile_id: str) -> list[dict]:
    """A profile's promotion records for the drafts list: the ones that break a rule marked with their first error,
    so they are never mistaken for drafts ready to export."""
    out = []
    for r in ps.list_records(db, profile_id=profile_id):
        problem = first_error(r.get("errors")) if r["status"] == "draft" else None
        out.append(
            {
                "record_id": r["record_id"],
                "name": r.get("name") or "(no name)",
                "kind": r.get("kind"),
                "status": r["status"],
                "check": ("Breaks a rule: " + problem)
                if problem
                else ("Ready to export" if r["status"] == "draft" else ""),
                "created_at": r.get("created_at"),
                "exported_at": r.get("exported_at"),
                "coupon_id": r.get("coupon_id"),
            }
        )
    return out


def failing_drafts_message(rows: list[dict]) -> str | None:
    """ "2 drafts break Amazon's rules and are not exported: 'Spring sale' (ASIN … is not one of yours), …" """
    failing = [r for r in rows if r["check"].startswith("Breaks a rule: ")]
    if not failing:
        return None
    named = "; ".join(f"“{r['name']}” ({r['check'].removeprefix('Breaks a rule: ')})" for r in failing[:5])
    more = f"; and {len(failing) - 5} more" if len(failing) > 5 else ""
    return (
        f"{len(failing)} draft(s) break one of Amazon's rules and are not exported: {named}{more}. Fix them in the "
        "form, or delete them."
    )


def delete_drafts(db: Database, profile_id: str, record_ids: list[str]) -> int:
    """Delete drafts of this profile (exported and linked records stay: they are the history of what was sent)."""
    mine = {r["record_id"] for r in ps.list_records(db, profile_id=profile_id, status="draft")}
    gone = [rid for rid in record_ids if rid in mine]
    for rid in gone:
        ps.delete_record(db, rid)
    return len(gone)
