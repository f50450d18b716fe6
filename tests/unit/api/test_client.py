"""The client: snapshots, concurrency, raw bodies, and one clear line for each failure."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from reconcile_tui.api.client import GatewayClient, fetch_snapshot, fetch_snapshot_sync, timeouts
from reconcile_tui.errors import ApiError, BadInput

from .conftest import (
    BALANCES,
    HISTORY_USDT,
    JSON,
    NOW,
    FakeGateway,
    FakeTime,
    api_settings,
    gateway_error,
    history_body,
)

BALANCES_PATH = "/user/balances/"
HISTORY_PATH = "/user/balances/history/"
BALANCES_URL = "https://gw.test/user/balances/"


def fixed_clock() -> datetime:
    return NOW


def client(gateway: FakeGateway, fake_time: FakeTime, **settings: object) -> GatewayClient:
    return GatewayClient(
        api_settings(**settings),
        transport=gateway.transport(),
        clock=fixed_clock,
    )


async def failure(gateway: FakeGateway, fake_time: FakeTime, **settings: object) -> ApiError:
    async with client(gateway, fake_time, **settings) as gw:
        with pytest.raises(ApiError) as caught:
            await gw.balances()
    return caught.value


# --- snapshots ---------------------------------------------------------------------------


async def test_snapshot_holds_balances_and_every_reported_history(gateway: FakeGateway) -> None:
    snapshot = await fetch_snapshot(
        api_settings(),
        period="7d",
        interval="daily",
        transport=gateway.transport(),
        clock=fixed_clock,
    )
    assert list(snapshot.histories) == ["USDTERC20", "USDCERC20", "ETH"]
    assert snapshot.fetched_at == NOW
    assert (snapshot.base_url, snapshot.period, snapshot.interval) == (
        "https://gw.test",
        "7d",
        "daily",
    )
    assert snapshot.balances.summary.total_currencies == 3
    assert str(snapshot.histories["ETH"].summary.ending_balance) == "5000.000000"
    queries = [dict(r.url.params) for r in gateway.calls(HISTORY_PATH)]
    assert {"currency": "ETH", "period": "7d", "interval": "daily"} in queries


async def test_raw_bodies_are_kept_byte_for_byte(gateway: FakeGateway) -> None:
    snapshot = await fetch_snapshot(
        api_settings(), period="7d", interval="daily", transport=gateway.transport()
    )
    assert snapshot.balances_raw == BALANCES
    assert snapshot.histories_raw["USDTERC20"] == HISTORY_USDT
    assert snapshot.histories_raw["ETH"] == history_body("ETH")


async def test_currencies_filter_fetches_exactly_those(gateway: FakeGateway) -> None:
    snapshot = await fetch_snapshot(
        api_settings(),
        period="30d",
        interval="hourly",
        currencies=["eth", "BTC", "ETH"],
        transport=gateway.transport(),
    )
    # BTC is not in the balances, and is fetched all the same; repeats are fetched once
    assert list(snapshot.histories) == ["ETH", "BTC"]
    assert sorted(r.url.params["currency"] for r in gateway.calls(HISTORY_PATH)) == ["BTC", "ETH"]


async def test_empty_currencies_fetches_balances_only(gateway: FakeGateway) -> None:
    gateway.scripts[HISTORY_PATH] = []
    snapshot = await fetch_snapshot(
        api_settings(), period="7d", interval="daily", currencies=[], transport=gateway.transport()
    )
    assert snapshot.histories == {}
    assert gateway.calls(HISTORY_PATH) == []


async def test_concurrency_bound_is_respected_and_all_histories_fetched() -> None:
    codes = [f"COIN{n:02d}" for n in range(20)]
    in_flight = 0
    most_in_flight = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most_in_flight
        if request.url.path == BALANCES_PATH:
            return httpx.Response(200, content=BALANCES, headers=JSON)
        if request.url.path != HISTORY_PATH:
            return httpx.Response(404, json={"detail": "Not found."})
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        # The gate: stay in flight over several turns of the loop, so that every request
        # the client would let through is in the handler at the same time.
        for _ in range(5):
            await asyncio.sleep(0)
        in_flight -= 1
        return httpx.Response(200, content=history_body(request.url.params["currency"]))

    snapshot = await fetch_snapshot(
        api_settings(concurrency=4),
        period="7d",
        interval="daily",
        currencies=codes,
        transport=httpx.MockTransport(handler),
    )
    assert most_in_flight == 4
    assert list(snapshot.histories) == codes
    assert all(snapshot.histories_raw[code] == history_body(code) for code in codes)


def test_sync_wrapper_runs_the_fetch(gateway: FakeGateway) -> None:
    snapshot = fetch_snapshot_sync(
        api_settings(), period="24h", interval="hourly", transport=gateway.transport()
    )
    assert snapshot.period == "24h"
    assert len(snapshot.histories) == 3


@pytest.mark.parametrize(("period", "interval"), [("1y", "daily"), ("7d", "weekly")])
async def test_unknown_period_or_interval_is_bad_input(
    gateway: FakeGateway, period: str, interval: str
) -> None:
    with pytest.raises(BadInput, match="must be one of"):
        await fetch_snapshot(
            api_settings(), period=period, interval=interval, transport=gateway.transport()
        )
    assert gateway.requests == []


async def test_a_history_for_another_currency_is_refused(
    gateway: FakeGateway, fake_time: FakeTime
) -> None:
    gateway.script(HISTORY_PATH, httpx.Response(200, content=history_body("BTC")))
    async with client(gateway, fake_time) as gw:
        with pytest.raises(
            ApiError, match=r"asked for ETH 7d daily, the gateway answered BTC 7d daily"
        ):
            await gw.history("ETH", "7d", "daily")


async def test_one_failing_history_fails_the_snapshot_with_its_own_line(
    gateway: FakeGateway,
) -> None:
    def history(request: httpx.Request) -> httpx.Response:
        if request.url.params["currency"] == "ETH":
            return gateway_error(404, "not_found", "Unknown currency")
        return httpx.Response(200, content=history_body(request.url.params["currency"]))

    gateway.script(HISTORY_PATH, history, history, history)
    with pytest.raises(ApiError) as caught:
        await fetch_snapshot(
            api_settings(), period="7d", interval="daily", transport=gateway.transport()
        )
    assert str(caught.value) == (
        "the gateway has no such resource: not_found: Unknown currency (404 from "
        "https://gw.test/user/balances/history/?currency=ETH&period=7d&interval=daily)"
    )


async def test_client_must_be_entered(gateway: FakeGateway) -> None:
    gw = GatewayClient(api_settings(), transport=gateway.transport())
    with pytest.raises(RuntimeError, match="async with"):
        await gw.balances()


def test_timeouts_are_explicit() -> None:
    timeout = timeouts(api_settings(connect_timeout=3, read_timeout=12))
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (3, 12, 3, 3)


# --- retries -----------------------------------------------------------------------------


async def test_429_waits_the_retry_after_seconds_then_succeeds(
    gateway: FakeGateway, fake_time: FakeTime, served_waits: list[float]
) -> None:
    gateway.script(BALANCES_PATH, httpx.Response(429, headers={"Retry-After": "2"}))
    async with client(gateway, fake_time) as gw:
        started = fake_time.now
        _, raw = await gw.balances()
        assert fake_time.now - started == pytest.approx(2.0)
    assert raw == BALANCES
    assert served_waits == [2.0]
    assert len(gateway.calls(BALANCES_PATH)) == 2


async def test_retry_after_as_an_http_date(
    gateway: FakeGateway, fake_time: FakeTime, served_waits: list[float]
) -> None:
    # NOW is 2025-01-15 10:00:00 UTC; the gateway asks us back 5 s later
    retry_at = "Wed, 15 Jan 2025 10:00:05 GMT"
    gateway.script(BALANCES_PATH, httpx.Response(503, headers={"Retry-After": retry_at}))
    async with client(gateway, fake_time) as gw:
        await gw.balances()
    assert served_waits == [5.0]


async def test_retry_after_over_the_cap_fails_at_once(
    gateway: FakeGateway, fake_time: FakeTime, served_waits: list[float]
) -> None:
    gateway.script(BALANCES_PATH, httpx.Response(429, headers={"Retry-After": "120"}))
    error = await failure(gateway, fake_time, retry_after_cap=30)
    assert str(error) == (
        "the gateway is rate-limiting requests (429 from https://gw.test/user/balances/): "
        "the gateway asks to wait 120 s before retrying (Retry-After), longer than the "
        "30 s limit; try again later"
    )
    assert error.status == 429
    assert served_waits == []
    assert len(gateway.requests) == 1


async def test_retry_after_beyond_the_deadline_fails_at_once(
    gateway: FakeGateway, fake_time: FakeTime, served_waits: list[float]
) -> None:
    gateway.script(BALANCES_PATH, httpx.Response(429, headers={"Retry-After": "20"}))
    error = await failure(gateway, fake_time, deadline=15, retry_after_cap=30)
    assert str(error) == (
        "the gateway is rate-limiting requests (429 from https://gw.test/user/balances/): "
        "the gateway asks to wait 20 s (Retry-After), more than the 15 s left of the 15 s "
        "deadline"
    )
    assert served_waits == []


async def test_unreadable_retry_after_falls_back_to_backoff(
    gateway: FakeGateway, fake_time: FakeTime, served_waits: list[float]
) -> None:
    gateway.script(BALANCES_PATH, httpx.Response(429, headers={"Retry-After": "soon"}))
    async with client(gateway, fake_time) as gw:
        await gw.balances()
    # stamina's first backoff: wait_initial (0.5 s) plus up to 1 s of jitter
    assert len(served_waits) == 1
    assert 0.5 <= served_waits[0] <= 1.5
    assert len(gateway.requests) == 2


async def test_a_burst_of_503s_is_survived(gateway: FakeGateway, fake_time: FakeTime) -> None:
    outage = gateway_error(503, "server_error", "Service unavailable")
    gateway.script(BALANCES_PATH, outage, outage, outage)
    async with client(gateway, fake_time, max_attempts=5) as gw:
        _, raw = await gw.balances()
    assert raw == BALANCES
    assert len(gateway.calls(BALANCES_PATH)) == 4


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_a_permanent_outage_fails_after_max_attempts(
    gateway: FakeGateway, fake_time: FakeTime, status: int
) -> None:
    gateway.script(BALANCES_PATH, *[gateway_error(status, "server_error", "Down")] * 10)
    error = await failure(gateway, fake_time, max_attempts=3)
    assert str(error) == (
        f"the gateway is unavailable: server_error: Down ({status} from "
        "https://gw.test/user/balances/) (after 3 attempts)"
    )
    assert (error.status, error.code, error.exit_code) == (status, "server_error", 3)
    assert len(gateway.requests) == 3


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (500, "server_error", "the gateway failed: server_error: Boom (500 from "),
        (404, "not_found", "the gateway has no such resource: not_found: Boom (404 from "),
        (
            400,
            "invalid_request",
            "the gateway refused the request: invalid_request: Boom (400 from ",
        ),
        (403, "permission_denied", "the gateway denied access: permission_denied: Boom (403 from "),
    ],
)
async def test_other_errors_are_not_retried(
    gateway: FakeGateway, fake_time: FakeTime, status: int, code: str, expected: str
) -> None:
    gateway.script(BALANCES_PATH, *[gateway_error(status, code, "Boom")] * 3)
    error = await failure(gateway, fake_time)
    assert str(error) == f"{expected}{BALANCES_URL})"
    assert len(gateway.requests) == 1


async def test_the_detail_error_shape_is_understood(
    gateway: FakeGateway, fake_time: FakeTime
) -> None:
    gateway.script(BALANCES_PATH, httpx.Response(403, json={"detail": "Not authenticated"}))
    error = await failure(gateway, fake_time)
    assert str(error) == f"the gateway denied access: Not authenticated (403 from {BALANCES_URL})"


async def test_a_connection_error_is_retried(gateway: FakeGateway, fake_time: FakeTime) -> None:
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    gateway.script(BALANCES_PATH, refused, refused)
    async with client(gateway, fake_time) as gw:
        await gw.balances()
    assert len(gateway.requests) == 3


async def test_a_host_that_never_answers_is_one_line(
    gateway: FakeGateway, fake_time: FakeTime
) -> None:
    gateway.script(BALANCES_PATH, *[httpx.ConnectError("[Errno 111] Connection refused")] * 5)
    error = await failure(gateway, fake_time, max_attempts=2)
    assert str(error) == "cannot connect to https://gw.test: connection refused (after 2 attempts)"
    assert error.exit_code == 3


async def test_a_read_timeout_is_retried_then_named(
    gateway: FakeGateway, fake_time: FakeTime
) -> None:
    gateway.script(BALANCES_PATH, *[httpx.ReadTimeout("timed out")] * 5)
    error = await failure(gateway, fake_time, max_attempts=2, read_timeout=7)
    assert str(error) == f"{BALANCES_URL}: no answer within 7.0 s (read timeout) (after 2 attempts)"


async def test_the_deadline_bounds_retries_in_simulated_time(
    gateway: FakeGateway, fake_time: FakeTime
) -> None:
    async def slow_outage(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(4)  # each answer takes 4 s on the fast-forward loop
        return gateway_error(503, "server_error", "Down")

    gateway.script(BALANCES_PATH, *[slow_outage] * 50)
    error = await failure(gateway, fake_time, deadline=10, max_attempts=20)
    assert str(error) == (
        "gave up after 10 s: fetching https://gw.test/user/balances/; last error: the gateway "
        "is unavailable: server_error: Down (503 from https://gw.test/user/balances/)"
    )
    assert error.exit_code == 3
    assert len(gateway.requests) == 3  # at 0, 4 and 8 s; at 12 s the deadline has passed


async def test_the_deadline_cuts_off_a_request_that_hangs(gateway: FakeGateway) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("never answered")

    gateway.script(BALANCES_PATH, hang)
    async with GatewayClient(api_settings(deadline=0.05), transport=gateway.transport()) as gw:
        with pytest.raises(
            ApiError, match=r"^gave up after 0.05 s: fetching https://gw.test/user/balances/$"
        ):
            await gw.balances()


async def test_the_deadline_covers_the_whole_command(
    gateway: FakeGateway, fake_time: FakeTime
) -> None:
    async with client(gateway, fake_time, deadline=10) as gw:
        await gw.balances()
        fake_time.advance(11)
        with pytest.raises(ApiError, match=r"^gave up after 10 s: fetching .*currency=ETH"):
            await gw.history("ETH", "7d", "daily")


# --- bodies ------------------------------------------------------------------------------


async def test_an_html_error_page_is_named(gateway: FakeGateway, fake_time: FakeTime) -> None:
    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    gateway.script(
        BALANCES_PATH,
        *[httpx.Response(502, content=page, headers={"Content-Type": "text/html"})] * 2,
    )
    error = await failure(gateway, fake_time, max_attempts=2)
    assert str(error) == (
        f"{BALANCES_URL} answered an HTML page instead of JSON (502 from a proxy?) "
        "(after 2 attempts)"
    )


async def test_an_html_page_with_200_is_refused(gateway: FakeGateway, fake_time: FakeTime) -> None:
    gateway.script(BALANCES_PATH, httpx.Response(200, content=b"<!doctype html><p>Log in</p>"))
    error = await failure(gateway, fake_time)
    assert str(error).startswith(f"{BALANCES_URL} answered an HTML page instead of JSON (200")


async def test_json_with_the_wrong_content_type_is_accepted(
    gateway: FakeGateway, fake_time: FakeTime
) -> None:
    gateway.script(
        BALANCES_PATH, httpx.Response(200, content=BALANCES, headers={"Content-Type": "text/html"})
    )
    async with client(gateway, fake_time) as gw:
        balances, _ = await gw.balances()
    assert len(balances.balances) == 3


async def test_truncated_json_is_named(gateway: FakeGateway, fake_time: FakeTime) -> None:
    gateway.script(HISTORY_PATH, httpx.Response(200, content=HISTORY_USDT[:300], headers=JSON))
    async with client(gateway, fake_time) as gw:
        with pytest.raises(ApiError) as caught:
            await gw.history("USDTERC20", "7d", "daily")
    assert str(caught.value).startswith(
        "https://gw.test/user/balances/history/?currency=USDTERC20&period=7d&interval=daily: "
        "truncated or invalid JSON ("
    )


async def test_an_empty_body_is_named(gateway: FakeGateway, fake_time: FakeTime) -> None:
    gateway.script(BALANCES_PATH, httpx.Response(200))
    error = await failure(gateway, fake_time)
    assert str(error) == f"{BALANCES_URL} answered an empty body instead of JSON (200)"


async def test_a_number_where_an_amount_belongs_is_refused(
    gateway: FakeGateway, fake_time: FakeTime
) -> None:
    body = json.loads(BALANCES)
    body["balances"][0]["total_balance"] = 5000.0
    gateway.script(BALANCES_PATH, httpx.Response(200, json=body))
    error = await failure(gateway, fake_time)
    assert str(error) == (
        f"{BALANCES_URL}: balances[0].total_balance: "
        "amount must be a JSON string, got number 5000.0"
    )
    assert error.exit_code == 3


async def test_a_declared_enormous_body_is_refused_unread(
    gateway: FakeGateway, fake_time: FakeTime
) -> None:
    gateway.script(
        BALANCES_PATH,
        httpx.Response(200, headers={"Content-Length": str(60 * 1024 * 1024)}, content=b"{}"),
    )
    error = await failure(gateway, fake_time)
    assert str(error) == f"{BALANCES_URL} answered more than 50 MB; refusing to read it"


class EndlessBody(httpx.AsyncByteStream):
    """A body that never ends, counting how much of it was asked for."""

    def __init__(self) -> None:
        self.chunks_sent = 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            self.chunks_sent += 1
            yield b"[" * (1024 * 1024)

    async def aclose(self) -> None:
        self.closed = True


async def test_an_endless_body_is_cut_off_at_the_limit(
    gateway: FakeGateway, fake_time: FakeTime
) -> None:
    endless = EndlessBody()
    gateway.script(BALANCES_PATH, httpx.Response(200, stream=endless))
    error = await failure(gateway, fake_time)
    assert str(error) == f"{BALANCES_URL} answered more than 50 MB; refusing to read it"
    assert endless.chunks_sent == 51  # stopped just past 50 MB: memory stays bounded
    assert endless.closed


async def test_a_redirect_is_not_followed(gateway: FakeGateway, fake_time: FakeTime) -> None:
    gateway.script(
        BALANCES_PATH, httpx.Response(301, headers={"Location": "https://elsewhere.test/"})
    )
    error = await failure(gateway, fake_time)
    assert str(error) == (
        f"{BALANCES_URL} redirected to https://elsewhere.test/ (301); "
        "set CRYPTOFUSE_API_URL to the API's own address"
    )
    assert len(gateway.requests) == 1
