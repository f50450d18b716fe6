"""Each day's exact sums of the records: what a check reads instead of every record.

`record_sums` holds, per currency, UTC day (the stored time's first ten characters,
`YYYY-MM-DD`), wallet, type, status and import, the exact sum of the records' amounts and
of their fees, how many records there are, and the time of the latest opening among them.

It is derived data with one writer. Every import refreshes the days it touched, in its own
transaction, from the records themselves with the store's one exact sum (`decimal_sum`,
NUMERIC `sum` on a server): so the table always holds what summing the records would give,
and a check that reads it adds a few rows a day instead of every record
(docs/performance.md, "Check with transactions"; the proof is
`tests/unit/store/test_record_sums.py`).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any, Final

from reconcile_tui.times import sql_latest
from reconcile_tui.vocabulary import RecordType

if TYPE_CHECKING:
    from reconcile_tui.store.db import Connection

__all__ = [
    "DAY",
    "SUMS_OF_RECORDS",
    "UNREADABLE",
    "mark_touched_days",
    "refresh_touched_days",
    "sum_all_days",
    "sum_every_day",
    "sums_of",
]

#: A stored time's UTC day: stored times are `YYYY-MM-DDTHH:MM:SS[.f]Z`, so a day's
#: records are exactly those from `day` (inclusive) to `day || 'U'` (exclusive).
DAY: Final = "substr(occurred_at, 1, 10)"


def sums_of(where: str = "") -> str:
    """The SELECT giving `record_sums`' rows for the records `r` that `where` keeps."""
    return f"""SELECT currency, {DAY}, wallet_id, wallet_name, type, status, import_id,
                   decimal_sum(amount), decimal_sum(fee), count(*),
                   {sql_latest(f"CASE WHEN type = '{RecordType.OPENING}' THEN occurred_at END")}
               FROM records r {where}
               GROUP BY currency, {DAY}, wallet_id, wallet_name, type, status, import_id"""


#: Every day's sums of every stored record (the migration that made the table).
SUMS_OF_RECORDS: Final = sums_of()

#: The sum an upgrade keeps for a day holding a record an older version let in that no
#: exact sum can read: every check that adds it fails, and names the record
#: (`ledger.readable_records`), until an import of the corrected file sums the day again.
UNREADABLE: Final = "unreadable"


def sum_every_day(conn: Any) -> None:
    """Fill the new table from the records already stored (the upgrade that made it).

    A SQLite file an older version filled may hold a record this version's rule book
    cannot read (an unreal time, an amount no exact sum reads). Its day is kept as
    `UNREADABLE` rather than summed or refused: every check then names the record, and
    the file still opens for the import that corrects it, which sums the day again
    (docs/money.md). A server store was only ever filled by imports that read every
    record by this rule book, and its NUMERIC holds only numbers."""
    if isinstance(conn, sqlite3.Connection):
        # Imported here: the ledger's modules import this one.
        from reconcile_tui.store.ledger import unreadable

        bad = {
            (currency, occurred_at[:10] if isinstance(occurred_at, str) else "")
            for currency, occurred_at, amount, fee in conn.execute(
                "SELECT currency, occurred_at, amount, fee FROM records"
            )
            if unreadable(occurred_at, amount, fee) is not None
        }
        if bad:
            conn.execute(f"CREATE TEMP TABLE {_UNREADABLE_DAYS} (currency TEXT, day TEXT)")
            conn.executemany(f"INSERT INTO {_UNREADABLE_DAYS} VALUES (?, ?)", sorted(bad))
            on_bad_day = f"""EXISTS (SELECT 1 FROM {_UNREADABLE_DAYS} d
                             WHERE d.currency = r.currency AND d.day = {DAY})"""
            conn.execute("INSERT INTO record_sums " + sums_of(f"WHERE NOT {on_bad_day}"))
            conn.execute(
                f"""INSERT INTO record_sums
                    SELECT currency, {DAY}, NULL, NULL, type, status, min(import_id),
                           '{UNREADABLE}', '{UNREADABLE}', count(*), NULL
                    FROM records r WHERE {on_bad_day}
                    GROUP BY currency, {DAY}, type, status"""
            )
            conn.execute(f"DROP TABLE {_UNREADABLE_DAYS}")
            return
    conn.execute("INSERT INTO record_sums " + SUMS_OF_RECORDS)


_UNREADABLE_DAYS: Final = "temp.unreadable_days"
_TOUCHED: Final = "temp.touched_days"


def mark_touched_days(conn: Connection, *, changed_records: str, new_rows: str) -> None:
    """Note the (currency, day) of every record an import is about to change, before and
    after: `changed_records` selects the stored records it updates (their old day),
    `new_rows` the rows it inserts or updates them with (their new day); each selects
    `currency, occurred_at`."""
    conn.execute(f"DROP TABLE IF EXISTS {_TOUCHED}")
    conn.execute(
        f"""CREATE TEMP TABLE touched_days AS
            SELECT currency, {DAY} AS day FROM ({changed_records}) AS old_rows
            UNION SELECT currency, {DAY} FROM ({new_rows}) AS new_rows"""
    )
    conn.execute("CREATE INDEX temp.touched_days_by_day ON touched_days(currency, day)")
    if not isinstance(conn, sqlite3.Connection):
        # Temporary, so a server's autovacuum never gives it statistics: planned as an
        # unknown table, the summing took twice as long (docs/postgresql.md).
        conn.execute("ANALYZE touched_days")


def sum_all_days(conn: Connection) -> None:
    """Sum every day again from the records: what refreshing the touched days comes to
    when the import made every record there is (the store held none before it), without
    listing the days first (docs/postgresql.md, "Speed")."""
    conn.execute("DELETE FROM record_sums")
    conn.execute("INSERT INTO record_sums " + SUMS_OF_RECORDS)


def refresh_touched_days(conn: Connection) -> None:
    """Sum the touched days again from the records, once the import has written them."""
    conn.execute(
        f"""DELETE FROM record_sums WHERE EXISTS (
                SELECT 1 FROM {_TOUCHED} d
                WHERE d.currency = record_sums.currency AND d.day = record_sums.day)"""
    )
    conn.execute(
        "INSERT INTO record_sums "
        + sums_of(
            f"""WHERE EXISTS (SELECT 1 FROM {_TOUCHED} d
                    WHERE d.currency = r.currency AND d.day = {DAY})"""
        )
    )
    conn.execute(f"DROP TABLE {_TOUCHED}")
