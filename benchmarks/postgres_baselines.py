"""The PostgreSQL baselines: the least work a server could do for the same questions.

    python -m benchmarks.postgres_baselines copy FILE URL          COPY FROM STDIN, untyped
    python -m benchmarks.postgres_baselines copy-keyed FILE URL    the same, money NUMERIC, keyed
    python -m benchmarks.postgres_baselines numeric-table FILE URL  the records, money NUMERIC
    python -m benchmarks.postgres_baselines group-by URL            one NUMERIC GROUP BY

`copy` is what psql's `\\copy` does: the file streamed through `COPY ... FROM STDIN` into a
table of TEXT columns, no parsing, no checks, one transaction. `numeric-table` (untimed
preparation) stores the same file with the amount as NUMERIC, as the store keeps money;
`group-by` then sums it per currency, wallet, type and status with the server's exact
NUMERIC `SUM`. `copy-keyed` is the least an import that keeps two of the store's promises
could do (no target of its own: docs/performance.md): the same COPY with the amount and
fee as NUMERIC, then an index on the reference, by which an idempotent import finds the
records it already holds; nothing is checked, no other index built. Each runs as its own
process, like the SQLite baselines, so a measurement costs what the work costs; only
psycopg is imported besides the standard library.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

import psycopg
from psycopg import sql

__all__ = [
    "COPY_TABLE",
    "KEYED_TABLE",
    "NUMERIC_GROUP_BY",
    "NUMERIC_TABLE",
    "copy_untyped",
    "numeric_group_by",
    "numeric_table",
]

COPY_TABLE: Final = "baseline_untyped"
NUMERIC_TABLE: Final = "baseline_records"
KEYED_TABLE: Final = "baseline_keyed"
#: The columns `copy-keyed` stores as money; every other column stays TEXT.
_MONEY: Final = frozenset({"amount", "fee"})
#: The check's baseline: every record summed per currency, wallet, type and status, exactly.
NUMERIC_GROUP_BY: Final = (
    f"SELECT currency, wallet, type, status, count(*), sum(amount) FROM {NUMERIC_TABLE}"
    " GROUP BY currency, wallet, type, status"
)
#: Bytes handed to COPY per write: large enough that Python's share is noise.
_CHUNK: Final = 1 << 20


def _header(source: Path) -> list[str]:
    with source.open(encoding="utf-8", newline="") as stream:
        return stream.readline().rstrip("\r\n").split(",")


def copy_untyped(
    source: Path,
    url: str,
    table: str = COPY_TABLE,
    *,
    money: frozenset[str] = frozenset(),
    indexed: str | None = None,
) -> int:
    """Every row of `source` into a new table of TEXT columns (those in `money` NUMERIC) by
    COPY FROM STDIN, then an index on the column `indexed` if given, in one transaction;
    returns the rows."""
    columns = sql.SQL(", ").join(
        sql.SQL("{} NUMERIC" if name in money else "{} TEXT").format(sql.Identifier(name))
        for name in _header(source)
    )
    with psycopg.connect(url) as conn:
        conn.execute(
            sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table), columns),
        )
        copy = sql.SQL("COPY {} FROM STDIN (FORMAT csv, HEADER true)").format(sql.Identifier(table))
        with conn.cursor() as cursor, cursor.copy(copy) as stream, source.open("rb") as file:
            while chunk := file.read(_CHUNK):
                stream.write(chunk)
        if indexed is not None:
            conn.execute(
                sql.SQL("CREATE INDEX ON {} ({})").format(
                    sql.Identifier(table), sql.Identifier(indexed)
                )
            )
        (rows,) = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        ).fetchone() or (0,)
    return int(rows)


def numeric_table(source: Path, url: str) -> int:
    """`source` stored for the GROUP BY: the grouping columns as TEXT, the amount NUMERIC
    (exactly as the file writes it) and the wallet its id or its name, analysed; returns the
    rows."""
    staging = f"{NUMERIC_TABLE}_staging"
    copy_untyped(source, url, staging)
    # A record names its wallet by id or, in the sandbox's exports, by name instead.
    wallet = (
        "coalesce(nullif(wallet_id, ''), wallet_name)"
        if "wallet_name" in _header(source)
        else "wallet_id"
    )
    with psycopg.connect(url) as conn:
        conn.execute(
            f"CREATE TABLE {NUMERIC_TABLE} AS SELECT currency, {wallet} AS wallet, type,"
            f" status, amount::NUMERIC AS amount FROM {staging}"
        )
        conn.execute(f"DROP TABLE {staging}")
        (rows,) = conn.execute(f"SELECT count(*) FROM {NUMERIC_TABLE}").fetchone() or (0,)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"VACUUM ANALYZE {NUMERIC_TABLE}")
    return int(rows)


def numeric_group_by(url: str) -> int:
    """Run NUMERIC_GROUP_BY; returns the number of groups."""
    with psycopg.connect(url) as conn:
        return len(conn.execute(NUMERIC_GROUP_BY).fetchall())


def main(argv: list[str]) -> int:
    match argv:
        case ["copy", source, url]:
            copy_untyped(Path(source), url)
        case ["copy-keyed", source, url]:
            copy_untyped(Path(source), url, KEYED_TABLE, money=_MONEY, indexed="reference")
        case ["numeric-table", source, url]:
            numeric_table(Path(source), url)
        case ["group-by", url]:
            numeric_group_by(url)
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
