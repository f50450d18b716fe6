"""Timing the terminal app headless, in its own process: launch to a filled table, key to frame.

    python -m benchmarks.tui_probe app DB T0     reconcile-tui's app on DB
    python -m benchmarks.tui_probe bare DB T0    a bare Textual app: one DataTable, 100 rows
    python -m benchmarks.tui_probe app-profile DB T0   the app's keys, instrumented

T0 is the parent's `time.monotonic()` taken just before it started this process (the
clock is system-wide on Linux), so "launch" includes the interpreter, the imports and the
app's start, up to the first frame whose main table has its rows. A frame is the moment
the app hands a rendered screen update to its driver (headless: the driver then drops
it); every frame is stamped with the time and with the state it showed. A key's latency
is the time from sending the key to the first frame showing what the list finally shows
once the app is idle again (its page fetched, its filter applied). Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.worker import WorkerFailed, WorkerState

__all__ = ["APP_KEYS", "BARE_KEYS", "SIZE", "main"]

#: The terminal the app runs in.
SIZE = (120, 40)
#: Keys pressed on the discrepancies screen, each timed ("-" prefix: pressed, not timed).
APP_KEYS: Sequence[str] = (
    *["pagedown"] * 8,
    "end",
    "home",
    "-slash",
    "0",
    "0",
    "7",
    "backspace",
    "-enter",
    "x",
)
#: Keys pressed in the bare app's table, each timed.
BARE_KEYS: Sequence[str] = ("pagedown", "pagedown", "pageup", "pageup", "down", "up") * 2
#: No phase of a probe may take longer than this.
PATIENCE_SECONDS = 120.0

State = Callable[[Screen[Any]], Hashable]


class Frames:
    """Every frame the app hands to its driver: when, and the state it showed."""

    def __init__(self, app: App[Any]) -> None:
        self.seen: list[tuple[float, Hashable]] = []
        self.state: State = lambda screen: None
        display = app._display

        def recording(screen: Screen[Any], renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None and not getattr(app, "_batch_count", 0):
                self.seen.append((time.monotonic(), self.state(screen)))

        # The one private hook: the app's own code is measured untouched.
        setattr(app, "_display", recording)  # noqa: B010

    def first(self, since: float, wanted: Callable[[Hashable], bool]) -> float | None:
        """When the first frame after `since` showed a state `wanted` accepts."""
        return next((at for at, state in self.seen if at >= since and wanted(state)), None)

    async def wait_for(self, since: float, wanted: Callable[[Hashable], bool]) -> float:
        deadline = time.monotonic() + PATIENCE_SECONDS
        while (found := self.first(since, wanted)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError("the expected frame never came")
            await asyncio.sleep(0.005)
        return found


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until no worker runs and every message they posted has been handled."""
    app = pilot.app
    for _ in range(200):
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers):
            await pilot.pause()
            return
    raise RuntimeError("workers kept starting")


async def time_keys(
    pilot: Pilot[Any], frames: Frames, keys: Sequence[str], state: State
) -> list[dict[str, Any]]:
    """Press each key; time the ones without a "-" prefix from the key to its frame."""
    frames.state = state
    timed = []
    for key in keys:
        if key.startswith("-"):
            await pilot.press(key[1:])
            await settle(pilot)
            continue
        before = state(pilot.app.screen)
        sent = time.monotonic()
        await pilot.press(key)
        await settle(pilot)
        final = state(pilot.app.screen)
        shown = frames.first(sent, lambda seen, final=final: seen == final)  # type: ignore[misc]
        timed.append(
            {
                "key": key,
                "ms": None if shown is None else (shown - sent) * 1000,
                "changed": final != before,
                "sent": sent,
                "shown": shown,
            }
        )
    return timed


class Spans:
    """Where the UI thread and the page worker spend a key's time (for `app-profile`):
    the wall time of every layout reflow, frame render and page fetch."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, float, float]] = []

    def wrap(self, owner: type, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*arguments: Any, **options: Any) -> Any:
            started = time.monotonic()
            try:
                return original(*arguments, **options)
            finally:
                self.seen.append((label, started, time.monotonic()))

        setattr(owner, name, timed)

    def install(self) -> None:
        from reconcile_tui.tui.screens.discrepancies import DiscrepancySource

        self.wrap(Screen, "_refresh_layout", "layout")
        self.wrap(Screen, "_compositor_refresh", "render")
        self.wrap(DiscrepancySource, "fetch", "fetch")

    def summary(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Per key, what ran between sending it and its final frame. A layout reflow
        renders its frame itself: that frame counts as rendering, not as layout."""
        found = []
        for key in keys:
            until = key["shown"] if key["shown"] is not None else key["sent"]
            spans = [span for span in self.seen if key["sent"] <= span[1] <= until]
            renders = [(start, end) for label, start, end in spans if label == "render"]
            layouts = [(start, end) for label, start, end in spans if label == "layout"]
            fetches = [end - start for label, start, end in spans if label == "fetch"]
            layout_only = sum(
                (end - start) - sum(e - s for s, e in renders if start <= s and e <= end)
                for start, end in layouts
            )
            found.append(
                {
                    "key": key["key"],
                    "ms": key["ms"],
                    "frames": len(renders),
                    "render_ms": sum(end - start for start, end in renders) * 1000,
                    "layouts": len(layouts),
                    "layout_ms": layout_only * 1000,
                    "fetch_ms": sum(fetches) * 1000 if fetches else None,
                }
            )
        return found


def _has_rows(state: Hashable) -> bool:
    """Whether a findings state (see `probe_app`) shows a table with rows."""
    return isinstance(state, tuple) and bool(state[3])


def _text(screen: Screen[Any], selector: str) -> str:
    """What a Static shows (empty when the screen has no such widget)."""
    from textual.css.query import NoMatches

    try:
        return str(getattr(screen.query_one(selector), "content", ""))
    except NoMatches:
        return ""


async def probe_app(database: Path, started: float, profile: bool = False) -> dict[str, Any]:
    """Launch reconcile-tui's app; then time keys on its discrepancies screen."""
    from textual.css.query import NoMatches
    from textual.widgets import DataTable

    from reconcile_tui.config import load_settings
    from reconcile_tui.tui.app import build_app

    imported = time.monotonic()
    spans = Spans()
    if profile:
        spans.install()
    app = build_app(load_settings(), db_path=database)
    app.animation_level = "none"
    frames = Frames(app)

    def overview_rows(screen: Screen[Any]) -> Hashable:
        try:
            return screen.query_one("#currencies", DataTable).row_count
        except NoMatches:
            return 0

    frames.state = overview_rows
    async with app.run_test(size=SIZE) as pilot:
        ready = await frames.wait_for(started, lambda rows: bool(rows))
        first = frames.seen[0][0]
        await settle(pilot)

        def findings(screen: Screen[Any]) -> Hashable:
            try:
                table: Any = screen.query_one("#findings")
            except NoMatches:
                return None
            rows = table.page_rows
            return (
                table.page_offset,
                len(rows),
                rows[0]["id"] if rows else None,
                table.row_count,
                table.cursor_row,
                table.scroll_y,
                str(table.border_subtitle),
                _text(screen, "#finding-detail"),
                _text(screen, "#findings-counts"),
            )

        frames.state = findings
        pressed = time.monotonic()
        await pilot.press("d")
        opened = await frames.wait_for(pressed, _has_rows)
        await settle(pilot)
        shown = app.screen.query_one("#findings")
        total = int(getattr(shown, "total_rows", 0))
        keys = await time_keys(pilot, frames, APP_KEYS, findings)
    if profile:
        return {"keys": spans.summary(keys)}
    return {
        "imported": imported - started,
        "first_frame": first - started,
        "launch": ready - started,
        "open_list": opened - pressed,
        "discrepancies": total,
        "keys": keys,
    }


async def probe_bare(database: Path, started: float) -> dict[str, Any]:
    """A bare Textual app: one DataTable showing 100 records of the same database."""
    import sqlite3

    from textual.app import ComposeResult
    from textual.widgets import DataTable

    imported = time.monotonic()

    class BareApp(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(id="rows", cursor_type="row", zebra_stripes=True)

        def on_mount(self) -> None:
            table: DataTable[Any] = self.query_one(DataTable)
            conn = sqlite3.connect(database)
            cursor = conn.execute(
                "SELECT reference, occurred_at, currency, wallet_id, type, amount, fee, status"
                " FROM records LIMIT 100"
            )
            table.add_columns(*(column[0] for column in cursor.description))
            table.add_rows(cursor.fetchall())
            conn.close()
            table.focus()

    app = BareApp()
    app.animation_level = "none"
    frames = Frames(app)

    def table_state(screen: Screen[Any]) -> Hashable:
        table: Any = screen.query_one("#rows")
        return (table.row_count, table.cursor_row, table.scroll_y)

    frames.state = table_state
    async with app.run_test(size=SIZE) as pilot:
        ready = await frames.wait_for(started, lambda state: isinstance(state, tuple) and state[0])
        first = frames.seen[0][0]
        await settle(pilot)
        keys = await time_keys(pilot, frames, BARE_KEYS, table_state)
    return {
        "imported": imported - started,
        "first_frame": first - started,
        "launch": ready - started,
        "keys": keys,
    }


def main(argv: list[str]) -> int:
    kind, database, started = argv[0], Path(argv[1]), float(argv[2])
    if kind == "bare":
        result = asyncio.run(probe_bare(database, started))
    else:
        result = asyncio.run(probe_app(database, started, profile=kind == "app-profile"))
    for key in result["keys"]:
        key.pop("sent", None)
        key.pop("shown", None)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
