"""Decides how long to keep trying: stamina's backoff, the server's Retry-After, the deadline.

The policy, in one place:
- retried: connection errors and timeouts, 429, 502, 503, 504; nothing else (a 500 is the
  gateway failing on this very request, and a 4xx will not change on its own);
- at most `max_attempts` attempts per request, with stamina's exponential backoff and
  jitter between them;
- a `Retry-After` (seconds or an HTTP date) replaces the backoff: stamina's backoff hook
  returns it as the wait, up to `retry_after_cap`; a longer one, or one that would overrun
  the deadline, fails at once with a clear line;
- one deadline per command covers every request, retry and wait, on the event loop's
  clock: stamina's own timeout is what is left of it, and the loop cancels a request or a
  wait still running when it passes. Past it, "gave up after".

stamina does every wait. In its testing mode (`stamina.set_testing`) nothing waits, neither
its backoff nor a server's Retry-After; its instrumentation hooks see each wait it schedules
(docs/api-client.md, "Retries").
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import stamina

from reconcile_tui.api.failures import RetryableError, seconds_text
from reconcile_tui.errors import ApiError

__all__ = [
    "Deadline",
    "RetryPolicy",
    "call_with_retries",
    "loop_time",
    "parse_retry_after",
]

log = logging.getLogger(__name__)

_T = TypeVar("_T")


def loop_time() -> float:
    """The client's clock: the running event loop's, which its timeouts and sleeps keep."""
    return asyncio.get_running_loop().time()


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one request is retried."""

    max_attempts: int = 5
    retry_after_cap: float = 30.0
    # stamina's backoff: min(wait_max, wait_initial * 2 ** (attempt - 1) + jitter), so
    # about 0.5-1.5 s, 1-2 s, 2-3 s, 4-5 s, then 8 s: gentle on a struggling gateway.
    wait_initial: float = 0.5
    wait_max: float = 8.0
    wait_jitter: float = 1.0


class Deadline:
    """The time one command may spend on the network, retries and waits included.

    Kept on the event loop's clock, the one stamina's timeout and every wait run on, so
    the deadline is one instant whoever meets it first.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = loop_time() + seconds

    def remaining(self) -> float:
        return self._at - loop_time()

    def hard_stop(self) -> asyncio.Timeout:
        """A context that cancels whatever is still running when the deadline passes."""
        return asyncio.timeout_at(self._at)

    def expired(self, what: str, last: ApiError | None) -> ApiError:
        """The error for work still unfinished when the deadline passed."""
        line = f"gave up after {seconds_text(self.seconds)} s: {what}"
        return _with_last(line, last)

    def __repr__(self) -> str:
        return f"Deadline({seconds_text(self.seconds)} s, {seconds_text(self.remaining())} s left)"


def _with_last(line: str, last: ApiError | None) -> ApiError:
    if last is None:
        return ApiError(line)
    return ApiError(f"{line}; last error: {last}", status=last.status, code=last.code, url=last.url)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header (delay-seconds or an HTTP date)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None  # unreadable: fall back to our own backoff rather than guess
    if moment.tzinfo is None:  # RFC 9110 dates are GMT; `-0000` parses as naive
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


def _refuse_long_wait(failure: RetryableError, policy: RetryPolicy, deadline: Deadline) -> None:
    """ApiError when the server asks for a wait longer than the cap or the time left."""
    wait = failure.retry_after
    assert wait is not None
    error = failure.error
    if wait > policy.retry_after_cap:
        raise ApiError(
            f"{error}: the gateway asks to wait {seconds_text(wait)} s before retrying "
            f"(Retry-After), longer than the {seconds_text(policy.retry_after_cap)} s limit; "
            "try again later",
            status=error.status,
            code=error.code,
            url=error.url,
        )
    left = deadline.remaining()
    if wait >= left:
        raise ApiError(
            f"{error}: the gateway asks to wait {seconds_text(wait)} s (Retry-After), more "
            f"than the {seconds_text(max(0.0, left))} s left of the "
            f"{seconds_text(deadline.seconds)} s deadline",
            status=error.status,
            code=error.code,
            url=error.url,
        )


def _wait_before_retry(error: Exception) -> bool | float:
    """stamina's backoff hook: no retry but for `RetryableError`; then the server's
    Retry-After as the wait (already held to the cap and the deadline), or stamina's
    own backoff when the server named none."""
    if not isinstance(error, RetryableError):
        return False
    if error.retry_after is not None:
        return error.retry_after
    return True


async def call_with_retries(
    operation: Callable[[], Awaitable[_T]],
    *,
    what: str,
    policy: RetryPolicy,
    deadline: Deadline,
) -> _T:
    """`operation()`, retried on `RetryableError` as the policy allows, within the deadline."""
    last: ApiError | None = None
    attempts = 0
    remaining = deadline.remaining()
    if remaining <= 0:
        raise deadline.expired(what, None)
    stop = deadline.hard_stop()
    try:
        async with stop:
            async for attempt in stamina.retry_context(
                on=_wait_before_retry,
                attempts=policy.max_attempts,
                timeout=remaining,
                wait_initial=policy.wait_initial,
                wait_max=policy.wait_max,
                wait_jitter=policy.wait_jitter,
            ):
                with attempt:
                    attempts = attempt.num
                    log.debug("%s (attempt %d of %d)", what, attempt.num, policy.max_attempts)
                    try:
                        return await operation()
                    except RetryableError as failure:
                        last = failure.error
                        if failure.retry_after is not None:
                            _refuse_long_wait(failure, policy, deadline)
                        log.info(
                            "attempt %d of %d failed: %s",
                            attempt.num,
                            policy.max_attempts,
                            failure.error,
                        )
                        if failure.retry_after and attempt.num < policy.max_attempts:
                            log.info(
                                "waiting %s s (Retry-After) before %s again",
                                seconds_text(failure.retry_after),
                                what,
                            )
                        raise
    except RetryableError as failure:
        if attempts < policy.max_attempts:  # stopped before its attempts: by its timeout
            raise deadline.expired(what, last) from None
        suffix = f" (after {attempts} attempts)" if attempts > 1 else ""
        error = failure.error
        raise ApiError(
            f"{error}{suffix}", status=error.status, code=error.code, url=error.url
        ) from None
    except TimeoutError:
        if not stop.expired():
            raise
        raise deadline.expired(what, last) from None
    raise AssertionError("unreachable: stamina either returns or raises")
