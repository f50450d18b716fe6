"""The sandbox's bad days: rate limiting and injected failures of data requests.

Deterministic, so a test can count on them: the error-rate draws come from a generator
seeded with the ledger's seed, one draw per data request in arrival order; "fail the
first K" counts data requests from the server's start. The rate limit is a sliding
60-second window over the requests it let through, and its 429 says in `Retry-After`
when the oldest of them leaves the window.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from typing import Final

from reconcile_tui.sandbox.config import SandboxConfig

__all__ = ["Fault", "FaultInjector"]

WINDOW: Final = 60.0


@dataclass(frozen=True, slots=True)
class Fault:
    """An answer to give instead of the data: status, why, and Retry-After seconds."""

    status: int
    reason: str
    retry_after: int | None = None


class FaultInjector:
    """Decides, request by request, whether a data request fails and how."""

    def __init__(self, config: SandboxConfig, now: Callable[[], float]) -> None:
        self._config = config
        self._now = now
        self._draws = random.Random(f"sandbox/{config.seed}/faults")
        self._allowed: deque[float] = deque()
        self.data_requests = 0

    def check(self) -> Fault | None:
        """The fault for the next data request, or None to serve it."""
        self.data_requests += 1
        limited = self._rate_limited()
        if limited is not None:
            return limited
        config = self._config
        if config.fail_always is not None:
            return self._injected(config.fail_always, "fail_always")
        if self.data_requests <= config.fail_first:
            return self._injected(config.fail_status, "fail_first")
        if config.error_rate > 0 and self._draws.random() < config.error_rate:
            return self._injected(503, "error_rate")
        return None

    def _rate_limited(self) -> Fault | None:
        limit = self._config.rate_limit
        if limit is None:
            return None
        now = self._now()
        while self._allowed and self._allowed[0] <= now - WINDOW:
            self._allowed.popleft()
        if len(self._allowed) >= limit:
            wait = max(1, math.ceil(self._allowed[0] + WINDOW - now))
            return Fault(429, "rate_limit", wait)
        self._allowed.append(now)
        return None

    def _injected(self, status: int, reason: str) -> Fault:
        announces = status in {429, 503} and self._config.retry_after is not None
        return Fault(status, reason, self._config.retry_after if announces else None)

    def retry_after_header(self, seconds: int) -> str:
        """Retry-After as seconds, or as an HTTP-date when the config asks for that form."""
        if self._config.retry_after_http_date:
            return formatdate(self._now() + seconds, usegmt=True)
        return str(seconds)
