"""The synthetic ledger: every payment and payout of the sandbox account, day by day.

`transactions(spec)` streams the ledger oldest first. It is a pure function of the spec:
each day draws from its own random generator seeded with (seed, day), and only one day's
transactions are in memory at once, so a million records cost little memory. Amounts are
integers of the currency's smallest unit; the random floats only choose sizes and times.

What it looks like: payments (deposits) and payouts (withdrawals) across the account's
wallets, busier in the afternoon UTC and on weekdays, growing over the period. Most are
completed; the last hour's payments are still confirming and the last six hours' payouts
still processing; some payments expired or failed; and a few payments have been stuck
confirming for days, as happens on a real gateway. A payout never takes a wallet below
zero: each spends part of what its wallet holds at that moment.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from reconcile_tui.errors import BadInput
from reconcile_tui.sandbox.catalog import Currency
from reconcile_tui.sandbox.config import LedgerSpec
from reconcile_tui.sandbox.spec import CONFIRMED, FAILED, status_of
from reconcile_tui.times import format_utc
from reconcile_tui.vocabulary import RecordType

__all__ = ["DAY", "Movement", "Transaction", "epoch", "epoch_text", "transactions"]

DAY: Final = 86_400
HOUR: Final = 3_600

#: Share of transactions that are payments (the rest are payouts, when a wallet can pay).
_PAYMENT_SHARE: Final = 0.74
#: Relative activity per hour of the day (UTC): quiet nights, busy afternoons.
_HOURLY: Final = (20, 14, 10, 8, 8, 10, 16, 26, 36, 44, 50, 54,
                  58, 60, 62, 64, 66, 66, 62, 56, 48, 40, 32, 26)  # fmt: skip
#: Relative activity per weekday, Monday first.
_WEEKDAY: Final = (100, 105, 105, 110, 120, 90, 80)
#: How a currency's traffic splits over its wallets (by how many wallets it has).
_WALLET_SHARES: Final = {1: (100,), 2: (65, 35), 3: (55, 30, 15)}

#: A payment younger than this is still confirming; up to twice as old, half of them are.
_CONFIRMING: Final = 45 * 60
#: A payout younger than this is still on its way (approved, processing, submitted).
_PAYOUT_PENDING: Final = 6 * HOUR
#: Stuck payments: on up to three chosen days in this window (days before today), plus
#: one per this many payments of any day in the window.
_STUCK_WINDOW: Final = (15, 2)
_STUCK_EVERY: Final = 2_500
#: The smallest payout, in US cents.
_MIN_PAYOUT_CENTS: Final = 5_000

_PAYOUT_WAITING: Final = ("pending", "approved", "processing", "submitted")


@dataclass(frozen=True, slots=True)
class Movement:
    """Money moving on a wallet, as either side writes it down; amounts in minor units."""

    reference: str
    at: int
    currency: str
    wallet_id: str
    type: RecordType
    amount: int
    fee: int
    status: str
    tx_hash: str | None

    @property
    def state(self) -> str:
        """Confirmed, pending or failed: the gateway status word in the product's terms."""
        return status_of(self.status)

    @property
    def occurred_at(self) -> str:
        return epoch_text(self.at)


@dataclass(frozen=True, slots=True)
class Transaction(Movement):
    """One payment or payout as the gateway holds it."""


def epoch(moment: datetime) -> int:
    """Whole seconds since 1970 (UTC): how the ledger keeps time."""
    return int(moment.astimezone(UTC).timestamp())


def epoch_text(at: int) -> str:
    """The stored time form (`2025-01-15T09:30:00Z`) of an epoch second."""
    return format_utc(datetime.fromtimestamp(at, UTC))


@dataclass(frozen=True, slots=True)
class _Day:
    start: int
    #: Seconds of the day that have happened by the clock (less than a day only today).
    length: int
    count: int
    stuck_chosen: bool
    in_stuck_window: bool


def _hour_weights(length: int) -> list[tuple[int, int, int]]:
    """(cumulative weight, hour, seconds available) for the hours a day has had so far."""
    table: list[tuple[int, int, int]] = []
    running = 0
    for hour, weight in enumerate(_HOURLY):
        seconds = min(HOUR, max(0, length - hour * HOUR))
        if seconds:
            running += weight * seconds
            table.append((running, hour, seconds))
    return table


def _plan_days(spec: LedgerSpec) -> list[_Day]:
    """How many transactions each day gets: weighted, and summing to exactly `records`."""
    clock = epoch(spec.clock)
    today = clock - clock % DAY
    first = today - (spec.days - 1) * DAY
    starts = [first + index * DAY for index in range(spec.days)]
    weights = []
    for index, start in enumerate(starts):
        length = DAY if start < today else clock - today
        table = _hour_weights(length)
        growth = 700 + 600 * index // max(spec.days - 1, 1)
        weekday = datetime.fromtimestamp(start, UTC).weekday()
        weights.append(_WEEKDAY[weekday] * growth * (table[-1][0] if table else 0))
    total = sum(weights)
    if total == 0 and spec.records:
        raise BadInput("the ledger has no time to hold records (one day, clock at midnight)")

    oldest, newest = _STUCK_WINDOW
    window = [s for s in starts if today - oldest * DAY <= s <= today - newest * DAY]
    chosen = set(random.Random(f"sandbox/{spec.seed}/stuck").sample(window, min(3, len(window))))

    days = []
    placed = 0
    cumulative = 0
    for start, weight in zip(starts, weights, strict=True):
        cumulative += weight
        upto = spec.records * cumulative // total if total else 0
        days.append(
            _Day(
                start=start,
                length=DAY if start < today else clock - today,
                count=upto - placed,
                stuck_chosen=start in chosen,
                in_stuck_window=start in window,
            )
        )
        placed = upto
    return days


class _Books:
    """What each wallet holds right now in the generation: payouts may spend only that."""

    def __init__(self, table: tuple[Currency, ...]) -> None:
        self.available = [[0] * len(currency.wallets) for currency in table]


def transactions(spec: LedgerSpec) -> Iterator[Transaction]:
    """The whole ledger, oldest first; `spec.records` transactions, all before the clock."""
    table = spec.currency_table
    clock = epoch(spec.clock)
    traffic = []
    running = 0
    for currency in table:
        running += currency.traffic
        traffic.append(running)
    books = _Books(table)
    counters = [0, 0]
    for day in _plan_days(spec):
        if day.count:
            rng = random.Random(f"sandbox/{spec.seed}/{day.start}")
            yield from _one_day(rng, table, traffic, day, clock, books, counters)


def _one_day(
    rng: random.Random,
    table: tuple[Currency, ...],
    traffic: list[int],
    day: _Day,
    clock: int,
    books: _Books,
    counters: list[int],
) -> Iterator[Transaction]:
    hours = _hour_weights(day.length)
    hour_marks = [mark for mark, _, _ in hours]
    hour_total = hour_marks[-1]
    traffic_total = traffic[-1]

    events: list[tuple[int, int, int, bool, int]] = []
    for number in range(day.count):
        slot = hours[bisect.bisect_right(hour_marks, rng.random() * hour_total)]
        second = slot[1] * HOUR + _below(rng, slot[2])
        currency_index = bisect.bisect_right(traffic, rng.random() * traffic_total)
        is_payment = rng.random() < _PAYMENT_SHARE
        shares = _WALLET_SHARES[len(table[currency_index].wallets)]
        wallet_index = _pick(rng, shares)
        events.append((second, number, currency_index, is_payment, wallet_index))
    events.sort()

    stuck: set[int] = set()
    if day.in_stuck_window:
        payments = sum(1 for event in events if event[3])
        quota = min(payments, int(day.stuck_chosen) + payments // _STUCK_EVERY)
        stuck = set(rng.sample(range(payments), quota))

    payment_number = 0
    for second, _, currency_index, is_payment, wallet_index in events:
        currency = table[currency_index]
        at = day.start + second
        age = clock - at
        wallets = books.available[currency_index]
        payout = None if is_payment else _payout_units(rng, currency, wallets[wallet_index])
        if payout is None:
            was_stuck = is_payment and payment_number in stuck
            if is_payment:
                payment_number += 1
            counters[0] += 1
            units, fee, status = _payment(rng, currency, age, was_stuck)
            if status_of(status) == CONFIRMED:
                wallets[wallet_index] += units
            reference, kind, amount = f"ORD-{counters[0]:06d}", RecordType.DEPOSIT, units
            on_chain = status != "expired"
        else:
            counters[1] += 1
            status, fee = _payout_status(rng, currency, payout, age)
            if status_of(status) != FAILED:
                wallets[wallet_index] -= payout
            reference, kind, amount = f"PO-{counters[1]:06d}", RecordType.WITHDRAWAL, payout
            on_chain = status not in {"pending", "approved", "rejected", "cancelled"}
        yield Transaction(
            reference=reference,
            at=at,
            currency=currency.code,
            wallet_id=currency.wallets[wallet_index].wallet_id,
            type=kind,
            amount=amount,
            fee=fee,
            status=status,
            tx_hash=_tx_hash(rng, currency) if on_chain else None,
        )


def _below(rng: random.Random, count: int) -> int:
    """A whole number in [0, count): `random()` scaled, which is exact IEEE arithmetic (the
    same on every platform) and several times faster than `randrange` in this hot loop."""
    return int(rng.random() * count)


@functools.lru_cache(maxsize=64)
def _cumulative(shares: tuple[int, ...]) -> tuple[list[int], int]:
    running = list(itertools.accumulate(shares))
    return running, running[-1]


def _pick(rng: random.Random, shares: tuple[int, ...]) -> int:
    """An index into `shares`, each as likely as its share."""
    marks, total = _cumulative(shares)
    return bisect.bisect_right(marks, rng.random() * total)


def _price_cents(rng: random.Random, low: int, high: int) -> int:
    """A payment's size in cents: smaller ones more often, like an online shop's orders.

    Log-uniform-ish without transcendental functions (their last bits differ between
    platforms): pick a doubling band, the smaller bands likelier, then a cent within it.
    """
    bands, weights = _price_bands(low, high)
    band_low, band_high = bands[_pick(rng, weights)]
    cents = band_low + _below(rng, band_high - band_low)
    style = rng.random()
    if style < 0.25 and cents >= 100:
        cents = cents - cents % 100 + 99  # a price ending in .99
    elif style < 0.45 and cents >= 100:
        cents -= cents % 100  # a whole-dollar price
    return cents


@functools.lru_cache(maxsize=32)
def _price_bands(low: int, high: int) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
    """Doubling bands of cents from `low` to `high`, and their weights (smaller: likelier)."""
    bands = []
    edge = low
    while edge < high:
        bands.append((edge, min(edge * 2, high)))
        edge *= 2
    return tuple(bands), tuple(range(len(bands) + 3, 3, -1))


def units_for_cents(currency: Currency, cents: int) -> int:
    """How many minor units of `currency` buy `cents` US cents at its rate."""
    return int(cents * 10**currency.scale // currency.rate_cents)


def _payment(rng: random.Random, currency: Currency, age: int, stuck: bool) -> tuple[int, int, str]:
    """(amount, fee, status) of a payment."""
    cents = _price_cents(rng, *currency.payment_cents)
    scale = currency.scale
    if currency.stable:
        units = cents * 10 ** (scale - 2)
        if rng.random() < 0.35:  # converted from a fiat price: sub-cent digits
            units += _below(rng, 10 ** (scale - 2))
    else:
        units = units_for_cents(currency, cents) + _below(rng, 10 ** (scale // 2))
    if stuck or age < _CONFIRMING or (age < 2 * _CONFIRMING and rng.random() < 0.5):
        status = "confirming"
    else:
        roll = rng.random()
        if roll < 0.04:
            status = "expired"  # never paid: the invoice amount, no fee
        elif roll < 0.05:
            status = "failed"
        elif roll < 0.065:
            status = "partially_completed"
            units = units * (60 + _below(rng, 36)) // 100
        else:
            status = "completed"
    fee = 0 if status in {"expired", "failed"} else units * currency.fee_bps // 10_000
    return units, fee, status


def _payout_units(rng: random.Random, currency: Currency, available: int) -> int | None:
    """A payout spending 20-70% of what the wallet holds, or None if it holds too little."""
    smallest = units_for_cents(currency, _MIN_PAYOUT_CENTS)
    if available < 2 * smallest:
        return None
    raw = available * (20 + _below(rng, 51)) // 100
    scale = currency.scale
    if currency.stable:
        step = 10**scale if rng.random() < 0.6 else 10 ** (scale - 2)
    else:
        step = 10 ** (scale - 3) if rng.random() < 0.5 else 1
    units = raw - raw % step
    return units if units >= smallest else None


def _payout_status(rng: random.Random, currency: Currency, units: int, age: int) -> tuple[str, int]:
    """(status, fee) of a payout: recent ones still on their way, a few refused or failed."""
    low, high = currency.network_fee
    network_fee = min(low + _below(rng, high - low + 1), units // 10)
    if age < _PAYOUT_PENDING:
        return _PAYOUT_WAITING[_below(rng, len(_PAYOUT_WAITING))], network_fee
    roll = rng.random()
    if roll < 0.012:
        return "rejected", 0
    if roll < 0.02:
        return "cancelled", 0
    if roll < 0.03:
        return "failed", network_fee
    return "completed", network_fee


def _tx_hash(rng: random.Random, currency: Currency) -> str:
    digits = f"{rng.getrandbits(256):064x}"
    return f"0x{digits}" if currency.evm else digits
