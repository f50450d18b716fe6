"""The thresholds a reconciliation applies, per currency: tolerance, stale age, low balance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from reconcile_tui.money import ZERO

__all__ = ["DEFAULT_MATCH_WINDOW", "DEFAULT_STALE_AFTER", "Rules"]

#: Matching's third pass pairs the same amount at most this far apart (docs/causes.md).
DEFAULT_MATCH_WINDOW = timedelta(hours=24)

#: A pending record older than this is reported as `stale_pending` unless configured.
DEFAULT_STALE_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class Rules:
    """Per-currency thresholds; a currency not listed takes the default."""

    tolerances: Mapping[str, Decimal] = field(default_factory=dict)
    default_tolerance: Decimal = ZERO
    stale_after: Mapping[str, timedelta] = field(default_factory=dict)
    default_stale_after: timedelta = DEFAULT_STALE_AFTER
    low_balance: Mapping[str, Decimal] = field(default_factory=dict)
    default_low_balance: Decimal | None = None
    #: How far apart in time a record and a gateway transaction of the same amount may be
    #: and still be matched (docs/causes.md, "Matching").
    match_window: timedelta = DEFAULT_MATCH_WINDOW

    def tolerance(self, currency: str) -> Decimal:
        """How far apart two amounts may be and still count as equal (default exact)."""
        return self.tolerances.get(currency, self.default_tolerance)

    def stale_threshold(self, currency: str) -> timedelta:
        return self.stale_after.get(currency, self.default_stale_after)

    def low_balance_threshold(self, currency: str) -> Decimal | None:
        """Available below this is a `low_balance` warning; None: not checked."""
        return self.low_balance.get(currency, self.default_low_balance)
