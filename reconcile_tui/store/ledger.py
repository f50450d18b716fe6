"""Read queries over the merchant's records: the sums a reconciliation compares.

Every money sum is exact: `decimal_sum` (registered by `Store`), NUMERIC on a server, or on
SQLite the whole-number parts of `store/exact_sums.py`; SQL's SUM() never reads an amount's
text. Amounts come back as canonical decimal text and are turned into Decimals by the
caller. Times are compared through `times.sql_bound`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from reconcile_tui.errors import DatabaseError
from reconcile_tui.money import AmountError, neg, parse_amount
from reconcile_tui.store.db import LIKE_LITERAL, Store, literal_pattern
from reconcile_tui.store.exact_sums import OVERFLOW, rebuilt, summed
from reconcile_tui.store.imports import RECORD_COLUMNS, Record
from reconcile_tui.times import (
    TimeError,
    format_utc,
    parse_api_time,
    parse_record_time,
    sql_latest,
    stored_order,
)
from reconcile_tui.vocabulary import RecordStatus, RecordType

__all__ = [
    "DuplicateRow",
    "GroupTotal",
    "Movement",
    "OpeningRow",
    "PendingRow",
    "RecordFilter",
    "RecordRow",
    "balance_effect",
    "dates_only_zones",
    "duplicates",
    "group_totals",
    "is_live",
    "matchable_records",
    "movements_between",
    "openings",
    "pending_records",
    "quarantined_rows",
    "readable_records",
    "record_files",
    "record_history",
    "records_count",
    "records_page",
    "records_sum",
    "references_in",
    "unreadable",
    "wallet_flow_before",
]

# A record's balance effect (docs/reconciliation.md), in one place for the SQL and the
# Python that read records: a live record is any but an opening or a failed one; a
# deposit adds its amount to the wallet's total, a withdrawal takes it away.
_LIVE = f"type != '{RecordType.OPENING}' AND status != '{RecordStatus.FAILED}'"


def is_live(kind: str, status: str) -> bool:
    """Whether a record moves its wallet's balance: any but an opening or a failed one."""
    return kind != RecordType.OPENING and status != RecordStatus.FAILED


def balance_effect(kind: str, amount: Decimal) -> Decimal:
    """What a live record does to its wallet's total: a deposit adds, a withdrawal takes."""
    return amount if kind == RecordType.DEPOSIT else neg(amount)


@dataclass(frozen=True, slots=True)
class GroupTotal:
    """Sums of the records sharing currency, wallet, type, status, whether they come
    before their currency's history period, and the import that stored them."""

    currency: str
    wallet_id: str | None
    wallet_name: str | None
    type: str
    status: str
    before_period: bool
    import_id: int
    amount: str
    fee: str
    count: int
    #: For opening records: the latest `occurred_at` of the group, as stored, the latest by
    #: `times.stored_order` (`openings` reads the record behind it); None for every other
    #: type.
    latest_at: str | None = None


@dataclass(frozen=True, slots=True)
class OpeningRow:
    currency: str
    wallet_id: str | None
    wallet_name: str | None
    occurred_at: str
    amount: str
    reference: str


@dataclass(frozen=True, slots=True)
class Movement:
    """Live deposits or withdrawals: one record, or the sum of `count` records of one type
    that lie between the same two bounds, dated at one of them (`movements_between`)."""

    occurred_at: str
    type: str
    amount: str
    count: int = 1


@dataclass(frozen=True, slots=True)
class DuplicateRow:
    reference: str
    currency: str
    wallet_id: str | None
    wallet_name: str | None
    amount: str
    path: str
    first_line: int
    line: int
    differences: str


@dataclass(frozen=True, slots=True)
class PendingRow:
    reference: str
    currency: str
    wallet_id: str | None
    wallet_name: str | None
    type: str
    occurred_at: str
    amount: str
    tx_hash: str | None


def group_totals(store: Store, period_starts: dict[str, str] | None = None) -> list[GroupTotal]:
    """Exact sums per (currency, wallet_id, wallet_name, type, status, before the period,
    import).

    They answer the all-time figures, the balance each currency's history starts from, how
    many records there are and which imports they came from: `period_starts` maps a
    currency to the `sql_bound` of its first bucket (a currency without one has nothing
    "before"). They come from each day's sums that imports keep (store/record_sums.py),
    added with the store's one exact sum: a day before the period's first is wholly
    before it, a later one wholly after, and the records of the day it starts on are read
    one by one (docs/performance.md, "Check with transactions").
    """
    starts = sorted((period_starts or {}).items())
    if starts:
        # The row's currency's start: its day, or its time, as the parameters give them.
        branches = " ".join("WHEN ? THEN ?" for _ in starts)
        currency_start = f"CASE currency {branches} ELSE '' END"
        on_start_day = " OR ".join(
            "(currency = ? AND occurred_at >= ? AND occurred_at < ?)" for _ in starts
        )
    else:
        currency_start = "''"
        on_start_day = "FALSE"
    days = tuple(value for code, start in starts for value in (code, start[:10]))
    times = tuple(value for pair in starts for value in pair)
    ranges = tuple(
        value for code, start in starts for value in (code, start[:10], start[:10] + "U")
    )
    opened = f"CASE WHEN type = '{RecordType.OPENING}' THEN occurred_at END"
    totals: dict[tuple[Any, ...], tuple[str, str, int, str | None]] = {}
    for *key, amount, fee, count, latest in store.query(
        f"""SELECT currency, wallet_id, wallet_name, type, status, before, import_id,
                   decimal_sum(amount), decimal_sum(fee), sum(records), {sql_latest("latest")}
            FROM (
                SELECT currency, wallet_id, wallet_name, type, status,
                       day < {currency_start} AS before, import_id, amount, fee, records,
                       latest_opening AS latest
                FROM record_sums WHERE day != {currency_start}
                UNION ALL
                SELECT currency, wallet_id, wallet_name, type, status,
                       occurred_at < {currency_start} AS before, import_id, amount, fee,
                       1 AS records, {opened} AS latest
                FROM records WHERE {on_start_day}
            ) AS parts
            GROUP BY currency, wallet_id, wallet_name, type, status, before, import_id""",
        (*days, *days, *times, *ranges),
    ):
        totals[(*key[:5], int(bool(key[5])), int(key[6]))] = (amount, fee, int(count), latest)
    return [
        GroupTotal(
            currency=key[0],
            wallet_id=key[1],
            wallet_name=key[2],
            type=key[3],
            status=key[4],
            before_period=bool(key[5]),
            import_id=key[6],
            amount=amount,
            fee=fee,
            count=count,
            latest_at=latest,
        )
        for key, (amount, fee, count, latest) in sorted(
            totals.items(), key=lambda item: str(item[0])
        )
    ]


def matchable_records(store: Store) -> Iterator[tuple[str, ...]]:
    """(reference, occurred_at, currency, wallet_id, wallet_name, type, amount, fee, status,
    tx_hash) of every record but openings, in storage order: the records that matching
    pairs with the gateway's transactions (docs/causes.md). Plain tuples: there may be
    millions."""
    with store.errors():
        cursor = store.conn.execute(
            """SELECT reference, occurred_at, currency, wallet_id, wallet_name, type, amount,
                      fee, status, tx_hash FROM records WHERE type != ?""",
            (RecordType.OPENING,),
        )
        yield from cursor


def openings(
    store: Store, latest: Mapping[tuple[str, str | None, str | None], str]
) -> list[OpeningRow]:
    """The latest opening record of each raw wallet (currency, wallet_id, wallet_name),
    given the time of its latest (`GroupTotal.latest_at`): of the openings at that time,
    the one imported last. Ordered by currency, time and import order.

    Each is one look-up on the (currency, time) index, where a query of its own would read
    every record again (docs/performance.md, "PostgreSQL")."""
    found: list[tuple[str, str, int, OpeningRow]] = []
    for (currency, wallet_id, wallet_name), occurred_at in latest.items():
        row = store.query_one(
            f"""SELECT amount, reference, id FROM records
                WHERE currency = ? AND occurred_at = ? AND type = '{RecordType.OPENING}'
                  AND wallet_id IS ? AND wallet_name IS ?
                ORDER BY id DESC LIMIT 1""",
            (currency, occurred_at, wallet_id, wallet_name),
        )
        if row is not None:
            amount, reference, row_id = row
            opening = OpeningRow(currency, wallet_id, wallet_name, occurred_at, amount, reference)
            found.append((currency, occurred_at, int(row_id), opening))
    return [
        opening
        for *_, opening in sorted(found, key=lambda item: (item[0], stored_order(item[1]), item[2]))
    ]


def wallet_flow_before(
    store: Store, currency: str, wallet_id: str | None, wallet_name: str | None, bound: str
) -> list[tuple[str, str, str, int]]:
    """(type, status, amount sum, count) of a raw wallet's records before `bound`."""
    rows = store.query(
        f"""SELECT type, status, decimal_sum(amount), count(*) FROM records
            WHERE currency = ? AND wallet_id IS ? AND wallet_name IS ? AND occurred_at < ?
              AND type != '{RecordType.OPENING}'
            GROUP BY type, status""",
        (currency, wallet_id, wallet_name, bound),
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def movements_between(
    store: Store, currency: str, start: str, end: str, bounds: Sequence[datetime] = ()
) -> Iterator[Movement]:
    """The currency's live deposits and withdrawals in [start, end), oldest first.

    On a server, given the sorted `bounds` inside which the caller tells movements apart
    (its history buckets' starts and ends), the records between two consecutive bounds come
    summed per type, exactly (NUMERIC), each sum dated at one of its records: the caller
    walks them as it walks single records and cannot tell the difference, since every
    record between two bounds falls on the same side of each (docs/postgresql.md, "Speed").
    SQLite does the same per hour when every bound is a whole hour (`_hourly_sums`), and
    otherwise streams every record. When every bound is a whole UTC day, both stores add
    each day's sums the imports keep instead (`_daily_sums`).
    """
    if _all_whole(bounds, timedelta(days=1)) and _whole_day(start) and _whole_day(end):
        yield from _daily_sums(store, currency, start, end)
        return
    if store.server and bounds:
        # Compared as instants, not as text: a bound may carry fractions of a second.
        rows = store.query(
            f"""SELECT width_bucket(occurred_at::timestamptz, ?) AS span, min(occurred_at),
                       type, decimal_sum(amount), count(*)
                FROM records
                WHERE currency = ? AND occurred_at >= ? AND occurred_at < ? AND {_LIVE}
                GROUP BY span, type ORDER BY span, type""",
            (list(bounds), currency, start, end),
        )
        for _span, occurred_at, kind, amount, count in rows:
            yield Movement(occurred_at, kind, amount, int(count))
        return
    if not store.server and _all_whole(bounds, timedelta(hours=1)):
        summed_hourly = _hourly_sums(store, currency, start, end)
        if summed_hourly is not None:
            yield from summed_hourly
            return
    with store.errors():
        cursor = store.conn.execute(
            f"""SELECT occurred_at, type, amount FROM records
                WHERE currency = ? AND occurred_at >= ? AND occurred_at < ? AND {_LIVE}
                ORDER BY occurred_at""",
            (currency, start, end),
        )
        for row in cursor:
            yield Movement(*row)


def currencies_between(store: Store, start: str, end: str) -> list[str]:
    """The currencies with live records in [start, end), two whole-day bounds, from the
    day sums imports keep (store/record_sums.py)."""
    rows = store.query(
        f"""SELECT DISTINCT currency FROM record_sums
            WHERE day >= ? AND day < ? AND {_LIVE} ORDER BY currency""",
        (start[:10], end[:10]),
    )
    return [str(row[0]) for row in rows]


def _whole_day(bound: str) -> bool:
    """Whether a `sql_bound` is a day's first moment (`YYYY-MM-DDT00:00:00`)."""
    return bound.endswith("T00:00:00")


def _daily_sums(store: Store, currency: str, start: str, end: str) -> Iterator[Movement]:
    """The currency's live records in [start, end), two whole-day bounds, summed per day
    and type from the day sums imports keep (store/record_sums.py), each dated at its
    day's first moment, oldest first. Given bounds that are all whole days, a day's
    records lie between the same two bounds, so a walk adds their sum exactly as it would
    add them one by one (docs/performance.md, "Check with transactions")."""
    rows = store.query(
        f"""SELECT day, type, decimal_sum(amount), sum(records) FROM record_sums
            WHERE currency = ? AND day >= ? AND day < ? AND {_LIVE}
            GROUP BY day, type ORDER BY day, type""",
        (currency, start[:10], end[:10]),
    )
    for day, kind, amount, count in rows:
        yield Movement(f"{day}T00:00:00Z", kind, amount, int(count))


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _all_whole(bounds: Sequence[datetime], unit: timedelta) -> bool:
    """Whether there are bounds and every one begins a whole UTC `unit` (an hour, a day)."""
    return bool(bounds) and all(
        bound.tzinfo is not None and (bound - _EPOCH) % unit == timedelta(0) for bound in bounds
    )


#: The stored form of a time (`times.format_utc`), to the second or to the microsecond.
_STORED_SECOND = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
_STORED_TIME = (
    f"(occurred_at GLOB '{_STORED_SECOND}Z'"
    f" OR occurred_at GLOB '{_STORED_SECOND}.[0-9][0-9][0-9][0-9][0-9][0-9]Z')"
)


def _hourly_sums(store: Store, currency: str, start: str, end: str) -> list[Movement] | None:
    """The currency's live records in [start, end) summed exactly per hour and type, each
    sum dated at its earliest record, oldest first; None when SQLite cannot sum them all
    (an odd amount or time, a sum beyond its integers): then stream them instead.

    Given bounds that are all whole hours, the records of one hour (the stored time's first
    13 characters, `YYYY-MM-DDTHH`) lie between the same two bounds, so a walk adds their
    sum exactly as it would add them one by one (docs/performance.md, "Check with
    transactions"). Each hour's latest time is read as the walk would read each record's:
    a stored minute or second past 59 sorts last in its hour.
    """
    with store.errors():
        try:
            rows = store.conn.execute(
                f"""SELECT substr(occurred_at, 1, 13) AS hour, type, min(occurred_at),
                           max(occurred_at), sum(NOT {_STORED_TIME}), {summed("amount")},
                           count(*)
                    FROM records
                    WHERE currency = ? AND occurred_at >= ? AND occurred_at < ? AND {_LIVE}
                    GROUP BY hour, type ORDER BY hour, type""",
                (currency, start, end),
            ).fetchall()
        except sqlite3.OperationalError as error:
            if OVERFLOW not in str(error):
                raise
            return None
    movements: list[Movement] = []
    for _hour, kind, earliest, latest, odd_times, *parts, count in rows:
        amount = rebuilt(*parts)
        if odd_times or amount is None:
            return None
        parse_api_time(latest)
        movements.append(Movement(earliest, kind, amount, int(count)))
    return movements


#: References asked about in one query (well under either store's parameter limit).
_REFERENCES_AT_ONCE = 500


def dates_only_zones(store: Store, references: Sequence[str]) -> dict[str, str]:
    """reference -> the zone whose date its record has without a time of day, for those of
    `references` that an import of dates wrote last (docs/causes.md, "Dates only")."""
    if store.query_one("SELECT 1 FROM imports WHERE dates_only_zone IS NOT NULL") is None:
        return {}
    zones: dict[str, str] = {}
    for start in range(0, len(references), _REFERENCES_AT_ONCE):
        chunk = references[start : start + _REFERENCES_AT_ONCE]
        rows = store.query(
            f"""SELECT r.reference, i.dates_only_zone FROM records r
                JOIN imports i ON i.id = r.import_id
                WHERE i.dates_only_zone IS NOT NULL
                  AND r.reference IN ({", ".join("?" for _ in chunk)})""",
            tuple(chunk),
        )
        zones.update((str(reference), str(zone)) for reference, zone in rows)
    return zones


def references_in(
    store: Store,
    currency: str,
    raw_wallets: list[tuple[str | None, str | None]] | None = None,
    *,
    limit: int = 50,
) -> list[str]:
    """Up to `limit` references of a currency (or of some of its raw wallets), oldest first."""
    where = "currency = ?"
    parameters: list[object] = [currency]
    if raw_wallets is not None:
        pairs = " OR ".join("(wallet_id IS ? AND wallet_name IS ?)" for _ in raw_wallets)
        where += f" AND ({pairs or 'FALSE'})"
        for wallet_id, wallet_name in raw_wallets:
            parameters += [wallet_id, wallet_name]
    rows = store.query(
        f"SELECT reference FROM records WHERE {where} ORDER BY occurred_at, reference LIMIT ?",
        (*parameters, limit),
    )
    return [row[0] for row in rows]


def duplicates(store: Store) -> list[DuplicateRow]:
    """Every repeated reference still current, with the file and lines it came from."""
    rows = store.query(
        """SELECT d.reference, r.currency, r.wallet_id, r.wallet_name, r.amount, i.path,
                  d.first_line, d.line, d.differences
           FROM duplicates d
           JOIN records r ON r.reference = d.reference
           JOIN imports i ON i.id = d.import_id
           ORDER BY d.reference, d.line"""
    )
    return [DuplicateRow(*row) for row in rows]


def pending_records(store: Store, before: str | None = None) -> list[PendingRow]:
    """Pending records (optionally only those before `before`), oldest first."""
    where = f"status = '{RecordStatus.PENDING}'"
    parameters: tuple[object, ...] = ()
    if before is not None:
        where += " AND occurred_at < ?"
        parameters = (before,)
    rows = store.query(
        f"""SELECT reference, currency, wallet_id, wallet_name, type, occurred_at, amount, tx_hash
            FROM records WHERE {where} ORDER BY occurred_at, reference""",
        parameters,
    )
    return [PendingRow(*row) for row in rows]


def record_files(store: Store, import_ids: Collection[int]) -> list[str]:
    """The files of the given imports (those the current records came from: `GroupTotal`
    names them), each once, in import order."""
    wanted = set(import_ids)
    files: dict[str, None] = {}
    for row_id, path in store.query("SELECT id, path FROM imports ORDER BY id"):
        if int(row_id) in wanted:
            files.setdefault(path)
    return list(files)


def quarantined_rows(store: Store) -> list[tuple[str, int]]:
    """(file, number of quarantined rows) per import that set rows aside, leaving out the
    rows a later import corrected (docs/mapping.md, "Bad rows")."""
    rows = store.query(
        """SELECT i.path, count(*) FROM quarantine q JOIN imports i ON i.id = q.import_id
           WHERE q.corrected_by IS NULL
           GROUP BY q.import_id, i.path ORDER BY q.import_id"""
    )
    return [(row[0], int(row[1])) for row in rows]


@dataclass(frozen=True, slots=True)
class RecordRow(Record):
    """One stored record with where it came from (file and line)."""

    path: str
    line: int


@dataclass(frozen=True)
class RecordFilter:
    """Which records a page shows; None means any."""

    currency: str | None = None
    raw_wallets: tuple[tuple[str | None, str | None], ...] | None = None
    status: str | None = None
    type: str | None = None
    since: str | None = None
    until: str | None = None
    search: str | None = None

    def where(self) -> tuple[str, list[object]]:
        clauses: list[str] = []
        parameters: list[object] = []
        for column in ("currency", "status", "type"):
            value = getattr(self, column)
            if value is not None:
                clauses.append(f"r.{column} = ?")
                parameters.append(value)
        if self.raw_wallets is not None:
            pairs = " OR ".join(
                "(r.wallet_id IS ? AND r.wallet_name IS ?)" for _ in self.raw_wallets
            )
            clauses.append(f"({pairs or 'FALSE'})")
            for wallet_id, wallet_name in self.raw_wallets:
                parameters += [wallet_id, wallet_name]
        if self.since is not None:
            clauses.append("r.occurred_at >= ?")
            parameters.append(self.since)
        if self.until is not None:
            clauses.append("r.occurred_at < ?")
            parameters.append(self.until)
        if self.search:
            clauses.append(f"(r.reference {LIKE_LITERAL} OR r.tx_hash {LIKE_LITERAL})")
            parameters += [literal_pattern(self.search)] * 2
        return " AND ".join(clauses) or "TRUE", parameters


_RECORD_COLUMNS = ", ".join(f"r.{column}" for column in RECORD_COLUMNS)


def records_page(
    store: Store, where: RecordFilter, *, offset: int = 0, limit: int = 100
) -> list[RecordRow]:
    """One page of records, oldest first (then in import order), with their file and line.

    The order is the order of the time and wallet indexes, so a page is read straight off
    an index, without sorting the matching records first."""
    clause, parameters = where.where()
    rows = store.query(
        f"""SELECT {_RECORD_COLUMNS}, i.path, r.line
            FROM records r JOIN imports i ON i.id = r.import_id
            WHERE {clause} ORDER BY r.occurred_at, r.id LIMIT ? OFFSET ?""",
        (*parameters, limit, offset),
    )
    return [RecordRow(*row) for row in rows]


def records_count(store: Store, where: RecordFilter) -> int:
    clause, parameters = where.where()
    return int(
        store.query_one(f"SELECT count(*) FROM records r WHERE {clause}", tuple(parameters))[0]
    )


def records_sum(store: Store, where: RecordFilter) -> str | None:
    """The exact sum of the matching records' amounts (None when none match)."""
    clause, parameters = where.where()
    row = store.query_one(
        f"SELECT decimal_sum(r.amount) FROM records r WHERE {clause}", tuple(parameters)
    )
    return row[0] if row else None


def record_history(store: Store, reference: str) -> list[tuple[str, str, str | None, str | None]]:
    """(imported at, field, old value, new value) of every change a newer export made."""
    rows = store.query(
        """SELECT i.imported_at, c.field, c.old_value, c.new_value FROM record_changes c
           JOIN imports i ON i.id = c.import_id WHERE c.reference = ? ORDER BY c.id""",
        (reference,),
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def unreadable(occurred_at: object, amount: object, fee: object) -> str | None:
    """Why a stored record cannot be read by this version's rule book, or None."""
    try:
        if not isinstance(occurred_at, str) or format_utc(parse_record_time(occurred_at)) != (
            occurred_at
        ):
            return f"occurred_at {occurred_at!r} is not a stored time"
        for name, text in (("amount", amount), ("fee", fee)):
            if not isinstance(text, str):
                return f"{name} {text!r} is not a stored amount"
            parse_amount(text)
    except (TimeError, AmountError) as error:
        return str(error)
    return None


def first_unreadable_record(store: Store) -> str | None:
    """`reference X (file:line: reason)` of the first record the rule book cannot read.

    A full scan: only called once reading the records has already failed.
    """
    with store.errors():
        cursor = store.conn.execute(
            """SELECT r.reference, r.occurred_at, r.amount, r.fee, i.path, r.line
               FROM records r LEFT JOIN imports i ON i.id = r.import_id ORDER BY r.id"""
        )
        for reference, occurred_at, amount, fee, path, line in cursor:
            reason = unreadable(occurred_at, amount, fee)
            if reason is not None:
                where = f"{path}:{line}: " if path else ""
                return f"reference {reference} ({where}{reason})"
    return None


@contextmanager
def readable_records(store: Store) -> Iterator[None]:
    """Turn a failure to read a stored record (one an older version let in: an impossible
    date, an amount too large to be money) into one line naming it (exit 4), instead of
    a crash; see docs/money.md. Any other failure is left alone: it is a bug."""
    try:
        yield
    except (ArithmeticError, ValueError, DatabaseError) as error:
        # A SQL aggregate that fails on a stored amount surfaces as a DatabaseError.
        found = first_unreadable_record(store)
        if found is None:
            raise
        raise DatabaseError(
            f"{store.path}: the database holds a record that cannot be read: {found};"
            " correct that row and import the file again"
        ) from error
