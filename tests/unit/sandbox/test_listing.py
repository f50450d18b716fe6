"""GET /transactions/transactions/: the ledger as the reference notes document the listing."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import httpx
import pytest

from reconcile_tui.api.models import parse_error_body, parse_transactions
from reconcile_tui.sandbox import SandboxConfig, transactions
from reconcile_tui.sandbox.listing import gateway_id
from reconcile_tui.vocabulary import RecordType

PATH = "/transactions/transactions/"
CONFIG = SandboxConfig(records=600)


async def every_item(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Follow `next` as given, from the first page, and gather every item."""
    items: list[dict[str, Any]] = []
    response = await client.get(PATH, params={"page_size": 100, **params})
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["results"]
        if page["next"] is None:
            return items
        response = await client.get(page["next"])


async def test_a_page_parses_as_the_product_reads_the_listing(sandbox_client) -> None:
    async with sandbox_client(CONFIG) as client:
        response = await client.get(PATH)
    assert response.status_code == 200
    page = parse_transactions(response.content)
    assert page.count == 600
    assert len(page.results) == 20, "the documented default page size"
    assert page.previous is None
    assert page.next == "http://sandbox.test/transactions/transactions/?page=2"
    first = response.json()["results"][0]
    assert set(first) == {
        "id", "type", "transaction_id", "amount", "currency", "status", "created_at",
        "updated_at", "reference", "blockchain_address", "transaction_hash", "fee_amount",
        "net_amount", "metadata",
    }  # fmt: skip
    assert set(first["metadata"]) == {"order_id", "confirmations"}
    for name in ("amount", "fee_amount", "net_amount"):
        assert isinstance(first[name], str), "amounts are JSON strings"


async def test_every_transaction_is_listed_once_in_order(sandbox_client) -> None:
    async with sandbox_client(CONFIG) as client:
        items = await every_item(client)
    ledger = list(transactions(CONFIG.ledger))
    assert len(items) == len(ledger)
    assert len({item["id"] for item in items}) == len(items)
    keys = [(item["created_at"], item["id"]) for item in items]
    assert keys == sorted(keys)
    by_reference = {tx.reference: tx for tx in ledger}
    for item in items:
        tx = by_reference[item["reference"]]
        assert item["id"] == gateway_id(CONFIG.seed, tx)
        assert item["type"] == ("payment" if tx.type is RecordType.DEPOSIT else "withdrawal")
        assert ("transaction_id" in item) == (item["type"] == "payment")
        assert ("withdrawal_id" in item) == (item["type"] == "withdrawal")
        assert item["status"] == tx.status
        assert item["transaction_hash"] == tx.tx_hash
        gross, fee, net = (Decimal(item[n]) for n in ("amount", "fee_amount", "net_amount"))
        assert gross - fee == net
        assert item["created_at"] <= item["updated_at"] <= "2025-01-15T10:00:00Z"


async def test_the_listing_adds_up_to_the_balances(sandbox_client) -> None:
    """The same ledger: non-failed net amounts are the totals, fees the fees paid."""
    async with sandbox_client(CONFIG) as client:
        items = await every_item(client)
        balances = (await client.get("/user/balances/")).json()["balances"]
    failed = {"failed", "expired", "rejected", "cancelled"}
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for item in items:
        if item["status"] in failed:
            continue
        name = "total_deposited" if item["type"] == "payment" else "total_withdrawn"
        sums[item["currency"]][name] += Decimal(item["net_amount"])
        sums[item["currency"]]["total_fees_paid"] += Decimal(item["fee_amount"])
    for entry in balances:
        for name in ("total_deposited", "total_withdrawn", "total_fees_paid"):
            assert sums[entry["currency"]][name] == Decimal(entry[name]), (entry["currency"], name)


@pytest.mark.parametrize(
    ("params", "holds"),
    [
        ({"type": "withdrawal"}, lambda i: i["type"] == "withdrawal"),
        ({"status": "confirming"}, lambda i: i["status"] == "confirming"),
        ({"currency": "ETH"}, lambda i: i["currency"] == "ETH"),
        ({"date_from": "2025-01-10"}, lambda i: i["created_at"] >= "2025-01-10T00:00:00Z"),
        ({"date_to": "2025-01-10"}, lambda i: i["created_at"] < "2025-01-11T00:00:00Z"),
        (
            {"date_from": "2025-01-10T12:00:00Z", "date_to": "2025-01-11T12:00:00+00:00"},
            lambda i: "2025-01-10T12:00:00Z" <= i["created_at"] <= "2025-01-11T12:00:00Z",
        ),
    ],
)
async def test_filters_keep_exactly_what_they_say(sandbox_client, params, holds) -> None:
    async with sandbox_client(CONFIG) as client:
        everything = await every_item(client)
        kept = await every_item(client, **params)
        first = (await client.get(PATH, params=params)).json()
    assert kept, "the filter keeps something in this ledger"
    assert kept == [item for item in everything if holds(item)]
    assert first["count"] == len(kept)
    if first["next"] is not None:
        for name, value in params.items():
            assert name in first["next"], "the next page keeps the filters"
            assert value.replace(":", "%3A").replace("+", "%2B") in first["next"]


async def test_a_currency_nobody_holds_lists_nothing(sandbox_client) -> None:
    async with sandbox_client(CONFIG) as client:
        page = (await client.get(PATH, params={"currency": "DOGE"})).json()
    assert page == {"count": 0, "next": None, "previous": None, "results": []}


async def test_pages_link_both_ways_and_the_last_one_ends(sandbox_client) -> None:
    async with sandbox_client(CONFIG) as client:
        middle = (await client.get(PATH, params={"page": 3, "page_size": 100})).json()
        last = (await client.get(PATH, params={"page": 6, "page_size": 100})).json()
    assert middle["previous"].endswith("page=2&page_size=100") or "page=2" in middle["previous"]
    assert "page=4" in middle["next"]
    assert middle["next"].startswith("http://sandbox.test/"), "absolute URLs"
    assert last["next"] is None
    assert len(last["results"]) == 600 - 500


async def test_a_page_past_the_last_is_404_in_the_documented_shape(sandbox_client) -> None:
    async with sandbox_client(CONFIG) as client:
        response = await client.get(PATH, params={"page": 7, "page_size": 100})
    assert response.status_code == 404
    error = parse_error_body(response.content)
    assert error is not None
    assert error.code == "not_found"
    assert error.details["last_page"] == 6


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "-5"}, "page_size"),
        ({"type": "refund"}, "type"),
        ({"status": "done"}, "status"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_to": "2025-13-01"}, "date_to"),
    ],
)
async def test_bad_parameters_answer_400_naming_them(sandbox_client, params, bad) -> None:
    async with sandbox_client(CONFIG) as client:
        response = await client.get(PATH, params=params)
    assert response.status_code == 400
    error = parse_error_body(response.content)
    assert error is not None
    assert error.code == "invalid_request"
    assert list(error.details) == [bad]


async def test_the_listing_needs_a_token_with_the_read_scope(sandbox_client) -> None:
    async with sandbox_client(CONFIG, token=None) as client:
        anonymous = await client.get(PATH)
        issued = await client.post(
            "/o/token/",
            data={"grant_type": "client_credentials", "scope": "write"},
            auth=("sandbox-client", "sandbox-secret"),
        )
        writer = await client.get(
            PATH, headers={"Authorization": f"Bearer {issued.json()['access_token']}"}
        )
    assert anonymous.status_code == 401
    assert writer.status_code == 403


async def test_faults_reach_every_page(sandbox_client) -> None:
    async with sandbox_client(CONFIG.with_changes(rate_limit=2)) as client:
        one = await client.get(PATH, params={"page": 1})
        two = await client.get(PATH, params={"page": 2})
        three = await client.get(PATH, params={"page": 3})
    assert (one.status_code, two.status_code, three.status_code) == (200, 200, 429)
    assert int(three.headers["Retry-After"]) >= 1
    async with sandbox_client(CONFIG.with_changes(fail_first=1)) as client:
        failed = await client.get(PATH, params={"page": 2})
        served = await client.get(PATH, params={"page": 2})
    assert (failed.status_code, served.status_code) == (503, 200)


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [("absent", 404, "not_found"), ("refused", 403, "permission_denied")],
)
async def test_the_listing_can_be_absent_or_refused(sandbox_client, mode, status, code) -> None:
    async with sandbox_client(CONFIG.with_changes(transactions=mode)) as client:
        listing = await client.get(PATH)
        balances = await client.get("/user/balances/")
    assert listing.status_code == status
    error = parse_error_body(listing.content)
    assert error is not None
    assert error.code == code
    assert balances.status_code == 200, "the balances stay served"
