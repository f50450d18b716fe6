"""The help screen: every key of the screen it was opened on, and how the data stays current."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from reconcile_tui.tui.cells import Look

__all__ = ["GUIDE", "HelpDialog", "key_rows"]

GUIDE = """\
Where the figures come from
  The app opens on the last check stored in the database, at once and without the network;
  the line under the title says when the gateway data was fetched, from where, and whether
  it is a stored snapshot. Refresh fetches balances and history from the gateway, stores
  them, and re-checks; if the gateway cannot be reached the stored figures stay on screen
  and a notification says why. Opened offline (the status line says so), the app
  never fetches and refresh explains why.
  Importing records re-runs the check against the latest stored snapshot.

Markers
  ✖ error   ▲ warning   ☑ acknowledged   ✔ clean   ⚑ first diverging history bucket
  Differences are gateway minus records: positive means the gateway holds more.

Everywhere
  tab / shift+tab move between fields and tables; arrows, PageUp/PageDown, Home/End move
  in a table (long lists fetch the next page as you go); ctrl+p opens the command palette
  with every action of the current screen by name; ctrl+q or q quits.
"""


def key_rows(screen: Screen[Any]) -> list[tuple[str, str, str]]:
    """(key, action, what it does) for every named binding active on `screen`."""
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    app = screen.app
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description or binding.system or not (binding.show or binding.id):
            continue
        if binding.action in seen:  # one line per action, even with several keys
            continue
        seen.add(binding.action)
        shown = app.get_key_display(binding) or key
        rows.append((shown, binding.description, active.tooltip or binding.tooltip))
    return rows


class HelpDialog(ModalScreen[None]):
    """Keys of the screen underneath, then a short guide."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,question_mark,f1,q",
            "close",
            "Close",
            id="help.close",
            tooltip="Close the help.",
        ),
    ]

    def __init__(self, screen: Screen[Any]) -> None:
        super().__init__()
        self.rows = key_rows(screen)
        self.screen_name = screen.sub_title or type(screen).__name__

    def compose(self) -> ComposeResult:
        look = Look.from_app(self.app)
        table = Table(box=None, padding=(0, 1), expand=True, show_header=False)
        table.add_column("Key", style=look.accent, no_wrap=True)
        table.add_column("Action", style=look.strong, no_wrap=True)
        table.add_column("What it does", ratio=1)
        for key, action, tooltip in self.rows:
            table.add_row(key, action, tooltip)
        with Vertical(id="help-dialog", classes="dialog"):
            yield Static(Text(f"Keys · {self.screen_name}", style=look.strong))
            with VerticalScroll(id="help-body"):
                yield Static(table)
                yield Static(Text(GUIDE, style=look.muted), id="help-guide")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
