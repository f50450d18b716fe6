"""The panel under a wallet's lists: where the selected record came from and how it changed."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from reconcile_tui.store.ledger import DuplicateRow, RecordRow
from reconcile_tui.tui.cells import amount_text, full_time, short_time

__all__ = ["RecordDetail"]

Change = tuple[str, str, str | None, str | None]


class RecordDetail(Static):
    """Reference, amounts, wallet, tx hash, file:line provenance, then the change history."""

    def show_nothing(self, hint: str = "Move to a record to see where it came from.") -> None:
        self.update(Content.from_markup("[$text-muted]$hint[/]", hint=hint))

    def show_record(self, row: RecordRow, scale: int, changes: list[Change] | None) -> None:
        wallet = row.wallet_name or row.wallet_id or "no wallet"
        lines = [
            Content.from_markup(
                "[b]$reference[/b] · $type $status · $amount (fee $fee) · $when",
                reference=row.reference,
                type=row.type,
                status=row.status,
                amount=amount_text(row.amount, scale),
                fee=amount_text(row.fee, scale),
                when=full_time(row.occurred_at),
            ),
            Content.from_markup(
                "From [b]$where[/b] · wallet $wallet",
                where=f"{row.path}:{row.line}",
                wallet=wallet,
            ),
            # A line of its own: a list too narrow for its tx hash column leaves it out
            # whole, and this is where the highlighted record's hash is read (a chain's
            # hash is 66 characters).
            Content.from_markup("tx $tx", tx=row.tx_hash or "—"),
        ]
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
