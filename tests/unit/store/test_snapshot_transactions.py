"""Gateway transactions stored with their snapshot: back exactly as fetched, or None and why."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

from reconcile_tui.api.models import parse_transactions
from reconcile_tui.api.raw_items import raw_results
from reconcile_tui.api.snapshot import load_saved, save
from reconcile_tui.store.snapshots import (
    VACUUMED_LISTING,
    latest_snapshot,
    load_snapshot,
    save_snapshot,
)
from tests.conftest import API_PAGE


def saved_page():
    return load_saved(API_PAGE)


def listing_body(count: int) -> bytes:
    items = [
        {
            "id": f"tx-{n}",
            "type": "withdrawal" if n % 2 else "payment",
            "amount": f"{n}.000000000000000001",
            "currency": "ETH",
            "status": "completed",
            "created_at": "2025-01-09T10:00:00+02:00",
            "updated_at": None,
            "reference": f"ORD-{n}",
            "transaction_hash": f"0x{n:064x}",
            "fee_amount": "0.000000000000000001",
            "net_amount": f"{n}.00",
            "metadata": {"order_id": f"ORD-{n}", "confirmations": n},
            "unlisted": 1.10,
        }
        for n in range(count)
    ]
    return json.dumps({"count": count, "results": items}).encode()


def with_listing(count: int):
    body = listing_body(count)
    parsed = parse_transactions(body)
    return replace(
        saved_page(),
        transactions=tuple(parsed.results),
        transactions_raw=tuple(raw_results(body)),
        transactions_note=None,
    )


def test_transactions_come_back_as_fetched_in_the_order_served(store):
    snapshot = with_listing(3)
    snapshot_id = save_snapshot(store, snapshot, source="api")
    loaded = load_snapshot(store, snapshot_id)
    assert loaded.transactions == snapshot.transactions
    assert loaded.transactions_raw == snapshot.transactions_raw
    assert loaded.transactions_note is None
    assert loaded.transactions[1].amount == Decimal("1.000000000000000001")


def test_amounts_are_canonical_text_and_times_utc_in_the_table(store):
    snapshot_id = save_snapshot(store, with_listing(2), source="api")
    # Money is TEXT in a SQLite file and NUMERIC on a server; both read back the same text.
    kind = "pg_typeof(amount)::text" if store.server else "typeof(amount)"
    row = store.query_one(
        f"SELECT amount, fee_amount, net_amount, created_at, order_id, {kind}"
        " FROM snapshot_transactions WHERE snapshot_id = ? AND position = 1",
        (snapshot_id,),
    )
    assert tuple(row) == (
        "1.000000000000000001",
        "0.000000000000000001",
        "1.00",
        "2025-01-09T08:00:00Z",
        "ORD-1",
        "numeric" if store.server else "text",
    )


def test_a_snapshot_without_a_listing_loads_as_none_with_its_note(store):
    snapshot = replace(saved_page(), transactions_note="transactions not fetched: 403")
    loaded = load_snapshot(store, save_snapshot(store, snapshot, source="api"))
    assert loaded.transactions is None
    assert loaded.transactions_note == "transactions not fetched: 403"


def test_an_empty_listing_stays_empty_not_none(store):
    loaded = load_snapshot(store, save_snapshot(store, with_listing(0), source="api"))
    assert loaded.transactions == ()


def test_a_hundred_thousand_transactions_store_and_load_in_one_piece(store):
    snapshot = with_listing(100_000)
    snapshot_id = save_snapshot(store, snapshot, source="api")
    _, loaded = latest_snapshot(store)
    assert loaded.transactions is not None
    assert len(loaded.transactions) == 100_000
    assert loaded.transactions[-1] == snapshot.transactions[-1]
    assert loaded.transactions_raw[54321] == snapshot.transactions_raw[54321]
    count = store.query_one(
        "SELECT transactions_count FROM snapshots WHERE id = ?", (snapshot_id,)
    )[0]
    assert count == 100_000


def test_saved_and_loaded_again_the_listing_is_the_same_bytes(tmp_path):
    snapshot = with_listing(5)
    written = save(snapshot, tmp_path)
    assert tmp_path / "transactions.json" in written
    loaded = load_saved(tmp_path)
    assert loaded.transactions == snapshot.transactions
    assert loaded.transactions_raw == snapshot.transactions_raw
    assert loaded.transactions_note is None


def test_saving_a_snapshot_without_a_listing_removes_an_older_transactions_json(tmp_path):
    save(with_listing(5), tmp_path)
    save(replace(saved_page(), transactions_note="transactions not fetched: 403"), tmp_path)
    assert not (tmp_path / "transactions.json").exists()
    assert load_saved(tmp_path).transactions is None


def test_a_large_listing_stored_on_a_server_has_statistics_for_the_check_that_follows(store):
    # Without statistics, a check at once after storing a million transactions planned its
    # joins for a table of none: 22 s instead of 12 (docs/performance.md, "PostgreSQL").
    save_snapshot(store, with_listing(100), source="api")
    save_snapshot(store, with_listing(VACUUMED_LISTING), source="api")
    if store.server:
        row = store.query_one(
            "SELECT reltuples FROM pg_class WHERE oid = 'snapshot_transactions'::regclass"
        )
        assert row[0] == VACUUMED_LISTING + 100
    assert store.query_one("SELECT count(*) FROM snapshot_transactions")[0] == 10_100
