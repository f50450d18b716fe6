"""The baselines: the least work that could answer the same question, run as subprocesses.

    python -m benchmarks.baselines import-floor FILE DB   csv.reader + executemany, untyped
    python -m benchmarks.baselines group-by DB             one GROUP BY over the records
    python -m benchmarks.baselines join DB                 records joined with transactions

Only the standard library is imported, so a baseline's process costs what the work costs.
(`sqlite3_import_command` builds the sqlite3 shell's own `.import`, where installed.)
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
import sys
from pathlib import Path

__all__ = ["GROUP_BY", "JOIN", "group_by", "import_floor", "join", "sqlite3_import_command"]

#: The reconciliation's baseline: every record summed per currency, wallet, type and status
#: (SQLite's floating-point SUM, which the product must never use for money).
GROUP_BY = (
    "SELECT currency, wallet_id, type, status, count(*), sum(amount) FROM records"
    " GROUP BY currency, wallet_id, type, status"
)

#: The check with transactions' baseline (`benchmarks.check_speed`): the records joined with
#: the gateway's transactions (a table of the same database, indexed on reference) on
#: reference, grouped by currency, wallet, type and status.
JOIN = (
    "SELECT r.currency, r.wallet_id, r.type, r.status, count(*), sum(r.amount),"
    " sum(t.net_amount) FROM records r JOIN bench_transactions t ON t.reference = r.reference"
    " GROUP BY r.currency, r.wallet_id, r.type, r.status"
)


def import_floor(source: Path, database: Path) -> int:
    """Every row of `source` into an untyped table, in one transaction; returns the rows."""
    conn = sqlite3.connect(database)
    with source.open(newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        columns = ", ".join(f'"{name}"' for name in header)
        conn.execute(f"CREATE TABLE records ({columns})")
        placeholders = ", ".join("?" * len(header))
        with conn:
            conn.executemany(f"INSERT INTO records VALUES ({placeholders})", reader)
    rows = int(conn.execute("SELECT count(*) FROM records").fetchone()[0])
    conn.close()
    return rows


def group_by(database: Path) -> int:
    """Run GROUP_BY on the product's database; returns the number of groups."""
    conn = sqlite3.connect(database)
    groups = len(conn.execute(GROUP_BY).fetchall())
    conn.close()
    return groups


def join(database: Path) -> int:
    """Run JOIN on a database `benchmarks.check_speed` wrote; returns the number of groups."""
    conn = sqlite3.connect(database)
    groups = len(conn.execute(JOIN).fetchall())
    conn.close()
    return groups


def sqlite3_import_command(source: Path, database: Path) -> list[str] | None:
    """The sqlite3 shell importing `source` into a new table, or None when not installed."""
    shell = shutil.which("sqlite3")
    if shell is None:
        return None
    return [shell, str(database), ".mode csv", f".import '{source}' records"]


def main(argv: list[str]) -> int:
    match argv:
        case ["import-floor", source, database]:
            import_floor(Path(source), Path(database))
        case ["group-by", database]:
            group_by(Path(database))
        case ["join", database]:
            join(Path(database))
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
