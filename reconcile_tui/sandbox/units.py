"""Minor units to amounts: the sandbox counts in integers and writes through `money`.

The synthetic ledger holds every amount as an integer count of its currency's smallest
unit (wei for ETH, 10^-6 for stablecoins), so sums are plain integer additions; this is
the one place those integers become Decimals and text.
"""

from __future__ import annotations

from decimal import Decimal

from reconcile_tui import money

__all__ = ["amount", "amount_text"]


def amount(units: int, scale: int) -> Decimal:
    """`units` of the smallest unit as an exact Decimal written with `scale` places.

    Shifting an integer's exponent is exact and leaves exactly `scale` places, so no
    quantizing is needed (or done: this runs for every amount of a million-row file).
    """
    return Decimal(units).scaleb(-scale, context=money.MONEY)


def amount_text(units: int, scale: int) -> str:
    """`units` written the way the gateway prints amounts: plain digits, `scale` places."""
    return money.canonical(amount(units, scale))
