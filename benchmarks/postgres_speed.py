"""PostgreSQL: the product's import and check on a server, against COPY and a NUMERIC GROUP BY.

    python -m benchmarks.postgres_speed [--db URL] [--records 1000000] [--repeat 3] [--check-only]

The targets (docs/postgresql.md): `reconcile-tui import` of the scenario's merchant.csv
(the same file the SQLite import is measured with) within 1.5x `COPY FROM STDIN` of that
file into an untyped table, as psql's `\\copy` does; `check --offline` within 2x a bare
NUMERIC `GROUP BY currency, wallet, type, status` with `SUM` over the same records.

Beside them, without a target, `copy-keyed`: the same COPY with money as NUMERIC and an
index on the reference, the least an import keeping money exact and idempotent could do.
Every import, product's or baseline's, gets a new empty database on the server, and each
repetition rotates which goes first, as the SQLite import does. The check runs on the
last product import's database after one untimed `check --api-dir` (which stores the
scenario's gateway answers); the GROUP BY's NUMERIC table is built in that same database,
untimed, so both read the same server's warm buffers. The password travels in PGPASSWORD,
never on a command line. `--db` names a server URL whose role may CREATE DATABASE; without
it a throwaway cluster is started on loopback (tests/postgres.py), whose settings trade
durability for speed, for the product and the baselines alike.

`--check-only` imports the file once, untimed, and measures the balance-level check alone,
without the listing (an import of a million records takes about 20 s a repetition).

The `product_*` functions are the product's side: until the store accepts a URL they
fail, and the run reports the baselines alone, saying why.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from benchmarks import DATA, REPO
from benchmarks.context import RunContext
from benchmarks.figures import Figure, Target
from benchmarks.measure import CommandFailed, Measured, clean_environment, run_measured
from benchmarks.postgres_baselines import NUMERIC_GROUP_BY
from benchmarks.scenarios import Scenario, balances_only, load_scenario
from tests.postgres import (
    create_database,
    drop_database,
    masked,
    server_for_tests,
    without_password,
)

__all__ = [
    "CHECK_TARGET",
    "IMPORT_TARGET",
    "PostgresRun",
    "measure_postgres",
    "product_check_command",
    "product_import_command",
    "product_stores_snapshot",
]

IMPORT_TARGET: Final = Target(1.5, "ratio", "≤ 1.5× COPY FROM STDIN")
CHECK_TARGET: Final = Target(2.0, "ratio", "≤ 2× the NUMERIC GROUP BY")
COPY = "`COPY FROM STDIN` into an untyped table (psql's `\\copy`)"
SECTION = "PostgreSQL"


# -- the product's side -------------------------------------------------------------------


def product_import_command(ctx: RunContext, database_url: str, source: Path) -> list[str]:
    """`reconcile-tui --db URL import FILE` into an empty database (URL without password)."""
    return [*ctx.cli, "--db", database_url, "import", str(source)]


def product_stores_snapshot(
    ctx: RunContext, database_url: str, scenario: Scenario, api_dir: Path | None = None
) -> list[str]:
    """The untimed check that stores the scenario's gateway answers before `check --offline`."""
    report = ctx.work_dir / f"postgres-{scenario.records}" / "first-report.json"
    return [
        *ctx.cli,
        "--db",
        database_url,
        "check",
        "--api-dir",
        str(api_dir or scenario.api_dir),
        "--format",
        "json",
        "--output",
        str(report),
        "--fail-on",
        "never",
    ]


def product_check_command(ctx: RunContext, database_url: str, scenario: Scenario) -> list[str]:
    """`reconcile-tui --db URL check --offline` with its JSON report written."""
    report = ctx.work_dir / f"postgres-{scenario.records}" / "report.json"
    return [
        *ctx.cli,
        *("--db", database_url, "check", "--offline", "--format", "json"),
        *("--output", str(report), "--fail-on", "never"),
    ]


# -- the measurement ----------------------------------------------------------------------


@dataclass
class PostgresRun:
    """A server to measure on. This process keeps the URL with its password for creating
    and dropping databases; measured processes get URLs without it, and PGPASSWORD."""

    server_url: str
    environment: dict[str, str]
    #: Where measured commands run: the scratch space, so that a product that took the URL
    #: for a file name leaves its file there, not in the repository.
    directory: Path

    @classmethod
    def on(cls, server_url: str, directory: Path) -> PostgresRun:
        _, password = without_password(server_url)
        extra = {"PYTHONPATH": str(REPO)}  # `-m benchmarks...` from outside the repository
        if password is not None:
            extra["PGPASSWORD"] = password
        return cls(server_url, clean_environment(extra), directory)

    def measured(self, command: list[str]) -> Measured:
        return run_measured(command, environment=self.environment, cwd=self.directory)

    def new_database(self) -> str:
        return create_database(self.server_url)

    def drop(self, database_url: str) -> None:
        drop_database(self.server_url, database_url)


def _holds_tables(database_url: str) -> bool:
    """Whether a command really wrote to the database (a product that took the URL for a
    file name would leave it empty)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone()
    return bool(row and row[0])


def _baseline(ctx: RunContext, *arguments: str) -> list[str]:
    return [ctx.python, "-m", "benchmarks.postgres_baselines", *arguments]


def measure_postgres(
    ctx: RunContext, scenario: Scenario, server_url: str, *, check_only: bool = False
) -> tuple[list[Figure], list[str]]:
    """The import and check figures on `server_url`, and notes on what was not measured;
    with `check_only`, the product's import runs once, untimed, for the check alone."""
    run = PostgresRun.on(server_url, ctx.fresh_dir(f"postgres-{scenario.records}"))
    source = scenario.merchant_csv
    notes: list[str] = []
    imports: dict[str, list[float]] = {"product": [], "copy": [], "copy-keyed": []}
    product_works = True
    kept: str | None = None
    for repetition in range(1 if check_only else ctx.repeat):
        if check_only:
            order = ["product"]
        else:
            names = list(imports)
            turn = repetition % len(names)
            order = names[turn:] + names[:turn]
        for name in order:
            if name == "product" and not product_works:
                continue
            database = run.new_database()
            keep = False
            try:
                bare, _ = without_password(database)
                command = (
                    product_import_command(ctx, bare, source)
                    if name == "product"
                    else _baseline(ctx, name, str(source), bare)
                )
                try:
                    measured = run.measured(command)
                    if name == "product" and not _holds_tables(database):
                        raise CommandFailed("the import wrote nothing to PostgreSQL")
                except CommandFailed as failed:
                    if name != "product":
                        raise
                    product_works = False
                    notes.append(f"product import not measured: {str(failed)[-400:]}")
                    continue
                imports[name].append(measured.seconds)
                ctx.log(f"postgres import {scenario.records:,} {name}: {measured.seconds:.2f} s")
                if name == "product" and (check_only or repetition == ctx.repeat - 1):
                    keep = True
                    if kept is not None:
                        run.drop(kept)
                    kept = database
            finally:
                if not keep:
                    run.drop(database)
    figures = (
        []
        if check_only
        else [
            _figure(
                "postgres.import",
                "`reconcile-tui import` into PostgreSQL (full validation)",
                scenario,
                imports["product"],
                COPY,
                imports["copy"],
                IMPORT_TARGET,
                per=scenario.rows,
            )
        ]
    )
    if imports["copy-keyed"]:
        figures.append(
            Figure(
                section=SECTION,
                key="postgres.import.floor",
                name=(
                    "the same COPY with the amount and fee NUMERIC, then an index on the"
                    " reference (nothing checked)"
                ),
                size=scenario.records,
                unit="rows/s",
                samples=imports["copy-keyed"],
                baseline_name=COPY,
                baseline_samples=imports["copy"],
                per=scenario.rows,
                note="no target: the least an idempotent import keeping money exact could do",
            )
        )
    checks: dict[str, list[float]] = {"product": [], "group-by": [], "listing": []}
    database = kept or run.new_database()
    try:
        bare, _ = without_password(database)
        run.measured(_baseline(ctx, "numeric-table", str(source), bare))
        commands = {
            "product": product_check_command(ctx, bare, scenario),
            "group-by": _baseline(ctx, "group-by", bare),
        }
        if kept is None:
            del commands["product"]
        else:
            try:
                api = balances_only(scenario, ctx.work_dir)
                run.measured(product_stores_snapshot(ctx, bare, scenario, api))
            except CommandFailed as failed:
                del commands["product"]
                notes.append(f"product check not measured: {str(failed)[-400:]}")
        run.measured(commands["group-by"])  # warm, like the SQLite GROUP BY
        for repetition in range(ctx.repeat):
            order = list(commands) if repetition % 2 == 0 else list(reversed(commands))
            for name in order:
                measured = run.measured(commands[name])
                checks[name].append(measured.seconds)
                ctx.log(f"postgres check {scenario.records:,} {name}: {measured.seconds:.2f} s")
        if "product" in commands and not check_only:
            # The same check with the transaction listing stored: every record matched to
            # its gateway transaction, in Python (no target here: docs/performance.md).
            run.measured(product_stores_snapshot(ctx, bare, scenario))
            for _ in range(ctx.repeat):
                measured = run.measured(commands["product"])
                checks["listing"].append(measured.seconds)
                ctx.log(f"postgres check {scenario.records:,} listing: {measured.seconds:.2f} s")
    finally:
        run.drop(database)
    figures.append(
        _figure(
            "postgres.check",
            "`reconcile-tui check --offline` on PostgreSQL, balance level (report written)",
            scenario,
            checks["product"],
            f"`{NUMERIC_GROUP_BY}`",
            checks["group-by"],
            CHECK_TARGET,
        )
    )
    if checks["listing"]:
        figures.append(
            Figure(
                section=SECTION,
                key="postgres.check.listing",
                name="`check --offline` on PostgreSQL with every gateway transaction matched",
                size=scenario.records,
                unit="s",
                samples=checks["listing"],
                baseline_name=f"`{NUMERIC_GROUP_BY}`",
                baseline_samples=checks["group-by"],
                note="no target: the balance-level check is the one the issue sets",
            )
        )
    return figures, notes


def _figure(
    key: str,
    name: str,
    scenario: Scenario,
    product: list[float],
    baseline_name: str,
    baseline: list[float],
    target: Target,
    per: int | None = None,
) -> Figure:
    """The product's figure against its baseline, or the baseline alone when the product
    could not be measured (no target then: there is nothing to hold it to)."""
    if product:
        return Figure(
            section=SECTION,
            key=key,
            name=name,
            size=scenario.records,
            unit="rows/s" if per else "s",
            samples=product,
            baseline_name=baseline_name,
            baseline_samples=baseline,
            target=target,
            per=per,
        )
    return Figure(
        section=SECTION,
        key=f"{key}.baseline",
        name=baseline_name,
        size=scenario.records,
        unit="rows/s" if per else "s",
        samples=baseline,
        per=per,
        note=f"the product was not measured; its target: {target.text}",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.postgres_speed")
    parser.add_argument("--db", help="a server URL whose role may CREATE DATABASE")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--check-only", action="store_true", help="import once, untimed; measure the check"
    )
    arguments = parser.parse_args(argv)
    ctx = RunContext(data_dir=arguments.data.resolve(), repeat=arguments.repeat)
    scenario = load_scenario(arguments.records, ctx.data_dir, log=ctx.log)
    environ = {"RECONCILE_TEST_POSTGRES": arguments.db} if arguments.db else {}
    with server_for_tests(environ) as server_url:
        ctx.log(f"server: {masked(server_url)}")
        figures, notes = measure_postgres(
            ctx, scenario, server_url, check_only=arguments.check_only
        )
    for figure in figures:
        shown = f"{figure.key} at {figure.size:,}: median {figure.value:.3f} s"
        if figure.baseline is not None:
            shown += f", baseline {figure.baseline:.3f} s, ratio {figure.ratio:.2f}"
            if figure.target is not None:
                shown += f" ({'met' if figure.met else 'NOT MET'}: {figure.target.text})"
        print(shown if figure.target else f"{shown} {figure.note}".strip())
    for note in notes:
        print(note, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
