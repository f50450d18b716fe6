"""A money cell is never cut: the wallet lists put amounts before text, and the tables of
figures show a column whole or leave it for the line under them (docs/tui.md, "Small
terminals")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.widgets import Static, TabbedContent

from reconcile_tui.reconcile.figures import BucketFigures, CurrencyFigures
from reconcile_tui.tui.app import ReconcileApp
from reconcile_tui.tui.cells import amount_cell, amount_text, drift_text
from reconcile_tui.tui.screens.currency import CurrencyScreen
from reconcile_tui.tui.widgets.balance_chart import BalanceChart
from reconcile_tui.tui.widgets.fitted_table import FittedTable, fitting
from reconcile_tui.tui.widgets.paged_table import PagedTable
from reconcile_tui.tui.widgets.record_detail import RecordDetail
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


async def test_a_column_that_does_not_fit_is_left_out_whole_and_its_value_is_below(make_app):
    # The tx hashes do not fit at 80 columns. The list used to scroll sideways, and a
    # step right cut the amount from the left: `224.000000` for 1,224.000000.
    app: ReconcileApp = make_app()
    async with app.run_test(size=SMALL) as pilot:
        table = await _all_records(app, pilot)
        assert table.max_scroll_x == 0
        await pilot.press("right", "right", "right")
        assert table.scroll_x == 0
        labels = [str(column.label) for column in table.ordered_columns]
        assert "Amount" in labels
        assert "Tx hash" not in labels
        assert table.columns_left_out == 1
        assert "1 column need more width" not in table.border_subtitle
        assert "1 column needs more width" in table.border_subtitle
        first = table.page_rows[0]
        assert first.reference in shown_text(table)
        assert first.tx_hash in shown_text(app.screen.query_one(RecordDetail))


def _whole(text: str | None, scale: int, shown: str) -> bool:
    """Whether an amount is on screen whole: between spaces, as a cell or after its label."""
    return text is None or f" {amount_text(text, scale)} " in f" {shown} "


async def _each_row_shows_its_figures_whole(
    pilot: Any, view: str, figures_of_rows: Callable[[CurrencyScreen], list[tuple[str | None, ...]]]
) -> None:
    """On the currency screen's `view` table, as a user moves down row by row: nothing runs
    past the edge, and each row's figures are whole in the row or on the line under it."""
    app = pilot.app
    await settle(pilot)
    app.open_currency("USDTERC20")
    await settle(pilot)
    await pilot.press(view[0])  # w: wallets, h: history
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, CurrencyScreen)
    assert screen.view is not None
    table = screen.query_one(f"#{view}-table", FittedTable)
    more = screen.query_one(f"#{view}-more", Static)
    assert table.max_scroll_x == 0  # no column runs past the edge, so none is cut
    scale = screen.view.figures.scale
    rows = figures_of_rows(screen)
    assert rows
    for row, figures in enumerate(rows):
        if row:
            await pilot.press("down")  # as a user moves, scrolling the row into view
        await settle(pilot)
        assert table.cursor_row == row
        cells = " ".join(cell.plain for cell in table.get_row_at(row))
        shown = cells + (" " + shown_text(more) if more.display else "")
        for figure in figures:
            assert _whole(figure, scale, shown), (row, figure, shown)


@pytest.mark.parametrize("size", [SMALL, (120, 40)])
async def test_every_figure_of_each_wallet_is_whole_in_the_table_or_under_it(make_app, size):
    # At 120 columns the last column used to be cut at the edge: `297.` for 297.710766.
    app: ReconcileApp = make_app()
    async with app.run_test(size=size) as pilot:
        await _each_row_shows_its_figures_whole(
            pilot,
            "wallet",
            lambda screen: [
                (w.api_available, w.records_available, w.api_pending, w.records_pending)
                for w in screen.view.figures.wallets  # type: ignore[union-attr]
            ],
        )


@pytest.mark.parametrize("size", [SMALL, (120, 40)])
async def test_every_figure_of_each_history_bucket_is_whole_in_the_table_or_under_it(
    make_app, size
):
    app: ReconcileApp = make_app()
    async with app.run_test(size=size) as pilot:
        await _each_row_shows_its_figures_whole(
            pilot,
            "history",
            lambda screen: [
                (
                    b.api_balance,
                    b.records_balance,
                    b.api_deposits,
                    b.records_deposits,
                    b.api_withdrawals,
                    b.records_withdrawals,
                )
                for b in screen.view.figures.buckets  # type: ignore[union-attr]
            ],
        )


def test_columns_are_shown_whole_or_not_at_all():
    # Widths 6 and 10 fit (8 + 12 cells with padding); 9 more would need 11 of the 5 left.
    assert fitting([6, 10, 9, 1], room=25, keep=1) == [0, 1]
    # A naming column is kept even where it does not fit; nothing after it then.
    assert fitting([30, 4], room=20, keep=1) == [0]
    assert fitting([3, 3, 3], room=15, keep=0) == [0, 1, 2]


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


@pytest.mark.parametrize("size", [SMALL, (120, 40)])
async def test_no_period_figure_runs_past_the_edge(make_app, scenario_db, size):
    app: ReconcileApp = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("slash", *"2025-01-09..2025-01-14", "enter")
        await settle(pilot)
        table = app.screen.query_one("#period-figures", FittedTable)
        assert table.row_count
        assert table.max_scroll_x == 0
        more = app.screen.query_one("#period-more", Static)
        # Told for the highlighted row, under the table: the first currency's records row
        # (its gateway row may have nothing to tell: no history covers the scenario's DOGE).
        await pilot.press("down")
        await settle(pilot)
        for label in table.left_out:
            assert label in shown_text(more)


async def test_wallets_are_named_by_their_whole_id_once_the_window_is_wide_enough(make_app):
    app: ReconcileApp = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_currency("USDTERC20")
        await settle(pilot)
        table = app.screen.query_one("#wallet-table", FittedTable)
        names = " ".join(table.get_row_at(row)[1].plain for row in range(table.row_count))
        assert WALLET_A not in names  # its first eight characters only
        await pilot.resize_terminal(170, 40)
        await settle(pilot)
        names = " ".join(table.get_row_at(row)[1].plain for row in range(table.row_count))
        assert WALLET_A in names


def _bucket(timestamp: str) -> BucketFigures:
    return BucketFigures(timestamp, "1", "0", "0", 0, 0, "2", "0", "0", 0, 0)


@pytest.mark.parametrize(
    ("first", "said"),
    [
        (None, None),
        ("2025-01-10T00:00:00Z", "drift from 2025-01-10"),
        # The history's first bucket: the books may have drifted before the fetched window.
        ("2025-01-09T00:00:00Z", "drift from 2025-01-09 or before (the history starts there)"),
    ],
)
def test_drift_names_its_day_and_says_when_it_may_be_older_than_the_history(first, said):
    figures = CurrencyFigures(
        "ETH", 6, "1", "1", "0", None, "2", "2", "0", 3, "-1", None, 1, 0, 0,
        buckets=[_bucket("2025-01-09T00:00:00Z"), _bucket("2025-01-10T00:00:00Z")],
        first_divergence=first,
    )  # fmt: skip
    assert drift_text(figures) == said
