"""Sponsored Products v3 create/update/delete endpoints and the 207 multi-status envelope."""

from __future__ import annotations

from sandbox.ads_schema import (
    CREATABLE,
    KINDS,
    MAX_BATCH,
    UPDATABLE,
    _strip,
    content_type_ok,
    invalid_argument,
    negotiate,
)
from sandbox.ads_validate import _e, _Validator
from sandbox.protocol import Request, Response, SandboxState, ads_auth, read_json_body


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
