"""Suggestions, optimizer settings and product margins in the store: generate, save, list, approve, reject, snooze.

Tables live in their own migration set (`Migrations("suggestions")`), applied idempotently by every
public function here, so the store's own schema stays untouched.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlite_utils import Database, Migrations

from services.analytics.export import to_safe_csv
from services.errors import DashboardError
from services.optimizer.bids import break_even_table
from services.optimizer.engine import optimize
from services.optimizer.model import SUGGESTION_COLUMNS, SUGGESTION_TYPES, TYPE_LABELS
from services.optimizer.settings import Goals, Settings, SettingsBook
from services.store import migrations_pending, write

migrations = Migrations("suggestions")

STATUSES = ("pending", "approved", "rejected", "snoozed", "applied", "failed", "superseded")
_SUGG_COLS = [c for c in SUGGESTION_COLUMNS if c != "suggestion_key"]


@migrations()
def m001_suggestions(db: Database) -> None:
    db.conn.execute("""CREATE TABLE IF NOT EXISTS opt_settings (
        account_id TEXT NOT NULL, campaign_id TEXT NOT NULL DEFAULT '', settings TEXT NOT NULL, updated_at TEXT,
        PRIMARY KEY (account_id, campaign_id))""")
    db.conn.execute("""CREATE TABLE IF NOT EXISTS product_margins (
        account_id TEXT NOT NULL, asin TEXT NOT NULL, sku TEXT, margin REAL NOT NULL, source TEXT, updated_at TEXT,
        PRIMARY KEY (account_id, asin))""")
    numeric = {
        "current_value",
        "proposed_value",
        "change_pct",
        "confidence",
        "spend",
        "sales",
        "acos",
        "cvr_raw",
        "cvr_shrunk",
        "aov",
        "target_acos",
        "value_bid",
        "expected_spend_change",
        "expected_sales_change",
    }
    ints = {"clicks", "orders"}
    cols = ", ".join(
        f"{c} {'REAL' if c in numeric else 'INTEGER' if c in ints else 'TEXT'}" for c in _SUGG_COLS if c != "profile_id"
    )
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
    db.conn.execute(
        "CREATE INDEX IF NOT EXISTS idx_change_history_profile ON change_history(account_id, profile_id, applied_at)"
    )


@migrations()
def m002_apply_journal(db: Database) -> None:
    """The apply journal: every change is written here (state `sending`) before Amazon is called, so a crash
    between Amazon's answer and the change history leaves a trace that reconciliation resolves."""
    db.conn.execute("""CREATE TABLE IF NOT EXISTS apply_journal (
        entry_id TEXT PRIMARY KEY, batch_id TEXT NOT NULL, account_id TEXT NOT NULL, profile_id TEXT NOT NULL,
        suggestion_id TEXT, undo_of TEXT, change_type TEXT NOT NULL, method TEXT NOT NULL, kind TEXT NOT NULL,
        entity_id TEXT, field TEXT, old_value TEXT, new_value TEXT, payload TEXT NOT NULL, action TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'sending', resolution TEXT, journaled_at TEXT NOT NULL, resolved_at TEXT,
        pid INTEGER, host TEXT)""")
    db.conn.execute(
        "CREATE INDEX IF NOT EXISTS idx_apply_journal_state ON apply_journal(state, account_id, profile_id)"
    )
    db.conn.execute("CREATE INDEX IF NOT EXISTS idx_apply_journal_suggestion ON apply_journal(suggestion_id, batch_id)")


@migrations()
def m003_goals_and_evidence(db: Database) -> None:
    """The account's goals (issue 13): one row for the strategy ('profit' | 'acos' | 'tacos' and its value) and
    one per campaign or product target-ACOS override; and each suggestion's evidence JSON (the target it aimed
    at and where that came from). A store whose suggestions table already has the column is left as it is."""
    db.conn.execute("""CREATE TABLE IF NOT EXISTS opt_goals (
        account_id TEXT NOT NULL, scope TEXT NOT NULL CHECK (scope IN ('account', 'campaign', 'product')),
        scope_id TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL CHECK (kind IN ('profit', 'acos', 'tacos')),
        value REAL, updated_at TEXT, PRIMARY KEY (account_id, scope, scope_id))""")
    if "evidence" not in {r[1] for r in db.conn.execute("PRAGMA table_info(suggestions)")}:
        db.conn.execute("ALTER TABLE suggestions ADD COLUMN evidence TEXT")


@migrations()
def m004_suggestions_list_version_indexes(db: Database) -> None:
    """The Suggestions page asks on every rerun whether the profile's suggestions changed: the newest generation and
    the newest decision. With these two indexes each is one index seek instead of a scan of ~20k suggestions with
    their reason text (on the loaded test machine: 434 ms for the scan against well under 1 ms). Cost: two index
    entries per saved suggestion."""
    db.conn.execute(
        "CREATE INDEX IF NOT EXISTS idx_suggestions_created ON suggestions(account_id, profile_id, created_at)"
    )
    db.conn.execute(
        "CREATE INDEX IF NOT EXISTS idx_suggestions_decided ON suggestions(account_id, profile_id, decided_at)"
    )


def ensure_schema(db: Database) -> None:
    """Apply this module's pending migrations to this database (idempotent).

    Why the database is asked every time: the applied migrations are recorded in the database itself
    (`_sqlite_migrations`), which is the only reliable answer. A cache keyed by `id(db.conn)` was wrong: a new
    store's connection can reuse a freed connection's address and was then never migrated ("no such table:
    product_margins"). The check is one read of a small table."""
    if migrations_pending(db, migrations):
        with write(db):
            if migrations_pending(db, migrations):  # another writer may have migrated between the read and the lock
                migrations.apply(db)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _frame(db: Database, sql: str, params: Sequence = ()) -> pd.DataFrame:
    cur = db.conn.execute(sql, list(params))
    return pd.DataFrame(cur.fetchall(), columns=[c[0] for c in cur.description])


class ConfirmationRequired(DashboardError):
    """Raised when apply/undo is called without confirmed=True."""

    def __init__(self, message: str = "Changes are sent to Amazon only after explicit confirmation.") -> None:
        super().__init__(message)


# ------------------------------------------------------------------------------------------
# settings and margins


def get_settings_book(db: Database, account_id: str) -> SettingsBook:
    ensure_schema(db)
    book = SettingsBook()
    for cid, raw in db.conn.execute(
        "SELECT campaign_id, settings FROM opt_settings WHERE account_id = ?", [account_id]
    ):
        data = json.loads(raw)
        if cid == "":
            book.account = Settings.from_dict(data)
        else:
            book.campaigns[cid] = data
    book.goals = load_goals(db, account_id)
    return book


def load_goals(db: Database, account_id: str) -> Goals:
    """The account's strategy and its campaign and product overrides (Profit with none until the Goals page saves)."""
    ensure_schema(db)
    strategy, value, campaigns, products = "profit", None, {}, {}
    for scope, sid, kind, v in db.conn.execute(
        "SELECT scope, scope_id, kind, value FROM opt_goals WHERE account_id = ?", [account_id]
    ):
        if scope == "account":
            strategy, value = kind, v
        elif scope == "campaign" and v is not None:
            campaigns[sid] = float(v)
        elif scope == "product" and v is not None:
            products[sid] = float(v)
    return Goals(strategy, value, campaigns, products)


def get_settings(db: Database, account_id: str, campaign_id: str | None = None) -> Settings:
    return get_settings_book(db, account_id).for_campaign(campaign_id)


def save_settings(db: Database, account_id: str, settings: Settings | dict, campaign_id: str | None = None) -> None:
    """Account settings (campaign_id None) or a campaign override (only the given / differing fields)."""
    ensure_schema(db)
    if campaign_id is None:
        s = settings if isinstance(settings, Settings) else Settings.from_dict(settings)
        problems = s.validate()
        if problems:
            raise ValueError(" ".join(problems))
        data = s.to_dict()
    else:
        base = get_settings_book(db, account_id).account
        if isinstance(settings, Settings):
            data = {k: v for k, v in settings.to_dict().items() if getattr(base, k) != v}
        else:
            data = {k: v for k, v in settings.items() if k in base.to_dict()}
        problems = Settings.from_dict(data, base).validate()
        if problems:
            raise ValueError(" ".join(problems))
    with write(db):
        db.conn.execute(
            "INSERT OR REPLACE INTO opt_settings VALUES (?, ?, ?, ?)",
            [account_id, campaign_id or "", json.dumps(data), _now()],
        )


def clear_campaign_settings(db: Database, account_id: str, campaign_id: str) -> None:
    ensure_schema(db)
    with write(db):
        db.conn.execute("DELETE FROM opt_settings WHERE account_id = ? AND campaign_id = ?", [account_id, campaign_id])


def set_margin(
    db: Database, account_id: str, asin: str, margin: float, sku: str | None = None, source: str = "entered"
) -> None:
    """Pre-ad margin as a fraction of price (0.35 = 35 %): the product's break-even ACOS."""
    margin = float(margin)
    if margin > 1:
        margin /= 100.0
    if not 0 < margin < 1:
        raise ValueError("A margin must be between 0 and 100 %.")
    ensure_schema(db)
    with write(db):
        db.conn.execute(
            "INSERT OR REPLACE INTO product_margins VALUES (?, ?, ?, ?, ?, ?)",
            [account_id, asin.strip().upper(), sku, margin, source, _now()],
        )


def _margin_csv_text(data: bytes | str) -> str:
    """Text of a margin file as spreadsheets save it: UTF-8 (with or without BOM), UTF-16 (BOM) or cp1252."""
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")  # Excel's "Unicode text"; the BOM says which byte order
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows in Western Europe and the US


def _margin_number(text: str, what: str) -> float:
    """12.50, 12,50, $12.50 or 12.50 € as a number; a sentence when it is none of these."""
    cleaned = text.strip().strip("$€£¥").strip().replace("\u00a0", "").replace(" ", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")  # a decimal comma
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f"the {what} “{text}” is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"the {what} “{text}” is not a number")
    return value


def import_margins_csv(
    db: Database, account_id: str, data: bytes | str, sku_to_asin: dict[str, str] | None = None
) -> tuple[int, list[str]]:
    """CSV with `asin` (or a `sku` that `sku_to_asin` knows, and optional `sku`) plus either `margin` (fraction or percent) or `price` and
    `cost` (cost = COGS + fees). Returns (rows imported, problems by line, each a sentence).

    Accepts the encodings spreadsheets write (UTF-8 with or without BOM, UTF-16 with BOM, cp1252) and
    comma, semicolon or tab as separator; a line with price 0 is refused with a sentence, not a crash."""
    text = _margin_csv_text(data)
    header = text.splitlines()[0] if text else ""
    delimiter = max([",", ";", "\t"], key=header.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    problems, rows = [], []
    for n, raw in enumerate(reader, start=2):
        row = {str(k).strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        asin = row.get("asin", "")
        sku = row.get("sku", "")
        try:
            if not asin and sku:
                asin = (sku_to_asin or {}).get(sku.upper(), "")
                if not asin:
                    raise ValueError(f"no ASIN, and the SKU “{sku}” is not among the advertised products")
            if not asin:
                raise ValueError("no ASIN")
            if row.get("margin"):
                m = _margin_number(row["margin"].rstrip("%"), "margin")
                m = m / 100.0 if (m > 1 or row["margin"].endswith("%")) else m
            elif row.get("price") and row.get("cost"):
                price, cost = _margin_number(row["price"], "price"), _margin_number(row["cost"], "cost")
                if price <= 0:
                    raise ValueError(f"the price must be more than 0 (it is {row['price']}), so no margin follows")
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
            db.conn.execute(
                "INSERT OR REPLACE INTO product_margins VALUES (?, ?, ?, ?, ?, ?)",
                [account_id, asin, sku, m, "csv", _now()],
            )
    return len(rows), problems


def margins_frame(db: Database, account_id: str) -> pd.DataFrame:
    """asin, sku, margin, break_even_acos, default_target_acos (break-even x break_even_share - below_break_even)."""
    ensure_schema(db)
    df = _frame(
        db, "SELECT asin, sku, margin, source, updated_at FROM product_margins WHERE account_id = ?", [account_id]
    )
    acct = get_settings_book(db, account_id).account
    return (
        break_even_table(df, acct.below_break_even, acct.break_even_share)
        if not df.empty
        else df.assign(break_even_acos=[], default_target_acos=[])
    )


# ------------------------------------------------------------------------------------------
# generating and reviewing


def generate(
    db: Database,
    account_id: str,
    profile_id: str,
    *,
    as_of: date | None = None,
    attribution: str = "7d",
    types: Iterable[str] = SUGGESTION_TYPES,
) -> pd.DataFrame:
    """Run the optimizer on the store's data and save the result as pending suggestions."""
    from services.optimizer.data import load_input

    book = get_settings_book(db, account_id)
    inp = load_input(db, profile_id, as_of=as_of, settings=book.account, attribution=attribution, account_id=account_id)
    found = optimize(inp, book, types=types)
    saved = _save(db, account_id, found)
    if found.empty:  # nothing was replaced: the pending ones stay, as the page lists them
        return list_suggestions(db, account_id, profile_id)
    return _as_listed(db, saved)


def _plain(v):
    """A cell as SQLite takes it: None for a missing value, a Python number for a NumPy one."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    return v.item() if hasattr(v, "item") else v


def _insert_columns(df: pd.DataFrame, cols: list[str], blocked: set, fixed: dict) -> dict[str, list]:
    """The INSERT's values, column by column, of the suggestions whose key is not `blocked`, for one executemany:
    a large profile's ~20k suggestions, one execute each, held the write lock. Read column by column: a dict per
    row of every cell cost seconds on a large profile."""
    if df.empty:
        return {c: [] for c in cols}
    keys = list(df["suggestion_key"])
    keep = [i for i, k in enumerate(keys) if k not in blocked]
    values: dict[str, list] = {c: [fixed[c]] * len(keep) for c in fixed}
    values["suggestion_id"] = [uuid.uuid4().hex[:16] for _ in keep]
    values["suggestion_key"] = [keys[i] for i in keep]
    profiles = list(df["profile_id"])
    values["profile_id"] = [str(profiles[i]) for i in keep]
    every = len(keep) == len(df)
    for c in cols:
        if c not in values:
            cells = _cells(df[c]) if c in df.columns else [None] * len(df)
            values[c] = cells if every else [cells[i] for i in keep]
    return values


def _cells(column: pd.Series) -> list:
    """A column's cells as SQLite takes them (see `_plain`): numbers and text converted by pandas in one go (a
    call per cell cost a second on a large profile's 23k suggestions x 35 columns), mixed ones cell by cell."""
    cells = column.astype(object).where(column.notna(), None).tolist()
    if column.dtype == object and any(isinstance(v, np.generic) for v in cells):
        return [_plain(v) for v in cells]  # NumPy scalars among Python values: converted one by one
    return cells


def save_suggestions(db: Database, account_id: str, df: pd.DataFrame, run_id: str | None = None) -> int:
    """Replace the profile's pending suggestions; skip keys that are approved, snoozed or recently rejected."""
    return len(_save(db, account_id, df, run_id)["suggestion_id"])


def _save(db: Database, account_id: str, df: pd.DataFrame, run_id: str | None = None) -> dict[str, list]:
    """`save_suggestions`, returning the rows written, column by column."""
    ensure_schema(db)
    if df.empty:
        profiles: set[str] = set()
    else:
        profiles = set(df["profile_id"].astype(str))
    run_id = run_id or uuid.uuid4().hex[:12]
    now = datetime.now(UTC)
    with write(db):
        for pid in profiles:
            _retire_pending(db, account_id, pid)
        blocked = set()
        for key, status, until, decided in db.conn.execute(
            "SELECT suggestion_key, status, snoozed_until, decided_at FROM suggestions WHERE account_id = ? "
            "AND status IN ('approved', 'snoozed', 'rejected')",
            [account_id],
        ):
            if status == "approved":
                blocked.add(key)
            elif status == "snoozed" and until and until > now.isoformat():
                blocked.add(key)
            elif status == "rejected" and decided and decided > (now - timedelta(days=30)).isoformat():
                blocked.add(key)
        cols = ["suggestion_id", "suggestion_key", "account_id", "profile_id", "run_id", "created_at", "status"] + [
            c for c in _SUGG_COLS if c != "profile_id"
        ]
        sql = "INSERT INTO suggestions ({}) VALUES ({})".format(", ".join(cols), ", ".join("?" for _ in cols))
        saved = _insert_columns(
            df,
            cols,
            blocked,
            {
                "account_id": account_id,
                "run_id": run_id,
                "status": "pending",
                "created_at": now.isoformat(timespec="seconds"),
            },
        )
        db.conn.executemany(sql, zip(*(saved[c] for c in cols)))
    return saved


def _retire_pending(db: Database, account_id: str, profile_id: str) -> None:
    """Drop the profile's pending (and earlier superseded) suggestions before a run saves its own: nothing reads a
    replaced suggestion, and keeping each run's ~20k rows of a large profile grew the table by that much a run and
    wrote every one of them again to mark it. One that the change history or the apply journal names is kept, marked
    superseded, so what was sent to Amazon still shows why."""
    referenced = """SELECT suggestion_id FROM change_history WHERE account_id = ? AND profile_id = ?
        AND suggestion_id IS NOT NULL
        UNION SELECT suggestion_id FROM apply_journal WHERE account_id = ? AND profile_id = ?
        AND suggestion_id IS NOT NULL"""
    who = [account_id, profile_id]
    db.conn.execute(
        "DELETE FROM suggestions WHERE account_id = ? AND profile_id = ? AND status IN ('pending', 'superseded') "
        f"AND suggestion_id NOT IN ({referenced})",
        [*who, *who, *who],
    )
    db.conn.execute(
        "UPDATE suggestions SET status = 'superseded' WHERE account_id = ? AND profile_id = ? AND status = 'pending'",
        who,
    )


def _as_listed(db: Database, saved: dict[str, list]) -> pd.DataFrame:
    """The rows just saved as `list_suggestions` returns a profile's pending ones (its columns, its default order),
    without reading back the ~23k rows (with their evidence) of a large profile: a second of the run."""
    columns = [r[1] for r in db.conn.execute("PRAGMA table_info(suggestions)")]
    n = len(saved["suggestion_id"])
    df = pd.DataFrame({c: saved[c] if c in saved else [None] * n for c in columns})
    missing = df["confidence"].isna()
    df = df.assign(_missing=missing, _confidence=-pd.to_numeric(df["confidence"], errors="coerce"))
    df = df.sort_values(["_missing", "_confidence", "suggestion_key", "suggestion_id"], kind="stable")
    df = df.drop(columns=["_missing", "_confidence"]).reset_index(drop=True)
    df["type_label"] = df["type"].map(TYPE_LABELS)
    return df


SORTABLE = (
    "confidence",
    "expected_spend_change",
    "expected_sales_change",
    "spend",
    "clicks",
    "orders",
    "acos",
    "change_pct",
    "created_at",
    "campaign_name",
)


def list_suggestions(
    db: Database,
    account_id: str,
    profile_id: str | None = None,
    *,
    types: Iterable[str] | None = None,
    statuses: Iterable[str] | None = ("pending",),
    min_confidence: float | None = None,
    campaign_ids: Iterable[str] | None = None,
    search: str | None = None,
    sort_by: str = "confidence",
    ascending: bool = False,
) -> pd.DataFrame:
    """Suggestions as a frame for the Suggestions page: filterable by type, status, campaign, confidence and
    text (campaign / ad group / keyword / search term), sorted by `sort_by`."""
    ensure_schema(db)
    where, params = ["account_id = ?"], [account_id]
    if profile_id is not None:
        where.append("profile_id = ?")
        params.append(str(profile_id))
    for col, values in (("type", types), ("status", statuses), ("campaign_id", campaign_ids)):
        if values is not None:
            values = list(values)
            where.append(f"{col} IN ({', '.join('?' for _ in values)})" if values else "0")
            params += values
    if min_confidence is not None:
        where.append("confidence >= ?")
        params.append(float(min_confidence))
    if search:
        where.append(
            "(lower(coalesce(campaign_name,'')||' '||coalesce(ad_group_name,'')||' '||"
            "coalesce(keyword_text,'')||' '||coalesce(search_term,'')) LIKE ?)"
        )
        params.append(f"%{search.lower()}%")
    if sort_by not in SORTABLE:
        raise ValueError(f"sort_by must be one of {SORTABLE}")
    df = _frame(
        db,
        f"SELECT * FROM suggestions WHERE {' AND '.join(where)} "
        f"ORDER BY {sort_by} IS NULL, {sort_by} {'ASC' if ascending else 'DESC'}, suggestion_key, suggestion_id",
        params,
    )
    df["type_label"] = df["type"].map(TYPE_LABELS)
    return df


def summary_by_type(
    db: Database, account_id: str, profile_id: str | None = None, statuses: Iterable[str] = ("pending",)
) -> pd.DataFrame:
    """type, label, count, expected weekly spend and sales change, in the order of the page's groups."""
    df = list_suggestions(db, account_id, profile_id, statuses=statuses)
    out = (
        df.groupby("type")
        .agg(
            count=("suggestion_id", "size"),
            expected_spend_change=("expected_spend_change", "sum"),
            expected_sales_change=("expected_sales_change", "sum"),
        )
        .reset_index()
        if not df.empty
        else pd.DataFrame(columns=["type", "count", "expected_spend_change", "expected_sales_change"])
    )
    out["label"] = out["type"].map(TYPE_LABELS)
    order = {t: i for i, t in enumerate(SUGGESTION_TYPES)}
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
            [status, _now(), *extra.values(), *ids, *allowed_from],
        )
    return cur.rowcount


def approve(db: Database, ids: Iterable[str]) -> int:
    return _decide(db, ids, "approved", ("pending", "snoozed", "rejected", "failed"))


def reject(db: Database, ids: Iterable[str], note: str | None = None) -> int:
    return _decide(db, ids, "rejected", ("pending", "snoozed", "approved", "failed"), note=note)


def snooze(db: Database, ids: Iterable[str], days: int = 7) -> int:
    until = (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="seconds")
    return _decide(db, ids, "snoozed", ("pending", "approved"), snoozed_until=until)


def reset(db: Database, ids: Iterable[str]) -> int:
    """Back to pending (undo a decision that was not applied yet)."""
    return _decide(db, ids, "pending", ("approved", "rejected", "snoozed"))


def export_suggestions_csv(df: pd.DataFrame) -> bytes:
    """The suggestions frame as CSV through the one safe writer."""
    cols = [
        c
        for c in [
            "type_label",
            "status",
            "campaign_name",
            "ad_group_name",
            "keyword_text",
            "search_term",
            "match_type",
            "dest_campaign_name",
            "dest_ad_group_name",
            "current_value",
            "proposed_value",
            "rule",
            "reason",
            "confidence",
            "clicks",
            "orders",
            "spend",
            "sales",
            "acos",
            "cvr_raw",
            "cvr_shrunk",
            "expected_spend_change",
            "expected_sales_change",
            "campaign_id",
            "ad_group_id",
            "entity_id",
            "suggestion_id",
        ]
        if c in df.columns
    ]
    return to_safe_csv(df[cols])
