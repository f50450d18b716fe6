"""Matching's first pass in the database: the pairs it would certainly make, kept there.

A record and a stored gateway transaction are a **certain pair** when the transaction is
the record's only candidate by reference (under its `reference` or, where that differs,
its `metadata.order_id`; same currency, the type mapped as the caller says) and the record
is the only one the transaction is a candidate of. Pass 1 makes every certain pair
whatever order it takes the records in, and no other record could have taken either
side, so matching the rest in Python without them makes exactly the other pairs
(docs/causes.md, "The first pass in the database", gives the proof).

The certain pairs are decided once, into a temporary table that the check keeps until
its causes are made: the records and transactions left over, the pairs that could make
a cause and the wrong-wallet search's identical pairs are all read from it.

Of the certain pairs only those that could make a cause reach Python: the rest are
identical and stay in the database. The comparison here is a pre-filter that can only
over-select (the rules are Python's, in `reconcile/causes.py`): equal stored texts are
equal amounts, while texts that differ ("1.5", "1.50") are compared again in Python.
The queries are written once, in SQLite's spelling, as every query of the store.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from reconcile_tui import money
from reconcile_tui.api.models import GatewayTransaction, ResponseShapeError
from reconcile_tui.errors import DatabaseError
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


def _tables(kinds: Mapping[str, str], currencies: Sequence[str]) -> tuple[str, list[str]]:
    """The caller's vocabulary as VALUES tables (so no rule is written twice): `kinds`
    (gateway type -> record type) and the compared currencies."""

    def values(rows: Sequence[tuple[str, ...]]) -> str:
        return ", ".join("(" + ", ".join("?" * len(row)) + ")" for row in rows)

    kind_rows = sorted(kinds.items())
    code_rows = [(code,) for code in sorted(set(currencies))]
    sql = (
        f"WITH kinds(word, kind) AS (VALUES {values(kind_rows)}),"
        f" compared(code) AS (VALUES {values(code_rows)})"
    )
    parameters = [value for row in (*kind_rows, *code_rows) for value in row]
    return sql, parameters


def _differs(statuses: Mapping[str, str]) -> tuple[str, list[str]]:
    """Whether a certain pair (`r`, `t`) could make a cause (1) or is identical (0):
    over-selects, never misses (see above). An hour is the stored time's first 13
    characters (`YYYY-MM-DDTHH`, UTC). `statuses` (gateway word -> record status) is the
    caller's, as one CASE: a word it does not give is NULL, so always compared again."""
    rows = sorted(statuses.items())
    status = "CASE t.status " + " ".join("WHEN ? THEN ?" for _row in rows) + " END"
    sql = f"""(CASE WHEN
        r.amount != t.net_amount OR r.fee != t.fee_amount
        OR substr(r.occurred_at, 1, 13) != substr(t.created_at, 1, 13)
        OR r.status IS NOT ({status})
        THEN 1 ELSE 0 END)"""
    return sql, [value for row in rows for value in row]


#: The two ways a transaction `t` is a candidate of a record `r` (`k.word`: the gateway's
#: word for `r.type`): by its reference, or by an order_id that differs from it.
_BY_REFERENCE = "t.reference = r.reference"
_BY_ORDER_ID = "t.order_id = r.reference AND t.reference IS NOT t.order_id"

#: With `t` a candidate of `r` by its reference: `t` is `r`'s only candidate, and `r` the
#: only record `t` is a candidate of (by its reference that is `r`, references being
#: unique; by its order_id, where that is another key). `IS NOT`: nullable inequality.
#: Each look-up is one index probe in SQLite (an OR here would make it scan the
#: snapshot), and each NOT EXISTS stands alone in the WHERE clause, where a server makes
#: it one anti-join of the two tables instead of a look-up per row.
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
    AND NOT EXISTS (
        SELECT 1 FROM records x
        WHERE x.reference = t.order_id AND x.currency = t.currency AND x.type = r.type
          AND t.order_id IS NOT t.reference)
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
    AND NOT EXISTS (
        SELECT 1 FROM records x
        WHERE x.reference = t.reference AND x.currency = t.currency AND x.type = r.type)
"""

#: Both ways, as (tables, join condition, certainty). The tables are in the order SQLite
#: loops over them (CROSS JOIN fixes it; a server orders joins as it likes): by
#: reference, the records in storage order, so the certain pairs' table is written in
#: the order of its key; by order_id, the few transactions that have one.
_ARMS = (
    (
        "records r CROSS JOIN kinds k CROSS JOIN snapshot_transactions t",
        _BY_REFERENCE,
        _CERTAIN_BY_REFERENCE,
    ),
    (
        "snapshot_transactions t CROSS JOIN records r CROSS JOIN kinds k",
        f"t.order_id IS NOT NULL AND {_BY_ORDER_ID}",
        _CERTAIN_BY_ORDER_ID,
    ),
)

#: A stored amount's text (as text on either store: the certain pairs' table holds it so)
#: without trailing zeros after the point: equal amounts have equal keys, as
#: `amount_key` makes them in Python. Every text of an amount starts with
#: its key, so a range of texts (`_KEY_RANGE`) narrows the rows cheaply before it.
_AMOUNT_KEY = """(CASE WHEN p.net_amount LIKE '%.%'
    THEN rtrim(rtrim(p.net_amount, '0'), '.') ELSE p.net_amount END)"""
_KEY_RANGE = "(p.net_amount >= ? AND p.net_amount < ?)"
#: Above every character that can follow a key in a text of the same amount (`0`, `.`).
_ABOVE = "\x7f"


def amount_key(amount: Decimal) -> str:
    """The text `_AMOUNT_KEY` makes of a stored amount equal to `amount`."""
    return money.canonical(money.trimmed(amount))


RecordRow = tuple[Any, ...]


def _compared_records(store: Store) -> str:
    """The records of the compared currencies. In SQLite `|| ''` keeps the planner from
    reaching them through an index by currency, a seek per record; a server would take
    the same spelling for an unknown expression and plan the joins for a fiftieth of the
    records (docs/performance.md, "PostgreSQL")."""
    column = "r.currency" if store.server else "r.currency || ''"
    return f"{column} IN (SELECT code FROM compared)"


#: Each first pass keeps its certain pairs in a temporary table of its own, dropped when
#: its check is done: one connection may run one check after another (the terminal app).
_TABLES = itertools.count(1)


@dataclass
class FirstPass:
    """What Python still needs once the certain pairs are kept in the database.

    The certain pairs are decided once, into a temporary table (`table`) that lives until
    `close` (the result is a context manager): the records and transactions left are what
    it does not hold, and the wrong-wallet search reads the identical pairs from it."""

    store: Store
    snapshot_id: int
    currencies: tuple[str, ...]
    #: The certain pairs that could make a cause: (record row, transaction).
    differing: list[tuple[RecordRow, GatewayTransaction]] = field(default_factory=list)
    #: The records in no certain pair, as `ledger.matchable_records` gives them.
    records: list[RecordRow] = field(default_factory=list)
    #: The transactions in no certain pair, in the listing's order.
    transactions: list[GatewayTransaction] = field(default_factory=list)
    #: The certain pairs' temporary table; None once dropped, or when nothing is compared.
    table: str | None = None

    def identical_of_amounts(
        self, currencies: Collection[str], amounts: Collection[Decimal]
    ) -> list[tuple[RecordRow, GatewayTransaction]]:
        """The certain pairs left in the database (identical ones) in `currencies` whose
        net amount is one of `amounts`: what the wrong-wallet search needs, only when it
        runs (docs/causes.md, "Wrong wallet")."""
        codes = [code for code in self.currencies if code in currencies]
        keys = sorted({amount_key(amount) for amount in amounts})
        if not codes or not keys or self.table is None:
            return []
        ranges = " OR ".join(_KEY_RANGE for _key in keys)
        rows = self.store.query(
            f"""SELECT {_RECORD}, t.position, {_TRANSACTION}
            FROM temp.{self.table} p
            CROSS JOIN records r
            CROSS JOIN snapshot_transactions t
            WHERE r.id = p.record_id AND t.snapshot_id = ? AND t.position = p.position
              AND p.differs = 0 AND p.currency IN ({", ".join("?" * len(codes))})
              AND ({ranges}) AND {_AMOUNT_KEY} IN ({", ".join("?" * len(keys))})
            ORDER BY p.position""",
            (
                self.snapshot_id,
                *codes,
                *(bound for key in keys for bound in (key, key + _ABOVE)),
                *keys,
            ),
        )
        return list(_pairs(self.store, rows))

    def close(self) -> None:
        """Drop the certain pairs' table. Should that fail, the table dies with the
        connection (it is temporary), and the check's own outcome stands."""
        table, self.table = self.table, None
        if table is not None:
            with contextlib.suppress(DatabaseError), self.store.errors():
                self.store.conn.execute(f"DROP TABLE IF EXISTS temp.{table}")

    def __enter__(self) -> FirstPass:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
    compared again in Python); `currencies` are the currencies compared. Close the result
    when done with it (it is a context manager)."""
    codes = tuple(sorted(set(currencies)))
    found = FirstPass(store, snapshot_id, codes)
    if not codes:
        return found
    head, parameters = _tables(kinds, codes)
    found.table = table = f"first_pass_{next(_TABLES)}"
    try:
        _decide(store, table, (head, parameters), _differs(statuses), snapshot_id)
        # The records in no certain pair, and those whose pair could make a cause with
        # its transaction. The records are read in storage order, as the table was
        # written (`_compared_records`).
        rows = store.query(
            f"""{head}
            SELECT {_RECORD}, t.position, {_TRANSACTION}
            FROM records r
            LEFT JOIN temp.{table} p ON p.record_id = r.id
            LEFT JOIN snapshot_transactions t ON p.differs = 1
              AND t.snapshot_id = ? AND t.position = p.position
            WHERE r.type IN (SELECT kind FROM kinds)
              AND {_compared_records(store)}
              AND (p.record_id IS NULL OR p.differs = 1)""",
            (*parameters, snapshot_id),
        )
        for row in rows:
            record = tuple(row[:_WIDTH])
            if row[_WIDTH] is None:
                found.records.append(record)
            else:
                found.differing.append((record, _transaction(store, row[_WIDTH + 1 :])))
        # Which transactions are left is read from the narrow index by reference (its
        # columns suffice); only those left are read whole.
        rest = store.query(
            f"""{head}
            SELECT {_TRANSACTION} FROM snapshot_transactions t
            WHERE t.snapshot_id = ? AND t.position IN (
                SELECT u.position FROM snapshot_transactions u
                WHERE u.snapshot_id = ? AND u.currency IN (SELECT code FROM compared)
                  AND NOT EXISTS (SELECT 1 FROM temp.{table} p WHERE p.position = u.position))
            ORDER BY t.position""",
            (*parameters, snapshot_id, snapshot_id),
        )
        found.transactions = [_transaction(store, row) for row in rest]
    except BaseException:
        found.close()
        raise
    return found


def _decide(
    store: Store,
    table: str,
    vocabulary: tuple[str, list[str]],
    differs: tuple[str, list[str]],
    snapshot_id: int,
) -> None:
    """Decide the certain pairs once, into the temporary `table`: each with the record's
    id, the transaction's position, its currency and net amount (what the wrong-wallet
    search filters on) and whether the pair could make a cause. A record is in at most
    one certain pair, and so is a transaction (docs/causes.md).

    SQLite is told the order of its loops (`_ARMS`): it knows nothing of a temporary
    table's size, and the record's id is the table's own row id, written in order. A
    server makes the table from the first arm's SELECT (CREATE TABLE AS may plan it in
    parallel, an INSERT may not: 3.5 s against 5.6 s at a million pairs), then indexes
    it and gives it statistics (docs/performance.md, "PostgreSQL")."""
    (head, parameters), (differ, differ_parameters) = vocabulary, differs
    # `|| ''`: the net amount as text on either store (a server's is NUMERIC), as
    # `_AMOUNT_KEY` reads it; in byte order, which `_KEY_RANGE` relies on, whatever the
    # server database's default collation.
    selects = [
        f"""{head}
            SELECT r.id AS record_id, t.position AS position, t.currency AS currency,
                   (t.net_amount || '') COLLATE BINARY AS net_amount, {differ} AS differs
            FROM {tables}
            WHERE k.kind = r.type AND {_compared_records(store)}
              AND t.snapshot_id = ? AND {join} AND {certain}"""
        for tables, join, certain in _ARMS
    ]
    arguments = (*parameters, *differ_parameters, snapshot_id)
    columns = "(record_id, position, currency, net_amount, differs)"
    with store.errors():
        if store.server:
            store.conn.execute(f"CREATE TEMP TABLE {table} AS {selects[0]}", arguments)
        else:
            store.conn.execute(
                f"""CREATE TEMP TABLE {table} (
                    record_id INTEGER PRIMARY KEY,
                    position INTEGER NOT NULL,
                    currency TEXT NOT NULL,
                    net_amount TEXT NOT NULL,
                    differs INTEGER NOT NULL)"""
            )
            store.conn.execute(f"INSERT INTO temp.{table} {columns} {selects[0]}", arguments)
        for select in selects[1:]:
            store.conn.execute(f"INSERT INTO temp.{table} {columns} {select}", arguments)
        if store.server:
            store.conn.execute(f"CREATE UNIQUE INDEX temp.{table}_by_record ON {table}(record_id)")
            # Temporary, so autovacuum never gives it statistics (docs/postgresql.md).
            store.conn.execute(f"ANALYZE temp.{table}")
        store.conn.execute(f"CREATE INDEX temp.{table}_by_position ON {table}(position)")


def _pairs(store: Store, rows: Sequence[Any]) -> Iterator[tuple[RecordRow, GatewayTransaction]]:
    for row in rows:
        yield tuple(row[:_WIDTH]), _transaction(store, row[_WIDTH + 1 :])


def _transaction(store: Store, row: Sequence[Any]) -> GatewayTransaction:
    try:
        return stored_transaction(row)
    except ResponseShapeError as error:
        raise DamagedSnapshot(store, error) from None
