"""Settle every journaled change nobody is still sending: read it back from Amazon and record what Amazon holds.

Runs before every apply, on app start and from `python -m services.reconcile`. An update (bid, budget,
placement) counts as applied when Amazon holds the intended value; an archive when the entity is ARCHIVED;
a created keyword or negative keyword when Amazon has one with the same ad group, text and match type (its id is
recorded, so undo can archive it). Anything else is recorded as not applied and its suggestion stays approved.
If Amazon cannot be read, nothing is recorded and the entries stay `sending` for the next try.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass, field
from datetime import datetime

from sqlite_utils import Database

from services.amazon.ads import KINDS
from services.errors import DashboardError
from services.optimizer import journal
from services.optimizer.actions import Action, client_for_profile
from services.optimizer.suggestions import ensure_schema

logger = logging.getLogger(__name__)

ALL_STATES = ["ENABLED", "PAUSED", "ARCHIVED"]
LIVE_STATES = ["ENABLED", "PAUSED"]
_TEXT_FILTER = {"keywords": "keywordTextFilter", "negativeKeywords": "negativeKeywordTextFilter"}
# Amazon's list limits: 1000 ids of the entity itself, 100 parent ids, 100 texts per filter.
_ID_CHUNK, _CREATE_CHUNK = 1000, 100
NOT_APPLIED = "Not applied: Amazon does not hold this change (the app stopped before it was confirmed)."


@dataclass
class ReconcileReport:
    """What reconciliation found: applied / not applied per change, and what could not be checked yet."""

    applied: int = 0
    not_applied: int = 0
    unresolved: int = 0  # Amazon could not be read: still `sending`, checked again next time
    in_flight: int = 0  # being sent right now by a live process: left alone
    messages: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = f"reconciled: {self.applied} applied, {self.not_applied} not applied"
        if self.unresolved:
            text += f", {self.unresolved} could not be checked on Amazon yet"
        if self.in_flight:
            text += f", {self.in_flight} still being sent"
        return text


def _near(a, b) -> bool:
    try:
        return abs(float(a) - float(b)) < 0.005
    except (TypeError, ValueError):
        return False


def _top_pct(campaign: dict) -> float:
    bidding = (campaign.get("dynamicBidding") or {}).get("placementBidding") or []
    return next((float(p.get("percentage") or 0) for p in bidding if p.get("placement") == "PLACEMENT_TOP"), 0.0)


def _holds(action: Action, entity: dict | None) -> bool:
    """Does Amazon's copy of the entity carry the intended change?"""
    if entity is None:
        return False
    if action.method == "archive":
        return entity.get("state") == "ARCHIVED"
    if action.field == "bid":
        return _near(entity.get("bid"), action.payload["bid"])
    if action.field == "budget":
        return _near((entity.get("budget") or {}).get("budget"), action.payload["budget"]["budget"])
    if action.field == "placement_top_pct":
        wanted = next(p["percentage"] for p in action.payload["dynamicBidding"]["placementBidding"])
        return _near(_top_pct(entity), wanted)
    return False


def _entity_id(kind: str, entity: dict) -> str:
    """A negative keyword's id field is named keywordId on Amazon, not negativeKeywordId."""
    return str(entity.get(KINDS[kind][2]) or entity.get("keywordId"))


def _lookup_existing(client, profile_id: str, kind: str, actions: list[Action]) -> None:
    """Updates and archives: read the entities back by id and compare with the intended value."""
    id_filter = KINDS[kind][3]
    ids = sorted({str(a.entity_id if a.method != "archive" else a.payload) for a in actions})
    found: dict[str, dict] = {}
    for start in range(0, len(ids), _ID_CHUNK):
        filters = {id_filter: {"include": ids[start : start + _ID_CHUNK]}, "stateFilter": {"include": ALL_STATES}}
        for e in client.list_entities(profile_id, kind, filters):
            found[_entity_id(kind, e)] = e
    for a in actions:
        key = str(a.entity_id if a.method != "archive" else a.payload)
        a.result = _applied(key, found[key]) if _holds(a, found.get(key)) else _not_applied(a)


def _lookup_created(client, profile_id: str, kind: str, actions: list[Action], claimed: set[str]) -> None:
    """Creates: find an entity with the same ad group, text and match type (live, not archived)."""
    for start in range(0, len(actions), _CREATE_CHUNK):
        chunk = actions[start : start + _CREATE_CHUNK]
        filters = {
            "adGroupIdFilter": {"include": sorted({str(a.payload["adGroupId"]) for a in chunk})},
            _TEXT_FILTER[kind]: {
                "include": sorted({a.payload["keywordText"] for a in chunk}),
                "queryTermMatchType": "EXACT_MATCH",
            },
            "matchTypeFilter": sorted({a.payload["matchType"] for a in chunk}),
            "stateFilter": {"include": LIVE_STATES},
        }
        live = client.list_entities(profile_id, kind, filters)
        for a in chunk:
            want = (str(a.payload["adGroupId"]), a.payload["keywordText"].lower(), a.payload["matchType"])
            matches = {
                _entity_id(kind, e): e
                for e in live
                if (str(e.get("adGroupId")), str(e.get("keywordText") or "").lower(), e.get("matchType")) == want
            }
            fresh = sorted(i for i in matches if i not in claimed)  # an id already in the history is that change's
            if fresh:
                a.entity_id = fresh[0]
                claimed.add(fresh[0])
                a.result = _applied(fresh[0], matches[fresh[0]])
            else:
                a.result = _not_applied(a)


def _applied(entity_id: str, entity: dict | None) -> dict:
    message = "Confirmed on Amazon after an interruption."
    return {"ok": True, "entity_id": entity_id, "message": message, "errors": [], "entity": entity}


def _not_applied(a: Action) -> dict:
    earlier = (a.result or {}).get("message")
    message = f"{NOT_APPLIED} Amazon had said: {earlier}" if earlier else NOT_APPLIED
    return {"ok": False, "not_applied": True, "entity_id": None, "message": message, "errors": []}


def settle(client, profile_id: str, actions: list[Action], claimed: set[str]) -> None:
    """Fill each action's result from what Amazon holds now (raises DashboardError if Amazon cannot be read)."""
    groups: dict[tuple[str, str], list[Action]] = {}
    for a in actions:
        groups.setdefault((a.method, a.kind), []).append(a)
    for (method, kind), group in groups.items():
        if method == "create":
            _lookup_created(client, profile_id, kind, group, claimed)
        else:
            _lookup_existing(client, profile_id, kind, group)


def _claimed_ids(db: Database, profile_id: str) -> set[str]:
    rows = db.conn.execute(
        "SELECT entity_id FROM change_history WHERE profile_id = ? AND action = 'create' AND ok = 1 "
        "AND entity_id IS NOT NULL",
        [str(profile_id)],
    )
    return {str(r[0]) for r in rows}


def settle_unknown(db: Database, client, account_id: str, profile_id: str, actions: list[Action], now=None) -> list:
    """Right after an apply: look up the changes whose answer was lost; record them if Amazon could be read."""
    unknown = [a for a in actions if a.result.get("unknown")]
    if not unknown:
        return []
    try:
        settle(client, str(profile_id), unknown, _claimed_ids(db, profile_id))
    except DashboardError as exc:
        logger.warning("could not check %d change(s) on Amazon yet: %s", len(unknown), exc)
        for a in unknown:
            a.result.setdefault("unknown", True)
        return []
    return journal.record(db, account_id, str(profile_id), unknown, now)


def reconcile_profile(
    db: Database, client, account_id: str, profile_id: str, *, now: datetime | None = None
) -> ReconcileReport:
    """Settle the orphaned `sending` entries of one profile (cheap when there are none)."""
    ensure_schema(db)
    report = ReconcileReport()
    if not journal.has_sending(db, account_id, profile_id):
        return report
    entries = journal.sending_entries(db, account_id, profile_id)
    report.in_flight = sum(1 for e in entries if not e["orphan"])
    actions = [e["action"] for e in entries if e["orphan"]]
    if not actions:
        return report
    try:
        settle(client, str(profile_id), actions, _claimed_ids(db, profile_id))
    except DashboardError as exc:
        report.unresolved = len(actions)
        report.messages.append(str(exc))
        return report
    items = journal.record(db, account_id, str(profile_id), actions, now)
    report.applied = sum(1 for i in items if i["ok"])
    report.not_applied = sum(1 for a in actions if a.result.get("not_applied"))
    return report


def reconcile_account(db: Database, vault, account_id: str, *, now: datetime | None = None) -> ReconcileReport:
    """Every profile of the account with orphaned entries; one indexed lookup when nothing is pending."""
    ensure_schema(db)
    total = ReconcileReport()
    if not journal.has_sending(db, account_id):
        return total
    profiles = sorted(
        {
            r[0]
            for r in db.conn.execute(
                "SELECT DISTINCT profile_id FROM apply_journal WHERE state = 'sending' AND account_id = ?",
                [account_id],
            )
        }
    )
    for pid in profiles:
        try:
            client = client_for_profile(db, vault, account_id, pid)
        except DashboardError as exc:
            total.unresolved += len(journal.sending_entries(db, account_id, pid))
            total.messages.append(str(exc))
            continue
        r = reconcile_profile(db, client, account_id, pid, now=now)
        total.applied += r.applied
        total.not_applied += r.not_applied
        total.unresolved += r.unresolved
        total.in_flight += r.in_flight
        total.messages += r.messages
    return total


def main(argv: list[str] | None = None) -> int:
    """`python -m services.reconcile --db PATH --account NAME`: exit 0 when nothing is left unsettled."""
    from pathlib import Path

    from services.accounts import registry as accounts
    from services.secrets.logsafe import install_redaction
    from services.secrets.vault import SECRETS_TOML, Vault, VaultError, keys_from_secrets_toml
    from services.store import open_db

    install_redaction()
    ap = argparse.ArgumentParser(prog="python -m services.reconcile", description=main.__doc__.split(":")[1].strip())
    ap.add_argument("--db", required=True, help="path of the SQLite database")
    ap.add_argument("--account", required=True, help="account id or name")
    args = ap.parse_args(argv)
    if not Path(args.db).is_file():
        print(f"No database file at {args.db}.", file=sys.stderr)
        return 2
    db = open_db(args.db)
    ensure_schema(db)
    match = [a for a in accounts.list_accounts(db) if args.account in (a["account_id"], a["name"])]
    if not match:
        print(f"No account named {args.account!r} in {args.db}.", file=sys.stderr)
        return 2
    try:
        vault = Vault(secret_keys=keys_from_secrets_toml(SECRETS_TOML), db_path=args.db)
    except VaultError as exc:
        print(f"The stored secrets cannot be read: {exc}", file=sys.stderr)
        return 2
    report = reconcile_account(db, vault, match[0]["account_id"])
    print(report.line())
    for m in report.messages:
        print(m, file=sys.stderr)
    return 1 if report.unresolved else 0
