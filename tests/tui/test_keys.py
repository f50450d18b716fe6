"""Every action is reachable by key, in the command palette, and in the help; keys rebind."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.widgets import DataTable

from reconcile_tui.tui.app import ReconcileApp
from reconcile_tui.tui.commands import ScreenCommands
from reconcile_tui.tui.dialogs.export import ExportDialog
from reconcile_tui.tui.dialogs.help import HelpDialog
from reconcile_tui.tui.screens.discrepancies import DiscrepanciesScreen
from tests.tui.conftest import settle

SIZE = (120, 40)


async def _palette_names(app: ReconcileApp) -> set[str]:
    provider = ScreenCommands(app.screen)
    return {hit.text or "" async for hit in provider.discover()}


async def test_the_palette_follows_the_current_screen(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        on_overview = await _palette_names(app)
        assert {"Open", "Sort", "Refresh", "Causes", "Import", "Export", "Help"} <= (on_overview)
        assert "Acknowledge" not in on_overview

        await pilot.press("d")
        await settle(pilot)
        on_discrepancies = await _palette_names(app)
        assert {
            "Acknowledge",
            "Causes/Discrepancies",
            "Open",
            "Search",
            "Clear filters",
            "Back",
        } <= on_discrepancies
        assert "Sort" not in on_discrepancies


async def test_an_action_runs_from_the_palette(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"export")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog)


async def test_help_lists_the_keys_of_the_screen_it_was_opened_on(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("question_mark")
        help_dialog = app.screen
        assert isinstance(help_dialog, HelpDialog)
        keys = {(key, action) for key, action, _ in help_dialog.rows}
        assert {("a", "Acknowledge"), ("/", "Search"), ("r", "Refresh"), ("esc", "Back")} <= keys
        assert all(tooltip for _, _, tooltip in help_dialog.rows)
        await pilot.press("escape")
        assert isinstance(app.screen, DiscrepanciesScreen)


async def test_a_keymap_rebinds_by_binding_id(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.set_keymap({"app.discrepancies": "f2"})
        assert app.key_for("app.discrepancies") == "f2"
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, DiscrepanciesScreen)


async def test_the_configured_keymap_applies_when_the_app_is_built(tmp_path):
    from reconcile_tui.config import load_settings
    from reconcile_tui.tui.app import build_app

    config = tmp_path / "keys.toml"
    config.write_text('[tui]\nkeymap = { "app.discrepancies" = "f2" }\n')
    app = build_app(load_settings(config, environ={}), db_path=tmp_path / "books.db")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.press("f2")
        await pilot.pause()
        assert type(app.screen).__name__ == "DiscrepanciesScreen"


def test_a_keymap_id_no_binding_has_is_refused_naming_the_nearest(tmp_path):
    # It was applied to nothing, without a word: f5 simply did not refresh.
    from reconcile_tui.config import load_settings
    from reconcile_tui.errors import ConfigError
    from reconcile_tui.tui.app import build_app

    config = tmp_path / "keys.toml"
    config.write_text('[tui]\nkeymap = { "app.refesh" = "f5" }\n')
    with pytest.raises(ConfigError) as refused:
        build_app(load_settings(config, environ={}), db_path=tmp_path / "books.db")
    assert str(refused.value) == (
        "tui.keymap: 'app.refesh' is not a key binding's id (did you mean app.refresh?);"
        " docs/tui.md lists them"
    )
    assert not (tmp_path / "books.db").exists()


async def test_home_and_end_go_to_the_first_and_last_row_of_the_overview_and_periods(make_app):
    # They scrolled sideways, which a table of whole columns never needs: nothing moved.
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#currencies", DataTable)
        assert table.row_count > 2
        await pilot.press("end")
        await settle(pilot)
        assert table.cursor_row == table.row_count - 1
        await pilot.press("home")
        await settle(pilot)
        assert table.cursor_row == 0
        await pilot.press("p")
        await settle(pilot)
        figures = app.screen.query_one("#period-figures", DataTable)
        await pilot.press("end")
        await settle(pilot)
        assert figures.cursor_row == figures.row_count - 1 > 0


async def test_sorting_keeps_the_highlight_on_its_currency(make_app):
    # The cursor kept its row number: another currency was highlighted, and the panel
    # under the table showed it.
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#currencies", DataTable)
        await pilot.press("end")
        await settle(pilot)
        before = table.ordered_rows[table.cursor_row].key.value
        await pilot.press("s")
        await settle(pilot)
        assert table.ordered_rows[table.cursor_row].key.value == before
        assert table.cursor_row != table.row_count - 1 or before == max(
            row.key.value for row in table.ordered_rows
        )
