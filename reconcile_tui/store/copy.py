"""Moving a whole store between a SQLite file and a PostgreSQL server (`db copy`).

A team starts from one person's file: every table is copied as it is, ids included, so
acknowledgements, runs and sign-offs keep pointing at what they pointed at. The copy is
one transaction on the destination: it lands whole or not at all (docs/postgresql.md).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from itertools import islice

from reconcile_tui.errors import BadInput
from reconcile_tui.store.db import Connection, Store, load_rows
from reconcile_tui.store.schema import current_tables

__all__ = ["CopyCounts", "copy_store"]

#: Rows read from the source at a time (the destination takes them as they come).
BATCH = 10_000


@dataclass(frozen=True)
class CopyCounts:
    """Rows copied per table, in copy order."""

    tables: dict[str, int]

    def summary(self) -> str:
        shown = ", ".join(
            f"{count} {table.replace('_', ' ')}" for table, count in self.tables.items() if count
        )
        return shown or "nothing (the source is empty)"


def copy_store(source: Store, destination: Store) -> CopyCounts:
    """Copy every row of `source` into the empty `destination`, in one transaction."""
    tables = current_tables()
    filled = destination.first_filled_table()
    if filled is not None:
        raise BadInput(
            f"database {destination.path} already holds data ({filled}): copy into an"
            " empty database"
        )
    counts: dict[str, int] = {}
    with destination.write() as conn:
        for table in tables:
            counts[table] = _copy_table(source, conn, table)
            if destination.server and counts[table] and "id" in _columns(source, table):
                # Row ids the server numbers continue after the copied ones.
                sequence = conn.execute(
                    "SELECT pg_get_serial_sequence(?, 'id')", (table,)
                ).fetchone()[0]
                if sequence is not None:
                    conn.execute(
                        f"SELECT setval(?::regclass, (SELECT max(id) FROM {table}))",
                        (sequence,),
                    )
    return CopyCounts(counts)


def _columns(store: Store, table: str) -> list[str]:
    with store.errors():
        cursor = store.conn.execute(f"SELECT * FROM {table} LIMIT 0")
        return [column[0] for column in cursor.description]


def _copy_table(source: Store, conn: Connection, table: str) -> int:
    columns = _columns(source, table)
    order = "id" if "id" in columns else ", ".join(columns[:2])
    query = f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"
    copied = 0
    with source.errors():
        # Streamed from a server (its cursor would otherwise hold the whole table, a
        # million stored transactions with their JSON); a file's cursor reads as it goes.
        rows = source.conn.stream(query, BATCH) if source.server else source.conn.execute(query)
    try:
        while True:
            # Only the reading is the source's to fail: a failure to write is the
            # destination's, said and rolled back by its transaction (`Store.write`).
            # Handled as the source's, it named the wrong database, reached exit 70 from a
            # file, and from a server waited forever to roll back a read still streaming.
            with source.errors():
                batch = list(islice(rows, BATCH))
            if not batch:
                return copied
            load_rows(conn, table, columns, batch)
            copied += len(batch)
    finally:
        # A stream left mid-table is ended here (its query cancelled), so the source's
        # connection is free to close.
        with contextlib.suppress(Exception):
            rows.close()
