"""Computing the side-by-side figures (`figures.py`) of a reconciliation.

A reconciliation lists what disagrees; the overview shows both sides of everything, agreeing
or not, so that a screen can open on a stored run at once (no recomputation) and draw the
gateway's balance against the records' running balance.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from reconcile_tui import money
from reconcile_tui.api.models import HistoryResponse
from reconcile_tui.reconcile.books import Books, BucketBooks, CurrencyBooks
from reconcile_tui.reconcile.context import CheckContext
from reconcile_tui.reconcile.figures import (
    BucketFigures,
    CurrencyFigures,
    VolumeFigures,
    WalletFigures,
)
from reconcile_tui.reconcile.model import Discrepancy, Severity
from reconcile_tui.times import days_in_period, format_utc

__all__ = [
    "BucketFigures",
    "CurrencyFigures",
    "VolumeFigures",
    "WalletFigures",
    "build_overview",
    "volume_figures",
]


def _text(amount: Decimal | None, scale: int) -> str | None:
    return None if amount is None else money.show(amount, scale)


def volume_figures(history: HistoryResponse, scale: int) -> VolumeFigures:
    """Total volume, average daily deposits and withdrawals, peak day, deposit/withdrawal ratio.

    The page's example computes these with floats; here they are exact sums, with the
    averages and the ratio rounded only for display (the currency's scale, 4 places).
    """
    deposits = money.total(b.deposits for b in history.history)
    withdrawals = money.total(b.withdrawals for b in history.history)
    days = Decimal(days_in_period(history.period))
    by_day: dict[str, Decimal] = defaultdict(lambda: money.ZERO)
    for bucket in history.history:
        day = format_utc(bucket.timestamp)[:10]
        by_day[day] = money.add(by_day[day], bucket.deposits)
    peak = max(by_day.items(), key=lambda item: (item[1], item[0])) if by_day else None
    average_in = money.ratio(deposits, days, scale)
    average_out = money.ratio(withdrawals, days, scale)
    ratio = money.ratio(deposits, withdrawals, 4)
    return VolumeFigures(
        total_volume=money.canonical(money.add(deposits, withdrawals), scale),
        average_daily_deposits=money.canonical(average_in or money.ZERO, scale),
        average_daily_withdrawals=money.canonical(average_out or money.ZERO, scale),
        peak_day=peak[0] if peak and peak[1] > 0 else None,
        peak_day_deposits=money.canonical(peak[1], scale) if peak and peak[1] > 0 else None,
        deposit_withdrawal_ratio=money.canonical(ratio) if ratio is not None else None,
    )


def _bucket_figures(
    history: HistoryResponse, mine: list[BucketBooks], scale: int
) -> list[BucketFigures]:
    buckets = sorted(history.history, key=lambda bucket: bucket.timestamp)
    figures = []
    for index, bucket in enumerate(buckets):
        recorded = mine[index] if index < len(mine) else BucketBooks()
        figures.append(
            BucketFigures(
                timestamp=format_utc(bucket.timestamp),
                api_balance=money.canonical(bucket.balance),
                api_deposits=money.canonical(bucket.deposits),
                api_withdrawals=money.canonical(bucket.withdrawals),
                api_deposit_count=bucket.deposit_count,
                api_withdrawal_count=bucket.withdrawal_count,
                records_balance=_text(recorded.balance, scale),
                records_deposits=_text(recorded.deposits, scale) or "0",
                records_withdrawals=_text(recorded.withdrawals, scale) or "0",
                records_deposit_count=recorded.deposit_count,
                records_withdrawal_count=recorded.withdrawal_count,
            )
        )
    return figures


def build_overview(
    ctx: CheckContext, discrepancies: list[Discrepancy], first_divergence: dict[str, str]
) -> list[CurrencyFigures]:
    """Every currency either side knows, most material first (largest |USD difference|)."""
    books: Books = ctx.books
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for d in discrepancies:
        tally = counts[d.currency or ""]
        if d.acknowledged:
            tally[2] += 1
        elif d.severity == Severity.ERROR:
            tally[0] += 1
        else:
            tally[1] += 1

    codes = sorted({b.currency for b in ctx.snapshot.balances.balances} | set(books.currencies))
    result = []
    for code in codes:
        scale = ctx.scale(code)
        mine_early = books.currencies.get(code)
        if scale is None:
            scale = _places_needed(mine_early)
        balance = ctx.snapshot.balances.currency(code)
        mine: CurrencyBooks | None = mine_early
        difference = (
            money.sub(balance.total_balance, mine.total) if balance and mine is not None else None
        )
        wallets: dict[str, WalletFigures] = {}
        for wallet in balance.wallets if balance else []:
            if wallet.wallet_id in wallets:
                # Listed twice: the first listing counts, as in the checks
                # (docs/reconciliation.md, "Listed twice").
                continue
            recorded = mine.wallets.get(wallet.wallet_id) if mine else None
            wallets[wallet.wallet_id] = WalletFigures(
                wallet_id=wallet.wallet_id,
                wallet_name=wallet.wallet_name or None,
                api_available=money.canonical(wallet.balance),
                api_pending=money.canonical(wallet.pending),
                records_available=_text(recorded.available if recorded else money.ZERO, scale),
                records_pending=_text(recorded.pending if recorded else money.ZERO, scale),
                record_count=recorded.record_count if recorded else 0,
                raw_wallets=sorted(recorded.raw, key=_raw_order) if recorded else [],
                opening=_text(recorded.opening, scale) if recorded else None,
            )
        for key, recorded in mine.wallets.items() if mine else []:
            if key not in wallets:
                wallets[key] = WalletFigures(
                    wallet_id=key,
                    wallet_name=None,
                    api_available=None,
                    api_pending=None,
                    records_available=_text(recorded.available, scale),
                    records_pending=_text(recorded.pending, scale),
                    record_count=recorded.record_count,
                    raw_wallets=sorted(recorded.raw, key=_raw_order),
                    opening=_text(recorded.opening, scale),
                )
        history = ctx.snapshot.histories.get(code)
        errors, warnings, acknowledged = counts[code]
        result.append(
            CurrencyFigures(
                currency=code,
                scale=scale,
                api_total=money.canonical(balance.total_balance) if balance else None,
                api_available=money.canonical(balance.available_balance) if balance else None,
                api_pending=money.canonical(balance.pending_balance) if balance else None,
                usd_value=money.canonical(balance.usd_value) if balance else None,
                records_total=_text(mine.total, scale) if mine else None,
                records_available=_text(mine.available, scale) if mine else None,
                records_pending=_text(mine.pending, scale) if mine else None,
                record_count=mine.record_count if mine else 0,
                difference=_text(difference, scale),
                usd_difference=_text(ctx.usd(code, difference), 2),
                open_errors=errors,
                open_warnings=warnings,
                acknowledged=acknowledged,
                wallets=list(wallets.values()),
                buckets=_bucket_figures(history, mine.buckets if mine else [], scale)
                if history
                else [],
                volume=volume_figures(history, scale) if history else None,
                first_divergence=first_divergence.get(code),
            )
        )
    result.sort(key=_materiality)
    return result


def _places_needed(books: CurrencyBooks | None) -> int:
    """The fewest decimal places that show every figure of a currency of unknown scale."""
    if books is None:
        return 0
    figures = [books.total, books.available, books.pending]
    for wallet in books.wallets.values():
        figures += [wallet.available, wallet.pending]
    return max(money.places(money.trimmed(figure)) for figure in figures)


def _raw_order(raw: tuple[str | None, str | None]) -> tuple[str, str]:
    return (raw[0] or "", raw[1] or "")


def _materiality(figures: CurrencyFigures) -> tuple[int, Decimal, int, str]:
    """Open errors first, then the largest USD gap, then most open warnings."""
    usd = money.magnitude(Decimal(figures.usd_difference)) if figures.usd_difference else money.ZERO
    return (
        0 if figures.open_errors else 1,
        money.neg(usd),
        -figures.open_warnings,
        figures.currency,
    )
