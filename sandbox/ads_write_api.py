"""Sponsored Products v3 create / update / delete (reference section 4, SponsoredProducts.json): validation
in Amazon's words and the 207 multi-status envelope."""

from __future__ import annotations

import datetime as dt
import json
import re

from sandbox.ads_schema import (
    BID_LIMITS,
    BUDGET_LIMITS,
    CREATABLE,
    DEFAULT_BID_LIMITS,
    DEFAULT_BUDGET_LIMITS,
    KEYWORD_MAX_CHARS,
    KEYWORD_MAX_WORDS,
    KINDS,
    MATCH_TYPES,
    MAX_BATCH,
    NAME_MAX_CHARS,
    NEGATIVE_MATCH_TYPES,
    PLACEMENT_PERCENT,
    PLACEMENTS,
    PREDICATES,
    REQUIRED,
    STRATEGIES,
    TARGETING_TYPES,
    UPDATABLE,
    WRITE_STATES,
    _strip,
    content_type_ok,
    invalid_argument,
    negotiate,
)
from sandbox.protocol import Request, Response, SandboxState, ads_auth, read_json_body


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


def _envelope(req: Request, kind: str, body) -> list:
    meta = KINDS[kind]
    if not isinstance(body, dict) or not isinstance(body.get(meta["env"]), list):
        raise invalid_argument([f"Value null at '{meta['env']}' failed to satisfy constraint: Member must not be null"])
    items = body[meta["env"]]
    if len(items) > MAX_BATCH or not items:
        raise invalid_argument(
            [
                f"Value at '{meta['env']}' failed to satisfy constraint: Member must have length "
                f"between 1 and {MAX_BATCH}"
            ]
        )
    return items


def _result(req: Request, state: SandboxState, kind: str, ok: list[tuple[int, dict]], errors: list) -> Response:
    meta = KINDS[kind]
    represent = "return=representation" in (req.header("Prefer") or "").replace(" ", "").lower()
    success = []
    for i, ent in sorted(ok, key=lambda t: t[0]):
        item = {"index": i, meta["success_id"]: str(ent[meta["id"]])}
        if represent:
            item[meta["entity"]] = _strip(ent, False)
        success.append(item)
    errors.sort(key=lambda e: e["index"])
    return Response(207, {meta["env"]: {"success": success, "error": errors}}, content_type=negotiate(req, meta["vnd"]))


def mutate_entities(state: SandboxState, req: Request, m) -> Response:
    kind = m.group(1)
    meta = KINDS[kind]
    ctx = ads_auth(state, req, "ads")
    content_type_ok(req, meta["vnd"])
    negotiate(req, meta["vnd"])
    items = _envelope(req, kind, read_json_body(req, "ads", {}))
    create = req.method == "POST"
    ok, errors = [], []
    with state.lock:
        v = _Validator(state, ctx, kind)
        seen: set = set()
        valid = []
        for i, item in enumerate(items):
            errs = v.create(i, item, seen) if create else v.update(i, item, seen)
            if errs:
                errors.append({"index": i, "errors": errs})
            else:
                valid.append((i, item))
        if create and valid:
            clean = []
            for _, item in valid:
                c = {k: val for k, val in item.items() if k in CREATABLE[kind]}
                if kind == "campaigns":
                    c.setdefault("startDate", v.today.isoformat())
                    c.setdefault("dynamicBidding", {"strategy": "LEGACY_FOR_SALES", "placementBidding": []})
                for f in ("campaignId", "adGroupId"):
                    if f in c:
                        c[f] = str(c[f])
                clean.append(c)
            created = state.world.create_entities(ctx.profile_id, kind, clean)
            ok = [(i, ent) for (i, _), ent in zip(valid, created)]
        else:
            for i, item in valid:
                changes = {k: val for k, val in item.items() if k in UPDATABLE[kind]}
                ent = state.world.update_entity(ctx.profile_id, kind, str(item[meta["id"]]), changes)
                ok.append((i, ent))
    return _result(req, state, kind, ok, errors)


def archive_entities(state: SandboxState, req: Request, m) -> Response:
    kind = m.group(1)
    meta = KINDS[kind]
    ctx = ads_auth(state, req, "ads")
    content_type_ok(req, meta["vnd"])
    negotiate(req, meta["vnd"])
    body = read_json_body(req, "ads", {})
    f = body.get(meta["filter"]) if isinstance(body, dict) else None
    ids = f.get("include") if isinstance(f, dict) else None
    if not isinstance(ids, list):
        raise invalid_argument(
            [f"Value null at '{meta['filter']}' failed to satisfy constraint: Member must not be null"]
        )
    if not ids or len(ids) > MAX_BATCH:
        raise invalid_argument(
            [
                f"Value at '{meta['filter']}.include' failed to satisfy constraint: Member must "
                f"have length between 1 and {MAX_BATCH}"
            ]
        )
    ok, errors = [], []
    loc = f"$.{meta['filter']}.include"
    with state.lock:
        existing = {str(e[meta["id"]]): e for e in state.world.entities(ctx.profile_id, kind)}
        seen = set()
        for i, eid in enumerate(ids):
            eid = str(eid)
            cur = existing.get(eid)
            if cur is None:
                errors.append(
                    {
                        "index": i,
                        "errors": [
                            _e(
                                "entityNotFoundError",
                                "ENTITY_NOT_FOUND",
                                f"{meta['etype']} {eid} not found",
                                f"{loc}[{i}]",
                                eid,
                                entityId=eid,
                                entityType=meta["etype"],
                            )
                        ],
                    }
                )
            elif eid in seen:
                errors.append(
                    {
                        "index": i,
                        "errors": [
                            _e(
                                "duplicateValueError",
                                "DUPLICATE_VALUE",
                                f"{eid} appears more than once",
                                f"{loc}[{i}]",
                                eid,
                            )
                        ],
                    }
                )
            elif cur.get("state") == "ARCHIVED":
                errors.append(
                    {
                        "index": i,
                        "errors": [
                            _e(
                                "entityStateError",
                                "ARCHIVED_ENTITY_CANNOT_BE_MODIFIED",
                                f"{meta['etype']} {eid} is already archived",
                                f"{loc}[{i}]",
                                eid,
                                entityType=meta["etype"],
                            )
                        ],
                    }
                )
            else:
                seen.add(eid)
                ok.append((i, state.world.archive_entity(ctx.profile_id, kind, eid)))
    return _result(req, state, kind, ok, errors)
