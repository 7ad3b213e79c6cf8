"""Suggestions, optimizer settings, product margins and change history: persistence, review, apply, undo.

Tables live in their own migration set (`Migrations("suggestions")`), applied idempotently by every
public function here, so the store's own schema stays untouched.

Nothing is sent to Amazon unless `apply_approved(..., confirmed=True)` / `undo(..., confirmed=True)`
is called; every write is recorded (when, what, old, new, Amazon's per-item answer, which suggestion).
No HTTP call happens inside a write transaction.
"""
from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

import pandas as pd
from sqlite_utils import Database, Migrations

from services import optimizer as opt
from services.csv_export import to_safe_csv
from services.errors import DashboardError
from services.store import write

migrations = Migrations("suggestions")

STATUSES = ("pending", "approved", "rejected", "snoozed", "applied", "failed", "superseded")
_SUGG_COLS = [c for c in opt.SUGGESTION_COLUMNS if c != "suggestion_key"]


@migrations()
def m001_suggestions(db: Database) -> None:
    db.conn.execute("""CREATE TABLE IF NOT EXISTS opt_settings (
        account_id TEXT NOT NULL, campaign_id TEXT NOT NULL DEFAULT '', settings TEXT NOT NULL, updated_at TEXT,
        PRIMARY KEY (account_id, campaign_id))""")
    db.conn.execute("""CREATE TABLE IF NOT EXISTS product_margins (
        account_id TEXT NOT NULL, asin TEXT NOT NULL, sku TEXT, margin REAL NOT NULL, source TEXT, updated_at TEXT,
        PRIMARY KEY (account_id, asin))""")
    numeric = {"current_value", "proposed_value", "change_pct", "confidence", "spend", "sales", "acos", "cvr_raw",
               "cvr_shrunk", "aov", "target_acos", "value_bid", "expected_spend_change", "expected_sales_change"}
    ints = {"clicks", "orders"}
    cols = ", ".join(f"{c} {'REAL' if c in numeric else 'INTEGER' if c in ints else 'TEXT'}" for c in _SUGG_COLS
                     if c != "profile_id")
    db.conn.execute(f"""CREATE TABLE IF NOT EXISTS suggestions (
        suggestion_id TEXT PRIMARY KEY, suggestion_key TEXT NOT NULL, account_id TEXT NOT NULL,
        profile_id TEXT NOT NULL, run_id TEXT, created_at TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
        decided_at TEXT, snoozed_until TEXT, note TEXT, result TEXT, {cols})""")
    db.conn.execute("CREATE INDEX IF NOT EXISTS idx_suggestions_profile ON suggestions(account_id, profile_id, status)")
    db.conn.execute("CREATE INDEX IF NOT EXISTS idx_suggestions_key ON suggestions(suggestion_key, status)")
    db.conn.execute("""CREATE TABLE IF NOT EXISTS change_history (
        change_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, profile_id TEXT NOT NULL, suggestion_id TEXT,
        applied_at TEXT NOT NULL, change_type TEXT NOT NULL, action TEXT NOT NULL, entity_kind TEXT,
        entity_id TEXT, entity_name TEXT, campaign_id TEXT, ad_group_id TEXT, field TEXT,
        old_value TEXT, new_value TEXT, ok INTEGER NOT NULL, message TEXT, amazon_result TEXT,
        undo_of TEXT, undone_at TEXT, undone_by TEXT)""")
    db.conn.execute("CREATE INDEX IF NOT EXISTS idx_change_history_profile ON change_history(account_id, profile_id, applied_at)")


_ready: set[int] = set()


def ensure_schema(db: Database) -> None:
    """Apply this module's migrations (idempotent; cheap after the first call per connection)."""
    if id(db.conn) in _ready:
        return
    if migrations.pending(db):
        with write(db):
            migrations.apply(db)
    _ready.add(id(db.conn))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _frame(db: Database, sql: str, params: Sequence = ()) -> pd.DataFrame:
    cur = db.conn.execute(sql, list(params))
    return pd.DataFrame(cur.fetchall(), columns=[c[0] for c in cur.description])


class ConfirmationRequired(DashboardError):
    """Raised when apply/undo is called without confirmed=True."""

    def __init__(self, message: str = "Changes are sent to Amazon only after explicit confirmation.") -> None:
        super().__init__(message)


# ------------------------------------------------------------------------------------------
# settings and margins


def get_settings_book(db: Database, account_id: str) -> opt.SettingsBook:
    ensure_schema(db)
    book = opt.SettingsBook()
    for cid, raw in db.conn.execute("SELECT campaign_id, settings FROM opt_settings WHERE account_id = ?",
                                    [account_id]):
        data = json.loads(raw)
        if cid == "":
            book.account = opt.Settings.from_dict(data)
        else:
            book.campaigns[cid] = data
    return book


def get_settings(db: Database, account_id: str, campaign_id: str | None = None) -> opt.Settings:
    return get_settings_book(db, account_id).for_campaign(campaign_id)


def save_settings(db: Database, account_id: str, settings: opt.Settings | dict, campaign_id: str | None = None) -> None:
    """Account settings (campaign_id None) or a campaign override (only the given / differing fields)."""
    ensure_schema(db)
    if campaign_id is None:
        s = settings if isinstance(settings, opt.Settings) else opt.Settings.from_dict(settings)
        problems = s.validate()
        if problems:
            raise ValueError(" ".join(problems))
        data = s.to_dict()
    else:
        base = get_settings_book(db, account_id).account
        if isinstance(settings, opt.Settings):
            data = {k: v for k, v in settings.to_dict().items() if getattr(base, k) != v}
        else:
            data = {k: v for k, v in settings.items() if k in base.to_dict()}
        problems = opt.Settings.from_dict(data, base).validate()
        if problems:
            raise ValueError(" ".join(problems))
    with write(db):
        db.conn.execute("INSERT OR REPLACE INTO opt_settings VALUES (?, ?, ?, ?)",
                        [account_id, campaign_id or "", json.dumps(data), _now()])


def clear_campaign_settings(db: Database, account_id: str, campaign_id: str) -> None:
    ensure_schema(db)
    with write(db):
        db.conn.execute("DELETE FROM opt_settings WHERE account_id = ? AND campaign_id = ?", [account_id, campaign_id])


def set_margin(db: Database, account_id: str, asin: str, margin: float, sku: str | None = None,
               source: str = "entered") -> None:
    """Pre-ad margin as a fraction of price (0.35 = 35 %): the product's break-even ACOS."""
    margin = float(margin)
    if margin > 1:
        margin /= 100.0
    if not 0 < margin < 1:
        raise ValueError("A margin must be between 0 and 100 %.")
    ensure_schema(db)
    with write(db):
        db.conn.execute("INSERT OR REPLACE INTO product_margins VALUES (?, ?, ?, ?, ?, ?)",
                        [account_id, asin.strip().upper(), sku, margin, source, _now()])


def import_margins_csv(db: Database, account_id: str, data: bytes | str) -> tuple[int, list[str]]:
    """CSV with `asin` (and optional `sku`) plus either `margin` (fraction or percent) or `price` and
    `cost` (cost = COGS + fees). Returns (rows imported, problems by line)."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    reader = csv.DictReader(io.StringIO(text))
    problems, rows = [], []
    for n, raw in enumerate(reader, start=2):
        row = {str(k).strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        asin = row.get("asin", "")
        try:
            if not asin:
                raise ValueError("no ASIN")
            if row.get("margin"):
                m = float(row["margin"].rstrip("%"))
                m = m / 100.0 if (m > 1 or row["margin"].endswith("%")) else m
            elif row.get("price") and row.get("cost"):
                price, cost = float(row["price"]), float(row["cost"])
                m = (price - cost) / price
            else:
                raise ValueError("needs a margin, or a price and a cost")
            if not 0 < m < 1:
                raise ValueError("margin must be between 0 and 100 %")
            rows.append((asin.upper(), row.get("sku") or None, m))
        except ValueError as exc:
            problems.append(f"line {n}: {exc}")
    ensure_schema(db)
    with write(db):
        for asin, sku, m in rows:
            db.conn.execute("INSERT OR REPLACE INTO product_margins VALUES (?, ?, ?, ?, ?, ?)",
                            [account_id, asin, sku, m, "csv", _now()])
    return len(rows), problems


def margins_frame(db: Database, account_id: str) -> pd.DataFrame:
    """asin, sku, margin, break_even_acos, default_target_acos (break-even x break_even_share - below_break_even)."""
    ensure_schema(db)
    df = _frame(db, "SELECT asin, sku, margin, source, updated_at FROM product_margins WHERE account_id = ?",
                [account_id])
    acct = get_settings_book(db, account_id).account
    return opt.break_even_table(df, acct.below_break_even, acct.break_even_share) if not df.empty else df.assign(break_even_acos=[], default_target_acos=[])


# ------------------------------------------------------------------------------------------
# generating and reviewing


def generate(db: Database, account_id: str, profile_id: str, *, as_of: date | None = None,
             attribution: str = "7d", types: Iterable[str] = opt.SUGGESTION_TYPES) -> pd.DataFrame:
    """Run the optimizer on the store's data and save the result as pending suggestions."""
    from services.optimizer_data import load_input

    book = get_settings_book(db, account_id)
    inp = load_input(db, profile_id, as_of=as_of, settings=book.account, attribution=attribution,
                     account_id=account_id)
    found = opt.optimize(inp, book, types=types)
    save_suggestions(db, account_id, found)
    return list_suggestions(db, account_id, profile_id)


def save_suggestions(db: Database, account_id: str, df: pd.DataFrame, run_id: str | None = None) -> int:
    """Replace the profile's pending suggestions; skip keys that are approved, snoozed or recently rejected."""
    ensure_schema(db)
    if df.empty:
        profiles: set[str] = set()
    else:
        profiles = set(df["profile_id"].astype(str))
    run_id = run_id or uuid.uuid4().hex[:12]
    now = datetime.now(timezone.utc)
    with write(db):
        for pid in profiles:
            db.conn.execute("UPDATE suggestions SET status = 'superseded' WHERE account_id = ? AND profile_id = ? "
                            "AND status = 'pending'", [account_id, pid])
        blocked = set()
        for key, status, until, decided in db.conn.execute(
                "SELECT suggestion_key, status, snoozed_until, decided_at FROM suggestions WHERE account_id = ? "
                "AND status IN ('approved', 'snoozed', 'rejected')", [account_id]):
            if status == "approved":
                blocked.add(key)
            elif status == "snoozed" and until and until > now.isoformat():
                blocked.add(key)
            elif status == "rejected" and decided and decided > (now - timedelta(days=30)).isoformat():
                blocked.add(key)
        n = 0
        cols = ["suggestion_id", "suggestion_key", "account_id", "profile_id", "run_id", "created_at", "status"] \
            + [c for c in _SUGG_COLS if c != "profile_id"]
        sql = "INSERT INTO suggestions ({}) VALUES ({})".format(", ".join(cols), ", ".join("?" for _ in cols))
        for r in df.to_dict("records"):
            if r["suggestion_key"] in blocked:
                continue
            values = {"suggestion_id": uuid.uuid4().hex[:16], "suggestion_key": r["suggestion_key"],
                      "account_id": account_id, "profile_id": str(r["profile_id"]), "run_id": run_id,
                      "created_at": now.isoformat(timespec="seconds"), "status": "pending"}
            for c in _SUGG_COLS:
                if c == "profile_id":
                    continue
                v = r.get(c)
                values[c] = None if v is None or (isinstance(v, float) and pd.isna(v)) else \
                    (v.item() if hasattr(v, "item") else v)
            db.conn.execute(sql, [values[c] for c in cols])
            n += 1
    return n


SORTABLE = ("confidence", "expected_spend_change", "expected_sales_change", "spend", "clicks", "orders", "acos",
            "change_pct", "created_at", "campaign_name")


def list_suggestions(db: Database, account_id: str, profile_id: str | None = None, *,
                     types: Iterable[str] | None = None, statuses: Iterable[str] | None = ("pending",),
                     min_confidence: float | None = None, campaign_ids: Iterable[str] | None = None,
                     search: str | None = None, sort_by: str = "confidence", ascending: bool = False) -> pd.DataFrame:
    """Suggestions as a frame for the Suggestions page: filterable by type, status, campaign, confidence and
    text (campaign / ad group / keyword / search term), sorted by `sort_by`."""
    ensure_schema(db)
    where, params = ["account_id = ?"], [account_id]
    if profile_id is not None:
        where.append("profile_id = ?"); params.append(str(profile_id))
    for col, values in (("type", types), ("status", statuses), ("campaign_id", campaign_ids)):
        if values is not None:
            values = list(values)
            where.append(f"{col} IN ({', '.join('?' for _ in values)})" if values else "0")
            params += values
    if min_confidence is not None:
        where.append("confidence >= ?"); params.append(float(min_confidence))
    if search:
        where.append("(lower(coalesce(campaign_name,'')||' '||coalesce(ad_group_name,'')||' '||"
                     "coalesce(keyword_text,'')||' '||coalesce(search_term,'')) LIKE ?)")
        params.append(f"%{search.lower()}%")
    if sort_by not in SORTABLE:
        raise ValueError(f"sort_by must be one of {SORTABLE}")
    df = _frame(db, f"SELECT * FROM suggestions WHERE {' AND '.join(where)} "
                    f"ORDER BY {sort_by} IS NULL, {sort_by} {'ASC' if ascending else 'DESC'}, suggestion_key, suggestion_id", params)
    df["type_label"] = df["type"].map(opt.TYPE_LABELS)
    return df


def summary_by_type(db: Database, account_id: str, profile_id: str | None = None,
                    statuses: Iterable[str] = ("pending",)) -> pd.DataFrame:
    """type, label, count, expected weekly spend and sales change, in the order of the page's groups."""
    df = list_suggestions(db, account_id, profile_id, statuses=statuses)
    out = df.groupby("type").agg(count=("suggestion_id", "size"),
                                 expected_spend_change=("expected_spend_change", "sum"),
                                 expected_sales_change=("expected_sales_change", "sum")).reset_index() \
        if not df.empty else pd.DataFrame(columns=["type", "count", "expected_spend_change", "expected_sales_change"])
    out["label"] = out["type"].map(opt.TYPE_LABELS)
    order = {t: i for i, t in enumerate(opt.SUGGESTION_TYPES)}
    return out.sort_values("type", key=lambda s: s.map(order)).reset_index(drop=True)


def _decide(db: Database, ids: Iterable[str], status: str, allowed_from: tuple[str, ...], **extra: Any) -> int:
    ensure_schema(db)
    ids = [str(i) for i in ids]
    if not ids:
        return 0
    sets = ", ".join(["status = ?", "decided_at = ?"] + [f"{k} = ?" for k in extra])
    with write(db):
        cur = db.conn.execute(
            f"UPDATE suggestions SET {sets} WHERE suggestion_id IN ({', '.join('?' for _ in ids)}) "
            f"AND status IN ({', '.join('?' for _ in allowed_from)})",
            [status, _now(), *extra.values(), *ids, *allowed_from])
    return cur.rowcount


def approve(db: Database, ids: Iterable[str]) -> int:
    return _decide(db, ids, "approved", ("pending", "snoozed", "rejected", "failed"))


def reject(db: Database, ids: Iterable[str], note: str | None = None) -> int:
    return _decide(db, ids, "rejected", ("pending", "snoozed", "approved", "failed"), note=note)


def snooze(db: Database, ids: Iterable[str], days: int = 7) -> int:
    until = (datetime.now(timezone.utc) + timedelta(days=days)).isoformat(timespec="seconds")
    return _decide(db, ids, "snoozed", ("pending", "approved"), snoozed_until=until)


def reset(db: Database, ids: Iterable[str]) -> int:
    """Back to pending (undo a decision that was not applied yet)."""
    return _decide(db, ids, "pending", ("approved", "rejected", "snoozed"))


def export_suggestions_csv(df: pd.DataFrame) -> bytes:
    """The suggestions frame as CSV through the one safe writer."""
    cols = [c for c in ["type_label", "status", "campaign_name", "ad_group_name", "keyword_text", "search_term",
                        "match_type", "dest_campaign_name", "dest_ad_group_name", "current_value", "proposed_value",
                        "rule", "reason", "confidence", "clicks", "orders", "spend", "sales", "acos", "cvr_raw",
                        "cvr_shrunk", "expected_spend_change", "expected_sales_change", "campaign_id", "ad_group_id",
                        "entity_id", "suggestion_id"] if c in df.columns]
    return to_safe_csv(df[cols])


# ------------------------------------------------------------------------------------------
# apply and undo


@dataclass
class Action:
    suggestion_id: str | None
    change_type: str            # bid | budget | placement | negative | keyword
    method: str                 # update | create | archive
    kind: str                   # Ads API kind: keywords, targets, campaigns, negativeKeywords
    payload: Any                # dict for update/create, id for archive
    entity_kind: str
    entity_id: str | None
    entity_name: str | None
    campaign_id: str | None
    ad_group_id: str | None
    field: str
    old_value: Any
    new_value: Any
    undo_of: str | None = None
    result: dict = field(default_factory=dict)


@dataclass
class ApplyReport:
    """Amazon's per-item answer for every change that was sent."""

    items: list[dict]

    @property
    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.items)

    @property
    def succeeded(self) -> int:
        return sum(1 for i in self.items if i["ok"])

    @property
    def failed(self) -> int:
        return sum(1 for i in self.items if not i["ok"])


def _campaign_row(db: Database, profile_id: str, campaign_id: str) -> dict:
    cur = db.conn.execute("SELECT * FROM campaigns WHERE profile_id = ? AND campaign_id = ?", [profile_id, campaign_id])
    row = cur.fetchone()
    return dict(zip([c[0] for c in cur.description], row)) if row else {}


def _placement_payload(db: Database, profile_id: str, campaign_id: str, top_pct: float) -> dict:
    c = _campaign_row(db, profile_id, campaign_id)
    pb = [{"placement": "PLACEMENT_TOP", "percentage": int(round(top_pct))}]
    for col, name in (("placement_product_page_pct", "PLACEMENT_PRODUCT_PAGE"),
                      ("placement_rest_of_search_pct", "PLACEMENT_REST_OF_SEARCH")):
        if c.get(col) is not None:
            pb.append({"placement": name, "percentage": int(round(c[col]))})
    strategy = c.get("bidding_strategy") or "LEGACY_FOR_SALES"
    return {"campaignId": campaign_id, "dynamicBidding": {"strategy": strategy, "placementBidding": pb}}


def _actions_for(db: Database, s: dict) -> list[Action]:
    t, sid, pid = s["type"], s["suggestion_id"], s["profile_id"]
    base = dict(suggestion_id=sid, campaign_id=s["campaign_id"], ad_group_id=s["ad_group_id"])
    if t == "bid":
        kind, key = ("keywords", "keywordId") if s["entity_kind"] == "keyword" else ("targets", "targetId")
        return [Action(change_type="bid", method="update", kind=kind,
                       payload={key: s["entity_id"], "bid": float(s["proposed_value"])}, entity_kind=s["entity_kind"],
                       entity_id=s["entity_id"], entity_name=s["keyword_text"], field="bid",
                       old_value=s["current_value"], new_value=s["proposed_value"], **base)]
    if t == "budget":
        return [Action(change_type="budget", method="update", kind="campaigns",
                       payload={"campaignId": s["campaign_id"],
                                "budget": {"budget": float(s["proposed_value"]), "budgetType": "DAILY"}},
                       entity_kind="campaign", entity_id=s["campaign_id"], entity_name=s["campaign_name"],
                       field="budget", old_value=s["current_value"], new_value=s["proposed_value"], **base)]
    if t == "placement":
        return [Action(change_type="placement", method="update", kind="campaigns",
                       payload=_placement_payload(db, pid, s["campaign_id"], float(s["proposed_value"])),
                       entity_kind="campaign", entity_id=s["campaign_id"], entity_name=s["campaign_name"],
                       field="placement_top_pct", old_value=s["current_value"], new_value=s["proposed_value"], **base)]
    if t == "negative":
        return [Action(change_type="negative", method="create", kind="negativeKeywords",
                       payload={"campaignId": s["campaign_id"], "adGroupId": s["ad_group_id"],
                                "keywordText": s["search_term"], "matchType": "NEGATIVE_EXACT", "state": "ENABLED"},
                       entity_kind="negative_keyword", entity_id=None, entity_name=s["search_term"], field="state",
                       old_value=None, new_value="ENABLED", **base)]
    if t == "harvest":
        out = [Action(suggestion_id=sid, change_type="keyword", method="create", kind="keywords",
                      payload={"campaignId": s["dest_campaign_id"], "adGroupId": s["dest_ad_group_id"],
                               "keywordText": s["search_term"], "matchType": "EXACT", "state": "ENABLED",
                               "bid": float(s["proposed_value"])},
                      entity_kind="keyword", entity_id=None, entity_name=s["search_term"],
                      campaign_id=s["dest_campaign_id"], ad_group_id=s["dest_ad_group_id"], field="bid",
                      old_value=None, new_value=s["proposed_value"])]
        if str(s.get("rule") or "").endswith("+isolate"):
            out.append(Action(change_type="negative", method="create", kind="negativeKeywords",
                              payload={"campaignId": s["campaign_id"], "adGroupId": s["ad_group_id"],
                                       "keywordText": s["search_term"], "matchType": "NEGATIVE_EXACT",
                                       "state": "ENABLED"},
                              entity_kind="negative_keyword", entity_id=None, entity_name=s["search_term"],
                              field="state", old_value=None, new_value="ENABLED", **base))
        return out
    raise ValueError(f"Unknown suggestion type {t!r}")


def _send(client, profile_id: str, actions: list[Action]) -> None:
    """Group by (method, kind), one call each (the client chunks by 1000); fill each action's result."""
    from services.errors import AmazonRequestError, AmazonUnavailable

    groups: dict[tuple[str, str], list[Action]] = {}
    for a in actions:
        groups.setdefault((a.method, a.kind), []).append(a)
    for (method, kind), group in groups.items():
        try:
            if method == "archive":
                status = client.archive(profile_id, kind, [a.payload for a in group])
            else:
                status = getattr(client, method)(profile_id, kind, [a.payload for a in group])
        except (AmazonRequestError, AmazonUnavailable, DashboardError) as exc:
            message = getattr(exc, "user_message", None) or str(exc)
            for a in group:
                a.result = {"ok": False, "entity_id": None, "message": message, "errors": []}
            continue
        for a, item in zip(group, status.items):
            a.result = {"ok": bool(item.ok), "entity_id": item.entity_id, "message": item.reason or "",
                        "errors": item.errors}
            if item.ok and a.entity_id is None:
                a.entity_id = item.entity_id


def _fmt_value(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    return str(v)


def _record(db: Database, account_id: str, profile_id: str, actions: list[Action],
            now: datetime | None = None) -> list[dict]:
    """Change history rows + suggestion statuses + the local copy of what changed (inside one transaction)."""
    now = now.astimezone(timezone.utc).isoformat(timespec="seconds") if now else _now()
    items = []
    with write(db):
        for a in actions:
            change_id = uuid.uuid4().hex[:16]
            ok = bool(a.result.get("ok"))
            db.conn.execute(
                "INSERT INTO change_history (change_id, account_id, profile_id, suggestion_id, applied_at, change_type, "
                "action, entity_kind, entity_id, entity_name, campaign_id, ad_group_id, field, old_value, new_value, ok, "
                "message, amazon_result, undo_of) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [change_id, account_id, profile_id, a.suggestion_id, now, a.change_type, a.method, a.entity_kind,
                 a.entity_id, a.entity_name, a.campaign_id, a.ad_group_id, a.field, _fmt_value(a.old_value),
                 _fmt_value(a.new_value), int(ok), a.result.get("message"),
                 json.dumps(a.result, default=str), a.undo_of])
            if a.undo_of and ok:
                db.conn.execute("UPDATE change_history SET undone_at = ?, undone_by = ? WHERE change_id = ?",
                                [now, change_id, a.undo_of])
            if ok:
                _mirror(db, profile_id, a)
            items.append({"change_id": change_id, "suggestion_id": a.suggestion_id, "change_type": a.change_type,
                          "action": a.method, "entity_kind": a.entity_kind, "entity_id": a.entity_id,
                          "entity_name": a.entity_name, "old_value": a.old_value, "new_value": a.new_value,
                          "ok": ok, "message": a.result.get("message") or "", "errors": a.result.get("errors") or []})
        by_sugg: dict[str, list[Action]] = {}
        for a in actions:
            if a.suggestion_id and not a.undo_of:
                by_sugg.setdefault(a.suggestion_id, []).append(a)
        for sid, acts in by_sugg.items():
            ok = all(a.result.get("ok") for a in acts)
            msg = "; ".join(a.result.get("message") or "" for a in acts if not a.result.get("ok"))
            db.conn.execute("UPDATE suggestions SET status = ?, result = ? WHERE suggestion_id = ?",
                            ["applied" if ok else "failed", msg or "ok", sid])
    return items


def _mirror(db: Database, profile_id: str, a: Action) -> None:
    """Keep the store's entity tables in step with what Amazon accepted, until the next sync."""
    c = db.conn
    if a.method == "update" and a.field == "bid":
        table, col = ("keywords", "keyword_id") if a.kind == "keywords" else ("targets", "target_id")
        c.execute(f"UPDATE {table} SET bid = ? WHERE profile_id = ? AND {col} = ?", [a.new_value, profile_id, a.entity_id])
    elif a.method == "update" and a.field == "budget":
        c.execute("UPDATE campaigns SET budget = ? WHERE profile_id = ? AND campaign_id = ?",
                  [a.new_value, profile_id, a.entity_id])
    elif a.method == "update" and a.field == "placement_top_pct":
        c.execute("UPDATE campaigns SET placement_top_pct = ? WHERE profile_id = ? AND campaign_id = ?",
                  [a.new_value, profile_id, a.entity_id])
    elif a.method == "create" and a.kind == "keywords":
        c.execute("INSERT OR REPLACE INTO keywords (profile_id, keyword_id, campaign_id, ad_group_id, keyword_text, "
                  "match_type, state, bid) VALUES (?,?,?,?,?,?,?,?)",
                  [profile_id, a.entity_id, a.campaign_id, a.ad_group_id, a.payload["keywordText"], "EXACT",
                   "ENABLED", a.payload.get("bid")])
    elif a.method == "create" and a.kind == "negativeKeywords":
        c.execute("INSERT OR REPLACE INTO negative_keywords (profile_id, keyword_id, campaign_id, ad_group_id, "
                  "keyword_text, match_type, state) VALUES (?,?,?,?,?,?,?)",
                  [profile_id, a.entity_id, a.campaign_id, a.ad_group_id, a.payload["keywordText"],
                   a.payload["matchType"], "ENABLED"])
    elif a.method == "archive":
        table = "keywords" if a.kind == "keywords" else "negative_keywords"
        c.execute(f"UPDATE {table} SET state = 'ARCHIVED' WHERE profile_id = ? AND keyword_id = ?",
                  [profile_id, a.entity_id])


def apply_approved(db: Database, client, account_id: str, profile_id: str, *, confirmed: bool = False,
                   ids: Iterable[str] | None = None, now: datetime | None = None) -> ApplyReport:
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


def undo(db: Database, client, change_ids: Iterable[str], *, confirmed: bool = False,
         now: datetime | None = None) -> ApplyReport:
    """Revert applied changes: bid/budget/placement back to the old value; created keyword/negative archived."""
    if confirmed is not True:
        raise ConfirmationRequired()
    ensure_schema(db)
    ids = [str(i) for i in change_ids]
    if not ids:
        return ApplyReport([])
    rows = _frame(db, f"SELECT * FROM change_history WHERE change_id IN ({', '.join('?' for _ in ids)}) "
                      "AND ok = 1 AND undone_at IS NULL AND undo_of IS NULL", ids)
    reports: list[dict] = []
    for (account_id, profile_id), group in rows.groupby(["account_id", "profile_id"]):
        actions = []
        for r in group.to_dict("records"):
            base = dict(suggestion_id=r["suggestion_id"], change_type=r["change_type"], entity_kind=r["entity_kind"],
                        entity_id=r["entity_id"], entity_name=r["entity_name"], campaign_id=r["campaign_id"],
                        ad_group_id=r["ad_group_id"], field=r["field"], old_value=r["new_value"],
                        undo_of=r["change_id"])
            if r["action"] == "create":
                kind = "keywords" if r["change_type"] == "keyword" else "negativeKeywords"
                actions.append(Action(method="archive", kind=kind, payload=r["entity_id"], new_value="ARCHIVED",
                                      **base))
            elif r["field"] == "bid":
                kind, key = ("keywords", "keywordId") if r["entity_kind"] == "keyword" else ("targets", "targetId")
                actions.append(Action(method="update", kind=kind,
                                      payload={key: r["entity_id"], "bid": float(r["old_value"])},
                                      new_value=float(r["old_value"]), **base))
            elif r["field"] == "budget":
                actions.append(Action(method="update", kind="campaigns",
                                      payload={"campaignId": r["entity_id"],
                                               "budget": {"budget": float(r["old_value"]), "budgetType": "DAILY"}},
                                      new_value=float(r["old_value"]), **base))
            elif r["field"] == "placement_top_pct":
                actions.append(Action(method="update", kind="campaigns",
                                      payload=_placement_payload(db, profile_id, r["entity_id"],
                                                                 float(r["old_value"] or 0)),
                                      new_value=float(r["old_value"] or 0), **base))
        _send(client, profile_id, actions)
        reports += _record(db, account_id, profile_id, actions, now)
    return ApplyReport(reports)


# ------------------------------------------------------------------------------------------
# history


def change_history(db: Database, account_id: str, profile_id: str | None = None, *, start: date | None = None,
                   end: date | None = None, only_ok: bool = False) -> pd.DataFrame:
    """Every change sent to Amazon, newest first: applied_at, change_type, action, entity, old, new, ok,
    message (Amazon's answer), suggestion_id, undo_of / undone_at."""
    ensure_schema(db)
    where, params = ["account_id = ?"], [account_id]
    if profile_id is not None:
        where.append("profile_id = ?"); params.append(str(profile_id))
    if start is not None:
        where.append("applied_at >= ?"); params.append(start.isoformat())
    if end is not None:
        where.append("applied_at < ?"); params.append((end + timedelta(days=1)).isoformat())
    if only_ok:
        where.append("ok = 1")
    return _frame(db, f"SELECT * FROM change_history WHERE {' AND '.join(where)} ORDER BY applied_at DESC, change_id",
                  params)


def change_markers(db: Database, account_id: str, profile_id: str | None = None, *, start: date | None = None,
                   end: date | None = None) -> pd.DataFrame:
    """One row per day and change type for the overview's trend chart: applied_at (first change of the day),
    date, change_type, count, label (e.g. "12 bid changes")."""
    h = change_history(db, account_id, profile_id, start=start, end=end, only_ok=True)
    cols = ["applied_at", "date", "change_type", "count", "label"]
    if h.empty:
        return pd.DataFrame(columns=cols)
    h["date"] = pd.to_datetime(h["applied_at"], utc=True).dt.date
    g = h.groupby(["date", "change_type"]).agg(applied_at=("applied_at", "min"), count=("change_id", "size")) \
        .reset_index()
    names = {"bid": "bid change", "budget": "budget change", "placement": "placement change",
             "negative": "negative keyword", "keyword": "new keyword"}
    g["label"] = [f"{n} {names.get(t, t)}{'s' if n != 1 else ''}" for n, t in zip(g["count"], g["change_type"])]
    return g[cols].sort_values("applied_at").reset_index(drop=True)


def recent_changes_for_cooldown(db: Database, account_id: str, profile_id: str) -> pd.DataFrame:
    """entity_id, change_type, applied_at of successful changes (the optimizer's cool-down input;
    the optimizer compares applied_at with its as_of date)."""
    ensure_schema(db)
    return _frame(db, "SELECT entity_id, change_type, applied_at FROM change_history WHERE account_id = ? AND "
                      "profile_id = ? AND ok = 1 AND undo_of IS NULL", [account_id, str(profile_id)])


def client_for_profile(db: Database, vault, account_id: str, profile_id: str):
    """The AdsClient of the region the profile lives in (for apply/undo from the page)."""
    from services import accounts

    row = db.conn.execute("SELECT region FROM profiles WHERE profile_id = ?", [str(profile_id)]).fetchone()
    region = (row[0] if row and row[0] else accounts.get_account(db, account_id)["region"])
    return accounts.clients_for(db, vault, account_id).ads(region)
