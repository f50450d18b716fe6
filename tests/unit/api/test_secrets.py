"""The token and the client secret appear nowhere: logs at DEBUG, reprs, errors, snapshots.

The full run goes through a real HTTP server on the loopback interface, so httpx's and
httpcore's own DEBUG logging of a real connection is part of what is checked.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from pydantic import SecretStr

from reconcile_tui.api.auth import credentials_from_settings
from reconcile_tui.api.client import GatewayClient, fetch_snapshot
from reconcile_tui.config import ApiSettings
from reconcile_tui.errors import ApiError

from .conftest import BALANCES, JSON, FakeGateway, gateway_error, history_body

CLIENT_ID = "merchant-7"
SECRET = "Zq8-SECRET-client-value-4471"
TOKENS = ["Xk3-TOKEN-first-issued-9921", "Yw5-TOKEN-second-issued-1187"]
BASIC = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
SECRETS = [SECRET, *TOKENS, BASIC]


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


@dataclass
class LoopbackGateway:
    """A minimal HTTP/1.1 gateway on 127.0.0.1: issues tokens, refuses the first one once,
    and fails the first history request with a 503, so renewal and retry are both logged."""

    issued: list[str] = field(default_factory=list)
    failed_history: bool = False
    seen: list[str] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *header_lines = head.split("\r\n")
        method, target, _ = request_line.split(" ")
        headers = {}
        for line in header_lines:
            if line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        status, payload = self.answer(method, target, headers, body)
        self.seen.append(f"{method} {target} {status}")
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        if target == "/o/token/":
            if headers.get("authorization") != f"Basic {BASIC}":
                return 401, b'{"error": "invalid_client"}'
            token = TOKENS[len(self.issued)]
            self.issued.append(token)
            return 200, json.dumps(
                {"access_token": token, "token_type": "Bearer", "expires_in": 3600}
            ).encode()
        if headers.get("authorization") != f"Bearer {TOKENS[-1]}":
            return 401, b'{"error": {"code": "authentication_failed", "message": "Token expired"}}'
        if target == "/user/balances/":
            return 200, BALANCES
        if target.startswith("/transactions/transactions/"):
            return 200, b'{"count": 0, "next": null, "previous": null, "results": []}'
        currency = target.split("currency=")[1].split("&")[0]
        if not self.failed_history:
            self.failed_history = True
            return 503, b'{"error": {"code": "server_error", "message": "Busy"}}'
        return 200, history_body(currency)


@pytest.fixture
async def loopback(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[str, LoopbackGateway]]:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    gateway = LoopbackGateway()
    server = await asyncio.start_server(gateway.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", gateway


def capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "stamina", "reconcile_tui"):
        caplog.set_level(logging.DEBUG, logger=name)


def assert_logs_clean(caplog: pytest.LogCaptureFixture) -> None:
    assert_no_secret(caplog.text)
    for record in caplog.records:
        # extra fields (stamina puts its retry details there) count as logged too
        assert_no_secret(repr(record.__dict__))


async def test_a_full_run_logs_no_secret(
    loopback: tuple[str, LoopbackGateway], caplog: pytest.LogCaptureFixture
) -> None:
    url, gateway = loopback
    capture_everything(caplog)
    api = ApiSettings(url=url, client_id=CLIENT_ID, client_secret=SecretStr(SECRET))
    snapshot = await fetch_snapshot(api, period="7d", interval="daily")

    # the run really went through a renewal after a 401 and a retry after a 503
    assert gateway.issued == TOKENS
    assert any(line.endswith(" 503") for line in gateway.seen)
    assert len(snapshot.histories) == 3
    assert snapshot.transactions == ()
    # and the capture really covered the HTTP libraries' DEBUG output
    assert any(record.name.startswith("httpcore") for record in caplog.records)
    assert any(record.name == "httpx" for record in caplog.records)
    assert any(record.name == "stamina" for record in caplog.records)

    assert_logs_clean(caplog)
    assert_no_secret(repr(snapshot))
    assert_no_secret(repr(api))
    for raw in [snapshot.balances_raw, *snapshot.histories_raw.values()]:
        assert_no_secret(raw.decode())


async def test_failures_carry_no_secret(
    loopback: tuple[str, LoopbackGateway], caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = loopback
    capture_everything(caplog)
    wrong = ApiSettings(url=url, client_id=CLIENT_ID, client_secret=SecretStr(SECRET + "x"))
    with pytest.raises(ApiError) as caught:
        await fetch_snapshot(wrong, period="7d", interval="daily")
    assert str(caught.value).startswith("authentication failed: ")
    assert_no_secret(str(caught.value) + repr(caught.value) + repr(caught.value.args))
    assert_logs_clean(caplog)


async def test_reprs_hide_the_secrets() -> None:
    auth = credentials_from_settings(
        ApiSettings(url="https://gw.test", client_id=CLIENT_ID, client_secret=SecretStr(SECRET))
    )
    bearer = ApiSettings(url="https://gw.test", token=SecretStr(TOKENS[0]))
    async with GatewayClient(bearer, transport=FakeGateway().transport()) as client:
        text = repr(auth) + repr(client) + repr(client.auth) + repr(bearer)
    assert CLIENT_ID in repr(auth)
    assert_no_secret(text)


async def test_refused_static_token_is_named_but_not_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    capture_everything(caplog)
    outage = gateway_error(503, "server_error", "Busy")
    refused = gateway_error(401, "authentication_failed", "Token expired")
    answers = [outage, refused]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0) if answers else httpx.Response(200, content=BALANCES, headers=JSON)

    api = ApiSettings(url="https://gw.test", token=SecretStr(TOKENS[0]))
    async with GatewayClient(api, transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(ApiError) as caught:
            await client.balances()
    assert str(caught.value).startswith("the gateway refused the token: ")
    assert_no_secret(str(caught.value) + repr(caught.value.__context__))
    assert_logs_clean(caplog)
