"""Apply approved suggestions through the Ads API, undo them, and keep the change history.

Nothing is sent to Amazon unless `apply_approved(..., confirmed=True)` / `undo(..., confirmed=True)`
is called; every write is recorded (when, what, old, new, Amazon's per-item answer, which suggestion).
No HTTP call happens inside a write transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import pandas as pd
from sqlite_utils import Database

from services.optimizer.actions import Action, ApplyReport, _actions_for, _fmt_value, _placement_payload, _send
from services.optimizer.suggestions import ConfirmationRequired, _frame, _now, ensure_schema, list_suggestions
from services.store import write


def _record(
    db: Database, account_id: str, profile_id: str, actions: list[Action], now: datetime | None = None
) -> list[dict]:
    """Change history rows + suggestion statuses + the local copy of what changed (inside one transaction)."""
    now = now.astimezone(UTC).isoformat(timespec="seconds") if now else _now()
    items = []
    with write(db):
        for a in actions:
            change_id = uuid.uuid4().hex[:16]
            ok = bool(a.result.get("ok"))
            db.conn.execute(
                "INSERT INTO change_history (change_id, account_id, profile_id, suggestion_id, applied_at, change_type, "
                "action, entity_kind, entity_id, entity_name, campaign_id, ad_group_id, field, old_value, new_value, ok, "
                "message, amazon_result, undo_of) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    change_id,
                    account_id,
                    profile_id,
                    a.suggestion_id,
                    now,
                    a.change_type,
                    a.method,
                    a.entity_kind,
                    a.entity_id,
                    a.entity_name,
                    a.campaign_id,
                    a.ad_group_id,
                    a.field,
                    _fmt_value(a.old_value),
                    _fmt_value(a.new_value),
                    int(ok),
                    a.result.get("message"),
                    json.dumps(a.result, default=str),
                    a.undo_of,
                ],
            )
            if a.undo_of and ok:
                db.conn.execute(
                    "UPDATE change_history SET undone_at = ?, undone_by = ? WHERE change_id = ?",
                    [now, change_id, a.undo_of],
                )
            if ok:
                _mirror(db, profile_id, a)
            items.append(
                {
                    "change_id": change_id,
                    "suggestion_id": a.suggestion_id,
                    "change_type": a.change_type,
                    "action": a.method,
                    "entity_kind": a.entity_kind,
                    "entity_id": a.entity_id,
                    "entity_name": a.entity_name,
                    "old_value": a.old_value,
                    "new_value": a.new_value,
                    "ok": ok,
                    "message": a.result.get("message") or "",
                    "errors": a.result.get("errors") or [],
                }
            )
        by_sugg: dict[str, list[Action]] = {}
        for a in actions:
            if a.suggestion_id and not a.undo_of:
                by_sugg.setdefault(a.suggestion_id, []).append(a)
        for sid, acts in by_sugg.items():
            ok = all(a.result.get("ok") for a in acts)
            msg = "; ".join(a.result.get("message") or "" for a in acts if not a.result.get("ok"))
            db.conn.execute(
                "UPDATE suggestions SET status = ?, result = ? WHERE suggestion_id = ?",
                ["applied" if ok else "failed", msg or "ok", sid],
            )
    return items


def _mirror(db: Database, profile_id: str, a: Action) -> None:
    """Keep the store's entity tables in step with what Amazon accepted, until the next sync."""
    c = db.conn
    if a.method == "update" and a.field == "bid":
        table, col = ("keywords", "keyword_id") if a.kind == "keywords" else ("targets", "target_id")
        c.execute(
            f"UPDATE {table} SET bid = ? WHERE profile_id = ? AND {col} = ?", [a.new_value, profile_id, a.entity_id]
        )
    elif a.method == "update" and a.field == "budget":
        c.execute(
            "UPDATE campaigns SET budget = ? WHERE profile_id = ? AND campaign_id = ?",
            [a.new_value, profile_id, a.entity_id],
        )
    elif a.method == "update" and a.field == "placement_top_pct":
        c.execute(
            "UPDATE campaigns SET placement_top_pct = ? WHERE profile_id = ? AND campaign_id = ?",
            [a.new_value, profile_id, a.entity_id],
        )
    elif a.method == "create" and a.kind == "keywords":
        c.execute(
            "INSERT OR REPLACE INTO keywords (profile_id, keyword_id, campaign_id, ad_group_id, keyword_text, "
            "match_type, state, bid) VALUES (?,?,?,?,?,?,?,?)",
            [
                profile_id,
                a.entity_id,
                a.campaign_id,
                a.ad_group_id,
                a.payload["keywordText"],
                "EXACT",
                "ENABLED",
                a.payload.get("bid"),
            ],
        )
    elif a.method == "create" and a.kind == "negativeKeywords":
        c.execute(
            "INSERT OR REPLACE INTO negative_keywords (profile_id, keyword_id, campaign_id, ad_group_id, "
            "keyword_text, match_type, state) VALUES (?,?,?,?,?,?,?)",
            [
                profile_id,
                a.entity_id,
                a.campaign_id,
                a.ad_group_id,
                a.payload["keywordText"],
                a.payload["matchType"],
                "ENABLED",
            ],
        )
    elif a.method == "archive":
        table = "keywords" if a.kind == "keywords" else "negative_keywords"
        c.execute(
            f"UPDATE {table} SET state = 'ARCHIVED' WHERE profile_id = ? AND keyword_id = ?", [profile_id, a.entity_id]
        )


def apply_approved(
    db: Database,
    client,
    account_id: str,
    profile_id: str,
    *,
    confirmed: bool = False,
    ids: Iterable[str] | None = None,
    now: datetime | None = None,
) -> ApplyReport:
    """Send the approved suggestions of a profile (or just `ids`) to Amazon; record every change.

    `client` is the profile's region AdsClient (`accounts.clients_for(db, vault, account_id).ads(region)`).
    Raises ConfirmationRequired unless confirmed=True. Returns Amazon's per-item result (207).
    """
    if confirmed is not True:
        raise ConfirmationRequired()
    ensure_schema(db)
    df = list_suggestions(db, account_id, profile_id, statuses=("approved",))
    if ids is not None:
        df = df[df["suggestion_id"].isin([str(i) for i in ids])]
    actions: list[Action] = []
    for s in df.to_dict("records"):
        actions += _actions_for(db, s)
    if not actions:
        return ApplyReport([])
    _send(client, str(profile_id), actions)  # HTTP outside any transaction
    return ApplyReport(_record(db, account_id, str(profile_id), actions, now))


def undo(
    db: Database, client, change_ids: Iterable[str], *, confirmed: bool = False, now: datetime | None = None
) -> ApplyReport:
    """Revert applied changes: bid/budget/placement back to the old value; created keyword/negative archived."""
    if confirmed is not True:
        raise ConfirmationRequired()
    ensure_schema(db)
    ids = [str(i) for i in change_ids]
    if not ids:
        return ApplyReport([])
    rows = _frame(
        db,
        f"SELECT * FROM change_history WHERE change_id IN ({', '.join('?' for _ in ids)}) "
        "AND ok = 1 AND undone_at IS NULL AND undo_of IS NULL",
        ids,
    )
    reports: list[dict] = []
    for (account_id, profile_id), group in rows.groupby(["account_id", "profile_id"]):
        actions = []
        for r in group.to_dict("records"):
            base = dict(
                suggestion_id=r["suggestion_id"],
                change_type=r["change_type"],
                entity_kind=r["entity_kind"],
                entity_id=r["entity_id"],
                entity_name=r["entity_name"],
                campaign_id=r["campaign_id"],
                ad_group_id=r["ad_group_id"],
                field=r["field"],
                old_value=r["new_value"],
                undo_of=r["change_id"],
            )
            if r["action"] == "create":
                kind = "keywords" if r["change_type"] == "keyword" else "negativeKeywords"
                actions.append(
                    Action(method="archive", kind=kind, payload=r["entity_id"], new_value="ARCHIVED", **base)
                )
            elif r["field"] == "bid":
                kind, key = ("keywords", "keywordId") if r["entity_kind"] == "keyword" else ("targets", "targetId")
                actions.append(
                    Action(
                        method="update",
                        kind=kind,
                        payload={key: r["entity_id"], "bid": float(r["old_value"])},
                        new_value=float(r["old_value"]),
                        **base,
                    )
                )
            elif r["field"] == "budget":
                actions.append(
                    Action(
                        method="update",
                        kind="campaigns",
                        payload={
                            "campaignId": r["entity_id"],
                            "budget": {"budget": float(r["old_value"]), "budgetType": "DAILY"},
                        },
                        new_value=float(r["old_value"]),
                        **base,
                    )
                )
            elif r["field"] == "placement_top_pct":
                actions.append(
                    Action(
                        method="update",
                        kind="campaigns",
                        payload=_placement_payload(db, profile_id, r["entity_id"], float(r["old_value"] or 0)),
                        new_value=float(r["old_value"] or 0),
                        **base,
                    )
                )
        _send(client, profile_id, actions)
        reports += _record(db, account_id, profile_id, actions, now)
    return ApplyReport(reports)


# ------------------------------------------------------------------------------------------
# history


def change_history(
    db: Database,
    account_id: str,
    profile_id: str | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
    only_ok: bool = False,
) -> pd.DataFrame:
    """Every change sent to Amazon, newest first: applied_at, change_type, action, entity, old, new, ok,
    message (Amazon's answer), suggestion_id, undo_of / undone_at."""
    ensure_schema(db)
    where, params = ["account_id = ?"], [account_id]
    if profile_id is not None:
        where.append("profile_id = ?")
        params.append(str(profile_id))
    if start is not None:
        where.append("applied_at >= ?")
        params.append(start.isoformat())
    if end is not None:
        where.append("applied_at < ?")
        params.append((end + timedelta(days=1)).isoformat())
    if only_ok:
        where.append("ok = 1")
    return _frame(
        db, f"SELECT * FROM change_history WHERE {' AND '.join(where)} ORDER BY applied_at DESC, change_id", params
    )


def change_markers(
    db: Database, account_id: str, profile_id: str | None = None, *, start: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """One row per day and change type for the overview's trend chart: applied_at (first change of the day),
    date, change_type, count, label (e.g. "12 bid changes")."""
    h = change_history(db, account_id, profile_id, start=start, end=end, only_ok=True)
    cols = ["applied_at", "date", "change_type", "count", "label"]
    if h.empty:
        return pd.DataFrame(columns=cols)
    h["date"] = pd.to_datetime(h["applied_at"], utc=True).dt.date
    g = (
        h.groupby(["date", "change_type"])
        .agg(applied_at=("applied_at", "min"), count=("change_id", "size"))
        .reset_index()
    )
    names = {
        "bid": "bid change",
        "budget": "budget change",
        "placement": "placement change",
        "negative": "negative keyword",
        "keyword": "new keyword",
    }
    g["label"] = [f"{n} {names.get(t, t)}{'s' if n != 1 else ''}" for n, t in zip(g["count"], g["change_type"])]
    return g[cols].sort_values("applied_at").reset_index(drop=True)


def recent_changes_for_cooldown(db: Database, account_id: str, profile_id: str) -> pd.DataFrame:
    """entity_id, change_type, applied_at of successful changes (the optimizer's cool-down input;
    the optimizer compares applied_at with its as_of date)."""
    ensure_schema(db)
    return _frame(
        db,
        "SELECT entity_id, change_type, applied_at FROM change_history WHERE account_id = ? AND "
        "profile_id = ? AND ok = 1 AND undo_of IS NULL",
        [account_id, str(profile_id)],
    )


def client_for_profile(db: Database, vault, account_id: str, profile_id: str):
    """The AdsClient of the region the profile lives in (for apply/undo from the page)."""
    from services.accounts import registry as accounts

    row = db.conn.execute("SELECT region FROM profiles WHERE profile_id = ?", [str(profile_id)]).fetchone()
    region = row[0] if row and row[0] else accounts.get_account(db, account_id)["region"]
    return accounts.clients_for(db, vault, account_id).ads(region)
