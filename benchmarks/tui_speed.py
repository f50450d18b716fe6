"""TUI: launch to an interactive overview, and keypress to a repainted discrepancy list.

Each repetition starts two processes, in alternating order: `tui_probe app` (the real
app, built by `build_app`, on the browsed books described below) and `tui_probe bare` (a
bare Textual app showing 100 records of the same database in one DataTable). Both run
headless (`App.run_test`) at 120x40 with animations off. Launch is timed from just
before the process starts to the first frame whose main table has its rows (the
overview's currencies; the bare app's records). Then the app opens the discrepancies
screen (`d`) and is driven by Pilot: page down eight times, End, Home (page keys, some
fetching a page), then `/` and the search `0`, `0`, `7`, Backspace, Enter, and `x`
(clear filters): each a filter. A key's latency runs from sending it to the first frame
that shows what the list finally shows; the bare app's cursor and page keys give the
same measure for a bare DataTable. Key latencies are pooled over the repetitions.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from benchmarks import REPO
from benchmarks.books import BrowsedBooks
from benchmarks.context import RunContext
from benchmarks.figures import Figure, Target, median
from benchmarks.measure import clean_environment

__all__ = ["measure_tui"]

LAUNCH_TARGET = Target(2.0, "ratio", "≤ 2× the bare app")
KEY_TARGET = Target(50.0, "value", "≤ 50 ms")


@dataclass
class _Probes:
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"app": [], "bare": []})

    def launches(self, kind: str) -> list[float]:
        return [run["launch"] for run in self.runs[kind]]

    def key_ms(self, kind: str, keys: set[str] | None = None) -> list[float]:
        return [
            key["ms"]
            for run in self.runs[kind]
            for key in run["keys"]
            if key["ms"] is not None and key["changed"] and (keys is None or key["key"] in keys)
        ]

    def phase(self, kind: str, name: str) -> float:
        return median([run[name] for run in self.runs[kind]])


def _probe(ctx: RunContext, kind: str, books: BrowsedBooks) -> dict[str, Any]:
    started = time.monotonic()
    finished = subprocess.run(
        [ctx.python, "-m", "benchmarks.tui_probe", kind, str(books.database), repr(started)],
        cwd=REPO,
        env=clean_environment(),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"the {kind} TUI probe failed: {finished.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return result


def measure_tui(ctx: RunContext, books: BrowsedBooks) -> list[Figure]:
    probes = _Probes()
    for repetition in range(ctx.repeat):
        order = ("bare", "app") if repetition % 2 == 0 else ("app", "bare")
        for kind in order:
            result = _probe(ctx, kind, books)
            probes.runs[kind].append(result)
            keys = [key["ms"] for key in result["keys"] if key["ms"] is not None]
            ctx.log(
                f"tui {books.records:,} {kind}: launch {result['launch']:.2f} s,"
                f" keys median {median(keys) if keys else float('nan'):.1f} ms"
            )
    size = books.records
    app_keys = probes.key_ms("app")
    timed = sum(len(run["keys"]) for run in probes.runs["app"])
    opened = median([run["open_list"] for run in probes.runs["app"]]) * 1000
    filter_keys = probes.key_ms("app", {"0", "7", "backspace", "x"})
    paging_keys = probes.key_ms("app", {"pagedown", "end", "home"})
    return [
        Figure(
            section="TUI",
            key="tui.launch",
            name="app launch to the overview's rows",
            size=size,
            unit="s",
            samples=probes.launches("app"),
            baseline_name="bare Textual app, one DataTable page of 100 rows",
            baseline_samples=probes.launches("bare"),
            target=LAUNCH_TARGET,
            note=(
                f"app ({books.discrepancies:,} discrepancies): imports done at"
                f" {probes.phase('app', 'imported'):.2f} s, first frame"
                f" {probes.phase('app', 'first_frame'):.2f} s; bare app: imports"
                f" {probes.phase('bare', 'imported'):.2f} s, first frame"
                f" {probes.phase('bare', 'first_frame'):.2f} s (medians)"
            ),
        ),
        Figure(
            section="TUI",
            key="tui.keys",
            name="keypress to repainted discrepancy list (median over page keys and filter keys)",
            size=size,
            unit="ms",
            samples=app_keys,
            baseline_name="bare app: keypress to repainted DataTable (page and cursor keys)",
            baseline_samples=probes.key_ms("bare"),
            target=KEY_TARGET,
            note=(
                f"{len(app_keys)} of {timed} timed keys changed the list;"
                f" paging keys median {_ms(paging_keys)}, filter keys median"
                f" {_ms(filter_keys)}, max {_ms([max(app_keys)] if app_keys else [])};"
                f" opening the list (d) {opened:.0f} ms"
            ),
        ),
    ]


def _ms(samples: list[float]) -> str:
    return f"{median(samples):.0f} ms" if samples else "n/a"
