"""Import: `reconcile-tui import` against csv.reader + executemany and the sqlite3 shell.

Each repetition imports the scenario's merchant.csv into a new database three ways, in a
rotating order (so drift on a shared machine falls on each alike): the real CLI with full
validation, the raw Python floor, and the sqlite3 shell's `.import` where installed. The
last product database is kept: the reconciliation measures run on it.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.baselines import sqlite3_import_command
from benchmarks.context import RunContext
from benchmarks.figures import Figure, Target
from benchmarks.measure import Measured, run_measured
from benchmarks.scenarios import Scenario

__all__ = ["import_once", "measure_import"]

SPEED_TARGET = Target(1.5, "ratio", "≤ 1.5× the floor's time")
MEMORY_TARGET = Target(150.0, "value", "≤ 150 MB")
FLOOR = "csv.reader + executemany into an untyped table"
SHELL = "sqlite3 shell `.import`"


_SUFFIXES = ("", "-wal", "-shm", "-journal")


def remove_database(path: Path) -> None:
    for suffix in _SUFFIXES:
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def move_database(source: Path, target: Path) -> None:
    """Rename a database and its side files (a WAL, a journal) to `target`."""
    remove_database(target)
    for suffix in _SUFFIXES:
        if Path(f"{source}{suffix}").exists():
            Path(f"{source}{suffix}").rename(f"{target}{suffix}")


def import_once(ctx: RunContext, scenario: Scenario) -> Path:
    """The scenario imported by the real CLI, untimed (when the import is not measured)."""
    books = ctx.fresh_dir(f"import-{scenario.records}") / "books.db"
    run_measured([*ctx.cli, "--db", str(books), "import", str(scenario.merchant_csv)])
    return books


def measure_import(ctx: RunContext, scenario: Scenario) -> tuple[list[Figure], Path]:
    """The import figures of one size, and the product database the last run left."""
    work = ctx.fresh_dir(f"import-{scenario.records}")
    source = scenario.merchant_csv
    books = work / "books.db"
    target = work / "target.db"
    floor = [ctx.python, "-m", "benchmarks.baselines", "import-floor"]
    commands: dict[str, list[str] | None] = {
        "product": [*ctx.cli, "--db", str(target), "import", str(source)],
        "floor": [*floor, str(source), str(target)],
        "shell": sqlite3_import_command(source, target),
    }
    runs: dict[str, list[Measured]] = {name: [] for name, command in commands.items() if command}
    names = list(runs)
    for repetition in range(ctx.repeat):
        order = names[repetition % len(names) :] + names[: repetition % len(names)]
        for name in order:
            command = commands[name]
            assert command is not None
            remove_database(target)
            measured = run_measured(command)
            runs[name].append(measured)
            ctx.log(
                f"import {scenario.records:,} {name}: {measured.seconds:.2f} s,"
                f" {measured.max_rss_mb:.0f} MB"
            )
            if name == "product" and repetition == ctx.repeat - 1:
                move_database(target, books)
            remove_database(target)

    size, rows = scenario.records, scenario.rows
    product = [m.seconds for m in runs["product"]]
    figures = [
        Figure(
            section="Import",
            key="import.speed",
            name="`reconcile-tui import` (full validation)",
            size=size,
            unit="rows/s",
            samples=product,
            baseline_name=FLOOR,
            baseline_samples=[m.seconds for m in runs["floor"]],
            target=SPEED_TARGET,
            per=rows,
        )
    ]
    if "shell" in runs:
        figures.append(
            Figure(
                section="Import",
                key="import.shell",
                name="`reconcile-tui import` (full validation)",
                size=size,
                unit="rows/s",
                samples=product,
                baseline_name=SHELL,
                baseline_samples=[m.seconds for m in runs["shell"]],
                per=rows,
            )
        )
    figures.append(
        Figure(
            section="Import",
            key="import.memory",
            name="peak RSS of `reconcile-tui import`",
            size=size,
            unit="MB",
            samples=[m.max_rss_mb for m in runs["product"]],
            baseline_name=f"peak RSS of the floor ({FLOOR})",
            baseline_samples=[m.max_rss_mb for m in runs["floor"]],
            target=MEMORY_TARGET if size >= 1_000_000 else None,
        )
    )
    return figures, books
