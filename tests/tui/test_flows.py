"""What a finance user does in the app, driven by keys: each flow end to end on the scenario."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable, Static

from reconcile_tui.config import load_settings
from reconcile_tui.errors import ApiError
from reconcile_tui.store.ledger import RecordFilter
from reconcile_tui.tui.app import ReconcileApp
from reconcile_tui.tui.dialogs.acknowledge import AcknowledgeDialog
from reconcile_tui.tui.dialogs.export import ExportDialog
from reconcile_tui.tui.screens.currency import CurrencyScreen
from reconcile_tui.tui.screens.discrepancies import DiscrepanciesScreen
from reconcile_tui.tui.screens.import_records import ImportScreen
from reconcile_tui.tui.screens.overview import OverviewScreen
from reconcile_tui.tui.screens.wallet import WalletScreen
from reconcile_tui.tui.widgets.fitted_table import FittedTable
from reconcile_tui.tui.widgets.paged_table import PagedTable
from reconcile_tui.workspace import Workspace
from tests.conftest import PAGE_CLOCK, WALLET_A, WALLET_B
from tests.tui.conftest import Notifications, scenario_settings, settle, shown_text

SIZE = (120, 40)


def _row_of(table: DataTable, key: str) -> int:
    return table.get_row_index(key)


async def test_drill_from_overview_to_a_wallets_pending_items(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        overview = app.screen
        assert isinstance(overview, OverviewScreen)
        currencies = overview.query_one("#currencies", DataTable)
        # Most material first: the currency with open errors and the largest USD gap.
        assert currencies.coordinate_to_cell_key((0, 0)).row_key.value == "USDTERC20"

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CurrencyScreen)
        wallets = app.screen.query_one("#wallet-table", DataTable)
        wallets.move_cursor(row=_row_of(wallets, WALLET_B))
        await pilot.press("enter")
        await settle(pilot)

        wallet = app.screen
        assert isinstance(wallet, WalletScreen)
        pending = wallet.query_one("#list-pending", PagedTable)
        assert pending.total_rows == 1
        assert [row.reference for row in pending.page_rows] == ["D-8"]
        listed = shown_text(pending)
        assert "D-8" in listed
        assert "40.000000" in listed
        assert "4h" in listed  # 06:00 to the gateway's 10:00, not stale yet
        summary = shown_text(wallet.query_one("#wallet-summary", Static))
        # The gateway shows nothing pending; the records still hold D-8's 40 as pending.
        assert "1 pending item, sum 40.000000" in summary
        assert "gap to gateway pending -40.000000" in summary
        detail = shown_text(wallet.query_one("#record-detail"))
        assert "records.csv:10" in detail  # the header is line 1


async def test_a_stale_pending_item_is_flagged_against_the_gateway_clock(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_wallet("USDTERC20", WALLET_A)
        await settle(pilot)
        listed = shown_text(app.screen.query_one("#list-pending", PagedTable))
        assert "D-4" in listed
        assert "3d 2h ▲ stale" in listed


async def test_acknowledging_a_discrepancy_takes_it_out_of_the_open_count(
    make_app, notifications: Notifications
):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE, message_hook=notifications.hook) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DiscrepanciesScreen)
        assert screen.counts is not None
        # Open causes (8 errors), as `check` counts them, whichever list is shown.
        assert (screen.counts.errors, screen.counts.acknowledged) == (8, 0)
        await pilot.press("t")  # the discrepancies the causes explain
        await settle(pilot)
        findings = screen.query_one("#findings", PagedTable)
        assert findings.total_rows == 17
        fees = next(i for i, d in enumerate(findings.page_rows) if d["field"] == "total_fees_paid")
        findings.move_cursor(row=fees)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AcknowledgeDialog)
        await pilot.press(*"fees", "enter", "enter")
        await settle(pilot)

        assert app.screen is screen
        # Its one cause explains only it: acknowledging every echo closes the cause.
        assert (screen.counts.errors, screen.counts.acknowledged) == (7, 1)
        assert "10 open causes: ✖ 7 errors" in shown_text(screen.query_one("#findings-counts"))
        assert findings.page_rows[fees]["acknowledged"] is True
        assert any("no longer counts as open" in m for m in notifications.of("information"))

        await pilot.press("escape")
        await settle(pilot)
        status = shown_text(app.screen.query_one("#run-status"))
        assert "7 errors" in status
        assert "1 acknowledged" in status


async def test_an_acknowledgement_needs_a_note(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("a", "enter", "enter")
        dialog = app.screen
        assert isinstance(dialog, AcknowledgeDialog)
        assert "A note is required" in shown_text(dialog.query_one("#ack-problem"))
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DiscrepanciesScreen)
        assert app.screen.counts is not None
        assert app.screen.counts.acknowledged == 0


async def test_jumping_from_a_discrepancy_opens_its_wallet(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        await pilot.press("t")
        await settle(pilot)
        findings = screen.query_one("#findings", PagedTable)
        stale = next(i for i, d in enumerate(findings.page_rows) if d["kind"] == "stale_pending")
        findings.move_cursor(row=stale)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, WalletScreen)
        assert app.screen.wallet_id == WALLET_A


async def test_filters_narrow_the_list(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DiscrepanciesScreen)
        findings = screen.query_one("#findings", PagedTable)
        assert findings.total_rows == 11  # the causes first
        await pilot.press("t")
        await settle(pilot)
        assert findings.total_rows == 17
        screen.query_one("#filter-severity").value = "warning"
        await settle(pilot)
        assert findings.total_rows == 3
        await pilot.press("slash", *"D-7")
        await settle(pilot)
        assert [d["kind"] for d in findings.page_rows] == []  # D-7 is an error, not a warning
        await pilot.press("tab")  # out of the search box, so x clears rather than types
        await pilot.press("x")
        await settle(pilot)
        assert findings.total_rows == 17


async def test_a_refused_file_lists_each_bad_row_with_line_and_reason(
    make_app, scenario_db: Path, tmp_path: Path, notifications: Notifications
):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "reference,occurred_at,currency,wallet_id,type,amount,fee,status,tx_hash\n"
        f"B-1,2025-01-14T10:00:00Z,USDTERC20,{WALLET_A},deposit,10,0,confirmed,0x1\n"
        f"B-2,not-a-date,USDTERC20,{WALLET_A},deposit,10,0,confirmed,0x2\n"
        f"B-3,2025-01-14T11:00:00Z,USDTERC20,{WALLET_A},deposit,1.1234567,0,confirmed,0x3\n"
    )
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE, message_hook=notifications.hook) as pilot:
        await settle(pilot)
        await pilot.press("i")
        assert isinstance(app.screen, ImportScreen)
        app.screen.query_one("#csv-path").value = str(bad)  # as if typed
        await pilot.press("enter")
        await settle(pilot)
        preview = app.screen.query_one("#preview-table", FittedTable)
        parsed = [[str(cell) for cell in preview.get_row_at(r)] for r in range(preview.row_count)]
        assert [(row[0], row[1], row[2]) for row in parsed] == [
            ("2", "✔ ok", "B-1"),
            ("3", "✖ bad", ""),
            ("4", "✖ bad", ""),
        ]
        # Shown in its column when it fits whole, else told under the table for the row.
        problem = "occurred_at: 'not-a-date' is not a time (expected ISO 8601)"
        assert problem in parsed[1] or problem in preview.more_text(1).plain

        await pilot.press("ctrl+s")
        await settle(pilot)
        problems = app.screen.query_one("#problems-table", DataTable)
        rows = [
            (str(problems.get_cell_at((r, 0))), str(problems.get_cell_at((r, 1))))
            for r in range(problems.row_count)
        ]
        assert rows == [
            ("3", "occurred_at: 'not-a-date' is not a time (expected ISO 8601)"),
            (
                "4",
                "amount: 1.1234567 has more decimal places than USDTERC20 allows (6);"
                " it would need rounding",
            ),
        ]
        assert any("2 bad rows" in m for m in notifications.of("error"))

    with Workspace(scenario_settings(), db_path=scenario_db, clock=lambda: PAGE_CLOCK) as books:
        assert books.records(RecordFilter(), limit=0)[0] == 13  # nothing was imported


async def test_quarantine_imports_the_good_rows_and_rechecks(
    make_app, tmp_path: Path, notifications: Notifications
):
    bad = tmp_path / "more.csv"
    bad.write_text(
        "reference,occurred_at,currency,wallet_id,type,amount,fee,status,tx_hash\n"
        f"B-1,2025-01-14T10:00:00Z,USDTERC20,{WALLET_A},deposit,10,0,confirmed,0x1\n"
        f"B-2,not-a-date,USDTERC20,{WALLET_A},deposit,10,0,confirmed,0x2\n"
    )
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE, message_hook=notifications.hook) as pilot:
        await settle(pilot)
        await pilot.press("i")
        app.screen.query_one("#csv-path").value = str(bad)  # as if typed
        await pilot.press("tab", "tab", "space", "ctrl+s")
        await settle(pilot)
        problems = app.screen.query_one("#problems-table", DataTable)
        assert problems.row_count == 1
        assert str(problems.get_cell_at((0, 0))) == "3"
        assert any("Re-checked" in m for m in notifications.of("information"))
        await pilot.press("escape")
        await settle(pilot)
        assert "14 records" in shown_text(app.screen.query_one("#run-status"))


async def test_export_writes_the_file_and_says_how_many(
    make_app, tmp_path: Path, notifications: Notifications
):
    target = tmp_path / "out" / "findings.json"
    target.parent.mkdir()
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE, message_hook=notifications.hook) as pilot:
        await settle(pilot)
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        dialog.query_one("#export-path").value = str(target.with_suffix(".csv"))
        await pilot.press("tab", "down")  # into the format choice, JSON
        await pilot.press("space")
        await settle(pilot)
        assert dialog.fmt == "json"
        assert dialog.query_one("#export-path").value == str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, ExportDialog)

    document = json.loads(target.read_text())
    assert len(document["discrepancies"]) == 17
    assert (
        f"the report (17 discrepancies and their causes) written to {target}"
        in notifications.of("information")
    )


async def test_a_failed_refresh_is_a_notification_and_the_old_figures_stay(
    make_app, tmp_path: Path, notifications: Notifications
):
    config = tmp_path / "unreachable.toml"
    config.write_text(
        '[api]\nurl = "http://127.0.0.1:9"\ntoken = "test-token-not-secret"\n'
        "connect_timeout = 0.5\nread_timeout = 0.5\ndeadline = 2\nmax_attempts = 1\n"
        '[reconcile]\nlow_balance = { ETH = "1" }\n'
    )
    config.chmod(0o600)
    app: ReconcileApp = make_app(settings=load_settings(config, environ={}))
    async with app.run_test(size=SIZE, message_hook=notifications.hook) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        errors = notifications.of("error")
        assert len(errors) == 1
        assert "127.0.0.1:9" in errors[0]
        assert "Traceback" not in errors[0]
        assert app.refresh_problem == errors[0]
        assert not app.refreshing
        table = app.screen.query_one("#currencies", DataTable)
        assert table.row_count == 4  # the stored figures are still on screen
        assert not table.loading
        banner = shown_text(app.screen.query_one("#data-banner"))
        assert "refresh failed, showing the last stored snapshot" in banner


async def test_offline_refuses_to_refresh_and_says_so(make_app, notifications: Notifications):
    app: ReconcileApp = make_app(offline=True)
    async with app.run_test(size=SIZE, message_hook=notifications.hook) as pilot:
        await settle(pilot)
        assert "offline: last stored snapshot" in shown_text(app.screen.query_one("#data-banner"))
        await pilot.press("r")
        await settle(pilot)
        assert not app.refreshing
        assert any("Offline" in m for m in notifications.of("warning"))


async def test_an_empty_database_says_what_to_do_first(make_app, tmp_path: Path):
    app: ReconcileApp = make_app(db_path=tmp_path / "new.db")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = shown_text(app.screen.query_one("#empty-state"))
        assert "Nothing to reconcile yet" in text
        assert "press i" in text
        assert "press r" in text
        assert not app.screen.query_one("#currencies").display


async def test_a_damaged_database_is_a_notification_not_a_crash(
    make_app, tmp_path: Path, notifications: Notifications
):
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"this is not a database file" * 100)
    app: ReconcileApp = make_app(db_path=damaged)
    async with app.run_test(size=SIZE, message_hook=notifications.hook) as pilot:
        await settle(pilot)
        errors = notifications.of("error")
        assert len(errors) == 1
        assert str(damaged) in errors[0]
        assert app.is_running


async def test_an_unexpected_error_is_reported_as_a_bug(
    make_app, monkeypatch, notifications: Notifications
):
    def broken(workspace, **_options):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("reconcile_tui.tui.screens.overview.load_overview", broken)
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE, message_hook=notifications.hook) as pilot:
        await settle(pilot)
        errors = notifications.of("error")
        assert len(errors) == 1
        assert "ZeroDivisionError: boom" in errors[0]
        assert "bug" in errors[0]
        assert app.is_running


async def test_the_period_key_refetches_for_the_next_period(make_app, monkeypatch):
    asked: list[tuple[str | None, str | None, bool]] = []

    def fake_refresh(workspace, *, period, interval, refresh):
        asked.append((period, interval, refresh))
        raise ApiError("the test gateway is not there")

    monkeypatch.setattr("reconcile_tui.tui.app.refresh_and_check", fake_refresh)
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
    assert asked == [("30d", "daily", False), ("7d", "hourly", False)]


async def test_the_note_required_line_goes_once_a_note_is_typed(make_app):
    # It stayed on screen under the note that answered it.
    app: ReconcileApp = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("a", "ctrl+s")
        dialog = app.screen
        assert isinstance(dialog, AcknowledgeDialog)
        assert "A note is required" in shown_text(dialog.query_one("#ack-problem"))
        await pilot.press(*"bank agrees")
        await settle(pilot)
        assert shown_text(dialog.query_one("#ack-problem")).strip() == ""
        await pilot.press("escape")
