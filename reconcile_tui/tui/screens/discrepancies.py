"""Every discrepancy of the latest check: filter, search, acknowledge, jump to where it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Select, Static

from reconcile_tui.reconcile.model import Kind
from reconcile_tui.store.runs import DiscrepancyFilter
from reconcile_tui.tui.access import access_of
from reconcile_tui.tui.cells import (
    ACKNOWLEDGED,
    ERROR,
    WARNING,
    Look,
    amount_text,
    difference_cell,
    kind_words,
    plain,
    severity_marker,
    short_time,
)
from reconcile_tui.tui.dialogs.acknowledge import AcknowledgeDialog, Acknowledgement
from reconcile_tui.tui.queries import OpenCounts, open_counts
from reconcile_tui.tui.screens.base import ReconcileScreen
from reconcile_tui.tui.widgets.paged_table import Column, PagedTable

if TYPE_CHECKING:
    from reconcile_tui.workspace import Workspace

__all__ = ["DiscrepanciesScreen", "DiscrepancySource"]

Finding = dict[str, Any]

STATES = (("Open", "open"), ("Acknowledged", "acknowledged"))
SEVERITIES = (("Errors", "error"), ("Warnings", "warning"))


def where_text(finding: Finding) -> str:
    """What a discrepancy is about, short: a wallet, a bucket and field, a reference."""
    parts = []
    if finding["wallet_id"]:
        parts.append(str(finding["wallet_id"])[:8])
    if finding["bucket"]:
        parts.append(short_time(finding["bucket"])[5:])  # the year is the period's
    if finding["field"]:
        parts.append(str(finding["field"]))
    if finding["references"] and not parts:
        parts.append(", ".join(finding["references"][:2]))
    return " ".join(parts) or "—"


@dataclass(frozen=True)
class DiscrepancySource:
    """The latest run's discrepancies matching a filter, in report order."""

    where: DiscrepancyFilter
    #: Wide terminals also show the message in the table.
    wide: bool = False
    empty_text: str = "No discrepancy matches these filters."

    def columns(self) -> Sequence[Column]:
        # The message is shown in full under the table for the highlighted row; narrow
        # terminals drop "About" (it is in that message) so no amount is ever cut.
        about = (Column("About", width=15),) if self.wide else ()
        columns = (
            Column(""),
            Column("Kind"),
            Column("Currency"),
            *about,
            Column("Difference"),
            Column("USD"),
        )
        return (*columns, Column("Message")) if self.wide else columns

    def fetch(self, workspace: Workspace, offset: int, limit: int) -> tuple[int, list[Finding]]:
        return workspace.discrepancy_page(self.where, offset=offset, limit=limit)

    def cells(self, row: Finding, look: Look) -> Sequence[Text]:
        about = (plain(where_text(row)),) if self.wide else ()
        cells = (
            severity_marker(row["severity"], row["acknowledged"], look),
            plain(kind_words(row["kind"])),
            plain(row["currency"] or "summary", look.strong),
            *about,
            difference_cell(row["difference"], None, look, compact=True),
            difference_cell(row["usd_difference"], 2, look),
        )
        return (*cells, plain(row["message"], look.muted)) if self.wide else cells


class DiscrepanciesScreen(ReconcileScreen):
    """The latest check's findings, one page at a time, with filters and a search box."""

    MAIN = "#findings"
    AUTO_FOCUS = "#findings"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "a",
            "acknowledge",
            "Acknowledge",
            id="discrepancies.acknowledge",
            tooltip="Accept the highlighted discrepancy with a note (it stops counting as open).",
        ),
        Binding(
            "enter",
            "go_to",
            "Go to",
            id="discrepancies.go_to",
            priority=True,  # before the table's own Enter, so it shows in the footer
            tooltip="Open the wallet or currency the highlighted discrepancy is about.",
        ),
        Binding(
            "slash",
            "search",
            "Search",
            id="discrepancies.search",
            tooltip="Search messages, references and ids.",
        ),
        Binding(
            "x",
            "clear_filters",
            "Clear filters",
            id="discrepancies.clear",
            tooltip="Show every discrepancy again.",
        ),
    ]

    class CountsLoaded(Message):
        def __init__(self, counts: OpenCounts, currencies: list[str]) -> None:
            super().__init__()
            self.counts = counts
            self.currencies = currencies

    class Acknowledged(Message):
        def __init__(self, finding: Finding) -> None:
            super().__init__()
            self.finding = finding

    def __init__(self, where: DiscrepancyFilter | None = None) -> None:
        super().__init__()
        self.where = where or DiscrepancyFilter()
        self.counts: OpenCounts | None = None
        self._quiet = False  # set while filters are changed from code, not by the user
        self._currencies: list[str] = []

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="filters"):
            yield Select[str](
                [(kind_words(kind.value), kind.value) for kind in Kind],
                prompt="Any kind",
                compact=True,
                id="filter-kind",
            )
            yield Select[str]([], prompt="Any currency", compact=True, id="filter-currency")
            yield Select[str](SEVERITIES, prompt="Any severity", compact=True, id="filter-severity")
            yield Select[str](STATES, prompt="Any state", compact=True, id="filter-state")
        yield Input(
            placeholder="/ search messages, references, ids", compact=True, id="filter-search"
        )
        yield Static(id="findings-counts")
        yield PagedTable[Finding](id="findings", title="Discrepancies")
        yield Static(id="finding-detail")

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Discrepancies"
        self._set_filter_widgets(self.where)

    def start_loading(self) -> None:
        self._load_counts(self.where)
        table: PagedTable[Finding] = self.query_one("#findings", PagedTable)
        if table.source is None:
            table.show_source(self._source())
        else:
            table.reload()

    def loaded(self) -> None:
        # The table clears its own loading state when its page arrives.
        return

    @work(thread=True, exclusive=True, exit_on_error=False, group="counts")
    def _load_counts(self, where: DiscrepancyFilter) -> None:
        with access_of(self.app).open() as workspace:
            counts = open_counts(workspace)
            currencies = [figures.currency for figures in workspace.overview()]
        self.post_message(self.CountsLoaded(counts, currencies))

    @on(CountsLoaded)
    def _counts_loaded(self, message: CountsLoaded) -> None:
        self.counts = message.counts
        select: Select[str] = self.query_one("#filter-currency", Select)
        wanted = self.where.currency
        self._quiet = True
        codes = list(dict.fromkeys([*message.currencies, *([wanted] if wanted else [])]))
        self._currencies = codes
        select.set_options([(code, code) for code in codes])
        select.value = wanted if wanted else Select.NULL
        self._quiet = False
        self._show_counts()

    @on(PagedTable.PageShown, "#findings")
    def _page_shown(self) -> None:
        self._show_counts()

    def _show_counts(self) -> None:
        table: PagedTable[Finding] = self.query_one("#findings", PagedTable)
        counts = self.counts
        parts = [Content(f"{table.total_rows:,} shown")]
        if counts is not None:
            parts.append(
                Content.from_markup(
                    f"[$text-error b]{ERROR} {counts.errors:,} open errors[/]  "
                    f"[$text-warning]{WARNING} {counts.warnings:,} open warnings[/]  "
                    f"{ACKNOWLEDGED} {counts.acknowledged:,} acknowledged"
                )
            )
        if self.where.wallet_id:
            parts.append(
                Content.from_markup(
                    "wallet $wallet only ($key clears)",
                    wallet=self.where.wallet_id[:8],
                    key=self._key("discrepancies.clear", "x"),
                )
            )
        self.query_one("#findings-counts", Static).update(Content(" · ").join(parts))

    def _key(self, binding_id: str, default: str) -> str:
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.id == binding_id:
                return self.app.get_key_display(binding)
        return default

    # -- filters -------------------------------------------------------------------------

    def _set_filter_widgets(self, where: DiscrepancyFilter) -> None:
        self._quiet = True
        state = (
            None
            if where.acknowledged is None
            else ("acknowledged" if where.acknowledged else "open")
        )
        for selector, value in (
            ("#filter-kind", where.kind),
            ("#filter-severity", where.severity),
            ("#filter-state", state),
        ):
            select: Select[str] = self.query_one(selector, Select)
            select.value = value if value is not None else Select.NULL
        currency: Select[str] = self.query_one("#filter-currency", Select)
        if where.currency is None:
            currency.value = Select.NULL
        self.query_one("#filter-search", Input).value = where.search or ""
        self._quiet = False

    def apply_filter(self, where: DiscrepancyFilter) -> None:
        """Show the discrepancies matching `where` (from another screen's jump)."""
        self.where = where
        self._set_filter_widgets(where)
        if where.currency is not None:
            currency: Select[str] = self.query_one("#filter-currency", Select)
            self._quiet = True
            if where.currency not in self._currencies:
                self._currencies.append(where.currency)
                currency.set_options([(code, code) for code in self._currencies])
            currency.value = where.currency
            self._quiet = False
        self._filter_changed()

    def _source(self) -> DiscrepancySource:
        return DiscrepancySource(self.where, wide=self.size.width >= 110)

    def _filter_changed(self) -> None:
        self._show_counts()
        self.query_one("#findings", PagedTable).show_source(self._source())

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if self._quiet:
            return
        value = None if event.value is Select.NULL else str(event.value)
        selector = event.select.id
        if selector == "filter-kind":
            self.where = replace(self.where, kind=value)
        elif selector == "filter-currency":
            self.where = replace(self.where, currency=value)
        elif selector == "filter-severity":
            self.where = replace(self.where, severity=value)
        elif selector == "filter-state":
            self.where = replace(
                self.where, acknowledged=None if value is None else value == "acknowledged"
            )
        self._filter_changed()

    @on(Input.Changed, "#filter-search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self._quiet:
            return
        self.where = replace(self.where, search=event.value.strip() or None)
        self._filter_changed()

    @on(Input.Submitted, "#filter-search")
    def _search_done(self) -> None:
        self.query_one("#findings").focus()

    def action_search(self) -> None:
        self.query_one("#filter-search").focus()

    def action_clear_filters(self) -> None:
        self.where = DiscrepancyFilter()
        self._set_filter_widgets(self.where)
        self._filter_changed()
        # Whatever had the focus (a filter), the list takes it: Enter then goes to a row.
        self.query_one("#findings").focus()

    # -- the highlighted discrepancy -----------------------------------------------------

    @property
    def current(self) -> Finding | None:
        table: PagedTable[Finding] = self.query_one("#findings", PagedTable)
        return table.current_row

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    @on(PagedTable.RowFocused, "#findings")
    def _row_focused(self, message: PagedTable.RowFocused) -> None:
        self._show_detail(message.row)
        self.refresh_bindings()

    def _show_detail(self, finding: Finding | None) -> None:
        detail = self.query_one("#finding-detail", Static)
        if finding is None:
            detail.update("")
            return
        sides = ""
        if finding["api_value"] is not None or finding["merchant_value"] is not None:
            sides = (
                f"gateway {amount_text(finding['api_value'])} · records"
                f" {amount_text(finding['merchant_value'])} · "
            )
        state = f"{ACKNOWLEDGED} acknowledged" if finding["acknowledged"] else "open"
        references = ", ".join(finding["references"]) or "none"
        detail.update(
            Content("\n").join(
                [
                    Content.from_markup("[b]$message[/b]", message=finding["message"]),
                    Content(f"{sides}{state} · references {references} · id {finding['id']}"),
                ]
            )
        )

    @on(PagedTable.RowChosen, "#findings")
    def _row_chosen(self) -> None:
        self.action_go_to()

    def action_go_to(self) -> None:
        finding = self.current
        if finding is None:
            return
        app = self.reconcile_app
        if finding["currency"] and finding["wallet_id"]:
            app.open_wallet(finding["currency"], finding["wallet_id"])
        elif finding["currency"]:
            app.open_currency(finding["currency"])
        else:
            self.notify(
                "This is about the gateway's own summary, not one currency; its figures"
                " are on the overview.",
                title="No page for this one",
                markup=False,
            )

    def action_acknowledge(self) -> None:
        finding = self.current
        if finding is not None:
            self.app.push_screen(AcknowledgeDialog(finding), self._acknowledge_answered)

    def _acknowledge_answered(self, answer: Acknowledgement | None) -> None:
        if answer is not None:
            self._acknowledge(answer)

    @work(thread=True, exclusive=True, exit_on_error=False, group="acknowledge")
    def _acknowledge(self, answer: Acknowledgement) -> None:
        with access_of(self.app).open() as workspace:
            found = workspace.acknowledge(answer.discrepancy_id, answer.note, by=answer.by)
        self.post_message(self.Acknowledged(found))

    @on(Acknowledged)
    def _acknowledged(self, message: Acknowledged) -> None:
        finding = message.finding
        self.notify(
            f"Acknowledged {kind_words(finding['kind'])} {finding['currency'] or 'summary'}"
            f" ({finding['id'][:8]}): it no longer counts as open.",
            title="Acknowledged",
            markup=False,
        )
        self.reconcile_app.data_changed()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "go_to":
            # Enter belongs to the filters and the search box while they have the focus.
            return self.focused is self.query_one("#findings") and self.current is not None
        if action == "acknowledge":
            return True if self.current is not None else None
        return super().check_action(action, parameters)
