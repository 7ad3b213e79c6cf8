"""A logging filter that keeps tokens, secrets and authorization codes out of every log line.

Amazon's tokens are bearer credentials: a log file that holds one is as good as the
account. The filter rewrites the message and its arguments before any handler sees
them, so third-party libraries (urllib3, requests) are covered too.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[REDACTED]"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Atz[ra]\|[^\s&\"',;]+"), REDACTED),
    (
        re.compile(r"(?i)\b(client_secret|refresh_token|access_token|code_verifier|code)=[^\s&\"',;]+"),
        r"\1=" + REDACTED,
    ),
    (re.compile(r"amzn1\.oa2-cs\.v1\.[0-9a-fA-F]+"), REDACTED),
    (re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)(x-amz-access-token['\"]?\s*[:=]\s*['\"]?)[^\s\"',;]+"), r"\1" + REDACTED),
]


def redact(text: str) -> str:
    """The text with anything shaped like a token, secret or code replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_installed = False


def install_redaction() -> None:
    """Attach the filter to every handler of the root logger (idempotent)."""
    global _installed
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO)
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    _installed = True
