"""Credentials: the bearer token, the client-credentials grant, caching and renewal."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from reconcile_tui.api.auth import (
    NO_CREDENTIALS,
    BearerToken,
    ClientCredentials,
    credentials_from_settings,
    renewal_time,
)
from reconcile_tui.api.client import GatewayClient
from reconcile_tui.errors import ApiError

from .conftest import BALANCES as BALANCES_BODY
from .conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    STATIC_TOKEN,
    FakeGateway,
    FakeTime,
    api_settings,
    basic,
    client_credentials,
    gateway_error,
)

TOKEN = "/o/token/"
BALANCES = "/user/balances/"
HISTORY = "/user/balances/history/"


def client(gateway: FakeGateway, fake_time: FakeTime, **settings: object) -> GatewayClient:
    api = client_credentials(**settings) if "token" not in settings else api_settings(**settings)
    return GatewayClient(api, transport=gateway.transport())


async def test_static_token_is_sent_as_bearer(gateway: FakeGateway, fake_time: FakeTime) -> None:
    async with client(gateway, fake_time, token=SecretStr(STATIC_TOKEN)) as gw:
        await gw.balances()
    [request] = gateway.requests
    assert request.headers["Authorization"] == f"Bearer {STATIC_TOKEN}"
    assert gateway.calls(TOKEN) == []


async def test_client_credentials_request_is_exactly_the_documented_one(
    gateway: FakeGateway, fake_time: FakeTime
) -> None:
    async with client(gateway, fake_time) as gw:
        await gw.balances()
    token_request, data_request = gateway.requests
    assert token_request.method == "POST"
    assert str(token_request.url) == "https://gw.test/o/token/"
    assert token_request.headers["Authorization"] == basic(CLIENT_ID, CLIENT_SECRET)
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert token_request.content == b"grant_type=client_credentials&scope=read"
    assert data_request.headers["Authorization"] == "Bearer tok-1"


async def test_the_token_request_has_the_clients_timeouts(fake_time: FakeTime) -> None:
    seen: dict[str, object] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen[request.url.path] = request.extensions.get("timeout")
        if request.url.path == TOKEN:
            return httpx.Response(200, json={"access_token": "tok-1", "expires_in": 60})
        return httpx.Response(200, content=BALANCES_BODY)

    api = client_credentials(connect_timeout=2, read_timeout=9)
    async with GatewayClient(api, transport=httpx.MockTransport(handler)) as gw:
        await gw.balances()
    expected = {"connect": 2, "read": 9, "write": 2, "pool": 2}
    assert seen == {TOKEN: expected, BALANCES: expected}


async def test_client_credentials_are_form_encoded_inside_basic(
    gateway: FakeGateway, fake_time: FakeTime
) -> None:
    # RFC 6749 2.3.1: id and secret are form-urlencoded before the Basic encoding.
    auth = ClientCredentials("https://gw.test/o/token/", "id with space", SecretStr("p@ss:word+1"))
    async with GatewayClient(api_settings(), transport=gateway.transport(), auth=auth) as gw:
        with pytest.raises(ApiError):
            await gw.balances()
    assert gateway.requests[0].headers["Authorization"] == basic(
        "id+with+space", "p%40ss%3Aword%2B1"
    )


async def test_token_is_cached_across_requests(gateway: FakeGateway, fake_time: FakeTime) -> None:
    async with client(gateway, fake_time) as gw:
        await gw.balances()
        await gw.history("ETH", "7d", "daily")
        await gw.history("USDTERC20", "7d", "daily")
    assert len(gateway.calls(TOKEN)) == 1
    assert {r.headers["Authorization"] for r in gateway.calls(HISTORY)} == {"Bearer tok-1"}


async def test_concurrent_requests_share_one_token_request(
    gateway: FakeGateway, fake_time: FakeTime
) -> None:
    codes = [f"C{n}" for n in range(12)]
    async with client(gateway, fake_time, concurrency=6) as gw:
        await gw.snapshot(period="7d", interval="daily", currencies=codes)
    assert len(gateway.calls(TOKEN)) == 1


@pytest.mark.parametrize(
    ("expires_in", "still_cached_at", "renewed_at"),
    [
        (3600, 3539.0, 3541.0),  # 60 s early
        (300, 269.0, 271.0),  # 10% early when 10% is less than 60 s
    ],
)
async def test_token_is_renewed_shortly_before_it_expires(
    gateway: FakeGateway,
    fake_time: FakeTime,
    expires_in: int,
    still_cached_at: float,
    renewed_at: float,
) -> None:
    gateway.expires_in = expires_in
    async with client(gateway, fake_time, deadline=100_000) as gw:
        start = fake_time.now
        await gw.balances()
        fake_time.now = start + still_cached_at
        await gw.balances()
        assert gateway.issued == ["tok-1"]
        fake_time.now = start + renewed_at
        await gw.balances()
    assert gateway.issued == ["tok-1", "tok-2"]
    assert gateway.calls(BALANCES)[-1].headers["Authorization"] == "Bearer tok-2"


def test_renewal_time() -> None:
    assert renewal_time(100.0, 3600.0) == 100.0 + 3540.0
    assert renewal_time(100.0, 120.0) == 100.0 + 108.0


async def test_a_401_renews_the_token_once_and_retries_once(
    gateway: FakeGateway, fake_time: FakeTime
) -> None:
    gateway.revoked.add("tok-1")  # revoked on the server while we still hold it
    async with client(gateway, fake_time) as gw:
        balances, _ = await gw.balances()
    assert balances.summary.total_currencies == 3
    assert len(gateway.calls(TOKEN)) == 2
    assert [r.headers["Authorization"] for r in gateway.calls(BALANCES)] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]


async def test_a_second_401_is_final(gateway: FakeGateway, fake_time: FakeTime) -> None:
    gateway.revoked.update({"tok-1", "tok-2", "tok-3"})
    async with client(gateway, fake_time) as gw:
        with pytest.raises(ApiError) as caught:
            await gw.balances()
    assert str(caught.value) == (
        "the gateway refused the token: authentication_failed: Token expired "
        "(401 from https://gw.test/user/balances/)"
    )
    assert caught.value.exit_code == 3
    assert (caught.value.status, caught.value.code) == (401, "authentication_failed")
    assert caught.value.url == "https://gw.test/user/balances/"
    assert len(gateway.calls(TOKEN)) == 2
    assert len(gateway.calls(BALANCES)) == 2


async def test_a_static_token_refused_is_final_at_once(
    gateway: FakeGateway, fake_time: FakeTime
) -> None:
    gateway.revoked.add(STATIC_TOKEN)
    async with client(gateway, fake_time, token=SecretStr(STATIC_TOKEN)) as gw:
        with pytest.raises(ApiError, match=r"^the gateway refused the token: "):
            await gw.balances()
    assert len(gateway.requests) == 1


async def test_wrong_secret_is_one_clear_line(gateway: FakeGateway, fake_time: FakeTime) -> None:
    async with client(gateway, fake_time, client_secret=SecretStr("wrong")) as gw:
        with pytest.raises(ApiError) as caught:
            await gw.balances()
    assert str(caught.value) == (
        "authentication failed: invalid client credentials (401 from https://gw.test/o/token/)"
    )
    assert caught.value.exit_code == 3
    assert caught.value.code == "invalid_client"
    assert len(gateway.requests) == 1  # refused credentials are not retried


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            401,
            {"error": {"code": "authentication_failed", "message": "Unknown client"}},
            "authentication failed: Unknown client (401 from https://gw.test/o/token/)",
        ),
        (
            401,
            {"detail": "Not authenticated"},
            "authentication failed: Not authenticated (401 from https://gw.test/o/token/)",
        ),
        (
            400,
            {"error": "invalid_scope"},
            "authentication failed: invalid_scope (400 from https://gw.test/o/token/)",
        ),
        (
            401,
            None,
            "authentication failed: invalid client credentials (401 from https://gw.test/o/token/)",
        ),
    ],
)
async def test_token_endpoint_refusals_use_the_gateways_words(
    gateway: FakeGateway, fake_time: FakeTime, status: int, body: object, expected: str
) -> None:
    answer = httpx.Response(status, json=body) if body is not None else httpx.Response(status)
    gateway.script(TOKEN, answer)
    async with client(gateway, fake_time) as gw:
        with pytest.raises(ApiError) as caught:
            await gw.balances()
    assert str(caught.value) == expected


async def test_token_endpoint_outage_is_retried(gateway: FakeGateway, fake_time: FakeTime) -> None:
    gateway.script(TOKEN, gateway_error(503, "server_error", "Maintenance"))
    async with client(gateway, fake_time) as gw:
        await gw.balances()
    assert len(gateway.calls(TOKEN)) == 2
    assert gateway.issued == ["tok-1"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"token_type": "Bearer"}, "the token response has no access_token"),
        ({"access_token": "x", "token_type": "mac"}, "only Bearer is supported"),
        ([1, 2], "not a JSON object"),
    ],
)
async def test_unusable_token_responses(
    gateway: FakeGateway, fake_time: FakeTime, body: object, expected: str
) -> None:
    gateway.script(TOKEN, httpx.Response(200, json=body))
    async with client(gateway, fake_time) as gw:
        with pytest.raises(ApiError, match=expected):
            await gw.balances()


async def test_token_without_expires_in_is_assumed_to_last_an_hour(
    gateway: FakeGateway, fake_time: FakeTime
) -> None:
    gateway.script(TOKEN, httpx.Response(200, json={"access_token": "tok-1"}))
    gateway.issued.append("tok-1")
    async with client(gateway, fake_time, deadline=100_000) as gw:
        await gw.balances()
        fake_time.advance(3000)
        await gw.balances()
    assert len(gateway.calls(TOKEN)) == 1


def test_no_credentials_is_an_api_error() -> None:
    with pytest.raises(ApiError) as caught:
        credentials_from_settings(api_settings(token=None))
    assert str(caught.value) == NO_CREDENTIALS
    assert caught.value.exit_code == 3


def test_half_of_the_client_credentials_names_what_is_missing() -> None:
    with pytest.raises(ApiError, match=r"\(CRYPTOFUSE_CLIENT_SECRET is not set\)$"):
        credentials_from_settings(api_settings(token=None, client_id="abc"))
    with pytest.raises(ApiError, match=r"\(CRYPTOFUSE_CLIENT_ID is not set\)$"):
        credentials_from_settings(api_settings(token=None, client_secret=SecretStr("x")))


def test_a_bearer_token_wins_over_client_credentials() -> None:
    auth = credentials_from_settings(
        api_settings(client_id=CLIENT_ID, client_secret=SecretStr(CLIENT_SECRET))
    )
    assert isinstance(auth, BearerToken)


def test_client_credentials_refuse_a_synchronous_client() -> None:
    auth = credentials_from_settings(client_credentials())
    with (
        httpx.Client(
            transport=httpx.MockTransport(lambda _: httpx.Response(200)), auth=auth
        ) as sync,
        pytest.raises(TypeError, match="AsyncClient only"),
    ):
        sync.get("https://gw.test/user/balances/")
