"""Importing a CSV of the merchant's records: preview, import with progress, see rejects."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import (
    Button,
    Checkbox,
    ContentSwitcher,
    DataTable,
    Input,
    Label,
    ProgressBar,
    Static,
)
from textual.worker import Worker, WorkerState

from reconcile_tui.errors import BadFile, RowProblem
from reconcile_tui.ingest.draft import draft_mapping
from reconcile_tui.ingest.importer import ImportCancelled, ImportProgress
from reconcile_tui.ingest.preview import Preview
from reconcile_tui.tui.access import access_of
from reconcile_tui.tui.cells import ERROR, MATCHED, Look, amount_cell, plain, short_time
from reconcile_tui.tui.checking import ImportOutcome, check_latest
from reconcile_tui.tui.dialogs.mapping_draft import MappingDraftDialog
from reconcile_tui.tui.failures import failure_message, report_failure
from reconcile_tui.tui.screens.base import ReconcileScreen
from reconcile_tui.tui.widgets.fitted_table import FittedTable, Row

__all__ = ["ImportScreen", "PathSuggester"]

#: Rejected rows listed on screen; every one of them is counted in the status line.
PROBLEMS_LISTED = 1_000


class PathSuggester(Suggester):
    """Completes a path from the names in its folder (→ accepts)."""

    def __init__(self, suffixes: tuple[str, ...]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.suffixes = suffixes

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        typed = Path(value).expanduser()
        folder, prefix = (typed, "") if value.endswith("/") else (typed.parent, typed.name)
        try:
            names = sorted(entry.name for entry in folder.iterdir())
        except OSError:
            return None
        for name in names:
            candidate = folder / name
            if not name.startswith(prefix) or name == prefix or name.startswith("."):
                continue
            if candidate.is_dir():
                return value + name[len(prefix) :] + "/"
            if candidate.suffix.lower() in self.suffixes:
                return value + name[len(prefix) :]
        return None


def quarantine_label(on: bool) -> str:
    # Said in words as well as by the box's colour.
    if on:
        return "Quarantine: ON, import the good rows and keep the bad ones aside"
    return "Quarantine: off, a bad row refuses the whole file"


class ImportScreen(ReconcileScreen):
    """Choose a file (and a mapping), preview it, import it; a refused file lists its rows."""

    MAIN = ""
    AUTO_FOCUS = "#csv-path"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+o",
            "preview",
            "Preview",
            id="import.preview",
            tooltip="Show the first rows as they would be imported, with their problems.",
        ),
        Binding(
            "ctrl+s",
            "start_import",
            "Import",
            id="import.start",
            tooltip="Import the file (all or nothing), then re-check against the latest snapshot.",
        ),
        Binding(
            "ctrl+t",
            "draft_mapping",
            "Draft mapping",
            id="import.draft",
            tooltip="Propose a mapping for the file from its header and first rows; review it,"
            " save it, and preview with it.",
        ),
        Binding(
            "x",
            "cancel_import",
            "Cancel import",
            id="import.cancel",
            tooltip="Stop the running import; nothing is written.",
        ),
    ]

    class Previewed(Message):
        def __init__(self, preview: Preview) -> None:
            super().__init__()
            self.preview = preview

    class Drafted(Message):
        def __init__(self, path: Path, text: str) -> None:
            super().__init__()
            self.path = path
            self.text = text

    class Progressed(Message):
        def __init__(self, progress: ImportProgress) -> None:
            super().__init__()
            self.progress = progress

    class Imported(Message):
        def __init__(self, outcome: ImportOutcome) -> None:
            super().__init__()
            self.outcome = outcome

    def __init__(self) -> None:
        super().__init__()
        self.importing = False
        self._cancel = threading.Event()
        self.previewed: Preview | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(
            Content.from_markup(
                "Each file imports all or nothing; importing it again changes nothing."
            ),
            id="import-intro",
        )
        with Horizontal(classes="field"):
            yield Label("CSV file ", classes="field-label")
            yield Input(
                placeholder="path to the CSV file, e.g. exports/2025-01.csv",
                suggester=PathSuggester((".csv", ".txt")),
                compact=True,
                id="csv-path",
            )
        with Horizontal(classes="field"):
            yield Label("Mapping  ", classes="field-label")
            yield Input(
                placeholder="optional: TOML file describing another CSV layout",
                suggester=PathSuggester((".toml",)),
                compact=True,
                id="mapping-path",
            )
        with Horizontal(classes="field"):
            yield Checkbox(quarantine_label(False), compact=True, id="quarantine")
        with Horizontal(classes="buttons"):
            yield Button("Preview", compact=True, id="preview")
            yield Button("Import", variant="primary", compact=True, id="import")
            yield Button("Draft mapping", compact=True, id="draft")
            yield Button("Cancel import", variant="error", compact=True, id="cancel", disabled=True)
        yield ProgressBar(show_eta=False, id="import-progress")
        yield Static(id="import-status")
        with ContentSwitcher(initial="preview-table", id="import-results"):
            # Columns shown whole or not at all: an amount scrolled half out of sight read
            # as another amount (docs/tui.md, "Small terminals").
            preview = FittedTable(
                id="preview-table", more="preview-more", keep=2, zebra_stripes=True
            )
            preview.border_title = "Preview"
            yield preview
            problems: DataTable[Text] = DataTable(
                id="problems-table", cursor_type="row", zebra_stripes=True
            )
            problems.border_title = "Rejected rows"
            yield problems
        yield Static(id="preview-more", classes="table-more")
        yield Static(id="preview-detail")

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Import records"
        self.query_one("#import-progress").display = False

    def start_loading(self) -> None:
        return  # nothing to load: the screen starts empty

    # -- the form --------------------------------------------------------------------------

    def _paths(self) -> tuple[Path, Path | None] | None:
        text = self.query_one("#csv-path", Input).value.strip()
        if not text:
            self._status("[$text-warning]Give the CSV file to import first.[/]")
            self.query_one("#csv-path").focus()
            return None
        mapping = self.query_one("#mapping-path", Input).value.strip()
        return Path(text).expanduser(), Path(mapping).expanduser() if mapping else None

    def _status(self, markup: str, **variables: object) -> None:
        self.query_one("#import-status", Static).update(Content.from_markup(markup, **variables))

    @on(Checkbox.Changed, "#quarantine")
    def _quarantine_changed(self, event: Checkbox.Changed) -> None:
        event.checkbox.label = quarantine_label(event.value)

    @on(Input.Submitted, "#csv-path")
    @on(Input.Submitted, "#mapping-path")
    @on(Button.Pressed, "#preview")
    def action_preview(self) -> None:
        paths = self._paths()
        if paths is not None and not self.importing:
            self._status("[$text-muted]Reading the first rows…[/]")
            self._preview(*paths)

    @work(thread=True, exclusive=True, exit_on_error=False, group="preview")
    def _preview(self, path: Path, mapping: Path | None) -> None:
        with access_of(self.app).open() as workspace:
            preview = workspace.preview(path, mapping)
        self.post_message(self.Previewed(preview))

    @on(Previewed)
    def _previewed(self, message: Previewed) -> None:
        self.previewed = preview = message.preview
        look = Look.from_app(self.app)
        table = self.query_one("#preview-table", FittedTable)
        labels = ["Line", "Row", "Reference", "Amount", "Currency", "Occurred", "Type"]
        labels += ["Status", "Fee", "Wallet", "Problem"]
        rows: list[Row] = []
        bad = skipped = 0
        for row in preview.rows:
            record = row.record
            line = Text(str(row.line), justify="right")
            if row.skipped is not None:
                skipped += 1
                cells = [line, Text("– skip", style=look.muted)]
                cells += [plain("", look.muted) for _ in range(8)]
                cells.append(plain(f"skipped by the mapping: {row.skipped}", look.muted))
            elif record is None:
                bad += 1
                cells = [line, Text(f"{ERROR} bad", style=look.error)]
                cells += [plain("", look.muted) for _ in range(8)]
                cells.append(plain(row.problem, look.error))
            else:
                cells = [
                    line,
                    Text(f"{MATCHED} ok", style=look.ok),
                    plain(record.reference, look.strong),
                    amount_cell(record.amount),
                    plain(record.currency),
                    plain(short_time(record.occurred_at)),
                    plain(record.type),
                    plain(record.status),
                    amount_cell(record.fee, style=look.muted),
                    plain(record.wallet_name or (record.wallet_id or "")[:8] or None, look.muted),
                    plain(""),
                ]
            rows.append(Row(None, cells, name=f"line {row.line}"))
        table.fill(labels, rows)
        table.border_title = f"Preview · first {len(preview.rows)} rows as parsed"
        self.query_one(ContentSwitcher).current = "preview-table"
        size = f"{preview.file_size:,} bytes"
        if bad:
            self._status(
                f"$path ({size}): [$text-error]{ERROR} {bad} of the first {len(preview.rows)}"
                " rows cannot be imported[/] (see Problem). Fix them, or tick Quarantine.",
                path=preview.path,
            )
        else:
            left_out = f", {skipped} skipped by the mapping" if skipped else ""
            self._status(
                f"$path ({size}): [$text-success]{MATCHED} the first {len(preview.rows)} rows"
                f" read cleanly{left_out}.[/] Import when ready.",
                path=preview.path,
            )

    @on(DataTable.RowHighlighted, "#preview-table")
    def _preview_row(self, event: DataTable.RowHighlighted) -> None:
        detail = self.query_one("#preview-detail", Static)
        rows = self.previewed.rows if self.previewed else []
        if not 0 <= event.cursor_row < len(rows):
            detail.update("")
            return
        row = rows[event.cursor_row]
        if row.skipped is not None:
            detail.update(
                Content.from_markup(
                    "Line $line: skipped by the mapping ($why)",
                    line=str(row.line),
                    why=row.skipped,
                )
            )
        elif row.problem is not None:
            detail.update(
                Content.from_markup(
                    f"Line $line: [$text-error]{ERROR} $problem[/]",
                    line=str(row.line),
                    problem=row.problem,
                )
            )
        else:
            detail.update(
                Content.from_markup(
                    f"Line $line: [$text-success]{MATCHED}[/] $fields",
                    line=str(row.line),
                    fields=" · ".join(row.fields),
                )
            )

    # -- drafting a mapping ----------------------------------------------------------------

    @on(Button.Pressed, "#draft")
    def action_draft_mapping(self) -> None:
        paths = self._paths()
        if paths is not None and not self.importing:
            self._status("[$text-muted]Drafting a mapping from $path…[/]", path=str(paths[0]))
            self._draft(paths[0])

    @work(thread=True, exclusive=True, exit_on_error=False, group="draft")
    def _draft(self, path: Path) -> None:
        self.post_message(self.Drafted(path, draft_mapping(path)))

    @on(Drafted)
    def _drafted(self, message: Drafted) -> None:
        self._status(
            "Mapping drafted from $path: review it, then save it to use it.",
            path=str(message.path),
        )
        self.app.push_screen(MappingDraftDialog(message.path, message.text), self._draft_saved)

    def _draft_saved(self, saved: Path | None) -> None:
        if saved is None:
            self._status("[$text-muted]The drafted mapping was not saved.[/]")
            return
        self.query_one("#mapping-path", Input).value = str(saved)
        self.action_preview()

    # -- importing -------------------------------------------------------------------------

    @on(Button.Pressed, "#import")
    def action_start_import(self) -> None:
        paths = self._paths()
        if paths is None or self.importing:
            return
        self._set_importing(True)
        self._cancel.clear()
        progress = self.query_one("#import-progress", ProgressBar)
        progress.update(total=None, progress=0)
        self._status("[$text-muted]Importing $path…[/]", path=str(paths[0]))
        quarantine = self.query_one("#quarantine", Checkbox).value
        self._import(paths[0], paths[1], quarantine)

    def _set_importing(self, importing: bool) -> None:
        self.importing = importing
        for selector in (
            "#csv-path",
            "#mapping-path",
            "#quarantine",
            "#preview",
            "#import",
            "#draft",
        ):
            self.query_one(selector).disabled = importing
        cancel = self.query_one("#cancel", Button)
        cancel.disabled = not importing
        self.query_one("#import-progress").display = (
            importing or self.query_one("#import-progress").display
        )
        if importing:
            cancel.focus()
        else:
            self.query_one("#csv-path").focus()
        self.refresh_bindings()

    @work(thread=True, exclusive=True, exit_on_error=False, group="import")
    def _import(self, path: Path, mapping: Path | None, quarantine: bool) -> None:
        def progressed(progress: ImportProgress) -> None:
            self.post_message(self.Progressed(progress))

        with access_of(self.app).open() as workspace:
            results = workspace.import_files(
                [path],
                mapping=mapping,
                quarantine=quarantine,
                on_progress=progressed,
                is_cancelled=self._cancel.is_set,
            )
            checked = check_latest(workspace)
        self.post_message(self.Imported(ImportOutcome(tuple(results), checked)))

    @on(Progressed)
    def _progressed(self, message: Progressed) -> None:
        progress = message.progress
        self.query_one("#import-progress", ProgressBar).update(
            total=max(progress.bytes_total, 1), progress=progress.bytes_read
        )
        self._status(
            "[$text-muted]Importing $path: $rows rows read…[/]",
            path=progress.path,
            rows=f"{progress.rows_read:,}",
        )

    @on(Imported)
    def _imported(self, message: Imported) -> None:
        self._set_importing(False)
        outcome = message.outcome
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=1, progress=1)
        quarantined: list[RowProblem] = []
        for result in outcome.results:
            quarantined += result.problems
        lines = [result.summary() for result in outcome.results]
        if outcome.check is not None:
            report = outcome.check.report
            verdict = (
                "clean"
                if report.status == "clean"
                else f"{report.errors:,} errors, {report.warnings:,} warnings"
            )
            lines.append(f"Re-checked against the latest snapshot: {verdict}.")
        else:
            lines.append("No gateway data yet: refresh to reconcile these records.")
        self._status("$text", text="\n".join(lines))
        if quarantined:
            self._show_problems(quarantined, "Quarantined rows (kept aside, not imported)")
        self.notify("\n".join(lines), title="Imported", markup=False)
        self.reconcile_app.data_changed()

    def _show_problems(self, problems: list[RowProblem], title: str) -> None:
        look = Look.from_app(self.app)
        table: DataTable[Text] = self.query_one("#problems-table", DataTable)
        table.clear(columns=True)
        table.add_column("Line", key="line")
        table.add_column("Reason", key="reason")
        for problem in problems[:PROBLEMS_LISTED]:
            table.add_row(
                Text(str(problem.line), justify="right", style=look.strong),
                plain(problem.reason, look.error),
            )
        shown = len(problems[:PROBLEMS_LISTED])
        table.border_title = f"{title} · {shown:,} listed"
        self.query_one(ContentSwitcher).current = "problems-table"
        self.query_one("#preview-detail", Static).update("")
        self.query_one("#preview-more", Static).display = False  # the preview's, not these

    @on(Button.Pressed, "#cancel")
    def action_cancel_import(self) -> None:
        if self.importing:
            self._cancel.set()
            self._status("[$text-warning]Cancelling…[/]")

    def worker_ended(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if not isinstance(error, ImportCancelled):
            report_failure(self, event)
        if event.worker.group in ("draft", "preview") and error is not None:
            # The notification says it too; the status line must not keep saying "Reading…".
            self._status(f"[$text-error]{ERROR} $message[/]", message=failure_message(error))
            return
        if event.worker.group != "import" or event.state not in (
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        self._set_importing(False)
        # Nothing was written: a full bar would say otherwise.
        self.query_one("#import-progress").display = False
        if isinstance(error, ImportCancelled):
            # Not a failure: the user asked for it.
            self._status("[$text-warning]Import cancelled: nothing was written.[/]")
            self.notify(str(error), title="Import cancelled", markup=False)
        elif isinstance(error, BadFile):
            self._show_problems(error.problems, "Rejected rows")
            self._status(
                f"[$text-error]{ERROR} $message[/] (Tick Quarantine above for that.)",
                message=str(error),
            )
        elif error is not None:
            self._status("[$text-error]$message[/]", message=str(error))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_import":
            return self.importing
        if action == "back":
            return None if self.importing else super().check_action(action, parameters)
        if action in {"preview", "start_import", "draft_mapping"}:
            return not self.importing
        return super().check_action(action, parameters)
