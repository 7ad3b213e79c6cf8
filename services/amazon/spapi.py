"""Selling Partner API Reports client, used for coupon and deal performance and total sales and traffic.

Amazon offers no API to create promotions, only these two reports; they follow
the Reports 2021-06-30 flow (create, poll, fetch document, download). The
sharp edges handled here: a FATAL report still has a document that explains
why, document URLs expire in five minutes, report options must all be strings,
and documents must be decoded as UTF-8 (never the ISO-8859-1 fallback).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import requests

from services.amazon.documents import read_json_document
from services.amazon.http import RetryPolicy, Stats, send, stats_for
from services.amazon.lwa import USER_AGENT, TokenSource
from services.errors import (
    AmazonRequestError,
    AmazonUnavailable,
    DownloadExpired,
    ReportFailed,
    ReportTimedOut,
    sanitize,
)

logger = logging.getLogger(__name__)

REPORTS = "/reports/2021-06-30"
COUPON_REPORT = "GET_COUPON_PERFORMANCE_REPORT"
PROMOTION_REPORT = "GET_PROMOTION_PERFORMANCE_REPORT"
SALES_TRAFFIC_REPORT = "GET_SALES_AND_TRAFFIC_REPORT"
MAX_POLL_INTERVAL = 120.0
MAX_URL_REFRESHES = 3


def iso_utc(moment: datetime) -> str:
    """Amazon wants '2025-01-01T00:00:00Z'; naive datetimes are taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _describe(errors: Any) -> tuple[str | None, str]:
    if not isinstance(errors, list):
        return None, ""
    code = None
    parts = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        code = code or error.get("code")
        text = " ".join(str(error.get(k)) for k in ("message", "details") if error.get(k))
        if text:
            parts.append(text)
    return (str(code) if code else None), sanitize("; ".join(parts))


class MissingSalesRole(AmazonRequestError):
    """The authorization lacks the role that covers Seller Retail analytics reports: Amazon's 403 on create.
    Not a failure of the sync: everything else still works, only total sales (and so TACoS) stay empty."""

    def __init__(self) -> None:
        super().__init__(
            403,
            "Unauthorized",
            user_message="This authorization does not include sales and traffic; TACoS will stay empty.",
        )


class SpApiReports:
    def __init__(
        self,
        base_url: str,
        tokens: TokenSource,
        session: requests.Session | None = None,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.session = session or requests.Session()
        self.policy = policy or RetryPolicy()
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"SpApiReports(base_url={self.base_url!r})"

    @property
    def stats(self) -> Stats:
        return stats_for(self.session)

    def _request(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200,)) -> dict:
        """SP-API answers an expired or wrong token with 403 as often as 401: either gets one refresh."""
        url = f"{self.base_url}{path}"
        for attempt in range(2):
            token = self.tokens.get()
            headers = {
                "x-amz-access-token": token,
                "user-agent": USER_AGENT,
                "content-type": "application/json",
                "accept": "application/json",
            }
            data = json.dumps(body).encode("utf-8") if body is not None else None
            response = send(
                self.session, method, url, policy=self.policy, sleep=self._sleep, headers=headers, data=data
            )
            if response.status_code in (401, 403) and attempt == 0:
                logger.info("%s %s -> %d; refreshing the access token once", method, path, response.status_code)
                self.tokens.invalidate(token)
                continue
            payload = _json(response)
            if response.status_code in ok:
                if not isinstance(payload, dict):
                    raise AmazonUnavailable("Amazon returned an unreadable answer about the report. Try again later.")
                return payload
            code, detail = _describe(payload.get("errors") if isinstance(payload, dict) else None)
            detail = sanitize(detail, [token])
            if response.status_code in (401, 403):
                head = "Amazon refused access to Seller Central reports (the account may lack the needed role)"
            else:
                head = f"Amazon rejected the report request ({response.status_code}{' ' + code if code else ''})"
            raise AmazonRequestError(
                response.status_code, code, detail, user_message=f"{head}: {detail}" if detail else f"{head}."
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def get_json(self, path: str) -> dict:
        """GET any SP-API path (query string included) with the same token handling; the catalog client uses it."""
        return self._request("GET", path)

    def create_report(
        self,
        report_type: str,
        marketplace_ids: list[str],
        report_options: dict[str, str],
        data_start: date | None = None,
        data_end: date | None = None,
    ) -> str:
        body = {
            "reportType": report_type,
            "marketplaceIds": list(marketplace_ids),
            # Amazon silently ignores options that are not strings (python-amazon-sp-api #624).
            "reportOptions": {str(k).strip(): str(v) for k, v in (report_options or {}).items()},
        }
        if data_start is not None:
            body["dataStartTime"] = data_start.isoformat()
        if data_end is not None:
            body["dataEndTime"] = data_end.isoformat()
        payload = self._request("POST", f"{REPORTS}/reports", body, ok=(200, 202))
        if not payload.get("reportId"):
            raise AmazonUnavailable("Amazon accepted the report request but returned no report ID. Try again later.")
        return str(payload["reportId"])

    def get_report(self, report_id: str) -> dict:
        return self._request("GET", f"{REPORTS}/reports/{report_id}")

    def get_document(self, document_id: str) -> dict:
        payload = self._request("GET", f"{REPORTS}/documents/{document_id}")
        if not payload.get("url"):
            raise AmazonUnavailable("Amazon returned a report document without a download link. Try again later.")
        return payload

    def download_document(self, document: dict) -> dict:
        """Decode as UTF-8 ourselves: the charset header is unreliable and ISO-8859-1 garbles names."""
        response = send(
            self.session,
            "GET",
            str(document["url"]),
            policy=self.policy,
            sleep=self._sleep,
            headers={"user-agent": USER_AGENT, "Accept-Encoding": "identity"},
            stream=True,
        )
        with response:
            if response.status_code in (400, 403, 404, 410):
                raise DownloadExpired(response.status_code)
            if response.status_code != 200:
                raise AmazonRequestError(
                    response.status_code, user_message=f"Amazon refused the report download ({response.status_code})."
                )
            # inflated (gzip is recognised by its magic bytes, whatever compressionAlgorithm says) and parsed
            # as the body arrives: no copy of the whole document as bytes or text
            payload = read_json_document(response.iter_content(1 << 16))
        if not isinstance(payload, dict):
            raise AmazonUnavailable("The report Amazon delivered had an unexpected shape. Try again later.")
        return payload

    def _fetch_document(self, document_id: str) -> dict:
        # Document URLs live 5 minutes: on expiry ask for the document again, a few times at most.
        for attempt in range(MAX_URL_REFRESHES + 1):
            document = self.get_document(document_id)
            try:
                return self.download_document(document)
            except DownloadExpired:
                if attempt >= MAX_URL_REFRESHES:
                    raise
                logger.info("report document link expired; asking Amazon for a fresh one")
        raise AssertionError("unreachable")  # pragma: no cover

    def _fatal_reason(self, report: dict) -> str:
        document_id = report.get("reportDocumentId")
        if not document_id:
            return "Amazon gave no reason"
        try:
            payload = self._fetch_document(str(document_id))
        except (AmazonRequestError, AmazonUnavailable):
            return "Amazon's error document could not be read"
        return self._reason_from(payload)

    @staticmethod
    def _reason_from(payload: dict) -> str:
        details = payload.get("errorDetails") or payload.get("errors") or payload.get("message")
        if isinstance(details, list):
            details = "; ".join(
                str(d.get("message") or d.get("details") or d) if isinstance(d, dict) else str(d) for d in details
            )
        elif isinstance(details, dict):
            details = details.get("message") or json.dumps(details)
        return str(details) if details else json.dumps(payload)[:300]

    def wait_report(
        self, report_id: str, *, poll: float = 30.0, timeout: float = 3600, sleep: Callable[[float], None] | None = None
    ) -> dict:
        sleep = sleep or self._sleep
        waited = 0.0
        interval = max(poll, 0.01)
        while True:
            report = self.get_report(report_id)
            status = str(report.get("processingStatus") or "").upper()
            if status == "DONE":
                if not report.get("reportDocumentId"):
                    raise AmazonUnavailable("Amazon finished the report but gave no document. Try again later.")
                payload = self._fetch_document(str(report["reportDocumentId"]))
                if "errorDetails" in payload and "reportSpecification" not in payload:
                    # An error document behind a DONE status is still a failure, not an empty report.
                    raise ReportFailed(self._reason_from(payload), report_id)
                return payload
            if status == "FATAL":
                raise ReportFailed(self._fatal_reason(report), report_id)
            if status == "CANCELLED":
                raise ReportFailed(
                    "Amazon cancelled the report, which usually means there was no data for the period", report_id
                )
            if waited >= timeout:
                raise ReportTimedOut()
            step = min(interval, max(timeout - waited, 0.0))
            sleep(step)
            waited += step
            interval = min(interval * 1.5, max(poll, MAX_POLL_INTERVAL))

    def coupon_report(
        self,
        marketplace_id: str,
        start_from: datetime,
        start_to: datetime,
        *,
        poll: float = 30.0,
        timeout: float = 3600,
    ) -> list[dict]:
        """Coupons whose start falls in the range (coupon options, never the promotion ones: models #4752)."""
        report_id = self.create_report(
            COUPON_REPORT,
            [marketplace_id],
            {"couponStartDateFrom": iso_utc(start_from), "couponStartDateTo": iso_utc(start_to)},
        )
        return list(self.wait_report(report_id, poll=poll, timeout=timeout).get("coupons") or [])

    def promotion_report(
        self,
        marketplace_id: str,
        start_from: datetime,
        start_to: datetime,
        *,
        poll: float = 30.0,
        timeout: float = 3600,
    ) -> list[dict]:
        """For sellers this holds Best Deals and Lightning Deals only."""
        report_id = self.create_report(
            PROMOTION_REPORT,
            [marketplace_id],
            {"promotionStartDateFrom": iso_utc(start_from), "promotionStartDateTo": iso_utc(start_to)},
        )
        return list(self.wait_report(report_id, poll=poll, timeout=timeout).get("promotions") or [])

    def sales_traffic_report(
        self,
        marketplace_id: str,
        start: date,
        end: date,
        *,
        date_granularity: str = "DAY",
        asin_granularity: str = "CHILD",
        poll: float = 30.0,
        timeout: float = 3600,
    ) -> dict:
        """The GET_SALES_AND_TRAFFIC_REPORT document for [start, end] (dates, one marketplace).

        `salesAndTrafficByAsin` is aggregated over the whole range: per-ASIN per-day figures need one report per day.
        A 403 on create (after the one token refresh `_request` already did) means the role is missing, unless
        Amazon's details name the token: a token that expired again before its second use (a busy machine, a
        clock off by minutes) is a reason to try the job again, never to stop asking for the profile's sales."""
        try:
            report_id = self.create_report(
                SALES_TRAFFIC_REPORT,
                [marketplace_id],
                {"dateGranularity": date_granularity, "asinGranularity": asin_granularity},
                data_start=start,
                data_end=end,
            )
        except AmazonRequestError as exc:
            if exc.status == 403 and "token" not in exc.detail.lower():
                raise MissingSalesRole() from None
            raise
        return self.wait_report(report_id, poll=poll, timeout=timeout)
