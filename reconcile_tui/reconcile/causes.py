"""Causes: each mistake once, with its exact effect on every figure the checks compare.

The specification is docs/causes.md; this module follows it step by step. The checks
have already found the discrepancies; here the records are matched to the gateway's
transactions (`matching.py`), each difference between a pair or an unmatched side becomes
a cause with its effect (`effects.py`), and whatever part of a discrepancy's difference no
cause accounts for becomes an `unexplained` cause. So for every discrepancy the effects of
the causes it lists add up to its difference exactly, by construction.

Without the gateway's transactions the causes come from the discrepancies alone, grouped
so that a gap which appears in one history bucket and carries forward is still one cause.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from reconcile_tui import money
from reconcile_tui.api.models import GatewayTransaction
from reconcile_tui.bulk import collection_paused
from reconcile_tui.money import ZERO
from reconcile_tui.reconcile.context import CheckContext
from reconcile_tui.reconcile.effects import (
    BALANCE,
    Buckets,
    Effect,
    Figure,
    Movement,
    movement_effect,
)
from reconcile_tui.reconcile.matching import (
    DEFAULT_MATCH_WINDOW,
    GATEWAY_TYPE,
    Match,
    MatchableRecord,
    match,
    record_order,
)
from reconcile_tui.reconcile.model import Cause, CauseKind, Discrepancy, Kind, Severity
from reconcile_tui.store import ledger, pairs
from reconcile_tui.store.snapshots import StoredTransactions
from reconcile_tui.times import format_utc
from reconcile_tui.vocabulary import STATUS_WORDS, record_status

__all__ = ["FoundCauses", "find_causes"]

#: Discrepancy kinds that compare one figure, and so are explained by effects.
_FIGURE_KINDS = frozenset(
    {Kind.AVAILABLE_MISMATCH, Kind.PENDING_MISMATCH, Kind.TOTAL_MISMATCH, Kind.HISTORY_MISMATCH}
)
_WALLET_FIGURES = ("available", "pending")
_TOTALS = {"total_deposited": "deposits", "total_withdrawn": "withdrawals"}


@dataclass
class FoundCauses:
    """The causes in report order, each discrepancy's cause ids, and what is unexplained."""

    causes: list[Cause] = field(default_factory=list)
    causes_of: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Per currency in scope: the sum of every `unexplained` remainder of its figures.
    unexplained: dict[str, str] = field(default_factory=dict)


@dataclass
class _Draft:
    """A cause while it is being found: its effect is still open to change (placement)."""

    kind: CauseKind
    currency: str
    message: str
    effect: Effect
    wallet_id: str | None = None
    references: tuple[str, ...] = ()
    gateway_ids: tuple[str, ...] = ()
    where: str | None = None
    #: Set for causes whose amount is not read off their effect (docs/causes.md).
    amount: Decimal | None = None
    #: Whether `amount` is given (it may be None: a duplicate moves no figure).
    amount_given: bool = False
    severity: Severity = Severity.ERROR
    explains: list[str] = field(default_factory=list)


def _about_record(
    record: MatchableRecord,
    kind: CauseKind,
    *,
    effect: Effect,
    message: str,
    gateway_ids: tuple[str, ...] = (),
    amount: Decimal | None = None,
    amount_given: bool = False,
) -> _Draft:
    """A cause named for one record: its currency, wallet and reference."""
    return _Draft(
        kind=kind,
        currency=record.currency,
        wallet_id=record.wallet,
        references=(record.reference,),
        gateway_ids=gateway_ids,
        effect=effect,
        message=message,
        amount=amount,
        amount_given=amount_given,
    )


def _figure_of(d: Discrepancy, buckets: Buckets) -> Figure | None:
    """The figure a comparing discrepancy is about, keyed as `effects.py` keys them."""
    if d.kind not in _FIGURE_KINDS or d.currency is None:
        return None
    if d.kind == Kind.AVAILABLE_MISMATCH and d.wallet_id is not None:
        return ("available", d.currency, d.wallet_id)
    if d.kind == Kind.PENDING_MISMATCH and d.wallet_id is not None:
        return ("pending", d.currency, d.wallet_id)
    if d.kind == Kind.TOTAL_MISMATCH and d.field:
        return (d.field, d.currency)
    if d.kind == Kind.HISTORY_MISMATCH and d.field and d.bucket is not None:
        index = buckets.of(d.currency, d.bucket)
        return None if index is None else (d.field, d.currency, index)
    return None


def find_causes(
    ctx: CheckContext,
    discrepancies: list[Discrepancy],
    window: timedelta = DEFAULT_MATCH_WINDOW,
) -> FoundCauses:
    """Every cause of this reconciliation; `discrepancies` in report order."""
    buckets = Buckets(ctx.snapshot)
    figures: dict[Figure, Discrepancy] = {}
    drafts: list[_Draft] = []
    slips: list[tuple[_Draft, Discrepancy]] = []
    for d in discrepancies:
        figure = _figure_of(d, buckets)
        if figure is not None:
            figures[figure] = d
        else:
            drafts.append(_standing_for(d))
            if d.kind == Kind.API_INCONSISTENCY and d.field in _SLIPS:
                slips.append((drafts[-1], d))

    compared = [
        balance.currency
        for balance in ctx.snapshot.balances.listed()
        if balance.currency in ctx.books.currencies
    ]
    if ctx.snapshot.transactions is not None:
        with collection_paused():
            drafts += _from_transactions(ctx, buckets, compared, ctx.snapshot.transactions, window)
    else:
        drafts += _from_balances(ctx, buckets, compared, figures)
    _place_slips(ctx, compared, drafts, slips, figures, buckets)
    drafts += _unexplained(ctx, figures, drafts)
    return _finish(ctx, discrepancies, figures, drafts)


# -- the other kinds: one cause per discrepancy ---------------------------------------


def _standing_for(d: Discrepancy) -> _Draft:
    amount = d.difference
    if amount is None:
        amount = d.merchant_value if d.merchant_value is not None else d.api_value
    known = d.kind.value in CauseKind.__members__.values()
    return _Draft(
        kind=CauseKind(d.kind.value) if known else CauseKind.UNEXPLAINED,
        currency=d.currency or "",
        message=d.message,
        effect=Effect(),
        wallet_id=d.wallet_id,
        references=d.references,
        where=d.id,
        amount=amount,
        amount_given=True,
        severity=d.severity,
        explains=[d.id],
    )


#: The gateway's own figures that another of its figures is made of, and the figure a
#: slip in the parts moves: a wallet's balance, or a history bucket's balance.
_SLIPS = {
    "available_balance=sum(wallets.balance)": "available",
    "pending_balance=sum(wallets.pending)": "pending",
    "balance=previous+deposits-withdrawals": BALANCE,
}


def _place_slips(
    ctx: CheckContext,
    compared: list[str],
    drafts: list[_Draft],
    slips: list[tuple[_Draft, Discrepancy]],
    figures: dict[Figure, Discrepancy],
    buckets: Buckets,
) -> None:
    """A gateway that contradicts itself has one figure off: a wallet whose balance its
    currency's total does not hold, or a bucket whose balance its movements do not lead to.
    When, after every other cause, exactly that figure's gap is the slip, the
    `api_inconsistency` cause explains that mismatch too (docs/causes.md, "Settled");
    otherwise the gap stays `unexplained`."""
    for draft, d in slips:
        if d.difference is None or d.currency is None:
            continue
        figure = _SLIPS[str(d.field)]
        if figure == BALANCE:
            index = buckets.of(d.currency, d.bucket) if d.bucket is not None else None
            if index is None:
                continue
            key: Figure = (BALANCE, d.currency, index)
            found = figures.get(key)
            if found is None or found.difference is None:
                continue
            rest = found.difference
            for other in drafts:
                rest = money.sub(rest, other.effect.on(key))
            if rest == d.difference:  # the bucket states this much more than it leads to
                draft.effect.add(key, d.difference)
            continue
        slip = money.neg(d.difference)  # the wallets hold this much more than the total
        gaps = _Gaps(ctx, compared, drafts)
        wallets = [
            w for w in gaps.wallets.get(d.currency, []) if gaps.gap[(figure, d.currency, w)] == slip
        ]
        if len(wallets) == 1:
            draft.effect.add((figure, d.currency, wallets[0]), slip)


# -- with the gateway's transactions -------------------------------------------------


def _records(
    ctx: CheckContext, rows: Iterable[Sequence[str]], compared: set[str]
) -> list[MatchableRecord]:
    """Records as matching takes them, from rows as `ledger.matchable_records` gives them."""
    directory = ctx.books.directory
    keys: dict[tuple[str, str | None, str | None], str] = {}
    found: list[MatchableRecord] = []
    append, make, at = found.append, tuple.__new__, datetime.fromisoformat
    for row in rows:
        (reference, occurred_at, currency, wallet_id, wallet_name, kind, amount, fee) = row[:8]
        if currency not in compared:
            continue
        # A wallet id is its own key (WalletDirectory.key); only names are looked up.
        if wallet_id:
            wallet = wallet_id
        else:
            where = (currency, wallet_id, wallet_name)
            named = keys.get(where)
            if named is None:
                named = keys[where] = directory.key(currency, (wallet_id, wallet_name))
            wallet = named
        # Positional, in MatchableRecord's field order: a million records by keyword
        # cost a second more.
        append(
            make(
                MatchableRecord,
                (
                    reference,
                    occurred_at,
                    at(occurred_at),
                    currency,
                    wallet,
                    kind,
                    Decimal(amount),
                    Decimal(fee),
                    row[8],
                    row[9],
                ),
            )
        )
    return found


_STATUS_SEEN: dict[str, str] = {}


def _status(transaction: GatewayTransaction) -> str:
    return _status_of(transaction.status)


def _status_of(word: str) -> str:
    """The gateway's word in the one vocabulary; a word it has not documented is taken as
    pending (still moving, not yet final: docs/causes.md)."""
    found = _STATUS_SEEN.get(word)  # a few words, looked up a million times
    if found is None:
        status = record_status(word)
        found = _STATUS_SEEN[word] = status.value if status is not None else "pending"
    return found


def _movement(record: MatchableRecord) -> Movement:
    return Movement(
        record.currency, record.type, record.status, record.amount, record.fee, record.at
    )


def _gateway_movement(transaction: GatewayTransaction) -> Movement:
    return Movement(
        transaction.currency,
        GATEWAY_TYPE[transaction.type],
        _status(transaction),
        transaction.net_amount,
        transaction.fee_amount,
        transaction.created_at,
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_AN_HOUR = timedelta(hours=1)


def _hour(moment: datetime) -> int:
    """The UTC hour a moment falls in, as a number (hours since the epoch), exactly: a
    float timestamp truncated toward zero put the last fraction of a second before 1970
    in the next hour, and its rounding can reach the next second far from 1970."""
    return (moment - _EPOCH) // _AN_HOUR


def _from_transactions(
    ctx: CheckContext,
    buckets: Buckets,
    compared: list[str],
    transactions: Iterable[GatewayTransaction],
    window: timedelta,
) -> list[_Draft]:
    first = _first_pass(ctx, compared, transactions)
    if first is None:
        return _from_matching(ctx, buckets, compared, transactions, window, None)
    # The first pass keeps its certain pairs in the database until the wrong-wallet
    # search has read what it needs of them.
    with first:
        return _from_matching(ctx, buckets, compared, transactions, window, first)


def _from_matching(
    ctx: CheckContext,
    buckets: Buckets,
    compared: list[str],
    transactions: Iterable[GatewayTransaction],
    window: timedelta,
    first: pairs.FirstPass | None,
) -> list[_Draft]:
    in_scope = set(compared)
    openings = _openings(ctx)
    if first is None:
        records = _records(ctx, ledger.matchable_records(ctx.store), in_scope)
        listing = [t for t in transactions if t.currency in in_scope]
        matching = match(records, listing, window)
    else:
        # The certain pairs stayed in the database; the rest is matched as always, and
        # the certain pairs that could make a cause join the pairs (docs/causes.md, "The
        # first pass in the database").
        matching = match(_records(ctx, first.records, in_scope), first.transactions, window)
        matching.pairs[:0] = _certain_pairs(ctx, first.differing, in_scope)

    def effect(movement: Movement, wallet: str | None) -> Effect:
        return movement_effect(movement, wallet, buckets, openings)

    drafts: list[_Draft] = []
    timed: list[tuple[_Draft, Match]] = []
    for pair in matching.pairs:
        found = _pair_causes(ctx, pair.record, pair.transaction, effect)
        drafts += found
        timed += ((d, pair) for d in found if d.kind == CauseKind.TIME_DIFFERS)
    if timed:
        drafts = _dates_only(ctx, drafts, timed)
    for record in matching.unmatched_records:
        if record.status == "failed":
            continue
        drafts.append(
            _about_record(
                record,
                CauseKind.MISSING_AT_GATEWAY,
                effect=_negated(effect(_movement(record), record.wallet)),
                message=(
                    f"{record.type} {record.reference} of"
                    f" {_show(ctx, record.currency, record.amount)} {record.currency}"
                    f" ({record.status}, {record.occurred_at}) is in the records, but the"
                    " gateway lists no such transaction"
                ),
            )
        )
    latest_opening: dict[str, datetime] = {}
    for (code, _wallet), moment in openings.items():
        latest_opening[code] = max(moment, latest_opening.get(code, moment))
    unplaced: list[tuple[GatewayTransaction, _Draft]] = []
    for transaction in sorted(matching.unmatched_transactions, key=lambda t: (t.created_at, t.id)):
        movement = _gateway_movement(transaction)
        opened = latest_opening.get(transaction.currency)
        if movement.status == "failed" or (opened is not None and movement.at < opened):
            continue
        reference = transaction.reference or transaction.order_id
        draft = _Draft(
            kind=CauseKind.MISSING_IN_RECORDS,
            currency=transaction.currency,
            references=(reference,) if reference else (),
            gateway_ids=(transaction.id,),
            effect=effect(movement, None),
            message=(
                f"the gateway's {transaction.type} {transaction.id} of"
                f" {_show(ctx, transaction.currency, transaction.net_amount)}"
                f" {transaction.currency} ({transaction.status},"
                f" {format_utc(transaction.created_at)}) has no record"
            ),
        )
        drafts.append(draft)
        unplaced.append((transaction, draft))

    gaps = _Gaps(ctx, compared, drafts)
    for transaction, draft in unplaced:
        movement = _gateway_movement(transaction)
        figure = _balance_figure(movement)
        amount = _signed(movement)
        wallet = gaps.place(transaction.currency, figure, amount)
        if wallet is not None:
            draft.wallet_id = wallet
            draft.effect = effect(movement, wallet)
            draft.message += f"; its amount is in wallet {wallet}"
            gaps.take(draft.effect)
    open_currencies = gaps.open_currencies()
    # Gaps only close in this loop, never open, and a wrong wallet's amount is the size of
    # a gap left now (`could_move`): the pairs of any other amount, or whose wallet has no
    # gap left, are left out before a million pairs are sorted.
    sizes = gaps.sizes()
    searched = matching.pairs
    if first is not None and open_currencies and sizes:
        # The identical certain pairs are still in the database: only those of a gap's
        # size can be a wrong wallet, and only those are read.
        searched = [
            *searched,
            *_certain_pairs(ctx, first.identical_of_amounts(open_currencies, sizes), in_scope),
        ]
    in_order = sorted(
        (
            pair
            for pair in searched
            if pair.transaction.net_amount in sizes
            and pair.record.currency in open_currencies
            and gaps.open_or_unlisted(pair.record.currency, pair.record.wallet)
        ),
        key=lambda pair: record_order(pair.record),
    )
    for pair in in_order:
        record = pair.record
        if record.currency not in open_currencies or _status(pair.transaction) == "failed":
            continue
        movement = _gateway_movement(pair.transaction)
        figure = _balance_figure(movement)
        if not gaps.could_move(record.currency, record.wallet, figure, _signed(movement)):
            continue
        moved = effect(movement, record.wallet).on((figure, record.currency, record.wallet))
        other = gaps.wrong_wallet(record.currency, record.wallet, figure, moved)
        if other is None:
            continue
        shift = Effect()
        shift.add((figure, record.currency, other), moved)
        if gaps.listed(record.currency, record.wallet):
            shift.add((figure, record.currency, record.wallet), money.neg(moved))
        drafts.append(
            _about_record(
                record,
                CauseKind.WRONG_WALLET,
                gateway_ids=(pair.transaction.id,),
                effect=shift,
                message=(
                    f"{record.type} {record.reference} is booked to wallet {record.wallet},"
                    f" but the gateway has it ({pair.transaction.id}) in wallet {other}"
                ),
            )
        )
        gaps.take(shift)
        open_currencies = gaps.open_currencies()
    return drafts


def _first_pass(
    ctx: CheckContext, compared: list[str], transactions: Iterable[GatewayTransaction]
) -> pairs.FirstPass | None:
    """Matching's first pass in the database, when the transactions are stored beside the
    records (a snapshot read back from this store); None: every pair is made in Python."""
    if not isinstance(transactions, StoredTransactions) or transactions.store is not ctx.store:
        return None
    return pairs.first_pass(
        ctx.store,
        transactions.snapshot_id,
        kinds=GATEWAY_TYPE,
        statuses={word: _status_of(word) for word in STATUS_WORDS},
        currencies=compared,
    )


def _certain_pairs(
    ctx: CheckContext,
    found: list[tuple[pairs.RecordRow, GatewayTransaction]],
    in_scope: set[str],
) -> list[Match]:
    """Certain pairs from the database as matching's pairs: pass 1 made them."""
    records = _records(ctx, (row for row, _transaction in found), in_scope)
    return [
        Match(record, transaction, "reference")
        for record, (_row, transaction) in zip(records, found, strict=True)
    ]


def _pair_causes(
    ctx: CheckContext,
    record: MatchableRecord,
    transaction: GatewayTransaction,
    effect: Callable[[Movement, str | None], Effect],
) -> list[_Draft]:
    """fee_differs, amount_differs, status_differs, time_differs: the steps of one chain
    from the record to the transaction (docs/causes.md, "Causes from a matched pair")."""
    status = _status(transaction)
    if record.status == "failed" and status == "failed":
        return []
    at = transaction.created_at
    holds = (
        record.fee != transaction.fee_amount,
        record.amount != transaction.net_amount,
        record.status != status,
        # The same moment is the same hour; only moments that differ need the arithmetic.
        record.at != at and _hour(record.at) != _hour(at),
    )
    if not any(holds):
        return []
    steps = [_movement(record)]
    steps.append(steps[-1]._replace(fee=transaction.fee_amount))
    steps.append(steps[-1]._replace(amount=transaction.net_amount))
    steps.append(steps[-1]._replace(status=status))
    steps.append(steps[-1]._replace(at=transaction.created_at))
    code = record.currency

    def show(amount: Decimal) -> str:
        return _show(ctx, code, amount)

    said = (
        f"the fee is {show(transaction.fee_amount)} at the gateway, {show(record.fee)} in"
        " the records",
        f"the amount is {show(transaction.net_amount)} at the gateway, {show(record.amount)}"
        " in the records",
        f"it is {status} ({transaction.status}) at the gateway, {record.status} in the records",
        f"the gateway dates it {format_utc(transaction.created_at)}, the records"
        f" {record.occurred_at}",
    )
    kinds = (
        CauseKind.FEE_DIFFERS,
        CauseKind.AMOUNT_DIFFERS,
        CauseKind.STATUS_DIFFERS,
        CauseKind.TIME_DIFFERS,
    )
    drafts = []
    for position, kind in enumerate(kinds):
        if not holds[position]:
            continue
        before = effect(steps[position], record.wallet)
        after = effect(steps[position + 1], record.wallet)
        drafts.append(
            _about_record(
                record,
                kind,
                gateway_ids=(transaction.id,),
                effect=after.minus(before),
                # A shift in time moves no balance: it is named by what it moves.
                amount=_signed(steps[position + 1]) if kind == CauseKind.TIME_DIFFERS else None,
                amount_given=kind == CauseKind.TIME_DIFFERS,
                message=(
                    f"{record.type} {record.reference} matches the gateway's {transaction.id},"
                    f" but {said[position]}"
                ),
            )
        )
    return drafts


def _dates_only(
    ctx: CheckContext, drafts: list[_Draft], timed: list[tuple[_Draft, Match]]
) -> list[_Draft]:
    """A record from an export of dates (`dates_only`) has no time to compare: stored at
    its day's midnight, it is in another hour than its gateway transaction, always. When
    the gateway's time is on the record's day in the export's zone, that is no mistake:
    such records' `time_differs` become one `times_unknown` warning per wallet, whose
    effect is theirs together, so the causes still explain every gap. A gateway time on
    another day stays a `time_differs` error that says the records give only a date
    (docs/causes.md, "Dates only")."""
    zones = ledger.dates_only_zones(ctx.store, [pair.record.reference for _d, pair in timed])
    same_day: dict[tuple[str, str | None, str], list[tuple[_Draft, Match]]] = defaultdict(list)
    for draft, pair in timed:
        zone = zones.get(pair.record.reference)
        if zone is None:
            continue
        where = ZoneInfo(zone)
        day = pair.record.at.astimezone(where).date()
        if pair.transaction.created_at.astimezone(where).date() == day:
            same_day[(pair.record.currency, pair.record.wallet, zone)].append((draft, pair))
        else:
            draft.message += f" (the records give only its date: {day} in {zone})"
    if not same_day:
        return drafts
    merged = {id(draft) for group in same_day.values() for draft, _pair in group}
    kept = [draft for draft in drafts if id(draft) not in merged]
    for (currency, wallet, zone), group in same_day.items():
        effect = Effect()
        for draft, _pair in group:
            effect.merge(draft.effect)
        records = [pair.record for _draft, pair in group]
        count = len(records)
        kept.append(
            _Draft(
                kind=CauseKind.TIMES_UNKNOWN,
                currency=currency,
                wallet_id=wallet,
                references=tuple(record.reference for record in records),
                gateway_ids=tuple(pair.transaction.id for _draft, pair in group),
                effect=effect,
                amount=money.total(_signed(_movement(record)) for record in records),
                amount_given=True,
                severity=Severity.WARNING,
                message=(
                    ("1 record" if count == 1 else f"{count} records")
                    + f" of wallet {wallet} {'comes' if count == 1 else 'come'} from an export"
                    f" of dates ({zone}): each is stored at its day's midnight, and each"
                    " gateway transaction it matches is on that day"
                ),
            )
        )
    return kept


def _openings(ctx: CheckContext) -> dict[tuple[str, str], datetime]:
    found = {}
    for code, books in ctx.books.currencies.items():
        for key, wallet in books.wallets.items():
            if wallet.opening_at is not None:
                found[(code, key)] = datetime.fromisoformat(wallet.opening_at)
    return found


def _balance_figure(movement: Movement) -> str:
    """The wallet figure a movement moves: pending for a pending deposit, else available."""
    return "pending" if movement.type == "deposit" and movement.status == "pending" else "available"


def _signed(movement: Movement) -> Decimal:
    """What a movement does to its wallet's balance (nothing when it failed)."""
    if movement.status == "failed":
        return ZERO
    return movement.amount if movement.type == "deposit" else money.neg(movement.amount)


def _negated(effect: Effect) -> Effect:
    return Effect().minus(effect)


class _Gaps:
    """Each listed wallet's remaining gap in `available` and `pending`: the gateway's
    figure less the records', less the effects of the causes placed in it so far."""

    def __init__(self, ctx: CheckContext, compared: list[str], drafts: list[_Draft]) -> None:
        self.gap: dict[tuple[str, str, str], Decimal] = {}
        self.wallets: dict[str, list[str]] = defaultdict(list)
        for code in compared:
            balance = ctx.snapshot.balances.currency(code)
            books = ctx.books.currencies[code]
            if balance is None:
                continue
            repeated = balance.repeated_wallets()
            for wallet in balance.wallets:
                if wallet.wallet_id in repeated or wallet.wallet_id in self.wallets[code]:
                    continue
                self.wallets[code].append(wallet.wallet_id)
                mine = books.wallets.get(wallet.wallet_id)
                for name, reported in (("available", wallet.balance), ("pending", wallet.pending)):
                    recorded = ZERO if mine is None else getattr(mine, name)
                    self.gap[(name, code, wallet.wallet_id)] = money.sub(reported, recorded)
        for draft in drafts:
            self.take(draft.effect)

    def open_currencies(self) -> set[str]:
        """The currencies with a wallet gap left: only there can a wallet be wrong."""
        return {code for (_name, code, _wallet), gap in self.gap.items() if not gap.is_zero()}

    def listed(self, currency: str, wallet: str) -> bool:
        return wallet in self.wallets.get(currency, ())

    def take(self, effect: Effect) -> None:
        for figure, amount in effect.points.items():
            if figure in self.gap:
                key = (str(figure[0]), str(figure[1]), str(figure[2]))
                self.gap[key] = money.sub(self.gap[key], amount)

    def place(self, currency: str, figure: str, amount: Decimal) -> str | None:
        """The wallet a transaction not in the records goes to (docs/causes.md)."""
        if amount.is_zero():
            return None
        wallets = self.wallets.get(currency, [])
        exact = [w for w in wallets if self.gap[(figure, currency, w)] == amount]
        if exact:
            return exact[0] if len(exact) == 1 else None
        room = [
            w
            for w in wallets
            if (gap := self.gap[(figure, currency, w)]).is_signed() == amount.is_signed()
            and not gap.is_zero()
            and money.magnitude(gap) >= money.magnitude(amount)
        ]
        return room[0] if len(room) == 1 else None

    def sizes(self) -> set[Decimal]:
        """Every gap left and its negation: the amounts a movement `could_move` may have,
        whatever sign it is written with (a set of Decimals: 1.5 and 1.50 are one)."""
        left = [gap for gap in self.gap.values() if not gap.is_zero()]
        return {*left, *(money.neg(gap) for gap in left)}

    def open_or_unlisted(self, currency: str, wallet: str) -> bool:
        """Whether `wallet` is not listed, or has a gap left in either figure."""
        if not self.listed(currency, wallet):
            return True
        return any(not self.gap[(name, currency, wallet)].is_zero() for name in _WALLET_FIGURES)

    def could_move(self, currency: str, wallet: str, figure: str, signed: Decimal) -> bool:
        """Whether a movement of `signed` could be one `wrong_wallet` finds, before its
        effect is made: a movement moves its wallet's figure by nothing or by its signed
        amount (docs/causes.md, "Effects"), and nothing is never a wrong wallet."""
        if signed.is_zero():
            return False
        if self.listed(currency, wallet) and self.gap[(figure, currency, wallet)] != -signed:
            return False
        return any(
            self.gap[(figure, currency, other)] == signed
            for other in self.wallets.get(currency, ())
            if other != wallet
        )

    def wrong_wallet(self, currency: str, wallet: str, figure: str, moved: Decimal) -> str | None:
        """The one other wallet holding a matched movement booked to `wallet`, if the gaps
        say so exactly (docs/causes.md, "Wrong wallet")."""
        if moved.is_zero():
            return None
        if self.listed(currency, wallet) and self.gap[(figure, currency, wallet)] != -moved:
            return None
        others = [
            w
            for w in self.wallets.get(currency, [])
            if w != wallet and self.gap[(figure, currency, w)] == moved
        ]
        return others[0] if len(others) == 1 else None


# -- without the gateway's transactions ---------------------------------------------


def _from_balances(
    ctx: CheckContext, buckets: Buckets, compared: list[str], figures: dict[Figure, Discrepancy]
) -> list[_Draft]:
    """Per currency, one cause per history bucket where a gap appears or changes, carrying
    forward in the balance; totals ride along when they agree (docs/causes.md)."""
    drafts: list[_Draft] = []
    for code in compared:
        starts = buckets.starts.get(code, [])
        history_fields = ("deposits", "withdrawals", "deposit_count", "withdrawal_count")
        previous = ZERO
        found: list[tuple[int, _Draft, dict[str, Decimal]]] = []
        for index, start in enumerate(starts):
            effect = Effect()
            moved: dict[str, Decimal] = {}
            for name in history_fields:
                d = figures.get((name, code, index))
                if d is not None and d.difference is not None:
                    effect.add((name, code, index), d.difference)
                    moved[name] = d.difference
            d = figures.get((BALANCE, code, index))
            balance = d.difference if d is not None and d.difference is not None else ZERO
            effect.add_step(code, index, money.sub(balance, previous))
            previous = balance
            if effect.is_zero():
                continue
            when = format_utc(start)
            found.append(
                (
                    index,
                    _Draft(
                        kind=CauseKind.UNEXPLAINED,
                        currency=code,
                        effect=effect,
                        where=when,
                        message=(
                            f"{code}: from the bucket of {when} the gateway's history and the"
                            " records part; without the gateway's transactions the mistake"
                            " behind it cannot be named"
                        ),
                    ),
                    moved,
                )
            )
        for total, history_field in _TOTALS.items():
            d = figures.get((total, code))
            if d is None or d.difference is None:
                continue
            parts = [moved.get(history_field, ZERO) for _index, _draft, moved in found]
            if money.total(parts) == d.difference:
                for (_index, draft, _moved), part in zip(found, parts, strict=True):
                    draft.effect.add((total, code), part)
        drafts += [draft for _index, draft, _moved in found]
    return drafts


# -- what remains ---------------------------------------------------------------------


def _unexplained(
    ctx: CheckContext, figures: dict[Figure, Discrepancy], drafts: list[_Draft]
) -> list[_Draft]:
    """One `unexplained` cause per (currency, wallet) holding every remainder."""
    combined = Effect()
    for draft in drafts:
        combined.merge(draft.effect)
    remainders: dict[tuple[str, str | None], Effect] = {}
    for figure, d in figures.items():
        assert d.difference is not None
        rest = money.sub(d.difference, combined.on(figure))
        if rest.is_zero():
            continue
        wallet = str(figure[2]) if figure[0] in _WALLET_FIGURES else None
        remainders.setdefault((str(figure[1]), wallet), Effect()).add(figure, rest)
    found = []
    for (code, wallet), effect in sorted(remainders.items(), key=lambda item: str(item[0])):
        where = f"wallet {wallet}" if wallet else code
        found.append(
            _Draft(
                kind=CauseKind.UNEXPLAINED,
                currency=code,
                wallet_id=wallet,
                effect=effect,
                message=f"{where}: part of the gap is explained by no cause found",
            )
        )
    return found


def _finish(
    ctx: CheckContext,
    discrepancies: list[Discrepancy],
    figures: dict[Figure, Discrepancy],
    drafts: list[_Draft],
) -> FoundCauses:
    """Which discrepancies each cause explains, its amount, and the report order."""
    balance_figures: dict[str, list[int]] = defaultdict(list)
    for figure in figures:
        if figure[0] == BALANCE:
            balance_figures[str(figure[1])].append(int(figure[2]))
    for draft in drafts:
        for figure in _touched(draft.effect, balance_figures):
            d = figures.get(figure)
            if d is not None and not draft.effect.on(figure).is_zero():
                draft.explains.append(d.id)
    order = {d.id: position for position, d in enumerate(discrepancies)}
    causes = []
    for draft in drafts:
        explains = tuple(sorted(set(draft.explains), key=order.__getitem__))
        causes.append(
            Cause(
                kind=draft.kind,
                severity=draft.severity,
                message=draft.message,
                currency=draft.currency or None,
                wallet_id=draft.wallet_id,
                references=draft.references,
                gateway_ids=draft.gateway_ids,
                amount=draft.amount if draft.amount_given else _amount(draft),
                explains=explains,
                where=draft.where,
                effect=draft.effect,
                scale=ctx.scale(draft.currency) if draft.currency else None,
            )
        )
    causes.sort(key=Cause.sort_key)
    result = FoundCauses(causes=causes)
    explained_by: dict[str, list[str]] = defaultdict(list)
    for cause in causes:
        for discrepancy in cause.explains:
            explained_by[discrepancy].append(cause.id)
    result.causes_of = {d.id: tuple(explained_by.get(d.id, ())) for d in discrepancies}
    # Every currency either side knows, as the report's `tolerances` lists them: "0" says
    # a currency was looked at and nothing is left (docs/causes.md, "In the report").
    scopes = {b.currency for b in ctx.snapshot.balances.balances} | set(ctx.books.currencies)
    for code in sorted(scopes):
        rest = money.total(
            money.magnitude(c.amount)
            for c in causes
            if c.currency == code and c.kind == CauseKind.UNEXPLAINED and c.amount is not None
        )
        result.unexplained[code] = "0" if rest.is_zero() else money.show(rest, ctx.scale(code))
    return result


def _touched(effect: Effect, balance_figures: dict[str, list[int]]) -> Iterator[Figure]:
    yield from effect.points
    for code, first in effect.balance_figures():
        for index in balance_figures.get(code, ()):
            if index >= first:
                yield (BALANCE, code, index)


def _amount(draft: _Draft) -> Decimal:
    """The amount a cause is named by: its effect on its wallet's available, else pending,
    else on the currency's total balance (deposited - withdrawn), else its largest."""
    effect, code = draft.effect, draft.currency
    if draft.wallet_id is not None:
        for name in _WALLET_FIGURES:
            amount = effect.on((name, code, draft.wallet_id))
            if not amount.is_zero():
                return amount
    moved = money.sub(effect.on(("total_deposited", code)), effect.on(("total_withdrawn", code)))
    if not moved.is_zero():
        return moved
    candidates = [
        amount for figure, amount in effect.points.items() if not figure[0].endswith("_count")
    ] + list(effect.steps.values())
    if not candidates:
        return ZERO
    return max(candidates, key=lambda amount: (money.magnitude(amount), amount))


def _show(ctx: CheckContext, currency: str, amount: Decimal) -> str:
    return money.show(amount, ctx.scale(currency))
