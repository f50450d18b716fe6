"""At 80x24 a money cell is never cut, and the columns naming a row stay in view while a
wide table scrolls sideways (docs/tui.md, "Small terminals")."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, TabbedContent

from reconcile_tui.tui.app import ReconcileApp
from reconcile_tui.tui.cells import amount_cell
from reconcile_tui.tui.widgets.balance_chart import BalanceChart
from reconcile_tui.tui.widgets.paged_table import PagedTable
from tests.conftest import WALLET_A
from tests.tui.conftest import settle, shown_text

SMALL = (80, 24)


async def _all_records(app: ReconcileApp, pilot: Any) -> PagedTable[Any]:
    await settle(pilot)
    app.open_wallet("USDTERC20", WALLET_A)
    await settle(pilot)
    app.screen.query_one("#wallet-lists", TabbedContent).active = "records"
    await settle(pilot)
    table = app.screen.query_one("#list-records", PagedTable)
    assert table.page_rows
    return table


async def test_amount_and_fee_are_drawn_whole_in_all_records_at_80x24(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SMALL) as pilot:
        table = await _all_records(app, pilot)
        shown = shown_text(table)
        scale = table.source.scale  # type: ignore[union-attr]
        visible = table.page_rows[: max(1, table.scrollable_content_region.height - 2)]
        for row in visible:
            assert f" {amount_cell(row.amount, scale).plain} " in f" {shown} "
            assert f" {amount_cell(row.fee, scale).plain} " in f" {shown} "


async def test_the_reference_stays_when_all_records_scroll_right(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SMALL) as pilot:
        table = await _all_records(app, pilot)
        assert table.max_scroll_x > 0  # the tx hashes do not fit at 80 columns
        table.scroll_to(x=table.max_scroll_x, animate=False)
        await settle(pilot)
        shown = shown_text(table)
        first = table.page_rows[0]
        assert first.reference in shown
        assert first.tx_hash in shown


async def test_status_and_wallet_stay_when_the_wallets_scroll_right(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.open_currency("USDTERC20")
        await settle(pilot)
        table = app.screen.query_one("#wallet-table", DataTable)
        assert table.max_scroll_x > 0
        table.scroll_to(x=table.max_scroll_x, animate=False)
        await settle(pilot)
        shown = shown_text(table)
        assert "Status" in shown
        assert "Wallet" in shown
        assert "Records" in shown.split("Wallet", 1)[1]  # the last column, scrolled into view


async def test_the_chart_gets_the_rows_and_separated_labels_at_80x24(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.open_currency("USDTERC20")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        chart = app.screen.query_one(BalanceChart)
        assert not app.screen.query_one("#currency-summary").display
        assert chart.size.height >= 15
        shown = shown_text(chart)
        assert "━ gateway ━ records █ deposits █ withdrawals" in shown
        assert "," in shown.split("withdrawals", 1)[1]  # axis labels like 12,000
