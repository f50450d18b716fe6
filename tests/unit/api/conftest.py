"""A scripted fake gateway, a simulated clock and settings for the client's tests."""

from __future__ import annotations

import asyncio
import base64
import json
import selectors
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina
from pydantic import SecretStr
from stamina.instrumentation import RetryDetails, set_on_retry_hooks

from reconcile_tui.config import ApiSettings

FIXTURES = Path(__file__).parents[2] / "fixtures" / "api_page"
BALANCES = (FIXTURES / "balances.json").read_bytes()
HISTORY_USDT = (FIXTURES / "history_USDTERC20.json").read_bytes()

BASE = "https://gw.test"
CLIENT_ID = "merchant-42"
CLIENT_SECRET = "s3cr3t-CLIENT-value-9f8e7d"
STATIC_TOKEN = "tok-STATIC-value-1a2b3c"
NOW = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)

Answer = httpx.Response | Exception | Callable[[httpx.Request], Any]


def history_body(currency: str, period: str = "7d", interval: str = "daily") -> bytes:
    """The API page's history example, answered for `currency` (byte for byte otherwise)."""
    body = HISTORY_USDT.replace(b'"USDTERC20"', json.dumps(currency).encode(), 1)
    body = body.replace(b'"period": "7d"', json.dumps({"period": period})[1:-1].encode(), 1)
    return body.replace(
        b'"interval": "daily"', json.dumps({"interval": interval})[1:-1].encode(), 1
    )


def api_settings(**overrides: Any) -> ApiSettings:
    values: dict[str, Any] = {"url": BASE, "token": SecretStr(STATIC_TOKEN)}
    values.update(overrides)
    return ApiSettings(**values)


def client_credentials(**overrides: Any) -> ApiSettings:
    values: dict[str, Any] = {
        "token": None,
        "client_id": CLIENT_ID,
        "client_secret": SecretStr(CLIENT_SECRET),
    }
    values.update(overrides)
    return api_settings(**values)


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


class FastForwardLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock moves only when it would otherwise wait: a sleep, a
    backoff or a deadline of any length passes at once, in order, and `time()` shows it.

    The client keeps all its time on its loop's clock (the deadline, stamina's waits, a
    token's lifetime), so on this loop its tests see hours pass without waiting. stamina's
    own timeout reads the process clock instead, which barely moves here; the loop's
    cancellation at the deadline is what these tests see stop the work.
    """

    def __init__(self) -> None:
        self.now = 1000.0
        super().__init__(selector=_FastForwardSelector(self))

    def time(self) -> float:
        return self.now


class _FastForwardSelector(selectors.DefaultSelector):
    def __init__(self, loop: FastForwardLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout is None or timeout <= 0:
            return ready or (super().select(None) if timeout is None else [])
        self._loop.now += timeout  # nothing to do before the next timer: it is due now
        return []


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Every async test of the client runs on the fast-forward loop."""
    return {"fast_forward": FastForwardLoop}


class FakeTime:
    """The test's hand on the running loop's clock."""

    @property
    def now(self) -> float:
        return _running().now

    @now.setter
    def now(self, value: float) -> None:
        _running().now = value

    def monotonic(self) -> float:
        return _running().time()

    def advance(self, seconds: float) -> None:
        _running().now += seconds


def _running() -> FastForwardLoop:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, FastForwardLoop), "client tests run on the fast-forward loop"
    return loop


@dataclass
class FakeGateway:
    """Answers like the gateway, unless a path has scripted answers queued.

    Tokens are issued as tok-1, tok-2, ...; `revoked` tokens (and any unknown one) get
    the gateway's 401. Scripted answers are consumed in order, one per request.
    """

    expires_in: int = 3600
    scripts: dict[str, list[Answer]] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    requests: list[httpx.Request] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)

    def script(self, path: str, *answers: Answer) -> None:
        self.scripts.setdefault(path, []).extend(answers)

    def calls(self, path: str) -> list[httpx.Request]:
        return [request for request in self.requests if request.url.path == path]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        # The client sends the same Request again on a retry (with a new token after a
        # renewal), so keep a copy of each as it was when it arrived.
        self.requests.append(
            httpx.Request(
                request.method, request.url, headers=request.headers.copy(), content=request.content
            )
        )
        queued = self.scripts.get(request.url.path)
        if queued:
            answer = queued.pop(0)
            if isinstance(answer, Exception):
                raise answer
            if callable(answer) and not isinstance(answer, httpx.Response):
                answer = answer(request)
                if hasattr(answer, "__await__"):
                    answer = await answer
            if isinstance(answer, httpx.Response):
                return answer
        if request.url.path == "/o/token/":
            return self._token(request)
        authorization = request.headers.get("Authorization", "")
        valid = {f"Bearer {token}" for token in [*self.issued, STATIC_TOKEN]}
        valid -= {f"Bearer {token}" for token in self.revoked}
        if authorization not in valid:
            return gateway_error(401, "authentication_failed", "Token expired")
        if request.url.path == "/user/balances/":
            return httpx.Response(200, content=BALANCES, headers=JSON)
        if request.url.path == "/user/balances/history/":
            params = request.url.params
            body = history_body(
                params.get("currency", "USDTERC20"),
                params.get("period", "7d"),
                params.get("interval", "daily"),
            )
            return httpx.Response(200, content=body, headers=JSON)
        return gateway_error(404, "not_found", "Not found")

    def _token(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != basic(CLIENT_ID, CLIENT_SECRET):
            return httpx.Response(
                401,
                json={"error": "invalid_client", "error_description": "invalid client credentials"},
            )
        token = f"tok-{len(self.issued) + 1}"
        self.issued.append(token)
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": "read",
        }
        return httpx.Response(200, json=body)


JSON = {"Content-Type": "application/json"}


def gateway_error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    body = {"error": {"code": code, "message": message, "details": {}}}
    return httpx.Response(status, json=body, headers=headers)


@pytest.fixture(autouse=True)
def no_backoff() -> Iterator[None]:
    """stamina's own backoff waits removed; attempts left as each test configures them."""
    with stamina.set_testing(True, attempts=1000, cap=True):
        yield


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def served_waits() -> Iterator[list[float]]:
    """The waits stamina schedules before each retry (its backoff or a server's
    Retry-After), seen through its instrumentation hooks and served on the fast-forward
    loop. Testing mode is off here: it would turn every wait into 0."""
    waits: list[float] = []

    def record(details: RetryDetails) -> None:
        waits.append(details.wait_for)

    with stamina.set_testing(False):
        set_on_retry_hooks([record])
        try:
            yield waits
        finally:
            set_on_retry_hooks(None)
