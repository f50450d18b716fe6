"""Asking before a save replaces a file that exists (a drafted mapping, an export)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

__all__ = ["ReplaceFileDialog"]


class ReplaceFileDialog(ModalScreen[bool]):
    """Asks before a save replaces a file that exists; keeping it is the default."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "keep", "Keep it", id="replace.keep", tooltip="Write nothing."),
        Binding(
            "ctrl+s",
            "replace",
            "Replace",
            id="replace.confirm",
            tooltip="Replace the file with what is being saved.",
        ),
    ]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(id="replace-dialog", classes="dialog"):
            yield Static(
                Content.from_markup(
                    "[b]Replace $path?[/b]\nThe file exists; replacing it loses what it holds.",
                    path=str(self.path),
                ),
                id="replace-what",
            )
            with Horizontal(classes="buttons"):
                yield Button("Keep it", compact=True, id="replace-keep")
                yield Button("Replace", variant="error", compact=True, id="replace-confirm")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#replace-keep").focus()

    @on(Button.Pressed, "#replace-confirm")
    def action_replace(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#replace-keep")
    def action_keep(self) -> None:
        self.dismiss(False)
