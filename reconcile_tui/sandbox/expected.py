"""What a correct reconciliation must report: a model of the documented semantics, apart
from the engine it checks.

`RecordBooks` rebuilds the merchant's side from the rows the generator writes (as the
importer must read them: first copy of a reference wins, opening balances replace what
came before them, gateway status words mapped onto ours), and `expected_report` compares
that with the gateway's documents exactly as the sandbox serves them, under the scenario's
rules (`ScenarioRules`: tolerances, low-balance thresholds; stale after 24 hours measured
against `summary.last_update`). Wallets the file names are resolved through the names
the balances document reports. The result is written in the report schema so the two
compare field for field, `message` aside.

It shares no code with the engine, the store or the importer (an import-linter contract
holds it to that), and the rules it checks (status words, severities and kind order, each
currency's places, the discrepancy id) are restated in `spec.py` from docs/. From the
foundations it borrows only what is not under test here: `money`'s exact parsing,
arithmetic and plain-digit writing of Decimals, and `times`' lengths of periods and
intervals (the gateway's own facts, shared with the views that serve them). Tolerances
and the USD rounding are computed with exact fractions of its own.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from reconcile_tui import money
from reconcile_tui.errors import BadInput
from reconcile_tui.money import NumberStyle
from reconcile_tui.sandbox import causes as model
from reconcile_tui.sandbox import spec
from reconcile_tui.sandbox.catalog import written_places
from reconcile_tui.sandbox.ledger import HOUR, epoch_text
from reconcile_tui.sandbox.plants import MerchantRow, Plant, PlantKind
from reconcile_tui.sandbox.units import amount
from reconcile_tui.times import days_in_period, interval_length
from reconcile_tui.vocabulary import RecordType

__all__ = ["Finding", "RecordBooks", "ScenarioRules", "expected_report"]

#: Default rule of `check`: pending goes stale after a day.
STALE_AFTER_SECONDS: Final = 24 * HOUR
#: How many references a currency- or wallet-level finding lists, oldest first.
REFERENCES_LISTED: Final = 50

_SIGNED: Final = NumberStyle(signed=True)
_PLAIN_AMOUNT: Final = re.compile(r"\d+(?:\.\d+)?")

RawWallet = tuple[str | None, str | None]


def _decimal(text: str) -> Decimal:
    return money.parse_amount(text, style=_SIGNED)


def _seconds(text: str) -> int:
    """Epoch seconds of a gateway time (`2025-01-15T10:00:00Z`)."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _printed_places(text: str) -> int:
    _, dot, fraction = text.partition(".")
    return len(fraction) if dot else 0


# -- the rules a scenario asks for ---------------------------------------------------------


@dataclass(frozen=True)
class ScenarioRules:
    """Rules `check` is given for a scenario: per currency, a tolerance and a threshold
    below which a wallet's available balance is a `low_balance` warning (amount texts)."""

    tolerances: Mapping[str, str] = field(default_factory=dict)
    low_balance: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, tolerances: Mapping[str, str], low_balance: Mapping[str, str]) -> ScenarioRules:
        for option, table in (("--tolerance", tolerances), ("--low-balance", low_balance)):
            for code, text in table.items():
                if not re.fullmatch(r"[A-Z0-9]+", code) or code == "DEFAULT":
                    raise BadInput(f"{option}: {code!r} is not a currency code")
                if not _PLAIN_AMOUNT.fullmatch(text) or text != money.canonical(Decimal(text)):
                    raise BadInput(f"{option} {code}: {text!r} is not a plain amount such as 0.5")
        return cls(dict(sorted(tolerances.items())), dict(sorted(low_balance.items())))

    @property
    def configured(self) -> bool:
        return bool(self.tolerances or self.low_balance)

    def tolerance(self, code: str) -> str:
        return self.tolerances.get(code, "0")

    def same(self, code: str, api_value: Decimal, merchant_value: Decimal) -> bool:
        """Equal within the currency's tolerance: |api - merchant| <= tolerance."""
        gap = abs(Fraction(api_value) - Fraction(merchant_value))
        return gap <= Fraction(self.tolerance(code))

    def describe(self) -> dict[str, dict[str, str]]:
        return {"tolerance": dict(self.tolerances), "low_balance": dict(self.low_balance)}

    def toml(self) -> str:
        """The `[reconcile]` section of a config file that sets these rules."""
        lines = ["# The rules expected.json assumes: reconcile-tui --config reconcile.toml check",
                 "[reconcile]"]  # fmt: skip
        for name, table in (("tolerance", self.tolerances), ("low_balance", self.low_balance)):
            if table:
                cells = ", ".join(f'{code} = "{text}"' for code, text in table.items())
                lines.append(f"{name} = {{ {cells} }}")
        return "\n".join(lines) + "\n"


# -- the records' side ---------------------------------------------------------------------


class _Oldest:
    """The REFERENCES_LISTED oldest references seen, ordered by (time, reference)."""

    def __init__(self) -> None:
        self._kept: list[tuple[int, str]] = []

    def offer(self, at: int, reference: str) -> None:
        entry = (at, reference)
        if len(self._kept) >= REFERENCES_LISTED and entry >= self._kept[-1]:
            return
        bisect.insort(self._kept, entry)
        del self._kept[REFERENCES_LISTED:]

    def absorb(self, other: _Oldest) -> None:
        for at, reference in other._kept:
            self.offer(at, reference)

    def references(self) -> tuple[str, ...]:
        return tuple(reference for _, reference in self._kept)


@dataclass
class _WalletRecords:
    """One wallet as the file writes it (by id or by name), in minor units."""

    confirmed_deposits: int = 0
    pending_deposits: int = 0
    live_withdrawals: int = 0
    #: The latest opening balance and its time: what the wallet held then.
    opening: int | None = None
    opening_at: int | None = None
    oldest: _Oldest = field(default_factory=_Oldest)

    @property
    def available(self) -> int:
        return (self.opening or 0) + self.confirmed_deposits - self.live_withdrawals

    @property
    def total(self) -> int:
        return self.available + self.pending_deposits

    def absorb(self, other: _WalletRecords) -> None:
        """Add another spelling of the same wallet (its id and its name, say)."""
        assert other.opening is None or self.opening is None, "two spellings both opened"
        self.confirmed_deposits += other.confirmed_deposits
        self.pending_deposits += other.pending_deposits
        self.live_withdrawals += other.live_withdrawals
        if other.opening is not None:
            self.opening, self.opening_at = other.opening, other.opening_at
        self.oldest.absorb(other.oldest)


@dataclass
class _CurrencyRecords:
    places: int
    wallets: dict[RawWallet, _WalletRecords] = field(default_factory=dict)
    deposited: int = 0
    withdrawn: int = 0
    fees: int = 0
    count: int = 0
    oldest: _Oldest = field(default_factory=_Oldest)
    #: The latest opening of any wallet: history balances are known only from then on.
    known_from: int | None = None
    #: Net movement before the hours kept; then per hour: deposits, count, withdrawals,
    #: count, and the jump openings make in the running total.
    before: int = 0
    hours: dict[int, list[int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(wallet.total for wallet in self.wallets.values())

    def hour(self, at: int) -> list[int]:
        return self.hours.setdefault(at - at % HOUR, [0, 0, 0, 0, 0])


class RecordBooks:
    """The merchant's records as the importer must see them, summed in one pass.

    Rows arrive in time order within each wallet (the generator writes them so), which
    lets an opening replace everything its wallet held before it as it streams past.
    `hours_from` is the first hour kept hour by hour (earlier movements are only summed):
    it must reach back to the first history bucket compared.
    """

    def __init__(self, hours_from: int) -> None:
        self.hours_from = hours_from
        self.currencies: dict[str, _CurrencyRecords] = {}
        self.record_count = 0
        self.repeats: list[MerchantRow] = []
        self.pending: list[MerchantRow] = []

    def add(self, row: MerchantRow) -> None:
        if row.repeat:
            # The importer keeps the first copy of a reference and counts none of the others.
            self.repeats.append(row)
            return
        state = spec.status_of(row.status)
        self.record_count += 1
        books = self.currencies.setdefault(
            row.currency, _CurrencyRecords(written_places(row.currency))
        )
        wallet = books.wallets.setdefault(row.wallet, _WalletRecords())
        books.count += 1
        books.oldest.offer(row.at, row.reference)
        wallet.oldest.offer(row.at, row.reference)
        if row.type is RecordType.OPENING:
            self._open(books, wallet, row)
            return
        assert wallet.opening_at is None or row.at >= wallet.opening_at, (
            f"{row.reference} is dated before its wallet's opening but written after it"
        )
        if state == spec.PENDING:
            self.pending.append(row)
        if state == spec.FAILED:
            return
        books.fees += row.fee
        deposit = row.type is RecordType.DEPOSIT
        if deposit:
            books.deposited += row.amount
            if state == spec.CONFIRMED:
                wallet.confirmed_deposits += row.amount
            else:
                wallet.pending_deposits += row.amount
        else:
            books.withdrawn += row.amount
            wallet.live_withdrawals += row.amount
        if row.at < self.hours_from:
            books.before += row.amount if deposit else -row.amount
        else:
            figures = books.hour(row.at)
            offset = 0 if deposit else 2
            figures[offset] += row.amount
            figures[offset + 1] += 1

    def _open(self, books: _CurrencyRecords, wallet: _WalletRecords, row: MerchantRow) -> None:
        """An opening sets what the wallet holds: what it held before is taken as inside it
        (docs/reconciliation.md), and the currency's running total jumps by the gap."""
        jump = row.amount - wallet.total
        wallet.confirmed_deposits = wallet.pending_deposits = wallet.live_withdrawals = 0
        wallet.opening, wallet.opening_at = row.amount, row.at
        books.known_from = row.at if books.known_from is None else max(books.known_from, row.at)
        if row.at < self.hours_from:
            books.before += jump
        else:
            books.hour(row.at)[4] += jump


# -- the gateway's side --------------------------------------------------------------------


class _Gateway:
    """The gateway's documents, read as a reconciler reads them."""

    def __init__(self, balances: dict[str, Any], histories: dict[str, dict[str, Any]]) -> None:
        self.balances = {entry["currency"]: entry for entry in balances["balances"]}
        self.summary = balances["summary"]
        self.histories = histories
        self.as_of = _seconds(self.summary["last_update"])
        self.printed = {
            code: max(_printed_places(text) for text in _amount_texts(entry))
            for code, entry in self.balances.items()
        }
        # Wallet names, folded, onto the ids reported: per currency and across them all.
        self._ids: dict[str, set[str]] = {}
        self._named: dict[str, dict[str, set[str]]] = {}
        self._named_anywhere: dict[str, set[str]] = {}
        for code, entry in self.balances.items():
            for wallet in entry["wallets"]:
                self._ids.setdefault(code, set()).add(wallet["wallet_id"])
                if wallet.get("wallet_name"):
                    folded = wallet["wallet_name"].casefold()
                    named = self._named.setdefault(code, {}).setdefault(folded, set())
                    named.add(wallet["wallet_id"])
                    self._named_anywhere.setdefault(folded, set()).add(wallet["wallet_id"])

    def scale(self, code: str) -> int:
        return spec.places_of(code, self.printed)

    def wallet_key(self, code: str, raw: RawWallet) -> str:
        """The wallet a record means: its id, or the one wallet its name resolves to (first
        among the currency's wallets, then anywhere), else the name as written."""
        wallet_id, wallet_name = raw
        if wallet_id:
            return wallet_id
        assert wallet_name is not None
        folded = wallet_name.casefold()
        for found in (self._named.get(code, {}).get(folded), self._named_anywhere.get(folded)):
            if found and len(found) == 1:
                return next(iter(found))
        return wallet_name

    def reports(self, code: str, wallet_key: str) -> bool:
        return wallet_key in self._ids.get(code, set())

    def usd_cents(self, code: str, difference: Decimal) -> int | None:
        """difference x usd_value / total_balance, rounded half-even to cents."""
        entry = self.balances.get(code)
        if entry is None or Fraction(entry["total_balance"]) == 0:
            return None
        exact = (
            Fraction(difference) * Fraction(entry["usd_value"]) / Fraction(entry["total_balance"])
        )
        return round(exact * 100)  # a Fraction rounds half to even

    def mismatch(
        self, kind: str, code: str, values: tuple[Decimal, Decimal], message: str, **scope: Any
    ) -> Finding:
        """A finding on a figure: `values` are the gateway's and the records', in that order."""
        api_value, merchant_value = values
        usd_cents = self.usd_cents(code, money.sub(api_value, merchant_value))
        return Finding(
            kind,
            message,
            code,
            api_value=api_value,
            merchant_value=merchant_value,
            usd_cents=usd_cents,
            scale=self.scale(code),
            **scope,
        )

    def about_record(self, kind: str, row: MerchantRow, message: str, **values: Any) -> Finding:
        """A finding about one record: its currency, the wallet it means, its reference."""
        return Finding(
            kind,
            message,
            row.currency,
            self.wallet_key(row.currency, row.wallet),
            reference=row.reference,
            references=(row.reference,),
            scale=self.scale(row.currency),
            **values,
        )


def _amount_texts(entry: dict[str, Any]) -> list[str]:
    texts = [
        entry[name]
        for name in (
            "total_balance",
            "available_balance",
            "pending_balance",
            "total_deposited",
            "total_withdrawn",
            "total_fees_paid",
        )
    ]
    for wallet in entry["wallets"]:
        texts += [wallet["balance"], wallet["pending"]]
    return texts


# -- findings ------------------------------------------------------------------------------


def _cents_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


@dataclass(frozen=True)
class Finding:
    """One discrepancy a correct check reports, written as the report schema writes it."""

    kind: str
    message: str
    currency: str | None = None
    wallet_id: str | None = None
    bucket: str | None = None
    field: str | None = None
    api_value: Decimal | None = None
    merchant_value: Decimal | None = None
    usd_cents: int | None = None
    references: tuple[str, ...] = ()
    reference: str | None = None
    scale: int | None = None

    def __post_init__(self) -> None:
        assert self.kind in spec.KINDS, self.kind

    @property
    def severity(self) -> str:
        return spec.severity(self.kind)

    @property
    def difference(self) -> Decimal | None:
        if self.api_value is None or self.merchant_value is None:
            return None
        return money.sub(self.api_value, self.merchant_value)

    def sort_key(self) -> tuple[Any, ...]:
        return (
            0 if self.severity == "error" else 1,
            self.currency or "",
            spec.kind_position(self.kind),
            self.wallet_id or "",
            self.bucket or "",
            self.field or "",
            self.reference or "",
        )

    def _text(self, value: Decimal | None) -> str | None:
        if value is None:
            return None
        if self.scale is not None and money.places(value) <= self.scale:
            return money.canonical(value, self.scale)
        return money.canonical(value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": spec.discrepancy_id(
                self.kind, self.currency, self.wallet_id, self.bucket, self.field, self.reference
            ),
            "kind": self.kind,
            "severity": self.severity,
            "currency": self.currency,
            "wallet_id": self.wallet_id,
            "bucket": self.bucket,
            "field": self.field,
            "api_value": self._text(self.api_value),
            "merchant_value": self._text(self.merchant_value),
            "difference": self._text(self.difference),
            "usd_difference": None if self.usd_cents is None else _cents_text(self.usd_cents),
            "references": list(self.references),
            "message": self.message,
            "acknowledged": False,
        }


def _api_findings(gateway: _Gateway) -> list[Finding]:
    """The gateway against its own invariants (the reference notes' last section)."""
    found = []

    def check(name: str, reported: Decimal, implied: Decimal, **scope: Any) -> None:
        if reported != implied:
            found.append(
                Finding(
                    "api_inconsistency",
                    f"the gateway breaks {name}: it prints {money.canonical(reported)}, its"
                    f" other figures imply {money.canonical(implied)}",
                    field=name,
                    api_value=reported,
                    merchant_value=implied,
                    **scope,
                )
            )

    entries = list(gateway.balances.values())
    summary = gateway.summary
    check(
        "total_usd_value=sum(usd_value)",
        _decimal(summary["total_usd_value"]),
        money.total(_decimal(entry["usd_value"]) for entry in entries),
        scale=2,
    )
    check(
        "total_currencies=count(balances)",
        Decimal(summary["total_currencies"]),
        Decimal(len(entries)),
    )
    check(
        "total_wallets=count(distinct wallet_id)",
        Decimal(summary["total_wallets"]),
        Decimal(len({w["wallet_id"] for entry in entries for w in entry["wallets"]})),
    )
    for code, entry in gateway.balances.items():
        scope: dict[str, Any] = {"currency": code, "scale": gateway.printed[code]}
        total = _decimal(entry["total_balance"])
        available = _decimal(entry["available_balance"])
        pending = _decimal(entry["pending_balance"])
        check("total_balance=available+pending", total, money.add(available, pending), **scope)
        wallets = entry["wallets"]
        check(
            "available_balance=sum(wallets.balance)",
            available,
            money.total(_decimal(w["balance"]) for w in wallets),
            **scope,
        )
        check(
            "pending_balance=sum(wallets.pending)",
            pending,
            money.total(_decimal(w["pending"]) for w in wallets),
            **scope,
        )
        net = money.sub(_decimal(entry["total_deposited"]), _decimal(entry["total_withdrawn"]))
        check("total_balance=deposited-withdrawn", total, net, **scope)

    for code, history in sorted(gateway.histories.items()):
        entry = gateway.balances.get(code)
        scope = {"currency": code, "scale": gateway.printed.get(code)}
        buckets = sorted(history["history"], key=lambda bucket: bucket["timestamp"])
        for previous, bucket in itertools.pairwise(buckets):
            implied = money.sub(
                money.add(_decimal(previous["balance"]), _decimal(bucket["deposits"])),
                _decimal(bucket["withdrawals"]),
            )
            check(
                "balance=previous+deposits-withdrawals",
                _decimal(bucket["balance"]),
                implied,
                bucket=bucket["timestamp"],
                **scope,
            )
        summary = history["summary"]
        figures = {name: _decimal(text) for name, text in summary.items() if isinstance(text, str)}
        ending, starting = figures["ending_balance"], figures["starting_balance"]
        net = figures["net_change"]
        check("net_change=ending-starting", net, money.sub(ending, starting), **scope)
        flows = money.sub(figures["total_deposits"], figures["total_withdrawals"])
        check("net_change=deposits-withdrawals", net, flows, **scope)
        for name in ("deposits", "withdrawals"):
            summed = money.total(_decimal(b[name]) for b in buckets)
            check(f"total_{name}=sum({name})", figures[f"total_{name}"], summed, **scope)
        for name in ("deposit_count", "withdrawal_count"):
            reported_count = Decimal(summary[f"total_{name}"])
            summed_count = Decimal(sum(b[name] for b in buckets))
            check(f"total_{name}=sum({name})", reported_count, summed_count, currency=code)
        if buckets:
            last = _decimal(buckets[-1]["balance"])
            check("ending_balance=last(balance)", ending, last, **scope)
        if entry is not None:
            total = _decimal(entry["total_balance"])
            check("ending_balance=total_balance", ending, total, **scope)
        days = Decimal(days_in_period(history["period"]))
        for name in ("deposits", "withdrawals"):
            average = figures[f"average_daily_{name}"]
            rounded = money.ratio(figures[f"total_{name}"], days, money.places(average))
            assert rounded is not None  # days >= 1
            check(f"average_daily_{name}=total/days", average, rounded, **scope)
    return found


@dataclass
class _Compared:
    """The records of one currency the gateway reports, with wallets resolved."""

    code: str
    records: _CurrencyRecords
    wallets: dict[str, _WalletRecords]


def _resolve(gateway: _Gateway, code: str, records: _CurrencyRecords) -> dict[str, _WalletRecords]:
    wallets: dict[str, _WalletRecords] = {}
    for raw, wallet in sorted(
        records.wallets.items(), key=lambda item: (item[0][0] or "", item[0][1] or "")
    ):
        key = gateway.wallet_key(code, raw)
        if key in wallets:
            wallets[key].absorb(wallet)
        else:
            merged = _WalletRecords()
            merged.absorb(wallet)
            wallets[key] = merged
    return wallets


def _records_findings(
    gateway: _Gateway, books: RecordBooks, rules: ScenarioRules, notes: list[dict[str, Any]]
) -> list[Finding]:
    found: list[Finding] = []
    compared = [
        _Compared(code, books.currencies[code], _resolve(gateway, code, books.currencies[code]))
        for code in gateway.balances
        if code in books.currencies
    ]

    # currency_not_in_api / currency_not_in_records / wallet_not_in_api
    for code, records in sorted(books.currencies.items()):
        if code in gateway.balances:
            continue
        found.append(
            Finding(
                "currency_not_in_api",
                f"{records.count} records in {code}, which the gateway does not report",
                currency=code,
                merchant_value=amount(records.total, records.places),
                references=records.oldest.references(),
                scale=gateway.scale(code),
            )
        )
    for code, entry in gateway.balances.items():
        total = _decimal(entry["total_balance"])
        if code not in books.currencies and not total.is_zero():
            found.append(
                Finding(
                    "currency_not_in_records",
                    f"the gateway holds {money.canonical(total)} {code}; no record mentions it",
                    currency=code,
                    api_value=total,
                    scale=gateway.scale(code),
                )
            )
    for side in compared:
        for key, wallet in sorted(side.wallets.items()):
            if gateway.reports(side.code, key):
                continue
            found.append(
                Finding(
                    "wallet_not_in_api",
                    f"{side.code} records in wallet {key}, which the gateway does not report"
                    f" for {side.code}",
                    currency=side.code,
                    wallet_id=key,
                    merchant_value=amount(wallet.total, side.records.places),
                    references=wallet.oldest.references(),
                    scale=gateway.scale(side.code),
                )
            )

    # available_mismatch / pending_mismatch
    for side in compared:
        code, places = side.code, side.records.places
        for wallet in gateway.balances[code]["wallets"]:
            mine = side.wallets.get(wallet["wallet_id"], _WalletRecords())
            for kind, reported, recorded in (
                ("available_mismatch", wallet["balance"], mine.available),
                ("pending_mismatch", wallet["pending"], mine.pending_deposits),
            ):
                api_value, merchant_value = _decimal(reported), amount(recorded, places)
                if not rules.same(code, api_value, merchant_value):
                    found.append(
                        gateway.mismatch(
                            kind,
                            code,
                            (api_value, merchant_value),
                            f"{code} wallet {wallet['wallet_name']}: {kind} ({reported} at the"
                            f" gateway, {money.canonical(merchant_value)} in the records)",
                            wallet_id=wallet["wallet_id"],
                        )
                    )

    # total_mismatch, unless the records start from an opening balance
    for side in compared:
        code, records, entry = side.code, side.records, gateway.balances[side.code]
        if records.known_from is not None:
            notes.append(
                {
                    "currency": code,
                    "message": f"{code}: the records start from an opening balance, so the"
                    " gateway's all-time totals are not compared",
                }
            )
            continue
        for name, recorded in (
            ("total_deposited", records.deposited),
            ("total_withdrawn", records.withdrawn),
            ("total_fees_paid", records.fees),
        ):
            api_value, merchant_value = _decimal(entry[name]), amount(recorded, records.places)
            if not rules.same(code, api_value, merchant_value):
                found.append(
                    gateway.mismatch(
                        "total_mismatch",
                        code,
                        (api_value, merchant_value),
                        f"{code}: {name} is {entry[name]} at the gateway,"
                        f" {money.canonical(merchant_value)} in the records",
                        field=name,
                    )
                )

    # history_mismatch
    for side in compared:
        history = gateway.histories.get(side.code)
        if history is None:
            notes.append(
                {"currency": side.code, "message": f"{side.code}: no history, not compared"}
            )
            continue
        found += _history_findings(gateway, side.code, history, side.records, books, rules, notes)

    # duplicate_record / stale_pending (only in currencies the gateway reports)
    repeated = Counter(row.reference for row in books.repeats)
    seen: set[str] = set()
    for row in books.repeats:
        if row.currency not in gateway.balances or row.reference in seen:
            continue
        seen.add(row.reference)
        copies = repeated[row.reference] + 1
        found.append(
            gateway.about_record(
                "duplicate_record",
                row,
                f"reference {row.reference} appears {copies} times in the file; only the first"
                " copy counts",
            )
        )
    stale_before = gateway.as_of - STALE_AFTER_SECONDS
    for row in books.pending:
        if row.currency not in gateway.balances or row.at >= stale_before:
            continue
        since = epoch_text(row.at)
        found.append(
            gateway.about_record(
                "stale_pending",
                row,
                f"{row.type} {row.reference} has been pending since {since}, more than a day"
                " before the gateway's last update",
                merchant_value=amount(row.amount, written_places(row.currency)),
            )
        )

    # low_balance: a reported wallet's available below the currency's threshold
    for code, entry in gateway.balances.items():
        threshold = rules.low_balance.get(code)
        if threshold is None:
            continue
        for wallet in entry["wallets"]:
            if Fraction(wallet["balance"]) < Fraction(threshold):
                found.append(
                    Finding(
                        "low_balance",
                        f"{code} wallet {wallet['wallet_name']} holds {wallet['balance']},"
                        f" below {threshold}",
                        currency=code,
                        wallet_id=wallet["wallet_id"],
                        api_value=_decimal(wallet["balance"]),
                        scale=gateway.scale(code),
                    )
                )
    return found


def _history_findings(
    gateway: _Gateway,
    code: str,
    history: dict[str, Any],
    records: _CurrencyRecords,
    books: RecordBooks,
    rules: ScenarioRules,
    notes: list[dict[str, Any]],
) -> list[Finding]:
    found = []
    places = records.places
    step = int(interval_length(history["interval"]).total_seconds())
    hours = sorted(records.hours)
    running = [records.before]
    for hour in hours:
        figures = records.hours[hour]
        running.append(running[-1] + figures[0] - figures[2] + figures[4])

    skipped = 0
    for bucket in sorted(history["history"], key=lambda b: b["timestamp"]):
        start = _seconds(bucket["timestamp"])
        assert start >= books.hours_from, f"{bucket['timestamp']} is before the hours kept"
        assert start % HOUR == 0, f"{bucket['timestamp']} is not a whole hour"
        end = start + step
        low, high = bisect.bisect_left(hours, start), bisect.bisect_left(hours, end)
        inside = [records.hours[hour] for hour in hours[low:high]]
        mine = {
            "deposits": sum(f[0] for f in inside),
            "deposit_count": sum(f[1] for f in inside),
            "withdrawals": sum(f[2] for f in inside),
            "withdrawal_count": sum(f[3] for f in inside),
            "balance": running[high],
        }
        # Before the latest opening the records cannot say what the total was.
        known = records.known_from is None or end >= records.known_from
        skipped += 0 if known else 1
        when = bucket["timestamp"]
        for name in ("deposits", "withdrawals", "balance"):
            if name == "balance" and not known:
                continue
            api_value, merchant_value = _decimal(bucket[name]), amount(mine[name], places)
            if not rules.same(code, api_value, merchant_value):
                found.append(
                    gateway.mismatch(
                        "history_mismatch",
                        code,
                        (api_value, merchant_value),
                        f"{code} {when}: {name} is {bucket[name]} at the gateway,"
                        f" {money.canonical(merchant_value)} in the records",
                        bucket=when,
                        field=name,
                    )
                )
        for name in ("deposit_count", "withdrawal_count"):
            if bucket[name] != mine[name]:
                found.append(
                    Finding(
                        "history_mismatch",
                        f"{code} {when}: {name} is {bucket[name]} at the gateway,"
                        f" {mine[name]} in the records",
                        currency=code,
                        bucket=when,
                        field=name,
                        api_value=Decimal(bucket[name]),
                        merchant_value=Decimal(mine[name]),
                    )
                )
    if skipped:
        notes.append(
            {
                "currency": code,
                "message": f"{code}: {skipped} history buckets end before an opening balance;"
                " their balance is not compared",
            }
        )
    return found


def expected_report(
    balances: dict[str, Any],
    histories: dict[str, dict[str, Any]],
    books: RecordBooks,
    rules: ScenarioRules | None = None,
    *,
    period: str,
    interval: str,
    base_url: str,
    record_files: list[str],
    plants: Sequence[Plant] = (),
    breaker: str | None = None,
    effects: dict[str, model.Effect] | None = None,
) -> dict[str, Any]:
    """The report document a correct `check` writes for these documents and records.

    `generated_at` and `fetched_at` are the gateway's clock; `base_url` and the file names
    depend on where the check runs, so a comparison should leave them out, like every
    `message` (free text, the notes' included).
    """
    rules = rules or ScenarioRules()
    gateway = _Gateway(balances, histories)
    notes: list[dict[str, Any]] = []
    findings = sorted(
        _api_findings(gateway) + _records_findings(gateway, books, rules, notes),
        key=Finding.sort_key,
    )
    errors = sum(1 for f in findings if f.severity == "error")
    by_kind = Counter(f.kind for f in findings)
    divergence: dict[str, str] = {}
    for finding in findings:
        if finding.kind == "history_mismatch" and finding.currency and finding.bucket:
            known = divergence.get(finding.currency)
            if known is None or finding.bucket < known:
                divergence[finding.currency] = finding.bucket
    in_scope = sorted(set(gateway.balances) | set(books.currencies))
    clock = gateway.summary["last_update"]
    discrepancies = [finding.to_dict() for finding in findings]
    causes = _causes(gateway, books, findings, discrepancies, plants, breaker, interval, effects)
    open_causes = [cause for cause in causes if not cause["acknowledged"]]
    cause_kinds = Counter(cause["kind"] for cause in open_causes)
    unexplained: dict[str, Fraction] = {code: Fraction(0) for code in in_scope}
    for cause in causes:
        if cause["kind"] == "unexplained" and cause["amount"] is not None:
            unexplained[cause["currency"]] += Fraction(cause["amount"])
    return {
        "schema_version": spec.REPORT_SCHEMA,
        "generated_at": clock,
        "api": {"base_url": base_url, "fetched_at": clock, "period": period, "interval": interval},
        "records": {"count": books.record_count, "files": record_files},
        "tolerances": {code: rules.tolerance(code) for code in in_scope},
        "summary": {
            "status": "discrepancies" if findings else "clean",
            "errors": errors,
            "warnings": len(findings) - errors,
            "acknowledged": 0,
            "by_kind": {kind: by_kind[kind] for kind in spec.KINDS if by_kind[kind]},
            "first_divergence": dict(sorted(divergence.items())),
            "causes": {
                "errors": sum(1 for cause in open_causes if cause["severity"] == "error"),
                "warnings": sum(1 for cause in open_causes if cause["severity"] == "warning"),
                "acknowledged": len(causes) - len(open_causes),
                "by_kind": {
                    kind: cause_kinds[kind] for kind in spec.CAUSE_KINDS if cause_kinds[kind]
                },
            },
            "unexplained": {
                code: _remainder_text(remainder, gateway.scale(code))
                for code, remainder in unexplained.items()
            },
        },
        "discrepancies": discrepancies,
        "causes": causes,
        "notes": notes,
    }


# -- causes (docs/causes.md) ---------------------------------------------------------------

#: Discrepancy kinds that are one cause each (docs/causes.md, "The other kinds").
_ONE_CAUSE_EACH: Final = frozenset(
    {
        "duplicate_record",
        "currency_not_in_api",
        "wallet_not_in_api",
        "api_inconsistency",
        "stale_pending",
        "low_balance",
        "currency_not_in_records",
    }
)
_FIGURED: Final = frozenset(
    {"available_mismatch", "pending_mismatch", "total_mismatch", "history_mismatch"}
)


def _remainder_text(remainder: Fraction, scale: int) -> str:
    """A currency's unexplained total: "0" when all is explained, else at its scale."""
    if remainder == 0:
        return "0"
    exact = money.MONEY.divide(Decimal(remainder.numerator), Decimal(remainder.denominator))
    return money.canonical(exact, scale)


def _causes(
    gateway: _Gateway,
    books: RecordBooks,
    findings: list[Finding],
    discrepancies: list[dict[str, Any]],
    plants: Sequence[Plant],
    breaker: str | None,
    interval: str,
    effects: dict[str, model.Effect] | None,
) -> list[dict[str, Any]]:
    """The causes of the expected report, and each discrepancy's `causes` filled in;
    `effects`, when given, receives each cause's effect by its id (for the tests)."""
    step = int(interval_length(interval).total_seconds())
    reported = set(gateway.balances)
    matched, missing = model.planted_causes(plants, reported)
    matched = [cause for cause in matched if cause.currency in reported]
    facts = {plant.gateway_id: plant.target for plant in plants}

    # One cause per discrepancy of the other kinds, with the figures a broken API moves.
    standing: list[model.Cause] = []
    codes = list(gateway.balances)
    for finding, shown in zip(findings, discrepancies, strict=True):
        if finding.kind not in _ONE_CAUSE_EACH:
            continue
        cause = model.Cause(
            finding.kind,
            finding.currency,
            finding.wallet_id,
            finding.references,
            (),
            message=finding.message,
            severity=finding.severity,
            stands_for=(shown["id"],),
            # Its discrepancy's difference, else its records' value, else the gateway's
            # (docs/causes.md, "Cause ids"): null only when it has none (a duplicate).
            fixed_amount=next(
                (
                    shown[name]
                    for name in ("difference", "merchant_value", "api_value")
                    if shown[name] is not None
                ),
                None,
            ),
        )
        if finding.kind == "api_inconsistency" and codes and finding.currency == codes[0]:
            first = gateway.balances[codes[0]]["wallets"][0]["wallet_id"]
            if (
                breaker == "wallet_balance"
                and finding.field == "available_balance=sum(wallets.balance)"
            ):
                cause.effect[("available", first)] += 1
            if (
                breaker == "history_balance"
                and finding.field == "balance=previous+deposits-withdrawals"
            ):
                cause.effect[("balance", gateway.as_of - gateway.as_of % HOUR)] += 1
        standing.append(cause)

    # Placing what the records miss, then the wrong wallets (docs/causes.md).
    gaps = model.Gaps({})
    for code, entry in gateway.balances.items():
        records = books.currencies.get(code)
        if records is None:
            continue
        scale = gateway.scale(code)
        wallets = _resolve(gateway, code, records)
        gaps.wallets[code] = {}
        for wallet in entry["wallets"]:
            mine = wallets.get(wallet["wallet_id"], _WalletRecords())
            gaps.wallets[code][wallet["wallet_id"]] = {
                "available": model.units(wallet["balance"], scale) - mine.available,
                "pending": model.units(wallet["pending"], scale) - mine.pending_deposits,
            }
    known = matched + standing
    misbooked: dict[str, list[tuple[tuple[int, str], model.Cause, str]]] = {}
    for plant in plants:
        if plant.kind not in {PlantKind.WRONG_WALLET, PlantKind.WALLET_NOT_IN_API}:
            continue
        assert plant.row is not None
        tx, wallet = plant.target, plant.row.wallet_id
        template = model.Cause(
            "wrong_wallet",
            tx.currency,
            wallet,
            (plant.reference,),
            (plant.gateway_id,),
            model.effect(model.Movement.of(tx, wallet)),
            f"{plant.reference}: {plant.what}",
        )
        misbooked.setdefault(tx.currency, []).append(
            ((plant.row.at, plant.reference), template, wallet)
        )
    wrong: list[model.Cause] = []
    for code in gaps.wallets:
        model.place(code, missing, known, gaps, facts)
        wrong += model.wrong_wallets(code, misbooked.get(code, []), known + missing, gaps)
    causes = known + missing + wrong

    # Each figured discrepancy explained exactly, or an unexplained remainder.
    figured = []
    for finding, shown in zip(findings, discrepancies, strict=True):
        if finding.kind not in _FIGURED or finding.currency is None:
            continue
        counted = finding.field in {"deposit_count", "withdrawal_count"}
        start = None if finding.bucket is None else _seconds(finding.bucket)
        figured.append(
            model.Figured(
                shown["id"],
                finding.kind,
                finding.currency,
                finding.wallet_id,
                start,
                None if start is None else start + step,
                finding.field,
                model.units(shown["difference"], 0 if counted else gateway.scale(finding.currency)),
            )
        )
    causes += model.explain(figured, causes)
    for cause in causes:
        cause.explains = list(cause.stands_for) + cause.explains
    causes.sort(key=model.Cause.sort_key)
    position = {shown["id"]: index for index, shown in enumerate(discrepancies)}
    by_discrepancy: dict[str, list[str]] = {}
    written = []
    for cause in causes:
        cause.explains = sorted(set(cause.explains), key=position.__getitem__)
        for explained in cause.explains:
            by_discrepancy.setdefault(explained, []).append(cause.id)
        places = None if cause.currency is None else gateway.scale(cause.currency)
        written.append(cause.to_dict(places))
        if effects is not None:
            effects[cause.id] = cause.effect
    for shown in discrepancies:
        shown["causes"] = by_discrepancy.get(shown["id"], [])
    return written
