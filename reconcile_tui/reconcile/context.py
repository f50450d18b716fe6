"""What every check needs beside its own family's logic: scales, tolerances, USD rates."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from reconcile_tui import money
from reconcile_tui.api.snapshot import GatewaySnapshot
from reconcile_tui.reconcile.books import Books, RawWallet
from reconcile_tui.reconcile.model import Note
from reconcile_tui.reconcile.rules import Rules
from reconcile_tui.store import ledger
from reconcile_tui.store.db import Store

__all__ = ["REFERENCES_LISTED", "CheckContext"]

#: How many references a currency- or wallet-level discrepancy lists (oldest first).
REFERENCES_LISTED = 50


@dataclass
class CheckContext:
    """The inputs of one reconciliation, with the helpers the checks share."""

    snapshot: GatewaySnapshot
    books: Books
    rules: Rules
    store: Store
    notes: list[Note] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._printed = self.snapshot.balances.printed_scales()

    def scale(self, currency: str | None) -> int | None:
        """Decimal places to print a currency's amounts with: known, printed by the gateway,
        else 18, the places such a currency is stored with (docs/money.md)."""
        return money.scale_for(currency, self._printed) if currency else None

    def same(self, currency: str, api_value: Decimal, merchant_value: Decimal) -> bool:
        """Equal within the currency's tolerance (exact by default)."""
        return money.is_within(money.sub(api_value, merchant_value), self.rules.tolerance(currency))

    def usd(self, currency: str, difference: Decimal | None) -> Decimal | None:
        """The difference in USD at the currency's implied rate usd_value / total_balance."""
        balance = self.snapshot.balances.currency(currency)
        if difference is None or balance is None:
            return None
        return money.ratio(money.product(difference, balance.usd_value), balance.total_balance, 2)

    def references(
        self, currency: str, raw_wallets: set[RawWallet] | None = None
    ) -> tuple[str, ...]:
        """Up to REFERENCES_LISTED references of a currency or of one wallet, oldest first."""
        wallets = (
            None
            if raw_wallets is None
            else sorted(raw_wallets, key=lambda r: (r[0] or "", r[1] or ""))
        )
        return tuple(ledger.references_in(self.store, currency, wallets, limit=REFERENCES_LISTED))

    def note(self, message: str, currency: str | None = None) -> None:
        self.notes.append(Note(message, currency))
