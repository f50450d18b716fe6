"""The panel under a wallet's lists: where the selected record came from and how it changed."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from reconcile_tui.store.ledger import DuplicateRow, RecordRow
from reconcile_tui.tui.cells import amount_text, end_cut, full_time, middle_cut, short_time

__all__ = ["RecordDetail"]

Change = tuple[str, str, str | None, str | None]


class RecordDetail(Static):
    """Reference, amounts, wallet, tx hash, file:line provenance, then the change history."""

    #: The record shown, drawn again at each width (None: something else is shown).
    _shown: tuple[RecordRow, int, list[Change] | None] | None = None

    def show_nothing(self, hint: str = "Move to a record to see where it came from.") -> None:
        self._shown = None
        self.update(Content.from_markup("[$text-muted]$hint[/]", hint=hint))

    def show_record(self, row: RecordRow, scale: int, changes: list[Change] | None) -> None:
        self._shown = (row, scale, changes)
        self._draw()

    def on_resize(self) -> None:
        if self._shown is not None:
            self._draw()

    def _draw(self) -> None:
        assert self._shown is not None
        row, scale, changes = self._shown
        width = max(24, self.content_size.width or 76)
        wallet = row.wallet_name or row.wallet_id or "no wallet"
        # Amounts first and whole (docs/tui.md, "Small terminals"); the file's path is cut
        # from its start and the hash in its middle, so at 80 columns no line loses the
        # time, the line number or either end of the hash (`08:22:1…` was cut before).
        lines = [
            Content.from_markup(
                "[b]$reference[/b] · $type $status · $amount",
                reference=row.reference,
                type=row.type,
                status=row.status,
                amount=amount_text(row.amount, scale),
            ),
            Content.from_markup(
                "fee $fee · $when · wallet $wallet",
                fee=amount_text(row.fee, scale),
                when=full_time(row.occurred_at),
                wallet=wallet,
            ),
        ]
        source = f"{row.path}:{row.line}"
        tx_hash = row.tx_hash or "—"
        if self.screen.has_class("-short"):
            # Four lines in all: where it is from and its hash share one.
            half = (width - 3) // 2
            where = end_cut(source, half - 5)
            tx = middle_cut(tx_hash, width - 3 - (5 + len(where)) - 3)
            lines.append(Content.from_markup("from [b]$where[/b] · tx $tx", where=where, tx=tx))
        else:
            lines.append(
                Content.from_markup("from [b]$where[/b]", where=end_cut(source, width - 5))
            )
            # A line of its own: a list too narrow for its tx hash column leaves it out
            # whole, and this is where the highlighted record's hash is read.
            lines.append(Content.from_markup("tx $tx", tx=middle_cut(tx_hash, width - 3)))
        if changes is None:
            lines.append(Content.from_markup("[$text-muted]Changes: loading…[/]"))
        elif not changes:
            lines.append(
                Content.from_markup("[$text-muted]Changes: none since it was first imported.[/]")
            )
        else:
            described = "; ".join(
                f"{short_time(when)} {field} {old or '—'} → {new or '—'}"
                for when, field, old, new in changes
            )
            lines.append(Content.from_markup("Changes: $changes", changes=described))
        self.update(Content("\n").join(lines))

    def show_duplicate(self, row: DuplicateRow, scale: int) -> None:
        self._shown = None
        differs = (
            f"it differs in {row.differences}" if row.differences else "the copies are identical"
        )
        self.update(
            Content("\n").join(
                [
                    Content.from_markup(
                        "[b]$reference[/b] repeated · $amount · wallet $wallet",
                        reference=row.reference,
                        amount=amount_text(row.amount, scale),
                        wallet=row.wallet_name or row.wallet_id or "none",
                    ),
                    Content.from_markup(
                        "In [b]$path[/b]: first at line $first, again at line $line; $differs.",
                        path=row.path,
                        first=str(row.first_line),
                        line=str(row.line),
                        differs=differs,
                    ),
                    Content.from_markup(
                        "[$text-muted]Only the first copy counts; fix the export and re-import.[/]"
                    ),
                ]
            )
        )
