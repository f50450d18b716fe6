"""Staging an import in temporary tables, then merging it into `records` in one transaction.

Staging lives in the connection's TEMP schema, which takes no lock on the database file:
a long file is parsed while other processes keep reading and writing, and only the merge
(set-based SQL, seconds even for a million rows) holds the write lock. A killed import
leaves nothing behind, because TEMP tables die with the connection.

Every validated row goes to `staged` (keyed by its line). `finish_staging` then moves
every later copy of a reference within the file to `staged_repeats`, so that `staged`
holds exactly the first copy of each reference: the one that counts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import TYPE_CHECKING, Final, Protocol

from reconcile_tui.errors import BadInput, DatabaseError, NotFound
from reconcile_tui.store import record_sums
from reconcile_tui.store.db import Connection, load_rows
from reconcile_tui.store.postgres import PostgresConnection

if TYPE_CHECKING:
    from reconcile_tui.store.db import Store

__all__ = [
    "RECORD_COLUMNS",
    "MergeCounts",
    "Record",
    "drop_staging",
    "find_earlier_import",
    "finish_staging",
    "merge_staged",
    "prepare_staging",
    "stage_bad_rows",
    "stage_records",
    "table_stager",
    "undo_import",
]


@dataclass(frozen=True, slots=True)
class Record:
    """A merchant record's fields, all canonical text: the one list of them (the columns of
    the `records` table, the fields a layout maps, in their default column order; see
    docs/mapping.md)."""

    reference: str
    occurred_at: str
    currency: str
    wallet_id: str | None
    wallet_name: str | None
    type: str
    amount: str
    fee: str
    status: str
    tx_hash: str | None

    def values(self) -> tuple[str | None, ...]:
        """The fields' values in `RECORD_COLUMNS` order (for the staging insert)."""
        return _values(self)


#: The record columns an import writes, in order (provenance columns come on top).
RECORD_COLUMNS: Final = tuple(field.name for field in fields(Record))
_values = attrgetter(*RECORD_COLUMNS)
_COMPARED: Final = RECORD_COLUMNS[1:]
_COLS: Final = ", ".join(RECORD_COLUMNS)
#: The staging tables' columns: all text, as validated (a server holds money as NUMERIC,
#: store/postgres.py).
_TYPED_COLS: Final = ", ".join(f"{column} TEXT" for column in RECORD_COLUMNS)

#: A merge adding at least this share of the records table rebuilds its secondary indexes
#: afterwards instead of updating them row by row (a sorted build is several times faster).
REBUILD_SHARE: Final = 0.5


@dataclass(frozen=True)
class MergeCounts:
    """What a merge did (or, for a dry run, would do)."""

    import_id: int
    inserted: int
    updated: int
    unchanged: int
    duplicates: int
    quarantined: int


def drop_staging(conn: Connection) -> None:
    """Drop the TEMP staging tables (they would die with the connection anyway)."""
    for table in (
        "staged",
        "staged_repeats",
        "staged_bad",
        "staged_overlap",
        "staged_raw",
        "staged_scales",
    ):
        conn.execute(f"DROP TABLE IF EXISTS temp.{table}")


def prepare_staging(conn: Connection) -> None:
    """(Re)create the empty TEMP tables an import stages into."""
    drop_staging(conn)
    for statement in (
        f"CREATE TEMP TABLE staged (line INTEGER PRIMARY KEY, {_TYPED_COLS})",
        f"CREATE TEMP TABLE staged_repeats (line INTEGER PRIMARY KEY, {_TYPED_COLS})",
        "CREATE TEMP TABLE staged_bad"
        " (line INTEGER NOT NULL, reason TEXT NOT NULL, raw TEXT, reference TEXT)",
    ):
        conn.execute(statement)


def stage_records(conn: Connection, rows: Iterable[Sequence[object]]) -> None:
    """Stage validated rows: (line, reference, occurred_at, ..., tx_hash)."""
    load_rows(conn, "staged", ("line", *RECORD_COLUMNS), rows)


class Table(Protocol):
    """Rows in columns (a polars DataFrame): line, then the record's fields in order."""

    def iter_rows(self) -> Iterator[tuple[object, ...]]: ...

    def write_csv(self, *, include_header: bool) -> str: ...


@contextlib.contextmanager
def table_stager(conn: Connection) -> Iterator[Callable[[Table], None]]:
    """Stage validated rows given as tables, a file's blocks one after another: the block
    yields the function that stages one table. On a server all of them go as one CSV
    stream through one COPY, which the server parses while the next table is made (its
    empty unquoted field is NULL and `""` an empty text, as the table writes them); in a
    file, row by row as each comes."""
    if isinstance(conn, PostgresConnection):
        with conn.copy_csv("staged", ("line", *RECORD_COLUMNS)) as send:

            def copy(table: Table) -> None:
                send(table.write_csv(include_header=False))

            yield copy
        return

    def insert(table: Table) -> None:
        stage_records(conn, table.iter_rows())

    yield insert


def stage_bad_rows(conn: Connection, rows: Iterable[tuple[int, str, str, str | None]]) -> None:
    """Stage rows that failed validation: (line, reason, raw text, reference if read)."""
    load_rows(conn, "staged_bad", ("line", "reason", "raw", "reference"), rows)


def finish_staging(conn: Connection) -> None:
    """Index the staged rows by reference and set every repeated copy aside.

    Within one file the first copy of a reference counts; each later copy moves to
    `staged_repeats` (it becomes a `duplicates` row, never a second record).
    """
    conn.execute("BEGIN")
    if isinstance(conn, PostgresConnection):
        # A server's autovacuum never sees temporary tables: without statistics the
        # statement below and the merge's would be planned for an empty table. It finds
        # the repeats by hashing, and its merge joins by hashing too: an index on the
        # staged references would cost half a second at a million rows and serve nothing
        # (docs/postgresql.md, "Speed").
        conn.execute("ANALYZE staged")
    else:
        # SQLite joins by index: the statement below, and the merge's.
        conn.execute("CREATE INDEX temp.staged_by_reference ON staged(reference, line)")
    conn.execute(
        f"""INSERT INTO staged_repeats (line, {_COLS})
            SELECT s.line, {", ".join(f"s.{column}" for column in RECORD_COLUMNS)}
            FROM staged s JOIN (
                SELECT reference, min(line) AS first FROM staged
                GROUP BY reference HAVING count(*) > 1) repeated
              ON repeated.reference = s.reference AND s.line > repeated.first"""
    )
    conn.execute("DELETE FROM staged WHERE line IN (SELECT line FROM staged_repeats)")
    conn.execute("COMMIT")


def find_earlier_import(
    conn: Connection, file_sha256: str, mapping_sha256: str | None
) -> tuple[int, str] | None:
    """(id, imported_at) of an earlier import of these exact bytes with this mapping that
    no later import has updated records after: importing the file again would change
    nothing. After an update (another export of the same references, an older copy
    of this one), the file is imported again and its figures come back: an update is
    the only way a later import changes records an earlier one stored."""
    row = conn.execute(
        """SELECT i.id, i.imported_at FROM imports i
           WHERE i.file_sha256 = ? AND i.mapping_sha256 IS ? AND i.undone_at IS NULL
             AND NOT EXISTS (
                 SELECT 1 FROM imports later WHERE later.id > i.id AND later.updated > 0)
           ORDER BY i.id DESC LIMIT 1""",
        (file_sha256, mapping_sha256),
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def undo_import(
    store: Store, import_id: int, *, undone_at: str, undone_by: str, note: str
) -> tuple[str, int]:
    """Take back the latest import: its records, their day sums, its repeats and its set
    aside rows go; its row stays, marked undone, for the audit trail. (its file, records
    removed). Refused (BadInput) for an import that is not the latest still in force, or
    that changed records an earlier import stored: their earlier values would have to
    come back, and only a newer export can say what they are (docs/mapping.md, "Taking an
    import back"). Call inside `Store.write()`."""
    conn = store.conn
    found = conn.execute(
        "SELECT path, inserted, updated, unchanged, undone_at FROM imports WHERE id = ?",
        (import_id,),
    ).fetchone()
    if found is None:
        raise NotFound(f"no import #{import_id}: `reconcile-tui imports` lists them")
    path, inserted, updated, unchanged, undone = found
    if undone is not None:
        raise BadInput(f"import #{import_id} of {path} was undone already, at {undone}")
    later = conn.execute(
        "SELECT min(id) FROM imports WHERE id > ? AND undone_at IS NULL", (import_id,)
    ).fetchone()[0]
    if later is not None:
        raise BadInput(
            f"import #{import_id} of {path} is not the latest: import #{later} came after"
            " it; only the latest import can be undone (undo the later ones first)"
        )
    if updated or unchanged:
        raise BadInput(
            f"import #{import_id} of {path} met {updated + unchanged} records an earlier"
            f" import stored ({updated} changed, {unchanged} unchanged): undoing it cannot"
            " give back what they were; import the export that is right instead"
        )
    removed = conn.execute("DELETE FROM records WHERE import_id = ?", (import_id,)).rowcount
    if removed != inserted:  # the latest import: no one can have changed them since
        raise DatabaseError(
            f"import #{import_id} of {path} stored {inserted} records, but {removed} are"
            " its now: nothing was undone"
        )
    # Each day's sums are kept per import (store/record_sums.py): its own rows are its
    # records' sums, and no other import's change.
    conn.execute("DELETE FROM record_sums WHERE import_id = ?", (import_id,))
    conn.execute("DELETE FROM duplicates WHERE import_id = ?", (import_id,))
    conn.execute("DELETE FROM quarantine WHERE import_id = ?", (import_id,))
    conn.execute("UPDATE quarantine SET corrected_by = NULL WHERE corrected_by = ?", (import_id,))
    conn.execute(
        "UPDATE imports SET undone_at = ?, undone_by = ?, undo_note = ? WHERE id = ?",
        (undone_at, undone_by, note, import_id),
    )
    return str(path), removed


def _differs(left: str, right: str) -> str:
    return " OR ".join(f"{left}.{c} IS NOT {right}.{c}" for c in _COMPARED)


def _difference_list(left: str, right: str) -> str:
    parts = " || ".join(
        f"CASE WHEN {left}.{c} IS NOT {right}.{c} THEN '{c}, ' ELSE '' END" for c in _COMPARED
    )
    return f"rtrim({parts}, ', ')"


def merge_staged(
    store: Store,
    *,
    path: str,
    file_sha256: str,
    mapping_path: str | None,
    mapping_sha256: str | None,
    imported_at: str,
    rows_read: int,
    keep_bad_rows: bool,
    dates_only_zone: str | None = None,
) -> MergeCounts:
    """Merge the staged file into `records`. Call inside `Store.write()`. `dates_only_zone`:
    the zone whose dates the file gave without times (its records stored at midnight)."""
    conn = store.conn
    import_id = conn.execute(
        """INSERT INTO imports (path, file_sha256, mapping_path, mapping_sha256, imported_at,
               rows_read, inserted, updated, unchanged, duplicates, quarantined,
               dates_only_zone)
           VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, ?)""",
        (path, file_sha256, mapping_path, mapping_sha256, imported_at, rows_read, dates_only_zone),
    ).lastrowid
    assert import_id is not None

    staged = conn.execute("SELECT count(*) FROM temp.staged").fetchone()[0]
    existing = conn.execute("SELECT max(id) FROM records").fetchone()[0] or 0

    # The references this file shares with earlier imports: usually few, so the
    # field-by-field comparisons below look at them only.
    conn.execute("DROP TABLE IF EXISTS temp.staged_overlap")
    conn.execute(
        """CREATE TEMP TABLE staged_overlap AS
           SELECT s.line AS line, r.id AS record_id FROM temp.staged s
           JOIN records r ON r.reference = s.reference"""
        if existing
        else "CREATE TEMP TABLE staged_overlap (line INTEGER, record_id INTEGER)"
    )
    conn.execute("CREATE INDEX temp.staged_overlap_by_line ON staged_overlap(line)")
    overlap = conn.execute("SELECT count(*) FROM temp.staged_overlap").fetchone()[0]
    inserted = staged - overlap

    # Log every field a newer export changes, before it is overwritten.
    shared = """temp.staged_overlap o JOIN temp.staged s ON s.line = o.line
                JOIN records r ON r.id = o.record_id"""
    for column in _COMPARED:
        conn.execute(
            f"""INSERT INTO record_changes (reference, import_id, field, old_value, new_value)
                SELECT s.reference, ?, '{column}', r.{column}, s.{column} FROM {shared}
                WHERE r.{column} IS NOT s.{column}""",
            (import_id,),
        )
    changed = conn.execute(f"SELECT count(*) FROM {shared} WHERE {_differs('r', 's')}")
    updated = changed.fetchone()[0]
    # The days whose sums this import changes: an updated record's old day and new one,
    # and every new record's day (store/record_sums.py). Into a store of no records,
    # every day is this import's.
    if existing:
        differing = f"FROM {shared} WHERE {_differs('r', 's')}"
        record_sums.mark_touched_days(
            conn,
            changed_records=f"SELECT r.currency, r.occurred_at {differing}",
            new_rows=f"""SELECT s.currency, s.occurred_at FROM temp.staged s
                WHERE NOT EXISTS (SELECT 1 FROM temp.staged_overlap o WHERE o.line = s.line)
                UNION ALL SELECT s.currency, s.occurred_at {differing}""",
        )
    assignments = ", ".join(f"{c} = s.{c}" for c in _COMPARED)
    conn.execute(
        f"""UPDATE records AS r SET {assignments}, import_id = ?, line = s.line
            FROM temp.staged_overlap o JOIN temp.staged s ON s.line = o.line
            WHERE r.id = o.record_id AND ({_differs("r", "s")})""",
        (import_id,),
    )

    # Only the tables' owner may drop their indexes; anyone else's import keeps them.
    bulk = inserted > 0 and inserted >= REBUILD_SHARE * (existing + inserted)
    rebuild = bulk and store.owns("records")
    # The definitions come from the database itself, so they are whatever the newest
    # migration made them.
    secondary = store.secondary_indexes("records") if rebuild else []
    for name, _ in secondary:
        conn.execute(f'DROP INDEX "{name}"')
    # On a server the keys go too: each inserted row would grow the key's indexes one by
    # one and check its import by a trigger of its own (half the insert's time). Added
    # back afterwards, each key checks every row at once, so a repeated reference still
    # fails the whole import (docs/postgresql.md, "Speed"). A file keeps its keys.
    keys = store.table_keys("records") if rebuild else []
    for name, _ in keys:
        conn.execute(f'ALTER TABLE records DROP CONSTRAINT "{name}"')
    # In reference order: records are numbered in it, on both stores (and a file's
    # unique index on reference grows at its end).
    conn.execute(
        f"""INSERT INTO records ({_COLS}, import_id, line)
            SELECT {_COLS}, ?, line FROM temp.staged s
            WHERE NOT EXISTS (SELECT 1 FROM temp.staged_overlap o WHERE o.line = s.line)
            ORDER BY reference""",
        (import_id,),
    )
    for name, definition in keys:
        conn.execute(f'ALTER TABLE records ADD CONSTRAINT "{name}" {definition}')
    for _, statement in secondary:
        conn.execute(statement)
    if rebuild and isinstance(conn, PostgresConnection):
        # Statistics for the checks that follow at once, before autovacuum gets to it.
        conn.execute("ANALYZE records")
    if existing:
        record_sums.refresh_touched_days(conn)
    else:
        record_sums.sum_all_days(conn)

    # A row set aside by an earlier import is corrected by this file when it holds a good
    # row of the same reference, new, changed or unchanged (docs/mapping.md, "Bad rows").
    if conn.execute(
        "SELECT 1 FROM quarantine WHERE corrected_by IS NULL AND reference IS NOT NULL LIMIT 1"
    ).fetchone():
        conn.execute(
            """UPDATE quarantine SET corrected_by = ?
               WHERE corrected_by IS NULL AND import_id < ? AND EXISTS (
                   SELECT 1 FROM temp.staged s WHERE s.reference = quarantine.reference)""",
            (import_id, import_id),
        )

    # The newest file that mentions a reference decides whether it is duplicated.
    conn.execute(
        """DELETE FROM duplicates WHERE EXISTS (
               SELECT 1 FROM temp.staged s WHERE s.reference = duplicates.reference)"""
    )
    conn.execute(
        f"""INSERT INTO duplicates (import_id, reference, first_line, line, differences)
            SELECT ?, d.reference, s.line, d.line, {_difference_list("s", "d")}
            FROM temp.staged_repeats d JOIN temp.staged s ON s.reference = d.reference
            ORDER BY d.line""",
        (import_id,),
    )
    duplicates = conn.execute("SELECT count(*) FROM temp.staged_repeats").fetchone()[0]

    quarantined = 0
    if keep_bad_rows:
        quarantined = conn.execute(
            "INSERT INTO quarantine (import_id, line, reason, raw, reference)"
            " SELECT ?, line, reason, coalesce(raw, ''), reference FROM temp.staged_bad"
            " ORDER BY line",
            (import_id,),
        ).rowcount

    counts = MergeCounts(
        import_id=import_id,
        inserted=inserted,
        updated=updated,
        unchanged=overlap - updated,
        duplicates=duplicates,
        quarantined=quarantined,
    )
    conn.execute(
        "UPDATE imports SET inserted = ?, updated = ?, unchanged = ?, duplicates = ?,"
        " quarantined = ? WHERE id = ?",
        (inserted, updated, counts.unchanged, duplicates, quarantined, import_id),
    )
    return counts
