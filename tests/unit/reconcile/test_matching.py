"""Matching records to the gateway's transactions: the three passes of docs/causes.md."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from reconcile_tui.api.models import GatewayTransaction
from reconcile_tui.reconcile.matching import MatchableRecord, match

T0 = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)


def record(
    reference: str, at: datetime = T0, amount: str = "10", **extra: object
) -> MatchableRecord:
    values: dict[str, object] = {
        "reference": reference,
        "occurred_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "at": at,
        "currency": "USDTERC20",
        "wallet": "w",
        "type": "deposit",
        "amount": Decimal(amount),
        "fee": Decimal(0),
        "status": "confirmed",
        "tx_hash": None,
    }
    return MatchableRecord(**(values | extra))  # type: ignore[arg-type]


def transaction(
    id: str, at: datetime = T0, amount: str = "10", **extra: object
) -> GatewayTransaction:
    values: dict[str, object] = {
        "id": id,
        "type": "payment",
        "amount": amount,
        "currency": "USDTERC20",
        "status": "completed",
        "created_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "fee_amount": "0",
        "net_amount": amount,
    }
    return GatewayTransaction.model_validate(values | extra)


def pairs(records, transactions, window=timedelta(hours=24)):
    found = match(records, transactions, window)
    return {(p.record.reference, p.transaction.id, p.by) for p in found.pairs}


def test_reference_first_then_order_id_and_the_earliest_of_several():
    records = [record("A"), record("B")]
    transactions = [
        transaction("2", reference="A", at=T0 + timedelta(hours=1)),
        transaction("1", reference="A"),
        transaction("3", metadata={"order_id": "B"}, amount="99"),
    ]
    assert pairs(records, transactions) == {("A", "1", "reference"), ("B", "3", "reference")}


def test_hash_before_amount_and_never_across_types_or_currencies():
    records = [record("A", tx_hash="0xabc"), record("W", type="withdrawal")]
    transactions = [
        transaction("near", at=T0),  # the same amount and time: pass 3 would take it
        transaction("hashed", transaction_hash="0xabc", at=T0 + timedelta(hours=30)),
        transaction("eth", currency="ETH", type="withdrawal"),
    ]
    assert pairs(records, transactions) == {("A", "hashed", "hash")}


def test_amount_within_the_window_nearest_first_then_the_earliest_id():
    records = [record("A"), record("B", at=T0 + timedelta(hours=2))]
    transactions = [
        transaction("b", at=T0 + timedelta(hours=1)),
        transaction("a", at=T0 - timedelta(hours=1)),
        transaction("far", at=T0 + timedelta(hours=40)),
    ]
    # A is one hour from both a and b: the earlier id wins; B takes what is left.
    assert pairs(records, transactions) == {("A", "a", "amount"), ("B", "b", "amount")}
    found = match(records, transactions)
    assert [t.id for t in found.unmatched_transactions] == ["far"]


def test_outside_the_window_nothing_matches():
    found = match([record("A")], [transaction("x", at=T0 + timedelta(hours=25))])
    assert not found.pairs
    assert [r.reference for r in found.unmatched_records] == ["A"]


def test_each_transaction_is_taken_once_in_record_order():
    records = [record("late", at=T0 + timedelta(minutes=5)), record("early")]
    found = match(records, [transaction("only", at=T0 + timedelta(minutes=5))])
    # Records go in order of time: the early one takes it, though the late one is nearer.
    assert [(p.record.reference, p.transaction.id) for p in found.pairs] == [("early", "only")]


def test_a_large_listing_matches_in_one_pass_per_key():
    records = [record(f"R{n}", at=T0 + timedelta(seconds=n)) for n in range(20_000)]
    transactions = [
        transaction(f"T{n}", reference=f"R{n}", at=T0 + timedelta(seconds=n)) for n in range(20_000)
    ]
    found = match(records, transactions)
    assert len(found.pairs) == 20_000
    assert all(p.record.reference[1:] == p.transaction.id[1:] for p in found.pairs)


def test_a_reference_taken_through_another_record_s_order_id_leaves_the_next_one():
    # T1 names A as its reference and B as its order: B comes first in time and has no
    # reference of its own at the gateway, so it takes T1; A then takes the next of its
    # reference, T2, though T1 is the earlier of the two.
    records = [record("B"), record("A", at=T0 + timedelta(minutes=1))]
    transactions = [
        transaction("T2", reference="A", at=T0 + timedelta(hours=1)),
        transaction("T1", reference="A", metadata={"order_id": "B"}),
    ]
    assert pairs(records, transactions) == {("B", "T1", "reference"), ("A", "T2", "reference")}


def test_an_order_id_equal_to_the_reference_is_not_a_second_candidate():
    records = [record("A"), record("C", amount="7")]
    transactions = [
        transaction("later", reference="A", metadata={"order_id": "A"}, at=T0 + timedelta(hours=2)),
        transaction("order-only", metadata={"order_id": "A"}, at=T0 - timedelta(hours=2)),
    ]
    found = match(records, transactions)
    # The reference wins over an earlier order_id; the other stays for the amount pass,
    # where C (another amount) cannot take it.
    assert {(p.record.reference, p.transaction.id) for p in found.pairs} == {("A", "later")}
    assert [t.id for t in found.unmatched_transactions] == ["order-only"]
