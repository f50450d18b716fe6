"""Home: the overall status and one row per currency, most material first."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static

from reconcile_tui import money
from reconcile_tui.reconcile.figures import CurrencyFigures
from reconcile_tui.store.runs import FindingCounts
from reconcile_tui.tui.access import access_of
from reconcile_tui.tui.cells import (
    ACKNOWLEDGED,
    ERROR,
    MATCHED,
    WARNING,
    Look,
    amount_cell,
    amount_text,
    counted,
    counts_cell,
    difference_cell,
    drift_text,
    plain,
)
from reconcile_tui.tui.screens.base import ReconcileScreen, open_binding
from reconcile_tui.tui.views import Overview, load_overview
from reconcile_tui.tui.widgets.fitted_table import room_of, width_of
from reconcile_tui.tui.widgets.row_keys import RowTable

__all__ = ["OverviewScreen"]

SORTS = ("materiality", "currency")


class _CurrencyTable(RowTable):
    """The currencies' table, saying when its own width changes (the screen's may not)."""

    class Resized(Message):
        pass

    def on_resize(self) -> None:
        self.post_message(self.Resized())


def status_line(overview: Overview) -> Content:
    """`13 records from records.csv · 17 open causes: ✖ 14 errors  ▲ 3 warnings  ☑ 0
    acknowledged`: open causes, the number `check` prints (docs/tui.md)."""
    files = ", ".join(overview.record_files)
    records = (
        f"{counted(overview.record_count, 'record')} from {files}"
        if overview.record_count
        else "No records imported yet"
    )
    status = overview.status
    if status is None:
        return Content(records)
    if not status.open:
        verdict = Content.from_markup(f"[$text-success]{MATCHED} clean[/]")
    else:
        verdict = Content.from_markup(
            f"{status.open:,} open cause{'s' if status.open != 1 else ''}: "
            f"[$text-error b]{ERROR} {status.errors:,} errors[/]  "
            f"[$text-warning]{WARNING} {status.warnings:,} warnings[/]"
        )
    acknowledged = Content(f"  {ACKNOWLEDGED} {status.acknowledged:,} acknowledged")
    return Content.assemble(Content(f"{records} · "), verdict, acknowledged)


class OverviewScreen(ReconcileScreen):
    """Every currency, both sides, with the difference and the open discrepancies."""

    MAIN = "#currencies"
    AUTO_FOCUS = "#currencies"
    BINDINGS: ClassVar[list[BindingType]] = [
        open_binding(
            "open_currency",
            "Open",
            id="overview.open",
            tooltip="Open the highlighted currency: wallets, history, chart.",
        ),
        Binding(
            "s",
            "cycle_sort",
            "Sort",
            id="overview.sort",
            tooltip="Sort by materiality (default) or by currency code.",
        ),
    ]

    class Loaded(Message):
        """The overview's figures arrived from the worker."""

        def __init__(self, overview: Overview) -> None:
            super().__init__()
            self.overview = overview

    def __init__(self) -> None:
        super().__init__()
        self.overview: Overview | None = None
        self.sort = SORTS[0]
        self._room = -1

    def compose_body(self) -> ComposeResult:
        yield Static(id="run-status")
        with Vertical(id="overview-body"):
            yield Static(id="empty-state")
            table: DataTable[Text] = _CurrencyTable(id="currencies", cursor_type="row")
            table.border_title = "Currencies · most material first"
            yield table
            yield Static(id="totals")
            yield Static(id="summary-findings")
            yield Static(id="currency-detail")

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Overview"
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._show())

    def start_loading(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def _load(self) -> None:
        with access_of(self.app).open() as workspace:
            overview = load_overview(workspace)
        self.post_message(self.Loaded(overview))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.overview = message.overview
        self.reconcile_app.origin = message.overview.origin
        self._show()
        self.loaded()

    @on(_CurrencyTable.Resized)
    def _fit_to_room(self) -> None:
        # A table shown before it was laid out (just displayed, or on a screen coming
        # back) was fitted to a room it does not have: it is shown again for its own.
        # Not while a dialog or another screen is on top: its sizes are passing ones
        # then, and the screen fits itself when it is shown again.
        if (
            self.is_current
            and self.overview is not None
            and room_of(self.query_one("#currencies", DataTable)) != self._room
        ):
            self._show()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.call_after_refresh(self._fit_to_room)

    # -- showing -----------------------------------------------------------------------

    def _currencies(self) -> list[CurrencyFigures]:
        assert self.overview is not None
        found = list(self.overview.currencies)
        if self.sort == "currency":
            found.sort(key=lambda figures: figures.currency)
        return found

    def _show(self) -> None:
        overview = self.overview
        if overview is None or not self.is_mounted:
            return
        look = Look.from_app(self.app)
        self.query_one("#run-status", Static).update(status_line(overview))
        empty = self.query_one("#empty-state", Static)
        table: DataTable[Text] = self.query_one("#currencies", DataTable)
        has_rows = bool(overview.currencies)
        empty.display = not has_rows
        table.display = has_rows
        if not has_rows:
            empty.update(self._empty_text(overview))
        highlighted = table.cursor_row
        # The highlight stays on its currency, wherever a new sort or new figures put it.
        highlighted_code = (
            table.ordered_rows[highlighted].key.value
            if 0 <= highlighted < table.row_count
            else None
        )
        table.clear(columns=True)
        # The difference comes first: it is what this screen is for. Where the wide
        # columns do not fit whole (an 18-decimal amount is 20 characters wide, and the
        # status grows as causes are acknowledged), both totals share one two-line cell
        # and available/pending go to the line under the table: an amount is never cut.
        rows: list[tuple[str, list[Text], Text]] = []
        for figures in self._currencies():
            counts = overview.open_by_currency.get(figures.currency, FindingCounts())
            scale = figures.scale
            cells: list[Text] = [
                counts_cell(counts, look),
                plain(figures.currency, look.strong),
                difference_cell(figures.difference, scale, look),
                difference_cell(figures.usd_difference, 2, look),
                amount_cell(figures.api_total, scale),
                amount_cell(figures.api_available, scale),
                amount_cell(figures.api_pending, scale),
                amount_cell(figures.records_total, scale),
            ]
            both = Text.assemble(
                amount_cell(figures.api_total, scale),
                "\n",
                amount_cell(figures.records_total, scale, style=look.muted),
                justify="right",
            )
            rows.append((figures.currency, cells, both))
        labels = ["Status", "Currency", "Difference", "USD diff", "Gateway total"]
        labels += ["Available", "Pending", "Records total"]
        room = room_of(table)
        self._room = room

        def fits(chosen: list[int]) -> bool:
            return room >= sum(
                width_of(labels[i], [cells[i] for _, cells, _ in rows]) + 2 * table.cell_padding
                for i in chosen
            )

        # Every figure, else both totals side by side, else both in one two-line cell.
        layouts = ([0, 1, 2, 3, 4, 5, 6, 7], [0, 1, 2, 3, 4, 7])
        chosen = next((layout for layout in layouts if fits(layout)), None)
        for label in [labels[i] for i in chosen] if chosen else [*labels[:4], "Gateway / records"]:
            table.add_column(label, key=label)
        for key, cells, both in rows:
            if chosen:
                table.add_row(*(cells[i] for i in chosen), key=key)
            else:
                table.add_row(*cells[:4], both, key=key, height=2)
        if has_rows:
            codes = [key for key, _, _ in rows]
            if highlighted_code in codes:
                highlighted = codes.index(highlighted_code)
            table.move_cursor(row=min(max(highlighted, 0), table.row_count - 1), animate=False)
        self.query_one("#totals", Static).update(self._totals(overview))
        findings = self.query_one("#summary-findings", Static)
        findings.display = bool(overview.summary_findings)
        findings.update(self._summary_findings(overview))
        self._show_detail()

    def _empty_text(self, overview: Overview) -> Content:
        app = self.reconcile_app
        steps = []
        if overview.record_count:
            files = ", ".join(overview.record_files)
            steps.append(f"✔ {counted(overview.record_count, 'record')} imported from {files}.")
        else:
            steps.append(
                f"1. Import your transaction records: press {app.key_for('app.import')} and"
                " give the CSV file (a mapping file describes other layouts)."
            )
        if app.offline:
            steps.append(
                "2. The app is offline: fetch the gateway's balances from a connected"
                " machine (`reconcile-tui fetch`) or load saved responses with"
                " `reconcile-tui check --api-dir DIR`."
            )
        else:
            steps.append(
                f"2. Fetch the gateway's balances and history: press"
                f" {app.key_for('app.refresh')} (needs CRYPTOFUSE_TOKEN, or"
                " CRYPTOFUSE_CLIENT_ID and CRYPTOFUSE_CLIENT_SECRET)."
            )
        steps.append(
            "Then this screen shows, per currency, where the gateway and your records disagree."
        )
        title = Content.from_markup("[b]Nothing to reconcile yet.[/b]\n\n")
        return Content.assemble(title, Content("\n".join(steps)))

    def _totals(self, overview: Overview) -> Content:
        usd_value, usd_gap = overview.usd_totals()
        if usd_value is None and usd_gap is None:
            return Content("")
        parts = [Content.from_markup("[b]Total[/b]")]
        if usd_value is not None:
            parts.append(Content(f"gateway USD {amount_text(money.canonical(usd_value), 2)}"))
        if usd_gap is not None:
            gap = amount_text(money.canonical(usd_gap), 2)
            style = "$text-muted" if usd_gap.is_zero() else "$text-error"
            parts.append(
                Content.from_markup(
                    f"difference [{style}]USD $gap[/] [$text-muted](gateway − records)[/]",
                    gap=gap,
                )
            )
        return Content(" · ").join(parts)

    def _summary_findings(self, overview: Overview) -> Content:
        lines = []
        for finding in overview.summary_findings:
            marker = ERROR if finding["severity"] == "error" else WARNING
            state = f" {ACKNOWLEDGED} acknowledged" if finding["acknowledged"] else ""
            lines.append(
                Content.from_markup(
                    f"[$text-error]{marker}[/] Gateway: $message$state",
                    message=finding["message"],
                    state=state,
                )
            )
        return Content("\n").join(lines)

    def _highlighted(self) -> CurrencyFigures | None:
        table: DataTable[Text] = self.query_one("#currencies", DataTable)
        if self.overview is None or not table.row_count:
            return None
        currencies = self._currencies()
        row = table.cursor_row
        return currencies[row] if 0 <= row < len(currencies) else None

    def _show_detail(self) -> None:
        detail = self.query_one("#currency-detail", Static)
        figures = self._highlighted()
        if figures is None:
            detail.update("")
            return
        scale = figures.scale

        def side(total: str | None, available: str | None, pending: str | None) -> str:
            if total is None and available is None and pending is None:
                return "nothing"
            return (
                f"{amount_text(total, scale)} (available {amount_text(available, scale)},"
                f" pending {amount_text(pending, scale)})"
            )

        drift = drift_text(figures)
        first = f" · {drift}" if drift else ""
        detail.update(
            Content.from_markup(
                "[b]$code[/b] gateway $api\n records $mine · $count$first",
                code=figures.currency,
                api=side(figures.api_total, figures.api_available, figures.api_pending),
                mine=side(
                    figures.records_total, figures.records_available, figures.records_pending
                ),
                count=counted(figures.record_count, "record"),
                first=first,
            )
        )

    # -- actions -----------------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#currencies")
    def _row_highlighted(self) -> None:
        self._show_detail()

    @on(DataTable.RowSelected, "#currencies")
    def _row_selected(self) -> None:
        self.action_open_currency()

    def action_open_currency(self) -> None:
        figures = self._highlighted()
        if figures is not None:
            self.reconcile_app.open_currency(figures.currency)

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        title = "most material first" if self.sort == "materiality" else "by currency"
        self.query_one("#currencies", DataTable).border_title = f"Currencies · {title}"
        self._show()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"open_currency", "cycle_sort"}:
            return bool(self.overview and self.overview.currencies)
        return super().check_action(action, parameters)
