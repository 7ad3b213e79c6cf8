"""Sponsored Products v3 create/update validation: Amazon's per-item error reasons, locations and limits."""

from __future__ import annotations

import datetime as dt
import json
import re

from sandbox.ads_schema import (
    BID_LIMITS,
    BUDGET_LIMITS,
    DEFAULT_BID_LIMITS,
    DEFAULT_BUDGET_LIMITS,
    KEYWORD_MAX_CHARS,
    KEYWORD_MAX_WORDS,
    KINDS,
    MATCH_TYPES,
    NAME_MAX_CHARS,
    NEGATIVE_MATCH_TYPES,
    PLACEMENT_PERCENT,
    PLACEMENTS,
    PREDICATES,
    REQUIRED,
    STRATEGIES,
    TARGETING_TYPES,
    WRITE_STATES,
)
from sandbox.protocol import SandboxState


# --------------------------------------------------------------------------------------------- mutations
def _e(kind: str, reason: str, message: str, location: str, trigger=None, **extra) -> dict:
    cause = {"location": location}
    if trigger is not None:
        cause["trigger"] = str(trigger)
    return {"errorType": kind, "errorValue": {kind: {"reason": reason, "message": message, "cause": cause, **extra}}}


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class _Validator:
    def __init__(self, state: SandboxState, ctx, kind: str):
        self.kind = kind
        self.meta = KINDS[kind]
        self.country = ctx.profile["countryCode"]
        self.pid = ctx.profile_id
        self.today = state.world.today
        w = state.world
        self.campaigns = {c["campaignId"]: c for c in w.entities(self.pid, "campaigns")}
        self.ad_groups = {a["adGroupId"]: a for a in w.entities(self.pid, "adGroups")} if kind != "campaigns" else {}
        self.existing = {str(e[self.meta["id"]]): e for e in w.entities(self.pid, kind)}
        self.mkt = (
            self.country
            if self.country
            in (
                "AE",
                "AU",
                "BR",
                "CA",
                "DE",
                "EG",
                "ES",
                "FR",
                "IN",
                "IT",
                "JP",
                "MX",
                "NL",
                "PL",
                "SA",
                "SE",
                "SG",
                "TR",
                "UK",
                "US",
            )
            else None
        )

    def loc(self, i: int, field: str) -> str:
        return f"$.{self.meta['env']}[{i}].{field}"

    def enum(self, errs, i, field, value, allowed):
        if value not in allowed:
            errs.append(
                _e(
                    "rangeError",
                    "INVALID_ENUM_VALUE",
                    f"{field} must be one of {', '.join(allowed)}",
                    self.loc(i, field),
                    value,
                    allowed=list(allowed),
                )
            )

    def bid(self, errs, i, field, value):
        lo, hi = BID_LIMITS.get(self.country, DEFAULT_BID_LIMITS)
        if not _num(value):
            errs.append(
                _e("malformedValueError", "PATTERN_NOT_MATCHED", f"{field} must be a number", self.loc(i, field), value)
            )
        elif not lo <= value <= hi:
            extra = {"lowerLimit": str(lo), "upperLimit": str(hi)}
            if self.mkt:
                extra["marketplace"] = self.mkt
            errs.append(
                _e(
                    "biddingError",
                    "BID_OUT_OF_MARKET_PLACE_RANGE",
                    f"Bid {value} is outside the marketplace range {lo} - {hi}",
                    self.loc(i, field),
                    value,
                    **extra,
                )
            )

    def text(self, errs, i, field, value, max_chars, max_words=None):
        if not isinstance(value, str):
            errs.append(
                _e("malformedValueError", "PATTERN_NOT_MATCHED", f"{field} must be a string", self.loc(i, field), value)
            )
        elif not value.strip():
            errs.append(_e("malformedValueError", "BLANK", f"{field} must not be blank", self.loc(i, field), value))
        elif value != value.strip():
            errs.append(
                _e(
                    "malformedValueError",
                    "LEADING_OR_TRAILING_WHITESPACE",
                    f"{field} has leading or trailing whitespace",
                    self.loc(i, field),
                    value,
                )
            )
        elif len(value) > max_chars or (max_words and len(value.split()) > max_words):
            errs.append(
                _e(
                    "malformedValueError",
                    "TOO_LONG",
                    f"{field} is too long (max {max_chars} characters"
                    + (f", {max_words} words)" if max_words else ")"),
                    self.loc(i, field),
                    value,
                )
            )
        elif any(c in value for c in "<>^") or any(ord(c) < 32 for c in value):
            errs.append(
                _e(
                    "malformedValueError",
                    "FORBIDDEN_CHARS",
                    f"{field} contains forbidden characters",
                    self.loc(i, field),
                    value,
                )
            )

    def date(self, errs, i, field, value, not_past=False):
        try:
            d = (
                dt.date.fromisoformat(value)
                if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", value)
                else None
            )
        except ValueError:
            d = None
        if d is None:
            errs.append(
                _e(
                    "malformedValueError",
                    "PATTERN_NOT_MATCHED",
                    f"{field} must be YYYY-MM-DD",
                    self.loc(i, field),
                    value,
                )
            )
            return None
        if not_past and d < self.today:
            errs.append(_e("dateError", "INVALID_DATE", f"{field} cannot be in the past", self.loc(i, field), value))
        return d

    def budget(self, errs, i, value):
        if not isinstance(value, dict):
            errs.append(
                _e(
                    "malformedValueError",
                    "PATTERN_NOT_MATCHED",
                    "budget must be an object",
                    self.loc(i, "budget"),
                    value,
                )
            )
            return
        if value.get("budget") is None:
            errs.append(
                _e("missingValueError", "MISSING_VALUE", "budget.budget is required", self.loc(i, "budget.budget"))
            )
        elif not _num(value["budget"]):
            errs.append(
                _e(
                    "malformedValueError",
                    "PATTERN_NOT_MATCHED",
                    "budget must be a number",
                    self.loc(i, "budget.budget"),
                    value["budget"],
                )
            )
        else:
            lo, hi = BUDGET_LIMITS.get(self.country, DEFAULT_BUDGET_LIMITS)
            b = value["budget"]
            if not lo <= b <= hi:
                errs.append(
                    _e(
                        "rangeError",
                        "TOO_LOW" if b < lo else "TOO_HIGH",
                        f"budget must be between {lo} and {hi}",
                        self.loc(i, "budget.budget"),
                        b,
                        lowerLimit=str(lo),
                        upperLimit=str(hi),
                    )
                )
        if value.get("budgetType") is None:
            errs.append(
                _e(
                    "missingValueError",
                    "MISSING_VALUE",
                    "budget.budgetType is required",
                    self.loc(i, "budget.budgetType"),
                )
            )
        else:
            self.enum(errs, i, "budget.budgetType", value["budgetType"], ["DAILY"])

    def dynamic_bidding(self, errs, i, value, create: bool):
        if not isinstance(value, dict):
            errs.append(
                _e(
                    "malformedValueError",
                    "PATTERN_NOT_MATCHED",
                    "dynamicBidding must be an object",
                    self.loc(i, "dynamicBidding"),
                    value,
                )
            )
            return
        if value.get("strategy") is None and create:
            errs.append(
                _e(
                    "missingValueError",
                    "MISSING_VALUE",
                    "dynamicBidding.strategy is required",
                    self.loc(i, "dynamicBidding.strategy"),
                )
            )
        elif value.get("strategy") is not None:
            self.enum(errs, i, "dynamicBidding.strategy", value["strategy"], STRATEGIES)
        pb = value.get("placementBidding", [])
        if not isinstance(pb, list):
            errs.append(
                _e(
                    "malformedValueError",
                    "PATTERN_NOT_MATCHED",
                    "placementBidding must be a list",
                    self.loc(i, "dynamicBidding.placementBidding"),
                    pb,
                )
            )
            return
        for j, p in enumerate(pb):
            f = f"dynamicBidding.placementBidding[{j}]"
            if not isinstance(p, dict):
                errs.append(_e("malformedValueError", "PATTERN_NOT_MATCHED", "must be an object", self.loc(i, f), p))
                continue
            self.enum(errs, i, f + ".placement", p.get("placement"), PLACEMENTS)
            pct = p.get("percentage")
            lo, hi = PLACEMENT_PERCENT
            if not isinstance(pct, int) or isinstance(pct, bool):
                errs.append(
                    _e(
                        "malformedValueError",
                        "PATTERN_NOT_MATCHED",
                        "percentage must be an integer",
                        self.loc(i, f + ".percentage"),
                        pct,
                    )
                )
            elif not lo <= pct <= hi:
                errs.append(
                    _e(
                        "rangeError",
                        "TOO_LOW" if pct < lo else "TOO_HIGH",
                        f"percentage must be between {lo} and {hi}",
                        self.loc(i, f + ".percentage"),
                        pct,
                        lowerLimit=str(lo),
                        upperLimit=str(hi),
                    )
                )

    def parents(self, errs, i, item):
        cid, agid = str(item.get("campaignId")), item.get("adGroupId")
        camp = self.campaigns.get(cid)
        if camp is None:
            errs.append(
                _e(
                    "entityNotFoundError",
                    "ENTITY_NOT_FOUND",
                    f"Campaign {cid} not found",
                    self.loc(i, "campaignId"),
                    cid,
                    entityId=cid,
                    entityType="CAMPAIGN",
                )
            )
            return
        if camp.get("state") == "ARCHIVED":
            errs.append(
                _e(
                    "entityStateError",
                    "PARENT_ENTITY_FORBIDS_CREATION",
                    f"Campaign {cid} is archived",
                    self.loc(i, "campaignId"),
                    cid,
                    entityType="CAMPAIGN",
                )
            )
        if self.kind == "adGroups":
            return
        if self.kind == "keywords" and camp.get("targetingType") == "AUTO":
            # Amazon chooses an auto campaign's targeting itself (its four auto clauses): keywords go into manual
            # campaigns only; negative keywords are allowed in both
            errs.append(
                _e(
                    "targetingClauseSetupError",
                    "TARGETING_TYPE_NOT_ALLOWED_FOR_AUTO_TARGETING_CAMPAIGN",
                    f"Campaign {cid} uses automatic targeting: keywords can be added to manual campaigns only",
                    self.loc(i, "campaignId"),
                    cid,
                )
            )
            return
        ag = self.ad_groups.get(str(agid))
        if ag is None or str(ag.get("campaignId")) != cid:
            errs.append(
                _e(
                    "entityNotFoundError",
                    "ENTITY_NOT_FOUND",
                    f"Ad group {agid} not found in campaign {cid}",
                    self.loc(i, "adGroupId"),
                    agid,
                    entityId=str(agid),
                    entityType="AD_GROUP",
                )
            )
        elif ag.get("state") == "ARCHIVED":
            errs.append(
                _e(
                    "entityStateError",
                    "PARENT_ENTITY_FORBIDS_CREATION",
                    f"Ad group {agid} is archived",
                    self.loc(i, "adGroupId"),
                    agid,
                    entityType="AD_GROUP",
                )
            )

    def fields(self, errs, i, item, create: bool):
        k = self.kind
        if "state" in item:
            self.enum(errs, i, "state", item["state"], WRITE_STATES)
        if k == "campaigns":
            if "name" in item:
                self.text(errs, i, "name", item["name"], NAME_MAX_CHARS)
            if create:
                self.enum(errs, i, "targetingType", item.get("targetingType"), TARGETING_TYPES)
            if "budget" in item:
                self.budget(errs, i, item["budget"])
            start = (
                self.date(errs, i, "startDate", item["startDate"], not_past=create)
                if item.get("startDate") is not None
                else None
            )
            if item.get("endDate") is not None:
                end = self.date(errs, i, "endDate", item["endDate"])
                if start and end and end < start:
                    errs.append(
                        _e(
                            "dateError",
                            "INVALID_DATE",
                            "endDate must be on or after startDate",
                            self.loc(i, "endDate"),
                            item["endDate"],
                        )
                    )
            if item.get("dynamicBidding") is not None:
                self.dynamic_bidding(errs, i, item["dynamicBidding"], create)
        elif k == "adGroups":
            if "name" in item:
                self.text(errs, i, "name", item["name"], 255)
            if "defaultBid" in item:
                self.bid(errs, i, "defaultBid", item["defaultBid"])
        elif k in ("keywords", "negativeKeywords"):
            if create:
                self.text(errs, i, "keywordText", item.get("keywordText"), KEYWORD_MAX_CHARS, KEYWORD_MAX_WORDS)
                self.enum(
                    errs,
                    i,
                    "matchType",
                    item.get("matchType"),
                    MATCH_TYPES if k == "keywords" else NEGATIVE_MATCH_TYPES,
                )
            if item.get("bid") is not None and k == "keywords":
                self.bid(errs, i, "bid", item["bid"])
        elif k == "targets":
            if item.get("bid") is not None:
                self.bid(errs, i, "bid", item["bid"])
            if create or "expressionType" in item:
                self.enum(errs, i, "expressionType", item.get("expressionType"), ["MANUAL"])
            if create or "expression" in item:
                ex = item.get("expression")
                if not isinstance(ex, list) or not ex:
                    errs.append(
                        _e(
                            "malformedValueError",
                            "PATTERN_NOT_MATCHED",
                            "expression must be a non-empty list",
                            self.loc(i, "expression"),
                            ex,
                        )
                    )
                else:
                    for j, p in enumerate(ex):
                        t = p.get("type") if isinstance(p, dict) else None
                        self.enum(errs, i, f"expression[{j}].type", t, PREDICATES)
        elif k == "productAds" and create:
            if not item.get("sku") and not item.get("asin"):
                errs.append(
                    _e(
                        "missingValueError",
                        "MISSING_VALUE",
                        "sku (sellers) or asin (vendors) is required",
                        self.loc(i, "sku"),
                    )
                )

    def create(self, i: int, item, seen: set) -> list[dict]:
        errs: list[dict] = []
        if not isinstance(item, dict):
            return [_e("malformedValueError", "PATTERN_NOT_MATCHED", "item must be an object", self.loc(i, ""))]
        for f in REQUIRED[self.kind]:
            if item.get(f) is None:
                errs.append(_e("missingValueError", "MISSING_VALUE", f"{f} is required", self.loc(i, f)))
        if errs:
            return errs
        self.fields(errs, i, item, create=True)
        if self.kind != "campaigns":
            self.parents(errs, i, item)
        if errs:
            return errs
        key = self.dup_key(item)
        existing = {self.dup_key(e) for e in self.existing.values() if e.get("state") != "ARCHIVED"}
        if key is not None and (key in existing or key in seen):
            reason = "NAME_NOT_UNIQUE" if self.kind in ("campaigns", "adGroups") else "DUPLICATE_VALUE"
            errs.append(
                _e(
                    "duplicateValueError",
                    reason,
                    f"An identical {self.meta['entity']} already exists",
                    self.loc(i, "name" if reason == "NAME_NOT_UNIQUE" else "keywordText"),
                    None,
                )
            )
        seen.add(key)
        return errs

    def dup_key(self, e):
        k = self.kind
        if k == "campaigns":
            return ("c", (e.get("name") or "").lower())
        if k == "adGroups":
            return ("a", str(e.get("campaignId")), (e.get("name") or "").lower())
        if k in ("keywords", "negativeKeywords"):
            return ("k", str(e.get("adGroupId")), (e.get("keywordText") or "").lower(), e.get("matchType"))
        if k == "targets":
            return ("t", str(e.get("adGroupId")), json.dumps(e.get("expression"), sort_keys=True))
        return ("p", str(e.get("adGroupId")), e.get("sku"), e.get("asin"))

    def update(self, i: int, item, seen: set) -> list[dict]:
        idk = self.meta["id"]
        if not isinstance(item, dict):
            return [_e("malformedValueError", "PATTERN_NOT_MATCHED", "item must be an object", self.loc(i, ""))]
        eid = item.get(idk)
        if eid is None:
            return [_e("missingValueError", "MISSING_VALUE", f"{idk} is required", self.loc(i, idk))]
        eid = str(eid)
        cur = self.existing.get(eid)
        if cur is None:
            return [
                _e(
                    "entityNotFoundError",
                    "ENTITY_NOT_FOUND",
                    f"{self.meta['etype']} {eid} not found",
                    self.loc(i, idk),
                    eid,
                    entityId=eid,
                    entityType=self.meta["etype"],
                )
            ]
        if eid in seen:
            return [
                _e(
                    "duplicateValueError",
                    "DUPLICATE_VALUE",
                    f"{idk} {eid} appears more than once",
                    self.loc(i, idk),
                    eid,
                )
            ]
        seen.add(eid)
        if cur.get("state") == "ARCHIVED":
            return [
                _e(
                    "entityStateError",
                    "ARCHIVED_ENTITY_CANNOT_BE_MODIFIED",
                    f"{self.meta['etype']} {eid} is archived and cannot be modified",
                    self.loc(i, idk),
                    eid,
                    entityType=self.meta["etype"],
                )
            ]
        errs: list[dict] = []
        self.fields(errs, i, item, create=False)
        if self.kind == "campaigns" and "name" in item and not errs:
            others = {
                (c.get("name") or "").lower()
                for c in self.existing.values()
                if c.get("state") != "ARCHIVED" and str(c["campaignId"]) != eid
            }
            if item["name"].lower() in others:
                errs.append(
                    _e(
                        "duplicateValueError",
                        "NAME_NOT_UNIQUE",
                        "campaign name already in use",
                        self.loc(i, "name"),
                        item["name"],
                    )
                )
        return errs
