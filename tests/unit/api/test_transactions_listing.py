"""Paging through the transaction listing: every page once, in order, within the bounds."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from reconcile_tui.api.client import (
    BALANCES_PATH,
    HISTORY_PATH,
    REQUESTS_PER_MINUTE,
    GatewayClient,
    fetch_snapshot,
)
from reconcile_tui.api.listing import TRANSACTIONS_PATH
from reconcile_tui.errors import ApiError

from .conftest import (
    BALANCES,
    JSON,
    NOW,
    FakeGateway,
    api_settings,
    gateway_error,
    history_body,
)

LISTING_URL = f"https://gw.test{TRANSACTIONS_PATH}"


def item(number: int, **changes: object) -> dict[str, object]:
    return {
        "id": number,
        "type": "payment" if number % 3 else "withdrawal",
        "amount": f"{number}.10",
        "currency": "USDTERC20",
        "status": "completed",
        "created_at": "2025-01-09T10:00:00Z",
        "reference": f"ORD-{number}",
        "fee_amount": "0.10",
        "net_amount": f"{number}.00",
        "metadata": {"order_id": f"ORD-{number}", "confirmations": 12},
        **changes,
    }


Links = Callable[[int, int], str | None]


def relative_links(page: int, pages: int) -> str | None:
    return f"{TRANSACTIONS_PATH}?page={page + 1}&page_size=100" if page < pages else None


def absolute_links(page: int, pages: int) -> str | None:
    return f"{LISTING_URL}?page={page + 1}&page_size=100" if page < pages else None


def page_body(items: list[dict[str, object]], count: int, next_link: str | None) -> bytes:
    # Written by hand, with spacing and a number written "12.0"-style in an extra field,
    # so a re-encoded item would not be byte-identical to what was served.
    inner = ",\n  ".join(json.dumps(it, indent=1) for it in items)
    return (
        f'{{"count": {count}, "next": {json.dumps(next_link)}, "previous": null,\n'
        f' "results": [\n  {inner}\n]}}'
    ).encode()


def listing(
    gateway: FakeGateway,
    total: int,
    *,
    links: Links = relative_links,
    spoil: Callable[[httpx.Request, int], httpx.Response | None] | None = None,
) -> list[dict[str, object]]:
    """Script the gateway to serve `total` items, 100 a page; returns the items."""
    items = [item(n, extra=1.50) for n in range(1, total + 1)]
    pages = max(1, -(-total // 100))

    def answer(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page", "1"))
        if spoil is not None and (spoiled := spoil(request, number)) is not None:
            return spoiled
        chunk = items[(number - 1) * 100 : number * 100]
        body = page_body(chunk, total, links(number, pages))
        return httpx.Response(200, content=body, headers=JSON)

    gateway.script(TRANSACTIONS_PATH, *[answer] * 500)
    return items


def pages_asked(gateway: FakeGateway) -> list[str]:
    return [r.url.params.get("page", "1") for r in gateway.calls(TRANSACTIONS_PATH)]


async def fetch(gateway: FakeGateway, **settings: object):
    async with GatewayClient(
        api_settings(**settings),
        transport=gateway.transport(),
        clock=lambda: NOW,
    ) as client:
        return await client.transactions()


@pytest.mark.parametrize("links", [relative_links, absolute_links])
async def test_every_page_is_fetched_once_and_items_kept_in_the_order_served(
    gateway: FakeGateway, links: Links
) -> None:
    items = listing(gateway, 250, links=links)
    fetched = await fetch(gateway)
    assert [t.id for t in fetched.transactions] == [str(it["id"]) for it in items]
    assert sorted(pages_asked(gateway)) == ["1", "2", "3"]
    assert gateway.calls(TRANSACTIONS_PATH)[0].url.params["page_size"] == "100"
    # each item's bytes exactly as served (the extra number stays "1.5", not re-encoded)
    assert fetched.raw_items[0] == json.dumps(items[0], indent=1).encode()


async def test_a_last_page_exactly_full_ends_the_listing(gateway: FakeGateway) -> None:
    listing(gateway, 200)
    fetched = await fetch(gateway)
    assert len(fetched.transactions) == 200
    assert sorted(pages_asked(gateway)) == ["1", "2"]


async def test_an_empty_listing_is_no_transactions_not_none(gateway: FakeGateway) -> None:
    listing(gateway, 0)
    snapshot = await fetch_snapshot(
        api_settings(), period="7d", interval="daily", transport=gateway.transport()
    )
    assert snapshot.transactions == ()
    assert snapshot.transactions_note is None


async def test_a_next_without_page_numbers_is_followed_one_page_after_another(
    gateway: FakeGateway,
) -> None:
    def cursor_links(page: int, pages: int) -> str | None:
        return f"{TRANSACTIONS_PATH}?cursor=c{page + 1}" if page < pages else None

    items = [item(n) for n in range(1, 251)]

    def answer(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("cursor", "c1")[1:])
        chunk = items[(page - 1) * 100 : page * 100]
        return httpx.Response(200, content=page_body(chunk, 250, cursor_links(page, 3)))

    gateway.script(TRANSACTIONS_PATH, *[answer] * 5)
    fetched = await fetch(gateway)
    assert len(fetched.transactions) == 250
    assert [r.url.params.get("cursor") for r in gateway.calls(TRANSACTIONS_PATH)] == [
        None,
        "c2",
        "c3",
    ]


def gated(answer: Callable[[httpx.Request], httpx.Response], counts: dict[str, int]):
    """`answer`, staying in flight over many turns of the loop (the client starts one
    page's request a turn) so that every request it lets through is in the gateway at
    the same time; `counts` keeps the most in flight at once ("most") beside those in
    flight now ("now")."""

    async def in_flight(request: httpx.Request) -> httpx.Response:
        counts["now"] += 1
        counts["most"] = max(counts["most"], counts["now"])
        for _ in range(250):
            await asyncio.sleep(0)
        counts["now"] -= 1
        return answer(request)

    return in_flight


def plain_pages(total: int) -> Callable[[httpx.Request], httpx.Response]:
    """`total` small items, 100 a page, numbered links: many pages cheaply."""
    items = [{**item(n), "metadata": {}} for n in range(1, total + 1)]
    pages = -(-total // 100)
    bodies = {
        number: json.dumps(
            {
                "count": total,
                "next": relative_links(number, pages),
                "results": items[(number - 1) * 100 : number * 100],
            }
        ).encode()
        for number in range(1, pages + 1)
    }

    def answer(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page", "1"))
        return httpx.Response(200, content=bodies[number], headers=JSON)

    return answer


async def test_pages_are_all_asked_for_at_once_not_held_to_the_history_bound(
    gateway: FakeGateway,
) -> None:
    counts = {"now": 0, "most": 0}
    gateway.script(TRANSACTIONS_PATH, *[gated(plain_pages(1000), counts)] * 10)
    fetched = await fetch(gateway, concurrency=4)
    assert counts["most"] == 9  # pages 2 to 10 together, though `concurrency` is 4
    assert [t.id for t in fetched.transactions] == [str(n) for n in range(1, 1001)]


async def test_pages_in_flight_never_exceed_the_gateways_rate_limit(
    gateway: FakeGateway,
) -> None:
    counts = {"now": 0, "most": 0}
    gateway.script(TRANSACTIONS_PATH, *[gated(plain_pages(15_000), counts)] * 150)
    fetched = await fetch(gateway)
    assert counts["most"] == REQUESTS_PER_MINUTE
    assert len(fetched.transactions) == 15_000
    assert sorted(map(int, pages_asked(gateway))) == list(range(1, 151))


async def test_histories_and_pages_together_stay_within_both_bounds() -> None:
    codes = [f"COIN{n:02d}" for n in range(30)]
    histories = {"now": 0, "most": 0}
    every = {"now": 0, "most": 0}
    pages = plain_pages(15_000)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == BALANCES_PATH:
            return httpx.Response(200, content=BALANCES, headers=JSON)
        if request.url.path == TRANSACTIONS_PATH:
            return pages(request)
        return httpx.Response(200, content=history_body(request.url.params["currency"]))

    async def handler(request: httpx.Request) -> httpx.Response:
        history = request.url.path == HISTORY_PATH
        every["now"] += 1
        histories["now"] += history
        every["most"] = max(every["most"], every["now"])
        histories["most"] = max(histories["most"], histories["now"])
        for _ in range(250):  # in flight while the client starts the others, one a turn
            await asyncio.sleep(0)
        every["now"] -= 1
        histories["now"] -= history
        return answer(request)

    snapshot = await fetch_snapshot(
        api_settings(concurrency=20),
        period="7d",
        interval="daily",
        currencies=codes,
        transport=httpx.MockTransport(handler),
    )
    assert histories["most"] == 20
    assert every["most"] == REQUESTS_PER_MINUTE
    assert list(snapshot.histories) == codes
    assert snapshot.transactions is not None
    assert len(snapshot.transactions) == 15_000


@pytest.mark.parametrize("status", [429, 503])
async def test_a_middle_page_answering_429_or_503_is_retried_and_the_listing_completes(
    gateway: FakeGateway, status: int, served_waits: list[float]
) -> None:
    refused = []

    def spoil(request: httpx.Request, number: int) -> httpx.Response | None:
        if number == 2 and len(refused) < 2:
            refused.append(number)
            return gateway_error(status, "rate_limited", "slow down", **{"Retry-After": "7"})
        return None

    listing(gateway, 300, spoil=spoil)
    fetched = await fetch(gateway)
    assert len(fetched.transactions) == 300
    assert pages_asked(gateway).count("2") == 3
    assert served_waits == [7.0, 7.0]


async def test_a_page_failing_for_good_fails_the_listing_naming_the_page(
    gateway: FakeGateway,
) -> None:
    def spoil(request: httpx.Request, number: int) -> httpx.Response | None:
        return gateway_error(500, "server_error", "boom") if number == 3 else None

    listing(gateway, 500, spoil=spoil)
    with pytest.raises(ApiError, match=r"server_error: boom \(500 from .*page=3"):
        await fetch(gateway)


async def test_a_page_past_the_first_answering_404_is_a_failure_not_a_refusal(
    gateway: FakeGateway,
) -> None:
    def spoil(request: httpx.Request, number: int) -> httpx.Response | None:
        return gateway_error(404, "not_found", "Invalid page.") if number == 2 else None

    listing(gateway, 150, spoil=spoil)
    with pytest.raises(ApiError, match="404"):
        await fetch_snapshot(
            api_settings(), period="7d", interval="daily", transport=gateway.transport()
        )


@pytest.mark.parametrize(
    ("status", "code"), [(401, "authentication_failed"), (403, "permission_denied"), (404, "x")]
)
async def test_a_refused_or_absent_listing_leaves_a_balance_level_snapshot_and_says_why(
    gateway: FakeGateway, status: int, code: str
) -> None:
    gateway.script(TRANSACTIONS_PATH, gateway_error(status, code, "not for you"))
    snapshot = await fetch_snapshot(
        api_settings(), period="7d", interval="daily", transport=gateway.transport()
    )
    assert snapshot.transactions is None
    assert snapshot.transactions_note is not None
    assert snapshot.transactions_note.startswith("transactions not fetched: ")
    assert f"({status} from {LISTING_URL}?page_size=100)" in snapshot.transactions_note
    assert len(snapshot.histories) == 3


async def test_a_next_that_links_back_to_a_page_seen_never_ends_the_fetch(
    gateway: FakeGateway,
) -> None:
    listing(gateway, 300, links=lambda page, pages: f"{TRANSACTIONS_PATH}?page=2")
    with pytest.raises(ApiError, match=r"the transaction listing never ends: .*page=2 is linked"):
        await fetch(gateway)


async def test_a_next_always_to_one_page_more_is_refused_past_what_the_count_fills(
    gateway: FakeGateway,
) -> None:
    def forever(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("cursor", "1"))
        body = page_body([item(number)], 5, f"{TRANSACTIONS_PATH}?cursor={number + 1}")
        return httpx.Response(200, content=body)

    gateway.script(TRANSACTIONS_PATH, *[forever] * 50)
    with pytest.raises(ApiError, match=r"never ends: .* is page 7, more than its count of 5"):
        await fetch(gateway)
    assert len(gateway.calls(TRANSACTIONS_PATH)) == 6


async def test_a_count_that_keeps_growing_is_refused(gateway: FakeGateway) -> None:
    def growing(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("cursor", "1"))
        items = [item(number * 1000 + n) for n in range(100)]
        body = page_body(items, 100 * number**4, f"{TRANSACTIONS_PATH}?cursor={number + 1}")
        return httpx.Response(200, content=body)

    gateway.script(TRANSACTIONS_PATH, *[growing] * 50)
    with pytest.raises(ApiError, match="keeps growing while it is read"):
        await fetch(gateway)


@pytest.mark.parametrize(
    "origin",
    [
        "https://elsewhere.test/steal",  # another host: the token must not go there
        "http://gw.test/transactions/transactions/",  # TLS ended at a proxy: plain http
        "http://localhost:8000/transactions/transactions/",  # the gateway's inner address
    ],
)
async def test_a_next_to_another_origin_is_read_on_the_configured_one(
    gateway: FakeGateway, origin: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A gateway behind a proxy writes `next` with the address it sees (DRF's absolute
    # URLs); following it would fail or send the token elsewhere, refusing it would lose
    # the listing.
    def links(page: int, pages: int) -> str | None:
        return f"{origin}?page={page + 1}&page_size=100" if page < pages else None

    items = listing(gateway, 250, links=links)
    fetched = await fetch(gateway)
    assert [t.id for t in fetched.transactions] == [str(i["id"]) for i in items]
    assert {(r.url.scheme, r.url.host, r.url.path) for r in gateway.requests} == {
        ("https", "gw.test", TRANSACTIONS_PATH)
    }
    assert sorted(pages_asked(gateway)) == ["1", "2", "3"]
    assert sum("next links name" in message for message in caplog.messages) == 1


async def test_an_id_served_twice_is_kept_at_its_first_appearance(gateway: FakeGateway) -> None:
    # Page 2 repeats item 100 (it slid down while the listing was read), with a new status.
    first = [item(n) for n in range(1, 101)]
    second = [item(100, status="failed"), *[item(n) for n in range(101, 150)]]
    gateway.script(
        TRANSACTIONS_PATH,
        httpx.Response(200, content=page_body(first, 150, relative_links(1, 2))),
        httpx.Response(200, content=page_body(second, 150, None)),
    )
    fetched = await fetch(gateway)
    assert [t.id for t in fetched.transactions] == [str(n) for n in range(1, 150)]
    assert fetched.transactions[99].status == "completed"
    assert fetched.repeated == 1
    assert len(fetched.raw_items) == 149


async def test_items_added_while_numbered_pages_were_read_are_followed_to_the_end(
    gateway: FakeGateway,
) -> None:
    # The first page counted 200; by the time page 2 was read there were 230, so page 2
    # links to a page 3 the count did not announce.
    items = [item(n) for n in range(1, 231)]

    def answer(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params.get("page", "1"))
        count = 200 if number == 1 else 230
        chunk = items[(number - 1) * 100 : number * 100]
        return httpx.Response(200, content=page_body(chunk, count, relative_links(number, 3)))

    gateway.script(TRANSACTIONS_PATH, *[answer] * 5)
    fetched = await fetch(gateway)
    assert len(fetched.transactions) == 230
    assert pages_asked(gateway) == ["1", "2", "3"]


async def test_a_page_that_is_not_a_listing_is_a_bad_response_naming_the_field(
    gateway: FakeGateway,
) -> None:
    gateway.script(
        TRANSACTIONS_PATH,
        httpx.Response(200, content=page_body([item(1, net_amount=1.5)], 1, None)),
    )
    with pytest.raises(ApiError, match=r"results\[0\]\.net_amount: amount must be a JSON string"):
        await fetch(gateway)
