"""Fixtures for the app's tests: the hand-built scenario in a database, and apps on it.

The scenario is copied into the test's own folder and imported by relative names, so what
the app shows (file names, the gateway URL, ages against PAGE_CLOCK) is the same on every
machine and in every run.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget
from textual.worker import WorkerCancelled, WorkerFailed, WorkerState

from reconcile_tui.config import Settings, load_settings
from reconcile_tui.tui.app import ReconcileApp, build_app
from reconcile_tui.workspace import Workspace
from tests.conftest import PAGE_CLOCK, SCENARIO

#: Where and when the scenario's gateway data "was fetched": three minutes before the clock.
SCENARIO_META = {
    "base_url": "https://api.cryptofuse.io",
    "fetched_at": "2025-01-15T09:57:00Z",
    "period": "7d",
    "interval": "daily",
}


def scenario_settings() -> Settings:
    """The scenario's rules (low balance for ETH), without the environment."""
    return load_settings(SCENARIO / "reconcile.toml", environ={})


def build_scenario(folder: Path) -> Path:
    """The scenario imported and checked into `folder / reconcile.db`; returns the db path."""
    folder.mkdir(parents=True, exist_ok=True)
    api = folder / "api"
    shutil.copytree(SCENARIO / "api", api)
    (api / "meta.json").write_text(json.dumps(SCENARIO_META))
    shutil.copy(SCENARIO / "records.csv", folder / "records.csv")
    db_path = folder / "reconcile.db"
    with (
        contextlib.chdir(folder),
        Workspace(scenario_settings(), db_path=db_path, clock=lambda: PAGE_CLOCK) as workspace,
    ):
        workspace.import_files([Path("records.csv")])
        snapshot_id, snapshot = workspace.load_saved_responses(Path("api"))
        workspace.check(snapshot_id, snapshot)
    return db_path


@pytest.fixture
def scenario_db(tmp_path: Path) -> Path:
    return build_scenario(tmp_path / "books")


@pytest.fixture
def make_app(scenario_db: Path) -> Callable[..., ReconcileApp]:
    """An app on the scenario (or on `db_path`), at PAGE_CLOCK, with animations off."""

    def make(
        *, db_path: Path | None = None, settings: Settings | None = None, **options: Any
    ) -> ReconcileApp:
        app = build_app(
            settings or scenario_settings(),
            db_path=db_path or scenario_db,
            clock=lambda: PAGE_CLOCK,
            **options,
        )
        app.animation_level = "none"
        return app

    return make


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until no worker runs and every message they posted has been handled.

    Handling a message can start another worker (a page after the overview, a record's
    history after a row), so this loops until the app is quiet.
    """
    app = pilot.app
    for _ in range(50):
        # A worker that failed raises here; its failure is the app's to show, and tests
        # look for it among the notifications. An exclusive worker cancelled by a newer
        # one of its group (the cursor moved on before a record's history came back)
        # raises too; the newer one is what the screen shows, and the loop waits for it.
        with contextlib.suppress(WorkerFailed, WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers):
            await pilot.pause()
            return
    raise AssertionError("workers kept starting")


def shown_text(widget: Widget) -> str:
    """What a widget shows on screen now, its lines joined by single spaces (so a phrase
    that wraps at the widget's width is still found whole). The region is the widget's
    outer size: its content size would crop the last columns of a padded widget, and a
    word wrapped to end at its edge would lose its last letters."""
    width, height = widget.outer_size
    lines: list[Strip] = widget.render_lines(Region(0, 0, width, height))
    return " ".join(" ".join(strip.text.split()) for strip in lines).strip()


@dataclass
class Notifications:
    """Every notification the app raised during a test (via `run_test(message_hook=...)`)."""

    seen: list[Notification] = field(default_factory=list)

    def hook(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.seen.append(message.notification)

    def of(self, severity: str) -> list[str]:
        return [n.message for n in self.seen if n.severity == severity]


@pytest.fixture
def notifications() -> Notifications:
    return Notifications()
