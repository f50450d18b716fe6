"""Turns what went wrong on the wire into one line a finance user can act on.

Every failure leaves the client as an `ApiError` (exit 3) carrying the HTTP status, the
gateway's error `code` and the URL. Failures worth another attempt travel as `RetryableError`
until the retry loop runs out of attempts or time. Messages are built only from the status,
the URL, the gateway's own error text and the transport's reason: never from request
headers, so a token cannot leak into them.
"""

from __future__ import annotations

import httpx

from reconcile_tui.api.models import parse_error_body
from reconcile_tui.errors import ApiError, ReconcileError

__all__ = [
    "RETRYABLE_STATUSES",
    "RetryableError",
    "display_url",
    "first_failure",
    "looks_like_html",
    "seconds_text",
    "status_error",
    "transport_error",
]

# 500 is deliberately absent: it is the gateway's application failing on this very request,
# which a retry rarely cures, while 502-504 come from the proxy or an overloaded or
# restarting service, and 429 asks us to come back later.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})

# Timeouts and dropped or refused connections are transient; a GET (and the token POST,
# which only mints another token) is safe to send again.
_RETRYABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class RetryableError(Exception):
    """A failure worth another attempt; `error` is what the user sees if none is left."""

    def __init__(self, error: ApiError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"RetryableError({str(self.error)!r}, retry_after={self.retry_after!r})"


def seconds_text(seconds: float) -> str:
    """`2`, `2.5`, `0.05`: seconds as people write them."""
    return f"{seconds:.3g}" if seconds < 100 else f"{seconds:.0f}"


def display_url(url: httpx.URL | str) -> str:
    """The URL without any user:password part, which is the one place a URL can hide one."""
    parsed = httpx.URL(url)
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    return str(parsed)


def origin(url: httpx.URL | str) -> str:
    """`https://host[:port]`: what a connection failure is about."""
    parsed = httpx.URL(display_url(url))
    return str(parsed.copy_with(raw_path=b"", query=None, fragment=None)).rstrip("/")


def looks_like_html(body: bytes, content_type: str = "") -> bool:
    """True for an HTML page (a proxy's or a login page), which is never the gateway's JSON."""
    start = body.lstrip()[:1]
    if start in (b"{", b"["):
        return False  # a JSON-looking body is judged by its content, whatever the header says
    return start == b"<" or content_type.lower().startswith("text/html")


def _gateway_text(body: bytes) -> tuple[str | None, str]:
    """The gateway's error code and `code: message` text, from either documented shape."""
    parsed = parse_error_body(body) if body else None
    if parsed is None:
        return None, ""
    if parsed.code == "error":  # the `{"detail": ...}` shape carries no code
        return None, parsed.message
    return parsed.code, f"{parsed.code}: {parsed.message}" if parsed.message else parsed.code


def _what_failed(status: int) -> str:
    if status == 401:
        return "the gateway refused the token"
    if status == 403:
        return "the gateway denied access"
    if status == 404:
        return "the gateway has no such resource"
    if status == 429:
        return "the gateway is rate-limiting requests"
    if status in {502, 503, 504}:
        return "the gateway is unavailable"
    if status >= 500:
        return "the gateway failed"
    if status >= 400:
        return "the gateway refused the request"
    return "the gateway gave an unexpected answer"


def status_error(response: httpx.Response, body: bytes, url: str) -> ApiError:
    """One line for a response that is not the data asked for (an error or a redirect)."""
    status = response.status_code
    if looks_like_html(body, response.headers.get("content-type", "")):
        source = "from a proxy?" if status >= 400 else "is CRYPTOFUSE_API_URL the API's address?"
        return ApiError(
            f"{url} answered an HTML page instead of JSON ({status} {source})",
            status=status,
            url=url,
        )
    if 300 <= status < 400:
        location = response.headers.get("location", "elsewhere")
        return ApiError(
            f"{url} redirected to {display_url(location)} ({status}); "
            "set CRYPTOFUSE_API_URL to the API's own address",
            status=status,
            url=url,
        )
    code, text = _gateway_text(body)
    detail = f": {text}" if text else ""
    return ApiError(
        f"{_what_failed(status)}{detail} ({status} from {url})",
        status=status,
        code=code,
        url=url,
    )


def _reason(error: httpx.TransportError) -> str:
    text = str(error).strip()
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if any(
        marker in lowered
        for marker in ("name or service not known", "nodename nor servname", "name resolution")
    ):
        return "host name not found"
    if "certificate" in lowered:
        return "TLS certificate verification failed"
    return text or type(error).__name__


def transport_error(
    error: httpx.TransportError, url: str, timeout: httpx.Timeout
) -> ApiError | RetryableError:
    """One line for a request that got no usable answer; `RetryableError` when worth retrying."""
    if isinstance(error, httpx.ConnectTimeout):
        message = f"cannot connect to {origin(url)}: no answer within {timeout.connect} s"
    elif isinstance(error, httpx.ConnectError):
        message = f"cannot connect to {origin(url)}: {_reason(error)}"
    elif isinstance(error, httpx.ReadTimeout):
        message = f"{url}: no answer within {timeout.read} s (read timeout)"
    elif isinstance(error, httpx.WriteTimeout):
        message = f"{url}: could not send the request within {timeout.write} s"
    elif isinstance(error, httpx.PoolTimeout):
        message = f"{url}: no free connection within {timeout.pool} s"
    elif isinstance(error, _RETRYABLE_TRANSPORT):
        message = f"{url}: the connection broke ({_reason(error)})"
    else:  # an unsupported scheme, a proxy refusing us: the same next time
        return ApiError(f"{url}: {_reason(error)}", url=url)
    return RetryableError(ApiError(message, url=url))


def first_failure(group: BaseExceptionGroup[BaseException]) -> ReconcileError | None:
    """The first failure a user can act on (a bad answer, a refusal), ApiError first."""
    found: list[ReconcileError] = []

    def collect(inner: BaseExceptionGroup[BaseException]) -> None:
        for error in inner.exceptions:
            if isinstance(error, ReconcileError):
                found.append(error)
            elif isinstance(error, BaseExceptionGroup):
                collect(error)

    collect(group)
    api = [error for error in found if isinstance(error, ApiError)]
    return (api or found or [None])[0]
