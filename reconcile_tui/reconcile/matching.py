"""Matching records to the gateway's transactions: one to one, deterministic, three passes.

The passes (docs/causes.md, "Matching records to gateway transactions"): by reference (the
transaction's `reference`, else its `metadata.order_id`), by hash, then by amount within
the match window, nearest first. Each pass takes the records in order of (`occurred_at`,
`reference`) and each transaction at most once. Every pass looks its candidates up in an
index keyed by (currency, type, key), so a million records against a million transactions
costs a few dictionary look-ups each, never a scan of the other side.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from reconcile_tui.api.models import GatewayTransaction
from reconcile_tui.reconcile.rules import DEFAULT_MATCH_WINDOW

__all__ = [
    "DEFAULT_MATCH_WINDOW",
    "Match",
    "MatchableRecord",
    "Matching",
    "match",
    "record_order",
]


#: The gateway's transaction types, in the records' words.
GATEWAY_TYPE = {"payment": "deposit", "withdrawal": "withdrawal"}


class MatchableRecord(NamedTuple):
    """A record as matching needs it; `wallet` already resolved to the gateway's id. (A
    named tuple: there may be millions, and a tuple is the cheapest object to make.)"""

    reference: str
    occurred_at: str  # stored form: sorts as text without its `Z`
    at: datetime
    currency: str
    wallet: str
    type: str
    amount: Decimal
    fee: Decimal
    status: str
    tx_hash: str | None


class Match(NamedTuple):
    record: MatchableRecord
    transaction: GatewayTransaction
    #: Which pass found it: reference, hash or amount.
    by: str


@dataclass
class Matching:
    """The pairs (pass by pass), and what matched nothing (records in time order)."""

    pairs: list[Match] = field(default_factory=list)
    unmatched_records: list[MatchableRecord] = field(default_factory=list)
    unmatched_transactions: list[GatewayTransaction] = field(default_factory=list)


#: Match(...) without the Python-level constructor a named tuple adds: one per record.
_match = tuple.__new__


def _earliest(transaction: GatewayTransaction) -> tuple[datetime, str]:
    return (transaction.created_at, transaction.id)


def record_order(record: MatchableRecord) -> tuple[str, str]:
    """(`occurred_at`, `reference`): the stored time sorts as text without its `Z`."""
    return (record.occurred_at[:-1], record.reference)


def match(
    records: Sequence[MatchableRecord],
    transactions: Sequence[GatewayTransaction],
    window: timedelta = DEFAULT_MATCH_WINDOW,
) -> Matching:
    """Pair `records` with `transactions` (both already limited to the compared currencies).

    `pairs` come pass by pass; `record_order` sorts them as docs/causes.md orders them."""
    used = bytearray(len(transactions))
    kinds = [GATEWAY_TYPE[t.type] for t in transactions]
    result = Matching()

    # Pass 1: reference, else order_id; the earliest candidate first.
    by_reference = _KeyIndex()
    by_order = _KeyIndex()
    first_reference, first_order = by_reference.first, by_order.first
    contested = False
    for position, t in enumerate(transactions):
        reference, order_id = t.reference, t.order_id
        if reference:
            key = (t.currency, kinds[position], reference)
            # Inline for the common case, a key seen first: a call per transaction costs.
            if first_reference.setdefault(key, position) != position:
                by_reference.repeat(key, position)
        # An order_id equal to the reference adds nothing: the order_id look-up comes only
        # after every candidate of that same key, this transaction among them, is taken.
        if order_id and order_id != reference:
            key = (t.currency, kinds[position], order_id)
            if first_order.setdefault(key, position) != position:
                by_order.repeat(key, position)
            contested = contested or bool(reference)
    by_reference.sort(transactions)
    by_order.sort(transactions)
    # References are unique among records, so two records compete for one transaction only
    # through a transaction whose reference and order_id name two of them. Without one,
    # the order of pass 1 changes nothing, and a million records need no sort.
    left: list[MatchableRecord] = []
    pairs = result.pairs
    for record in sorted(records, key=record_order) if contested else records:
        key = (record.currency, record.type, record.reference)
        # The common case inline: the key's one (or first) candidate is still free.
        found = first_reference.get(key)
        if found is None or used[found]:
            found = by_reference.unused(key, used)
            if found is None:
                found = first_order.get(key)
                if found is None or used[found]:
                    found = by_order.unused(key, used)
        if found is None:
            left.append(record)
        else:
            used[found] = 1
            pairs.append(_match(Match, (record, transactions[found], "reference")))
    if not contested:
        left.sort(key=record_order)

    # Pass 2: the record's tx_hash against the transaction's transaction_hash.
    by_hash: dict[Hashable, list[int]] = defaultdict(list)
    if any(record.tx_hash for record in left):
        for position, t in enumerate(transactions):
            if not used[position] and t.transaction_hash:
                by_hash[(t.currency, kinds[position], t.transaction_hash)].append(position)
    if by_hash:
        for candidates in by_hash.values():
            if len(candidates) > 1:
                candidates.sort(key=lambda p: _earliest(transactions[p]))

        def same_hash(record: MatchableRecord) -> int | None:
            if not record.tx_hash:
                return None
            return _first_unused(by_hash.get((record.currency, record.type, record.tx_hash)), used)

        left = _pair_each(left, same_hash, "hash", transactions, used, result.pairs)

    # Pass 3: the same amount within the window, nearest in time, then the earliest id.
    by_amount: dict[Hashable, list[tuple[datetime, str, int]]] = defaultdict(list)
    if left:
        for position, t in enumerate(transactions):
            if not used[position]:
                by_amount[(t.currency, kinds[position], t.net_amount)].append(
                    (t.created_at, t.id, position)
                )
    if by_amount:
        for timeline in by_amount.values():
            timeline.sort()

        def same_amount(record: MatchableRecord) -> int | None:
            near = by_amount.get((record.currency, record.type, record.amount))
            return _nearest(near, record.at, window, used) if near else None

        left = _pair_each(left, same_amount, "amount", transactions, used, result.pairs)

    result.unmatched_records = left
    result.unmatched_transactions = [t for p, t in enumerate(transactions) if not used[p]]
    return result


def _pair_each(
    records: list[MatchableRecord],
    find: Callable[[MatchableRecord], int | None],
    by: str,
    transactions: Sequence[GatewayTransaction],
    used: bytearray,
    pairs: list[Match],
) -> list[MatchableRecord]:
    """Pair each record with the unused transaction `find` names (a pass of `match`); the
    records it names none for, in their order."""
    left: list[MatchableRecord] = []
    for record in records:
        found = find(record)
        if found is None:
            left.append(record)
        else:
            used[found] = 1
            pairs.append(Match(record, transactions[found], by))
    return left


class _KeyIndex:
    """Transactions by key, earliest first. A key's first candidate is held on its own
    (almost every key has one: a million lists would cost more than the look-ups);
    the others, where there are any, in `more`."""

    __slots__ = ("first", "more")

    def __init__(self) -> None:
        self.first: dict[Hashable, int] = {}
        self.more: dict[Hashable, list[int]] = {}

    def repeat(self, key: Hashable, position: int) -> None:
        """Another candidate of a key already in `first`."""
        if key in self.more:
            self.more[key].append(position)
        else:
            self.more[key] = [self.first[key], position]

    def sort(self, transactions: Sequence[GatewayTransaction]) -> None:
        """Each key's candidates earliest first (`first` then names the earliest)."""
        for key, candidates in self.more.items():
            candidates.sort(key=lambda p: _earliest(transactions[p]))
            self.first[key] = candidates[0]

    def unused(self, key: Hashable, used: bytearray) -> int | None:
        """The key's earliest candidate not yet taken."""
        found = self.first.get(key)
        if found is None:
            return None
        if not used[found]:
            return found
        return _first_unused(self.more.get(key), used)


def _first_unused(candidates: list[int] | None, used: bytearray) -> int | None:
    if not candidates:
        return None
    for position in candidates:
        if not used[position]:
            return position
    return None


def _nearest(
    candidates: list[tuple[datetime, str, int]],
    moment: datetime,
    window: timedelta,
    used: bytearray,
) -> int | None:
    """The unused candidate nearest `moment` within `window`; on a tie, the earliest id."""
    middle = bisect.bisect_left(candidates, (moment,))
    best: tuple[timedelta, str, int] | None = None
    for step, start in ((-1, middle - 1), (1, middle)):
        position = start
        while 0 <= position < len(candidates):
            created_at, identifier, found = candidates[position]
            distance = abs(created_at - moment)
            if distance > window or (best is not None and distance > best[0]):
                break
            if not used[found] and (best is None or (distance, identifier) < best[:2]):
                best = (distance, identifier, found)
            position += step
    return best[2] if best is not None else None
