"""The checks that compare the gateway with the records: one function per family.

Each takes the shared `CheckContext` and yields `Discrepancy` objects of its own kinds.
`difference` is always api_value - merchant_value (positive: the gateway holds more than
the records explain). A currency the gateway reports but the records never mention yields
only `currency_not_in_records`; records in a currency the gateway does not report yield
only `currency_not_in_api`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import NamedTuple

from reconcile_tui import money
from reconcile_tui.api.models import CurrencyBalance
from reconcile_tui.reconcile.books import CurrencyBooks, WalletBooks
from reconcile_tui.reconcile.context import CheckContext
from reconcile_tui.reconcile.model import Discrepancy, Kind
from reconcile_tui.store.ledger import DuplicateRow, PendingRow
from reconcile_tui.times import age_text, format_utc, parse_api_time

__all__ = [
    "check_coverage",
    "check_duplicates",
    "check_history",
    "check_low_balance",
    "check_stale_pending",
    "check_totals",
    "check_wallets",
]


def _show(ctx: CheckContext, currency: str, amount: Decimal) -> str:
    return money.show(amount, ctx.scale(currency))


def _compared(ctx: CheckContext) -> Iterator[tuple[CurrencyBalance, CurrencyBooks]]:
    """The currencies both sides know: the only ones whose figures can be compared (each
    at its first listing: docs/reconciliation.md, "Listed twice")."""
    for balance in ctx.snapshot.balances.listed():
        books = ctx.books.currencies.get(balance.currency)
        if books is not None:
            yield balance, books


def _mismatch(
    ctx: CheckContext,
    kind: Kind,
    currency: str,
    api_value: Decimal,
    merchant_value: Decimal,
    message: str,
    **scope: object,
) -> Discrepancy:
    return Discrepancy(
        kind=kind,
        message=message,
        currency=currency,
        api_value=api_value,
        merchant_value=merchant_value,
        usd_difference=ctx.usd(currency, money.sub(api_value, merchant_value)),
        scale=ctx.scale(currency),
        **scope,  # type: ignore[arg-type]
    )


class _Figure(NamedTuple):
    """One figure both sides give, and how to say that they differ."""

    kind: Kind
    gateway: Decimal
    records: Decimal
    message: str
    field: str | None = None


def _mismatches(
    ctx: CheckContext, currency: str, figures: Iterable[_Figure], **scope: object
) -> Iterator[Discrepancy]:
    """A finding for each figure the two sides give differently (beyond the tolerance)."""
    for figure in figures:
        if not ctx.same(currency, figure.gateway, figure.records):
            yield _mismatch(
                ctx,
                figure.kind,
                currency,
                figure.gateway,
                figure.records,
                figure.message,
                field=figure.field,
                **scope,
            )


def check_coverage(ctx: CheckContext) -> Iterator[Discrepancy]:
    """currency_not_in_api, currency_not_in_records and wallet_not_in_api."""
    reported = {balance.currency for balance in ctx.snapshot.balances.balances}
    for code, books in sorted(ctx.books.currencies.items()):
        if code in reported:
            continue
        yield Discrepancy(
            kind=Kind.CURRENCY_NOT_IN_API,
            currency=code,
            merchant_value=books.total,
            references=ctx.references(code),
            scale=ctx.scale(code),
            message=(
                f"{books.record_count} record{'s' if books.record_count != 1 else ''} in {code}"
                f" (balance {_show(ctx, code, books.total)}), a currency the gateway does not"
                " report"
            ),
        )
    for balance in ctx.snapshot.balances.listed():
        code = balance.currency
        if code not in ctx.books.currencies and not balance.total_balance.is_zero():
            yield Discrepancy(
                kind=Kind.CURRENCY_NOT_IN_RECORDS,
                currency=code,
                api_value=balance.total_balance,
                scale=ctx.scale(code),
                message=(
                    f"the gateway holds {_show(ctx, code, balance.total_balance)} {code}"
                    " but no record mentions that currency"
                ),
            )
    for balance, books in _compared(ctx):
        for key, wallet in sorted(books.wallets.items()):
            if ctx.books.directory.reported(balance.currency, key):
                continue
            yield Discrepancy(
                kind=Kind.WALLET_NOT_IN_API,
                currency=balance.currency,
                wallet_id=key,
                merchant_value=wallet.total,
                references=ctx.references(balance.currency, wallet.raw),
                scale=ctx.scale(balance.currency),
                message=(
                    f"{wallet.record_count} {balance.currency} record"
                    f"{'s' if wallet.record_count != 1 else ''} in wallet {key}, which the"
                    f" gateway does not report for {balance.currency} (balance"
                    f" {_show(ctx, balance.currency, wallet.total)}; still counted in the"
                    " currency's totals and history)"
                ),
            )


def check_wallets(ctx: CheckContext) -> Iterator[Discrepancy]:
    """available_mismatch and pending_mismatch, per reported wallet.

    A wallet the gateway lists twice in one currency is not compared: which entry is right
    is the gateway's to say, and `api_inconsistency` (`wallet_id=unique`) says so.
    """
    for balance, books in _compared(ctx):
        code = balance.currency
        repeated = balance.repeated_wallets()
        for wallet in balance.wallets:
            if wallet.wallet_id in repeated:
                continue
            mine = books.wallets.get(wallet.wallet_id) or WalletBooks(wallet.wallet_id)
            label = f"{code} wallet {wallet.wallet_name or wallet.wallet_id}"
            opening = " (from its opening balance)" if mine.opening is not None else ""
            figures = (
                _Figure(
                    Kind.AVAILABLE_MISMATCH,
                    wallet.balance,
                    mine.available,
                    f"{label}: the gateway shows {_show(ctx, code, wallet.balance)} available,"
                    f" the records explain {_show(ctx, code, mine.available)}{opening}",
                ),
                _Figure(
                    Kind.PENDING_MISMATCH,
                    wallet.pending,
                    mine.pending,
                    f"{label}: the gateway shows {_show(ctx, code, wallet.pending)} pending,"
                    f" the records' pending deposits add up to {_show(ctx, code, mine.pending)}",
                ),
            )
            yield from _mismatches(ctx, code, figures, wallet_id=wallet.wallet_id)


def check_totals(ctx: CheckContext) -> Iterator[Discrepancy]:
    """total_mismatch: all-time deposited, withdrawn and fees paid, per currency."""
    for balance, books in _compared(ctx):
        code = balance.currency
        if books.has_opening:
            ctx.note(
                f"{code}: the records start from an opening balance, so the gateway's all-time"
                " totals (total_deposited, total_withdrawn, total_fees_paid) are not compared",
                code,
            )
            continue
        yield from _mismatches(
            ctx,
            code,
            (
                _Figure(
                    Kind.TOTAL_MISMATCH,
                    reported,
                    mine,
                    f"{code}: {field} is {_show(ctx, code, reported)}, the records' non-failed"
                    f" {what} add up to {_show(ctx, code, mine)}",
                    field,
                )
                for field, reported, mine, what in (
                    ("total_deposited", balance.total_deposited, books.deposited, "deposits"),
                    ("total_withdrawn", balance.total_withdrawn, books.withdrawn, "withdrawals"),
                    ("total_fees_paid", balance.total_fees_paid, books.fees, "fees"),
                )
            ),
        )


def check_history(ctx: CheckContext) -> Iterator[Discrepancy]:
    """history_mismatch: each gateway bucket against the records in [timestamp, +interval)."""
    for balance, books in _compared(ctx):
        code = balance.currency
        history = ctx.snapshot.histories.get(code)
        if history is None:
            ctx.note(f"{code}: no balance history was fetched, so history is not compared", code)
            continue
        buckets = sorted(history.history, key=lambda bucket: bucket.timestamp)
        skipped = 0
        for bucket, mine in zip(buckets, books.buckets, strict=True):
            when = format_utc(bucket.timestamp)
            yield from _mismatches(
                ctx,
                code,
                (
                    _Figure(
                        Kind.HISTORY_MISMATCH,
                        reported,
                        recorded,
                        f"{code} {when}: the gateway counts {_show(ctx, code, reported)} of"
                        f" {field}, the records {_show(ctx, code, recorded)}",
                        field,
                    )
                    for field, reported, recorded in (
                        ("deposits", bucket.deposits, mine.deposits),
                        ("withdrawals", bucket.withdrawals, mine.withdrawals),
                    )
                ),
                bucket=bucket.timestamp,
            )
            for field, count, recorded_count in (
                ("deposit_count", bucket.deposit_count, mine.deposit_count),
                ("withdrawal_count", bucket.withdrawal_count, mine.withdrawal_count),
            ):
                if count != recorded_count:
                    yield Discrepancy(
                        kind=Kind.HISTORY_MISMATCH,
                        currency=code,
                        bucket=bucket.timestamp,
                        field=field,
                        api_value=Decimal(count),
                        merchant_value=Decimal(recorded_count),
                        message=(
                            f"{code} {when}: the gateway's {field.replace('_', ' ')} is {count},"
                            f" the records' {recorded_count}"
                        ),
                    )
            if mine.balance is None:
                skipped += 1
            else:
                balance_at_end = _Figure(
                    Kind.HISTORY_MISMATCH,
                    bucket.balance,
                    mine.balance,
                    f"{code} {when}: the gateway's balance at the end of the bucket is"
                    f" {_show(ctx, code, bucket.balance)}, the records'"
                    f" {_show(ctx, code, mine.balance)}",
                    "balance",
                )
                yield from _mismatches(ctx, code, [balance_at_end], bucket=bucket.timestamp)
        if skipped:
            ctx.note(
                f"{code}: {skipped} history bucket{'s end' if skipped > 1 else ' ends'} before"
                " an opening balance, so the records cannot say the balance there; not compared",
                code,
            )


def _on_record(
    ctx: CheckContext,
    kind: Kind,
    row: DuplicateRow | PendingRow,
    message: str,
    merchant_value: Decimal | None = None,
) -> Discrepancy:
    """A finding about one record, in the wallet its id or name resolves to."""
    wallet = ctx.books.directory.key(row.currency, (row.wallet_id, row.wallet_name))
    return Discrepancy(
        kind,
        message,
        row.currency,
        wallet,
        merchant_value=merchant_value,
        reference=row.reference,
        references=(row.reference,),
        scale=ctx.scale(row.currency),
    )


def check_duplicates(ctx: CheckContext) -> Iterator[Discrepancy]:
    """duplicate_record: a reference repeated within one file (the extra copies not counted)."""
    repeats: dict[str, list[DuplicateRow]] = defaultdict(list)
    for row in ctx.books.duplicates:
        if ctx.snapshot.balances.currency(row.currency) is not None:
            repeats[row.reference].append(row)
    for reference, rows in sorted(repeats.items()):
        first = rows[0]
        lines = ", ".join(str(row.line) for row in rows)
        differing = sorted(
            {part for row in rows if row.differences for part in row.differences.split(", ")}
        )
        how = (
            f"the copies differ in {', '.join(differing)}"
            if differing
            else "the copies are identical"
        )
        yield _on_record(
            ctx,
            Kind.DUPLICATE_RECORD,
            first,
            f"reference {reference} appears {len(rows) + 1} times in {first.path} (line"
            f" {first.first_line}, repeated on line{'s' if len(rows) > 1 else ''} {lines});"
            f" {how}; only line {first.first_line} is counted",
        )


def check_stale_pending(ctx: CheckContext) -> Iterator[Discrepancy]:
    """stale_pending: records pending for longer than their currency's threshold."""
    as_of = ctx.snapshot.as_of
    for row in ctx.books.stale_candidates:
        if ctx.snapshot.balances.currency(row.currency) is None:
            continue  # such records yield only currency_not_in_api
        since = parse_api_time(row.occurred_at)
        threshold = ctx.rules.stale_threshold(row.currency)
        yield _on_record(
            ctx,
            Kind.STALE_PENDING,
            row,
            f"{row.type} {row.reference} of {_show(ctx, row.currency, Decimal(row.amount))}"
            f" {row.currency} has been pending for {age_text(as_of - since)} (since"
            f" {row.occurred_at}), longer than {age_text(threshold)}",
            merchant_value=Decimal(row.amount),
        )


def check_low_balance(ctx: CheckContext) -> Iterator[Discrepancy]:
    """low_balance: a wallet's available balance below the configured threshold (a wallet
    listed twice has no one balance to judge, as in `check_wallets`)."""
    for balance in ctx.snapshot.balances.listed():
        threshold = ctx.rules.low_balance_threshold(balance.currency)
        if threshold is None:
            continue
        repeated = balance.repeated_wallets()
        for wallet in balance.wallets:
            if wallet.balance < threshold and wallet.wallet_id not in repeated:
                yield Discrepancy(
                    kind=Kind.LOW_BALANCE,
                    currency=balance.currency,
                    wallet_id=wallet.wallet_id,
                    api_value=wallet.balance,
                    scale=ctx.scale(balance.currency),
                    message=(
                        f"{balance.currency} wallet {wallet.wallet_name or wallet.wallet_id}"
                        f" has {_show(ctx, balance.currency, wallet.balance)} available, below"
                        f" the threshold of {_show(ctx, balance.currency, threshold)}"
                    ),
                )
