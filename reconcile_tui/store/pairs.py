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


#: Whether transaction `t` (of snapshot `t.snapshot_id`) and record `r` (whose type's
#: gateway word is `k.word`) are a certain pair. `IS NOT` is nullable inequality.
_CERTAIN = """
    t.currency = r.currency AND t.type = k.word AND r.reference != ''
    AND (t.reference = r.reference OR (t.order_id = r.reference AND t.reference IS NOT t.order_id))
    AND NOT EXISTS (
        SELECT 1 FROM snapshot_transactions o
        WHERE o.snapshot_id = t.snapshot_id AND o.position != t.position
          AND o.currency = r.currency AND o.type = t.type
          AND (o.reference = r.reference
               OR (o.order_id = r.reference AND o.reference IS NOT o.order_id)))
    AND NOT EXISTS (
        SELECT 1 FROM records x
        WHERE x.id != r.id AND x.currency = t.currency AND x.type = r.type
          AND (x.reference = t.reference OR x.reference = t.order_id))
"""

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
        rows = self.store.query(
            f"""{head}
            SELECT {_RECORD}, {_TRANSACTION}
            FROM snapshot_transactions t
            JOIN records r ON r.reference = t.reference OR r.reference = t.order_id
            JOIN kinds k ON k.kind = r.type
            WHERE t.snapshot_id = ? AND t.currency IN (SELECT code FROM compared)
              AND {_AMOUNT_KEY} IN ({marks})
              AND {_CERTAIN} AND NOT {_DIFFERS}
            ORDER BY t.position""",
            (*parameters, self.snapshot_id, *keys),
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
    rows = store.query(
        f"""{head}
        SELECT {_RECORD}, t.position, {_TRANSACTION}
        FROM records r
        JOIN kinds k ON k.kind = r.type
        LEFT JOIN snapshot_transactions t ON t.snapshot_id = ?
          AND (t.reference = r.reference OR t.order_id = r.reference) AND {_CERTAIN}
        WHERE r.currency IN (SELECT code FROM compared)
          AND (t.position IS NULL OR {_DIFFERS})""",
        (*parameters, snapshot_id),
    )
    width = len(_RECORD.split(","))
    for row in rows:
        if row[width] is None:
            found.records.append(tuple(row[:width]))
        else:
            found.differing.append((tuple(row[:width]), _transaction(store, row[width + 1 :])))
    rest = store.query(
        f"""{head}
        SELECT {_TRANSACTION} FROM snapshot_transactions t
        WHERE t.snapshot_id = ? AND t.currency IN (SELECT code FROM compared)
          AND NOT EXISTS (
              SELECT 1 FROM records r JOIN kinds k ON k.kind = r.type
              WHERE (r.reference = t.reference OR r.reference = t.order_id) AND {_CERTAIN})
        ORDER BY t.position""",
        (*parameters, snapshot_id),
    )
    found.transactions = [_transaction(store, row) for row in rest]
    return found


def _pairs(store: Store, rows: Sequence[Any]) -> Iterator[tuple[RecordRow, GatewayTransaction]]:
    width = len(_RECORD.split(","))
    for row in rows:
        yield tuple(row[:width]), _transaction(store, row[width:])


def _transaction(store: Store, row: Sequence[Any]) -> GatewayTransaction:
    try:
        return stored_transaction(row)
    except ResponseShapeError as error:
        raise DamagedSnapshot(store, error) from None
