"""The drafted mapping for a file: read it, save it (asking before replacing a file), use it.

The draft itself is `reconcile-tui mapping draft`'s (docs/mapping.md, "Drafting a
mapping"); this dialog only shows it and writes it where the user says.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static, TextArea
from textual.worker import Worker, WorkerState

from reconcile_tui.files import write_atomically
from reconcile_tui.tui.dialogs.replace_file import ReplaceFileDialog
from reconcile_tui.tui.failures import report_failure

__all__ = ["MappingDraftDialog", "ReplaceFileDialog", "default_mapping_path"]


def default_mapping_path(csv_path: Path) -> Path:
    """`exports/march.csv` → `exports/march.mapping.toml`: next to the file it describes."""
    return csv_path.with_name(f"{csv_path.stem}.mapping.toml")


class MappingDraftDialog(ModalScreen[Path | None]):
    """The proposed TOML, read-only; dismissed with the saved file's absolute path."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "cancel",
            "Cancel",
            id="draft.cancel",
            tooltip="Close; nothing is saved and the import's mapping stays as it was.",
        ),
        Binding(
            "ctrl+s",
            "save",
            "Save and use",
            id="draft.save",
            tooltip="Write the mapping to the file named (asks before replacing one), then"
            " preview the import with it.",
        ),
    ]

    class Saved(Message):
        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    class Exists(Message):
        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def __init__(self, csv_path: Path, text: str) -> None:
        super().__init__()
        self.csv_path = csv_path
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="draft-dialog", classes="dialog"):
            yield Static(
                Content.from_markup(
                    "[b]Drafted mapping[/b]: check every line, the comments say what to check."
                ),
                id="draft-what",
            )
            text = TextArea(
                self.text, read_only=True, show_line_numbers=True, soft_wrap=True, id="draft-text"
            )
            text.border_title = f"Drafted from {self.csv_path.name}"
            text.border_subtitle = "read-only · ↑ ↓ PageUp PageDown scroll"
            yield text
            with Horizontal(classes="field"):
                yield Label("Save as ", classes="field-label")
                yield Input(
                    value=str(default_mapping_path(self.csv_path)), compact=True, id="draft-path"
                )
            with Horizontal(classes="buttons"):
                yield Button("Save and use", variant="primary", compact=True, id="draft-save")
                yield Button("Cancel", compact=True, id="draft-cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#draft-text").focus()

    @on(Input.Submitted, "#draft-path")
    @on(Button.Pressed, "#draft-save")
    def action_save(self) -> None:
        self._save_to(replace=False)

    def _save_to(self, *, replace: bool) -> None:
        text = self.query_one("#draft-path", Input).value.strip()
        if not text:
            self.notify("Give the file to save the mapping to.", severity="warning", markup=False)
            self.query_one("#draft-path").focus()
            return
        self._write(Path(text).expanduser(), replace)

    @work(thread=True, exclusive=True, exit_on_error=False, group="draft-save")
    def _write(self, path: Path, replace: bool) -> None:
        if not replace and path.exists():
            self.post_message(self.Exists(path))
            return
        write_atomically(path, self.text.encode("utf-8"))
        self.post_message(self.Saved(path.resolve()))

    @on(Exists)
    def _exists(self, message: Exists) -> None:
        def answered(replace: bool | None) -> None:
            if replace:
                self._write(message.path, True)

        self.app.push_screen(ReplaceFileDialog(message.path), answered)

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.notify(
            f"Mapping saved to {message.path}; the preview below uses it.",
            title="Mapping saved",
            markup=False,
        )
        self.dismiss(message.path)

    @on(Worker.StateChanged)
    def _worker_ended(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            report_failure(self, event)

    @on(Button.Pressed, "#draft-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
