"""Staging an import in temporary tables, then merging it into `records` in one transaction.

Staging lives in the connection's TEMP schema, which takes no lock on the database file:
a long file is parsed while other processes keep reading and writing, and only the merge
(set-based SQL, seconds even for a million rows) holds the write lock. A killed import
leaves nothing behind, because TEMP tables die with the connection.

In `staged` the first copy of each reference wins: a trigger diverts every later copy in
the same file to `staged_repeats`, which become `duplicates` rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = [
    "RECORD_COLUMNS",
    "MergeCounts",
    "drop_staging",
    "find_earlier_import",
    "merge_staged",
    "prepare_staging",
    "stage_bad_rows",
    "stage_records",
]

#: The record columns an import writes, in order (provenance columns come on top).
RECORD_COLUMNS: Final = (
    "reference",
    "occurred_at",
    "currency",
    "wallet_id",
    "wallet_name",
    "type",
    "amount",
    "fee",
    "status",
    "tx_hash",
)
_COMPARED: Final = RECORD_COLUMNS[1:]
_COLS: Final = ", ".join(RECORD_COLUMNS)
_NEW_COLS: Final = ", ".join(f"NEW.{c}" for c in RECORD_COLUMNS)


@dataclass(frozen=True)
class MergeCounts:
    """What a merge did (or, for a dry run, would do)."""

    import_id: int
    inserted: int
    updated: int
    unchanged: int
    duplicates: int
    quarantined: int


def drop_staging(conn: sqlite3.Connection) -> None:
    """Drop the TEMP staging tables (they would die with the connection anyway)."""
    for statement in (
        "DROP TRIGGER IF EXISTS temp.staged_divert_repeats",
        "DROP TABLE IF EXISTS temp.staged",
        "DROP TABLE IF EXISTS temp.staged_repeats",
        "DROP TABLE IF EXISTS temp.staged_bad",
    ):
        conn.execute(statement)


def prepare_staging(conn: sqlite3.Connection) -> None:
    """(Re)create the empty TEMP tables an import stages into."""
    drop_staging(conn)
    for statement in (
        f"CREATE TEMP TABLE staged (line INTEGER NOT NULL, {_COLS}, PRIMARY KEY (reference))",
        f"CREATE TEMP TABLE staged_repeats (line INTEGER NOT NULL, {_COLS})",
        "CREATE TEMP TABLE staged_bad (line INTEGER NOT NULL, reason TEXT NOT NULL, raw TEXT)",
        f"""CREATE TEMP TRIGGER staged_divert_repeats BEFORE INSERT ON staged
            WHEN EXISTS (SELECT 1 FROM staged WHERE reference = NEW.reference)
            BEGIN
                INSERT INTO staged_repeats (line, {_COLS}) VALUES (NEW.line, {_NEW_COLS});
                SELECT RAISE(IGNORE);
            END""",
    ):
        conn.execute(statement)


def stage_records(conn: sqlite3.Connection, rows: Iterable[Sequence[object]]) -> None:
    """Stage validated rows: (line, reference, occurred_at, ..., tx_hash)."""
    placeholders = ", ".join("?" * (len(RECORD_COLUMNS) + 1))
    conn.executemany(f"INSERT INTO staged (line, {_COLS}) VALUES ({placeholders})", rows)


def stage_bad_rows(conn: sqlite3.Connection, rows: Iterable[tuple[int, str, str]]) -> None:
    """Stage rows that failed validation: (line, reason, raw text)."""
    conn.executemany("INSERT INTO staged_bad (line, reason, raw) VALUES (?, ?, ?)", rows)


def find_earlier_import(
    conn: sqlite3.Connection, file_sha256: str, mapping_sha256: str | None
) -> tuple[int, str] | None:
    """(id, imported_at) of an earlier import of these exact bytes with this mapping."""
    row = conn.execute(
        "SELECT id, imported_at FROM imports WHERE file_sha256 = ? AND mapping_sha256 IS ?"
        " ORDER BY id LIMIT 1",
        (file_sha256, mapping_sha256),
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def _differs(left: str, right: str) -> str:
    return " OR ".join(f"{left}.{c} IS NOT {right}.{c}" for c in _COMPARED)


def _difference_list(left: str, right: str) -> str:
    parts = " || ".join(
        f"CASE WHEN {left}.{c} IS NOT {right}.{c} THEN '{c}, ' ELSE '' END" for c in _COMPARED
    )
    return f"rtrim({parts}, ', ')"


def merge_staged(
    conn: sqlite3.Connection,
    *,
    path: str,
    file_sha256: str,
    mapping_path: str | None,
    mapping_sha256: str | None,
    imported_at: str,
    rows_read: int,
    keep_bad_rows: bool,
) -> MergeCounts:
    """Merge the staged file into `records`. Call inside `Store.write()`."""
    import_id = conn.execute(
        """INSERT INTO imports (path, file_sha256, mapping_path, mapping_sha256, imported_at,
               rows_read, inserted, updated, unchanged, duplicates, quarantined)
           VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0)""",
        (path, file_sha256, mapping_path, mapping_sha256, imported_at, rows_read),
    ).lastrowid
    assert import_id is not None

    staged = conn.execute("SELECT count(*) FROM temp.staged").fetchone()[0]
    inserted = conn.execute(
        "SELECT count(*) FROM temp.staged s"
        " WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.reference = s.reference)"
    ).fetchone()[0]

    # Log every field a newer export changes, before the upsert overwrites it.
    for column in _COMPARED:
        conn.execute(
            f"""INSERT INTO record_changes (reference, import_id, field, old_value, new_value)
                SELECT s.reference, ?, '{column}', r.{column}, s.{column}
                FROM temp.staged s JOIN records r ON r.reference = s.reference
                WHERE r.{column} IS NOT s.{column}""",
            (import_id,),
        )
    updated = conn.execute(
        f"SELECT count(*) FROM temp.staged s JOIN records r ON r.reference = s.reference"
        f" WHERE {_differs('r', 's')}"
    ).fetchone()[0]

    assignments = ", ".join(f"{c} = excluded.{c}" for c in _COMPARED)
    conn.execute(
        f"""INSERT INTO records ({_COLS}, import_id, line)
            SELECT {_COLS}, ?, line FROM temp.staged WHERE true
            ON CONFLICT (reference) DO UPDATE SET {assignments},
                import_id = excluded.import_id, line = excluded.line
            WHERE {_differs("records", "excluded")}""",
        (import_id,),
    )

    # The newest file that mentions a reference decides whether it is duplicated.
    conn.execute("DELETE FROM duplicates WHERE reference IN (SELECT reference FROM temp.staged)")
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
            "INSERT INTO quarantine (import_id, line, reason, raw)"
            " SELECT ?, line, reason, coalesce(raw, '') FROM temp.staged_bad ORDER BY line",
            (import_id,),
        ).rowcount

    counts = MergeCounts(
        import_id=import_id,
        inserted=inserted,
        updated=updated,
        unchanged=staged - inserted - updated,
        duplicates=duplicates,
        quarantined=quarantined,
    )
    conn.execute(
        "UPDATE imports SET inserted = ?, updated = ?, unchanged = ?, duplicates = ?,"
        " quarantined = ? WHERE id = ?",
        (inserted, updated, counts.unchanged, duplicates, quarantined, import_id),
    )
    return counts
