"""Home and End on a table of rows held whole: the first row and the last.

Textual's DataTable gives Home and End to scrolling sideways, which a row-cursor table of
figures never needs (its columns fit whole: widgets/fitted_table.py), so the keys did
nothing a user could see. The paged lists give them the same meaning with the same ids
(`table.first`, `table.last`), so one keymap entry rebinds both (docs/tui.md, "Keys").
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

__all__ = ["RowTable"]


class RowTable(DataTable[Text]):
    """A row-cursor table where Home and End go to the first and the last row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "home",
            "first_row",
            "First row",
            show=False,
            id="table.first",
            tooltip="Jump to the first row.",
        ),
        Binding(
            "end",
            "last_row",
            "Last row",
            show=False,
            id="table.last",
            tooltip="Jump to the last row.",
        ),
    ]

    def __init__(self, **options: Any) -> None:
        options.setdefault("cursor_type", "row")
        super().__init__(**options)

    def action_first_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_last_row(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)
