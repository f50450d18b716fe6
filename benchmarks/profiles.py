"""Profiles for the targets a run missed: where the time of the slow part goes.

Each profile runs in its own process, untimed, after the measurements of the largest size:

    python -m benchmarks.profiles command ARGS...   the real CLI with every SQL statement
                                                    timed and cProfile on (top functions)
    python -m benchmarks.profiles overview DB       the app's import cost per package and
                                                    the overview's queries
    python -m benchmarks.tui_probe app-profile ...  per key: frames, layouts, page fetches

Each prints one JSON line; `profile_missed` turns them into the markdown evidence shown
under "What limits the targets not met".
"""

from __future__ import annotations

import collections
import cProfile
import json
import math
import pstats
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks import REPO
from benchmarks.measure import clean_environment

if TYPE_CHECKING:  # the profiled processes import as little as they can
    from benchmarks.books import BrowsedBooks
    from benchmarks.context import RunContext
    from benchmarks.figures import Figure
    from benchmarks.scenarios import Scenario

__all__ = ["explain_api", "profile_missed"]

#: Statements and functions listed per profile.
TOP = 8


# -- inside the profiled process -------------------------------------------------------------


class _StatementTimer:
    """Wall time of every SQL statement run through `sqlite3.connect`'s connections."""

    def __init__(self) -> None:
        self.statements: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])

    def add(self, sql: str, seconds: float) -> None:
        shown = " ".join(sql.split())
        shown = shown if len(shown) <= 110 else shown[:107] + "..."
        entry = self.statements[shown]
        entry[0] += 1
        entry[1] += seconds

    @contextmanager
    def installed(self) -> Iterator[None]:
        timer = self

        class TimedConnection(sqlite3.Connection):
            def execute(self, sql: str, *parameters: Any) -> sqlite3.Cursor:
                started = time.perf_counter()
                try:
                    return super().execute(sql, *parameters)
                finally:
                    timer.add(sql, time.perf_counter() - started)

            def executemany(self, sql: str, *parameters: Any) -> sqlite3.Cursor:
                started = time.perf_counter()
                try:
                    return super().executemany(sql, *parameters)
                finally:
                    timer.add(sql, time.perf_counter() - started)

        original = sqlite3.connect

        def connect(*arguments: Any, **options: Any) -> sqlite3.Connection:
            options.setdefault("factory", TimedConnection)
            connection: sqlite3.Connection = original(*arguments, **options)
            return connection

        sqlite3.connect = connect  # type: ignore[assignment]
        try:
            yield
        finally:
            sqlite3.connect = original

    def top(self) -> list[tuple[str, int, float]]:
        ranked = sorted(self.statements.items(), key=lambda item: -item[1][1])
        return [(sql, int(count), seconds) for sql, (count, seconds) in ranked[:TOP]]


def _top_functions(profile: cProfile.Profile) -> list[tuple[str, int, float, float]]:
    """(function, calls, own seconds, cumulative seconds) by own time, the profiler's own
    wrappers left out (cProfile's overhead inflates functions called very often)."""
    stats: Any = pstats.Stats(profile)
    rows = []
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.stats.items():
        if "benchmarks/" in filename or "TimedConnection" in name:
            continue
        if filename == "~":  # a built-in: its name says what it is
            shown = name.strip("<>")
        else:
            where = re.sub(r"^.*?/(site-packages|lib/python3\.\d+)/", "", filename)
            where = re.sub(r"^.*?/(reconcile_tui/)", r"\1", where)
            shown = f"{where}:{line} {name}"
        rows.append((shown, calls, own, cumulative))
    rows.sort(key=lambda row: -row[2])
    return rows[:TOP]


def _command(arguments: list[str]) -> dict[str, Any]:
    imports = _import_cost("reconcile_tui.cli")
    from reconcile_tui.cli import cli

    timer = _StatementTimer()
    profile = cProfile.Profile()
    started = time.perf_counter()
    with timer.installed():
        profile.enable()
        try:
            cli.main(args=arguments, prog_name="reconcile-tui", standalone_mode=False)
        finally:
            profile.disable()
    return {
        "imports": imports,
        "seconds": time.perf_counter() - started,
        "sql_seconds": sum(seconds for _, seconds in timer.statements.values()),
        "statements": timer.top(),
        "functions": _top_functions(profile),
    }


def _import_cost(module: str) -> dict[str, Any]:
    """Wall seconds of importing `module` in a fresh process, and the own time per
    top-level package from `python -X importtime` (which adds overhead of its own)."""
    timing = (
        f"import time; started = time.perf_counter(); import {module};"
        " print(time.perf_counter() - started)"
    )
    environment = clean_environment()
    plain = subprocess.run(
        [sys.executable, "-c", timing],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env=environment,
    )
    detailed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env=environment,
    )
    own: dict[str, float] = collections.defaultdict(float)
    for line in detailed.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            own[match.group(2).split(".")[0]] += int(match.group(1)) / 1e6
    return {
        "seconds": float(plain.stdout.strip()),
        "packages": sorted(own.items(), key=lambda item: -item[1])[:TOP],
    }


def _import_text(module: str, cost: dict[str, Any]) -> str:
    packages = ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in cost["packages"])
    return (
        f"Importing `{module}` takes {cost['seconds'] * 1000:.0f} ms in a fresh process"
        f" (before any work); own import time per top-level package (`python -X importtime`,"
        f" which adds overhead): {packages}."
    )


def _overview(database: Path) -> dict[str, Any]:
    import_cost = _import_cost("reconcile_tui.tui.app")
    from reconcile_tui.config import load_settings
    from reconcile_tui.times import utc_now
    from reconcile_tui.tui.access import WorkspaceAccess
    from reconcile_tui.tui.views import load_overview

    access = WorkspaceAccess(settings=load_settings(), db_path=database, clock=utc_now)
    timer = _StatementTimer()
    seconds = []
    with timer.installed():
        for _ in range(3):
            timer.statements.clear()
            started = time.perf_counter()
            with access.open() as workspace:
                load_overview(workspace)
            seconds.append(time.perf_counter() - started)
    return {
        "imports": import_cost,
        "overview_seconds": sorted(seconds)[1],
        "statements": timer.top(),
    }


def main(argv: list[str]) -> int:
    match argv:
        case ["command", *arguments]:
            result = _command(arguments)
        case ["overview", database]:
            result = _overview(Path(database))
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    print(json.dumps(result))
    return 0


# -- in the suite ----------------------------------------------------------------------------


def _run(ctx: RunContext, *arguments: str) -> dict[str, Any]:
    finished = subprocess.run(
        [ctx.python, *arguments],
        cwd=REPO,
        env=clean_environment(),
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"profile {arguments}: {finished.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return result


def _statements(result: dict[str, Any], total: float) -> list[str]:
    lines = ["| SQL statement | runs | seconds | share |", "|---|---:|---:|---:|"]
    for sql, count, seconds in result["statements"]:
        lines.append(
            f"| `{sql.replace('|', '/')}` | {count} | {seconds:.2f} | {seconds / total:.0%} |"
        )
    return lines


def _functions(result: dict[str, Any]) -> list[str]:
    lines = ["| function (cProfile) | calls | own s | cumulative s |", "|---|---:|---:|---:|"]
    for name, calls, own, cumulative in result["functions"]:
        lines.append(f"| `{name}` | {calls:,} | {own:.2f} | {cumulative:.2f} |")
    return lines


def _command_evidence(ctx: RunContext, what: str, arguments: list[str]) -> list[str]:
    result = _run(ctx, "-m", "benchmarks.profiles", "command", *arguments)
    total, sql = result["seconds"], result["sql_seconds"]
    return [
        f"Profile of one {what} (`python -m benchmarks.profiles command ...`, the real command"
        f" in-process under cProfile, every SQL statement timed): {total:.2f} s in all,"
        f" {sql:.2f} s ({sql / total:.0%}) inside SQLite statements, the rest in Python"
        " (cProfile slows the Python part).",
        "",
        _import_text("reconcile_tui.cli", result["imports"]),
        "",
        *_statements(result, total),
        "",
        *_functions(result),
    ]


def _import_evidence(ctx: RunContext, scenario: Scenario, books: Path) -> list[str]:
    target = books.with_name("profiled.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    arguments = ["--db", str(target), "import", str(scenario.merchant_csv)]
    return _command_evidence(ctx, f"import of {scenario.rows:,} rows", arguments)


def _check_evidence(ctx: RunContext, books: Path) -> list[str]:
    report = books.with_name("profiled-report.json")
    arguments = ["--db", str(books), "check", "--offline", "--format", "json"]
    arguments += ["--output", str(report), "--fail-on", "never"]
    return _command_evidence(ctx, "`check --offline`", arguments)


def explain_api(figures: list[Figure]) -> list[str]:
    """Why a whole snapshot costs what it does against one request (from the figures)."""
    default = next((f for f in figures if f.key == "api.snapshot"), None)
    narrow = next((f for f in figures if f.key == "api.snapshot_narrow"), None)
    if default is None or default.baseline is None:
        return []
    from benchmarks.api_speed import CURRENCIES, LATENCY_MS, NARROW
    from reconcile_tui.config import ApiSettings

    slots = ApiSettings().concurrency
    trips = 1 + math.ceil(CURRENCIES / slots)
    lines = [
        f"The client keeps at most `api.concurrency` = {slots} requests in flight, so"
        f" balances then {CURRENCIES} histories take 1 + ⌈{CURRENCIES}/{slots}⌉ = {trips}"
        f" round trips of at least {LATENCY_MS} ms each, against one for the baseline: the"
        f" floor of the ratio is about {trips}× before any cost of our own. Measured:"
        f" {default.value:.2f} s against {default.baseline:.2f} s ({default.ratio:.2f}×).",
    ]
    if narrow is not None and narrow.ratio is not None:
        narrow_trips = 1 + math.ceil(CURRENCIES / NARROW)
        lines.append(
            f"With `api.concurrency = {NARROW}` the same fetch needs {narrow_trips} round"
            f" trips and takes {narrow.value:.2f} s, {narrow.ratio:.2f}× one request: the"
            " concurrency is what keeps the fetch near one request's time."
        )
    return lines


def _launch_evidence(ctx: RunContext, browsed: BrowsedBooks, figure: Figure) -> list[str]:
    result = _run(ctx, "-m", "benchmarks.profiles", "overview", str(browsed.database))
    overview = result["overview_seconds"]
    return [
        f"Phases (medians of the probes): {figure.note}.",
        "",
        _import_text("reconcile_tui.tui.app", result["imports"]),
        "",
        f"The overview's data (`load_overview`, what the app's first worker runs) takes"
        f" {overview * 1000:.0f} ms warm on its own; its statements:",
        "",
        *_statements(result, overview),
    ]


def _keys_evidence(ctx: RunContext, browsed: BrowsedBooks, figure: Figure) -> list[str]:
    result = _run(
        ctx,
        "-m",
        "benchmarks.tui_probe",
        "app-profile",
        str(browsed.database),
        repr(time.monotonic()),
    )
    lines = [
        f"{figure.note}.",
        "",
        "Per key, one instrumented run (`python -m benchmarks.tui_probe app-profile`): the"
        " frames the app rendered up to the first frame showing the final list and the time"
        " spent rendering them on the UI thread, the layout reflows among them (arranging"
        " the widgets, their frames counted as rendering), and the page fetch on the worker"
        " thread:",
        "",
        "| key | to final frame ms | frames | rendering ms | layouts | layout ms | fetch ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key in result["keys"]:
        lines.append(
            f"| {key['key']} | {_number(key['ms'])} | {key['frames']} | {key['render_ms']:.1f}"
            f" | {key['layouts']} | {key['layout_ms']:.1f} | {_number(key['fetch_ms'])} |"
        )
    return lines


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def profile_missed(
    ctx: RunContext,
    scenario: Scenario,
    books: Path,
    browsed: BrowsedBooks | None,
    figures: list[Figure],
) -> dict[str, list[str]]:
    """Evidence for each missed figure of this size, keyed `key@size`."""
    evidence: dict[str, list[str]] = {}
    makers: dict[str, Callable[[Figure], list[str]]] = {
        "import.speed": lambda f: _import_evidence(ctx, scenario, books),
        "reconcile.check": lambda f: _check_evidence(ctx, books),
    }
    if browsed is not None:
        makers["tui.launch"] = lambda f: _launch_evidence(ctx, browsed, f)
        makers["tui.keys"] = lambda f: _keys_evidence(ctx, browsed, f)
    for figure in figures:
        maker = makers.get(figure.key)
        if figure.met is False and maker is not None:
            ctx.log(f"profiling {figure.key} at {scenario.records:,} records ...")
            evidence[f"{figure.key}@{figure.size}"] = maker(figure)
    return evidence


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
