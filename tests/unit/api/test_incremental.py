"""A fetch after the first lists only what may have changed, and the merge with the
previous listing is the whole listing (`api/incremental.py`, docs/api-client.md,
"Incremental fetches")."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile_tui.api.client import BALANCES_PATH, GatewayClient, fetch_snapshot
from reconcile_tui.api.incremental import FINAL_STATUSES, listing_since, merged
from reconcile_tui.api.listing import TRANSACTIONS_PATH, Listing
from reconcile_tui.api.models import GatewayTransaction

from .conftest import BALANCES, JSON, Answer, FakeGateway, api_settings, gateway_error

START = datetime(2025, 3, 1, tzinfo=UTC)
PAYMENT_STATUSES = [
    "waiting",
    "confirming",
    "completed",
    "partially_completed",
    "failed",
    "expired",
]
WITHDRAWAL_STATUSES = [
    "pending", "approved", "processing", "submitted", "confirmed",
    "completed", "rejected", "failed", "cancelled",
]  # fmt: skip


def item(number: int, created: datetime, status: str, kind: str = "payment") -> dict[str, object]:
    return {
        "id": number,
        "type": kind,
        "amount": "1.50",
        "currency": "USDTERC20",
        "status": status,
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "fee_amount": "0.50",
        "net_amount": "1.00",
        "reference": f"ORD-{number}",
    }


def listed(items: list[dict[str, object]]) -> Listing:
    raws = [json.dumps(it, indent=1).encode() for it in items]
    models = [GatewayTransaction.model_validate_json(raw) for raw in raws]
    return Listing(tuple(models), tuple(raws), pages=1, repeated=0)


def test_the_listing_is_asked_for_from_the_day_before_the_earliest_unfinished_transaction():
    previous = listed(
        [
            item(1, START, "completed"),
            item(2, START + timedelta(days=3, hours=23), "confirming"),
            item(3, START + timedelta(days=9), "waiting"),
            item(4, START + timedelta(days=12), "completed"),
        ]
    )
    since = listing_since(7, previous.transactions, previous.raw_items)
    assert since is not None
    assert since.date_from == date(2025, 3, 3)  # created 2025-03-04 23:00 UTC
    assert since.kept_before == datetime(2025, 3, 4, tzinfo=UTC)
    assert since.snapshot_id == 7


def test_when_every_transaction_is_final_it_is_the_day_before_the_latest():
    previous = listed(
        [
            item(1, START + timedelta(days=5, hours=1), "completed"),
            item(2, START, "expired"),
            item(3, START + timedelta(days=2), "cancelled", "withdrawal"),
        ]
    )
    since = listing_since(1, previous.transactions, previous.raw_items)
    assert since is not None
    assert since.date_from == date(2025, 3, 5)


def test_a_status_the_notes_do_not_name_may_still_change():
    previous = listed(
        [item(1, START, "refunding"), item(2, START + timedelta(days=9), "completed")]
    )
    since = listing_since(1, previous.transactions, previous.raw_items)
    assert since is not None
    assert since.date_from == date(2025, 2, 28)
    # `confirmed` is a withdrawal on its way to `completed`, not its end.
    confirmed = listed([item(1, START, "confirmed", "withdrawal"), item(2, START, "completed")])
    assert "confirmed" not in FINAL_STATUSES["withdrawal"]
    since = listing_since(1, confirmed.transactions, confirmed.raw_items)
    assert since is not None
    assert since.date_from == date(2025, 2, 28)


def test_an_empty_previous_listing_asks_for_everything():
    assert listing_since(1, (), ()) is None


def test_the_new_copy_of_a_transaction_wins_and_the_older_ones_are_kept():
    previous = listed(
        [
            item(1, START, "completed"),
            item(2, START + timedelta(days=4), "confirming"),
            item(3, START + timedelta(days=6), "completed"),
        ]
    )
    since = listing_since(1, previous.transactions, previous.raw_items)
    assert since is not None
    fetched = listed([item(2, START + timedelta(days=4), "completed"), item(4, START, "waiting")])
    result = merged(since, fetched)
    assert [t.id for t in result.transactions] == ["2", "4", "1"]
    assert [t.status for t in result.transactions] == ["completed", "waiting", "completed"]
    assert result.raw_items[0] == fetched.raw_items[0]
    assert result.raw_items[2] == previous.raw_items[0]
    # 3 was created after the kept range began and the gateway no longer lists it.
    assert "3" not in {t.id for t in result.transactions}


# A gateway between two fetches: what it held, what changed, and how it reads date_from.
# Five days, so that most listings hold transactions on the days around the bounds.
_MOMENTS = st.integers(0, 5 * 24 * 60).map(lambda minutes: START + timedelta(minutes=minutes))


@st.composite
def _gateway_between_fetches(draw: st.DrawFn) -> tuple[list, list, int]:
    count = draw(st.integers(0, 40))
    before: list[dict[str, object]] = []
    for number in range(1, count + 1):
        kind = draw(st.sampled_from(["payment", "withdrawal"]))
        statuses = PAYMENT_STATUSES if kind == "payment" else WITHDRAWAL_STATUSES
        before.append(item(number, draw(_MOMENTS), draw(st.sampled_from(statuses)), kind))
    first_fetch = max((_created(it) for it in before), default=START) + timedelta(hours=1)
    after: list[dict[str, object]] = []
    for it in before:
        if it["status"] not in FINAL_STATUSES[str(it["type"])] and draw(st.booleans()):
            statuses = PAYMENT_STATUSES if it["type"] == "payment" else WITHDRAWAL_STATUSES
            changed = {
                "status": draw(st.sampled_from(statuses)),
                "updated_at": "2025-04-01T00:00:00Z",
            }
            it = {**it, **changed}
        after.append(it)
    for number in range(count + 1, count + 1 + draw(st.integers(0, 10))):
        late = first_fetch + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
        after.append(item(number, late, draw(st.sampled_from(PAYMENT_STATUSES))))
    # Removed: only what the new listing covers whatever the gateway's zone (docs: an
    # older one removed stays until a full listing).
    since = listing_since(0, listed(before).transactions, listed(before).raw_items)
    if since is not None:
        removable = [it for it in after if _created(it) >= since.kept_before]
        for gone in draw(st.lists(st.sampled_from(removable), unique_by=id)) if removable else []:
            after.remove(gone)
    if draw(st.booleans()):
        after.reverse()  # newest first, as many gateways list
    zone_minutes = draw(st.sampled_from([-12 * 60, 14 * 60]) | st.integers(-12 * 60, 14 * 60))
    return before, after, zone_minutes


def _created(it: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(it["created_at"]))


@settings(max_examples=300)
@given(_gateway_between_fetches())
def test_the_merge_is_the_whole_listing_id_for_id_and_byte_for_byte(case):
    before, after, zone_minutes = case
    previous = listed(before)
    since = listing_since(3, previous.transactions, previous.raw_items)
    whole = listed(after)
    if since is None:
        return  # nothing to refresh: the whole listing is asked for
    # The gateway reads date_from as midnight in its own zone.
    start = datetime.combine(since.date_from, datetime.min.time(), tzinfo=UTC) - timedelta(
        minutes=zone_minutes
    )
    served = [it for it in after if _created(it) >= start]
    result = merged(since, listed(served))
    assert len({t.id for t in result.transactions}) == len(result.transactions)
    assert dict(zip((t.id for t in result.transactions), result.raw_items, strict=True)) == dict(
        zip((t.id for t in whole.transactions), whole.raw_items, strict=True)
    )


async def test_the_client_asks_with_date_from_on_the_first_page(gateway: FakeGateway):
    def answer(request: httpx.Request) -> httpx.Response:
        body = {"count": 0, "next": None, "previous": None, "results": []}
        return httpx.Response(200, content=json.dumps(body).encode(), headers=JSON)

    gateway.script(TRANSACTIONS_PATH, answer)
    async with GatewayClient(api_settings(), transport=gateway.transport()) as client:
        await client.transactions(date_from=date(2025, 3, 3))
    (call,) = gateway.calls(TRANSACTIONS_PATH)
    assert call.url.params["date_from"] == "2025-03-03"
    assert call.url.params["page_size"] == "100"


def _listing_answer(items: list[dict[str, object]]):
    """The gateway's listing of `items`: from `date_from` (a UTC day) when asked, all
    otherwise, at most `page_size` a page (one page here)."""

    def answer(request: httpx.Request) -> httpx.Response:
        shown = items
        if "date_from" in request.url.params:
            start = datetime.fromisoformat(request.url.params["date_from"]).replace(tzinfo=UTC)
            shown = [it for it in items if _created(it) >= start]
        size = int(request.url.params.get("page_size", "100"))
        body = {"count": len(shown), "next": None, "previous": None, "results": shown[:size]}
        return httpx.Response(200, content=json.dumps(body).encode(), headers=JSON)

    return answer


async def _fetched_since(gateway: FakeGateway, previous: Listing, answer: Answer):
    """A snapshot fetched after `previous`, the listing's requests answered by `answer`."""
    since = listing_since(1, previous.transactions, previous.raw_items)
    gateway.script(BALANCES_PATH, lambda _: httpx.Response(200, content=BALANCES, headers=JSON))
    gateway.script(TRANSACTIONS_PATH, *[answer] * 3)
    return await fetch_snapshot(
        api_settings(),
        period="7d",
        interval="daily",
        currencies=[],
        listing_since=since,
        transport=gateway.transport(),
    )


async def test_the_merge_is_kept_when_the_gateway_counts_as_many_transactions(
    gateway: FakeGateway,
):
    old = item(1, START, "completed")
    previous = listed([old, item(2, START + timedelta(days=5), "waiting")])
    now = [old, item(2, START + timedelta(days=5), "completed")]
    snapshot = await _fetched_since(gateway, previous, _listing_answer(now))
    assert snapshot.listing_from == date(2025, 3, 5)
    assert snapshot.transactions is not None
    assert [(t.id, t.status) for t in snapshot.transactions] == [
        ("2", "completed"),
        ("1", "completed"),
    ]
    asked = [call.url.params for call in gateway.calls(TRANSACTIONS_PATH)]
    assert [(p.get("date_from"), p["page_size"]) for p in asked] == [
        ("2025-03-05", "100"),
        (None, "1"),
    ]


async def test_a_count_the_merge_does_not_make_lists_every_transaction(
    gateway: FakeGateway, caplog
):
    # 1 was removed by the gateway, though created long before the range asked for.
    previous = listed([item(1, START, "completed"), item(2, START + timedelta(days=5), "waiting")])
    now = [item(2, START + timedelta(days=5), "completed")]
    snapshot = await _fetched_since(gateway, previous, _listing_answer(now))
    assert snapshot.listing_from is None
    assert snapshot.transactions is not None
    assert [t.id for t in snapshot.transactions] == ["2"]
    assert "the gateway lists 1 transactions" in caplog.text
    assert len(gateway.calls(TRANSACTIONS_PATH)) == 3  # from the date, one item, all


async def test_a_gateway_refusing_date_from_is_asked_for_every_transaction(
    gateway: FakeGateway, caplog
):
    previous = listed([item(1, START, "completed"), item(2, START + timedelta(days=2), "waiting")])
    whole = _listing_answer(
        [item(2, START + timedelta(days=2), "completed"), item(3, START, "completed")]
    )

    def answer(request: httpx.Request) -> httpx.Response:
        if "date_from" in request.url.params:
            return gateway_error(400, "invalid_request", "Unknown filter: date_from")
        return whole(request)

    snapshot = await _fetched_since(gateway, previous, answer)
    assert snapshot.transactions is not None
    assert [t.id for t in snapshot.transactions] == ["2", "3"]  # the whole listing: 1 is gone
    assert snapshot.listing_from is None
    assert "listing every transaction" in caplog.text
    assert ["date_from" in call.url.params for call in gateway.calls(TRANSACTIONS_PATH)] == [
        True,
        False,
    ]
