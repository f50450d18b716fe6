"""Page sources for a wallet's lists: pending items, records, repeated references.

Each list names its row first (pinned while scrolling sideways), then its amounts, then
the rest: a money cell is never the one cut at the window's edge (docs/tui.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rich.text import Text

from reconcile_tui.store.ledger import DuplicateRow, RecordFilter, RecordRow
from reconcile_tui.tui.cells import Look, age_cell, amount_cell, plain, short_time
from reconcile_tui.tui.views import wallet_duplicates
from reconcile_tui.tui.widgets.paged_table import Column

if TYPE_CHECKING:
    from reconcile_tui.workspace import Workspace

__all__ = ["DuplicatesSource", "PendingItemsSource", "RecordsSource"]


@dataclass(frozen=True)
class PendingItemsSource:
    """The records behind a wallet's pending balance, aged against the gateway's clock."""

    where: RecordFilter
    scale: int
    gateway_clock: datetime | None
    stale_after: timedelta
    empty_text: str = "No pending deposits in the records for this wallet."

    def columns(self) -> Sequence[Column]:
        return (
            Column("Reference", pinned=True),
            Column("Amount"),
            Column("Occurred"),
            Column("Age"),
            Column("Tx hash"),
        )

    def fetch(self, workspace: Workspace, offset: int, limit: int) -> tuple[int, list[RecordRow]]:
        return workspace.records(self.where, offset=offset, limit=limit)

    def cells(self, row: RecordRow, look: Look) -> Sequence[Text]:
        return (
            plain(row.reference, look.strong),
            amount_cell(row.amount, self.scale),
            plain(short_time(row.occurred_at)),
            age_cell(row.occurred_at, self.gateway_clock, self.stale_after, look),
            plain(row.tx_hash, look.muted),
        )


@dataclass(frozen=True)
class RecordsSource:
    """Any filtered list of records, oldest first, with type and status."""

    where: RecordFilter
    scale: int
    empty_text: str = "No records."

    def columns(self) -> Sequence[Column]:
        return (
            Column("Reference", pinned=True),
            Column("Amount"),
            Column("Fee"),
            Column("Occurred"),
            Column("Type"),
            Column("Status"),
            Column("Tx hash"),
        )

    def fetch(self, workspace: Workspace, offset: int, limit: int) -> tuple[int, list[RecordRow]]:
        return workspace.records(self.where, offset=offset, limit=limit)

    def cells(self, row: RecordRow, look: Look) -> Sequence[Text]:
        status_style = {"pending": look.warning, "failed": look.muted}.get(row.status, "")
        return (
            plain(row.reference, look.strong),
            amount_cell(row.amount, self.scale),
            amount_cell(row.fee, self.scale, style=look.muted),
            plain(short_time(row.occurred_at)),
            plain(row.type),
            plain(row.status, status_style),
            plain(row.tx_hash, look.muted),
        )


@dataclass(frozen=True)
class DuplicatesSource:
    """References repeated within one file: the extra copies are not counted."""

    currency: str
    raw_wallets: tuple[tuple[str | None, str | None], ...]
    scale: int
    empty_text: str = "No repeated references in this wallet."

    def columns(self) -> Sequence[Column]:
        return (
            Column("Reference", pinned=True),
            Column("Amount"),
            # The lines and what differs before the file: a path is the widest cell, and
            # columns show left to right while they fit whole (it hid the three after it).
            Column("First line"),
            Column("Repeated at"),
            Column("Differs"),
            Column("File"),
        )

    def fetch(
        self, workspace: Workspace, offset: int, limit: int
    ) -> tuple[int, list[DuplicateRow]]:
        found = wallet_duplicates(workspace, self.currency, self.raw_wallets)
        return len(found), found[offset : offset + limit]

    def cells(self, row: DuplicateRow, look: Look) -> Sequence[Text]:
        return (
            plain(row.reference, look.strong),
            amount_cell(row.amount, self.scale),
            Text(str(row.first_line), justify="right"),
            Text(str(row.line), justify="right"),
            plain(row.differences or "identical", look.warning if row.differences else look.muted),
            plain(row.path),
        )
