"""Exporting the latest check's causes and discrepancies to a CSV or JSON file, for auditors."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, RadioButton, RadioSet, Static
from textual.worker import Worker, WorkerState

from reconcile_tui.tui.access import access_of
from reconcile_tui.tui.dialogs.replace_file import ReplaceFileDialog
from reconcile_tui.tui.failures import report_failure

__all__ = ["ExportDialog", "default_export_name"]

FORMATS = ("csv", "json")


def default_export_name(now: datetime, fmt: str = "csv") -> str:
    return f"reconciliation-{now:%Y-%m-%d}.{fmt}"


class ExportDialog(ModalScreen[None]):
    """Where to write, CSV or JSON; a notification says how many were written, and the
    file's absolute path. An existing file is replaced only when the user says so."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="export.cancel", tooltip="Close, write nothing."),
        Binding(
            "ctrl+s",
            "export",
            "Export",
            id="export.write",
            tooltip="Write the file (asks before replacing one that exists).",
        ),
    ]

    class Written(Message):
        def __init__(self, path: Path, count: int) -> None:
            super().__init__()
            self.path = path
            self.count = count

    class Exists(Message):
        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    def __init__(self, now: datetime) -> None:
        super().__init__()
        self.now = now

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog", classes="dialog"):
            yield Static(
                Content.from_markup(
                    "[b]Export causes and discrepancies[/b]\nEvery cause of the latest check and"
                    " every discrepancy it explains, with who acknowledged it, when and why."
                )
            )
            yield Label("File")
            yield Input(value=default_export_name(self.now), compact=True, id="export-path")
            yield Label("Format")
            with RadioSet(id="export-format", compact=True):
                yield RadioButton("CSV (spreadsheets)", value=True, id="format-csv")
                yield RadioButton("JSON (report schema)", id="format-json")
            with Horizontal(classes="buttons"):
                yield Button("Export", variant="primary", compact=True, id="export-write")
                yield Button("Cancel", compact=True, id="export-cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#export-path").focus()

    @property
    def fmt(self) -> str:
        pressed = self.query_one(RadioSet).pressed_button
        return "json" if pressed is not None and pressed.id == "format-json" else "csv"

    @on(RadioSet.Changed)
    def _format_changed(self) -> None:
        path_input = self.query_one("#export-path", Input)
        path = Path(path_input.value)
        if path.suffix.lstrip(".") in FORMATS:
            path_input.value = str(path.with_suffix(f".{self.fmt}"))

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#export-write")
    def action_export(self) -> None:
        text = self.query_one("#export-path", Input).value.strip()
        if not text:
            self.notify("Give a file to write.", severity="warning", markup=False)
            return
        self.query_one("#export-dialog").loading = True
        self._write(Path(text).expanduser(), self.fmt, replace=False)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def _write(self, path: Path, fmt: str, *, replace: bool) -> None:
        # The default name is the day's: a second export that day must not silently
        # replace the first one an auditor may already hold (docs/tui.md, "Export").
        if not replace and path.exists():
            self.post_message(self.Exists(path.resolve()))
            return
        with access_of(self.app).open() as workspace:
            # Auditors get both: each cause, and the discrepancies behind it (docs/report.md).
            count = workspace.export(path, fmt, discrepancies=True)
        self.post_message(self.Written(path.resolve(), count))

    @on(Exists)
    def _exists(self, message: Exists) -> None:
        fmt = self.fmt

        def answered(replace: bool | None) -> None:
            if replace:
                self._write(message.path, fmt, replace=True)
            else:
                self.query_one("#export-dialog").loading = False
                self.query_one("#export-path").focus()

        self.app.push_screen(ReplaceFileDialog(message.path), answered)

    @on(Written)
    def _written(self, message: Written) -> None:
        self.notify(
            f"{message.count} rows written to {message.path}"
            if message.path.suffix == ".csv"
            else f"the report ({message.count} discrepancies and their causes) written to"
            f" {message.path}",
            title="Exported",
            markup=False,
        )
        self.dismiss(None)

    @on(Worker.StateChanged)
    def _worker_ended(self, event: Worker.StateChanged) -> None:
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.query_one("#export-dialog").loading = False
        report_failure(self, event)

    @on(Button.Pressed, "#export-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
