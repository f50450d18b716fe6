"""The sandbox app in-process: shapes, errors, auth and faults, exactly as documented."""

from __future__ import annotations

import base64
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from reconcile_tui.api.models import parse_balances, parse_error_body, parse_history
from reconcile_tui.sandbox import SandboxConfig, create_app
from reconcile_tui.times import INTERVALS, PERIODS
from tests.unit.sandbox.conftest import FakeClock, RecordedSleep

CONFIG = SandboxConfig(records=600)
TOKEN_FORM = {"grant_type": "client_credentials", "scope": "read"}


def error_of(response: httpx.Response) -> tuple[int, str, dict[str, Any]]:
    """(status, code, details) of a documented error body; fails on any other shape."""
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    parsed = parse_error_body(response.content)
    assert parsed is not None
    return response.status_code, parsed.code, parsed.details


async def issue(client: httpx.AsyncClient, **form: str) -> httpx.Response:
    return await client.post(
        "/o/token/", data=TOKEN_FORM | form, auth=("sandbox-client", "sandbox-secret")
    )


# -- shapes ------------------------------------------------------------------------------


async def test_balances_parse_as_the_page_documents(sandbox_client) -> None:
    async with sandbox_client(CONFIG) as client:
        response = await client.get("/user/balances/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    balances = parse_balances(response.content)
    assert [b.currency for b in balances.balances] == [
        "USDTERC20",
        "USDCERC20",
        "DAIERC20",
        "ETH",
        "USDTTRC20",
    ]
    assert balances.printed_scales() == dict.fromkeys(
        ["USDTERC20", "USDCERC20", "DAIERC20", "ETH", "USDTTRC20"], 6
    ) | {"ETH": 18}
    wallets = {w.wallet_id: w.wallet_name for b in balances.balances for w in b.wallets}
    assert wallets["550e8400-e29b-41d4-a716-446655440000"] == "Default Wallet"
    assert wallets["660e8400-e29b-41d4-a716-446655440001"] == "Online Store"
    assert balances.summary.total_wallets == len(wallets) == 3
    raw = response.json()
    assert all(isinstance(entry["total_balance"], str) for entry in raw["balances"])


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("interval", INTERVALS)
async def test_every_history_parses(sandbox_client, period: str, interval: str) -> None:
    async with sandbox_client(CONFIG) as client:
        for code in ("USDTERC20", "ETH", "USDTTRC20"):
            response = await client.get(
                "/user/balances/history/",
                params={"currency": code, "period": period, "interval": interval},
            )
            assert response.status_code == 200
            history = parse_history(response.content)
            assert (history.currency, history.period, history.interval) == (code, period, interval)


async def test_history_defaults_to_7d_daily_of_the_first_currency(sandbox_client) -> None:
    async with sandbox_client(CONFIG) as client:
        bare = await client.get("/user/balances/history/")
        explicit = await client.get(
            "/user/balances/history/",
            params={"currency": "USDTERC20", "period": "7d", "interval": "daily"},
        )
    assert bare.content == explicit.content
    history = parse_history(bare.content)
    assert (history.currency, history.period, history.interval) == ("USDTERC20", "7d", "daily")
    assert len(history.history) == 7


async def test_unslashed_paths_redirect_to_the_documented_ones(sandbox_client) -> None:
    async with sandbox_client(CONFIG) as client:
        response = await client.get("/user/balances", follow_redirects=True)
    assert response.status_code == 200
    parse_balances(response.content)


# -- bad requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"period": "1y"}, {"period"}),
        ({"interval": "weekly"}, {"interval"}),
        ({"period": "", "interval": "minutely"}, {"period", "interval"}),
        ({"period": "7D"}, {"period"}),
    ],
)
async def test_bad_parameters_answer_400_invalid_request(sandbox_client, params, bad) -> None:
    async with sandbox_client(CONFIG) as client:
        response = await client.get("/user/balances/history/", params=params)
    status, code, details = error_of(response)
    assert (status, code) == (400, "invalid_request")
    assert set(details) == bad


async def test_a_currency_the_account_does_not_hold_is_404(sandbox_client) -> None:
    async with sandbox_client(CONFIG) as client:
        response = await client.get("/user/balances/history/", params={"currency": "DOGE"})
    status, code, details = error_of(response)
    assert (status, code) == (404, "not_found")
    assert details["currency"] == "DOGE"
    assert "USDTERC20" in details["available"]


async def test_unknown_paths_and_methods_answer_in_the_documented_shape(sandbox_client) -> None:
    async with sandbox_client(CONFIG) as client:
        missing = await client.get("/transactions/nothing/")
        wrong_method = await client.post("/user/balances/")
    assert error_of(missing)[:2] == (404, "not_found")
    assert error_of(wrong_method)[:2] == (405, "method_not_allowed")
    assert "GET" in wrong_method.headers["allow"]


# -- authentication ----------------------------------------------------------------------


async def test_client_credentials_by_basic_auth_give_a_working_token(sandbox_client) -> None:
    async with sandbox_client(CONFIG, token=None) as client:
        response = await issue(client)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"access_token", "token_type", "expires_in", "scope", "issued_at"}
        assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "read")
        assert body["issued_at"].endswith("Z")
        assert response.headers["cache-control"] == "no-store"
        data = await client.get(
            "/user/balances/", headers={"Authorization": f"Bearer {body['access_token']}"}
        )
    assert data.status_code == 200


async def test_client_credentials_in_the_form_body_work_too(sandbox_client) -> None:
    form = TOKEN_FORM | {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}
    async with sandbox_client(CONFIG, token=None) as client:
        response = await client.post("/o/token/", data=form)
        token = response.json()["access_token"]
        data = await client.get("/user/balances/", headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, data.status_code) == (200, 200)


async def test_each_token_is_new_and_the_scope_defaults_to_read(sandbox_client) -> None:
    async with sandbox_client(CONFIG, token=None) as client:
        first = await client.post(
            "/o/token/",
            data={"grant_type": "client_credentials"},
            auth=("sandbox-client", "sandbox-secret"),
        )
        second = await issue(client, scope="write read")
    assert first.json()["scope"] == "read"
    assert second.json()["scope"] == "read write"
    assert first.json()["access_token"] != second.json()["access_token"]


@pytest.mark.parametrize(
    ("auth", "form", "status", "code"),
    [
        (("sandbox-client", "wrong"), TOKEN_FORM, 401, "authentication_failed"),
        (("someone", "sandbox-secret"), TOKEN_FORM, 401, "authentication_failed"),
        (None, TOKEN_FORM, 401, "authentication_failed"),
        (("sandbox-client", "sandbox-secret"), {"grant_type": "password"}, 400, "invalid_request"),
        (("sandbox-client", "sandbox-secret"), {"scope": "read"}, 400, "invalid_request"),
        (
            ("sandbox-client", "sandbox-secret"),
            TOKEN_FORM | {"scope": "admin"},
            400,
            "invalid_request",
        ),
    ],
)
async def test_the_token_endpoint_refuses_with_the_documented_body(
    sandbox_client, auth, form, status, code
) -> None:
    async with sandbox_client(CONFIG, token=None) as client:
        response = await client.post("/o/token/", data=form, auth=auth)
    assert error_of(response)[:2] == (status, code)
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Basic")


async def test_malformed_basic_credentials_are_refused(sandbox_client) -> None:
    async with sandbox_client(CONFIG, token=None) as client:
        response = await client.post(
            "/o/token/", data=TOKEN_FORM, headers={"Authorization": "Basic not*base64"}
        )
        no_colon = await client.post(
            "/o/token/",
            data=TOKEN_FORM,
            headers={"Authorization": "Basic " + base64.b64encode(b"only-an-id").decode()},
        )
    assert error_of(response)[:2] == error_of(no_colon)[:2] == (401, "authentication_failed")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "no credentials"),
        ({"Authorization": "Bearer not-a-token"}, "unknown token"),
        ({"Authorization": "Basic c2FuZGJveC1jbGllbnQ6c2FuZGJveC1zZWNyZXQ="}, "not a bearer token"),
        ({"Authorization": "Bearer "}, "empty token"),
        ({"X-API-Key": "nope"}, "unknown API key"),
    ],
)
async def test_data_without_a_valid_token_is_401(sandbox_client, headers, reason) -> None:
    async with sandbox_client(CONFIG, token=None) as client:
        for path in ("/user/balances/", "/user/balances/history/"):
            response = await client.get(path, headers=headers)
            assert error_of(response)[:2] == (401, "authentication_failed"), reason
            assert response.headers["www-authenticate"].startswith("Bearer")


async def test_the_static_token_works_as_bearer_and_as_api_key(sandbox_client) -> None:
    async with sandbox_client(CONFIG, token=None) as client:
        bearer = await client.get(
            "/user/balances/", headers={"Authorization": "bearer sandbox-token"}
        )
        api_key = await client.get("/user/balances/", headers={"X-API-Key": "sandbox-token"})
    assert bearer.status_code == api_key.status_code == 200
    assert bearer.content == api_key.content


async def test_a_sandbox_without_a_static_token_accepts_only_issued_ones(sandbox_client) -> None:
    config = CONFIG.with_changes(static_token=None)
    async with sandbox_client(config, token=None) as client:
        refused = await client.get(
            "/user/balances/", headers={"Authorization": "Bearer sandbox-token"}
        )
        token = (await issue(client)).json()["access_token"]
        accepted = await client.get("/user/balances/", headers={"Authorization": f"Bearer {token}"})
    assert error_of(refused)[:2] == (401, "authentication_failed")
    assert accepted.status_code == 200


async def test_a_token_without_the_read_scope_is_403(sandbox_client) -> None:
    async with sandbox_client(CONFIG, token=None) as client:
        token = (await issue(client, scope="write")).json()["access_token"]
        response = await client.get("/user/balances/", headers={"Authorization": f"Bearer {token}"})
    status, code, details = error_of(response)
    assert (status, code) == (403, "permission_denied")
    assert details["required_scope"] == "read"


async def test_a_token_expires_after_its_ttl(sandbox_client, clock: FakeClock) -> None:
    async with sandbox_client(CONFIG.with_changes(token_ttl=30), token=None) as client:
        body = (await issue(client)).json()
        assert body["expires_in"] == 30
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        clock.advance(29)
        fresh = await client.get("/user/balances/", headers=headers)
        clock.advance(1)
        stale = await client.get("/user/balances/", headers=headers)
        renewed = (await issue(client)).json()["access_token"]
        again = await client.get("/user/balances/", headers={"Authorization": f"Bearer {renewed}"})
    assert fresh.status_code == 200
    status, code, details = error_of(stale)
    assert (status, code, details["reason"]) == (401, "authentication_failed", "expired")
    assert again.status_code == 200


# -- faults --------------------------------------------------------------------------------


async def test_latency_delays_every_request(sandbox_client, sleeps: RecordedSleep) -> None:
    async with sandbox_client(CONFIG.with_changes(latency_ms=250)) as client:
        await client.get("/user/balances/")
        await client.get("/user/balances/history/")
        await issue(client)
    assert sleeps.delays == [0.25, 0.25, 0.25]


async def test_no_latency_means_no_sleeping(sandbox_client, sleeps: RecordedSleep) -> None:
    async with sandbox_client(CONFIG) as client:
        await client.get("/user/balances/")
    assert sleeps.delays == []


async def statuses(client: httpx.AsyncClient, count: int) -> list[int]:
    return [(await client.get("/user/balances/")).status_code for _ in range(count)]


async def test_an_error_rate_fails_that_share_deterministically(sandbox_client) -> None:
    config = CONFIG.with_changes(error_rate=0.3)
    async with sandbox_client(config) as client:
        first = [await client.get("/user/balances/") for _ in range(60)]
    async with sandbox_client(config) as client:
        second = await statuses(client, 60)
    assert [r.status_code for r in first] == second
    assert set(second) == {200, 503}
    assert 8 <= second.count(503) <= 30
    failure = next(r for r in first if r.status_code == 503)
    assert error_of(failure)[1:] == ("server_error", {"injected": "error_rate"})


async def test_error_rate_one_fails_every_data_request_but_not_the_token(sandbox_client) -> None:
    async with sandbox_client(CONFIG.with_changes(error_rate=1.0)) as client:
        responses = [await client.get("/user/balances/") for _ in range(5)]
        token = await issue(client)
    assert {error_of(r)[:2] for r in responses} == {(503, "server_error")}
    assert all(r.headers["retry-after"] == "1" for r in responses)
    assert token.status_code == 200


async def test_the_first_k_data_requests_fail(sandbox_client) -> None:
    config = CONFIG.with_changes(fail_first=3, fail_status=502, retry_after=None)
    async with sandbox_client(config) as client:
        responses = [await client.get("/user/balances/") for _ in range(2)]
        responses.append(await client.get("/user/balances/history/"))
        responses += [await client.get("/user/balances/history/") for _ in range(2)]
    assert [r.status_code for r in responses] == [502, 502, 502, 200, 200]
    assert error_of(responses[0])[1:] == ("server_error", {"injected": "fail_first"})
    assert all("retry-after" not in r.headers for r in responses)


async def test_a_permanent_outage_fails_everything_without_retry_after(sandbox_client) -> None:
    async with sandbox_client(CONFIG.with_changes(fail_always=500)) as client:
        responses = [await client.get("/user/balances/history/") for _ in range(4)]
    assert {error_of(r)[:2] for r in responses} == {(500, "server_error")}
    assert all("retry-after" not in r.headers for r in responses)
    assert responses[0].json()["error"]["details"] == {"injected": "fail_always"}


async def test_injected_429s_say_when_to_come_back(sandbox_client) -> None:
    config = CONFIG.with_changes(fail_first=1, fail_status=429, retry_after=7)
    async with sandbox_client(config) as client:
        response = await client.get("/user/balances/")
    assert error_of(response)[:2] == (429, "rate_limit_exceeded")
    assert response.headers["retry-after"] == "7"


async def test_the_rate_limit_answers_429_with_retry_after(
    sandbox_client, clock: FakeClock
) -> None:
    async with sandbox_client(CONFIG.with_changes(rate_limit=3)) as client:
        assert await statuses(client, 3) == [200, 200, 200]
        clock.advance(20)
        limited = await client.get("/user/balances/")
        clock.advance(39)
        still = await client.get("/user/balances/")
        clock.advance(1)
        free = await client.get("/user/balances/")
    status, code, details = error_of(limited)
    assert (status, code, details) == (429, "rate_limit_exceeded", {"injected": "rate_limit"})
    assert limited.headers["retry-after"] == "40"
    assert still.headers["retry-after"] == "1"
    assert free.status_code == 200


async def test_retry_after_can_be_an_http_date(sandbox_client, clock: FakeClock) -> None:
    config = CONFIG.with_changes(rate_limit=1, retry_after_http_date=True)
    async with sandbox_client(config) as client:
        await client.get("/user/balances/")
        limited = await client.get("/user/balances/")
    when = parsedate_to_datetime(limited.headers["retry-after"])
    assert when.timestamp() == clock.now + 60


async def test_faults_come_before_authentication(sandbox_client) -> None:
    async with sandbox_client(CONFIG.with_changes(fail_first=1), token=None) as client:
        failed = await client.get("/user/balances/")
        refused = await client.get("/user/balances/")
    assert error_of(failed)[:2] == (503, "server_error")
    assert error_of(refused)[:2] == (401, "authentication_failed")


# -- determinism -----------------------------------------------------------------------------


async def all_bodies(config: SandboxConfig) -> list[bytes]:
    app = create_app(config, now=FakeClock(), sleep=RecordedSleep())
    headers = {"Authorization": "Bearer sandbox-token"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:
        bodies = [(await c.get("/user/balances/")).content]
        for code in config.ledger.codes:
            for period in PERIODS:
                for interval in INTERVALS:
                    response = await c.get(
                        "/user/balances/history/",
                        params={"currency": code, "period": period, "interval": interval},
                    )
                    bodies.append(response.content)
    return bodies


async def test_the_same_seed_serves_byte_identical_responses() -> None:
    config = SandboxConfig(seed=21, records=700)
    first = await all_bodies(config)
    assert first == await all_bodies(SandboxConfig(seed=21, records=700))
    assert first[0] != (await all_bodies(SandboxConfig(seed=22, records=700)))[0]
