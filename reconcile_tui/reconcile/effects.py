"""Effects: what a movement, or a mistake, does to every figure the checks compare.

A figure is keyed as docs/causes.md lists: (`available` | `pending`, currency, wallet),
(`total_deposited` | `total_withdrawn` | `total_fees_paid`, currency), and per history
bucket (`deposits` | `withdrawals` | `deposit_count` | `withdrawal_count` | `balance`,
currency, bucket index). A bucket's `balance` moves with every movement up to its end, so
an effect holds it as steps (from this bucket on: this much) instead of one entry per
later bucket: a mistake early in a 30-day hourly history stays one entry, not 720.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from reconcile_tui import money
from reconcile_tui.api.snapshot import GatewaySnapshot
from reconcile_tui.money import ZERO
from reconcile_tui.times import bucket_end

__all__ = ["BALANCE", "ONE", "Buckets", "Effect", "Figure", "Movement", "movement_effect"]

#: A figure's key: (field, currency) or (field, currency, wallet id | bucket index).
Figure = tuple[str, ...] | tuple[str, str, str] | tuple[str, str, int]

BALANCE = "balance"
ONE = Decimal(1)


class Movement(NamedTuple):
    """A record, or a gateway transaction, in the records' words (docs/causes.md)."""

    currency: str
    type: str  # deposit | withdrawal
    status: str  # confirmed | pending | failed
    amount: Decimal
    fee: Decimal
    at: datetime


class Buckets:
    """The history buckets of each currency (sorted by start), as the checks compare them."""

    def __init__(self, snapshot: GatewaySnapshot) -> None:
        self.starts: dict[str, list[datetime]] = {}
        self.ends: dict[str, list[datetime]] = {}
        for code, history in snapshot.histories.items():
            starts = sorted(bucket.timestamp for bucket in history.history)
            self.starts[code] = starts
            self.ends[code] = [bucket_end(start, history.interval) for start in starts]

    def index(self, currency: str, moment: datetime) -> int | None:
        """The bucket holding `moment`, or None (before, after or between buckets)."""
        starts = self.starts.get(currency)
        if not starts:
            return None
        found = bisect.bisect_right(starts, moment) - 1
        return found if found >= 0 and moment < self.ends[currency][found] else None

    def first_balance(self, currency: str, moment: datetime) -> int | None:
        """The first bucket whose end-of-bucket balance includes a movement at `moment`."""
        ends = self.ends.get(currency)
        if not ends:
            return None
        found = bisect.bisect_right(ends, moment)
        return found if found < len(ends) else None

    def of(self, currency: str, start: datetime) -> int | None:
        starts = self.starts.get(currency, [])
        found = bisect.bisect_left(starts, start)
        return found if found < len(starts) and starts[found] == start else None


@dataclass
class Effect:
    """Amounts (counts as whole numbers) per figure, gateway minus records."""

    points: dict[Figure, Decimal] = field(default_factory=dict)
    #: (currency, first bucket) -> what the balance of that bucket and every later one moves.
    steps: dict[tuple[str, int], Decimal] = field(default_factory=dict)

    def add(self, figure: Figure, amount: Decimal) -> None:
        if amount.is_zero():
            return
        total = money.add(self.points.get(figure, ZERO), amount)
        if total.is_zero():
            self.points.pop(figure, None)
        else:
            self.points[figure] = total

    def add_step(self, currency: str, first: int, amount: Decimal) -> None:
        if amount.is_zero():
            return
        key = (currency, first)
        total = money.add(self.steps.get(key, ZERO), amount)
        if total.is_zero():
            self.steps.pop(key, None)
        else:
            self.steps[key] = total

    def merge(self, other: Effect, sign: int = 1) -> None:
        for figure, amount in other.points.items():
            self.add(figure, amount if sign > 0 else money.neg(amount))
        for (currency, first), amount in other.steps.items():
            self.add_step(currency, first, amount if sign > 0 else money.neg(amount))

    def minus(self, other: Effect) -> Effect:
        result = Effect(dict(self.points), dict(self.steps))
        result.merge(other, -1)
        return result

    def on(self, figure: Figure) -> Decimal:
        """This effect on one figure (a bucket's balance: every step up to that bucket, and
        any amount held on that bucket alone, as a remainder is)."""
        point = self.points.get(figure, ZERO)
        if figure[0] == BALANCE and self.steps:
            currency, index = figure[1], figure[2]
            assert isinstance(index, int)
            steps = money.total(
                amount
                for (code, first), amount in self.steps.items()
                if code == currency and first <= index
            )
            return money.add(point, steps)
        return point

    def is_zero(self) -> bool:
        return not self.points and not self.steps

    def balance_figures(self) -> Iterator[tuple[str, int]]:
        """(currency, first bucket) of each balance step, for finding what it explains."""
        yield from self.steps


def movement_effect(
    movement: Movement,
    wallet: str | None,
    buckets: Buckets,
    openings: Mapping[tuple[str, str], datetime],
) -> Effect:
    """What one movement in `wallet` adds to the figures (docs/causes.md, "Effects").

    `wallet` None: a gateway transaction not yet placed, whose wallet figures are unknown.
    A movement dated before its wallet's opening is inside that opening: it moves no
    balance, only totals and its bucket's deposits or withdrawals (docs/reconciliation.md).
    """
    effect = Effect()
    if movement.status == "failed":
        return effect
    code, amount = movement.currency, movement.amount
    deposit = movement.type == "deposit"
    opened = openings.get((code, wallet)) if wallet is not None else None
    moves_balance = opened is None or movement.at >= opened
    if wallet is not None and moves_balance:
        if not deposit:
            effect.add(("available", code, wallet), money.neg(amount))
        elif movement.status == "confirmed":
            effect.add(("available", code, wallet), amount)
        else:
            effect.add(("pending", code, wallet), amount)
    effect.add(("total_deposited" if deposit else "total_withdrawn", code), amount)
    effect.add(("total_fees_paid", code), movement.fee)
    index = buckets.index(code, movement.at)
    if index is not None:
        effect.add(("deposits" if deposit else "withdrawals", code, index), amount)
        effect.add(("deposit_count" if deposit else "withdrawal_count", code, index), ONE)
    first = buckets.first_balance(code, movement.at)
    if first is not None and moves_balance:
        effect.add_step(code, first, amount if deposit else money.neg(amount))
    return effect
