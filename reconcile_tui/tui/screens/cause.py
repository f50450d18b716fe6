"""One cause: the record and the gateway transaction behind it, side by side, and the
discrepancies it explains (docs/tui.md, "A cause")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from reconcile_tui.errors import NotFound
from reconcile_tui.store.runs import CauseFilter, DiscrepancyFilter
from reconcile_tui.tui.access import access_of
from reconcile_tui.tui.acknowledging import Acknowledging, acknowledge_bindings, held_text
from reconcile_tui.tui.cells import amount_text, end_cut, full_time, middle_cut
from reconcile_tui.tui.screens.base import ReconcileScreen
from reconcile_tui.tui.screens.discrepancies import ExplainedSource, cause_lines, wide_enough
from reconcile_tui.tui.widgets.paged_table import PagedTable

if TYPE_CHECKING:
    from reconcile_tui.store.ledger import RecordRow
    from reconcile_tui.workspace import Workspace

__all__ = ["CauseScreen", "CauseView", "load_cause"]


@dataclass(frozen=True)
class CauseView:
    """A cause, its records (by reference), its gateway transactions and its acknowledgement."""

    cause: dict[str, Any]
    records: tuple[RecordRow, ...]
    transactions: tuple[dict[str, Any], ...]
    held: str


def load_cause(workspace: Workspace, cause_id: str) -> CauseView:
    """The cause of the latest run with this id, and what it names, from the store."""
    _, found = workspace.cause_page(CauseFilter(search=cause_id), limit=50)
    cause = next((c for c in found if c["id"] == cause_id), None)
    if cause is None:
        raise NotFound(f"cause {cause_id} is not in the latest check")
    records = tuple(
        row
        for row in (workspace.record_by_reference(ref) for ref in cause["references"][:3])
        if row is not None
    )
    transactions = tuple(workspace.gateway_transactions(cause["gateway_ids"][:3]))
    return CauseView(
        cause, records, transactions, held_text(workspace.acknowledgement_of(cause_id))
    )


def _side(title: str, absent: str, entries: list[tuple[str, list[str]]]) -> Content:
    """One side of a cause: each entry's name in bold over its details, or why none."""
    if not entries:
        return Content.from_markup(f"[b]{title}[/b]\n[$text-muted]$absent[/]", absent=absent)
    lines = [Content.from_markup(f"[b]{title}[/b]")]
    for name, details in entries:
        lines.append(Content.from_markup("[b]$name[/b]", name=name))
        lines += [Content(detail) for detail in details]
    return Content("\n").join(lines)


#: The columns of the screen that are not a side's text: each side's margin and padding.
_SIDES_FRAME = 2 * (1 + 2)


def side_width(screen_width: int) -> int:
    """The text columns of one side of the cause at this screen width."""
    return max(20, (screen_width - _SIDES_FRAME) // 2)


def _tx_line(tx_hash: str | None, width: int) -> str:
    # A 66-character hash wrapped onto two lines pushed the lines after it out of the
    # side's height at 80 columns; it is cut in the middle to one line instead.
    return "tx " + middle_cut(tx_hash, width - 3) if tx_hash else "tx —"


def record_side(view: CauseView, width: int = 200) -> Content:
    """The records' side: each record named by the cause, with file and line (before the
    hash: where the record comes from must not be the line a small screen cuts)."""
    references = ", ".join(view.cause["references"])
    absent = (
        f"No record in the books with reference {references}."
        if references
        else "No record in the books."
    )
    entries = [
        (
            row.reference,
            [
                f"{row.type} · {row.status}",
                f"amount {amount_text(row.amount)} · fee {amount_text(row.fee)}",
                f"{full_time(row.occurred_at)} · {row.currency}",
                f"wallet {row.wallet_name or row.wallet_id or '—'}",
                "from " + end_cut(f"{row.path}:{row.line}", width - 5),
                _tx_line(row.tx_hash, width),
            ],
        )
        for row in view.records
    ]
    return _side("Records", absent, entries)


def gateway_side(view: CauseView, width: int = 200) -> Content:
    """The gateway's side: each transaction named by the cause, from the stored snapshot."""
    ids = ", ".join(view.cause["gateway_ids"])
    absent = (
        f"Gateway transaction {ids} is not in the stored snapshot."
        if ids
        else "The gateway lists no such transaction."
    )
    entries = [
        (
            str(tx["id"]),
            [
                f"{tx['type']} · {tx['status']}",
                f"net {amount_text(tx['net_amount'])} · fee {amount_text(tx['fee_amount'])}",
                f"{full_time(tx['created_at'])} · {tx['currency']}",
                f"reference {tx['reference'] or tx['order_id'] or '—'}",
                _tx_line(tx["transaction_hash"], width),
            ],
        )
        for tx in view.transactions
    ]
    return _side("Gateway", absent, entries)


class CauseScreen(Acknowledging, ReconcileScreen):
    """A cause in full: both sides, its acknowledgement, the discrepancies it explains."""

    MAIN = "#cause-explains"
    AUTO_FOCUS = "#cause-explains"
    BINDINGS: ClassVar[list[BindingType]] = [
        *acknowledge_bindings(
            "cause",
            acknowledge="Accept this cause with a note: every discrepancy it explains closes too.",
            withdraw="Withdraw this cause's acknowledgement: it counts as open again.",
        ),
    ]

    class Loaded(Message):
        def __init__(self, view: CauseView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, cause_id: str) -> None:
        super().__init__()
        self.cause_id = cause_id
        self.view: CauseView | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(id="cause-summary")
        with Horizontal(id="cause-sides"):
            yield Static(id="cause-record")
            yield Static(id="cause-transaction")
        yield PagedTable[Any](id="cause-explains", title="Discrepancies it explains")

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Cause"

    def start_loading(self) -> None:
        self._load(self.cause_id)
        table: PagedTable[Any] = self.query_one("#cause-explains", PagedTable)
        if table.source is None:
            table.show_source(self._explained())
        else:
            table.reload()

    def _explained(self) -> ExplainedSource:
        return ExplainedSource(
            DiscrepancyFilter(cause=self.cause_id),
            wide=wide_enough(self.size.width),
            empty_text="It explains no discrepancy (its effects are within tolerance).",
        )

    def on_resize(self) -> None:
        self._show_sides()
        # As the discrepancies list does: the message column comes and goes with the width.
        table: PagedTable[Any] = self.query_one("#cause-explains", PagedTable)
        source = table.source
        if isinstance(source, ExplainedSource) and source.wide != wide_enough(self.size.width):
            table.change_source(self._explained())

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def _load(self, cause_id: str) -> None:
        with access_of(self.app).open() as workspace:
            view = load_cause(workspace, cause_id)
        self.post_message(self.Loaded(view))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.view = view = message.view
        lines = cause_lines(view.cause)
        if view.held:
            # Before the details: who accepted it and why matters more than the ids.
            lines.insert(1, Content(view.held))
        self.query_one("#cause-summary", Static).update(Content("\n").join(lines))
        self._show_sides()
        self.loaded()

    def _show_sides(self) -> None:
        if self.view is None:
            return
        width = side_width(self.size.width)
        self.query_one("#cause-record", Static).update(record_side(self.view, width))
        self.query_one("#cause-transaction", Static).update(gateway_side(self.view, width))

    def acknowledgeable(self) -> dict[str, Any] | None:
        return self.view.cause if self.view is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "acknowledge":
            return True if self.view is not None else None
        if action == "withdraw":
            return True if self.view is not None and self.view.cause["acknowledged"] else None
        return super().check_action(action, parameters)
