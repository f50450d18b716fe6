"""The API page's example responses parse exactly; bad bodies are named by field."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from reconcile_tui.api.models import (
    ResponseShapeError,
    parse_balances,
    parse_error_body,
    parse_history,
)
from tests.conftest import API_PAGE


@pytest.fixture
def balances_body() -> bytes:
    return (API_PAGE / "balances.json").read_bytes()


@pytest.fixture
def history_body() -> bytes:
    return (API_PAGE / "history_USDTERC20.json").read_bytes()


def test_the_pages_balances_example_parses_exactly(balances_body):
    response = parse_balances(balances_body)
    assert [b.currency for b in response.balances] == ["USDTERC20", "USDCERC20", "ETH"]
    usdt = response.currency("USDTERC20")
    assert usdt is not None
    assert usdt.total_balance == Decimal("5000.000000")
    assert usdt.pending_balance == Decimal("500.000000")
    assert [w.wallet_name for w in usdt.wallets] == ["Default Wallet", "Online Store"]
    assert usdt.wallets[1].pending == Decimal("200.000000")
    eth = response.currency("ETH")
    assert eth is not None
    assert str(eth.total_withdrawn) == "4.876543211000000000"
    assert response.summary.total_usd_value == Decimal("19515.58")
    assert response.summary.total_wallets == 2
    assert response.printed_scales() == {"USDTERC20": 6, "USDCERC20": 6, "ETH": 18}
    assert response.currency("BTC") is None


def test_the_pages_history_example_parses_exactly(history_body):
    history = parse_history(history_body)
    assert (history.currency, history.period, history.interval) == ("USDTERC20", "7d", "daily")
    assert [b.balance for b in history.history] == [
        Decimal("4200.000000"),
        Decimal("4700.000000"),
        Decimal("4500.000000"),
    ]
    assert history.history[1].withdrawal_count == 1
    assert history.summary.average_daily_withdrawals == Decimal("385.714286")


def test_extra_fields_are_tolerated(balances_body):
    data = json.loads(balances_body)
    data["balances"][0]["brand_new_field"] = {"nested": True}
    data["pagination"] = None
    assert parse_balances(json.dumps(data)).balances[0].currency == "USDTERC20"


def test_a_missing_field_is_reported_by_its_path(balances_body):
    data = json.loads(balances_body)
    del data["balances"][0]["wallets"][1]["balance"]
    with pytest.raises(ResponseShapeError, match=r"balances\[0\]\.wallets\[1\]\.balance: missing"):
        parse_balances(json.dumps(data))


def test_a_number_where_an_amount_belongs_is_refused(balances_body):
    data = json.loads(balances_body)
    data["balances"][2]["total_balance"] = 5.123456789
    with pytest.raises(
        ResponseShapeError, match=r"balances\[2\]\.total_balance: amount must be a JSON string"
    ):
        parse_balances(json.dumps(data))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"balances": [', "not valid JSON"),
        (b"<html><body>502 Bad Gateway</body></html>", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (
            b'{"balances": [], "summary": {"total_usd_value": "1e3", "total_currencies": 0,'
            b' "total_wallets": 0, "last_update": "2025-01-15T10:00:00Z"}}',
            "exponent",
        ),
        (
            b'{"balances": [], "summary": {"total_usd_value": "0", "total_currencies": "0",'
            b' "total_wallets": 0, "last_update": "2025-01-15T10:00:00Z"}}',
            "total_currencies",
        ),
        (
            b'{"balances": [], "summary": {"total_usd_value": "0", "total_currencies": 0,'
            b' "total_wallets": 0, "last_update": "2025-01-15 10:00"}}',
            "no UTC offset",
        ),
    ],
)
def test_bad_bodies_are_one_clear_line(body, message):
    with pytest.raises(ResponseShapeError, match=message) as caught:
        parse_balances(body, "https://api.example/user/balances/")
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("https://api.example/user/balances/")


def test_both_error_shapes_are_understood():
    documented = parse_error_body((API_PAGE / "error_insufficient_balance.json").read_bytes())
    assert documented is not None
    assert (documented.code, documented.message) == (
        "insufficient_balance",
        "Insufficient balance for operation",
    )
    assert documented.details["required"] == "150.00"
    admin = parse_error_body(b'{"detail": "Not authenticated"}')
    assert admin is not None
    assert admin.message == "Not authenticated"
    oauth = parse_error_body(b'{"error": "invalid_client", "error_description": "bad secret"}')
    assert oauth is not None
    assert (oauth.code, oauth.message) == ("invalid_client", "bad secret")
    assert parse_error_body(b"<html>oops</html>") is None
    assert parse_error_body(b'{"something": "else"}') is None
