"""Focus: after a view switch the list has it, so the arrows move in it at once (docs/tui.md)."""

from __future__ import annotations

import pytest
from textual.widgets import Select

from reconcile_tui.tui.app import ReconcileApp
from tests.tui.conftest import settle

SIZE = (80, 24)


@pytest.mark.parametrize(
    ("key", "focused"),
    [("h", "history-table"), ("c", "balance-chart"), ("v", "volume-view"), ("w", "wallet-table")],
)
async def test_a_view_switch_on_a_currency_puts_the_focus_on_the_view(make_app, key, focused):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        if key == "w":
            await pilot.press("h")
            await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        assert app.focused is not None
        assert app.focused.id == focused


async def test_clearing_the_filters_gives_the_list_the_focus(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        app.screen.query_one("#filter-kind", Select).focus()
        await pilot.pause()
        await pilot.press("x")
        await settle(pilot)
        assert app.focused is not None
        assert app.focused.id == "findings"
        await pilot.press("enter")  # goes to a row, never opens the Kind select
        await settle(pilot)
        assert type(app.focused).__name__ not in {"Select", "SelectOverlay"}
