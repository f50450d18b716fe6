"""One wallet: the pending items behind its pending balance, the records that explain the rest."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static, TabbedContent, TabPane

from reconcile_tui.store.ledger import DuplicateRow, RecordRow
from reconcile_tui.store.runs import DiscrepancyFilter
from reconcile_tui.times import age_text
from reconcile_tui.tui.access import access_of
from reconcile_tui.tui.cells import (
    ERROR,
    Look,
    amount_text,
    bucket_time,
    difference_cell,
    drift_text,
    severity_marker,
    short_time,
    wallet_label,
)
from reconcile_tui.tui.screens.base import ReconcileScreen
from reconcile_tui.tui.screens.currency import comparison
from reconcile_tui.tui.views import WalletView, difference, load_wallet, wallet_lists
from reconcile_tui.tui.widgets.paged_table import PagedTable
from reconcile_tui.tui.widgets.record_detail import Change, RecordDetail
from reconcile_tui.tui.widgets.record_lists import (
    DuplicatesSource,
    PendingItemsSource,
    RecordsSource,
)

__all__ = ["WalletScreen"]

#: The lists, in tab order: (pane id, tab label).
LISTS = (
    ("pending", "Pending items"),
    ("since", "Since drift"),
    ("pending-all", "All pending"),
    ("repeated", "Repeated"),
    ("records", "All records"),
)


class WalletScreen(ReconcileScreen):
    """Pending items with ages and the gap they leave; records since the drift; duplicates."""

    MAIN = "#wallet-lists"
    AUTO_FOCUS = "#list-pending"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "v",
            "next_list",
            "Next list",
            id="wallet.next_list",
            tooltip="Cycle pending items, records since drift, all pending, repeated, all.",
        ),
        Binding(
            "f",
            "findings",
            "Causes here",
            id="wallet.findings",
            tooltip="The causes of this wallet, and the discrepancies they explain.",
        ),
    ]

    class Loaded(Message):
        def __init__(self, view: WalletView) -> None:
            super().__init__()
            self.view = view

    class ChangesLoaded(Message):
        def __init__(self, reference: str, changes: list[Change]) -> None:
            super().__init__()
            self.reference = reference
            self.changes = changes

    def __init__(self, code: str, wallet_id: str) -> None:
        super().__init__()
        self.code = code
        self.wallet_id = wallet_id
        self.view: WalletView | None = None
        self._shown_record: RecordRow | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(id="wallet-summary")
        yield Static(id="wallet-findings")
        with TabbedContent(id="wallet-lists", initial="pending"):
            for pane, label in LISTS:
                with TabPane(label, id=pane):
                    yield PagedTable[Any](id=f"list-{pane}", title=label)
        yield RecordDetail(id="record-detail")

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = f"{self.code} wallet"
        self.query_one(RecordDetail).show_nothing()

    def start_loading(self) -> None:
        self._load(self.code, self.wallet_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def _load(self, code: str, wallet_id: str) -> None:
        with access_of(self.app).open() as workspace:
            view = load_wallet(workspace, code, wallet_id)
        self.post_message(self.Loaded(view))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.view = view = message.view
        look = Look.from_app(self.app)
        self.query_one("#wallet-summary", Static).update(self._summary(view, look))
        findings = self.query_one("#wallet-findings", Static)
        findings.update(self._findings(view, look))
        findings.set_class(not view.causes, "-empty")
        self._show_lists(view)
        self.loaded()

    # -- showing -------------------------------------------------------------------------

    def _summary(self, view: WalletView, look: Look) -> Group:
        wallet, figures = view.wallet, view.currency
        scale = figures.scale
        grid = Table.grid(padding=(0, 3))
        grid.add_column(no_wrap=True)
        grid.add_column()
        heading = Text.assemble(
            (
                wallet_label(wallet.wallet_id, wallet.wallet_name, wide=self.size.width >= 100),
                look.strong,
            ),
            (f" · {figures.currency} · {view.duplicate_count} repeated", look.muted),
        )
        # Short terminals hide the causes' lines; what explains the gap stays in the heading.
        heading.append(" · ")
        heading.append(
            f"{view.explanation()} (f)",
            look.error if view.unexplained is not None else look.muted,
        )
        sides = comparison(
            ("Available", "Pending"),
            [
                ("Gateway", (wallet.api_available, wallet.api_pending)),
                ("Records", (wallet.records_available, wallet.records_pending)),
                (
                    "Difference",
                    (
                        difference(wallet.api_available, wallet.records_available),
                        difference(wallet.api_pending, wallet.records_pending),
                    ),
                ),
            ],
            scale,
            look,
        )
        # Four short lines beside the four rows of the table, so the header stays five
        # rows high at 80 columns (docs/tui.md, "Small terminals").
        count = view.pending_count
        facts = Text(no_wrap=True, overflow="ellipsis")
        facts.append(f"{count:,} pending item{'s' if count != 1 else ''}", look.strong)
        facts.append(f", sum {amount_text(view.pending_sum or '0', scale)}\n")
        if wallet.api_pending is None:
            facts.append(f"{ERROR} pending not reported by the gateway\n", look.error)
        else:
            facts.append("gap to gateway pending ")
            facts.append_text(difference_cell(view.pending_gap, scale, look))
            facts.append("\n")
        clock = short_time(view.gateway_clock) if view.gateway_clock else "unknown"
        drift = drift_text(figures) or "history agrees"
        facts.append(
            f"gateway clock {clock}\n{drift} · stale after {age_text(view.stale_after)}",
            look.muted,
        )
        grid.add_row(sides, facts)
        return Group(heading, grid)

    def _findings(self, view: WalletView, look: Look) -> Text:
        lines = Text(no_wrap=True, overflow="ellipsis")
        shown = view.causes[:2]
        for finding in shown:
            if lines:
                lines.append("\n")
            # The marker every list shows: an acknowledged cause is ☑, not its severity.
            lines.append_text(
                severity_marker(finding["severity"], bool(finding["acknowledged"]), look)
            )
            lines.append(" ")
            lines.append(str(finding["message"]), look.muted if finding["acknowledged"] else "")
        if view.cause_total > len(shown):
            lines.append(f"\n… {view.cause_total - len(shown)} more: press f", look.muted)
        return lines

    def _show_lists(self, view: WalletView) -> None:
        figures, wallet = view.currency, view.wallet
        lists = wallet_lists(figures, wallet)
        scale = figures.scale
        pending: PagedTable[Any] = self.query_one("#list-pending", PagedTable)
        pending.show_source(
            PendingItemsSource(lists.pending_items, scale, view.gateway_clock, view.stale_after)
        )
        since: PagedTable[Any] = self.query_one("#list-since", PagedTable)
        if lists.since_divergence is not None:
            since.border_title = f"Since drift ({bucket_time(figures.first_divergence)})"
            since.show_source(RecordsSource(lists.since_divergence, scale))
        else:
            since.show_source(
                RecordsSource(
                    lists.every_record,
                    scale,
                    empty_text="No records.",
                )
            )
            since.border_title = "History agrees: every record"
        self.query_one("#list-pending-all", PagedTable).show_source(
            RecordsSource(lists.pending_any, scale, empty_text="No pending records.")
        )
        self.query_one("#list-repeated", PagedTable).show_source(
            DuplicatesSource(figures.currency, view.raw_wallets, scale)
        )
        self.query_one("#list-records", PagedTable).show_source(
            RecordsSource(lists.every_record, scale)
        )

    # -- the detail panel ----------------------------------------------------------------

    @on(PagedTable.RowFocused)
    def _row_focused(self, message: PagedTable.RowFocused) -> None:
        if self.view is None:
            return
        active = self.query_one(TabbedContent).active
        if message.table.id != f"list-{active}":
            return
        self._show_row(message.row)

    def _show_row(self, row: object) -> None:
        detail = self.query_one(RecordDetail)
        assert self.view is not None
        scale = self.view.currency.scale
        if isinstance(row, RecordRow):
            self._shown_record = row
            detail.show_record(row, scale, None)
            self._load_changes(row.reference)
        elif isinstance(row, DuplicateRow):
            self._shown_record = None
            detail.show_duplicate(row, scale)
        else:
            self._shown_record = None
            detail.show_nothing()

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def _load_changes(self, reference: str) -> None:
        with access_of(self.app).open() as workspace:
            changes = workspace.record_history(reference)
        self.post_message(self.ChangesLoaded(reference, changes))

    @on(ChangesLoaded)
    def _changes_loaded(self, message: ChangesLoaded) -> None:
        row = self._shown_record
        if row is not None and row.reference == message.reference and self.view is not None:
            self.query_one(RecordDetail).show_record(row, self.view.currency.scale, message.changes)

    @on(TabbedContent.TabActivated)
    def _list_changed(self) -> None:
        active = self.query_one(TabbedContent).active
        table: PagedTable[Any] = self.query_one(f"#list-{active}", PagedTable)
        table.focus()  # a click on a tab leaves the focus on the tab bar; the list wants it
        if self.view is not None:
            self._show_row(table.current_row)

    # -- actions -------------------------------------------------------------------------

    def action_next_list(self) -> None:
        tabs = self.query_one(TabbedContent)
        panes = [pane for pane, _ in LISTS]
        tabs.active = panes[(panes.index(tabs.active) + 1) % len(panes)]
        self.query_one(f"#list-{tabs.active}").focus()

    def action_findings(self) -> None:
        self.reconcile_app.action_discrepancies(
            DiscrepancyFilter(currency=self.code, wallet_id=self.wallet_id)
        )
