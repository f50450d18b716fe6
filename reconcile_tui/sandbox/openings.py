"""Where a generated export starts from an opening balance instead of the ledger's first day.

Many merchants' exports do not reach back to the account's start: they begin with one
`opening` row per wallet (what it held then) and list only what came after. A scenario
does that for the last currency of its account, 40 days before the clock: before every
history bucket any period can reach (30 days), and before every payment that is still
pending (stuck ones are at most 15 days old), so the opening is all a wallet held.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from reconcile_tui.sandbox.config import LedgerSpec
from reconcile_tui.sandbox.ledger import DAY, epoch

__all__ = ["OPENING_DAYS_BACK", "OpeningPlan", "plan_opening"]

#: How many days before the clock's midnight the export of the opening currency starts.
OPENING_DAYS_BACK: Final = 40


@dataclass(frozen=True, slots=True)
class OpeningPlan:
    """The currency whose export starts from opening balances, when, and its wallets."""

    currency: str
    at: int
    wallets: tuple[str, ...]


def plan_opening(spec: LedgerSpec) -> OpeningPlan | None:
    """The opening of a scenario of `spec`, or None when the account has a single currency
    (every planted mistake needs a currency whose totals are compared) or the ledger does
    not reach back far enough."""
    table = spec.currency_table
    if len(table) < 2 or spec.days <= OPENING_DAYS_BACK + 1:
        return None
    clock = epoch(spec.clock)
    currency = table[-1]
    return OpeningPlan(
        currency=currency.code,
        at=clock - clock % DAY - OPENING_DAYS_BACK * DAY,
        wallets=tuple(wallet.wallet_id for wallet in currency.wallets),
    )
