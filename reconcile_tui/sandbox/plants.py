"""Planted merchant-side errors: which ledger transactions they hit, and the rows they produce.

The merchant's books are the gateway's ledger with `n` mistakes planted in them, cycling
through every kind of mistake a merchant's export makes (`PlantKind`), so that every kind
of cause (docs/causes.md) has one to find. Targets are chosen in one streaming pass over
the ledger (`choose_plants`): each kind of target keeps a small pool of its best-ranked
candidates (a seeded hash of the reference, or recency, or age), and the plants then take
distinct targets from their pools. Each mistake is kept unambiguous under docs/causes.md:
a transaction the records miss and a booking to the wrong wallet never share a currency
(placing the one in a wallet would read the other's gaps), and two wrong wallets never
share one either. `Planter` replays the ledger a
second time and turns each transaction into the rows the merchant's file holds for it.
"""

from __future__ import annotations

import bisect
import random
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from reconcile_tui.errors import BadInput
from reconcile_tui.sandbox.catalog import (
    DEFAULT_WALLET,
    FOREIGN_CURRENCIES,
    MARKETPLACE,
    ONLINE_STORE,
    RETIRED_WALLET,
    Currency,
)
from reconcile_tui.sandbox.config import LedgerSpec
from reconcile_tui.sandbox.ledger import (
    DAY,
    Movement,
    Transaction,
    epoch,
    transactions,
    units_for_cents,
)
from reconcile_tui.sandbox.listing import gateway_id
from reconcile_tui.sandbox.openings import OpeningPlan, plan_opening
from reconcile_tui.sandbox.spec import CONFIRMED, FAILED, PENDING
from reconcile_tui.sandbox.units import amount_text
from reconcile_tui.sandbox.views import bucket_starts
from reconcile_tui.vocabulary import RecordType

__all__ = [
    "NAMED_WALLETS",
    "PLANT_MEANINGS",
    "MerchantRow",
    "Plant",
    "PlantKind",
    "Planter",
    "choose_plants",
]


class PlantKind(StrEnum):
    """The merchant-side mistakes a scenario plants, in the order they cycle."""

    MISSING_DEPOSIT = "missing_deposit"
    EXTRA_WITHDRAWAL = "extra_withdrawal"
    AMOUNT_OFF_BY_ONE = "amount_off_by_one"
    WRONG_WALLET = "wrong_wallet"
    STATUS_LAG = "status_lag"
    DUPLICATE_ROW = "duplicate_row"
    UNKNOWN_CURRENCY = "unknown_currency"
    FEE_MISMATCH = "fee_mismatch"
    STALE_PENDING = "stale_pending"
    STATUS_AHEAD = "status_ahead"
    TIME_SHIFT = "time_shift"
    WALLET_NOT_IN_API = "wallet_not_in_api"


#: What each kind means, for scenario.json readers and the docs.
PLANT_MEANINGS: Final = {
    PlantKind.MISSING_DEPOSIT: "a completed payment is missing from the records",
    PlantKind.EXTRA_WITHDRAWAL: "the records hold a payout the gateway never made",
    PlantKind.AMOUNT_OFF_BY_ONE: "a completed payment's amount is one minor unit too high",
    PlantKind.WRONG_WALLET: "a currency's first completed payment is booked to another wallet"
    " the gateway reports for that currency",
    PlantKind.STATUS_LAG: "a payment the gateway completed within the last day is still"
    " pending in the records",
    PlantKind.DUPLICATE_ROW: "a row appears twice in the file (same reference)",
    PlantKind.UNKNOWN_CURRENCY: "the records hold a payment in a currency the account does not"
    f" hold ({' and '.join(FOREIGN_CURRENCIES)} in turn)",
    PlantKind.FEE_MISMATCH: "a payment's fee is recorded twice as high as the gateway's",
    PlantKind.STALE_PENDING: "a payment the gateway completed days ago is still pending in"
    " the records",
    PlantKind.STATUS_AHEAD: "the records say completed for a payment the gateway is still"
    " confirming",
    PlantKind.TIME_SHIFT: "a completed payment is dated a day early in the records (another"
    " hour, another day)",
    PlantKind.WALLET_NOT_IN_API: "a payment is booked to a wallet the gateway does not report"
    " for its currency",
}

#: Plants that leave a wallet's gap for matching to place (docs/causes.md, "Placing a
#: transaction in a wallet", "Wrong wallet"): one of each group per currency at most, and
#: a currency holds plants of one group only.
_MISSING: Final = frozenset({PlantKind.MISSING_DEPOSIT})
_MISBOOKED: Final = frozenset({PlantKind.WRONG_WALLET, PlantKind.WALLET_NOT_IN_API})
#: Plants whose pools are small or ordered by time: they choose their targets first.
_SCARCE: Final = frozenset(
    {
        PlantKind.WRONG_WALLET,
        PlantKind.STATUS_LAG,
        PlantKind.STATUS_AHEAD,
        PlantKind.STALE_PENDING,
    }
)
#: What a wrong wallet gives way to when no currency can take one any more.
_GAPLESS: Final = (PlantKind.AMOUNT_OFF_BY_ONE, PlantKind.FEE_MISMATCH, PlantKind.TIME_SHIFT)

_STATUS_PENDING_WORD: Final = "confirming"

#: Wallets the merchant's file names (`wallet_name`) instead of giving their id: payments
#: as the gateway spells the name, payouts in lower case (names resolve case-insensitively).
NAMED_WALLETS: Final = {MARKETPLACE.wallet_id: MARKETPLACE.name}


@dataclass(frozen=True, slots=True)
class MerchantRow(Movement):
    """One row of the merchant's file; its status as written."""

    #: A second copy of an earlier row's reference (the importer keeps the first).
    repeat: bool = False
    #: The name the file gives instead of `wallet_id` (the column is then left empty).
    wallet_name: str | None = None

    @classmethod
    def of(cls, tx: Transaction) -> MerchantRow:
        """The row an accurate export writes for a gateway transaction."""
        return cls(
            tx.reference, tx.at, tx.currency, tx.wallet_id, tx.type, tx.amount, tx.fee,
            tx.status, tx.tx_hash,
        )  # fmt: skip

    def as_written(self) -> MerchantRow:
        """The row with its wallet named instead of identified where the file does that."""
        name = NAMED_WALLETS.get(self.wallet_id)
        if name is None or self.wallet_name is not None:
            return self
        lowered = self.type is RecordType.WITHDRAWAL
        return replace(self, wallet_name=name.lower() if lowered else name)

    @property
    def wallet(self) -> tuple[str | None, str | None]:
        """(wallet_id, wallet_name) as the file writes them: one of the two is None."""
        if self.wallet_name is not None:
            return None, self.wallet_name
        return self.wallet_id, None


@dataclass(frozen=True, slots=True)
class Plant:
    """One planted mistake: the transaction it hits and the row the merchant's file holds."""

    number: int
    kind: PlantKind
    target: Transaction
    #: The row written instead of (or, for insertions, after) the target; None: left out.
    row: MerchantRow | None
    what: str
    #: The target's `id` in the gateway's transaction listing.
    gateway_id: str = ""

    @property
    def reference(self) -> str:
        """The reference that carries the mistake in the merchant's file."""
        return self.row.reference if self.row is not None else self.target.reference

    def describe(self) -> dict[str, object]:
        """The plant as scenario.json lists it."""
        row = self.row or MerchantRow.of(self.target)
        return {
            "number": self.number,
            "kind": self.kind.value,
            "reference": self.reference,
            "gateway_reference": self.target.reference,
            "gateway_id": self.gateway_id,
            "currency": row.currency,
            "wallet_id": row.wallet_id,
            "occurred_at": self.target.occurred_at,
            "what": self.what,
        }


# -- choosing targets ------------------------------------------------------------------


@dataclass
class _Pool:
    """The best-ranked candidates of one kind of target, at most `size` of them."""

    salt: int
    accepts: Callable[[Transaction], int | None]
    newest_first: bool
    size: int
    ranked: list[tuple[tuple[int, int, str], Transaction]]

    def offer(self, tx: Transaction, hashed: int) -> None:
        preference = self.accepts(tx)
        if preference is None:
            return
        key = -tx.at if self.newest_first else ((hashed ^ self.salt) * 2_654_435_761) & 0xFFFFFFFF
        rank = (preference, key, tx.reference)
        if len(self.ranked) >= self.size and rank >= self.ranked[-1][0]:
            return
        bisect.insort(self.ranked, (rank, tx), key=lambda entry: entry[0])
        del self.ranked[self.size :]


def _completed_payment(tx: Transaction) -> bool:
    return tx.type is RecordType.DEPOSIT and tx.status == "completed"


def _pools(spec: LedgerSpec, count: int, period: str, interval: str) -> dict[str, _Pool]:
    clock = epoch(spec.clock)
    period_start = bucket_starts(clock, period, interval)[0]
    day_ago = clock - DAY
    # Stale plants must stay stale whatever the threshold rounding: over a day and an hour.
    stale_before = clock - DAY - 3_600
    fortnight = clock - 15 * DAY

    def in_period(tx: Transaction) -> int:
        return 0 if tx.at >= period_start else 1

    def payment_in_period(tx: Transaction) -> int | None:
        return in_period(tx) if _completed_payment(tx) else None

    def payment_before_period(tx: Transaction) -> int | None:
        return 1 - in_period(tx) if _completed_payment(tx) else None

    def payment(tx: Transaction) -> int | None:
        return 0 if _completed_payment(tx) else None

    def payment_with_fee(tx: Transaction) -> int | None:
        return 0 if _completed_payment(tx) and tx.fee > 0 else None

    def recent_payment(tx: Transaction) -> int | None:
        return (0 if tx.at >= day_ago else 1) if _completed_payment(tx) else None

    def old_payment(tx: Transaction) -> int | None:
        if not _completed_payment(tx) or tx.at >= stale_before:
            return None
        return 0 if tx.at >= fortnight else 1

    # A host lends only its time, wallet and currency; a pending one is left to the plants
    # that need one (status_ahead), whatever the period.
    def any_in_period(tx: Transaction) -> int | None:
        return None if tx.state == PENDING else in_period(tx)

    def confirming_payment(tx: Transaction) -> int | None:
        return 0 if tx.type is RecordType.DEPOSIT and tx.status == "confirming" else None

    several_wallets = {c.code for c in spec.currency_table if len(c.wallets) > 1}
    first_seen: set[str] = set()

    def first_confirmed_payment(tx: Transaction) -> int | None:
        # The currency's first confirmed payment: no pair before it in matching order can
        # show the same gaps, so the wrong wallet is found on this one (docs/causes.md).
        if tx.type is not RecordType.DEPOSIT or tx.state != CONFIRMED:
            return None
        if tx.currency in first_seen or tx.currency not in several_wallets:
            return None
        first_seen.add(tx.currency)
        return 0 if tx.status == "completed" else None

    def anything(tx: Transaction) -> int | None:
        return None if tx.state == PENDING else 0

    chooser: dict[str, tuple[Callable[[Transaction], int | None], bool]] = {
        "payment_in_period": (payment_in_period, False),
        "payment_before_period": (payment_before_period, False),
        "payment": (payment, False),
        "payment_with_fee": (payment_with_fee, False),
        "recent_payment": (recent_payment, True),
        "old_payment": (old_payment, False),
        "confirming_payment": (confirming_payment, True),
        "first_confirmed_payment": (first_confirmed_payment, False),
        "host_in_period": (any_in_period, False),
        "host": (anything, False),
    }
    return {
        name: _Pool(zlib.crc32(name.encode()), accepts, newest_first, 4 * count + 8, [])
        for name, (accepts, newest_first) in chooser.items()
    }


def _pool_of(kind: PlantKind, occurrence: int) -> str:
    alternate = "payment_in_period" if occurrence % 2 == 0 else "payment_before_period"
    return {
        PlantKind.MISSING_DEPOSIT: alternate,
        PlantKind.AMOUNT_OFF_BY_ONE: alternate,
        PlantKind.EXTRA_WITHDRAWAL: "host_in_period",
        PlantKind.UNKNOWN_CURRENCY: "host_in_period",
        PlantKind.WRONG_WALLET: "first_confirmed_payment",
        PlantKind.WALLET_NOT_IN_API: "payment",
        PlantKind.STATUS_AHEAD: "confirming_payment",
        PlantKind.TIME_SHIFT: "payment_in_period",
        PlantKind.FEE_MISMATCH: "payment_with_fee",
        PlantKind.STATUS_LAG: "recent_payment",
        PlantKind.DUPLICATE_ROW: "host",
        PlantKind.STALE_PENDING: "old_payment",
    }[kind]


def choose_plants(spec: LedgerSpec, count: int, period: str, interval: str) -> list[Plant]:
    """`count` plants for the ledger of `spec`, kinds cycling in `PlantKind` order.

    Half the missing payments and amount typos fall inside the history period (their
    bucket and every later one diverge), half before it (every bucket's balance does).
    Raises BadInput when the ledger is too small to hold them all.
    """
    if count < 0:
        raise BadInput(f"--discrepancies must be 0 or more, not {count}")
    if count == 0:
        return []
    pools = _pools(spec, count, period, interval)
    opening = plan_opening(spec)
    for tx in transactions(spec):
        if opening is not None and tx.currency == opening.currency:
            continue  # its totals are not compared: a mistake there could leave no mark
        hashed = zlib.crc32(f"{spec.seed}/{tx.reference}".encode())
        for pool in pools.values():
            pool.offer(tx, hashed)

    kinds = tuple(PlantKind)
    taken: set[str] = set()
    #: Per currency, the group of gap-leaving plants it holds (see _MISSING, _MISBOOKED).
    groups: dict[str, frozenset[PlantKind]] = {}
    chosen: dict[int, Plant] = {}
    # The plants with few candidates choose first, so that which of them a host or a
    # missing payment takes never depends on the period (a status lag must stay recent).
    order = sorted(range(count), key=lambda i: (kinds[i % len(kinds)] not in _SCARCE, i))
    for index in order:
        occurrence = index // len(kinds)
        # A wrong wallet that no currency can take any more (see _fits) gives way to the
        # next kind that leaves no gap to place.
        wanted = kinds[index % len(kinds)]
        choices = [wanted] if wanted not in _MISBOOKED else [wanted, *_GAPLESS]
        kind, target = wanted, None
        for kind in choices:
            name = _pool_of(kind, occurrence)
            target = next(
                (
                    tx
                    for _, tx in pools[name].ranked
                    if tx.reference not in taken and _fits(kind, groups.get(tx.currency))
                ),
                None,
            )
            if target is not None:
                break
        if target is None:
            raise BadInput(
                f"{spec.records} records in {len(spec.codes)} currencies are too few to plant"
                f" {count} discrepancies (no transaction left for a {kind.value}); generate"
                " more records or currencies"
            )
        taken.add(target.reference)
        if kind in _MISSING:
            groups[target.currency] = _MISSING
        elif kind in _MISBOOKED:
            groups[target.currency] = _MISBOOKED | {kind}  # taken: one per currency
        rng = random.Random(f"sandbox/{spec.seed}/plant/{index}")
        currency = next(c for c in spec.currency_table if c.code == target.currency)
        plant = _plant(index + 1, kind, occurrence, target, currency, rng)
        chosen[index] = replace(plant, gateway_id=gateway_id(spec.seed, target))
    return [chosen[index] for index in range(count)]


def _fits(kind: PlantKind, group: frozenset[PlantKind] | None) -> bool:
    """Whether a plant of `kind` may go into a currency already holding `group`."""
    if group is None:
        return True
    if kind in _MISSING:
        return group == _MISSING
    return kind not in _MISBOOKED


# -- what each plant writes ----------------------------------------------------------------


def _plant(
    number: int,
    kind: PlantKind,
    occurrence: int,
    tx: Transaction,
    currency: Currency,
    rng: random.Random,
) -> Plant:
    row, what = _planted_row(kind, occurrence, tx, currency, rng)
    return Plant(number, kind, tx, row, what)


def _planted_row(
    kind: PlantKind, occurrence: int, tx: Transaction, currency: Currency, rng: random.Random
) -> tuple[MerchantRow | None, str]:
    """The row the merchant's file holds for a planted mistake (None: left out), and what
    the mistake is, in words."""
    scale = currency.scale
    exact = MerchantRow.of(tx)
    shown = f"{amount_text(tx.amount, scale)} {tx.currency}"
    if kind is PlantKind.MISSING_DEPOSIT:
        return None, f"payment {tx.reference} of {shown} is not recorded"
    if kind is PlantKind.EXTRA_WITHDRAWAL:
        row = _extra_payout(tx, currency, occurrence, rng)
        return row, (
            f"payout {row.reference} of {amount_text(row.amount, scale)} {tx.currency} is"
            " recorded, but the gateway never made it"
        )
    if kind is PlantKind.AMOUNT_OFF_BY_ONE:
        typo = tx.amount + 1
        return replace(exact, amount=typo), (
            f"payment {tx.reference} of {shown} is recorded as {amount_text(typo, scale)}"
        )
    if kind is PlantKind.WRONG_WALLET:
        listed = [wallet.wallet_id for wallet in currency.wallets]
        other = listed[(listed.index(tx.wallet_id) + 1) % len(listed)]
        return replace(exact, wallet_id=other), (
            f"payment {tx.reference} of {shown} is booked to wallet {other}; the gateway"
            f" credited {tx.wallet_id}"
        )
    if kind is PlantKind.STATUS_AHEAD:
        return replace(exact, status="completed"), (
            f"payment {tx.reference} of {shown} is completed in the records but still"
            f" {tx.status} at the gateway"
        )
    if kind is PlantKind.TIME_SHIFT:
        return replace(exact, at=tx.at - DAY), (
            f"payment {tx.reference} of {shown} is dated a day before the gateway's"
            f" {tx.occurred_at}"
        )
    if kind is PlantKind.WALLET_NOT_IN_API:
        wallet = _wrong_wallet(currency)
        return replace(exact, wallet_id=wallet), (
            f"payment {tx.reference} of {shown} is booked to wallet {wallet}, which the gateway"
            f" does not report for {tx.currency}"
        )
    if kind in {PlantKind.STATUS_LAG, PlantKind.STALE_PENDING}:
        return replace(exact, status=_STATUS_PENDING_WORD), (
            f"payment {tx.reference} of {shown} is completed at the gateway but still"
            f" {_STATUS_PENDING_WORD} in the records"
        )
    if kind is PlantKind.DUPLICATE_ROW:
        return replace(exact, repeat=True), f"{tx.reference} appears twice in the file"
    if kind is PlantKind.UNKNOWN_CURRENCY:
        row = _foreign_payment(tx, occurrence, rng)
        places = FOREIGN_CURRENCIES[row.currency]
        return row, (
            f"payment {row.reference} of {amount_text(row.amount, places)} {row.currency} is"
            " recorded in a currency the account does not hold"
        )
    assert kind is PlantKind.FEE_MISMATCH
    return replace(exact, fee=tx.fee * 2), (
        f"payment {tx.reference}'s fee {amount_text(tx.fee, scale)} is recorded as"
        f" {amount_text(tx.fee * 2, scale)}"
    )


def _wrong_wallet(currency: Currency) -> str:
    """A wallet of the account the gateway does not report for `currency`."""
    reported = {wallet.wallet_id for wallet in currency.wallets}
    for wallet in (ONLINE_STORE, MARKETPLACE, RETIRED_WALLET):
        if wallet.wallet_id not in reported:
            return wallet.wallet_id
    raise AssertionError("the retired wallet is never reported")


def _hash(rng: random.Random, currency: Currency | None) -> str:
    digits = f"{rng.getrandbits(256):064x}"
    return f"0x{digits}" if currency is None or currency.evm else digits


def _extra_payout(
    host: Transaction, currency: Currency, occurrence: int, rng: random.Random
) -> MerchantRow:
    """A round payout of $100-$2,000 the merchant booked but never sent."""
    cents = (100 + rng.randrange(1_901)) * 100
    units = units_for_cents(currency, cents)
    step = 10**currency.scale if currency.stable else 10 ** (currency.scale - 3)
    units = max(step, units - units % step)
    fee = min(currency.network_fee[0], units // 10)
    return MerchantRow(
        reference=f"PO-M{occurrence + 1:05d}",
        at=host.at,
        currency=host.currency,
        wallet_id=host.wallet_id,
        type=RecordType.WITHDRAWAL,
        amount=units,
        fee=fee,
        status="completed",
        tx_hash=_hash(rng, currency),
    )


def _foreign_payment(host: Transaction, occurrence: int, rng: random.Random) -> MerchantRow:
    """A payment of 10-500 whole units in a currency the account does not hold, the
    foreign currencies in turn (USDTTON at 6 places, TON at 9)."""
    codes = tuple(FOREIGN_CURRENCIES)
    code = codes[occurrence % len(codes)]
    places = FOREIGN_CURRENCIES[code]
    units = (10 + rng.randrange(491)) * 10**places + rng.randrange(10**places)
    return MerchantRow(
        reference=f"ORD-M{occurrence + 1:05d}",
        at=host.at,
        currency=code,
        wallet_id=DEFAULT_WALLET.wallet_id,
        type=RecordType.DEPOSIT,
        amount=units,
        fee=units * 80 // 10_000,
        status="completed",
        tx_hash=_hash(rng, None),
    )


# -- replaying the ledger into the merchant's file ------------------------------------------


class Planter:
    """Turns ledger transactions, in order, into the rows of the merchant's file."""

    def __init__(self, plants: list[Plant], opening: OpeningPlan | None = None) -> None:
        self._by_target = {plant.target.reference: plant for plant in plants}
        self._repeats: list[MerchantRow] = []
        self._day: int | None = None
        self._opening = opening
        #: Per wallet of the opening currency: what it holds at the opening (minor units).
        self._held: dict[str, int] = {}
        self.opening_rows: list[MerchantRow] = []
        #: Transactions of the opening currency before it, left out of the file.
        self.left_out = 0

    def rows_for(self, tx: Transaction) -> Iterator[MerchantRow]:
        """The rows for `tx`, after any repeated rows of earlier days that are now due."""
        day = tx.at // DAY
        if day != self._day:
            # A repeated row shows up at the end of its day, like an overlapping re-export.
            yield from self._due_repeats()
            self._day = day
        opening = self._opening
        if opening is not None and not self.opening_rows and tx.at >= opening.at:
            yield from self._open()
        if opening is not None and tx.currency == opening.currency and tx.at < opening.at:
            self._hold(tx)
            return
        for row in self._rows(tx):
            yield row.as_written()

    def _rows(self, tx: Transaction) -> Iterator[MerchantRow]:
        plant = self._by_target.get(tx.reference)
        if plant is None:
            yield MerchantRow.of(tx)
            return
        if plant.kind is PlantKind.MISSING_DEPOSIT:
            return
        assert plant.row is not None
        if plant.kind in {PlantKind.EXTRA_WITHDRAWAL, PlantKind.UNKNOWN_CURRENCY}:
            yield MerchantRow.of(tx)
            yield plant.row
        elif plant.kind is PlantKind.DUPLICATE_ROW:
            yield MerchantRow.of(tx)
            self._repeats.append(plant.row.as_written())
        else:
            yield plant.row

    def _hold(self, tx: Transaction) -> None:
        """Sum a transaction the export leaves out into what its wallet holds at the opening."""
        self.left_out += 1
        state = tx.state
        held = self._held.setdefault(tx.wallet_id, 0)
        # The opening is placed where nothing is pending (see openings.py).
        assert state != PENDING or tx.type is RecordType.WITHDRAWAL, tx.reference
        if state == FAILED:
            return
        if tx.type is RecordType.DEPOSIT:
            self._held[tx.wallet_id] = held + tx.amount
        else:
            self._held[tx.wallet_id] = held - tx.amount

    def _open(self) -> Iterator[MerchantRow]:
        """One opening row per wallet of the opening currency: what it holds at that time."""
        opening = self._opening
        assert opening is not None
        for index, wallet in enumerate(opening.wallets):
            row = MerchantRow(
                reference=f"OPEN-{opening.currency}-{index + 1}",
                at=opening.at,
                currency=opening.currency,
                wallet_id=wallet,
                type=RecordType.OPENING,
                amount=self._held.get(wallet, 0),
                fee=0,
                status=CONFIRMED,
                tx_hash=None,
            ).as_written()
            self.opening_rows.append(row)
            yield row

    def _due_repeats(self) -> Iterator[MerchantRow]:
        repeats, self._repeats = self._repeats, []
        yield from repeats

    def finish(self) -> Iterator[MerchantRow]:
        """Rows still held back (repeats of the last day; the openings of a short ledger)."""
        yield from self._due_repeats()
        if self._opening is not None and not self.opening_rows:
            yield from self._open()
