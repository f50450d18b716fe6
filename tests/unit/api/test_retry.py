"""Retry-After parsing, the waits under stamina's testing mode and outside it, the reprs."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest
import stamina
from stamina.instrumentation import set_on_retry_hooks

from reconcile_tui.api.client import GatewayClient
from reconcile_tui.api.failures import RetryableError, display_url, seconds_text
from reconcile_tui.api.retry import (
    Deadline,
    RetryPolicy,
    call_with_retries,
    loop_time,
    parse_retry_after,
)
from reconcile_tui.errors import ApiError

from .conftest import FakeGateway, api_settings

NOW = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
BALANCES_PATH = "/user/balances/"


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


async def test_stamina_testing_mode_waits_out_no_retry_after(gateway: FakeGateway) -> None:
    # conftest switches stamina's testing mode on for every test in this package, as the
    # tests of code above the client do: a server's Retry-After must not make them wait
    assert stamina.is_testing()
    waits: list[float] = []
    gateway.script(BALANCES_PATH, httpx.Response(429, headers={"Retry-After": "20"}))
    set_on_retry_hooks([lambda details: waits.append(details.wait_for)])
    try:
        async with GatewayClient(api_settings(deadline=60), transport=gateway.transport()) as gw:
            started = loop_time()
            await gw.balances()
            assert loop_time() == started
    finally:
        set_on_retry_hooks(None)
    assert waits == [0.0]
    assert len(gateway.calls(BALANCES_PATH)) == 2


async def test_outside_testing_mode_the_retry_after_is_waited_out(
    gateway: FakeGateway, served_waits: list[float]
) -> None:
    gateway.script(BALANCES_PATH, httpx.Response(429, headers={"Retry-After": "20"}))
    async with GatewayClient(api_settings(deadline=60), transport=gateway.transport()) as gw:
        started = loop_time()
        await gw.balances()
        assert loop_time() - started == pytest.approx(20)
    assert served_waits == [20.0]


async def test_stamina_stops_retrying_at_the_deadline_while_the_loop_never_waits(
    served_waits: list[float],
) -> None:
    # Each attempt blocks (the loop's clock stands still, only the process clock moves)
    # and stamina's backoff is 0, so nothing but stamina's own timeout can end the
    # retries; it is the same deadline, and says so. (stamina's testing mode drops its
    # timeout, hence `served_waits`, which turns that mode off.)
    attempts: list[int] = []

    async def blocking_outage() -> None:
        attempts.append(1)
        time.sleep(0.15)
        raise RetryableError(ApiError("the gateway is unavailable (503 from x)"))

    with pytest.raises(ApiError) as caught:
        await call_with_retries(
            blocking_outage,
            what="fetching x",
            policy=RetryPolicy(max_attempts=20, wait_initial=0, wait_max=0, wait_jitter=0),
            deadline=Deadline(0.2),
        )
    assert str(caught.value) == (
        "gave up after 0.2 s: fetching x; last error: the gateway is unavailable (503 from x)"
    )
    assert 1 <= len(attempts) < 20
    assert served_waits == [0.0] * (len(attempts) - 1)


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
