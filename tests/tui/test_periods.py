"""The Periods screen: pick a period, sign it off with a note, see every sign-off and why
one lapsed (docs/close.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable

from reconcile_tui.reconcile.close import parse_period
from reconcile_tui.tui.app import ReconcileApp
from reconcile_tui.tui.dialogs.sign_off import SignOffDialog
from reconcile_tui.tui.screens.periods import PeriodsScreen
from reconcile_tui.workspace import Workspace
from tests.conftest import PAGE_CLOCK, WALLET_A
from tests.tui.conftest import scenario_settings, settle, shown_text
from tests.tui.test_snapshots import keys

RANGE = "2025-01-10..2025-01-14"


def _cells(table: DataTable[Any]) -> list[str]:
    return [str(cell) for row in range(table.row_count) for cell in table.get_row_at(row)]


async def _open_range(pilot: Pilot[Any]) -> PeriodsScreen:
    await settle(pilot)
    await pilot.press("p")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, PeriodsScreen)
    await pilot.press("slash", *RANGE, "enter")
    await settle(pilot)
    return screen


async def test_periods_open_on_what_the_history_covers_and_say_to_fetch_beyond(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PeriodsScreen)
        # The stored history covers days of January 2025, not the month: those days first.
        assert screen.period is not None
        assert screen.period.label.startswith("2025-01-")
        assert "USDTERC20" in _cells(screen.query_one("#period-figures", DataTable))
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert "2024-12" in shown_text(screen.query_one("#period-title"))
        assert "no stored gateway history covers 2024-12" in shown_text(
            screen.query_one("#period-causes")
        )


async def test_the_arrows_move_through_the_figures_as_soon_as_periods_open(make_app):
    # The scrolling box around the figures used to take the focus: the arrows scrolled it
    # and the line under the table kept telling the first row.
    app: ReconcileApp = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        screen = app.screen
        figures = screen.query_one("#period-figures", DataTable)
        assert app.focused is figures, app.focused
        told = shown_text(screen.query_one("#period-more"))
        await pilot.press("down")
        await settle(pilot)
        assert figures.cursor_row == 1
        assert shown_text(screen.query_one("#period-more")) != told


async def test_signing_off_a_period_refuses_until_open_causes_are_accepted(
    make_app, scenario_db: Path
):
    app: ReconcileApp = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_range(pilot)
        figures = _cells(screen.query_one("#period-figures", DataTable))
        assert "USDTERC20" in figures
        assert "1,517.000000" in figures
        assert "1,535.000000" in figures
        assert "8 open causes in the period" in shown_text(screen.query_one("#period-causes"))

        assert app.focused is screen.query_one("#period-figures"), app.focused
        await pilot.press("s")
        dialog = app.screen
        assert isinstance(dialog, SignOffDialog)
        await pilot.press(*"typo known", "enter", "enter")
        assert "Causes in this period are open" in shown_text(dialog.query_one("#so-problem"))
        dialog.query_one("#so-accept-open", Checkbox).value = True
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert app.screen is screen
        listed = _cells(screen.query_one("#sign-offs", DataTable))
        assert RANGE in listed
        assert "signed" in listed
        assert "typo known" in listed

        # A later import into the period: the sign-off lapses, and the screen says why.
        late = scenario_db.parent / "late.csv"
        late.write_text(
            "reference,occurred_at,currency,wallet_id,type,amount,fee,status,tx_hash\n"
            f"L-1,2025-01-11T09:00:00Z,USDTERC20,{WALLET_A},deposit,5,0,confirmed,0x0d\n"
        )
        with Workspace(scenario_settings(), db_path=scenario_db, clock=lambda: PAGE_CLOCK) as ws:
            ws.import_files([late])
        app.data_changed()
        await settle(pilot)
        listed = _cells(screen.query_one("#sign-offs", DataTable))
        assert "lapsed" in listed
        assert any(
            "records' balance at 2025-01-14 was 1535.000000, now 1540.000000" in c for c in listed
        )


async def test_period_figures_write_money_as_the_other_screens_do(make_app, scenario_db: Path):
    app: ReconcileApp = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_range(pilot)
        figures = screen.query_one("#period-figures", DataTable)
        amounts = [
            cell.plain
            for row in range(figures.row_count)
            for cell in figures.get_row_at(row)[2:5]
            if cell.plain
        ]
        assert "1,517.000000" in amounts  # grouped, as on the overview and wallet screens
        assert not any("E" in amount for amount in amounts)  # never an exponent
        assert all(cell.justify == "right" for cell in figures.get_row_at(0)[2:5])


async def test_sign_offs_show_their_time_short_and_people_s_text_escaped(
    make_app, scenario_db: Path
):
    # A note typed on the command line may hold an escape: the list shows it, never runs it.
    with Workspace(scenario_settings(), db_path=scenario_db, clock=lambda: PAGE_CLOCK) as ws:
        ws.close_period(parse_period(RANGE), "see \x1b[31mred", accept_open=True, by="ana\u202e")
    app: ReconcileApp = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_range(pilot)
        listed = _cells(screen.query_one("#sign-offs", DataTable))
        assert "see \\x1b[31mred" in listed
        assert "ana\\u202e" in listed
        assert f"{PAGE_CLOCK:%Y-%m-%d %H:%M}Z" in listed  # the short form, as in every table


class _Snapshots:
    SIZE: tuple[int, int]

    @pytest.fixture(autouse=True)
    def _same_everywhere(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("LOGNAME", "auditor")
        monkeypatch.chdir(tmp_path)

    def test_periods_range(self, snap_compare, make_app):
        steps = keys("p", "slash", *RANGE, "enter")
        assert snap_compare(make_app(), terminal_size=self.SIZE, run_before=steps)

    def test_periods_sign_off_dialog(self, snap_compare, make_app):
        steps = keys("p", "slash", *RANGE, "enter", "s")
        assert snap_compare(make_app(), terminal_size=self.SIZE, run_before=steps)


class TestSnapshots80x24(_Snapshots):
    SIZE = (80, 24)


class TestSnapshots120x40(_Snapshots):
    SIZE = (120, 40)


async def test_the_difference_row_shows_where_a_gap_comes_from_and_records_alone_say_so(
    make_app, scenario_db: Path
):
    app: ReconcileApp = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_range(pilot)
        figures = screen.query_one("#period-figures", DataTable)
        rows = [[c.plain.strip() for c in figures.get_row_at(i)] for i in range(figures.row_count)]
        usdt = [row[:2] for row in rows].index(["USDTERC20", "gateway"])
        # It filled the end balance alone: the 18.00 more in the records came in.
        assert rows[usdt + 2] == ["", "difference", "-18.000000", "-18.000000", "0.000000", "0/0"]
        # The scenario's DOGE deposit: no stored history covers that currency.
        doge = [row[:2] for row in rows].index(["DOGE", "gateway"])
        assert rows[doge][2:] == ["no history", "", "", ""]
        assert rows[doge + 1][3:] == ["12.500000000000000000", "0.000000000000000000", "1/0"]
    small: ReconcileApp = make_app()
    async with small.run_test(size=(80, 24)) as pilot:
        screen = await _open_range(pilot)
        # At 80 columns the table leaves columns out and tells the highlighted row's
        # under it; the row with nothing left out tells nothing (it said "DOGE gateway:").
        assert shown_text(screen.query_one("#period-more")).strip() == ""
        await pilot.press("down")
        await settle(pilot)
        assert "Out 0.000000000000000000" in shown_text(screen.query_one("#period-more"))


async def test_a_period_longer_than_the_history_says_where_movements_are_counted_from(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("slash", *"2025-01-01..2025-01-14", "enter")
        await settle(pilot)
        title = shown_text(app.screen.query_one("#period-title"))
        assert "movements counted from 2025-01-09 (ETH, USDCERC20, USDTERC20), where" in title
        await pilot.press("slash", *RANGE, "enter")
        await settle(pilot)
        assert "movements counted" not in shown_text(app.screen.query_one("#period-title"))


async def test_an_import_made_outside_the_app_is_checked_before_the_period_is_reviewed(
    make_app, scenario_db: Path
):
    # The screen kept the latest check's causes, one fewer than `close` (which checks
    # first) counted, and after a clean sign-off it said "no open cause".
    from datetime import timedelta

    app: ReconcileApp = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_range(pilot)
        assert "8 open causes in the period" in shown_text(screen.query_one("#period-causes"))
        late = scenario_db.parent / "late.csv"
        late.write_text(
            "reference,occurred_at,currency,wallet_id,type,amount,fee,status,tx_hash\n"
            f"L-1,2025-01-11T09:00:00Z,USDTERC20,{WALLET_A},deposit,5,0,confirmed,0x0d\n"
        )
        later = PAGE_CLOCK + timedelta(minutes=1)  # after the app's check
        with Workspace(scenario_settings(), db_path=scenario_db, clock=lambda: later) as ws:
            ws.import_files([late])
        await pilot.press("slash", *RANGE, "enter")  # the same period, read again
        await settle(pilot)
        assert "9 open causes in the period" in shown_text(screen.query_one("#period-causes"))


async def test_the_highlighted_sign_off_shows_its_whole_note_and_each_reason_it_lapsed(
    make_app, scenario_db: Path
):
    # In the list the reasons were cut at 80 and 120 columns, an amount scrolled into
    # view was cut mid-number, and a note showed its first line only.
    with Workspace(scenario_settings(), db_path=scenario_db, clock=lambda: PAGE_CLOCK) as ws:
        ws.close_period(parse_period(RANGE), "bank matched\nfees checked", accept_open=True)
        late = scenario_db.parent / "late.csv"
        late.write_text(
            "reference,occurred_at,currency,wallet_id,type,amount,fee,status,tx_hash\n"
            f"L-1,2025-01-11T09:00:00Z,USDTERC20,{WALLET_A},deposit,5,0,confirmed,0x0d\n"
        )
        ws.import_files([late])
    app: ReconcileApp = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_range(pilot)
        screen.query_one("#sign-offs").focus()
        await settle(pilot)
        detail = shown_text(screen.query_one("#sign-off-detail"))
        assert "Note: bank matched fees checked" in detail
        assert "Lapsed because:" in detail
        assert "USDTERC20 records' balance at 2025-01-14 was 1535.000000, now 1540.000000" in (
            detail
        )
        assert screen.query_one("#sign-off-detail").region.bottom <= 23  # in view
