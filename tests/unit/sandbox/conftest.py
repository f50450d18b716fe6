"""Fixtures for the sandbox's unit tests: the app in-process, a clock and a sleep to control."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from reconcile_tui.sandbox import SandboxConfig, create_app


class FakeClock:
    """Wall-clock seconds that move only when a test says so."""

    def __init__(self, start: float = 1_736_935_200.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordedSleep:
    """Stands in for anyio.sleep: remembers each delay instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> RecordedSleep:
    return RecordedSleep()


SandboxClient = Callable[..., Any]


@pytest.fixture
def sandbox_client(clock: FakeClock, sleeps: RecordedSleep) -> SandboxClient:
    """`async with sandbox_client(config, token=...) as client`: the app over ASGITransport."""

    @asynccontextmanager
    async def open_client(
        config: SandboxConfig | None = None, *, token: str | None = "sandbox-token"
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(config or SandboxConfig(records=600), now=clock, sleep=sleeps)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sandbox.test", headers=headers
        ) as client:
            yield client

    return open_client
