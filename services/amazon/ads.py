"""Amazon Ads API client: profiles, Sponsored Products v3 entities and Reporting v3.

One instance per (account, region host). It hides the protocol's sharp edges
so callers deal in plain lists: vendor media types per entity kind, nextToken
paging, the 207 multi-status of mutations (mapped back to the caller's own
indexes across 1000-item chunks), the 425 "duplicate report" answer, and
presigned download URLs that expire.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from services.amazon import bid_recommendations as bid_reco
from services.amazon.documents import (
    STREAM_BLOCK,
    iter_json_rows,
)
from services.amazon.http import RetryPolicy, Stats, send, stats_for
from services.amazon.lwa import USER_AGENT, TokenSource
from services.errors import (
    AmazonOutcomeUnknown,
    AmazonRequestError,
    AmazonUnavailable,
    DownloadExpired,
    ReportFailed,
    ReportTimedOut,
    sanitize,
)

logger = logging.getLogger(__name__)

# kind -> (media type, envelope, success id key, delete filter name, representation key)
KINDS: dict[str, tuple[str, str, str, str, str]] = {
    "campaigns": ("spCampaign", "campaigns", "campaignId", "campaignIdFilter", "campaign"),
    "adGroups": ("spAdGroup", "adGroups", "adGroupId", "adGroupIdFilter", "adGroup"),
    "keywords": ("spKeyword", "keywords", "keywordId", "keywordIdFilter", "keyword"),
    "targets": ("spTargetingClause", "targetingClauses", "targetId", "targetIdFilter", "targetingClause"),
    "negativeKeywords": (
        "spNegativeKeyword",
        "negativeKeywords",
        "negativeKeywordId",
        "negativeKeywordIdFilter",
        "negativeKeyword",
    ),
    "productAds": ("spProductAd", "productAds", "adId", "adIdFilter", "productAd"),
}
MAX_BATCH = 1000
REPORT_CREATE_TYPE = "application/vnd.createasyncreportrequest.v3+json"
REPORT_CREATE_ACCEPT = "application/vnd.createasyncreportresponse.v3+json"
REPORT_GET_ACCEPT = "application/vnd.getasyncreportresponse.v3+json"
_DUPLICATE_RE = re.compile(r"duplicate of\s*:?\s*([0-9A-Za-z][0-9A-Za-z-]{5,})", re.IGNORECASE)
# Report polling starts at `poll` and slows down to this: Amazon throttles eager pollers.
MAX_POLL_INTERVAL = 60.0
# How many fresh URLs to ask for before deciding the download itself is broken.
MAX_URL_REFRESHES = 3


@dataclass
class ItemResult:
    index: int
    ok: bool
    entity_id: str | None
    entity: dict | None
    errors: list[dict] = field(default_factory=list)
    reason: str = ""
    # True when the create was sent but Amazon's answer was lost: look the entity up before sending it again.
    outcome_unknown: bool = False


@dataclass
class MultiStatus:
    items: list[ItemResult]

    @property
    def succeeded(self) -> list[ItemResult]:
        return [item for item in self.items if item.ok]

    @property
    def failed(self) -> list[ItemResult]:
        return [item for item in self.items if not item.ok]

    @property
    def succeeded_ids(self) -> list[str]:
        return [item.entity_id for item in self.items if item.ok and item.entity_id is not None]

    @property
    def failed_indexes(self) -> list[int]:
        return [item.index for item in self.items if not item.ok]

    @property
    def all_ok(self) -> bool:
        return all(item.ok for item in self.items)


def _kind(kind: str) -> tuple[str, str, str, str, str]:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"Unknown Sponsored Products kind {kind!r}; expected one of {', '.join(KINDS)}") from None


def _humanize(reason: str) -> str:
    return reason.replace("_", " ").lower().capitalize() if reason else ""


def describe_errors(errors: Iterable[dict]) -> str:
    """Amazon nests each item error as errorValue[errorType]{reason, message}; flatten to one sentence."""
    parts: list[str] = []
    for error in errors or []:
        if not isinstance(error, dict):
            continue
        error_type = error.get("errorType") or ""
        value = error.get("errorValue") or {}
        detail = value.get(error_type) if isinstance(value, dict) else None
        if not isinstance(detail, dict) and isinstance(value, dict) and len(value) == 1:
            detail = next(iter(value.values()))
        if not isinstance(detail, dict):
            detail = {}
        message = detail.get("message") or error.get("message") or ""
        reason = detail.get("reason") or error.get("code") or error_type
        text = message or _humanize(str(reason))
        if message and reason and str(reason) not in message:
            text = f"{message} ({reason})"
        if text and text not in parts:
            parts.append(text)
    return sanitize("; ".join(parts)) or "Amazon rejected this item without giving a reason."


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_detail(response: requests.Response) -> tuple[str | None, str]:
    body = _json(response)
    if isinstance(body, dict):
        code = body.get("code") or body.get("error") or body.get("errorType")
        detail = body.get("detail") or body.get("details") or body.get("message") or body.get("error_description")
        if not detail and isinstance(body.get("errors"), list):
            detail = describe_errors(body["errors"])
        return (str(code) if code is not None else None), sanitize(detail)
    return None, ""


def _user_message(status: int, detail: str) -> str:
    hints = {
        400: "Amazon rejected the request as invalid",
        401: "Amazon refused access to this advertising profile",
        403: "Amazon says this account may not do that",
        404: "Amazon could not find what was asked for",
        415: "Amazon did not accept the request format",
        422: "Amazon rejected the request's parameters",
    }
    head = hints.get(status, f"Amazon rejected the request ({status})")
    return f"{head}: {detail}" if detail else f"{head}."


def iter_report_rows(
    session: requests.Session, url: str, *, policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep
) -> Iterator[dict]:
    """A report's rows as a stream: downloaded, inflated and parsed block by block (never whole in memory).

    A plain GET: the presigned URL is the credential, Amazon auth headers must not be sent. An expired link
    raises DownloadExpired before the first row; a body cut off half-way raises AmazonUnavailable. A function of
    its own (not only a client method) so that a worker process can read a report with just its link."""
    response = send(
        session,
        "GET",
        url,
        policy=policy,
        sleep=sleep,
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
        stream=True,
    )
    with contextlib.closing(response):
        if response.status_code in (400, 403, 404, 410):
            raise DownloadExpired(response.status_code)
        if response.status_code != 200:
            raise AmazonRequestError(
                response.status_code, user_message=f"Amazon refused the report download ({response.status_code})."
            )
        yield from iter_json_rows(response.iter_content(STREAM_BLOCK))


class AdsClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        tokens: TokenSource,
        session: requests.Session | None = None,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.tokens = tokens
        self.session = session or requests.Session()
        self.policy = policy or RetryPolicy()
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"AdsClient(base_url={self.base_url!r}, client_id={self.client_id!r})"

    @property
    def stats(self) -> Stats:
        return stats_for(self.session)

    # -- transport -------------------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        *,
        profile_id: str | int | None,
        content_type: str | None = None,
        accept: str = "application/json",
        body: Any = None,
        extra_headers: dict[str, str] | None = None,
        ok: Iterable[int] = (200, 207),
        idempotent: bool = True,
    ) -> requests.Response:
        """Auth headers on every call, one token refresh on 401, typed errors for everything else."""
        ok = tuple(ok)
        url = f"{self.base_url}{path}"
        for attempt in range(2):
            token = self.tokens.get()
            headers = {
                "Authorization": f"Bearer {token}",
                "Amazon-Advertising-API-ClientId": self.client_id,
                "Accept": accept,
                "User-Agent": USER_AGENT,
            }
            if profile_id is not None:
                headers["Amazon-Advertising-API-Scope"] = str(profile_id)
            if body is not None:
                headers["Content-Type"] = content_type or "application/json"
            if extra_headers:
                headers.update(extra_headers)
            data = json.dumps(body).encode("utf-8") if body is not None else None
            response = send(
                self.session,
                method,
                url,
                policy=self.policy,
                sleep=self._sleep,
                idempotent=idempotent,
                headers=headers,
                data=data,
            )
            if response.status_code == 401 and attempt == 0:
                logger.info("%s %s -> 401; refreshing the access token once", method, path)
                self.tokens.invalidate(token)
                continue
            if response.status_code in ok:
                return response
            code, detail = _error_detail(response)
            secrets = [token]
            detail = sanitize(detail, secrets)
            raise AmazonRequestError(
                response.status_code, code, detail, user_message=_user_message(response.status_code, detail)
            )
        raise AssertionError("unreachable")  # pragma: no cover

    # -- profiles --------------------------------------------------------------------------
    def list_profiles(self) -> list[dict]:
        response = self._request("GET", "/v2/profiles", profile_id=None)
        body = _json(response)
        if not isinstance(body, list):
            raise AmazonUnavailable("Amazon returned an unreadable list of advertising profiles. Try again later.")
        return body

    # -- Sponsored Products v3 entities ----------------------------------------------------
    def list_entities(
        self, profile_id: str, kind: str, filters: dict | None = None, page_size: int = 1000
    ) -> list[dict]:
        """Follows nextToken until Amazon leaves it out, repeating the same filters on every page."""
        media, envelope, *_ = _kind(kind)
        vendor = f"application/vnd.{media}.v3+json"
        base = dict(filters or {})
        base.pop("nextToken", None)
        if page_size:
            base.setdefault("maxResults", page_size)
        out: list[dict] = []
        next_token: str | None = None
        seen: set[str] = set()
        while True:
            body = dict(base)
            if next_token:
                body["nextToken"] = next_token
            response = self._request(
                "POST",
                f"/sp/{kind}/list",
                profile_id=profile_id,
                content_type=vendor,
                accept=vendor,
                body=body,
                ok=(200,),
            )
            payload = _json(response)
            if not isinstance(payload, dict):
                raise AmazonUnavailable(f"Amazon returned an unreadable page of {kind}. Try again later.")
            out.extend(payload.get(envelope) or [])
            next_token = payload.get("nextToken") or None
            if not next_token:
                return out
            if next_token in seen:
                raise AmazonUnavailable(f"Amazon kept returning the same page of {kind}. Try again later.")
            seen.add(next_token)

    def _mutate(
        self,
        method: str,
        path: str,
        profile_id: str,
        kind: str,
        chunks: list[tuple[int, dict, int]],
        prefer: bool,
        idempotent: bool = True,
    ) -> MultiStatus:
        """One call per chunk. A non-idempotent chunk whose answer is lost marks its items `outcome_unknown`
        (the other chunks keep their real answers) instead of being repeated blind."""
        media, envelope, id_key, _, repr_key = _kind(kind)
        vendor = f"application/vnd.{media}.v3+json"
        results: list[ItemResult] = []
        for offset, body, count in chunks:
            try:
                response = self._request(
                    method,
                    path,
                    profile_id=profile_id,
                    content_type=vendor,
                    accept=vendor,
                    body=body,
                    extra_headers={"Prefer": "return=representation"} if prefer else None,
                    ok=(200, 207),
                    idempotent=idempotent,
                )
            except AmazonOutcomeUnknown as exc:
                for local in range(count):
                    results.append(ItemResult(offset + local, False, None, None, [], exc.user_message, True))
                continue
            payload = _json(response)
            section = payload.get(envelope) if isinstance(payload, dict) else None
            if not isinstance(section, dict):
                section = {}
            by_index: dict[int, ItemResult] = {}
            for item in section.get("success") or []:
                local = int(item.get("index", -1))
                entity = item.get(repr_key) if isinstance(item.get(repr_key), dict) else None
                entity_id = item.get(id_key)
                if entity_id is None and entity is not None:
                    entity_id = entity.get(id_key) or entity.get("keywordId")
                by_index[local] = ItemResult(
                    offset + local, True, None if entity_id is None else str(entity_id), entity, [], ""
                )
            for item in section.get("error") or []:
                local = int(item.get("index", -1))
                errors = [e for e in item.get("errors") or [] if isinstance(e, dict)]
                by_index[local] = ItemResult(offset + local, False, None, None, errors, describe_errors(errors))
            for local in range(count):
                results.append(
                    by_index.get(local)
                    or ItemResult(offset + local, False, None, None, [], "Amazon returned no result for this item.")
                )
        return MultiStatus(results)

    def _chunks(self, envelope: str, items: list[dict]) -> list[tuple[int, dict, int]]:
        return [
            (start, {envelope: items[start : start + MAX_BATCH]}, len(items[start : start + MAX_BATCH]))
            for start in range(0, len(items), MAX_BATCH)
        ]

    def create(self, profile_id: str, kind: str, items: list[dict]) -> MultiStatus:
        """Never repeated blind after a 5xx or timeout (no idempotency key): such items come back outcome_unknown."""
        envelope = _kind(kind)[1]
        chunks = self._chunks(envelope, list(items))
        return self._mutate("POST", f"/sp/{kind}", profile_id, kind, chunks, True, idempotent=False)

    def update(self, profile_id: str, kind: str, items: list[dict]) -> MultiStatus:
        envelope = _kind(kind)[1]
        return self._mutate("PUT", f"/sp/{kind}", profile_id, kind, self._chunks(envelope, list(items)), True)

    def archive(self, profile_id: str, kind: str, ids: list[str]) -> MultiStatus:
        """Amazon 'deletes' by archiving, via POST /delete with an ID filter."""
        id_filter = _kind(kind)[3]
        ids = [str(i) for i in ids]
        chunks = [
            (start, {id_filter: {"include": ids[start : start + MAX_BATCH]}}, len(ids[start : start + MAX_BATCH]))
            for start in range(0, len(ids), MAX_BATCH)
        ]
        status = self._mutate("POST", f"/sp/{kind}/delete", profile_id, kind, chunks, False)
        for item in status.items:
            if item.ok and item.entity_id is None:
                item.entity_id = ids[item.index]
        return status

    # -- theme-based bid recommendations -----------------------------------------------------
    def bid_recommendations(
        self, profile_id: str, campaign_id: str, ad_group_id: str, expressions: list[dict]
    ) -> list[bid_reco.BidRecommendation]:
        """Amazon's suggested bid range (and impressions by bid) for an existing ad group's targeting expressions,
        asked 100 at a time; read-only, so safe to retry."""
        out: list[bid_reco.BidRecommendation] = []
        for start in range(0, len(expressions), bid_reco.MAX_EXPRESSIONS):
            chunk = expressions[start : start + bid_reco.MAX_EXPRESSIONS]
            response = self._request(
                "POST",
                "/sp/targets/bid/recommendations",
                profile_id=profile_id,
                content_type=bid_reco.MEDIA_V5,
                accept=bid_reco.MEDIA_V5,
                body=bid_reco.request_body(campaign_id, ad_group_id, chunk),
                ok=(200,),
            )
            out.extend(bid_reco.parse(_json(response)))
        return out

    # -- Reporting v3 ----------------------------------------------------------------------
    def create_report(self, profile_id: str, body: dict) -> str:
        """A 425 means an identical report is in flight: reuse its ID instead of failing."""
        try:
            response = self._request(
                "POST",
                "/reporting/reports",
                profile_id=profile_id,
                content_type=REPORT_CREATE_TYPE,
                accept=REPORT_CREATE_ACCEPT,
                body=body,
                ok=(200, 202),
            )
        except AmazonRequestError as exc:
            if exc.status == 425:
                match = _DUPLICATE_RE.search(exc.detail or "")
                if match:
                    logger.info("POST /reporting/reports -> 425; reusing the report already in progress")
                    return match.group(1)
            raise
        payload = _json(response)
        if not isinstance(payload, dict) or not payload.get("reportId"):
            raise AmazonUnavailable("Amazon accepted the report request but returned no report ID. Try again later.")
        return str(payload["reportId"])

    def get_report(self, profile_id: str, report_id: str) -> dict:
        response = self._request(
            "GET", f"/reporting/reports/{report_id}", profile_id=profile_id, accept=REPORT_GET_ACCEPT, ok=(200,)
        )
        payload = _json(response)
        if not isinstance(payload, dict):
            raise AmazonUnavailable("Amazon returned an unreadable report status. Try again later.")
        return payload

    def iter_report(self, url: str) -> Iterator[dict]:
        """The report's rows as a stream (`iter_report_rows` with this client's session and retry policy)."""
        return iter_report_rows(self.session, url, policy=self.policy, sleep=self._sleep)

    def download_report(self, url: str) -> list[dict]:
        """The whole report as a list (small reports and tests; the sync streams with `iter_report`)."""
        return list(self.iter_report(url))

    def wait_report(
        self,
        profile_id: str,
        report_id: str,
        *,
        poll: float = 5.0,
        timeout: float = 3 * 3600,
        sleep: Callable[[float], None] | None = None,
        download_gate: Any = None,
        transform: Callable[[list[dict]], Any] | None = None,
        consume: Callable[[Iterator[dict]], Any] | None = None,
        consume_url: Callable[[str], Any] | None = None,
    ) -> Any:
        """Reports take minutes to hours; the wait counts slept time so a fake sleep makes it instant in tests.

        `download_gate` (a context manager, e.g. a semaphore shared by a sync's threads) is held while the
        report is downloaded and handed on: to `consume` as a stream of rows (it writes them in bounded chunks),
        to `consume_url` as the download link itself (read elsewhere, e.g. in the sync's worker processes; a
        DownloadExpired it raises asks for a fresh link), or as a list through `transform`. Only a few downloads
        run at once while all of a sync's reports are still polled together.
        """
        sleep = sleep or self._sleep
        waited = 0.0
        interval = max(poll, 0.01)
        refreshes = 0
        while True:
            report = self.get_report(profile_id, report_id)
            status = str(report.get("status") or "").upper()
            if status == "COMPLETED" and report.get("url"):
                try:
                    with download_gate if download_gate is not None else contextlib.nullcontext():
                        if consume_url is not None:
                            return consume_url(str(report["url"]))
                        if consume is not None:
                            return consume(self.iter_report(str(report["url"])))
                        rows = self.download_report(str(report["url"]))
                        return transform(rows) if transform is not None else rows
                except DownloadExpired:
                    refreshes += 1
                    if refreshes > MAX_URL_REFRESHES:
                        raise
                    logger.info("report download link expired; asking Amazon for a fresh one")
                    continue
            if status == "FAILED":
                raise ReportFailed(report.get("failureReason") or None, report_id)
            if waited >= timeout:
                raise ReportTimedOut()
            step = min(interval, max(timeout - waited, 0.0))
            sleep(step)
            waited += step
            interval = min(interval * 1.5, max(poll, MAX_POLL_INTERVAL))
