"""What the Goals page calls: margins per product, the account's strategy, campaign and product overrides, and the
optimizer settings, one function per action (issue 13). The page shows percent as 0-100; the store keeps fractions.

Where the targets come from and in which order is `services.optimizer.targets`; this module reads and writes the
goals and prepares the tables the page shows. Tables live in the optimizer's migration set
(`services.optimizer.suggestions.migrations`, m003: `opt_goals`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime

import pandas as pd
from sqlite_utils import Database

from services.analytics.sales import product_names
from services.errors import DashboardError
from services.optimizer.data import _frame, latest_date, load_sales
from services.optimizer.model import OptimizerInput, window
from services.optimizer.settings import STRATEGIES, Settings
from services.optimizer.suggestions import (
    ensure_schema,
    generate,
    get_settings_book,
    import_margins_csv,
    margins_frame,
    set_margin,
)
from services.optimizer.targets import parse_evidence, resolve_targets, target_sentence
from services.store import write

STRATEGY_LABELS = {"profit": "Profit", "acos": "Target ACOS", "tacos": "Target TACoS"}
STRATEGY_SENTENCES = {
    "profit": "Profit: each product's margin sets its target, the bid that earns the most after ad spend "
    "(about half the break-even ACOS); products without a margin use the default target.",
    "acos": "Target ACOS: every campaign aims at this ad spend per ad-attributed sale, unless it has an override.",
    "tacos": "Target TACoS: ad spend per total sale (ads and organic) steers the account; more spend while organic "
    "sales carry TACoS under the target, less when it is over.",
}
# The account target ACOS is the strategy's to set; the settings table leaves it out so it is set in one place.
STRATEGY_FIELDS = ("target_acos",)
KIND_UNITS = {"percent": "%", "money": "$", "days": "days", "count": "", "multiple": "×"}


class GoalError(DashboardError):
    """A goal the page cannot store, with the sentence that says why."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _fraction(value: float | str | None, what: str) -> float | None:
    """A percent the marketer typed (25 or "25 %") as a fraction (0.25); None for empty; a sentence otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip().rstrip("%").strip().replace(",", ".")
    if not text:
        return None
    try:
        pct = float(text)
    except ValueError:
        raise GoalError(f"The {what} “{value}” is not a number.") from None
    if not 0 < pct < 100 or math.isnan(pct):
        raise GoalError(f"The {what} must be more than 0 % and less than 100 % (it is {text} %).")
    return pct / 100.0


# ------------------------------------------------------------------------------------------ strategy and overrides


@dataclass(frozen=True)
class Strategy:
    kind: str
    value: float | None  # a fraction

    @property
    def sentence(self) -> str:
        return STRATEGY_SENTENCES[self.kind]


def get_strategy(db: Database, account_id: str) -> Strategy:
    g = get_settings_book(db, account_id).goals
    return Strategy(g.strategy, g.value)


def set_strategy(db: Database, account_id: str, kind: str, value_pct: float | str | None = None) -> Strategy:
    """Profit (no value), Target ACOS or Target TACoS (a percent, 0-100)."""
    if kind not in STRATEGIES:
        raise GoalError("Choose Profit, Target ACOS or Target TACoS.")
    value = None if kind == "profit" else _fraction(value_pct, f"{STRATEGY_LABELS[kind]}")
    if kind != "profit" and value is None:
        raise GoalError(f"{STRATEGY_LABELS[kind]} needs a target, for example 25 %.")
    ensure_schema(db)
    with write(db):
        db.conn.execute(
            "INSERT OR REPLACE INTO opt_goals VALUES (?, 'account', '', ?, ?, ?)", [account_id, kind, value, _now()]
        )
    return Strategy(kind, value)


def _set_override(db: Database, account_id: str, scope: str, scope_id: str, value_pct, what: str) -> float | None:
    value = _fraction(value_pct, what)
    ensure_schema(db)
    with write(db):
        if value is None:
            db.conn.execute(
                "DELETE FROM opt_goals WHERE account_id = ? AND scope = ? AND scope_id = ?",
                [account_id, scope, scope_id],
            )
        else:
            db.conn.execute(
                "INSERT OR REPLACE INTO opt_goals VALUES (?, ?, ?, 'acos', ?, ?)",
                [account_id, scope, scope_id, value, _now()],
            )
    return value


def set_campaign_target(db: Database, account_id: str, campaign_id: str, value_pct: float | str | None) -> float | None:
    """A target ACOS (percent) for one campaign that beats every other target; empty removes it."""
    return _set_override(db, account_id, "campaign", str(campaign_id), value_pct, "campaign's target ACOS")


def set_product_target(db: Database, account_id: str, asin: str, value_pct: float | str | None) -> float | None:
    """A target ACOS (percent) for one product (beats its margin and the account's target); empty removes it."""
    return _set_override(db, account_id, "product", asin.strip().upper(), value_pct, "product's target ACOS")


# ------------------------------------------------------------------------------------------ margins


def _light_input(db: Database, account_id: str, profile_id: str) -> OptimizerInput:
    """Just what the target resolver reads (campaigns, products, margins, total sales): cheap enough for a page."""
    pid = str(profile_id)
    s = get_settings_book(db, account_id).account
    as_of = latest_date(db, pid) or datetime.now(UTC).date()
    start, end = window(as_of, s.lookback_days, s.settling_days)
    asin_sales, account_sales = load_sales(db, pid, start.isoformat(), end.isoformat())
    return OptimizerInput(
        as_of=as_of,
        profile_id=pid,
        campaigns=_frame(
            db, "SELECT campaign_id, name, lower(state) AS state FROM campaigns WHERE profile_id = ?", [pid]
        ),
        product_ads=_frame(
            db, "SELECT DISTINCT campaign_id, ad_group_id, asin, sku FROM product_ads WHERE profile_id = ?", [pid]
        ),
        margins=margins_frame(db, account_id),
        asin_sales=asin_sales,
        account_sales=account_sales,
    )


def products_table(db: Database, account_id: str, profile_id: str) -> pd.DataFrame:
    """One row per advertised product (and per product with a margin): asin, name, sku, margin_pct,
    break_even_acos_pct (= margin), profit_target_pct (what Profit aims at), target_acos_pct (override)."""
    ensure_schema(db)
    ads = _frame(
        db,
        "SELECT upper(asin) AS asin, min(sku) AS sku FROM product_ads WHERE profile_id = ? AND asin IS NOT NULL "
        "GROUP BY upper(asin)",
        [str(profile_id)],
    )
    m = margins_frame(db, account_id)
    m = m[["asin", "sku", "margin", "default_target_acos"]].rename(columns={"sku": "sku_m"})
    out = ads.merge(m, on="asin", how="outer")
    out["sku"] = out["sku"].fillna(out.pop("sku_m"))
    out.insert(1, "name", out["asin"].map(product_names(db, str(profile_id))))
    overrides = get_settings_book(db, account_id).goals.products
    out["margin_pct"] = pd.to_numeric(out.pop("margin"), errors="coerce") * 100
    out["break_even_acos_pct"] = out["margin_pct"]
    out["profit_target_pct"] = pd.to_numeric(out.pop("default_target_acos"), errors="coerce") * 100
    out["target_acos_pct"] = out["asin"].map(overrides).astype(float) * 100
    return out.sort_values(["name", "asin"], na_position="last").reset_index(drop=True).round(2)


def save_margin(db: Database, account_id: str, asin: str, margin_pct: float | str) -> float:
    """One product's margin typed as a percent of its price (35 = 35 %), before ad spend."""
    value = _fraction(margin_pct, "margin")
    if value is None:
        raise GoalError("Type a margin, for example 35 %.")
    if not str(asin or "").strip():
        raise GoalError("Choose a product first.")
    set_margin(db, account_id, asin, value, source="entered")
    return value


def clear_margin(db: Database, account_id: str, asin: str) -> None:
    ensure_schema(db)
    with write(db):
        db.conn.execute(
            "DELETE FROM product_margins WHERE account_id = ? AND asin = ?", [account_id, asin.strip().upper()]
        )


def save_products_table(db: Database, account_id: str, before: pd.DataFrame, after: pd.DataFrame) -> list[str]:
    """Store what changed in the edited products table (margin and target override, in percent); a sentence per
    refused row, the others are saved."""
    problems = []
    old = before.set_index("asin")
    for r in after.to_dict("records"):
        asin = str(r.get("asin") or "")
        if asin not in old.index:
            continue
        for col, save, clear in (
            ("margin_pct", save_margin, clear_margin),
            ("target_acos_pct", set_product_target, lambda d, a, x: set_product_target(d, a, x, None)),
        ):
            new, was = r.get(col), old.at[asin, col]
            if (pd.isna(new) and pd.isna(was)) or (not pd.isna(new) and not pd.isna(was) and float(new) == float(was)):
                continue
            try:
                clear(db, account_id, asin) if pd.isna(new) else save(db, account_id, asin, new)
            except DashboardError as exc:
                problems.append(f"{r.get('name') or asin}: {exc}")
    return problems


_LINE = re.compile(r"^line (\d+): (.*)$")


@dataclass(frozen=True)
class MarginImport:
    imported: int
    refused: pd.DataFrame  # line, reason

    @property
    def sentence(self) -> str:
        n = len(self.refused)
        head = f"{self.imported} margin(s) imported."
        return head + (f" {n} line(s) refused; the table below says why." if n else "")


def import_margins(db: Database, account_id: str, data: bytes | str) -> MarginImport:
    """A margins CSV (`asin` or `sku`, and `margin` or `price` + `cost`): the good lines stored, the others listed
    with their line number and the reason."""
    if not data or not data.strip():
        raise GoalError("The file is empty: it needs a header line (asin, then margin, or price and cost).")
    skus = dict(
        db.conn.execute(
            "SELECT upper(a.sku), upper(a.asin) FROM product_ads a JOIN profiles p ON p.profile_id = a.profile_id "
            "WHERE p.account_id = ? AND a.sku IS NOT NULL AND a.asin IS NOT NULL",
            [account_id],
        ).fetchall()
    )
    imported, problems = import_margins_csv(db, account_id, data, sku_to_asin=skus)
    rows = []
    for p in problems:
        m = _LINE.match(p)
        rows.append({"line": int(m.group(1)) if m else None, "reason": (m.group(2) if m else p)})
    return MarginImport(imported, pd.DataFrame(rows, columns=["line", "reason"]))


# ------------------------------------------------------------------------------------------ campaigns


def campaigns_table(db: Database, account_id: str, profile_id: str) -> pd.DataFrame:
    """Per campaign: campaign_id, name, state, override_pct (its own target ACOS), target_acos_pct (what the
    optimizer aims at now) and source (where that comes from)."""
    inp = _light_input(db, account_id, profile_id)
    book = get_settings_book(db, account_id)
    resolved = resolve_targets(inp, book)
    out = inp.campaigns.copy()
    if out.empty:
        return pd.DataFrame(columns=["campaign_id", "name", "state", "override_pct", "target_acos_pct", "source"])
    out["campaign_id"] = out["campaign_id"].astype(str)
    out["override_pct"] = out["campaign_id"].map(book.goals.campaigns).astype(float) * 100
    out["target_acos_pct"] = [resolved[c].acos * 100 if c in resolved else None for c in out["campaign_id"]]
    out["source"] = [resolved[c].source if c in resolved else "" for c in out["campaign_id"]]
    return out.sort_values("name").reset_index(drop=True).round(2)


def tacos_note(db: Database, account_id: str, profile_id: str) -> str | None:
    """A sentence when Target TACoS cannot be followed: no total sales in the rule window (not synced, or the
    authorization lacks the sales role)."""
    if get_settings_book(db, account_id).goals.strategy != "tacos":
        return None
    inp = _light_input(db, account_id, profile_id)
    if inp.account_sales:
        return None
    return (
        "Total sales from Seller Central are missing for the last weeks, so the TACoS target cannot be turned into "
        "bids yet: suggestions follow the Profit rule (margins, else the default target) until a sync brings them."
    )


# ------------------------------------------------------------------------------------------ optimizer settings


def settings_table(db: Database, account_id: str) -> pd.DataFrame:
    """Every optimizer setting but the strategy's own: name, description, kind, unit, default and value, percent
    fields shown as 0-100."""
    acct = get_settings_book(db, account_id).account
    rows = []
    for d in Settings.describe():
        if d["name"] in STRATEGY_FIELDS:
            continue
        scale = 100.0 if d["kind"] == "percent" else 1.0
        rows.append(
            {
                "name": d["name"],
                "setting": d["name"].replace("_", " ").capitalize(),
                "description": d["description"],
                "kind": d["kind"],
                "unit": KIND_UNITS.get(d["kind"], ""),
                "default": round(float(d["default"]) * scale, 4),
                "value": round(float(getattr(acct, d["name"])) * scale, 4),
            }
        )
    return pd.DataFrame(rows)


def save_settings_values(db: Database, account_id: str, values: dict[str, float]) -> Settings:
    """The account's settings from the page's numbers (percent fields as 0-100); a sentence when they do not fit."""
    from services.optimizer.suggestions import save_settings

    kinds = {f.name: (f.metadata.get("kind"), f.type) for f in fields(Settings)}
    clean = {}
    for name, v in values.items():
        if name not in kinds or name in STRATEGY_FIELDS or v is None or pd.isna(v):
            continue
        kind, typ = kinds[name]
        x = float(v) / 100.0 if kind == "percent" else float(v)
        if x < 0:
            raise GoalError(f"“{name.replace('_', ' ').capitalize()}” cannot be negative.")
        clean[name] = int(round(x)) if "int" in str(typ) else x
    current = get_settings_book(db, account_id).account
    new = Settings.from_dict(clean, current)
    problems = new.validate()
    if problems:
        raise GoalError(" ".join(problems))
    save_settings(db, account_id, new)
    return new


def reset_settings(db: Database, account_id: str) -> None:
    """Account settings back to the defaults (goals and overrides stay)."""
    ensure_schema(db)
    with write(db):
        db.conn.execute("DELETE FROM opt_settings WHERE account_id = ? AND campaign_id = ''", [account_id])


# ------------------------------------------------------------------------------------------ suggestions


def refresh_with_goals(db: Database, account_id: str, profile_id: str, attribution: str = "7d") -> pd.DataFrame:
    """Regenerate suggestions with the goals as saved; per target sentence, how many suggestions aim at it."""
    fresh = generate(db, account_id, profile_id, attribution=attribution)
    return targets_in_use(fresh)


def targets_in_use(suggestions: pd.DataFrame) -> pd.DataFrame:
    """target (its sentence), suggestions (count), most first."""
    if suggestions.empty or "evidence" not in suggestions.columns:
        return pd.DataFrame(columns=["target", "suggestions"])
    sentences = [target_sentence(parse_evidence(e)) or "No target recorded." for e in suggestions["evidence"]]
    counts = pd.Series(sentences).value_counts()
    return pd.DataFrame({"target": counts.index, "suggestions": counts.to_numpy()})
