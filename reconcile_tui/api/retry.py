"""Decides how long to keep trying: stamina's backoff, the server's Retry-After, the deadline.

The policy, in one place:
- retried: connection errors and timeouts, 429, 502, 503, 504; nothing else (a 500 is the
  gateway failing on this very request, and a 4xx will not change on its own);
- at most `max_attempts` attempts per request, with stamina's exponential backoff and
  jitter between them;
- a `Retry-After` (seconds or an HTTP date) replaces the backoff, up to `retry_after_cap`;
  a longer one, or one that would overrun the deadline, fails at once with a clear line;
- one deadline per command covers every request, retry and wait: past it, "gave up after".

The server's waits go through a `Timekeeper`, so tests observe them without sleeping;
stamina's own backoff is removed in tests with `stamina.set_testing(True)`.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import stamina

from reconcile_tui.api.failures import RetryableError, seconds_text
from reconcile_tui.errors import ApiError

__all__ = [
    "Deadline",
    "RetryPolicy",
    "SystemTime",
    "Timekeeper",
    "call_with_retries",
    "parse_retry_after",
]

log = logging.getLogger(__name__)

_T = TypeVar("_T")


class Timekeeper(Protocol):
    """Where the client reads elapsed time and serves the server's waits."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""
        ...


class SystemTime:
    """The real clock and the real event-loop sleep."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        # stamina's testing mode promises no waits; a server's Retry-After is one too, so
        # tests of code above this client never sleep whatever the server answers.
        if stamina.is_testing():
            return
        await asyncio.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemTime()"


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

    Measured twice on purpose: the timekeeper's clock decides before each attempt and
    each wait (and can be simulated), and the event loop's clock cuts off a request or a
    backoff that is still running when the time is up.
    """

    def __init__(self, seconds: float, timekeeper: Timekeeper) -> None:
        self.seconds = seconds
        self.timekeeper = timekeeper
        self._started = timekeeper.monotonic()
        self._loop_deadline = asyncio.get_running_loop().time() + seconds

    def elapsed(self) -> float:
        return self.timekeeper.monotonic() - self._started

    def remaining(self) -> float:
        return self.seconds - self.elapsed()

    def hard_stop(self) -> asyncio.Timeout:
        """A context that cancels whatever is still running when the deadline passes."""
        return asyncio.timeout_at(self._loop_deadline)

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


def _server_wait(failure: RetryableError, policy: RetryPolicy, deadline: Deadline) -> float:
    """The server's requested wait, or ApiError when it is longer than we may wait."""
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
    return wait


def _backoff(error: Exception) -> bool | float:
    """stamina's backoff hook: retry only `RetryableError`, with stamina's backoff or none."""
    if not isinstance(error, RetryableError):
        return False
    if error.retry_after is not None:
        # The loop serves the server's wait itself (deadline-aware and observable), so
        # stamina adds nothing on top of it.
        return 0.0
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
    server_wait: float | None = None
    attempts = 0
    remaining = deadline.remaining()
    if remaining <= 0:
        raise deadline.expired(what, None)
    stop = deadline.hard_stop()
    try:
        async with stop:
            async for attempt in stamina.retry_context(
                on=_backoff,
                attempts=policy.max_attempts,
                timeout=remaining,
                wait_initial=policy.wait_initial,
                wait_max=policy.wait_max,
                wait_jitter=policy.wait_jitter,
            ):
                with attempt:
                    if server_wait:
                        log.info(
                            "waiting %s s (Retry-After) before %s again",
                            seconds_text(server_wait),
                            what,
                        )
                        await deadline.timekeeper.sleep(server_wait)
                    server_wait = None
                    if deadline.remaining() <= 0:
                        raise deadline.expired(what, last)
                    attempts = attempt.num
                    log.debug("%s (attempt %d of %d)", what, attempt.num, policy.max_attempts)
                    try:
                        return await operation()
                    except RetryableError as failure:
                        last = failure.error
                        if failure.retry_after is not None:
                            server_wait = _server_wait(failure, policy, deadline)
                        log.info(
                            "attempt %d of %d failed: %s",
                            attempt.num,
                            policy.max_attempts,
                            failure.error,
                        )
                        raise
    except RetryableError as failure:
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
