"""Stored gateway snapshots: raw bodies kept as received, parsed rows beside them.

The raw bodies are the source of truth (a snapshot is always re-read by parsing them, so
a stored snapshot means exactly what it meant when fetched); the parsed rows exist for
SQL (the TUI's pages, ad-hoc audit queries).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, overload

from reconcile_tui.api.models import (
    GatewayTransaction,
    ResponseShapeError,
    parse_balances,
    parse_history,
)
from reconcile_tui.api.snapshot import GatewaySnapshot
from reconcile_tui.bulk import collection_paused
from reconcile_tui.errors import DatabaseError
from reconcile_tui.money import canonical
from reconcile_tui.store.db import Connection, Store, load_rows
from reconcile_tui.times import TimeError, format_utc, parse_api_time, sql_bound

__all__ = [
    "TRANSACTION_COLUMNS",
    "DamagedSnapshot",
    "StoredTransactions",
    "cached_snapshot",
    "latest_origin",
    "latest_printed_scales",
    "latest_snapshot",
    "load_snapshot",
    "previous_listing",
    "save_snapshot",
    "stored_transaction",
]


class DamagedSnapshot(DatabaseError):
    """A stored snapshot this version cannot hold (stored by an older one that accepted
    values now refused, docs/api-client.md "Bounds"): exit 4, saying how to get past it."""

    def __init__(self, store: Store, problem: Exception) -> None:
        super().__init__(
            f"database {store.path}: {problem}; run `reconcile-tui fetch --refresh`"
            " (or `check --api-dir DIR`) to store a snapshot that can be read"
        )


def _currency_key(currencies: Sequence[str] | None) -> str | None:
    return ",".join(sorted(set(currencies))) if currencies else None


def save_snapshot(
    store: Store,
    snapshot: GatewaySnapshot,
    *,
    source: str,
    currencies: Sequence[str] | None = None,
) -> int:
    """Store a snapshot (its raw bodies) in one transaction; returns its id.

    `currencies` records which currencies were asked for (None: all of them), so the
    cache only reuses a snapshot for a request it answers completely.
    """
    with store.write() as conn:
        snapshot_id = conn.execute(
            """INSERT INTO snapshots (fetched_at, as_of, base_url, period, interval, source,
                   currencies, balances_raw, transactions_count, transactions_note)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                format_utc(snapshot.fetched_at),
                format_utc(snapshot.as_of),
                snapshot.base_url,
                snapshot.period,
                snapshot.interval,
                source,
                _currency_key(currencies),
                snapshot.balances_raw,
                None if snapshot.transactions is None else len(snapshot.transactions),
                snapshot.transactions_note,
            ),
        ).lastrowid
        assert snapshot_id is not None
        for code, history in snapshot.histories.items():
            conn.execute(
                "INSERT INTO snapshot_histories VALUES (?, ?, ?)",
                (snapshot_id, code, snapshot.histories_raw[code]),
            )
            # The buckets' parsed copy: a close looks up which history covers a period in
            # it without parsing every stored history (store/closes.py, docs/close.md).
            conn.executemany(
                "INSERT INTO snapshot_buckets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        snapshot_id,
                        code,
                        format_utc(bucket.timestamp),
                        canonical(bucket.balance),
                        canonical(bucket.deposits),
                        canonical(bucket.withdrawals),
                        bucket.deposit_count,
                        bucket.withdrawal_count,
                        canonical(bucket.usd_value),
                    )
                    for bucket in history.history
                ],
            )
        if snapshot.transactions is not None:
            _insert_transactions(conn, int(snapshot_id), snapshot)
    if store.server and len(snapshot.transactions or ()) >= VACUUMED_LISTING:
        # The check that follows (at once, for `check`) plans its joins from the table's
        # statistics and reads its indexes alone where the table's pages are marked all
        # visible; a server's autovacuum does both only within the minute. A million
        # transactions checked before it took 22 s, after this 12 s (docs/performance.md,
        # "PostgreSQL").
        store.vacuum("snapshot_transactions")
    return int(snapshot_id)


#: The listings a server's table is vacuumed for once stored: a smaller one cannot
#: change the plans much, and vacuuming a table of a million costs about 0.6 s.
VACUUMED_LISTING = 10_000


#: The columns of `snapshot_transactions` before `raw`, in the order of its migration.
_COLUMNS = (
    "snapshot_id",
    "position",
    "id",
    "type",
    "transaction_id",
    "withdrawal_id",
    "currency",
    "status",
    "amount",
    "fee_amount",
    "net_amount",
    "created_at",
    "updated_at",
    "reference",
    "blockchain_address",
    "transaction_hash",
    "order_id",
    "confirmations",
)


def _insert_transactions(conn: Connection, snapshot_id: int, snapshot: GatewaySnapshot) -> None:
    """One executemany for the whole listing, inside the snapshot's transaction."""
    raw_items = snapshot.transaction_items()
    assert snapshot.transactions is not None
    assert raw_items is not None
    load_rows(
        conn,
        "snapshot_transactions",
        (*_COLUMNS, "raw"),
        (
            (
                snapshot_id,
                position,
                item.id,
                item.type,
                item.transaction_id,
                item.withdrawal_id,
                item.currency,
                item.status,
                canonical(item.amount),
                canonical(item.fee_amount),
                canonical(item.net_amount),
                format_utc(item.created_at),
                format_utc(item.updated_at) if item.updated_at else None,
                item.reference,
                item.blockchain_address,
                item.transaction_hash,
                item.order_id,
                item.confirmations,
                raw.decode("utf-8"),
            )
            for position, (item, raw) in enumerate(
                zip(snapshot.transactions, raw_items, strict=True)
            )
        ),
    )


#: The columns a stored transaction is rebuilt from, in `stored_transaction`'s order.
TRANSACTION_COLUMNS = _COLUMNS[2:]


class StoredTransactions(Sequence[GatewayTransaction]):
    """A stored snapshot's transaction listing, rebuilt from its rows only when it is
    first read as a whole. A check asks the database for the few it needs instead
    (`store/pairs.py`): a million rebuilt transactions cost tens of seconds
    (docs/performance.md, "Check with transactions"). `store` and `snapshot_id` say where
    they are for that."""

    def __init__(self, store: Store, snapshot_id: int, count: int) -> None:
        self.store = store
        self.snapshot_id = snapshot_id
        self._count = count
        self._loaded: tuple[tuple[GatewayTransaction, ...], tuple[bytes, ...]] | None = None

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> GatewayTransaction: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[GatewayTransaction]: ...
    def __getitem__(self, index: int | slice) -> GatewayTransaction | Sequence[GatewayTransaction]:
        return self.load()[0][index]

    def __iter__(self) -> Iterator[GatewayTransaction]:
        return iter(self.load()[0])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def raw_items(self) -> tuple[bytes, ...]:
        """Each transaction's JSON as the gateway wrote it, in the listing's order."""
        return self.load()[1]

    def load(self) -> tuple[tuple[GatewayTransaction, ...], tuple[bytes, ...]]:
        """Every transaction and its raw item, read once."""
        if self._loaded is None:
            try:
                self._loaded = _load_transactions(self.store, self.snapshot_id, self._count)
            except ResponseShapeError as error:
                raise DamagedSnapshot(self.store, error) from None
        return self._loaded


class _StoredRawItems(Sequence[bytes]):
    """The raw items beside a `StoredTransactions`, read with it."""

    def __init__(self, transactions: StoredTransactions) -> None:
        self.transactions = transactions

    def __len__(self) -> int:
        return len(self.transactions)

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        return self.transactions.raw_items()[index]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.transactions.raw_items())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def _stored_listing(
    store: Store, snapshot_id: int, count: int | None
) -> tuple[StoredTransactions | None, _StoredRawItems | None]:
    """The stored listing, read lazily; its size is checked now (a count is cheap)."""
    if count is None:
        return None, None
    held = store.query_one(
        "SELECT count(*) FROM snapshot_transactions WHERE snapshot_id = ?", (snapshot_id,)
    )[0]
    if held != count:
        raise DatabaseError(
            f"database {store.path}: snapshot #{snapshot_id} should hold {count} gateway"
            f" transactions, holds {held}"
        )
    transactions = StoredTransactions(store, snapshot_id, count)
    return transactions, _StoredRawItems(transactions)


def _load_transactions(
    store: Store, snapshot_id: int, count: int
) -> tuple[tuple[GatewayTransaction, ...], tuple[bytes, ...]]:
    """The stored listing, rebuilt from its columns: every value was validated by the
    response models before it was stored, and is only converted back here."""
    with collection_paused():
        rows = store.query(
            f"SELECT {', '.join(TRANSACTION_COLUMNS)}, raw FROM snapshot_transactions"
            " WHERE snapshot_id = ? ORDER BY position",
            (snapshot_id,),
        )
        if len(rows) != count:
            raise DatabaseError(
                f"database {store.path}: snapshot #{snapshot_id} should hold {count} gateway"
                f" transactions, holds {len(rows)}"
            )
        transactions = tuple(stored_transaction(row) for row in rows)
        raw = tuple(row[-1].encode("utf-8") for row in rows)
    return transactions, raw


def stored_transaction(row: Sequence[Any]) -> GatewayTransaction:
    """A transaction from its stored columns (`TRANSACTION_COLUMNS`, then anything)."""
    # Unpacked by position: a million rows read by column name cost seconds.
    (
        id_,
        type_,
        transaction_id,
        withdrawal_id,
        currency,
        status,
        amount,
        fee_amount,
        net_amount,
        created_at,
        updated_at,
        reference,
        blockchain_address,
        transaction_hash,
        order_id,
        confirmations,
    ) = row[: len(TRANSACTION_COLUMNS)]
    try:
        return GatewayTransaction.model_construct(
            id=id_,
            type=type_,
            transaction_id=transaction_id,
            withdrawal_id=withdrawal_id,
            amount=Decimal(amount),
            currency=currency,
            status=status,
            created_at=parse_api_time(created_at),
            updated_at=parse_api_time(updated_at) if updated_at is not None else None,
            reference=reference,
            blockchain_address=blockchain_address,
            transaction_hash=transaction_hash,
            fee_amount=Decimal(fee_amount),
            net_amount=Decimal(net_amount),
            order_id=order_id,
            confirmations=confirmations,
            metadata=None,
        )
    except (ArithmeticError, TimeError) as error:
        raise ResponseShapeError(f"stored transaction {id_!r}: {error}") from None


def load_snapshot(store: Store, snapshot_id: int) -> GatewaySnapshot:
    """Re-read a stored snapshot from its raw bodies."""
    row = store.query_one(
        """SELECT fetched_at, base_url, period, interval, balances_raw, transactions_count,
                  transactions_note FROM snapshots WHERE id = ?""",
        (snapshot_id,),
    )
    if row is None:
        raise DatabaseError(f"database {store.path} has no snapshot #{snapshot_id}")
    try:
        balances = parse_balances(row["balances_raw"], f"stored snapshot #{snapshot_id}")
        raw_histories = {
            history["currency"]: bytes(history["raw"])
            for history in store.query(
                "SELECT currency, raw FROM snapshot_histories WHERE snapshot_id = ?"
                " ORDER BY currency",
                (snapshot_id,),
            )
        }
        histories = {
            code: parse_history(raw, f"stored history {code} of snapshot #{snapshot_id}")
            for code, raw in raw_histories.items()
        }
        transactions, transactions_raw = _stored_listing(
            store, snapshot_id, row["transactions_count"]
        )
    except ResponseShapeError as error:
        raise DamagedSnapshot(store, error) from None
    histories = {
        code: history if history.currency else history.model_copy(update={"currency": code})
        for code, history in histories.items()
    }
    return GatewaySnapshot(
        balances=balances,
        histories=histories,
        fetched_at=parse_api_time(row["fetched_at"]),
        base_url=row["base_url"],
        period=row["period"],
        interval=row["interval"],
        balances_raw=bytes(row["balances_raw"]),
        histories_raw=raw_histories,
        transactions=transactions,
        transactions_raw=transactions_raw,
        transactions_note=row["transactions_note"],
    )


_NEWEST = "SELECT id, base_url, fetched_at FROM snapshots ORDER BY fetched_at DESC, id DESC LIMIT 1"


def latest_origin(store: Store) -> tuple[int, str, datetime] | None:
    """(id, base URL, fetch time) of the newest snapshot, parsing nothing; None if none."""
    row = store.query_one(_NEWEST)
    return (int(row[0]), row[1], parse_api_time(row[2])) if row else None


def latest_snapshot(store: Store) -> tuple[int, GatewaySnapshot] | None:
    """The newest stored snapshot (by fetch time), or None when nothing was ever fetched."""
    origin = latest_origin(store)
    return (origin[0], load_snapshot(store, origin[0])) if origin else None


def previous_listing(store: Store, base_url: str) -> StoredTransactions | None:
    """The listing of the newest snapshot fetched from `base_url` that holds one: what an
    incremental fetch refreshes (docs/api-client.md, "Incremental fetches"); None if none."""
    row = store.query_one(
        """SELECT id, transactions_count FROM snapshots
           WHERE source = 'api' AND base_url = ? AND transactions_count IS NOT NULL
           ORDER BY fetched_at DESC, id DESC LIMIT 1""",
        (base_url,),
    )
    if row is None:
        return None
    transactions, _ = _stored_listing(store, int(row[0]), int(row[1]))
    return transactions


def latest_printed_scales(store: Store) -> dict[str, int]:
    """Decimal places the gateway printed per currency in the newest snapshot (its balances
    only: the histories are not needed for that)."""
    origin = latest_origin(store)
    if origin is None:
        return {}
    row = store.query_one("SELECT balances_raw FROM snapshots WHERE id = ?", (origin[0],))
    try:
        return parse_balances(row[0], f"stored snapshot #{origin[0]}").printed_scales()
    except ResponseShapeError as error:
        raise DamagedSnapshot(store, error) from None


def cached_snapshot(
    store: Store,
    *,
    base_url: str,
    period: str,
    interval: str,
    currencies: Sequence[str] | None,
    fetched_since: datetime,
) -> tuple[int, GatewaySnapshot] | None:
    """A snapshot fetched from `base_url` since `fetched_since` that answers this request."""
    rows = store.query(
        """SELECT id, currencies FROM snapshots
           WHERE source = 'api' AND base_url = ? AND period = ? AND interval = ?
             AND fetched_at >= ?
           ORDER BY fetched_at DESC, id DESC""",
        (base_url, period, interval, sql_bound(fetched_since)),
    )
    wanted = set(currencies or ())
    for row in rows:
        held = row["currencies"]
        if held is None or (wanted and wanted <= set(held.split(","))):
            try:
                found = load_snapshot(store, int(row["id"]))
                if not wanted <= set(found.histories):
                    # Every currency then, but not one asked for now: the gateway says
                    # what it makes of it, as it would without the cache.
                    continue
                if isinstance(found.transactions, StoredTransactions):
                    found.transactions.load()  # damage shows now, and a fetch replaces it
                return int(row["id"]), found
            except DamagedSnapshot:
                continue  # what an older version stored and this one cannot hold: fetch anew
    return None
