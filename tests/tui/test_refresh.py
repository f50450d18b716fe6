"""A refresh awaits the gateway on the app's own event loop (docs/tui.md, "Large data"):
no second loop, no client driven from a worker thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile_tui.config import Settings
from reconcile_tui.sandbox import SandboxConfig, generate_scenario
from reconcile_tui.tui.app import build_app
from reconcile_tui.tui.launch import SAMPLE, prepare_demo
from tests.tui.conftest import Notifications, settle, shown_text

SIZE = (120, 40)


@pytest.fixture
def demo(tmp_path: Path, sandbox_factory: Any) -> Settings:
    """The demo's SQLite database, fetched once from the sandbox, which stays up."""
    config = SandboxConfig(seed=SAMPLE["seed"], records=SAMPLE["records"])
    generate_scenario(tmp_path / "scenario", config, discrepancies=SAMPLE["discrepancies"])
    sandbox = sandbox_factory(config)
    return prepare_demo(tmp_path, sandbox.url, sandbox.token)


async def test_a_refresh_fetches_on_the_apps_own_event_loop(
    demo: Settings, monkeypatch: pytest.MonkeyPatch, notifications: Notifications
):
    sent: list[tuple[asyncio.AbstractEventLoop, threading.Thread]] = []
    send = httpx.AsyncClient.send

    async def watched_send(client: httpx.AsyncClient, *args: Any, **kwargs: Any) -> Any:
        sent.append((asyncio.get_running_loop(), threading.current_thread()))
        return await send(client, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "send", watched_send)
    app = build_app(demo, db_path=demo.db_path)
    async with app.run_test(size=SIZE, message_hook=notifications.hook) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert notifications.of("error") == []
        assert any("fetched" in m and "checked" in m for m in notifications.of("information"))
        assert app.live
        assert not app.refreshing
        assert sent  # balances, each currency's history, the transaction pages
        assert {loop for loop, _ in sent} == {app._loop}
        assert {thread for _, thread in sent} == {threading.main_thread()}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_database_that_cannot_be_read_is_said_on_the_banner_not_taken_for_no_data(
    make_app: Any, tmp_path: Path, notifications: Notifications, size: tuple[int, int]
):
    # A store the app cannot read (here a file that is no database; a server that is down
    # does the same) must not look like an empty one: "No gateway data yet. Import your
    # records" would tell a user with a year of books that they have none.
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"these are not the books you are looking for" * 100)
    app = make_app(db_path=broken)
    async with app.run_test(size=size, message_hook=notifications.hook) as pilot:
        await settle(pilot)
        banner = shown_text(app.screen.query_one("#data-banner"))
        assert "The database cannot be read: database " in banner
        assert "broken.db" in banner.replace(" ", "")  # where, however the line wraps
        assert "No gateway data yet" not in banner
        assert notifications.of("error")  # the same line, as a notification too
        # Once a load succeeds again (the store repaired), the banner is the data's again.
        broken.unlink()
        app.data_changed()
        await settle(pilot)
        banner = shown_text(app.screen.query_one("#data-banner"))
        assert "cannot be read" not in banner
        assert "No gateway data yet" in banner
