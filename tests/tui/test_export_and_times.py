"""Exports never replace a file unasked, the data line's age keeps counting, times in one form."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from reconcile_tui.tui.app import ReconcileApp, build_app
from reconcile_tui.tui.cells import full_time, short_time
from reconcile_tui.tui.dialogs.export import ExportDialog, default_export_name
from reconcile_tui.tui.dialogs.replace_file import ReplaceFileDialog
from reconcile_tui.tui.widgets.data_banner import DataBanner
from tests.conftest import PAGE_CLOCK
from tests.tui.conftest import Notifications, scenario_settings, settle, shown_text

SIZE = (120, 40)


async def _export_default(app: ReconcileApp, pilot) -> None:
    await pilot.press("e")
    await settle(pilot)
    assert isinstance(app.screen, ExportDialog)
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_export_asks_before_replacing_and_names_the_absolute_path(
    make_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, notifications: Notifications
):
    monkeypatch.chdir(tmp_path)
    written = tmp_path / default_export_name(PAGE_CLOCK)
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE, message_hook=notifications.hook) as pilot:
        await settle(pilot)
        await _export_default(app, pilot)
        assert not isinstance(app.screen, ExportDialog)
        assert notifications.of("information")[-1].endswith(f" written to {written}")
        assert written.is_absolute()

        # An auditor's copy of the first export, which a second one must not replace unasked.
        written.write_text("kept\n", encoding="utf-8")
        await _export_default(app, pilot)
        assert isinstance(app.screen, ReplaceFileDialog)
        assert str(written) in shown_text(app.screen.query_one("#replace-what")).replace(" ", "")
        await pilot.press("enter")  # the focused answer is "Keep it"
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog)
        assert written.read_text(encoding="utf-8") == "kept\n"

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ReplaceFileDialog)
        await pilot.press("ctrl+s")  # Replace
        await settle(pilot)
        assert not isinstance(app.screen, (ExportDialog, ReplaceFileDialog))
    assert "id,kind,severity" in written.read_text(encoding="utf-8-sig").splitlines()[0]
    assert notifications.of("information")[-1].endswith(f" written to {written}")


async def test_the_data_line_age_keeps_counting_while_the_app_is_open(
    scenario_db: Path, monkeypatch: pytest.MonkeyPatch
):
    now = [PAGE_CLOCK]
    # The timer fires at once in the test; what it shows comes from the app's clock only.
    monkeypatch.setattr(DataBanner, "AGE_EVERY", 0.01)
    app = build_app(scenario_settings(), db_path=scenario_db, clock=lambda: now[0])
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        banner = app.screen.query_one(DataBanner)
        assert "fetched 3m ago" in shown_text(banner)
        now[0] = PAGE_CLOCK + timedelta(hours=2)
        for _ in range(100):
            await pilot.pause(0.01)
            if "fetched 2h ago" in shown_text(banner):
                break
        assert "fetched 2h ago" in shown_text(banner)
        assert "(2025-01-15 09:57Z)" in shown_text(banner)


@pytest.mark.parametrize(
    ("stored", "short", "full"),
    [
        ("2025-01-12T21:03:00Z", "2025-01-12 21:03Z", "2025-01-12 21:03:00Z"),
        ("2025-01-13T00:46:12Z", "2025-01-13 00:46Z", "2025-01-13 00:46:12Z"),
        ("2025-01-13T00:46:12.123456Z", "2025-01-13 00:46Z", "2025-01-13 00:46:12Z"),
        ("2025-01-13T00:00:00Z", "2025-01-13 00:00Z", "2025-01-13 00:00:00Z"),
    ],
)
def test_every_time_has_one_short_and_one_full_form(stored: str, short: str, full: str):
    assert short_time(stored) == short
    assert full_time(stored) == full
    moment = datetime.fromisoformat(stored.replace("Z", "+00:00"))
    assert short_time(moment) == short
    assert full_time(moment) == full
