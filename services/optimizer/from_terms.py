"""Suggestions a marketer makes by hand on the Search terms page: negate a term, or harvest it as an exact keyword.

They are ordinary suggestions (type `negative` or `harvest`, the same columns, keys and evidence as the
optimizer's), so the one review → apply → history → undo path sends them with its journal; nothing here calls
Amazon. What marks them is the rule (`search_terms_page…`) and the reason's first words ("Chosen on the Search
terms page"); their confidence is 1 (a person decided, no model), so no confidence filter hides them. A harvest
goes where the optimizer would put it (`terms._harvest_destinations`: a live manual ad group advertising the same
products) and, as the optimizer does, negates the term exactly in its source ad group so the two do not compete.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pandas as pd
from sqlite_utils import Database

from services.errors import DashboardError
from services.optimizer.data import _frame
from services.optimizer.model import SUGGESTION_COLUMNS, OptimizerInput, _key, _nan_none, _round_money
from services.optimizer.suggestions import ensure_schema
from services.optimizer.terms import _harvest_destinations
from services.store import write

SOURCE = "search_terms_page"
ACTIONS = {
    "negative_exact": "Add as negative exact",
    "negative_phrase": "Add as negative phrase",
    "harvest_exact": "Harvest as exact keyword",
}
_NEGATIVE_MATCH = {"negative_exact": "NEGATIVE_EXACT", "negative_phrase": "NEGATIVE_PHRASE"}


class NothingToSuggest(DashboardError):
    """None of the chosen search terms can take this action (the sentence says why)."""


def _structure(db: Database, profile_id: str) -> OptimizerInput:
    """Only the frames `_harvest_destinations` reads: entities, campaigns, ad groups, product ads."""
    pid = str(profile_id)
    entities = _frame(
        db,
        "SELECT keyword_id AS entity_id, 'keyword' AS kind, campaign_id, ad_group_id, keyword_text AS text, "
        "match_type, lower(state) AS state FROM keywords WHERE profile_id = ?",
        [pid],
    )
    campaigns = _frame(
        db,
        "SELECT campaign_id, name, lower(state) AS state, upper(targeting_type) AS targeting_type "
        "FROM campaigns WHERE profile_id = ?",
        [pid],
    )
    ad_groups = _frame(
        db, "SELECT ad_group_id, campaign_id, name, lower(state) AS state FROM ad_groups WHERE profile_id = ?", [pid]
    )
    product_ads = _frame(
        db,
        "SELECT campaign_id, ad_group_id, asin, sku, lower(state) AS state FROM product_ads WHERE profile_id = ?",
        [pid],
    )
    return OptimizerInput(
        as_of=datetime.now(UTC).date(),
        profile_id=pid,
        entities=entities,
        campaigns=campaigns,
        ad_groups=ad_groups,
        product_ads=product_ads,
    )


def default_bid(row: dict) -> float:
    """The starting bid offered for a harvested term: what a click on it cost so far (its CPC), at least 0.02."""
    clicks = int(row.get("clicks") or 0)
    cost = float(row.get("cost") or 0.0)
    return _round_money(max(cost / clicks if clicks else 0.0, 0.02))


def _evidence(r: dict, start: str, end: str) -> dict:
    clicks, orders = int(r.get("clicks") or 0), int(r.get("orders") or 0)
    cost, sales = float(r.get("cost") or 0.0), float(r.get("sales") or 0.0)
    return {
        "clicks": clicks,
        "orders": orders,
        "spend": cost,
        "sales": sales,
        "acos": _nan_none(cost / sales) if sales else None,
        "cvr_raw": _nan_none(orders / clicks) if clicks else None,
        "window_start": start,
        "window_end": end,
    }


def build(
    db: Database,
    profile_id: str,
    rows: pd.DataFrame,
    action: str,
    *,
    start: str,
    end: str,
    bid: float | None = None,
    currency: str = "",
) -> tuple[pd.DataFrame, list[str]]:
    """Suggestion rows (SUGGESTION_COLUMNS) for the chosen search-term rows, and a sentence per term left out.

    `rows` are rows of the Search terms table (`services.analytics.search_terms.rows_by_key`): one search term
    under one keyword or target, with its campaign, ad group and metrics over [start, end]. `bid` is the harvest's
    starting bid; without one each term starts at its own CPC.
    """
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {tuple(ACTIONS)}")
    out, skipped = [], []
    inp = _structure(db, profile_id) if action == "harvest_exact" else None
    dest = _harvest_destinations(inp) if inp is not None else {}
    names = {}
    if inp is not None and not inp.ad_groups.empty:
        camp_names = dict(zip(inp.campaigns["campaign_id"].astype(str), inp.campaigns["name"]))
        for g in inp.ad_groups.itertuples(index=False):
            names[str(g.ad_group_id)] = (camp_names.get(str(g.campaign_id)), g.name)
    exact_in = set()
    if inp is not None and not inp.entities.empty:
        ex = inp.entities[
            (inp.entities["match_type"].astype(str).str.upper() == "EXACT") & (inp.entities["state"] != "archived")
        ]
        exact_in = set(zip(ex["ad_group_id"].astype(str), ex["text"].astype(str).str.strip().str.lower()))
    seen = set()
    for r in rows.to_dict("records"):
        term = str(r["search_term"])
        ag, camp = str(r.get("ad_group_id") or ""), str(r.get("campaign_id") or "")
        ev = _evidence(r, start, end)
        said = f"{ev['clicks']} clicks, {ev['orders']} orders and {ev['spend']:,.2f} {currency} spent from {start} to {end}"
        if action in _NEGATIVE_MATCH:
            key = (ag, term.lower(), action)
            if key in seen:
                continue
            seen.add(key)
            match = _NEGATIVE_MATCH[action]
            kind = "exact" if match == "NEGATIVE_EXACT" else "phrase"
            row = {
                "type": "negative",
                "entity_kind": "negative_keyword",
                "entity_id": None,
                "keyword_text": term,
                "match_type": match,
                "current_value": None,
                "proposed_value": None,
                "rule": f"{SOURCE}:{action}",
                "reason": f'Chosen on the Search terms page: negate "{term}" ({kind}) in this ad group; {said}.',
                "expected_spend_change": -ev["spend"] * 7.0 / max(_days(start, end), 1),
                "expected_sales_change": -ev["sales"] * 7.0 / max(_days(start, end), 1),
                "dest_ad_group_id": None,
            }
        else:
            if ag not in dest:
                skipped.append(
                    f'"{term}": no live manual ad group advertises the same products as its ad group, '
                    "so there is nowhere to add the exact keyword."
                )
                continue
            d_camp, d_ag = dest[ag]
            if (d_ag, term.strip().lower()) in exact_in:
                skipped.append(f'"{term}" is already an exact keyword in {names.get(d_ag, (None, d_ag))[1]}.')
                continue
            if (d_ag, term.lower()) in seen:
                continue
            seen.add((d_ag, term.lower()))
            value = _round_money(float(bid)) if bid is not None else default_bid(r)
            dn = names.get(d_ag, (None, None))
            row = {
                "type": "harvest",
                "entity_kind": "keyword",
                "entity_id": None,
                "keyword_text": term,
                "match_type": "EXACT",
                "dest_campaign_id": d_camp,
                "dest_campaign_name": dn[0],
                "dest_ad_group_id": d_ag,
                "dest_ad_group_name": dn[1],
                "current_value": None,
                "proposed_value": value,
                "rule": f"{SOURCE}:harvest_exact+isolate",
                "reason": (
                    f'Chosen on the Search terms page: add "{term}" as an exact keyword in {dn[1]} at '
                    f"{value:,.2f} {currency}, and negate it exactly in its source ad group so the two do not "
                    f"compete; {said}."
                ),
                "expected_spend_change": 0.0,
                "expected_sales_change": 0.0,
            }
        row.update(
            {
                "profile_id": str(profile_id),
                "campaign_id": camp,
                "campaign_name": r.get("campaign_name"),
                "ad_group_id": ag,
                "ad_group_name": r.get("ad_group_name"),
                "search_term": term,
                "confidence": 1.0,  # the marketer chose it: the Suggestions page's confidence filter keeps it
                **ev,
            }
        )
        row["suggestion_key"] = _key(
            profile_id, row["type"], None, ag, term, row.get("dest_ad_group_id")
        )  # the optimizer's key for the same change, so the two never both stand
        out.append(row)
    df = pd.DataFrame(out, columns=SUGGESTION_COLUMNS) if out else pd.DataFrame(columns=SUGGESTION_COLUMNS)
    return df, skipped


def _days(start: str, end: str) -> int:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).days + 1


def add(db: Database, account_id: str, df: pd.DataFrame, status: str = "approved") -> list[str]:
    """Store these suggestions with `status` (approved: ready for the apply confirmation; pending: for review on
    the Suggestions page) and return their ids. A pending suggestion with the same key (the optimizer's) is
    superseded; an approved one with the same key is reused, never doubled."""
    if status not in ("approved", "pending"):
        raise ValueError("status is approved or pending")
    ensure_schema(db)
    cols = [c for c in SUGGESTION_COLUMNS if c != "profile_id"]
    names = (
        ["suggestion_id", "account_id", "profile_id", "run_id", "created_at", "status", "decided_at"]
        + [c for c in cols if c != "suggestion_key"]
        + ["suggestion_key"]
    )
    sql = f"INSERT INTO suggestions ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    now = datetime.now(UTC).isoformat(timespec="seconds")
    run_id = f"{SOURCE}-{uuid.uuid4().hex[:8]}"
    ids = []
    with write(db):
        for r in df.to_dict("records"):
            key, pid = r["suggestion_key"], str(r["profile_id"])
            same = db.conn.execute(
                "SELECT suggestion_id FROM suggestions WHERE account_id = ? AND profile_id = ? AND suggestion_key = ? "
                "AND status = ?",
                [account_id, pid, key, status],
            ).fetchone()
            if same is not None and status == "approved":
                ids.append(str(same[0]))
                continue
            db.conn.execute(
                "UPDATE suggestions SET status = 'superseded' WHERE account_id = ? AND profile_id = ? "
                "AND suggestion_key = ? AND status = 'pending'",
                [account_id, pid, key],
            )
            sid = uuid.uuid4().hex[:16]
            values = {
                "suggestion_id": sid,
                "account_id": account_id,
                "profile_id": pid,
                "run_id": run_id,
                "created_at": now,
                "status": status,
                "decided_at": now if status == "approved" else None,
            }
            for c in cols:
                v = r.get(c)
                values[c] = (
                    None
                    if v is None or (isinstance(v, float) and pd.isna(v))
                    else (v.item() if hasattr(v, "item") else v)
                )
            db.conn.execute(sql, [values[n] for n in names])
            ids.append(sid)
    return ids
