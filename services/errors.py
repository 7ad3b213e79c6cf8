"""Typed errors whose text can be shown to a marketer as is.

``str(exc)`` is always a plain sentence and never carries a token, secret or
authorization code: error text from Amazon goes through :func:`sanitize` before
it reaches a message, because exceptions end up in logs and on screen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Credentials Amazon or a proxy might echo back: LWA tokens, client secrets, bearer
# headers and the signature of a presigned S3 URL (which is itself a credential).
_SECRET_PATTERNS = [
    re.compile(r"Atz[a-z]\|[^\s\"'&,;]+"),
    re.compile(r"amzn1\.oa2-cs\.v1\.[0-9A-Za-z]+"),
    re.compile(r"(?i)bearer\s+[^\s\"',;]+"),
    re.compile(r"(?i)(x-amz-(?:signature|security-token|credential)=)[^&\s\"']+"),
    re.compile(r"(?i)((?:refresh_token|access_token|client_secret|code)=)[^&\s\"']+"),
]
_MAX_DETAIL = 300


def sanitize(text: object, secrets: Iterable[str | None] = ()) -> str:
    """Text from outside may quote our own credentials back; strip them and keep it short."""
    out = "" if text is None else str(text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            out = out.replace(secret, "[redacted]")
    for pattern in _SECRET_PATTERNS:
        out = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[redacted]", out)
    out = " ".join(out.split())
    if len(out) > _MAX_DETAIL:
        out = out[: _MAX_DETAIL - 1] + "…"
    return out


class DashboardError(Exception):
    """Base of every error the UI shows; ``user_message`` is the sentence to display."""

    default_message = "Something went wrong while talking to Amazon."

    def __init__(self, user_message: str | None = None) -> None:
        self.user_message = user_message or self.default_message
        super().__init__(self.user_message)

    def __str__(self) -> str:
        return self.user_message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.user_message!r})"


class AuthorizationExpired(DashboardError):
    """LWA said invalid_grant: only the seller can fix it, by granting consent again."""

    default_message = "This Amazon authorization has expired or was revoked. Reconnect the account."


class InvalidCredentials(DashboardError):
    """LWA said invalid_client: the app's client ID or secret is wrong, not the seller's consent."""

    default_message = "Amazon rejected this app's client ID or client secret. Check the app credentials in Settings."


class AmazonUnavailable(DashboardError):
    """Amazon could not be reached or kept throttling/failing after every retry: worth trying later."""

    default_message = "Amazon is not responding right now. Try again in a few minutes."


class AmazonOutcomeUnknown(AmazonUnavailable):
    """A create was sent but Amazon's answer was lost (5xx or timeout after sending): it may or may not have landed.

    Amazon has no idempotency key, so such a call is never repeated blind; the caller looks the entity up first.
    """

    default_message = "Amazon did not confirm the change; the dashboard checks on Amazon whether it landed."


class ReportTimedOut(AmazonUnavailable):
    """Amazon documents reports taking up to 3 hours; waiting longer is pointless for one sync."""

    default_message = "Amazon is still preparing the report. Try again later."


class AmazonRequestError(DashboardError):
    """Amazon refused the request itself (4xx other than throttling): retrying will not help."""

    def __init__(
        self, status: int, code: str | None = None, detail: str | None = None, user_message: str | None = None
    ) -> None:
        self.status = status
        self.code = sanitize(code) if code else None
        self.detail = sanitize(detail) if detail else ""
        if user_message is None:
            label = f"{status} {self.code}" if self.code and self.code != str(status) else str(status)
            user_message = f"Amazon rejected the request ({label})"
            user_message += f": {self.detail}" if self.detail else "."
        super().__init__(sanitize(user_message))


class DownloadExpired(AmazonRequestError):
    """Presigned report URLs expire (1 h for Ads, 5 min for SP-API); the fix is to ask for a new one."""

    def __init__(self, status: int = 403) -> None:
        super().__init__(status, user_message="The report download link expired before it could be read.")


class ReportFailed(DashboardError):
    """Amazon gave up generating a report; the reason is Amazon's own, in its words."""

    def __init__(self, reason: str | None = None, report_id: str | None = None) -> None:
        self.reason = sanitize(reason) if reason else "no reason given"
        self.report_id = report_id
        super().__init__(f"Amazon could not generate the report: {self.reason}")
