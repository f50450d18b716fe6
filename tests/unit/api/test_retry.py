"""Retry-After parsing, the real timekeeper under stamina's testing mode, the policy's reprs."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest
import stamina

from reconcile_tui.api.failures import RetryableError, display_url, seconds_text
from reconcile_tui.api.retry import SystemTime, parse_retry_after
from reconcile_tui.errors import ApiError

NOW = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("2", 2.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("Wed, 15 Jan 2025 10:00:30 GMT", 30.0),
        ("Wed, 15 Jan 2025 09:59:00 GMT", 0.0),  # already past: retry now
        ("Wed, 15 Jan 2025 10:01:00 -0000", 60.0),
        (None, None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),  # RFC 9110 delay-seconds are whole seconds
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


@pytest.fixture
def event_loop_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """What SystemTime asks the event loop to sleep, recorded instead of slept. Only this
    test's thread is recorded: a server thread another test left winding down (uvicorn
    polls with `asyncio.sleep`) sleeps for real, as it would have."""
    asked: list[float] = []
    real_sleep = asyncio.sleep
    this_thread = threading.get_ident()

    async def sleep(seconds: float, *args: object) -> object:
        if threading.get_ident() != this_thread:
            return await real_sleep(seconds, *args)
        asked.append(seconds)
        return None

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return asked


async def test_system_time_does_not_sleep_in_stamina_testing_mode(
    event_loop_sleeps: list[float],
) -> None:
    # conftest switches stamina's testing mode on for every test in this package, so
    # tests of code above the client never wait out a server's Retry-After
    assert stamina.is_testing()
    await SystemTime().sleep(3600)
    assert event_loop_sleeps == []


async def test_system_time_sleeps_outside_testing_mode(event_loop_sleeps: list[float]) -> None:
    with stamina.set_testing(False):
        await SystemTime().sleep(2.5)
    assert event_loop_sleeps == [2.5]


def test_seconds_text() -> None:
    assert [seconds_text(s) for s in (2.0, 2.5, 0.05, 120.0, 7.0)] == [
        "2",
        "2.5",
        "0.05",
        "120",
        "7",
    ]


def test_display_url_drops_credentials_in_the_url() -> None:
    assert display_url("https://user:pw@gw.test/user/balances/") == "https://gw.test/user/balances/"


def test_retryable_error_repr_is_its_message() -> None:
    error = RetryableError(ApiError("the gateway is unavailable (503 from x)"), retry_after=2.0)
    assert (
        repr(error) == "RetryableError('the gateway is unavailable (503 from x)', retry_after=2.0)"
    )
