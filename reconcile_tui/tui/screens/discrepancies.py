"""The latest check's causes (first) and discrepancies: filter, search, acknowledge, open.

Causes are what users count (docs/causes.md): the list opens on them, `t` switches to the
discrepancies they explain, and both keep one filter (kind, currency, state, search)."""

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

from reconcile_tui.reconcile.model import CauseKind, Kind
from reconcile_tui.store.runs import CauseFilter, DiscrepancyFilter, FindingCounts
from reconcile_tui.tui.access import access_of
from reconcile_tui.tui.acknowledging import Acknowledging, acknowledge_bindings, held_text
from reconcile_tui.tui.cells import (
    ACKNOWLEDGED,
    ERROR,
    WARNING,
    Look,
    amount_text,
    bucket_time,
    counted,
    difference_cell,
    finding_difference_cell,
    kind_words,
    plain,
    severity_marker,
    wallet_label,
)
from reconcile_tui.tui.screens.base import ReconcileScreen, open_binding
from reconcile_tui.tui.views import open_counts
from reconcile_tui.tui.widgets.paged_table import Column, PagedTable

if TYPE_CHECKING:
    from reconcile_tui.workspace import Workspace

__all__ = [
    "CauseSource",
    "DiscrepanciesScreen",
    "DiscrepancySource",
    "ExplainedSource",
    "cause_filter",
    "wide_enough",
]

Finding = dict[str, Any]

STATES = (("Open", "open"), ("Acknowledged", "acknowledged"))
SEVERITIES = (("Errors", "error"), ("Warnings", "warning"))


#: The width from which lists of findings show their message in a column of its own.
WIDE_COLUMNS = 110


def wide_enough(width: int) -> bool:
    """Whether a screen this wide shows the findings' messages in their tables."""
    return width >= WIDE_COLUMNS


def where_text(finding: Finding) -> str:
    """What a discrepancy is about, short: a wallet, a bucket and field, a reference."""
    parts = []
    if finding["wallet_id"]:
        parts.append(str(finding["wallet_id"])[:8])
    if finding["bucket"]:
        parts.append(bucket_time(finding["bucket"])[5:])  # the year is the period's
    if finding["field"]:
        parts.append(str(finding["field"]))
    if finding["references"] and not parts:
        parts.append(", ".join(finding["references"][:2]))
    return " ".join(parts) or "—"


def _finding_columns(kind_width: int | None = None) -> tuple[Column, ...]:
    """The columns every finding's table starts with: its mark, kind and currency."""
    return (Column(""), Column("Kind", width=kind_width), Column("Currency"))


def _finding_cells(row: Finding, look: Look, *, field_in_kind: bool = False) -> tuple[Text, ...]:
    """A finding's first cells: open or acknowledged and how severe, its kind, its currency
    (none: the summary). `field_in_kind`: a history finding says which figure in its kind,
    where no About column says it."""
    kind = kind_words(row["kind"])
    if field_in_kind and row["kind"] == "history_mismatch" and row.get("field"):
        # A bucket's balance and its deposits often differ by the same amount: without
        # the figure's name the two rows read alike.
        kind = f"History: {row['field'].replace('_', ' ')}"
    return (
        severity_marker(row["severity"], row["acknowledged"], look),
        plain(kind),
        plain(row["currency"] or "summary", look.strong),
    )


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
            *_finding_columns(),
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
            *_finding_cells(row, look, field_in_kind=not self.wide),
            *about,
            finding_difference_cell(row, look),
            difference_cell(row["usd_difference"], 2, look),
        )
        return (*cells, plain(row["message"], look.muted)) if self.wide else cells


@dataclass(frozen=True)
class ExplainedSource(DiscrepancySource):
    """A cause's discrepancies, all of its currency (named above the table): "About" takes
    the currency's place at any width, so two rows of opposite amounts say which wallet
    each is; narrow, the kind gives way before an amount is cut; wide, the message does
    (docs/tui.md, "A cause")."""

    def columns(self) -> Sequence[Column]:
        columns = (
            Column(""),
            Column("Kind", width=None if self.wide else 16),
            Column("About", width=15),
            Column("Difference"),
            Column("USD"),
        )
        return (*columns, Column("Message")) if self.wide else columns

    def cells(self, row: Finding, look: Look) -> Sequence[Text]:
        mark, kind, _currency = _finding_cells(row, look)
        cells = (
            mark,
            kind,
            plain(where_text(row)),
            finding_difference_cell(row, look),
            difference_cell(row["usd_difference"], 2, look),
        )
        return (*cells, plain(row["message"], look.muted)) if self.wide else cells


def refs_text(values: Sequence[str], room: int = 2) -> str:
    """The first `room` references or ids, then how many more."""
    shown = ", ".join(values[:room])
    more = len(values) - room
    return f"{shown} +{more}" if more > 0 else (shown or "—")


def cause_filter(where: DiscrepancyFilter) -> CauseFilter:
    """The causes matching the filter the screen holds (kind, currency, wallet, state,
    severity, search); a discrepancy kind the causes do not share matches none of them."""
    return CauseFilter(
        kind=where.kind,
        currency=where.currency,
        wallet_id=where.wallet_id,
        severity=where.severity,
        acknowledged=where.acknowledged,
        search=where.search,
    )


@dataclass(frozen=True)
class CauseSource:
    """The latest run's causes matching a filter, in report order."""

    where: CauseFilter
    wide: bool = False
    empty_text: str = "No cause matches these filters."

    def columns(self) -> Sequence[Column]:
        # Narrow terminals keep the amount whole and drop the wallet and gateway ids (both
        # in the panel under the table).
        # At 80 columns the kind and reference give way (both are in full under the
        # table), so an 18-decimal amount is never cut.
        if self.wide:
            return (
                *_finding_columns(),
                Column("Wallet", width=10),
                Column("Gateway id", width=14),
                Column("Reference", width=14),
                Column("Amount"),
                Column("Explains"),
            )
        return (
            *_finding_columns(kind_width=16),
            Column("Reference", width=10),
            Column("Amount"),
            Column("Expl."),
        )

    def fetch(self, workspace: Workspace, offset: int, limit: int) -> tuple[int, list[Finding]]:
        return workspace.cause_page(self.where, offset=offset, limit=limit)

    def cells(self, row: Finding, look: Look) -> Sequence[Text]:
        wide = (
            (
                plain(str(row["wallet_id"] or "—")[:8]),
                plain(refs_text(row["gateway_ids"], 1)),
            )
            if self.wide
            else ()
        )
        explains = Text(f"{len(row['explains']):,}", justify="right", no_wrap=True, end="")
        return (
            *_finding_cells(row, look),
            *wide,
            plain(refs_text(row["references"], 1)),
            difference_cell(row["amount"], None, look),
            explains,
        )


def cause_lines(cause: Finding) -> list[Content]:
    """A cause in full: its message, then where it is, what it names and what it explains."""
    state = f"{ACKNOWLEDGED} acknowledged" if cause["acknowledged"] else "open"
    count = len(cause["explains"])
    # The id (which `ack` takes) right after the kind, and the wallet as its first 8
    # characters (the message names it whole): at 80 columns the id was the part the
    # panel cut, and a cause naming fifty records (`times_unknown`) pushed it out at any
    # width. Past a few, a list says how many more it holds.
    references = refs_text(cause["references"], room=5) if cause["references"] else "none"
    gateway = refs_text(cause["gateway_ids"], room=3) if cause["gateway_ids"] else "none"
    wallet = wallet_label(cause["wallet_id"], None) if cause["wallet_id"] else "—"
    return [
        Content.from_markup("[b]$message[/b]", message=cause["message"]),
        Content(
            f"{kind_words(cause['kind'])} · id {cause['id']} · amount"
            f" {amount_text(cause['amount'])} · {state} · wallet {wallet} · explains"
            f" {count:,} discrepanc{'ies' if count != 1 else 'y'} · references {references}"
            f" · gateway {gateway}"
        ),
    ]


class DiscrepanciesScreen(Acknowledging, ReconcileScreen):
    """The latest check's causes or discrepancies, one page at a time, with filters."""

    MAIN = "#findings"
    AUTO_FOCUS = "#findings"
    BINDINGS: ClassVar[list[BindingType]] = [
        *acknowledge_bindings(
            "discrepancies",
            acknowledge="Accept the highlighted cause or discrepancy with a note (it stops"
            " counting as open; a cause closes every discrepancy it explains).",
            withdraw="Withdraw the highlighted item's acknowledgement: it counts as open again.",
        ),
        Binding(
            "t",
            "toggle_list",
            "Causes/Discrepancies",
            id="discrepancies.toggle",
            tooltip="Switch between the causes and the discrepancies they explain.",
        ),
        open_binding(
            "go_to",
            "Open",
            id="discrepancies.go_to",
            tooltip="Open the highlighted cause (its record and gateway transaction), or the"
            " wallet or currency the highlighted discrepancy is about.",
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
        def __init__(self, counts: FindingCounts, currencies: list[str]) -> None:
            super().__init__()
            self.counts = counts
            self.currencies = currencies

    class HeldLoaded(Message):
        def __init__(self, item_id: str, text: str) -> None:
            super().__init__()
            self.item_id = item_id
            self.text = text

    def __init__(self, where: DiscrepancyFilter | None = None, *, showing: str = "causes") -> None:
        super().__init__()
        self.where = where or DiscrepancyFilter()
        #: "causes" or "discrepancies": which list the table shows.
        self.showing = showing
        self._held: tuple[str, str] | None = None
        self.counts: FindingCounts | None = None
        self._quiet = False  # set while filters are changed from code, not by the user
        self._currencies: list[str] = []

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="filters"):
            yield Select[str](
                self._kinds(),
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
        yield PagedTable[Finding](id="findings", title=self._title())
        yield Static(id="finding-detail")

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Causes & discrepancies"
        self._set_filter_widgets(self.where)

    def _title(self) -> str:
        return "Causes" if self.showing == "causes" else "Discrepancies"

    def _kinds(self) -> list[tuple[str, str]]:
        kinds = CauseKind if self.showing == "causes" else Kind
        return [(kind_words(kind.value), kind.value) for kind in kinds]

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
        singular = "cause" if self.showing == "causes" else "discrepancy"
        parts = [Content(f"{counted(table.total_rows, singular)} shown")]
        if counts is not None:
            # One count on every screen: open causes, as `check` prints it.
            parts.append(
                Content.from_markup(
                    f"{counts.open:,} open causes: "
                    f"[$text-error b]{ERROR} {counts.errors:,} errors[/]  "
                    f"[$text-warning]{WARNING} {counts.warnings:,} warnings[/]  "
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

    def _source(self) -> DiscrepancySource | CauseSource:
        if self.showing == "causes":
            return CauseSource(cause_filter(self.where), wide=self._wide())
        return DiscrepancySource(self.where, wide=self._wide())

    def _wide(self) -> bool:
        return wide_enough(self.size.width)

    def on_resize(self) -> None:
        # A terminal made wider (or narrower) shows the columns of its new width, on the
        # same page and row.
        table: PagedTable[Finding] = self.query_one("#findings", PagedTable)
        source = table.source
        if isinstance(source, CauseSource | DiscrepancySource) and source.wide != self._wide():
            table.change_source(self._source())

    def action_toggle_list(self) -> None:
        self.showing = "discrepancies" if self.showing == "causes" else "causes"
        kinds = {value for _, value in self._kinds()}
        if self.where.kind is not None and self.where.kind not in kinds:
            self.where = replace(self.where, kind=None)
        self._quiet = True
        kind: Select[str] = self.query_one("#filter-kind", Select)
        kind.set_options(self._kinds())
        kind.value = self.where.kind if self.where.kind is not None else Select.NULL
        self._quiet = False
        table: PagedTable[Finding] = self.query_one("#findings", PagedTable)
        table.border_title = self._title()
        self._filter_changed()
        table.focus()

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
        held = self._held[1] if self._held and self._held[0] == finding["id"] else ""
        if finding["acknowledged"] or held:
            self._load_held(finding["id"])
        if "explains" in finding:
            lines = cause_lines(finding)
            if held:
                lines.append(Content(held))
            detail.update(Content("\n").join(lines))
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
                    *([Content(held)] if held else []),
                ]
            )
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="held")
    def _load_held(self, item_id: str) -> None:
        with access_of(self.app).open() as workspace:
            held = workspace.acknowledgement_of(item_id)
        self.post_message(self.HeldLoaded(item_id, held_text(held)))

    @on(HeldLoaded)
    def _held_loaded(self, message: HeldLoaded) -> None:
        before = self._held
        self._held = (message.item_id, message.text)
        current = self.current
        if current is not None and current["id"] == message.item_id and before != self._held:
            self._show_detail(current)

    @on(PagedTable.RowChosen, "#findings")
    def _row_chosen(self) -> None:
        self.action_go_to()

    def action_go_to(self) -> None:
        finding = self.current
        if finding is None:
            return
        app = self.reconcile_app
        if "explains" in finding:
            app.open_cause(finding["id"])
        elif finding["currency"] and finding["wallet_id"]:
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

    def acknowledgeable(self) -> Finding | None:
        return self.current

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "go_to":
            # Enter belongs to the filters and the search box while they have the focus.
            return self.focused is self.query_one("#findings") and self.current is not None
        if action == "acknowledge":
            return True if self.current is not None else None
        if action == "withdraw":
            return True if self.current is not None and self.current["acknowledged"] else None
        return super().check_action(action, parameters)
