"""The apply journal and the change history: what was about to be sent, and what Amazon holds afterwards.

Every change is journaled (state `sending`) in one short transaction before Amazon is called. When the answer
arrives, `record` writes the history rows, mirrors the change into the store and marks the entries `done`, again
in one short transaction per batch. A process that dies in between leaves entries in `sending`;
`services.optimizer.reconcile` reads them back from Amazon and records them with this same `record`.
The history row of a change reuses its journal entry id, so a change can never be recorded twice.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from services.optimizer.actions import Action, _fmt_value
from services.optimizer.suggestions import _now
from services.store import write

# Entries journaled on another machine cannot be checked for a live process; after this long they are orphans.
FOREIGN_HOST_STALE_AFTER = timedelta(minutes=30)
_HOST = socket.gethostname()
_in_flight: set[str] = set()  # batches this process is sending right now (apply in another session's thread)
_in_flight_lock = threading.Lock()


def open_batch(db: Database, account_id: str, profile_id: str, actions: list[Action]) -> tuple[str, list[Action]]:
    """Journal the actions (state `sending`) before anything is sent; returns the batch id and what was journaled.

    Inside the same write transaction, a suggestion that is no longer approved or already has a change `sending`
    (another session applied it since the list was read) is left out, so two applies never send it twice.
    """
    batch_id = uuid.uuid4().hex[:16]
    now = _now()
    with _in_flight_lock:
        _in_flight.add(batch_id)
    kept: list[Action] = []
    with write(db):
        for a in actions:
            if a.suggestion_id and not a.undo_of and not _still_sendable(db, a.suggestion_id, batch_id):
                continue
            kept.append(a)
            a.journal_id = uuid.uuid4().hex[:16]
            stored = {k: v for k, v in asdict(a).items() if k not in ("result", "journal_id")}
            db.conn.execute(
                "INSERT INTO apply_journal (entry_id, batch_id, account_id, profile_id, suggestion_id, undo_of, "
                "change_type, method, kind, entity_id, field, old_value, new_value, payload, action, state, "
                "journaled_at, pid, host) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'sending',?,?,?)",
                [
                    a.journal_id,
                    batch_id,
                    account_id,
                    profile_id,
                    a.suggestion_id,
                    a.undo_of,
                    a.change_type,
                    a.method,
                    a.kind,
                    a.entity_id,
                    a.field,
                    _fmt_value(a.old_value),
                    _fmt_value(a.new_value),
                    json.dumps(a.payload, default=str),
                    json.dumps(stored, default=str),
                    now,
                    os.getpid(),
                    _HOST,
                ],
            )
    return batch_id, kept


def _still_sendable(db: Database, suggestion_id: str, batch_id: str) -> bool:
    status = db.conn.execute("SELECT status FROM suggestions WHERE suggestion_id = ?", [suggestion_id]).fetchone()
    if status is not None and status[0] != "approved":
        return False
    other = db.conn.execute(
        "SELECT 1 FROM apply_journal WHERE suggestion_id = ? AND state = 'sending' AND batch_id != ? "
        "AND undo_of IS NULL LIMIT 1",
        [suggestion_id, batch_id],
    ).fetchone()
    return other is None


def close_batch(batch_id: str) -> None:
    """This process no longer sends the batch: whatever is still `sending` is now an orphan to reconcile."""
    with _in_flight_lock:
        _in_flight.discard(batch_id)


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _is_orphan(batch_id: str, pid: int | None, host: str | None, journaled_at: str) -> bool:
    """Nobody is still sending this entry: not a batch of ours in flight, and its process is gone."""
    with _in_flight_lock:
        if batch_id in _in_flight:
            return False
    if host == _HOST:
        return int(pid or 0) == os.getpid() or not _pid_alive(pid)
    return datetime.now(UTC) - datetime.fromisoformat(journaled_at) > FOREIGN_HOST_STALE_AFTER


def has_sending(db: Database, account_id: str, profile_id: str | None = None) -> bool:
    """Cheap check (one indexed lookup) used on app start before anything else is done."""
    sql, params = "SELECT 1 FROM apply_journal WHERE state = 'sending' AND account_id = ?", [account_id]
    if profile_id is not None:
        sql, params = sql + " AND profile_id = ?", [*params, str(profile_id)]
    return db.conn.execute(sql + " LIMIT 1", params).fetchone() is not None


def sending_entries(db: Database, account_id: str, profile_id: str | None = None) -> list[dict]:
    """Every entry still `sending`, with `orphan` (nobody is sending it any more) and its Action rebuilt."""
    sql = (
        "SELECT entry_id, batch_id, profile_id, pid, host, journaled_at, action FROM apply_journal "
        "WHERE state = 'sending' AND account_id = ?"
    )
    params: list = [account_id]
    if profile_id is not None:
        sql += " AND profile_id = ?"
        params.append(str(profile_id))
    out = []
    for entry_id, batch_id, pid, ppid, host, journaled_at, raw in db.conn.execute(
        sql + " ORDER BY journaled_at", params
    ):
        action = Action(**json.loads(raw))
        action.journal_id = entry_id
        out.append(
            {
                "entry_id": entry_id,
                "batch_id": batch_id,
                "profile_id": pid,
                "action": action,
                "orphan": _is_orphan(batch_id, ppid, host, journaled_at),
            }
        )
    return out


def busy_suggestions(db: Database, account_id: str, profile_id: str) -> set[str]:
    """Suggestions with a change still `sending`: never send them again until that change is settled."""
    rows = db.conn.execute(
        "SELECT DISTINCT suggestion_id FROM apply_journal WHERE state = 'sending' AND account_id = ? "
        "AND profile_id = ? AND suggestion_id IS NOT NULL AND undo_of IS NULL",
        [account_id, str(profile_id)],
    )
    return {r[0] for r in rows}


def record(
    db: Database, account_id: str, profile_id: str, actions: list[Action], now: datetime | None = None
) -> list[dict]:
    """Settle journaled actions in one transaction: history rows, store mirror, journal state, suggestion status.

    An action whose result is `unknown` stays `sending`. One whose result is `not_applied` (reconciliation found
    Amazon does not hold it) gets no history row: nothing changed on Amazon. An entry already settled by someone
    else is skipped, so recording twice is harmless.
    """
    stamp = now.astimezone(UTC).isoformat(timespec="seconds") if now else _now()
    items = []
    touched: set[tuple[str, str]] = set()
    with write(db):
        for a in actions:
            if a.result.get("unknown"):
                continue
            change_id = a.journal_id or uuid.uuid4().hex[:16]
            ok = bool(a.result.get("ok"))
            resolution = "applied" if ok else "not_applied" if a.result.get("not_applied") else "failed"
            if a.journal_id is not None:
                claimed = db.conn.execute(
                    "UPDATE apply_journal SET state = 'done', resolution = ?, resolved_at = ?, entity_id = ? "
                    "WHERE entry_id = ? AND state = 'sending'",
                    [resolution, stamp, a.entity_id, a.journal_id],
                ).rowcount
                if not claimed:
                    continue
                batch = db.conn.execute(
                    "SELECT batch_id FROM apply_journal WHERE entry_id = ?", [a.journal_id]
                ).fetchone()[0]
                if a.suggestion_id and not a.undo_of:
                    touched.add((a.suggestion_id, batch))
            if resolution != "not_applied":
                _history_row(db, account_id, profile_id, a, change_id, ok, stamp)
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
        for sid, batch in touched:
            _settle_suggestion(db, sid, batch)
    return items


def _history_row(db: Database, account_id: str, profile_id: str, a: Action, change_id: str, ok: bool, stamp: str):
    db.conn.execute(
        "INSERT INTO change_history (change_id, account_id, profile_id, suggestion_id, applied_at, change_type, "
        "action, entity_kind, entity_id, entity_name, campaign_id, ad_group_id, field, old_value, new_value, ok, "
        "message, amazon_result, undo_of) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            change_id,
            account_id,
            profile_id,
            a.suggestion_id,
            stamp,
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
            "UPDATE change_history SET undone_at = ?, undone_by = ? WHERE change_id = ?", [stamp, change_id, a.undo_of]
        )


def _settle_suggestion(db: Database, suggestion_id: str, batch_id: str) -> None:
    """A suggestion's status follows all of its entries in the batch, once none is still `sending`."""
    rows = db.conn.execute(
        "SELECT state, resolution, action FROM apply_journal WHERE suggestion_id = ? AND batch_id = ? "
        "AND undo_of IS NULL",
        [suggestion_id, batch_id],
    ).fetchall()
    if any(state == "sending" for state, _, _ in rows):
        return
    resolutions = [r for _, r, _ in rows]
    if all(r == "not_applied" for r in resolutions):
        status, note = "approved", "Not sent: the app stopped before Amazon received it. Apply again to send it."
    elif all(r == "applied" for r in resolutions):
        status, note = "applied", "ok"
    else:
        messages = db.conn.execute(
            "SELECT message FROM change_history WHERE change_id IN "
            "(SELECT entry_id FROM apply_journal WHERE suggestion_id = ? AND batch_id = ?) AND ok = 0",
            [suggestion_id, batch_id],
        ).fetchall()
        status = "failed"
        note = "; ".join(m for (m,) in messages if m) or "Part of this change did not reach Amazon."
    db.conn.execute(
        "UPDATE suggestions SET status = ?, result = ? WHERE suggestion_id = ?", [status, note, suggestion_id]
    )


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
