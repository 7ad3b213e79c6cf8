"""Login with Amazon: turning a seller's refresh token into short-lived access tokens.

Access tokens last an hour and every Ads/SP-API call needs one, so each account
gets a :class:`TokenSource` that caches the token in memory, renews it a minute
early, and lets only one thread refresh at a time (LWA throttles too). Nothing
here ever logs or repeats a token, secret or code.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from services.amazon.http import RetryPolicy, send
from services.errors import (
    AmazonRequestError,
    AmazonUnavailable,
    AuthorizationExpired,
    InvalidCredentials,
    sanitize,
)

logger = logging.getLogger(__name__)

# Renew this long before expiry so a token never dies in the middle of a paged listing.
RENEW_MARGIN = 60.0
USER_AGENT = "ppc-dashboard/0.1 (Language=Python)"


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: float


class LwaClient:
    """Speaks the LWA token endpoint; the client secret stays private to this object."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        session: requests.Session | None = None,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.session = session or requests.Session()
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"LwaClient(token_url={self.token_url!r}, client_id={self.client_id!r})"

    def _post(self, form: dict[str, str], secrets: list[str | None]) -> dict:
        form = {**form, "client_id": self.client_id, "client_secret": self._client_secret}
        secrets = [*secrets, self._client_secret]
        response = send(
            self.session,
            "POST",
            self.token_url,
            policy=self.policy,
            sleep=self._sleep,
            data=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
        )
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code == 200 and body.get("access_token"):
            return body
        error = str(body.get("error") or "")
        description = sanitize(body.get("error_description"), secrets)
        logger.warning("LWA token request failed: %d %s", response.status_code, error or "no error code")
        if error == "invalid_grant":
            if form.get("grant_type") == "authorization_code":
                raise AuthorizationExpired(
                    "The Amazon sign-in code expired or was already used. Connect the account again."
                )
            raise AuthorizationExpired()
        if error in ("invalid_client", "unauthorized_client"):
            raise InvalidCredentials()
        if response.status_code == 200:
            raise AmazonUnavailable("Amazon's sign-in service answered without an access token. Try again later.")
        raise AmazonRequestError(
            response.status_code,
            error or None,
            description,
            # The description can quote form fields we do not recognise as secrets: keep it off screen.
            user_message=f"Amazon's sign-in service refused the request ({error or response.status_code}).",
        )

    def refresh(self, refresh_token: str) -> AccessToken:
        """A refresh grant returns a one-hour access token; the refresh token itself never changes."""
        started = self.clock()
        body = self._post({"grant_type": "refresh_token", "refresh_token": refresh_token}, [refresh_token])
        expires_in = _seconds(body.get("expires_in"), 3600.0)
        return AccessToken(value=str(body["access_token"]), expires_at=started + expires_in)

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str | None = None) -> dict:
        """The consent redirect's code is single-use and lives 5 minutes: exchange it at once."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        body = self._post(form, [code, code_verifier])
        if not body.get("refresh_token"):
            raise AmazonUnavailable("Amazon's sign-in service answered without a refresh token. Try connecting again.")
        return {
            "refresh_token": str(body["refresh_token"]),
            "access_token": str(body["access_token"]),
            "expires_in": int(_seconds(body.get("expires_in"), 3600.0)),
        }


def _seconds(value: object, default: float) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


class TokenSource:
    """Per account: caches the access token in memory, renews it a minute before expiry, thread-safe (one refresh at a time)."""

    def __init__(self, lwa: LwaClient, refresh_token: str | Callable[[], str]) -> None:
        self._lwa = lwa
        self._refresh_token = refresh_token
        self._token: AccessToken | None = None
        self._lock = threading.Lock()
        self.refreshes = 0

    def __repr__(self) -> str:
        state = "cached" if self._token is not None else "empty"
        return f"TokenSource({self._lwa!r}, {state})"

    def _fresh(self) -> AccessToken | None:
        token = self._token
        if token is not None and self._lwa.clock() < token.expires_at - RENEW_MARGIN:
            return token
        return None

    def get(self) -> str:
        token = self._fresh()
        if token is not None:
            return token.value
        with self._lock:
            token = self._fresh()
            if token is None:
                refresh_token = self._refresh_token() if callable(self._refresh_token) else self._refresh_token
                token = self._lwa.refresh(refresh_token)
                self.refreshes += 1
                self._token = token
            return token.value

    def invalidate(self, stale: str | None = None) -> None:
        """Forget the token after a 401; with ``stale`` only if it is still the one that failed,
        so many threads hitting the same 401 cause a single refresh."""
        with self._lock:
            if stale is None or (self._token is not None and self._token.value == stale):
                self._token = None
