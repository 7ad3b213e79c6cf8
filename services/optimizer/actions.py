"""What a suggestion becomes on Amazon: the Ads API calls (actions) for each suggestion type and sending them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlite_utils import Database

from services.errors import DashboardError

# ------------------------------------------------------------------------------------------
# apply and undo


@dataclass
class Action:
    suggestion_id: str | None
    change_type: str  # bid | budget | placement | negative | keyword
    method: str  # update | create | archive
    kind: str  # Ads API kind: keywords, targets, campaigns, negativeKeywords
    payload: Any  # dict for update/create, id for archive
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
    journal_id: str | None = None  # the apply journal entry (and change_history id) of this change


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
    for col, name in (
        ("placement_product_page_pct", "PLACEMENT_PRODUCT_PAGE"),
        ("placement_rest_of_search_pct", "PLACEMENT_REST_OF_SEARCH"),
    ):
        if c.get(col) is not None:
            pb.append({"placement": name, "percentage": int(round(c[col]))})
    strategy = c.get("bidding_strategy") or "LEGACY_FOR_SALES"
    return {"campaignId": campaign_id, "dynamicBidding": {"strategy": strategy, "placementBidding": pb}}


def negative_match(s: dict) -> str:
    """A negative suggestion's match type: exact unless it says phrase (the Search terms page offers both)."""
    return "NEGATIVE_PHRASE" if str(s.get("match_type") or "").upper() == "NEGATIVE_PHRASE" else "NEGATIVE_EXACT"


def _actions_for(db: Database, s: dict) -> list[Action]:
    t, sid, pid = s["type"], s["suggestion_id"], s["profile_id"]
    base = dict(suggestion_id=sid, campaign_id=s["campaign_id"], ad_group_id=s["ad_group_id"])
    if t == "bid":
        kind, key = ("keywords", "keywordId") if s["entity_kind"] == "keyword" else ("targets", "targetId")
        return [
            Action(
                change_type="bid",
                method="update",
                kind=kind,
                payload={key: s["entity_id"], "bid": float(s["proposed_value"])},
                entity_kind=s["entity_kind"],
                entity_id=s["entity_id"],
                entity_name=s["keyword_text"],
                field="bid",
                old_value=s["current_value"],
                new_value=s["proposed_value"],
                **base,
            )
        ]
    if t == "budget":
        return [
            Action(
                change_type="budget",
                method="update",
                kind="campaigns",
                payload={
                    "campaignId": s["campaign_id"],
                    "budget": {"budget": float(s["proposed_value"]), "budgetType": "DAILY"},
                },
                entity_kind="campaign",
                entity_id=s["campaign_id"],
                entity_name=s["campaign_name"],
                field="budget",
                old_value=s["current_value"],
                new_value=s["proposed_value"],
                **base,
            )
        ]
    if t == "placement":
        return [
            Action(
                change_type="placement",
                method="update",
                kind="campaigns",
                payload=_placement_payload(db, pid, s["campaign_id"], float(s["proposed_value"])),
                entity_kind="campaign",
                entity_id=s["campaign_id"],
                entity_name=s["campaign_name"],
                field="placement_top_pct",
                old_value=s["current_value"],
                new_value=s["proposed_value"],
                **base,
            )
        ]
    if t == "negative":
        return [
            Action(
                change_type="negative",
                method="create",
                kind="negativeKeywords",
                payload={
                    "campaignId": s["campaign_id"],
                    "adGroupId": s["ad_group_id"],
                    "keywordText": s["search_term"],
                    "matchType": negative_match(s),
                    "state": "ENABLED",
                },
                entity_kind="negative_keyword",
                entity_id=None,
                entity_name=s["search_term"],
                field="state",
                old_value=None,
                new_value="ENABLED",
                **base,
            )
        ]
    if t == "harvest":
        out = [
            Action(
                suggestion_id=sid,
                change_type="keyword",
                method="create",
                kind="keywords",
                payload={
                    "campaignId": s["dest_campaign_id"],
                    "adGroupId": s["dest_ad_group_id"],
                    "keywordText": s["search_term"],
                    "matchType": "EXACT",
                    "state": "ENABLED",
                    "bid": float(s["proposed_value"]),
                },
                entity_kind="keyword",
                entity_id=None,
                entity_name=s["search_term"],
                campaign_id=s["dest_campaign_id"],
                ad_group_id=s["dest_ad_group_id"],
                field="bid",
                old_value=None,
                new_value=s["proposed_value"],
            )
        ]
        if str(s.get("rule") or "").endswith("+isolate"):
            out.append(
                Action(
                    change_type="negative",
                    method="create",
                    kind="negativeKeywords",
                    payload={
                        "campaignId": s["campaign_id"],
                        "adGroupId": s["ad_group_id"],
                        "keywordText": s["search_term"],
                        "matchType": "NEGATIVE_EXACT",
                        "state": "ENABLED",
                    },
                    entity_kind="negative_keyword",
                    entity_id=None,
                    entity_name=s["search_term"],
                    field="state",
                    old_value=None,
                    new_value="ENABLED",
                    **base,
                )
            )
        return out
    raise ValueError(f"Unknown suggestion type {t!r}")


def _send(client, profile_id: str, actions: list[Action], between_calls: Callable[[], None] | None = None) -> None:
    """Group by (method, kind), one call each (the client chunks by 1000); fill each action's result.

    An item whose fate Amazon did not tell us (the call raised, or a create's answer was lost) gets
    `result["unknown"] = True`: it stays `sending` in the journal until a lookup on Amazon settles it.
    `between_calls` runs after each answered call except the last (the chaos test's kill point).
    """
    # Amazon refuses a request that names one entity twice (DUPLICATE_VALUE): a campaign whose budget and
    # placement both change goes in two calls, the second in a later round of the same (method, kind).
    groups: dict[tuple[str, str, int], list[Action]] = {}
    seen: dict[tuple[str, str], dict[str, int]] = {}
    for a in actions:
        rounds = seen.setdefault((a.method, a.kind), {})
        n = rounds.get(str(a.entity_id), 0) if a.entity_id is not None and a.method != "create" else 0
        if a.entity_id is not None and a.method != "create":
            rounds[str(a.entity_id)] = n + 1
        groups.setdefault((a.method, a.kind, n), []).append(a)
    for n, ((method, kind, _round), group) in enumerate(groups.items()):
        try:
            if method == "archive":
                status = client.archive(profile_id, kind, [a.payload for a in group])
            else:
                status = getattr(client, method)(profile_id, kind, [a.payload for a in group])
        except DashboardError as exc:
            # A later chunk may fail after an earlier one landed: only a lookup on Amazon tells what happened.
            message = getattr(exc, "user_message", None) or str(exc)
            for a in group:
                a.result = {"ok": False, "unknown": True, "entity_id": None, "message": message, "errors": []}
        else:
            for a, item in zip(group, status.items):
                a.result = {
                    "ok": bool(item.ok),
                    "entity_id": item.entity_id,
                    "message": item.reason or "",
                    "errors": item.errors,
                    "entity": item.entity,  # Amazon's copy after the change (Prefer: return=representation)
                }
                if getattr(item, "outcome_unknown", False):
                    a.result["unknown"] = True
                if item.ok and a.entity_id is None:
                    a.entity_id = item.entity_id
        if between_calls is not None and n < len(groups) - 1:
            between_calls()


def _fmt_value(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    return str(v)


def client_for_profile(db: Database, vault, account_id: str, profile_id: str):
    """The AdsClient of the region the profile lives in (for apply/undo from the page)."""
    from services.accounts import registry as accounts

    row = db.conn.execute("SELECT region FROM profiles WHERE profile_id = ?", [str(profile_id)]).fetchone()
    region = row[0] if row and row[0] else accounts.get_account(db, account_id)["region"]
    return accounts.clients_for(db, vault, account_id).ads(region)
