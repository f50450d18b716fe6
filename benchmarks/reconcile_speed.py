"""Reconcile: `reconcile-tui check --offline` against one plain GROUP BY on the same file.

The database is the import's, given the scenario's gateway answers by one untimed `check
--api-dir` (which stores the snapshot). Both commands read the file warm (from the OS page
cache): that check and an untimed GROUP BY come first, then the repetitions alternate
which goes first.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.baselines import GROUP_BY
from benchmarks.context import RunContext
from benchmarks.figures import Figure, Target
from benchmarks.measure import run_measured
from benchmarks.scenarios import Scenario

__all__ = ["measure_reconcile"]

TARGET = Target(3.0, "ratio", "≤ 3× the GROUP BY")


def measure_reconcile(ctx: RunContext, scenario: Scenario, books: Path) -> list[Figure]:
    report = books.with_name("report.json")
    common = [*ctx.cli, "--db", str(books), "check", "--format", "json", "--output", str(report)]
    commands = {
        "product": [*common, "--offline", "--fail-on", "never"],
        "baseline": [ctx.python, "-m", "benchmarks.baselines", "group-by", str(books)],
    }
    run_measured(commands["baseline"])  # the --api-dir check above read the file for both
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    for repetition in range(ctx.repeat):
        order = list(commands) if repetition % 2 == 0 else list(reversed(commands))
        for name in order:
            measured = run_measured(commands[name])
            seconds[name].append(measured.seconds)
            ctx.log(f"reconcile {scenario.records:,} {name}: {measured.seconds:.2f} s")
    return [
        Figure(
            section="Reconcile",
            key="reconcile.check",
            name="`reconcile-tui check --offline` (exact decimal sums, report written)",
            size=scenario.records,
            unit="s",
            samples=seconds["product"],
            baseline_name=f"`{GROUP_BY}`",
            baseline_samples=seconds["baseline"],
            target=TARGET,
        )
    ]
