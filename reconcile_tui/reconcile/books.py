"""The merchant's side of a reconciliation: what the records say, in the gateway's terms.

Balance effect of a record (docs/reconciliation.md; `ledger.is_live` and
`ledger.balance_effect` hold the rule): a confirmed deposit adds to its wallet's
available, a pending deposit to its pending; a withdrawal that has not failed leaves
available at once; a failed record does nothing; an opening record sets the wallet's
available at its time, and the wallet's records dated before it are taken as already
inside it.

Wallets named by `wallet_name` instead of `wallet_id` are resolved through the names the
gateway reports (see `WalletDirectory`).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from reconcile_tui import money
from reconcile_tui.api.models import HistoryBucket
from reconcile_tui.api.snapshot import GatewaySnapshot
from reconcile_tui.money import ZERO
from reconcile_tui.reconcile.rules import Rules
from reconcile_tui.store import ledger
from reconcile_tui.store.db import Store
from reconcile_tui.times import bucket_end, parse_api_time, sql_bound, stored_order
from reconcile_tui.vocabulary import RecordStatus, RecordType

__all__ = ["Books", "BucketBooks", "CurrencyBooks", "WalletBooks", "WalletDirectory", "load_books"]

RawWallet = tuple[str | None, str | None]


class WalletDirectory:
    """Resolves a record's wallet (id, or name) to the id the gateway reports.

    A name resolves when exactly one wallet of that name exists, looked up first among
    the currency's own wallets and then across all currencies (the gateway reuses one
    wallet id across currencies). An unresolved wallet keeps the text the record gave.
    """

    def __init__(self, snapshot: GatewaySnapshot | None) -> None:
        self._by_currency: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self._anywhere: dict[str, set[str]] = defaultdict(set)
        self._ids: dict[str, set[str]] = defaultdict(set)
        if snapshot is not None:
            for balance in snapshot.balances.balances:
                for wallet in balance.wallets:
                    self._ids[balance.currency].add(wallet.wallet_id)
                    if wallet.wallet_name:
                        key = wallet.wallet_name.casefold()
                        self._by_currency[balance.currency][key].add(wallet.wallet_id)
                        self._anywhere[key].add(wallet.wallet_id)

    def key(self, currency: str, raw: RawWallet) -> str:
        wallet_id, wallet_name = raw
        if wallet_id:
            return wallet_id
        assert wallet_name is not None  # the records table guarantees one of them
        folded = wallet_name.casefold()
        for candidates in (self._by_currency[currency].get(folded), self._anywhere.get(folded)):
            if candidates and len(candidates) == 1:
                return next(iter(candidates))
        return wallet_name

    def reported(self, currency: str, key: str) -> bool:
        return key in self._ids.get(currency, set())


@dataclass
class WalletBooks:
    """One wallet of one currency, as the records see it."""

    key: str
    confirmed_deposits: Decimal = ZERO
    pending_deposits: Decimal = ZERO
    live_withdrawals: Decimal = ZERO
    record_count: int = 0
    opening: Decimal | None = None
    opening_at: str | None = None
    #: The total balance effect of the records dated before the opening (taken as inside it).
    before_opening: Decimal = ZERO
    raw: set[RawWallet] = field(default_factory=set)

    @property
    def available(self) -> Decimal:
        start = self.opening if self.opening is not None else ZERO
        return money.sub(money.add(start, self.confirmed_deposits), self.live_withdrawals)

    @property
    def pending(self) -> Decimal:
        return self.pending_deposits

    @property
    def total(self) -> Decimal:
        return money.add(self.available, self.pending)


@dataclass
class BucketBooks:
    """The records' figures for one history bucket; `balance` None when unknowable."""

    deposits: Decimal = ZERO
    deposit_count: int = 0
    withdrawals: Decimal = ZERO
    withdrawal_count: int = 0
    balance: Decimal | None = None


@dataclass
class CurrencyBooks:
    """One currency, as the records see it."""

    currency: str
    wallets: dict[str, WalletBooks] = field(default_factory=dict)
    deposited: Decimal = ZERO
    withdrawn: Decimal = ZERO
    fees: Decimal = ZERO
    record_count: int = 0
    openings: list[ledger.OpeningRow] = field(default_factory=list)
    #: Aligned with the gateway's history buckets (sorted by timestamp), when fetched.
    buckets: list[BucketBooks] = field(default_factory=list)
    #: Total balance effect of the live records dated before the history period.
    before_period: Decimal = ZERO

    @property
    def has_opening(self) -> bool:
        return bool(self.openings)

    @property
    def available(self) -> Decimal:
        return money.total(wallet.available for wallet in self.wallets.values())

    @property
    def pending(self) -> Decimal:
        return money.total(wallet.pending for wallet in self.wallets.values())

    @property
    def total(self) -> Decimal:
        return money.add(self.available, self.pending)

    def wallet(self, key: str) -> WalletBooks:
        if key not in self.wallets:
            self.wallets[key] = WalletBooks(key)
        return self.wallets[key]


@dataclass
class Books:
    """Everything the records say that a reconciliation compares."""

    currencies: dict[str, CurrencyBooks]
    directory: WalletDirectory
    record_count: int
    record_files: list[str]
    duplicates: list[ledger.DuplicateRow]
    stale_candidates: list[ledger.PendingRow]
    quarantined: list[tuple[str, int]]

    def currency(self, code: str) -> CurrencyBooks:
        return self.currencies.get(code) or CurrencyBooks(code)


def _apply(wallet: WalletBooks, kind: str, status: str, amount: Decimal, sign: int = 1) -> None:
    if not ledger.is_live(kind, status):
        return
    signed = amount if sign > 0 else money.neg(amount)
    if kind == RecordType.DEPOSIT:
        if status == RecordStatus.CONFIRMED:
            wallet.confirmed_deposits = money.add(wallet.confirmed_deposits, signed)
        else:
            wallet.pending_deposits = money.add(wallet.pending_deposits, signed)
    elif kind == RecordType.WITHDRAWAL:
        wallet.live_withdrawals = money.add(wallet.live_withdrawals, signed)


def load_books(store: Store, snapshot: GatewaySnapshot | None, rules: Rules) -> Books:
    """Read the records' side of a reconciliation against `snapshot` from the store."""
    directory = WalletDirectory(snapshot)
    currencies: dict[str, CurrencyBooks] = {}
    histories = snapshot.histories if snapshot is not None else {}
    starts = {
        code: sql_bound(min(bucket.timestamp for bucket in history.history))
        for code, history in histories.items()
        if history.history
    }

    record_count = 0
    import_ids: set[int] = set()
    opened: dict[tuple[str, str | None, str | None], str] = {}
    for group in ledger.group_totals(store, starts):
        record_count += group.count
        import_ids.add(group.import_id)
        if group.latest_at is not None:
            where = (group.currency, group.wallet_id, group.wallet_name)
            opened[where] = max(
                group.latest_at, opened.get(where, group.latest_at), key=stored_order
            )
        books = currencies.setdefault(group.currency, CurrencyBooks(group.currency))
        raw = (group.wallet_id, group.wallet_name)
        wallet = books.wallet(directory.key(group.currency, raw))
        wallet.raw.add(raw)
        amount, fee = Decimal(group.amount), Decimal(group.fee)
        books.record_count += group.count
        wallet.record_count += group.count
        _apply(wallet, group.type, group.status, amount)
        if group.status != RecordStatus.FAILED:
            if group.type == RecordType.DEPOSIT:
                books.deposited = money.add(books.deposited, amount)
            elif group.type == RecordType.WITHDRAWAL:
                books.withdrawn = money.add(books.withdrawn, amount)
            books.fees = money.add(books.fees, fee)
        if group.before_period and ledger.is_live(group.type, group.status):
            effect = ledger.balance_effect(group.type, amount)
            books.before_period = money.add(books.before_period, effect)

    if opened:
        _apply_openings(store, currencies, directory, ledger.openings(store, opened))
    if snapshot is not None:
        for code, history in snapshot.histories.items():
            if code in currencies:
                currencies[code].buckets = _history_books(
                    store,
                    currencies[code],
                    sorted(history.history, key=lambda b: b.timestamp),
                    history.interval,
                )

    as_of = snapshot.as_of if snapshot is not None else None
    stale: list[ledger.PendingRow] = []
    if as_of is not None:
        thresholds = [rules.stale_threshold(code) for code in currencies] or [timedelta(0)]
        stale = [
            row
            for row in ledger.pending_records(store, sql_bound(as_of - min(thresholds)))
            if parse_api_time(row.occurred_at) < as_of - rules.stale_threshold(row.currency)
        ]
    return Books(
        currencies=currencies,
        directory=directory,
        record_count=record_count,
        record_files=ledger.record_files(store, import_ids),
        duplicates=ledger.duplicates(store),
        stale_candidates=stale,
        quarantined=ledger.quarantined_rows(store),
    )


def _apply_openings(
    store: Store,
    currencies: dict[str, CurrencyBooks],
    directory: WalletDirectory,
    openings: list[ledger.OpeningRow],
) -> None:
    """Set each opening wallet's available, dropping its records dated before the opening."""
    latest: dict[tuple[str, str], ledger.OpeningRow] = {}
    for opening in openings:
        where = (
            opening.currency,
            directory.key(opening.currency, (opening.wallet_id, opening.wallet_name)),
        )
        if where not in latest or opening.occurred_at > latest[where].occurred_at:
            latest[where] = opening
    for (code, key), opening in latest.items():
        books = currencies[code]
        books.openings.append(opening)
        wallet = books.wallet(key)
        wallet.opening = Decimal(opening.amount)
        wallet.opening_at = opening.occurred_at
        for wallet_id, wallet_name in wallet.raw:
            before = ledger.wallet_flow_before(
                store, code, wallet_id, wallet_name, sql_bound(parse_api_time(opening.occurred_at))
            )
            for kind, status, amount, _count in before:
                _apply(wallet, kind, status, Decimal(amount), sign=-1)
                if ledger.is_live(kind, status):
                    effect = ledger.balance_effect(kind, Decimal(amount))
                    wallet.before_opening = money.add(wallet.before_opening, effect)


def _history_books(
    store: Store, books: CurrencyBooks, buckets: list[HistoryBucket], interval: str
) -> list[BucketBooks]:
    """Per gateway bucket: the records' deposits, withdrawals and end-of-bucket total."""
    if not buckets:
        return []
    start = buckets[0].timestamp
    end = bucket_end(buckets[-1].timestamp, interval)
    starts = [bucket.timestamp for bucket in buckets]
    ends = [bucket_end(bucket.timestamp, interval) for bucket in buckets]
    result = [BucketBooks() for _ in buckets]

    # Total balance before the period: every live movement before it (from the same scan
    # as the all-time figures), corrected for opening balances, which replace the records
    # dated before them.
    running = books.before_period
    adjustment, known_from = _opening_adjustment(books)
    running = money.add(running, adjustment)

    # Walk the period's movements once, closing buckets as time passes their ends. Between
    # two consecutive starts or ends every movement lands alike, so a server may hand the
    # records between them over as one sum per type (docs/postgresql.md, "Speed").
    position = 0
    bounds = sorted({*starts, *ends})
    movements = ledger.movements_between(
        store, books.currency, sql_bound(start), sql_bound(end), bounds
    )
    for movement in movements:
        moment = parse_api_time(movement.occurred_at)
        while position < len(buckets) and moment >= ends[position]:
            _close(result[position], running, ends[position], known_from)
            position += 1
        moved = Decimal(movement.amount)
        index = bisect.bisect_right(starts, moment) - 1
        inside = index >= 0 and moment < ends[index]
        running = money.add(running, ledger.balance_effect(movement.type, moved))
        if not inside:
            continue
        if movement.type == RecordType.DEPOSIT:
            result[index].deposits = money.add(result[index].deposits, moved)
            result[index].deposit_count += movement.count
        else:
            result[index].withdrawals = money.add(result[index].withdrawals, moved)
            result[index].withdrawal_count += movement.count
    while position < len(buckets):
        _close(result[position], running, ends[position], known_from)
        position += 1
    return result


def _close(
    bucket: BucketBooks, running: Decimal, end: datetime, known_from: datetime | None
) -> None:
    if known_from is None or end >= known_from:
        bucket.balance = running


def _opening_adjustment(books: CurrencyBooks) -> tuple[Decimal, datetime | None]:
    """What openings change in the currency's running total, and from when it is known.

    Before the latest opening of any wallet the total cannot be known from the records, so
    buckets ending before it are not compared (None: known throughout).
    """
    adjustment = ZERO
    known_from: datetime | None = None
    for wallet in books.wallets.values():
        if wallet.opening is None or wallet.opening_at is None:
            continue
        opened = parse_api_time(wallet.opening_at)
        # The opening replaces the records before it: add it, take theirs out.
        adjustment = money.add(adjustment, money.sub(wallet.opening, wallet.before_opening))
        known_from = opened if known_from is None else max(known_from, opened)
    return adjustment, known_from
