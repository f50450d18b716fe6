"""Matching's first pass in the database: the pairs it would certainly make, kept there.

A record and a stored gateway transaction are a **certain pair** when the transaction is
the record's only candidate by reference (under its `reference` or, where that differs,
its `metadata.order_id`; same currency, the type mapped as the caller says) and the record
is the only one the transaction is a candidate of. Pass 1 makes every certain pair
whatever order it takes the records in, and no other record could have taken either
side, so matching the rest in Python without them makes exactly the other pairs
(docs/causes.md, "The first pass in the database", gives the proof).

Of the certain pairs only those that could make a cause reach Python: the rest are
identical and stay in the database. The comparison here is a pre-filter that can only
over-select (the rules are Python's, in `reconcile/causes.py`): equal stored texts are
equal amounts, while texts that differ ("1.5", "1.50") are compared again in Python.
The queries are written once, in SQLite's spelling, as every query of the store.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reconcile_tui import money
from reconcile_tui.api.models import GatewayTransaction, ResponseShapeError
from reconcile_tui.store.db import Store
from reconcile_tui.store.snapshots import (
    TRANSACTION_COLUMNS,
    DamagedSnapshot,
    stored_transaction,
)

__all__ = ["FirstPass", "amount_key", "first_pass"]

#: The record's columns, in the order of `ledger.matchable_records`.
_RECORD = (
    "r.reference, r.occurred_at, r.currency, r.wallet_id, r.wallet_name, r.type, r.amount,"
    " r.fee, r.status, r.tx_hash"
)
_TRANSACTION = ", ".join(f"t.{name}" for name in TRANSACTION_COLUMNS)
_WIDTH = len(_RECORD.split(","))


def _tables(
    kinds: Mapping[str, str], statuses: Mapping[str, str], currencies: Sequence[str]
) -> tuple[str, list[str]]:
    """The caller's vocabulary as VALUES tables (so no rule is written twice): `kinds`
    (gateway type -> record type), `statuses` (gateway word -> record status), and the
    compared currencies."""

    def values(rows: Sequence[tuple[str, ...]]) -> str:
        return ", ".join("(" + ", ".join("?" * len(row)) + ")" for row in rows)

    kind_rows = sorted(kinds.items())
    status_rows = sorted(statuses.items())
    code_rows = [(code,) for code in sorted(set(currencies))]
    sql = (
        f"WITH kinds(word, kind) AS (VALUES {values(kind_rows)}),"
        f" statuses(word, status) AS (VALUES {values(status_rows)}),"
        f" compared(code) AS (VALUES {values(code_rows)})"
    )
    parameters = [value for row in (*kind_rows, *status_rows, *code_rows) for value in row]
    return sql, parameters


#: The two ways a transaction `t` is a candidate of a record `r` (`k.word`: the gateway's
#: word for `r.type`): by its reference, or by an order_id that differs from it.
_BY_REFERENCE = "t.reference = r.reference"
_BY_ORDER_ID = "t.order_id = r.reference AND t.reference IS NOT t.order_id"

#: With `t` a candidate of `r` by its reference: `t` is `r`'s only candidate, and `r` the
#: only record `t` is a candidate of (by its reference that is `r`, references being
#: unique; by its order_id, where that is another key). `IS NOT`: nullable inequality.
#: Each look-up is one index probe: an OR here would make SQLite scan the snapshot.
_CERTAIN_BY_REFERENCE = """
    t.currency = r.currency AND t.type = k.word AND r.reference != ''
    AND NOT EXISTS (
        SELECT 1 FROM snapshot_transactions o
        WHERE o.snapshot_id = t.snapshot_id AND o.reference = r.reference
          AND o.currency = r.currency AND o.type = k.word AND o.position != t.position)
    AND NOT EXISTS (
        SELECT 1 FROM snapshot_transactions o
        WHERE o.snapshot_id = t.snapshot_id AND o.order_id = r.reference
          AND o.currency = r.currency AND o.type = k.word AND o.reference IS NOT o.order_id)
    AND (t.order_id IS NULL OR t.order_id = t.reference OR NOT EXISTS (
        SELECT 1 FROM records x
        WHERE x.reference = t.order_id AND x.currency = t.currency AND x.type = r.type))
"""

#: The same with `t` a candidate of `r` by its order_id (its reference is another key).
_CERTAIN_BY_ORDER_ID = """
    t.currency = r.currency AND t.type = k.word AND r.reference != ''
    AND NOT EXISTS (
        SELECT 1 FROM snapshot_transactions o
        WHERE o.snapshot_id = t.snapshot_id AND o.reference = r.reference
          AND o.currency = r.currency AND o.type = k.word)
    AND NOT EXISTS (
        SELECT 1 FROM snapshot_transactions o
        WHERE o.snapshot_id = t.snapshot_id AND o.order_id = r.reference
          AND o.currency = r.currency AND o.type = k.word AND o.reference IS NOT o.order_id
          AND o.position != t.position)
    AND (t.reference IS NULL OR NOT EXISTS (
        SELECT 1 FROM records x
        WHERE x.reference = t.reference AND x.currency = t.currency AND x.type = r.type))
"""

#: Both ways, as (join condition, certainty).
_ARMS = ((_BY_REFERENCE, _CERTAIN_BY_REFERENCE), (_BY_ORDER_ID, _CERTAIN_BY_ORDER_ID))


def _as(alias: str, sql: str) -> str:
    """`sql` about transaction `t` written about `alias` instead."""
    return re.sub(r"\bt\.", f"{alias}.", sql)


#: Whether a certain pair could make a cause: over-selects, never misses (see above).
#: An hour is the stored time's first 13 characters (`YYYY-MM-DDTHH`, UTC).
_DIFFERS = """(
    r.amount != t.net_amount OR r.fee != t.fee_amount
    OR substr(r.occurred_at, 1, 13) != substr(t.created_at, 1, 13)
    OR NOT EXISTS (SELECT 1 FROM statuses s WHERE s.word = t.status AND s.status = r.status))
"""

#: A stored amount's text without trailing zeros after the point: equal amounts have
#: equal keys, as `amount_key` makes them in Python.
_AMOUNT_KEY = """(CASE WHEN CAST(t.net_amount AS TEXT) LIKE '%.%'
    THEN rtrim(rtrim(CAST(t.net_amount AS TEXT), '0'), '.')
    ELSE CAST(t.net_amount AS TEXT) END)"""


def amount_key(amount: Decimal) -> str:
    """The text `_AMOUNT_KEY` makes of a stored amount equal to `amount`."""
    return money.canonical(money.trimmed(amount))


RecordRow = tuple[Any, ...]


@dataclass
class FirstPass:
    """What Python still needs once the certain pairs are kept in the database."""

    store: Store
    snapshot_id: int
    kinds: Mapping[str, str]
    statuses: Mapping[str, str]
    currencies: tuple[str, ...]
    #: The certain pairs that could make a cause: (record row, transaction).
    differing: list[tuple[RecordRow, GatewayTransaction]]
    #: The records in no certain pair, as `ledger.matchable_records` gives them.
    records: list[RecordRow]
    #: The transactions in no certain pair, in the listing's order.
    transactions: list[GatewayTransaction]

    def identical_of_amounts(
        self, currencies: Collection[str], amounts: Collection[Decimal]
    ) -> list[tuple[RecordRow, GatewayTransaction]]:
        """The certain pairs left in the database (identical ones) in `currencies` whose
        net amount is one of `amounts`: what the wrong-wallet search needs, only when it
        runs (docs/causes.md, "Wrong wallet")."""
        codes = [code for code in self.currencies if code in currencies]
        keys = sorted({amount_key(amount) for amount in amounts})
        if not codes or not keys:
            return []
        head, parameters = _tables(self.kinds, self.statuses, codes)
        marks = ", ".join("?" * len(keys))
        arms = " UNION ALL ".join(
            f"""SELECT {_RECORD}, t.position, {_TRANSACTION}
            FROM snapshot_transactions t
            JOIN records r ON {join}
            JOIN kinds k ON k.kind = r.type
            WHERE t.snapshot_id = ? AND t.currency IN (SELECT code FROM compared)
              AND {_AMOUNT_KEY} IN ({marks}) AND {certain} AND NOT {_DIFFERS}"""
            for join, certain in _ARMS
        )
        rows = self.store.query(
            f"{head} SELECT * FROM ({arms}) AS found ORDER BY position",
            (*parameters, *(self.snapshot_id, *keys) * len(_ARMS)),
        )
        return list(_pairs(self.store, rows))


def first_pass(
    store: Store,
    snapshot_id: int,
    *,
    kinds: Mapping[str, str],
    statuses: Mapping[str, str],
    currencies: Sequence[str],
) -> FirstPass:
    """Run the first pass on a stored snapshot's transactions and the stored records.

    `kinds` maps the gateway's transaction types to the records' (payment -> deposit);
    `statuses` the gateway's status words to the records' (a word not given is always
    compared again in Python); `currencies` are the currencies compared."""
    codes = tuple(sorted(set(currencies)))
    found = FirstPass(store, snapshot_id, kinds, statuses, codes, [], [], [])
    if not codes:
        return found
    head, parameters = _tables(kinds, statuses, codes)
    # Each record with its certain transaction by either way (at most one of the two:
    # a record with a candidate each way has two), kept when it could make a cause.
    # The records are read in storage order (`|| ''` keeps SQLite from reaching them
    # through an index by currency, a seek per record).
    rows = store.query(
        f"""{head}
        SELECT {_RECORD}, a.position, {_as("a", _TRANSACTION)}, b.position,
               {_as("b", _TRANSACTION)}
        FROM records r
        JOIN kinds k ON k.kind = r.type
        LEFT JOIN snapshot_transactions a ON a.snapshot_id = ?
          AND {_as("a", _BY_REFERENCE)} AND {_as("a", _CERTAIN_BY_REFERENCE)}
        LEFT JOIN snapshot_transactions b ON b.snapshot_id = ?
          AND {_as("b", _BY_ORDER_ID)} AND {_as("b", _CERTAIN_BY_ORDER_ID)}
        WHERE r.currency || '' IN (SELECT code FROM compared)
          AND (a.position IS NULL OR {_as("a", _DIFFERS)})
          AND (b.position IS NULL OR {_as("b", _DIFFERS)})""",
        (*parameters, snapshot_id, snapshot_id),
    )
    second = _WIDTH + 1 + len(TRANSACTION_COLUMNS)
    for row in rows:
        record = tuple(row[:_WIDTH])
        if row[_WIDTH] is not None:
            found.differing.append((record, _transaction(store, row[_WIDTH + 1 : second])))
        elif row[second] is not None:
            found.differing.append((record, _transaction(store, row[second + 1 :])))
        else:
            found.records.append(record)
    certain = " OR ".join(
        f"""EXISTS (SELECT 1 FROM records r JOIN kinds k ON k.kind = r.type
                    WHERE {join} AND {check})"""
        for join, check in _ARMS
    )
    rest = store.query(
        f"""{head}
        SELECT {_TRANSACTION} FROM snapshot_transactions t
        WHERE t.snapshot_id = ? AND t.currency IN (SELECT code FROM compared)
          AND NOT ({certain})
        ORDER BY t.position""",
        (*parameters, snapshot_id),
    )
    found.transactions = [_transaction(store, row) for row in rest]
    return found


def _pairs(store: Store, rows: Sequence[Any]) -> Iterator[tuple[RecordRow, GatewayTransaction]]:
    for row in rows:
        yield tuple(row[:_WIDTH]), _transaction(store, row[_WIDTH + 1 :])


def _transaction(store: Store, row: Sequence[Any]) -> GatewayTransaction:
    try:
        return stored_transaction(row)
    except ResponseShapeError as error:
        raise DamagedSnapshot(store, error) from None
