"""The causes a correct check must report for a scenario, worked out from what was planted.

The generator knows the truth the engine has to find: which record belongs to which
gateway transaction, and what was changed. This model writes each planted mistake as the
cause docs/causes.md defines for it, with its exact effect on every compared figure (an
effect is kept per hour, so any period or interval can be cut from it), places a gateway
transaction the records miss in a wallet and finds a wrong wallet by the remaining gaps
exactly as that page says, and gives every other discrepancy kind its one cause. Then it
checks itself: each discrepancy of the expected report is explained by the causes whose
effect on its figure is not zero, and what they leave is an `unexplained` cause. A
scenario whose plants the model explains only partly is a planting bug; the unit tests
hold every generated scenario to "unexplained: 0".

Like `expected.py`, it shares nothing with the engine (import-linter holds the sandbox to
that); the cause id recipe and the kinds are restated in `spec.py`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Final

from reconcile_tui.sandbox import spec
from reconcile_tui.sandbox.ledger import HOUR, Transaction
from reconcile_tui.sandbox.plants import Plant, PlantKind
from reconcile_tui.sandbox.units import amount_text
from reconcile_tui.vocabulary import RecordType

__all__ = ["Cause", "Movement", "effect", "explain", "planted_causes"]

#: A figure: ("available" | "pending", wallet), (total field,), or per hour
#: ("deposits" | "withdrawals" | "deposit_count" | "withdrawal_count", hour start) and
#: ("balance", hour start): a change to the balance at the end of every bucket after it.
Figure = tuple[Any, ...]
Effect = Counter[Figure]

_TOTALS: Final = ("total_deposited", "total_withdrawn")
_COUNTS: Final = ("deposit_count", "withdrawal_count")


@dataclass(frozen=True, slots=True)
class Movement:
    """A record, or a gateway transaction placed in a wallet (docs/causes.md, "Effects")."""

    wallet: str | None
    deposit: bool
    amount: int
    fee: int
    state: str
    at: int

    @classmethod
    def of(cls, tx: Transaction, wallet: str | None) -> Movement:
        return cls(wallet, tx.type is RecordType.DEPOSIT, tx.amount, tx.fee, tx.state, tx.at)


def effect(movement: Movement) -> Effect:
    """What one movement adds to every figure (nothing when it failed)."""
    found: Effect = Counter()
    if movement.state == spec.FAILED:
        return found
    size = movement.amount
    if movement.wallet is not None:
        if movement.deposit:
            figure = "available" if movement.state == spec.CONFIRMED else "pending"
            found[(figure, movement.wallet)] += size
        else:
            found[("available", movement.wallet)] -= size
    found[("total_deposited",) if movement.deposit else ("total_withdrawn",)] += size
    found[("total_fees_paid",)] += movement.fee
    hour = movement.at - movement.at % HOUR
    found[("deposits" if movement.deposit else "withdrawals", hour)] += size
    found[("deposit_count" if movement.deposit else "withdrawal_count", hour)] += 1
    found[("balance", hour)] += size if movement.deposit else -size
    return found


def _less(one: Effect, other: Effect) -> Effect:
    found = Counter(one)
    found.subtract(other)
    return Counter({key: value for key, value in found.items() if value})


@dataclass
class Cause:
    """One cause as the report lists it; `effect` in minor units (counts as counts)."""

    kind: str
    currency: str | None
    wallet_id: str | None
    references: tuple[str, ...] = ()
    gateway_ids: tuple[str, ...] = ()
    effect: Effect = field(default_factory=Counter)
    message: str = ""
    #: The severity of a cause standing for a discrepancy (its own); errors otherwise.
    severity: str = "error"
    #: Ids of the discrepancies it stands for (kinds that are one cause per discrepancy).
    stands_for: tuple[str, ...] = ()
    #: Its `amount` when it stands for a discrepancy: that discrepancy's difference.
    fixed_amount: str | None = None
    explains: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return spec.cause_id(
            self.kind,
            self.currency,
            self.wallet_id,
            self.references,
            self.gateway_ids,
            self.stands_for[0] if self.stands_for else None,
        )

    def amount_units(self) -> int | None:
        """Its effect on the gap it is named for (docs/causes.md, "Cause ids")."""
        mine = self.effect
        if self.wallet_id is not None:
            for name in ("available", "pending"):
                if mine.get((name, self.wallet_id)):
                    return mine[(name, self.wallet_id)]
        for name in _TOTALS:
            if mine.get((name,)):
                return mine[(name,)]
        sizes = [
            (abs(value), value > 0, value)
            for key, value in mine.items()
            if value and key[0] not in _COUNTS
        ]
        return max(sizes)[2] if sizes else None

    def sort_key(self) -> tuple[Any, ...]:
        return (
            0 if self.severity == "error" else 1,
            self.currency or "",
            spec.cause_kind_position(self.kind),
            self.wallet_id or "",
            self.references,
            self.gateway_ids,
            self.id,
        )

    def to_dict(self, scale: int | None) -> dict[str, Any]:
        if self.stands_for:
            shown = self.fixed_amount
        else:
            units = self.amount_units()
            shown = amount_text(units or 0, scale if scale is not None else spec.MOST_PLACES)
        return {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity,
            "currency": self.currency,
            "wallet_id": self.wallet_id,
            "references": list(self.references),
            "gateway_ids": list(self.gateway_ids),
            "amount": shown,
            "explains": list(self.explains),
            "message": self.message,
            "acknowledged": False,
        }


# -- the planted mistakes -----------------------------------------------------------------


@dataclass(frozen=True)
class _Pair:
    """A record matched to its gateway transaction (each plant's truth)."""

    plant: Plant
    record: Movement
    gateway: Transaction

    @property
    def order(self) -> tuple[int, str]:
        """Matching takes records in order of (occurred_at, reference)."""
        return (self.record.at, self.plant.reference)


def _chain(pair: _Pair) -> list[Cause]:
    """A matched pair's causes, the steps of one chain (docs/causes.md)."""
    r, x = pair.record, pair.gateway
    if r.state == spec.FAILED and x.state == spec.FAILED:
        return []
    steps = (
        ("fee_differs", r.fee != x.fee, {"fee": x.fee}),
        ("amount_differs", r.amount != x.amount, {"amount": x.amount}),
        ("status_differs", r.state != x.state, {"state": x.state}),
        ("time_differs", r.at // HOUR != x.at // HOUR, {"at": x.at}),
    )
    found = []
    current = r
    for kind, holds, change in steps:
        following = replace(current, **change)
        if holds:
            found.append(
                Cause(
                    kind,
                    x.currency,
                    r.wallet,
                    (pair.plant.reference,),
                    (pair.plant.gateway_id,),
                    _less(effect(following), effect(current)),
                    f"{pair.plant.reference}: {pair.plant.what}",
                )
            )
        current = following
    return found


def _record(plant: Plant) -> Movement | None:
    row = plant.row
    if row is None:
        return None
    return Movement(
        row.wallet_id, row.type is RecordType.DEPOSIT, row.amount, row.fee,
        spec.status_of(row.status), row.at,
    )  # fmt: skip


def planted_causes(plants: Iterable[Plant], reported: set[str]) -> tuple[list[Cause], list[Cause]]:
    """(causes of matched pairs and missing records, gateway transactions the records miss).

    The second list has no wallet yet: `explain` places them. `reported` holds the
    currencies the gateway reports (records in any other are not matched one by one).
    """
    matched: list[Cause] = []
    missing: list[Cause] = []
    for plant in plants:
        kind, tx = plant.kind, plant.target
        if kind is PlantKind.MISSING_DEPOSIT:
            if tx.state != spec.FAILED:
                missing.append(
                    Cause(
                        "missing_in_records",
                        tx.currency,
                        None,
                        (tx.reference,),
                        (plant.gateway_id,),
                        effect(Movement.of(tx, None)),
                        f"{tx.reference}: {plant.what}",
                    )
                )
            continue
        record = _record(plant)
        if kind is PlantKind.EXTRA_WITHDRAWAL:
            assert record is not None
            assert plant.row is not None
            if record.state != spec.FAILED:
                matched.append(
                    Cause(
                        "missing_at_gateway",
                        plant.row.currency,
                        record.wallet,
                        (plant.row.reference,),
                        (),
                        _less(Counter(), effect(record)),
                        f"{plant.row.reference}: {plant.what}",
                    )
                )
            continue
        if kind in {PlantKind.UNKNOWN_CURRENCY, PlantKind.DUPLICATE_ROW}:
            continue  # the one cause of their discrepancy stands for them
        assert record is not None
        if tx.currency not in reported:
            continue
        matched += _chain(_Pair(plant, record, tx))
    return matched, missing


# -- explaining the expected report ---------------------------------------------------------


@dataclass(frozen=True)
class Figured:
    """A discrepancy of the expected report that has a figure and a difference."""

    id: str
    kind: str
    currency: str
    wallet_id: str | None
    bucket_start: int | None
    bucket_end: int | None
    field: str | None
    #: gateway - records, in minor units (counts as counts).
    difference: int

    def share(self, of: Effect) -> int:
        """An effect's part of this discrepancy's figure."""
        if self.kind == "available_mismatch":
            return of.get(("available", self.wallet_id), 0)
        if self.kind == "pending_mismatch":
            return of.get(("pending", self.wallet_id), 0)
        if self.kind == "total_mismatch":
            return of.get((self.field,), 0)
        assert self.bucket_start is not None
        assert self.bucket_end is not None
        end = self.bucket_end
        if self.field == "balance":
            return sum(v for k, v in of.items() if k[0] == "balance" and k[1] < end)
        start = self.bucket_start
        return sum(v for k, v in of.items() if k[0] == self.field and start <= k[1] < end)


def units(text: str | None, scale: int) -> int:
    """A difference's text in minor units of `scale` places (exactly)."""
    assert text is not None
    exact = Fraction(text) * 10**scale
    assert exact.denominator == 1, text
    return int(exact)


@dataclass
class Gaps:
    """Per currency and listed wallet, its gap (gateway - records) in available and pending."""

    wallets: dict[str, dict[str, dict[str, int]]]

    def remaining(self, code: str, causes: Iterable[Cause]) -> dict[str, dict[str, int]]:
        left = {wallet: dict(figures) for wallet, figures in self.wallets.get(code, {}).items()}
        for cause in causes:
            if cause.currency != code:
                continue
            for key, value in cause.effect.items():
                if key[0] in ("available", "pending") and key[1] in left:
                    left[key[1]][key[0]] -= value
        return left


def place(
    code: str, missing: list[Cause], known: list[Cause], gaps: Gaps, facts: dict[str, Transaction]
) -> None:
    """Put each missing transaction of `code` in a wallet by the remaining gaps, in order of
    (created_at, id); `facts` holds each one's transaction by its gateway id."""
    left = gaps.remaining(code, known)
    mine = [cause for cause in missing if cause.currency == code]
    for cause in sorted(mine, key=lambda c: (facts[c.gateway_ids[0]].at, c.gateway_ids)):
        tx = facts[cause.gateway_ids[0]]
        pending = tx.type is RecordType.DEPOSIT and tx.state == spec.PENDING
        figure = "pending" if pending else "available"
        size = cause.effect.get(("total_deposited",), 0) - cause.effect.get(("total_withdrawn",), 0)
        exact = [w for w, figures in left.items() if figures[figure] == size]
        chosen = exact[0] if len(exact) == 1 else None
        if not exact:
            fitting = [
                w
                for w, figures in left.items()
                if figures[figure] * size > 0 and abs(figures[figure]) >= abs(size)
            ]
            chosen = fitting[0] if len(fitting) == 1 else None
        if chosen is None:
            continue
        cause.wallet_id = chosen
        cause.effect[(figure, chosen)] += size
        left[chosen][figure] -= size


def wrong_wallets(
    code: str, pairs: list[tuple[tuple[int, str], Cause, str]], known: list[Cause], gaps: Gaps
) -> list[Cause]:
    """The wrong-wallet causes of `code`'s misbooked pairs, by the remaining gaps.

    `pairs`: (matching order, a cause template with references and gateway ids, the
    record's wallet); the template's effect is the pair's effect `e` on available."""
    left = gaps.remaining(code, known)
    found = []
    for _, template, wallet in sorted(pairs, key=lambda entry: entry[0]):
        size = template.effect[("available", wallet)]
        others = [w for w, figures in left.items() if w != wallet and figures["available"] == size]
        if len(others) != 1:
            continue
        if wallet in left:
            if left[wallet]["available"] != -size:
                continue
            template.effect = Counter(
                {("available", wallet): -size, ("available", others[0]): size}
            )
            left[wallet]["available"] += size
        else:
            template.effect = Counter({("available", others[0]): size})
        left[others[0]]["available"] -= size
        found.append(template)
    return found


def explain(figured: list[Figured], causes: list[Cause]) -> list[Cause]:
    """Fill each cause's `explains` and return the `unexplained` causes of the remainders."""
    remainders: dict[tuple[str, str | None], Cause] = {}
    for discrepancy in figured:
        total = 0
        for cause in causes:
            if cause.currency != discrepancy.currency:
                continue
            part = discrepancy.share(cause.effect)
            if part:
                total += part
                cause.explains.append(discrepancy.id)
        rest = discrepancy.difference - total
        if rest:
            key = (discrepancy.currency, discrepancy.wallet_id)
            remainder = remainders.setdefault(
                key,
                Cause(
                    "unexplained",
                    discrepancy.currency,
                    discrepancy.wallet_id,
                    message=f"{discrepancy.currency}: a gap no cause explains",
                ),
            )
            remainder.explains.append(discrepancy.id)
            remainder.effect[_remainder_key(discrepancy)] += rest
    return list(remainders.values())


def _remainder_key(discrepancy: Figured) -> Figure:
    if discrepancy.kind == "available_mismatch":
        return ("available", discrepancy.wallet_id)
    if discrepancy.kind == "pending_mismatch":
        return ("pending", discrepancy.wallet_id)
    if discrepancy.kind == "total_mismatch":
        return (discrepancy.field,)
    return (discrepancy.field, discrepancy.bucket_start, "remainder")
