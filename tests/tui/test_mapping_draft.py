"""Drafting a mapping from the import screen: the CLI's draft, saved where asked, then used."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from textual.widgets import Input, TextArea

from reconcile_tui.ingest.draft import draft_mapping
from reconcile_tui.tui.app import ReconcileApp
from reconcile_tui.tui.dialogs.help import HelpDialog
from reconcile_tui.tui.dialogs.mapping_draft import MappingDraftDialog, ReplaceFileDialog
from reconcile_tui.tui.screens import import_records
from reconcile_tui.tui.screens.import_records import ImportScreen
from reconcile_tui.tui.widgets.fitted_table import FittedTable
from tests.tui.conftest import Notifications, settle, shown_text

SIZE = (80, 24)
EXPORTS = Path(__file__).parent.parent / "data" / "exports"


def _export(tmp_path: Path, name: str = "paypal-activity.csv") -> Path:
    copy = tmp_path / "exports" / name
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXPORTS / name, copy)
    return copy


def _squeezed(text: str) -> str:
    """Without white space: a long path wraps at the widget's width, mid-name."""
    return "".join(text.split())


async def _open_draft(app: ReconcileApp, pilot, csv: Path, key: str = "ctrl+t") -> None:
    await settle(pilot)
    await pilot.press("i")
    await settle(pilot)
    assert isinstance(app.screen, ImportScreen)
    app.screen.query_one("#csv-path", Input).value = str(csv)  # as if typed
    await pilot.press(key)
    await settle(pilot)


async def test_a_drafted_mapping_is_saved_next_to_the_file_and_previews_its_rows(
    make_app, tmp_path: Path, notifications: Notifications
):
    csv = _export(tmp_path)
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE, message_hook=notifications.hook) as pilot:
        await _open_draft(app, pilot, csv)
        dialog = app.screen
        assert isinstance(dialog, MappingDraftDialog)
        # The same draft as `reconcile-tui mapping draft`, shown read-only.
        shown = dialog.query_one("#draft-text", TextArea)
        assert shown.text == draft_mapping(csv)
        assert shown.read_only
        assert dialog.query_one("#draft-path", Input).value == str(
            tmp_path / "exports" / "paypal-activity.mapping.toml"
        )

        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = tmp_path / "exports" / "paypal-activity.mapping.toml"
        assert saved.read_text(encoding="utf-8") == draft_mapping(csv)
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        assert screen.query_one("#mapping-path", Input).value == str(saved)
        assert f"Mapping saved to {saved}; the preview below uses it." in notifications.of(
            "information"
        )

        # The preview reads the file through the saved mapping: PayPal's decimal commas,
        # its zone column and its fees, as they will be stored.
        preview = screen.query_one("#preview-table", FittedTable)
        labels = ["Row", "Reference", "Occurred", "Currency", "Type", "Status", "Amount", "Fee"]
        labels.append("Wallet")
        rows = [[preview.whole_row(r)[label] for label in labels] for r in range(preview.row_count)]
        assert rows == [
            ["✔ ok", "1AB23456CD789012E", "2024-03-01 09:15Z", "EUR", "deposit", "confirmed",
             "9.410000000000000000", "0.590000000000000000", "main"],
            ["✔ ok", "2AB23456CD789012E", "2024-03-01 22:30Z", "EUR", "deposit", "confirmed",
             "1,206.150000000000000000", "43.850000000000000000", "main"],
            ["✔ ok", "3AB23456CD789012E", "2024-03-02 08:00Z", "EUR", "withdrawal", "pending",
             "100.000000000000000000", "0.000000000000000000", "main"],
        ]  # fmt: skip
        assert "the first 3 rows read cleanly" in shown_text(screen.query_one("#import-status"))


async def test_drafting_an_empty_file_is_one_notification_and_no_dialog(
    make_app, tmp_path: Path, notifications: Notifications, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # typed relative, so the line fits on the screen
    empty = Path("empty.csv")
    empty.write_bytes(b"")
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE, message_hook=notifications.hook) as pilot:
        await _open_draft(app, pilot, empty)
        assert isinstance(app.screen, ImportScreen)
        message = f"{empty}: the file is empty, so there is nothing to draft a mapping from"
        assert notifications.of("error") == [message]
        assert message in shown_text(app.screen.query_one("#import-status"))
        assert app.screen.query_one("#mapping-path", Input).value == ""


async def test_a_file_that_cannot_be_read_is_one_notification(
    make_app, tmp_path: Path, notifications: Notifications
):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE, message_hook=notifications.hook) as pilot:
        await _open_draft(app, pilot, tmp_path)  # a folder, not a file
        assert isinstance(app.screen, ImportScreen)
        assert len(notifications.of("error")) == 1
        assert notifications.of("error")[0].startswith(str(tmp_path))
        assert "bug" not in notifications.of("error")[0].lower()


async def test_saving_over_an_existing_file_asks_first_and_keeps_it_unless_told(
    make_app, tmp_path: Path
):
    csv = _export(tmp_path, "binance-history.csv")
    existing = tmp_path / "exports" / "binance-history.mapping.toml"
    existing.write_text("# my own mapping\n", encoding="utf-8")
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _open_draft(app, pilot, csv)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ReplaceFileDialog)
        asked = shown_text(app.screen.query_one("#replace-what"))
        assert _squeezed(f"Replace {existing}?") in _squeezed(asked)

        await pilot.press("enter")  # the focused answer is "Keep it"
        await settle(pilot)
        assert isinstance(app.screen, MappingDraftDialog)
        assert existing.read_text(encoding="utf-8") == "# my own mapping\n"

        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("ctrl+s")  # Replace
        await settle(pilot)
        assert existing.read_text(encoding="utf-8") == draft_mapping(csv)
        assert isinstance(app.screen, ImportScreen)
        assert app.screen.query_one("#mapping-path", Input).value == str(existing)


async def test_cancelling_the_draft_saves_nothing_and_leaves_the_mapping_alone(
    make_app, tmp_path: Path
):
    csv = _export(tmp_path)
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _open_draft(app, pilot, csv)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ImportScreen)
        assert app.screen.query_one("#mapping-path", Input).value == ""
    assert list((tmp_path / "exports").iterdir()) == [csv]


async def test_the_draft_runs_off_the_screen_thread(make_app, tmp_path: Path, monkeypatch):
    threads: list[threading.Thread] = []

    def drafting(path: Path) -> str:
        threads.append(threading.current_thread())
        return draft_mapping(path)

    monkeypatch.setattr(import_records, "draft_mapping", drafting)
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _open_draft(app, pilot, _export(tmp_path))
        assert isinstance(app.screen, MappingDraftDialog)
    assert len(threads) == 1
    assert threads[0] is not threading.main_thread()


async def test_the_draft_key_is_in_the_help_and_rebinds_by_its_id(make_app, tmp_path: Path):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("f1")  # `?` would be typed into the path field
        help_dialog = app.screen
        assert isinstance(help_dialog, HelpDialog)
        assert ("^t", "Draft mapping") in {(key, action) for key, action, _ in help_dialog.rows}
        await pilot.press("escape")

        app.set_keymap({"import.draft": "f6"})
        await _open_draft(app, pilot, _export(tmp_path), key="f6")
        assert isinstance(app.screen, MappingDraftDialog)
