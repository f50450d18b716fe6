"""`api_inconsistency`: the gateway checked against its own invariants.

The invariants are the ones docs/reconciliation.md lists ("The gateway against
itself"). `field` names the invariant, `api_value` is the figure as the gateway printed it
and `merchant_value` the figure the invariant implies from the gateway's other fields, so
`difference` says by how much the gateway disagrees with itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal

from reconcile_tui import money
from reconcile_tui.api.models import BalancesResponse, CurrencyBalance, HistoryResponse
from reconcile_tui.api.snapshot import GatewaySnapshot
from reconcile_tui.reconcile.model import Discrepancy, Kind
from reconcile_tui.times import days_in_period, format_utc, interval_length

__all__ = ["check_api_consistency"]


def _finding(
    field: str,
    reported: Decimal,
    implied: Decimal,
    message: str,
    *,
    currency: str | None = None,
    wallet_id: str | None = None,
    bucket: datetime | None = None,
    scale: int | None = None,
) -> Discrepancy:
    return Discrepancy(
        kind=Kind.API_INCONSISTENCY,
        message=message,
        currency=currency,
        wallet_id=wallet_id,
        bucket=bucket,
        field=field,
        api_value=reported,
        merchant_value=implied,
        scale=scale,
    )


#: One invariant: its name, the figure as the gateway printed it, the figure the others
#: imply, and why they differ (said only when they do).
_Invariant = tuple[str, Decimal, Decimal, str]


def _broken(
    invariants: Iterable[_Invariant],
    prefix: str = "",
    *,
    currency: str | None = None,
    scale: int | None = None,
) -> Iterator[Discrepancy]:
    """A finding for each invariant whose printed figure is not the implied one."""
    for field, reported, implied, why in invariants:
        if reported != implied:
            yield _finding(field, reported, implied, prefix + why, currency=currency, scale=scale)


def _show(amount: Decimal) -> str:
    return money.canonical(amount)


def check_api_consistency(snapshot: GatewaySnapshot) -> Iterator[Discrepancy]:
    """Every invariant the balances and history responses break."""
    yield from _summary(snapshot.balances)
    yield from _listed_twice(snapshot.balances)
    for balance in snapshot.balances.listed():
        yield from _currency(balance)
    for code, history in sorted(snapshot.histories.items()):
        yield from _history(code, history, snapshot.balances.currency(code))


def _summary(response: BalancesResponse) -> Iterator[Discrepancy]:
    summary = response.summary
    usd = money.total(balance.usd_value for balance in response.balances)
    yield from _broken(
        [
            (
                "total_usd_value=sum(usd_value)",
                summary.total_usd_value,
                usd,
                f"summary total_usd_value {_show(summary.total_usd_value)} but the currencies'"
                f" usd_value add up to {_show(usd)}",
            )
        ],
        scale=2,
    )
    currencies = len(response.balances)
    wallets = len({w.wallet_id for balance in response.balances for w in balance.wallets})
    yield from _broken(
        [
            (
                "total_currencies=count(balances)",
                Decimal(summary.total_currencies),
                Decimal(currencies),
                f"summary total_currencies {summary.total_currencies} but {currencies}"
                " currencies are listed",
            ),
            (
                "total_wallets=count(distinct wallet_id)",
                Decimal(summary.total_wallets),
                Decimal(wallets),
                f"summary total_wallets {summary.total_wallets} but {wallets} distinct wallets"
                " are listed",
            ),
        ]
    )


def _listed_twice(response: BalancesResponse) -> Iterator[Discrepancy]:
    """A currency, or a wallet within one, listed more than once: which listing is right is
    the gateway's to say (docs/reconciliation.md, "Listed twice")."""
    for code, count in sorted(response.repeated_currencies().items()):
        yield _repeated(
            "currency",
            count,
            f"{code} is listed {count} times in /user/balances/; only its first listing is"
            " compared with the records",
            currency=code,
        )
    for balance in response.listed():
        for wallet_id, count in sorted(balance.repeated_wallets().items()):
            yield _repeated(
                "wallet_id",
                count,
                f"{balance.currency}: wallet {wallet_id} is listed {count} times; its balance"
                " and pending are not compared with the records until the gateway lists it"
                " once",
                currency=balance.currency,
                wallet_id=wallet_id,
            )


def _repeated(
    key: str, count: int, message: str, *, currency: str, wallet_id: str | None = None
) -> Discrepancy:
    """A `key` the gateway lists `count` times, where it should list it once."""
    return _finding(
        f"{key}=unique",
        Decimal(count),
        Decimal(1),
        message,
        currency=currency,
        wallet_id=wallet_id,
    )


def _currency(balance: CurrencyBalance) -> Iterator[Discrepancy]:
    code = balance.currency
    split = money.add(balance.available_balance, balance.pending_balance)
    wallets_available = money.total(wallet.balance for wallet in balance.wallets)
    wallets_pending = money.total(wallet.pending for wallet in balance.wallets)
    net = money.sub(balance.total_deposited, balance.total_withdrawn)
    invariants: list[_Invariant] = [
        (
            "total_balance=available+pending",
            balance.total_balance,
            split,
            f"total_balance {_show(balance.total_balance)} but available"
            f" {_show(balance.available_balance)} + pending {_show(balance.pending_balance)}"
            f" = {_show(split)}",
        ),
        (
            "available_balance=sum(wallets.balance)",
            balance.available_balance,
            wallets_available,
            f"available_balance {_show(balance.available_balance)} but the wallets'"
            f" balances add up to {_show(wallets_available)}",
        ),
        (
            "pending_balance=sum(wallets.pending)",
            balance.pending_balance,
            wallets_pending,
            f"pending_balance {_show(balance.pending_balance)} but the wallets'"
            f" pending amounts add up to {_show(wallets_pending)}",
        ),
        (
            "total_balance=deposited-withdrawn",
            balance.total_balance,
            net,
            f"total_balance {_show(balance.total_balance)} but total_deposited"
            f" {_show(balance.total_deposited)} - total_withdrawn"
            f" {_show(balance.total_withdrawn)} = {_show(net)}",
        ),
    ]
    yield from _broken(invariants, prefix=f"{code}: ", currency=code, scale=balance.printed_scale())


def _history(
    code: str, history: HistoryResponse, balance: CurrencyBalance | None
) -> Iterator[Discrepancy]:
    buckets = sorted(history.history, key=lambda bucket: bucket.timestamp)
    summary = history.summary
    scale = balance.printed_scale() if balance else None
    step = interval_length(history.interval)

    seen: set[datetime] = set()
    for previous, bucket in zip([None, *buckets], buckets, strict=False):
        if bucket.timestamp in seen:
            yield _finding(
                "timestamp=unique",
                Decimal(2),
                Decimal(1),
                f"{code}: history has bucket {format_utc(bucket.timestamp)} twice",
                currency=code,
                bucket=bucket.timestamp,
            )
            continue
        seen.add(bucket.timestamp)
        if previous is None:
            continue
        gap = bucket.timestamp - previous.timestamp
        if gap != step:
            missing = Decimal(int(gap / step) - 1) if gap > step else Decimal(0)
            yield _finding(
                "timestamp=previous+interval",
                Decimal(int(gap.total_seconds())),
                Decimal(int(step.total_seconds())),
                f"{code}: history buckets {format_utc(previous.timestamp)} and"
                f" {format_utc(bucket.timestamp)} are {gap} apart, not one {history.interval}"
                f" interval ({missing} buckets missing)",
                currency=code,
                bucket=bucket.timestamp,
            )
            continue  # the missing buckets' movements are unknown: no running check across
        expected = money.sub(money.add(previous.balance, bucket.deposits), bucket.withdrawals)
        if bucket.balance != expected:
            yield _finding(
                "balance=previous+deposits-withdrawals",
                bucket.balance,
                expected,
                f"{code}: bucket {format_utc(bucket.timestamp)} ends at {_show(bucket.balance)}"
                f" but the previous bucket's {_show(previous.balance)} + deposits"
                f" {_show(bucket.deposits)} - withdrawals {_show(bucket.withdrawals)}"
                f" = {_show(expected)}",
                currency=code,
                bucket=bucket.timestamp,
                scale=scale,
            )

    deposits = money.total(bucket.deposits for bucket in buckets)
    withdrawals = money.total(bucket.withdrawals for bucket in buckets)
    deposit_count = sum(bucket.deposit_count for bucket in buckets)
    withdrawal_count = sum(bucket.withdrawal_count for bucket in buckets)
    net_by_balance = money.sub(summary.ending_balance, summary.starting_balance)
    net_by_flows = money.sub(summary.total_deposits, summary.total_withdrawals)
    prefix = f"{code}: history summary "

    amounts: list[_Invariant] = [
        (
            "net_change=ending-starting",
            summary.net_change,
            net_by_balance,
            f"net_change {_show(summary.net_change)} but ending {_show(summary.ending_balance)}"
            f" - starting {_show(summary.starting_balance)} = {_show(net_by_balance)}",
        ),
        (
            "net_change=deposits-withdrawals",
            summary.net_change,
            net_by_flows,
            f"net_change {_show(summary.net_change)} but total_deposits"
            f" {_show(summary.total_deposits)} - total_withdrawals"
            f" {_show(summary.total_withdrawals)} = {_show(net_by_flows)}",
        ),
        (
            "total_deposits=sum(deposits)",
            summary.total_deposits,
            deposits,
            f"total_deposits {_show(summary.total_deposits)} but the buckets' deposits add up"
            f" to {_show(deposits)}",
        ),
        (
            "total_withdrawals=sum(withdrawals)",
            summary.total_withdrawals,
            withdrawals,
            f"total_withdrawals {_show(summary.total_withdrawals)} but the buckets'"
            f" withdrawals add up to {_show(withdrawals)}",
        ),
    ]
    yield from _broken(amounts, prefix=prefix, currency=code, scale=scale)
    counts: list[_Invariant] = [
        (
            "total_deposit_count=sum(deposit_count)",
            Decimal(summary.total_deposit_count),
            Decimal(deposit_count),
            f"total_deposit_count {summary.total_deposit_count} but the buckets count"
            f" {deposit_count} deposits",
        ),
        (
            "total_withdrawal_count=sum(withdrawal_count)",
            Decimal(summary.total_withdrawal_count),
            Decimal(withdrawal_count),
            f"total_withdrawal_count {summary.total_withdrawal_count} but the buckets count"
            f" {withdrawal_count} withdrawals",
        ),
    ]
    yield from _broken(counts, prefix=prefix, currency=code)
    ending: list[_Invariant] = []
    if buckets:
        ending.append(
            (
                "ending_balance=last(balance)",
                summary.ending_balance,
                buckets[-1].balance,
                f"ending_balance {_show(summary.ending_balance)} but the last bucket ends at"
                f" {_show(buckets[-1].balance)}",
            )
        )
    if balance is not None:
        ending.append(
            (
                "ending_balance=total_balance",
                summary.ending_balance,
                balance.total_balance,
                f"ending_balance {_show(summary.ending_balance)} but /user/balances/ says"
                f" total_balance {_show(balance.total_balance)}",
            )
        )
    yield from _broken(ending, prefix=prefix, currency=code, scale=scale)
    days = Decimal(days_in_period(history.period))
    for name, average, total in (
        ("average_daily_deposits", summary.average_daily_deposits, summary.total_deposits),
        ("average_daily_withdrawals", summary.average_daily_withdrawals, summary.total_withdrawals),
    ):
        if not money.is_rounded_quotient(average, total, days):
            implied = money.ratio(total, days, money.places(average))
            assert implied is not None  # days >= 1
            yield _finding(
                f"{name}=total/days",
                average,
                implied,
                f"{prefix}{name} {_show(average)} but {_show(total)} over {days} days is"
                f" {_show(implied)}",
                currency=code,
                scale=scale,
            )
