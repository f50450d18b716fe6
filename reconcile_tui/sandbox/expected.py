"""What a correct reconciliation must report: an independent model of DESIGN's semantics.

This is the cross-check of the reconciliation engine, so it does not call it: `RecordBooks`
rebuilds the merchant's side from the rows the generator writes (as the importer must
read them: first copy of a reference wins, gateway status words mapped onto ours), and
`expected_report` compares that with the gateway's documents exactly as the sandbox serves
them, following DESIGN's rules (default rules: tolerance 0, stale after 24 hours measured
against `summary.last_update`). The result is written in the report schema with the
engine's conventions (the `id` hash, amounts as text at the currency's scale, counts as
integer text, `usd_difference` at the implied rate, the sort order) so the two compare
field for field, `message` aside.
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, Final

from reconcile_tui import money
from reconcile_tui.money import NumberStyle
from reconcile_tui.reconcile.model import SCHEMA_VERSION, SEVERITY, Kind, Severity, discrepancy_id
from reconcile_tui.sandbox.ledger import HOUR, epoch_text
from reconcile_tui.sandbox.plants import MerchantRow
from reconcile_tui.sandbox.units import amount
from reconcile_tui.times import days_in_period, interval_length, parse_api_time
from reconcile_tui.vocabulary import RecordStatus, RecordType, record_status

__all__ = ["Finding", "RecordBooks", "expected_report"]

#: Default rules of `check`: amounts must agree exactly; pending goes stale after a day.
STALE_AFTER: Final = timedelta(hours=24)
#: How many references a currency- or wallet-level finding lists, oldest first.
REFERENCES_LISTED: Final = 50

_SIGNED: Final = NumberStyle(signed=True)
_KIND_ORDER: Final = {kind: position for position, kind in enumerate(Kind)}


def _decimal(text: str) -> Decimal:
    return money.parse_amount(text, style=_SIGNED)


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

    def references(self) -> tuple[str, ...]:
        return tuple(reference for _, reference in self._kept)


@dataclass
class _WalletRecords:
    confirmed_deposits: int = 0
    pending_deposits: int = 0
    live_withdrawals: int = 0
    oldest: _Oldest = field(default_factory=_Oldest)

    @property
    def available(self) -> int:
        return self.confirmed_deposits - self.live_withdrawals

    @property
    def total(self) -> int:
        return self.available + self.pending_deposits


@dataclass
class _CurrencyRecords:
    scale: int
    wallets: dict[str, _WalletRecords] = field(default_factory=dict)
    deposited: int = 0
    withdrawn: int = 0
    fees: int = 0
    count: int = 0
    oldest: _Oldest = field(default_factory=_Oldest)
    #: Net movement before the hours kept; then per hour: deposits, count, withdrawals, count.
    before: int = 0
    hours: dict[int, list[int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(wallet.total for wallet in self.wallets.values())


class RecordBooks:
    """The merchant's records as the importer must see them, summed in one pass.

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
        state = record_status(row.status)
        assert state is not None, f"{row.reference}: status {row.status!r} does not import"
        self.record_count += 1
        scale = money.known_scale(row.currency)
        assert scale is not None, f"{row.currency} has no fixed scale"
        books = self.currencies.setdefault(row.currency, _CurrencyRecords(scale))
        wallet = books.wallets.setdefault(row.wallet_id, _WalletRecords())
        books.count += 1
        books.oldest.offer(row.at, row.reference)
        wallet.oldest.offer(row.at, row.reference)
        if state is RecordStatus.PENDING:
            self.pending.append(row)
        if state is RecordStatus.FAILED:
            return
        books.fees += row.fee
        deposit = row.type is RecordType.DEPOSIT
        if deposit:
            books.deposited += row.amount
            if state is RecordStatus.CONFIRMED:
                wallet.confirmed_deposits += row.amount
            else:
                wallet.pending_deposits += row.amount
        else:
            books.withdrawn += row.amount
            wallet.live_withdrawals += row.amount
        if row.at < self.hours_from:
            books.before += row.amount if deposit else -row.amount
        else:
            figures = books.hours.setdefault(row.at - row.at % HOUR, [0, 0, 0, 0])
            offset = 0 if deposit else 2
            figures[offset] += row.amount
            figures[offset + 1] += 1


# -- findings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One discrepancy the engine must report, with the engine's formatting rules."""

    kind: Kind
    message: str
    currency: str | None = None
    wallet_id: str | None = None
    bucket: str | None = None
    field: str | None = None
    api_value: Decimal | None = None
    merchant_value: Decimal | None = None
    usd_difference: Decimal | None = None
    references: tuple[str, ...] = ()
    reference: str | None = None
    scale: int | None = None

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.kind]

    @property
    def difference(self) -> Decimal | None:
        if self.api_value is None or self.merchant_value is None:
            return None
        return money.sub(self.api_value, self.merchant_value)

    def sort_key(self) -> tuple[Any, ...]:
        return (
            0 if self.severity is Severity.ERROR else 1,
            self.currency or "",
            _KIND_ORDER[self.kind],
            self.wallet_id or "",
            self.bucket or "",
            self.field or "",
            self.reference or "",
        )

    def _text(self, value: Decimal | None, scale: int | None) -> str | None:
        if value is None:
            return None
        if scale is not None and money.places(value) <= scale:
            return money.canonical(value, scale)
        return money.canonical(value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": discrepancy_id(
                self.kind, self.currency, self.wallet_id, self.bucket, self.field, self.reference
            ),
            "kind": self.kind.value,
            "severity": self.severity.value,
            "currency": self.currency,
            "wallet_id": self.wallet_id,
            "bucket": self.bucket,
            "field": self.field,
            "api_value": self._text(self.api_value, self.scale),
            "merchant_value": self._text(self.merchant_value, self.scale),
            "difference": self._text(self.difference, self.scale),
            "usd_difference": self._text(self.usd_difference, 2),
            "references": list(self.references),
            "message": self.message,
            "acknowledged": False,
        }


class _Gateway:
    """The gateway's documents, read as a reconciler reads them."""

    def __init__(self, balances: dict[str, Any], histories: dict[str, dict[str, Any]]) -> None:
        self.balances = {entry["currency"]: entry for entry in balances["balances"]}
        self.summary = balances["summary"]
        self.histories = histories
        self.as_of = parse_api_time(self.summary["last_update"])
        self.printed = {
            code: max(money.scale_of_text(text) for text in _amount_texts(entry))
            for code, entry in self.balances.items()
        }

    def scale(self, code: str) -> int:
        return money.scale_for(code, self.printed)

    def usd(self, code: str, difference: Decimal) -> Decimal | None:
        entry = self.balances.get(code)
        if entry is None:
            return None
        rate_numerator = money.product(difference, _decimal(entry["usd_value"]))
        return money.ratio(rate_numerator, _decimal(entry["total_balance"]), 2)


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


def _mismatch(
    gateway: _Gateway,
    kind: Kind,
    code: str,
    api_value: Decimal,
    merchant_value: Decimal,
    message: str,
    **scope: Any,
) -> Finding:
    return Finding(
        kind=kind,
        message=message,
        currency=code,
        api_value=api_value,
        merchant_value=merchant_value,
        usd_difference=gateway.usd(code, money.sub(api_value, merchant_value)),
        scale=gateway.scale(code),
        **scope,
    )


def _api_findings(gateway: _Gateway) -> list[Finding]:
    """The gateway against its own invariants (the reference notes' last section)."""
    found = []

    def check(name: str, reported: Decimal, implied: Decimal, **scope: Any) -> None:
        if reported != implied:
            found.append(
                Finding(
                    Kind.API_INCONSISTENCY,
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


def _records_findings(gateway: _Gateway, books: RecordBooks) -> list[Finding]:
    found: list[Finding] = []
    compared = [code for code in gateway.balances if code in books.currencies]

    # currency_not_in_api / currency_not_in_records / wallet_not_in_api
    for code, records in sorted(books.currencies.items()):
        if code in gateway.balances:
            continue
        value = amount(records.total, records.scale)
        found.append(
            Finding(
                Kind.CURRENCY_NOT_IN_API,
                f"{records.count} records in {code}, which the gateway does not report",
                currency=code,
                merchant_value=value,
                references=records.oldest.references(),
                scale=gateway.scale(code),
            )
        )
    for code, entry in gateway.balances.items():
        total = _decimal(entry["total_balance"])
        if code not in books.currencies and not total.is_zero():
            found.append(
                Finding(
                    Kind.CURRENCY_NOT_IN_RECORDS,
                    f"the gateway holds {money.canonical(total)} {code}; no record mentions it",
                    currency=code,
                    api_value=total,
                    scale=gateway.scale(code),
                )
            )
    for code in compared:
        reported = {wallet["wallet_id"] for wallet in gateway.balances[code]["wallets"]}
        records = books.currencies[code]
        for wallet_id, wallet in sorted(records.wallets.items()):
            if wallet_id in reported:
                continue
            found.append(
                Finding(
                    Kind.WALLET_NOT_IN_API,
                    f"{code} records in wallet {wallet_id}, which the gateway does not report"
                    f" for {code}",
                    currency=code,
                    wallet_id=wallet_id,
                    merchant_value=amount(wallet.total, records.scale),
                    references=wallet.oldest.references(),
                    scale=gateway.scale(code),
                )
            )

    # available_mismatch / pending_mismatch / total_mismatch / history_mismatch
    for code in compared:
        entry = gateway.balances[code]
        records = books.currencies[code]
        scale = records.scale
        for wallet in entry["wallets"]:
            mine = records.wallets.get(wallet["wallet_id"], _WalletRecords())
            for name, reported, recorded in (
                ("available", wallet["balance"], mine.available),
                ("pending", wallet["pending"], mine.pending_deposits),
            ):
                api_value, merchant_value = _decimal(reported), amount(recorded, scale)
                if api_value != merchant_value:
                    kind = Kind.AVAILABLE_MISMATCH if name == "available" else Kind.PENDING_MISMATCH
                    found.append(
                        _mismatch(
                            gateway,
                            kind,
                            code,
                            api_value,
                            merchant_value,
                            f"{code} wallet {wallet['wallet_name']}: {name} is {reported} at the"
                            f" gateway, {money.canonical(merchant_value)} in the records",
                            wallet_id=wallet["wallet_id"],
                        )
                    )
        for name, recorded in (
            ("total_deposited", records.deposited),
            ("total_withdrawn", records.withdrawn),
            ("total_fees_paid", records.fees),
        ):
            api_value, merchant_value = _decimal(entry[name]), amount(recorded, scale)
            if api_value != merchant_value:
                found.append(
                    _mismatch(
                        gateway,
                        Kind.TOTAL_MISMATCH,
                        code,
                        api_value,
                        merchant_value,
                        f"{code}: {name} is {entry[name]} at the gateway,"
                        f" {money.canonical(merchant_value)} in the records",
                        field=name,
                    )
                )
        history = gateway.histories.get(code)
        if history is not None:
            found += _history_findings(gateway, code, history, records, books.hours_from)

    # duplicate_record / stale_pending (only in currencies the gateway reports)
    repeated = Counter(row.reference for row in books.repeats)
    seen: set[str] = set()
    for row in books.repeats:
        if row.currency not in gateway.balances or row.reference in seen:
            continue
        seen.add(row.reference)
        found.append(
            Finding(
                Kind.DUPLICATE_RECORD,
                f"reference {row.reference} appears {repeated[row.reference] + 1} times in the"
                " file; only the first copy counts",
                currency=row.currency,
                wallet_id=row.wallet_id,
                references=(row.reference,),
                reference=row.reference,
                scale=gateway.scale(row.currency),
            )
        )
    stale_before = gateway.as_of - STALE_AFTER
    for row in books.pending:
        if row.currency not in gateway.balances:
            continue
        if parse_api_time(epoch_text(row.at)) >= stale_before:
            continue
        scale = books.currencies[row.currency].scale
        found.append(
            Finding(
                Kind.STALE_PENDING,
                f"{row.type} {row.reference} has been pending since {epoch_text(row.at)},"
                f" more than {STALE_AFTER} before the gateway's last update",
                currency=row.currency,
                wallet_id=row.wallet_id,
                merchant_value=amount(row.amount, scale),
                references=(row.reference,),
                reference=row.reference,
                scale=gateway.scale(row.currency),
            )
        )
    return found


def _history_findings(
    gateway: _Gateway,
    code: str,
    history: dict[str, Any],
    records: _CurrencyRecords,
    hours_from: int,
) -> list[Finding]:
    found = []
    scale = records.scale
    step = int(interval_length(history["interval"]).total_seconds())
    hours = sorted(records.hours)
    running = [records.before]
    for hour in hours:
        figures = records.hours[hour]
        running.append(running[-1] + figures[0] - figures[2])

    for bucket in sorted(history["history"], key=lambda b: b["timestamp"]):
        start = int(parse_api_time(bucket["timestamp"]).timestamp())
        assert start >= hours_from, f"{bucket['timestamp']} is before the hours kept"
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
        when = bucket["timestamp"]
        for name in ("deposits", "withdrawals", "balance"):
            api_value, merchant_value = _decimal(bucket[name]), amount(mine[name], scale)
            if api_value != merchant_value:
                found.append(
                    _mismatch(
                        gateway,
                        Kind.HISTORY_MISMATCH,
                        code,
                        api_value,
                        merchant_value,
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
                        Kind.HISTORY_MISMATCH,
                        f"{code} {when}: {name} is {bucket[name]} at the gateway,"
                        f" {mine[name]} in the records",
                        currency=code,
                        bucket=when,
                        field=name,
                        api_value=Decimal(bucket[name]),
                        merchant_value=Decimal(mine[name]),
                    )
                )
    return found


def expected_report(
    balances: dict[str, Any],
    histories: dict[str, dict[str, Any]],
    books: RecordBooks,
    *,
    period: str,
    interval: str,
    base_url: str,
    record_files: list[str],
) -> dict[str, Any]:
    """The report document a correct `check` writes for these documents and records.

    `generated_at` and `fetched_at` are the gateway's clock; `base_url` and the file names
    depend on where the check runs, so a comparison should leave them out.
    """
    gateway = _Gateway(balances, histories)
    findings = sorted(
        _api_findings(gateway) + _records_findings(gateway, books), key=Finding.sort_key
    )
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    by_kind = Counter(f.kind for f in findings)
    divergence: dict[str, str] = {}
    for finding in findings:
        if finding.kind is Kind.HISTORY_MISMATCH and finding.currency and finding.bucket:
            known = divergence.get(finding.currency)
            if known is None or finding.bucket < known:
                divergence[finding.currency] = finding.bucket
    in_scope = sorted(set(gateway.balances) | set(books.currencies))
    clock = gateway.summary["last_update"]
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": clock,
        "api": {"base_url": base_url, "fetched_at": clock, "period": period, "interval": interval},
        "records": {"count": books.record_count, "files": record_files},
        "tolerances": dict.fromkeys(in_scope, "0"),
        "summary": {
            "status": "discrepancies" if findings else "clean",
            "errors": errors,
            "warnings": len(findings) - errors,
            "acknowledged": 0,
            "by_kind": {
                kind.value: by_kind[kind] for kind in sorted(by_kind, key=_KIND_ORDER.__getitem__)
            },
            "first_divergence": dict(sorted(divergence.items())),
        },
        "discrepancies": [finding.to_dict() for finding in findings],
        "notes": [],
    }
