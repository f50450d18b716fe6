"""At 80x24 the lists stay on screen and the cursor's row stays visible (docs/tui.md)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from reconcile_tui.tui.app import ReconcileApp
from reconcile_tui.tui.widgets.paged_table import PagedTable
from reconcile_tui.workspace import Workspace
from tests.conftest import PAGE_CLOCK, WALLET_A
from tests.tui.conftest import scenario_settings, settle

SMALL = (80, 24)
#: The note `reconcile-tui demo` shows: three lines at 80 columns unless condensed.
DEMO_NOTE = (
    "sandbox gateway at http://127.0.0.1:37761 · sample scenario: seed 2025, 400 gateway"
    " transactions,"
    " 10 planted mistakes"
)


def _row_is_drawn(table: PagedTable[Any], row: int) -> bool:
    """Whether the screen draws this row of the table: the table is what shows at the
    row's place (not a widget over it, not below the terminal's last line)."""
    y = table.region.y + 1 + table.header_height + row - round(table.scroll_offset.y)
    if not table.region.y <= y < table.region.bottom - 1:
        return False
    if y >= table.screen.size.height:
        return False
    return table.screen.get_widget_at(table.region.x + 2, y)[0] is table


def _rows_on_screen(table: PagedTable[Any]) -> int:
    """How many lines for data rows the screen gives the table (filled or not)."""
    first = table.region.y + 1 + table.header_height
    lines = range(first, table.region.bottom - 1)
    height = table.screen.size.height
    return sum(
        1
        for y in lines
        if y < height and table.screen.get_widget_at(table.region.x + 2, y)[0] is table
    )


async def test_a_wallets_pending_items_are_on_screen_at_80x24(make_app):
    app: ReconcileApp = make_app(demo_note=DEMO_NOTE)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.open_wallet("USDTERC20", WALLET_A)
        await settle(pilot)
        pending = app.screen.query_one("#list-pending", PagedTable)
        assert _rows_on_screen(pending) >= 4
        assert pending.has_focus
        assert _row_is_drawn(pending, pending.cursor_row)


def _more_records(db_path: Path, count: int) -> None:
    """`count` more confirmed deposits into wallet A, imported and checked."""
    folder = db_path.parent
    lines = ["reference,occurred_at,currency,wallet_id,type,amount,fee,status,tx_hash"]
    lines += [
        f"M-{n:03},2025-01-14T{n % 24:02}:00:00Z,USDTERC20,{WALLET_A},"
        f"deposit,1.5,0,confirmed,0xm{n}"
        for n in range(count)
    ]
    (folder / "more.csv").write_text("\n".join(lines) + "\n")
    with (
        contextlib.chdir(folder),
        Workspace(scenario_settings(), db_path=db_path, clock=lambda: PAGE_CLOCK) as workspace,
    ):
        workspace.import_files([Path("more.csv")])
        snapshot_id, snapshot = workspace.latest_snapshot()
        workspace.check(snapshot_id, snapshot)


async def test_the_cursor_row_stays_on_screen_at_80x24(make_app, scenario_db):
    _more_records(scenario_db, 30)
    app: ReconcileApp = make_app(demo_note=DEMO_NOTE)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.open_wallet("USDTERC20", WALLET_A)
        await settle(pilot)
        for _ in range(4):  # to "All records"
            await pilot.press("v")
            await settle(pilot)
        records = app.screen.query_one("#list-records", PagedTable)
        assert records.has_focus
        assert records.total_rows > _rows_on_screen(records) > 0
        for _ in range(records.total_rows - 1):
            await pilot.press("down")
        await settle(pilot)
        current = records.current_row
        assert current is not None
        assert current.reference == records.page_rows[-1].reference
        assert _row_is_drawn(records, records.cursor_row)


async def test_the_four_filters_of_the_causes_are_whole_at_80_columns(make_app):
    # The state filter used to run past the right edge, its arrow cut off.
    app: ReconcileApp = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        for name in ("kind", "currency", "severity", "state"):
            select = app.screen.query_one(f"#filter-{name}")
            assert select.region.width >= 15, name
            assert select.region.right <= SMALL[0], name


def _widest(table: PagedTable[Any], column: int) -> int:
    """The widest cell of a column on the table's page."""
    return max(table.get_row_at(row)[column].cell_len for row in range(table.row_count))


def _drawn_width(table: PagedTable[Any], position: int) -> int:
    """How wide the table draws a column's cells (without padding)."""
    column = table.ordered_columns[position]
    return column.content_width if column.auto_width else column.width


async def test_the_causes_take_the_room_a_wider_terminal_gives_on_the_same_row(make_app):
    # Opened at 80 columns and widened, the list kept its narrow columns and cut every
    # long kind ("Repeated referen") beside forty empty columns.
    app: ReconcileApp = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        table = app.screen.query_one("#findings", PagedTable)
        await pilot.press("end")
        await settle(pilot)
        last = table.current_row
        labels = [column.label.plain for column in table.ordered_columns]
        assert "Gateway id" not in labels
        # At 80 columns the amount is whole: the kind gives way, told in full below.
        amount = labels.index("Amount")
        assert _drawn_width(table, amount) >= _widest(table, amount)

        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        labels = [column.label.plain for column in table.ordered_columns]
        assert "Gateway id" in labels
        assert table.current_row == last
        for position, column in enumerate(table.ordered_columns):
            if column.label.plain in {"Kind", "Reference", "Amount", "Wallet"}:
                assert _drawn_width(table, position) >= _widest(table, position), column.label
