"""Large lists stay responsive: a table holds one page and fetches its neighbours on demand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen

from reconcile_tui.tui.app import ReconcileApp
from reconcile_tui.tui.cells import Look
from reconcile_tui.tui.widgets.paged_table import Column, PagedTable
from reconcile_tui.workspace import Workspace
from tests.tui.conftest import settle

MILLION = 1_000_000


@dataclass
class CountingSource:
    """A million numbered rows; remembers every (offset, limit) it was asked for."""

    asked: list[tuple[int, int]] = field(default_factory=list)
    empty_text: str = "none"

    def columns(self) -> Sequence[Column]:
        return (Column("Row"),)

    def fetch(self, workspace: Workspace, offset: int, limit: int) -> tuple[int, list[int]]:
        self.asked.append((offset, limit))
        return MILLION, list(range(offset, min(offset + limit, MILLION)))

    def cells(self, row: int, look: Look) -> Sequence[Text]:
        return (Text(f"row {row:,}"),)


class BigList(Screen[None]):
    def __init__(self, source: CountingSource) -> None:
        super().__init__()
        self.source = source

    def compose(self) -> ComposeResult:
        yield PagedTable[int](self.source, id="big", title="A million rows")


async def test_a_million_rows_are_paged_not_loaded(make_app):
    source = CountingSource()
    app: ReconcileApp = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await app.push_screen(BigList(source))
        await settle(pilot)
        table = app.screen.query_one("#big", PagedTable)
        table.focus()
        assert (table.row_count, table.total_rows) == (100, MILLION)
        assert table.border_subtitle == "1–100 of 1,000,000"

        await pilot.press("end")
        await settle(pilot)
        assert table.page_offset == 999_900
        assert table.current_row == MILLION - 1

        await pilot.press("home")
        await settle(pilot)
        assert (table.page_offset, table.current_row) == (0, 0)

        table.move_cursor(row=99)
        await pilot.press("down")
        await settle(pilot)
        assert (table.page_offset, table.current_row) == (100, 100)

        await pilot.press("up")
        await settle(pilot)
        assert (table.page_offset, table.current_row) == (0, 99)

        await pilot.press("pagedown")
        await settle(pilot)
        assert (table.page_offset, table.current_row) == (100, 100)

    # Only pages were ever asked for, never the whole list.
    assert all(limit == 100 for _, limit in source.asked)
    assert [offset for offset, _ in source.asked] == [0, 999_900, 0, 100, 0, 100]
