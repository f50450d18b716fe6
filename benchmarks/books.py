"""A database for the app to browse: a scenario's records plus 10,000 discrepancies.

The import's database (all the records, the gateway snapshot, the checks) is copied, then
two small files are imported into the copy, as a merchant's later exports would be:

1. `stale-pending.csv`: 30% of the wanted discrepancies' worth of completed payments,
   older than two days, exported again as still `confirming`. Each is updated to pending
   and becomes a `stale_pending` warning (and its wallet's available and pending figures
   disagree with the gateway's).
2. `repeated.csv`: as many other records as are still missing to reach the wanted
   number, each written twice. The first copy is unchanged; the second is a repeated
   reference, a `duplicate_record` error.

A check follows each import; the count after the second is the number asked for, since
a repeat adds exactly one discrepancy. Chosen rows are spread evenly over the file and
never touch a planted mistake.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Final

from benchmarks.context import RunContext
from benchmarks.measure import clean_environment
from benchmarks.scenarios import Scenario, balances_only
from reconcile_tui.times import format_utc

__all__ = ["BrowsedBooks", "attach_snapshot", "browsed_books", "wanted_discrepancies"]

#: The discrepancies the app is measured with at full size.
DISCREPANCIES: Final = 10_000
STALE_SHARE: Final = 0.3


@dataclass(frozen=True)
class BrowsedBooks:
    """The app's database and what it holds."""

    database: Path
    records: int
    discrepancies: int
    stale: int
    repeated: int


def wanted_discrepancies(records: int) -> int:
    """10,000, or a tenth of the records for small (smoke) scenarios."""
    return min(DISCREPANCIES, records // 10)


def _rows(path: Path) -> Iterator[list[str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        yield from csv.reader(stream)


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _choose(
    scenario: Scenario, stale: int, spare: int
) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """(header, rows to re-export as pending, candidate rows to repeat), spread over the file."""
    before = format_utc(scenario.config.clock - timedelta(days=2))
    # Most rows are completed payments older than two days; a stride over 60% of the
    # file finds enough of them, one over 80% enough rows to repeat.
    stale_every = max(1, int(scenario.records * 0.6) // max(stale, 1))
    spare_every = max(1, int(scenario.records * 0.8) // max(spare, 1))
    rows = _rows(scenario.merchant_csv)
    header = next(rows)
    at = {name: index for index, name in enumerate(header)}
    stale_rows: list[list[str]] = []
    spare_rows: list[list[str]] = []
    for number, row in enumerate(rows):
        if row[at["reference"]] in scenario.planted:
            continue
        completed_payment = (
            row[at["status"]] == "completed"
            and row[at["type"]] == "deposit"
            and row[at["occurred_at"]] < before
        )
        if number % stale_every == 0 and completed_payment and len(stale_rows) < stale:
            stale_rows.append([*row[: at["status"]], "confirming", *row[at["status"] + 1 :]])
        elif number % spare_every == 0 and len(spare_rows) < spare:
            spare_rows.append(row)
        elif len(stale_rows) >= stale and len(spare_rows) >= spare:
            break
    return header, stale_rows, spare_rows


def _cli(ctx: RunContext, database: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    finished = subprocess.run(
        [*ctx.cli, "--db", str(database), *arguments],
        env=clean_environment(),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if finished.returncode not in (0, 1):
        raise RuntimeError(f"reconcile-tui {' '.join(arguments)}: {finished.stderr.strip()}")
    return finished


def _check(ctx: RunContext, database: Path) -> int:
    report = database.with_name("browsed-report.json")
    _cli(ctx, database, "check", "--offline", "--format", "json", "--output", str(report))
    return len(json.loads(report.read_text(encoding="utf-8"))["discrepancies"])


def attach_snapshot(ctx: RunContext, scenario: Scenario, books: Path) -> int:
    """Store the scenario's gateway answers in `books` with one check; its discrepancies.

    Balance level, without the listing: the reconcile and TUI targets were set on it, and
    the check with a million transactions has its own benchmark (docs/performance.md)."""
    report = books.with_name("first-report.json")
    _cli(
        ctx,
        books,
        "check",
        "--api-dir",
        str(balances_only(scenario, ctx.work_dir)),
        "--format",
        "json",
        "--output",
        str(report),
    )
    return len(json.loads(report.read_text(encoding="utf-8"))["discrepancies"])


def _copy(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
        origin.backup(copy)
    origin.close()
    copy.close()


def browsed_books(
    ctx: RunContext, scenario: Scenario, books: Path, log: Callable[[str], None]
) -> BrowsedBooks:
    """Copy `books` (checked against the scenario's snapshot) and add the discrepancies."""
    wanted = wanted_discrepancies(scenario.records)
    stale = int(wanted * STALE_SHARE)
    work = books.parent
    database = work / "browsed.db"
    _copy(books, database)
    header, stale_rows, spare_rows = _choose(scenario, stale, wanted)
    stale_csv = work / "stale-pending.csv"
    _write(stale_csv, header, stale_rows)
    _cli(ctx, database, "import", str(stale_csv))
    found = _check(ctx, database)
    missing = max(0, wanted - found)
    if missing > len(spare_rows):
        raise RuntimeError(f"the scenario has too few records to repeat {missing}")
    repeated = spare_rows[:missing]
    repeated_csv = work / "repeated.csv"
    _write(repeated_csv, header, [row for row in repeated for _ in range(2)])
    _cli(ctx, database, "import", str(repeated_csv))
    total = _check(ctx, database)
    log(
        f"browsed books: {scenario.records:,} records, {total:,} discrepancies"
        f" ({len(stale_rows):,} re-exported pending, {missing:,} repeated)"
    )
    return BrowsedBooks(database, scenario.records, total, len(stale_rows), missing)
