"""Credentials for the gateway: a pre-issued bearer token, or OAuth client credentials.

Both are `httpx.Auth` flows, so every request the client sends (first attempts, retries,
the retry after a renewal) is authorised in one place. Secrets stay `SecretStr` until the
moment an Authorization header is built, and no repr, log line or error message shows them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import time
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote_plus

import httpx
from pydantic import SecretStr

from reconcile_tui.api.failures import (
    RETRYABLE_STATUSES,
    RetryableError,
    display_url,
    looks_like_html,
    seconds_text,
    status_error,
)
from reconcile_tui.api.models import parse_error_body
from reconcile_tui.api.responses import ERROR_BODY_BYTES, read_error_body
from reconcile_tui.api.retry import parse_retry_after
from reconcile_tui.config import ApiSettings
from reconcile_tui.errors import ApiError
from reconcile_tui.redaction import register_secret
from reconcile_tui.times import utc_now

__all__ = [
    "NO_CREDENTIALS",
    "TOKEN_PATH",
    "BearerToken",
    "ClientCredentials",
    "credentials_from_settings",
]

log = logging.getLogger(__name__)

TOKEN_PATH = "/o/token/"  # noqa: S105 (a path, not a password)
NO_CREDENTIALS = (
    "no credentials: set CRYPTOFUSE_TOKEN or CRYPTOFUSE_CLIENT_ID and CRYPTOFUSE_CLIENT_SECRET"
)

DEFAULT_EXPIRES_IN = 3600.0
"""The lifetime the gateway's docs give, assumed when a token response omits `expires_in`."""

_RENEW_EARLY_MAX = 60.0
_RENEW_EARLY_SHARE = 0.1


def _bearer(token: SecretStr) -> str:
    return f"Bearer {token.get_secret_value()}"


def _basic(client_id: str, client_secret: SecretStr) -> str:
    # RFC 6749 2.3.1: both parts are form-urlencoded before the Basic encoding (a no-op
    # for the usual alphanumeric credentials; the gateway's OAuth server decodes them).
    pair = f"{quote_plus(client_id)}:{quote_plus(client_secret.get_secret_value())}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


class BearerToken(httpx.Auth):
    """A pre-issued token, sent as is. A 401 is final: there is nothing to renew it with."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = _bearer(self._token)
        yield request

    def __repr__(self) -> str:
        return "BearerToken(token='**********')"


@dataclass(frozen=True)
class _Token:
    value: SecretStr = field(repr=False)
    renew_at: float
    """Monotonic time after which the token is renewed before use."""


def renewal_time(requested_at: float, expires_in: float) -> float:
    """When to renew a token: 10% of its lifetime early, at most 60 s early."""
    return requested_at + expires_in - min(_RENEW_EARLY_MAX, expires_in * _RENEW_EARLY_SHARE)


class ClientCredentials(httpx.Auth):
    """OAuth 2.0 client credentials against POST /o/token/ (HTTP Basic, scope `read`).

    The token is cached on this object and renewed shortly before `expires_in` runs out,
    and exactly once after a 401 on a data request, which is then retried once; a second
    401 is the gateway's final word. Requests running concurrently share one renewal.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self._monotonic = monotonic
        self._clock = clock
        self._token: _Token | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        state = "cached" if self._token else "none yet"
        return (
            f"ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r}, "
            f"client_secret='**********', token={state})"
        )

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        # The renewal is shared between concurrent requests through an asyncio lock, which
        # a synchronous client cannot take; the product only uses httpx.AsyncClient.
        raise TypeError("ClientCredentials works with httpx.AsyncClient only")

    # The flow is written out (rather than `auth_flow` with `requires_response_body`)
    # for two reasons: the renewal must hold an asyncio lock, and `requires_response_body`
    # would make httpx read every data body into memory before the client's size limit.
    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = self._token if self._usable(self._token) else None
        if token is None:
            async with self._lock:
                token = self._token if self._usable(self._token) else None
                if token is None:
                    requested_at = self._monotonic()
                    response = yield self._token_request(request)
                    token = await self._accept(response, requested_at)
        request.headers["Authorization"] = _bearer(token.value)
        response = yield request
        if response.status_code != 401:
            return

        # A token we believed valid was refused (revoked, or the clocks disagree): renew
        # it once, unless a concurrent request already did, and send this request again.
        async with self._lock:
            current = self._token
            if current is not None and current is not token and self._usable(current):
                token = current
            else:
                log.info(
                    "%s refused the access token; requesting a new one", display_url(request.url)
                )
                requested_at = self._monotonic()
                response = yield self._token_request(request)
                token = await self._accept(response, requested_at)
        request.headers["Authorization"] = _bearer(token.value)
        yield request

    def _usable(self, token: _Token | None) -> bool:
        return token is not None and self._monotonic() < token.renew_at

    def _token_request(self, data_request: httpx.Request) -> httpx.Request:
        log.debug("requesting an access token from %s", self.token_url)
        return httpx.Request(
            "POST",
            self.token_url,
            headers={
                "Authorization": _basic(self.client_id, self._client_secret),
                "Accept": "application/json",
                "User-Agent": data_request.headers.get("User-Agent", "reconcile-tui"),
            },
            data={"grant_type": "client_credentials", "scope": "read"},
            # A request built here does not pass through the client's build_request, so
            # it carries the client's timeouts over explicitly.
            extensions={"timeout": data_request.extensions.get("timeout", {})},
        )

    async def _accept(self, response: httpx.Response, requested_at: float) -> _Token:
        """The token from a token-endpoint response, cached; or the reason there is none."""
        url = display_url(response.request.url)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > ERROR_BODY_BYTES:
            raise ApiError(
                f"{url} answered {declared} bytes for a token; refusing to read it", url=url
            )
        if not response.is_success:
            raise self._refusal(response, await read_error_body(response), url)
        # httpx reads this response again once the flow moves on, so it is read with
        # `aread` (which keeps the content) and bounded by the Content-Length check above.
        body = await response.aread()
        token = self._token_from(body, response, url, requested_at)
        self._token = token
        return token

    def _refusal(
        self, response: httpx.Response, body: bytes, url: str
    ) -> ApiError | RetryableError:
        status = response.status_code
        if status in {400, 401, 403} and not looks_like_html(body):
            gateway = parse_error_body(body)
            default = (
                "invalid client credentials" if status == 401 else "the token request was refused"
            )
            message = (gateway.message if gateway else "") or default
            return ApiError(
                f"authentication failed: {message} ({status} from {url})",
                status=status,
                code=gateway.code if gateway else None,
                url=url,
            )
        error = status_error(response, body, url)
        if status in RETRYABLE_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
            return RetryableError(error, retry_after)
        return error

    def _token_from(
        self, body: bytes, response: httpx.Response, url: str, requested_at: float
    ) -> _Token:
        if looks_like_html(body, response.headers.get("content-type", "")):
            raise status_error(response, body, url)
        try:
            data = json.loads(body)
        except ValueError:
            raise ApiError(f"{url}: the token response is not valid JSON", url=url) from None
        if not isinstance(data, dict):
            raise ApiError(f"{url}: the token response is not a JSON object", url=url)
        value = data.get("access_token")
        if not isinstance(value, str) or not value:
            raise ApiError(f"{url}: the token response has no access_token", url=url)
        token_type = data.get("token_type", "Bearer")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise ApiError(
                f"{url}: the gateway issued a {token_type!r} token; only Bearer is supported",
                url=url,
            )
        expires_in = _seconds(data.get("expires_in"))
        if expires_in is None:
            log.debug(
                "the token response has no usable expires_in; assuming %s s", DEFAULT_EXPIRES_IN
            )
            expires_in = DEFAULT_EXPIRES_IN
        register_secret(value)  # an issued token is as secret as the client's own
        log.info("obtained an access token from %s, valid %s s", url, seconds_text(expires_in))
        return _Token(SecretStr(value), renewal_time(requested_at, expires_in))


def _seconds(value: object) -> float | None:
    """A lifetime in seconds from `expires_in` (a number, or a number as text), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def credentials_from_settings(
    api: ApiSettings,
    *,
    monotonic: Callable[[], float] = time.monotonic,
    clock: Callable[[], datetime] = utc_now,
) -> httpx.Auth:
    """The configured credentials (a bearer token wins over client credentials), or ApiError."""
    if api.token is not None and len(api.token):
        return BearerToken(api.token)
    has_id = bool(api.client_id)
    has_secret = api.client_secret is not None and len(api.client_secret) > 0
    if has_id and has_secret:
        assert api.client_id is not None
        assert api.client_secret is not None
        return ClientCredentials(
            api.url + TOKEN_PATH,
            api.client_id,
            api.client_secret,
            monotonic=monotonic,
            clock=clock,
        )
    if has_id != has_secret:
        missing = "CRYPTOFUSE_CLIENT_SECRET" if has_id else "CRYPTOFUSE_CLIENT_ID"
        raise ApiError(f"{NO_CREDENTIALS} ({missing} is not set)")
    raise ApiError(NO_CREDENTIALS)
