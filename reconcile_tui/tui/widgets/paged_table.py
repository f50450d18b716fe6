"""A table that holds one page of a large query and fetches the neighbouring pages on demand.

A million records never enter a widget: the table keeps `page_size` rows, and moving
past either end (cursor keys, PageUp/PageDown, Home/End) asks the database for the next
page through `offset/limit` in an exclusive worker. Each page request carries a token,
so a slow answer that was overtaken by a newer request is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeVar

from rich.text import Text
from textual import on, work
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState

from reconcile_tui.tui.access import access_of
from reconcile_tui.tui.cells import Look
from reconcile_tui.tui.failures import report_failure
from reconcile_tui.tui.widgets.fitted_table import fitting, room_of, width_of

if TYPE_CHECKING:
    from reconcile_tui.workspace import Workspace

__all__ = ["Column", "PageSource", "PagedTable", "column_widths"]

RowT = TypeVar("RowT")
Cursor = Literal["first", "last", "keep"]


@dataclass(frozen=True)
class Column:
    """A column: its label, optionally the width it gives way to when the page's rows do
    not fit whole, and whether it stays in view while the table scrolls sideways (only
    leading columns can)."""

    label: str
    width: int | None = None
    pinned: bool = False


def column_widths(natural: Sequence[int], caps: Sequence[int | None], room: int) -> list[int]:
    """Each column's width: its content's (`natural`) when the columns fit whole in `room`
    (padding included); otherwise the columns with a cap give way to it, and take back
    what room is left, left to right."""
    if sum(natural) <= room:
        return list(natural)
    widths = [
        width if cap is None else min(width, cap) for width, cap in zip(natural, caps, strict=True)
    ]
    spare = room - sum(widths)
    for position, cap in enumerate(caps):
        if cap is None or spare <= 0:
            continue
        grown = min(natural[position] - widths[position], spare)
        widths[position] += grown
        spare -= grown
    return widths


class PageSource(Protocol[RowT]):
    """Where a table's rows come from and how each row looks."""

    @property
    def empty_text(self) -> str:
        """Shown in the table while nothing matches."""
        ...

    def columns(self) -> Sequence[Column]: ...

    def fetch(self, workspace: Workspace, offset: int, limit: int) -> tuple[int, list[RowT]]:
        """(total rows matching, the page at offset). Runs in a worker thread."""
        ...

    def cells(self, row: RowT, look: Look) -> Sequence[Text]: ...


class PagedTable(DataTable[Text], Generic[RowT]):
    """One page of rows from a `PageSource`, with position shown in the frame."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "home",
            "first_page",
            "First row",
            show=False,
            id="table.first",
            tooltip="Jump to the first row (fetches the first page).",
        ),
        Binding(
            "end",
            "last_page",
            "Last row",
            show=False,
            id="table.last",
            tooltip="Jump to the last row (fetches the last page).",
        ),
    ]

    class _TableMessage(Message):
        """A message about one table: `control` names it, so `@on(..., "#id")` works."""

        def __init__(self, table: PagedTable[Any]) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> PagedTable[Any]:
            return self.table

    class RowFocused(_TableMessage):
        """The cursor rests on a row (None when the table is empty)."""

        def __init__(self, table: PagedTable[Any], row: Any | None) -> None:
            super().__init__(table)
            self.row = row

    class RowChosen(_TableMessage):
        """Enter was pressed on a row."""

        def __init__(self, table: PagedTable[Any], row: Any) -> None:
            super().__init__(table)
            self.row = row

    class PageShown(_TableMessage):
        """A page arrived: how many rows match in all."""

        def __init__(self, table: PagedTable[Any], total: int) -> None:
            super().__init__(table)
            self.total_rows = total

    class _PageArrived(Message):
        def __init__(
            self, token: int, total: int, offset: int, rows: list[Any], cursor: Cursor
        ) -> None:
            super().__init__()
            self.token = token
            self.total = total
            self.offset = offset
            self.rows = rows
            self.cursor = cursor

    def __init__(
        self,
        source: PageSource[RowT] | None = None,
        *,
        title: str = "",
        page_size: int = 100,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            id=id, classes=classes, cursor_type="row", zebra_stripes=True, cell_padding=1
        )
        self.source = source
        self.page_size = page_size
        self.page_offset = 0
        self.total_rows = 0
        self.page_rows: list[RowT] = []
        self._token = 0
        self._wanted_row = 0
        self._laid_out_for = -1
        #: Columns the room could not hold whole (`_lay_out`).
        self.columns_left_out = 0
        self.border_title = title
        self.loaded = False

    # -- public ------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._show_rows())
        if self.source is not None:
            self.show_source(self.source)

    def show_source(self, source: PageSource[RowT]) -> None:
        """Show another query (a new filter), from its first row."""
        self.source = source
        self._lay_out([])
        self._request(0, "first")

    def change_source(self, source: PageSource[RowT]) -> None:
        """Show the same query another way (other columns): the page in hand, laid out
        again on the same row, with nothing fetched."""
        self.source = source
        self._show_rows()

    def reload(self) -> None:
        """Fetch the current page again (after an acknowledgement, a refresh)."""
        if self.source is not None:
            self._request(self.page_offset, "keep")

    @property
    def current_row(self) -> RowT | None:
        if not self.page_rows or not 0 <= self.cursor_row < len(self.page_rows):
            return None
        return self.page_rows[self.cursor_row]

    @property
    def position_text(self) -> str:
        if not self.total_rows:
            return self.source.empty_text if self.source is not None else "none"
        first = self.page_offset + 1
        last = self.page_offset + len(self.page_rows)
        hidden = self.columns_left_out
        needs = "columns need" if hidden != 1 else "column needs"
        narrow = f" · {hidden} {needs} more width" if hidden else ""
        return f"{first:,}–{last:,} of {self.total_rows:,}{narrow}"

    # -- fetching ----------------------------------------------------------------------

    def _request(self, offset: int, cursor: Cursor) -> None:
        assert self.source is not None
        self._token += 1
        self._wanted_row = self.cursor_row
        if not self.loaded:
            self.loading = True
        else:
            self.border_subtitle = f"{self.position_text} · loading…"
        self._fetch(self.source, max(0, offset), self._token, cursor)

    @work(thread=True, exclusive=True, exit_on_error=False, group="page")
    def _fetch(self, source: PageSource[RowT], offset: int, token: int, cursor: Cursor) -> None:
        with access_of(self.app).open() as workspace:
            total, rows = source.fetch(workspace, offset, self.page_size)
        self.post_message(self._PageArrived(token, total, offset, rows, cursor))

    @on(_PageArrived)
    def _page_arrived(self, message: _PageArrived) -> None:
        message.stop()
        if message.token != self._token:
            return  # overtaken by a newer request
        if not message.rows and message.offset > 0 and message.total > 0:
            # The rows shrank under us (a filter, an acknowledgement): show the last page.
            last = ((message.total - 1) // self.page_size) * self.page_size
            self._request(last, "last")
            return
        self.loaded = True
        self.loading = False
        self.page_offset = message.offset
        self.total_rows = message.total
        self.page_rows = list(message.rows)
        self._show_rows()
        if message.cursor == "first":
            target = 0
        elif message.cursor == "last":
            target = len(self.page_rows) - 1
        else:
            target = min(self._wanted_row, len(self.page_rows) - 1)
        self.move_cursor(row=max(0, target), animate=False)
        self.post_message(self.PageShown(self, self.total_rows))
        self.post_message(self.RowFocused(self, self.current_row))

    def _lay_out(self, rows: list[Sequence[Text]]) -> None:
        """The columns, each as wide as the page's rows need or as the room allows
        (`column_widths`), then the rows; the cursor stays on its row."""
        assert self.source is not None
        columns = self.source.columns()
        padding = 2 * self.cell_padding
        natural = [
            width_of(column.label, [row[i] for row in rows]) + padding
            for i, column in enumerate(columns)
        ]
        caps = [None if column.width is None else column.width + padding for column in columns]
        self._laid_out_for = room_of(self)
        widths = column_widths(natural, caps, self._laid_out_for)
        pinned = 0
        while pinned < len(columns) and columns[pinned].pinned:
            pinned += 1
        # Columns that still do not fit (amounts never give way) are left out whole, the
        # rightmost first: scrolled or cut at the edge, `1,224.000000` read `224.000000`
        # (docs/tui.md, "Small terminals"). The frame says how many are left out.
        shown = fitting([width - padding for width in widths], self._laid_out_for,
                        max(pinned, 1), self.cell_padding)  # fmt: skip
        self.columns_left_out = len(columns) - len(shown)
        cursor = self.cursor_row
        self.clear(columns=True)
        for position in shown:
            self.add_column(columns[position].label, width=widths[position] - padding)
        self.fixed_columns = min(pinned, len(shown))
        for index, cells in enumerate(rows):
            self.add_row(
                *(cells[position] for position in shown), key=str(self.page_offset + index)
            )
        if rows:
            self.move_cursor(row=min(max(cursor, 0), len(rows) - 1), animate=False)

    def _show_rows(self) -> None:
        if self.source is None or not self.is_mounted:
            return
        look = Look.from_app(self.app)
        # Nothing matches: the frame says so (`position_text`); a row holding the text
        # would widen its column and pull the header out of line (docs/tui.md).
        self._lay_out([self.source.cells(row, look) for row in self.page_rows])
        self.border_subtitle = self.position_text

    def on_resize(self) -> None:
        if self.loaded and room_of(self) != self._laid_out_for:
            self._show_rows()

    @on(Worker.StateChanged)
    def _worker_ended(self, event: Worker.StateChanged) -> None:
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.loading = False
        report_failure(self, event)

    # -- moving past the page ----------------------------------------------------------

    @property
    def _has_next(self) -> bool:
        return self.page_offset + len(self.page_rows) < self.total_rows

    def action_cursor_down(self) -> None:
        if self.page_rows and self.cursor_row >= len(self.page_rows) - 1 and self._has_next:
            self._request(self.page_offset + len(self.page_rows), "first")
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.cursor_row == 0 and self.page_offset > 0:
            self._request(self.page_offset - self.page_size, "last")
        else:
            super().action_cursor_up()

    def action_page_down(self) -> None:
        if self.page_rows and self.cursor_row >= len(self.page_rows) - 1 and self._has_next:
            self._request(self.page_offset + len(self.page_rows), "first")
        else:
            super().action_page_down()

    def action_page_up(self) -> None:
        if self.cursor_row == 0 and self.page_offset > 0:
            self._request(self.page_offset - self.page_size, "last")
        else:
            super().action_page_up()

    def action_first_page(self) -> None:
        if self.page_offset == 0:
            self.move_cursor(row=0)
        elif self.source is not None:
            self._request(0, "first")

    def action_last_page(self) -> None:
        if not self._has_next:
            self.move_cursor(row=max(0, len(self.page_rows) - 1))
        elif self.source is not None:
            last = ((self.total_rows - 1) // self.page_size) * self.page_size
            self._request(last, "last")

    # -- telling the screen --------------------------------------------------------------

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self:
            self.post_message(self.RowFocused(self, self.current_row))

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table is self and (row := self.current_row) is not None:
            self.post_message(self.RowChosen(self, row))
