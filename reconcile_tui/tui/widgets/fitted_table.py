"""A table of figures whose columns are shown whole or not at all.

A column cut at the window's edge shows `297.` for 297.710766: an amount read in part is
a wrong amount (docs/tui.md, "Small terminals"). So this table is given every column, and
shows, left to right, those that fit whole in its width; the leading `keep` columns, which
name the row, always stay. What does not fit is told for the highlighted row on a line
under the table (`more`, a Static the screen places there), as `Label value · Label value`.
The table fits itself again when its width changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from rich.text import Text
from textual import on
from textual.css.query import NoMatches
from textual.widgets import DataTable, Static

from reconcile_tui.tui.widgets.row_keys import RowTable

__all__ = ["FittedTable", "Row", "fitting", "room_of", "width_of"]


class Row(NamedTuple):
    """A row: its key, a cell per column, and what names it on the line under the table
    (None: its last naming cell, such as the wallet or the bucket)."""

    key: str | None
    cells: list[Text]
    name: str | None = None


def width_of(label: str, cells: Sequence[Text]) -> int:
    """The width a column's content takes: its widest cell, heading included."""
    return max([Text(label).cell_len, *(cell.cell_len for cell in cells)])


def room_of(table: DataTable[Any]) -> int:
    """The cells a table's columns may take, its vertical scrollbar counted whether shown
    or not (rows added later may bring it), so a layout does not change with the page."""
    room = table.scrollable_content_region.width
    if not table.show_vertical_scrollbar:
        room -= table.styles.scrollbar_size_vertical
    return room


def fitting(widths: Sequence[int], room: int, keep: int, padding: int = 1) -> list[int]:
    """The columns (by position) shown in `room` cells: the first `keep` always, then each
    next one while it fits whole. Stops at the first that does not, so the columns shown
    are the leftmost, in the order the screen ranks them."""
    shown: list[int] = []
    used = 0
    for position, width in enumerate(widths):
        needed = width + 2 * padding
        if position >= keep and used + needed > room:
            break
        shown.append(position)
        used += needed
    return shown


class FittedTable(RowTable):
    """A row-cursor table of figures that never cuts a cell at its right edge."""

    def __init__(self, *, more: str, keep: int = 1, **options: Any) -> None:
        super().__init__(**options)
        #: The id of the Static that tells the highlighted row's columns left out.
        self.more_id = more
        self.keep = keep
        self._labels: list[str] = []
        self._rows: list[Row] = []
        self._shown: list[int] = []
        self._room = -1

    def fill(self, labels: Sequence[str], rows: Sequence[Row]) -> None:
        """Every column's label and every row; shows the columns that fit whole."""
        self._labels = list(labels)
        self._rows = list(rows)
        self._lay_out()

    def whole_row(self, row: int) -> dict[str, str]:
        """Every column's text of a row by label, shown or left out."""
        _key, cells, _name = self._rows[row]
        return {label: cells[i].plain for i, label in enumerate(self._labels)}

    @property
    def left_out(self) -> list[str]:
        """The labels of the columns not shown (they are told under the table)."""
        return [label for i, label in enumerate(self._labels) if i not in self._shown]

    def _lay_out(self) -> None:
        widths = [
            width_of(label, [row.cells[i] for row in self._rows])
            for i, label in enumerate(self._labels)
        ]
        self._room = room_of(self)
        self._shown = fitting(widths, self._room, self.keep, self.cell_padding)
        row = self.cursor_row
        self.clear(columns=True)
        for i in self._shown:
            self.add_column(self._labels[i], key=self._labels[i])
        for key, cells, _name in self._rows:
            self.add_row(*(cells[i] for i in self._shown), key=key)
        if self.row_count:
            self.move_cursor(row=min(max(row, 0), self.row_count - 1), animate=False)
        self._tell_more()

    def on_resize(self) -> None:
        if self._labels and room_of(self) != self._room:
            self._lay_out()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self:
            self._tell_more()

    def more_text(self, row: int) -> Text:
        """`Label value · Label value` for the row's columns not shown; empty if none."""
        if not 0 <= row < len(self._rows):
            return Text()
        _key, cells, name = self._rows[row]
        told = Text(no_wrap=False, end="")
        hidden = [
            i for i, _ in enumerate(self._labels) if i not in self._shown and cells[i].plain.strip()
        ]
        if not self.left_out or not hidden:
            return told  # nothing of the row is out of sight: no name over nothing
        told.append(name or cells[self.keep - 1].plain.strip(), style="bold")
        told.append(": ")
        first = True
        for i, label in enumerate(self._labels):
            if i in self._shown or not cells[i].plain.strip():
                continue
            if not first:
                told.append(" · ")
            first = False
            told.append(f"{label} ", style="dim")
            told.append_text(cells[i])
        return told

    def _tell_more(self) -> None:
        if not self.is_mounted:
            return
        try:
            more = self.screen.query_one(f"#{self.more_id}", Static)
        except NoMatches:  # the screen composes it after the table: nothing to tell yet
            return
        told = self.more_text(self.cursor_row)
        more.display = bool(self.left_out)
        more.update(told)
