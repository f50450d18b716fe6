"""Month-end close: a period's figures on both sides, and what changed since a sign-off.

A period is whole UTC days, `YYYY-MM` or `YYYY-MM-DD..YYYY-MM-DD` (inclusive). Per
currency, the figures come from the newest stored snapshot whose history has a bucket
ending exactly at the period's end (one covering the whole period preferred): the
gateway's balance at the end and its movements over the period's buckets, against the
records' balance and movements over the very same buckets (docs/close.md).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final

from reconcile_tui import money
from reconcile_tui.errors import BadInput, NotFound, ReconcileError
from reconcile_tui.reconcile.books import load_books
from reconcile_tui.reconcile.rules import Rules
from reconcile_tui.store import closes, ledger, snapshots
from reconcile_tui.store.db import Store
from reconcile_tui.times import (
    EARLIEST,
    LATEST,
    bucket_end,
    format_utc,
    parse_api_time,
    sql_bound,
)
from reconcile_tui.vocabulary import RecordType

__all__ = [
    "CurrencyClose",
    "OpenCausesInPeriod",
    "Period",
    "PeriodReview",
    "changes",
    "newest_covered",
    "open_causes_in",
    "parse_period",
    "period_figures",
]

_MONTH: Final = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_RANGE: Final = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", re.ASCII)


class OpenCausesInPeriod(ReconcileError):
    """`close` refused: causes in the period are open (exit 1, nothing signed)."""

    exit_code = 1

    def __init__(self, message: str, *, count: int = 0, period: str = "") -> None:
        super().__init__(message)
        #: How many, and in which period (the terminal app says it in its own words).
        self.count = count
        self.period = period


@dataclass(frozen=True)
class Period:
    """Whole UTC days from `first` to `last`, both included."""

    first: date
    last: date

    @property
    def starts_at(self) -> datetime:
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=UTC)

    @property
    def ends_at(self) -> datetime:
        """The moment after the last day (excluded)."""
        return datetime(self.last.year, self.last.month, self.last.day, tzinfo=UTC) + timedelta(
            days=1
        )

    @property
    def label(self) -> str:
        """`2025-01` for a whole month, else `2025-01-10..2025-01-14`."""
        days = calendar.monthrange(self.first.year, self.first.month)[1]
        if self.first.day == 1 and self.last == self.first.replace(day=days):
            return self.first.strftime("%Y-%m")
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    def contains(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at

    def shifted(self, months: int) -> Period:
        """The calendar month `months` away from this period's first month."""
        index = self.first.year * 12 + self.first.month - 1 + months
        return month(index // 12, index % 12 + 1)


def month(year: int, number: int) -> Period:
    first = date(year, number, 1)
    return Period(first, first.replace(day=calendar.monthrange(year, number)[1]))


def newest_covered(span: tuple[datetime, datetime] | None) -> Period | None:
    """The period a close screen opens on: the newest whole month the newest stored history
    covers, else the whole UTC days it covers (a 7-day history mid-month), else None."""
    if span is None:
        return None
    start, end = span
    first = start.date() if start.time() == time(0) else start.date() + timedelta(days=1)
    last = end.date() - timedelta(days=1)  # the last day that ends by `end`
    if last < first:
        return None
    whole = month(last.year, last.month)
    if whole.last != last:
        whole = whole.shifted(-1)
    if first <= whole.first and whole.last <= last:
        return whole
    return Period(first, last)


def parse_period(text: str) -> Period:
    """`YYYY-MM` or `YYYY-MM-DD..YYYY-MM-DD` (inclusive UTC days), or BadInput (exit 2)."""
    shape = "give YYYY-MM or YYYY-MM-DD..YYYY-MM-DD"
    stripped = text.strip()
    try:
        if found := _MONTH.fullmatch(stripped):
            whole = month(int(found[1]), int(found[2]))
            first, last = whole.first, whole.last
        elif found := _RANGE.fullmatch(stripped):
            first, last = date.fromisoformat(found[1]), date.fromisoformat(found[2])
        else:
            raise BadInput(f"period {text!r} is not a month or a date range: {shape}")
    except ValueError as error:
        raise BadInput(f"period {text!r} is not a real date ({error}): {shape}") from None
    if last < first:
        raise BadInput(f"period {text!r} ends before it starts: {shape}")
    # The times a store holds (times.EARLIEST to LATEST): a period outside them holds
    # nothing, and the day after 9999-12-31 is no date at all.
    if not (EARLIEST.date() <= first and last < LATEST.date()):
        raise BadInput(f"period {text!r} is outside the years 1900 to 2999: {shape}")
    return Period(first, last)


#: What a sign-off accepts per currency, in the order a lapse names them, with the words a
#: lapse uses: balances are "at" the period's last day, movements "in" the period.
FIGURES: Final[tuple[tuple[str, str], ...]] = (
    ("gateway_balance", "gateway's balance"),
    ("records_balance", "records' balance"),
    ("gateway_deposits", "gateway's deposits"),
    ("records_deposits", "records' deposits"),
    ("gateway_withdrawals", "gateway's withdrawals"),
    ("records_withdrawals", "records' withdrawals"),
    ("gateway_deposit_count", "gateway's deposit count"),
    ("records_deposit_count", "records' deposit count"),
    ("gateway_withdrawal_count", "gateway's withdrawal count"),
    ("records_withdrawal_count", "records' withdrawal count"),
    ("movements_from", "movements counted from"),
)


@dataclass(frozen=True)
class CurrencyClose:
    """One currency's figures for a period; `records_balance` None when an opening
    balance dated after the period's end makes it unknowable from the records. Every
    gateway figure (and the records' balance) is None for a currency with records in the
    period that no stored gateway history covers (docs/close.md, "Records the gateway's
    history does not cover")."""

    currency: str
    gateway_balance: Decimal | None
    records_balance: Decimal | None
    gateway_deposits: Decimal | None
    gateway_withdrawals: Decimal | None
    gateway_deposit_count: int | None
    gateway_withdrawal_count: int | None
    records_deposits: Decimal
    records_withdrawals: Decimal
    records_deposit_count: int
    records_withdrawal_count: int
    movements_from: datetime
    snapshot_id: int | None

    @property
    def difference(self) -> Decimal | None:
        """Gateway minus records at the period's end."""
        if self.records_balance is None or self.gateway_balance is None:
            return None
        return money.sub(self.gateway_balance, self.records_balance)

    def to_dict(self) -> dict[str, Any]:
        """The accepted figures as stored and shown in `closes` (amounts as exact text)."""
        return {
            "gateway_balance": _canonical(self.gateway_balance),
            "records_balance": _canonical(self.records_balance),
            "gateway_deposits": _canonical(self.gateway_deposits),
            "gateway_withdrawals": _canonical(self.gateway_withdrawals),
            "gateway_deposit_count": self.gateway_deposit_count,
            "gateway_withdrawal_count": self.gateway_withdrawal_count,
            "records_deposits": money.canonical(self.records_deposits),
            "records_withdrawals": money.canonical(self.records_withdrawals),
            "records_deposit_count": self.records_deposit_count,
            "records_withdrawal_count": self.records_withdrawal_count,
            "movements_from": format_utc(self.movements_from),
        }


def _canonical(amount: Decimal | None) -> str | None:
    return None if amount is None else money.canonical(amount)


def period_figures(store: Store, period: Period, rules: Rules) -> dict[str, CurrencyClose]:
    """Per currency, the period's figures from the stored history that covers it.

    NotFound (exit 2) when no stored history reaches the period's end."""
    chosen = closes.covering_snapshots(store, period.starts_at, period.ends_at)
    clock = closes.newest_gateway_clock(store)
    if not chosen and clock is not None and clock < period.ends_at:
        raise NotFound(
            f"{period.label} had not ended when the gateway's figures were fetched (its"
            f" clock read {format_utc(clock)}): close it after a fetch made once"
            f" {period.last.isoformat()} has ended"
        )
    if not chosen:
        raise NotFound(
            f"no stored gateway history covers {period.label} (to the end of"
            f" {period.last.isoformat()}): run `reconcile-tui fetch --period 30d` (or a"
            " period and interval that reach it) first"
        )
    by_snapshot: dict[int, list[str]] = {}
    for code, snapshot_id in chosen.items():
        by_snapshot.setdefault(snapshot_id, []).append(code)
    figures: dict[str, CurrencyClose] = {}
    for snapshot_id, codes in sorted(by_snapshot.items()):
        snapshot = snapshots.load_snapshot(store, snapshot_id)
        books = load_books(store, snapshot, rules)
        for code in codes:
            history = snapshot.histories[code]
            buckets = sorted(history.history, key=lambda b: b.timestamp)
            records = books.currency(code).buckets
            inside = [
                i
                for i, bucket in enumerate(buckets)
                if bucket.timestamp >= period.starts_at
                and bucket_end(bucket.timestamp, history.interval) <= period.ends_at
            ]
            last = inside[-1]
            side = [records[i] for i in inside] if records else []
            figures[code] = CurrencyClose(
                currency=code,
                gateway_balance=buckets[last].balance,
                records_balance=records[last].balance if records else money.ZERO,
                gateway_deposits=money.total(buckets[i].deposits for i in inside),
                gateway_withdrawals=money.total(buckets[i].withdrawals for i in inside),
                gateway_deposit_count=sum(buckets[i].deposit_count for i in inside),
                gateway_withdrawal_count=sum(buckets[i].withdrawal_count for i in inside),
                records_deposits=money.total(b.deposits for b in side),
                records_withdrawals=money.total(b.withdrawals for b in side),
                records_deposit_count=sum(b.deposit_count for b in side),
                records_withdrawal_count=sum(b.withdrawal_count for b in side),
                movements_from=buckets[inside[0]].timestamp,
                snapshot_id=snapshot_id,
            )
    figures.update(_records_alone(store, period, set(figures)))
    return dict(sorted(figures.items()))


def _records_alone(store: Store, period: Period, covered: set[str]) -> dict[str, CurrencyClose]:
    """The figures of each currency with live records in the period that no stored
    gateway history covers: the records' movements over the whole period, and nothing
    of the gateway's. A sign-off keeps them, so records arriving later in such a currency
    (or in one it had none of) make it lapse (docs/close.md)."""
    start, end = sql_bound(period.starts_at), sql_bound(period.ends_at)
    figures = {}
    for code in ledger.currencies_between(store, start, end):
        if code in covered:
            continue
        sums: dict[str, Decimal] = {
            RecordType.DEPOSIT: money.ZERO,
            RecordType.WITHDRAWAL: money.ZERO,
        }
        counts: dict[str, int] = dict.fromkeys(sums, 0)
        bounds = [period.starts_at, period.ends_at]
        for movement in ledger.movements_between(store, code, start, end, bounds):
            sums[movement.type] = money.add(sums[movement.type], Decimal(movement.amount))
            counts[movement.type] += movement.count
        figures[code] = CurrencyClose(
            currency=code,
            gateway_balance=None,
            records_balance=None,
            gateway_deposits=None,
            gateway_withdrawals=None,
            gateway_deposit_count=None,
            gateway_withdrawal_count=None,
            records_deposits=sums[RecordType.DEPOSIT],
            records_withdrawals=sums[RecordType.WITHDRAWAL],
            records_deposit_count=counts[RecordType.DEPOSIT],
            records_withdrawal_count=counts[RecordType.WITHDRAWAL],
            movements_from=period.starts_at,
            snapshot_id=None,
        )
    return figures


#: Causes whose effect on a balance lasts from their time on: a record or transaction one
#: side lacks, or an amount, fee, status or wallet the sides disagree on. (A time that
#: differs moves a movement between buckets, and the balances after both are equal.)
CARRIED_FORWARD: Final = frozenset(
    {
        "missing_in_records",
        "missing_at_gateway",
        "amount_differs",
        "fee_differs",
        "status_differs",
        "wrong_wallet",
        "currency_not_in_api",
        "wallet_not_in_api",
    }
)


def open_causes_in(
    period: Period, causes: list[dict[str, Any]], times: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """The open error causes that belong to the period.

    A cause belongs to it when one of its records, gateway transactions or history buckets
    (`times`, by cause id) falls in it; a cause with no time at all (a standing difference
    nobody has placed) belongs to every period: a close must not certify it away. Warnings
    never block a close, as they never fail `check` by default (docs/close.md)."""
    found = []
    for cause in causes:
        if cause["acknowledged"] or cause["severity"] != "error":
            continue
        moments = [parse_api_time(text) for text in times.get(cause["id"], [])]
        if not moments or any(period.contains(moment) for moment in moments):
            found.append(cause)
        elif cause["kind"] in CARRIED_FORWARD and min(moments) < period.starts_at:
            # A balance it moved before the period is still wrong at its end, which the
            # sign-off certifies. Whether a history bucket of the latest check fell in the
            # period decided it before, so a 24h fetch let a month be signed that a 30d
            # one refused, on the same books.
            found.append(cause)
    return found


def changes(period: Period, accepted: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between the figures a sign-off accepted and today's, in words:
    `USDTERC20 records' balance at 2025-01-31 was 100.00, now 95.00`."""
    said = []
    for code in sorted(set(accepted) | set(now)):
        if code not in now:
            said.append(f"{code} is no longer in a stored history that covers {period.label}")
            continue
        if code not in accepted:
            said.append(f"{code} was not in the figures accepted, now is")
            continue
        for key, words in FIGURES:
            was, is_ = accepted[code].get(key), now[code].get(key)
            if _same(was, is_):
                continue
            where = (
                f"at {period.last.isoformat()}" if key.endswith("balance") else f"in {period.label}"
            )
            said.append(f"{code} {words} {where} was {_text(was)}, now {_text(is_)}")
    return said


def _same(was: Any, is_: Any) -> bool:
    # Amounts compare by value (`100.0` is `100.00`); counts and times as they are.
    if was is None or is_ is None or isinstance(was, int) or "T" in str(was):
        return bool(was == is_)
    return Decimal(str(was)) == Decimal(str(is_))


def _text(value: Any) -> str:
    return "unknown" if value is None else str(value)


@dataclass(frozen=True)
class PeriodReview:
    """What a close looks at: the period's figures per currency and its open causes."""

    period: Period
    figures: dict[str, CurrencyClose]
    open_causes: list[dict[str, Any]]

    def accepted(self) -> dict[str, Any]:
        """The figures a sign-off keeps."""
        return {code: figures.to_dict() for code, figures in self.figures.items()}

    def short_history(self) -> str | None:
        """`movements counted from 2024-12-16 (DAIERC20, ETH), where the stored history
        starts`, when a currency's movements are counted from later than the period's first
        day (both sides alike; the balances at the end are whole); None when none is. Said
        wherever the figures are shown, so a month is never read as whole when half of
        it was counted (docs/close.md)."""
        late: dict[datetime, list[str]] = {}
        for code, figures in self.figures.items():
            if figures.movements_from > self.period.starts_at:
                late.setdefault(figures.movements_from, []).append(code)
        if not late:
            return None
        parts = [
            f"from {format_utc(moment)[:10]} ({', '.join(codes)})"
            for moment, codes in sorted(late.items())
        ]
        return f"movements counted {'; '.join(parts)}, where the stored history starts"
