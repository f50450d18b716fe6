"""What the gateway shows of its ledger: balances and balance history, in one streaming pass.

`ViewBuilder` reads the ledger once, keeping per currency and wallet the running sums
and, for every hour a history request can reach, that hour's movements. Any history
(24h/7d/30d, hourly/daily) is then cut from the hours in O(buckets). `GatewayViews`
renders the gateway's documents (docs/sandbox.md) from those integers.

Gateway semantics (docs/sandbox.md, "Semantics and invariants"): a confirmed payment adds to
its wallet's `balance`, a pending one to its `pending`; a payout that has not failed leaves
`balance` at once; a failed transaction changes nothing. `total_deposited` /
`total_withdrawn` count every non-failed payment / payout, pending ones included, so
`total_balance = total_deposited - total_withdrawn`; `total_fees_paid` sums the fees of
every non-failed transaction. A bucket's `balance` is the total (available + pending) at its
end."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate
from typing import Any, Final

from reconcile_tui import money
from reconcile_tui.sandbox.catalog import Currency
from reconcile_tui.sandbox.config import LedgerSpec
from reconcile_tui.sandbox.ledger import HOUR, Transaction, epoch, epoch_text, transactions
from reconcile_tui.sandbox.spec import CONFIRMED, FAILED
from reconcile_tui.sandbox.units import amount, amount_text
from reconcile_tui.times import INTERVALS, PERIODS, days_in_period, interval_length, period_length
from reconcile_tui.vocabulary import RecordType

__all__ = ["GatewayViews", "ViewBuilder", "bucket_starts", "compute_views"]

_ONE_CENT: Final = Decimal("0.01")


def bucket_starts(clock: int, period: str, interval: str) -> list[int]:
    """Epoch starts of a history's buckets: aligned to the interval (midnight UTC or the
    hour), the last one containing the clock, period / interval of them."""
    step = int(interval_length(interval).total_seconds())
    count = int(period_length(period).total_seconds()) // step
    last = clock - clock % step
    return [last - (count - 1 - index) * step for index in range(count)]


def _earliest_start(clock: int) -> int:
    return min(bucket_starts(clock, p, i)[0] for p in PERIODS for i in INTERVALS)


@dataclass
class _Tally:
    """One currency's running sums while the ledger streams past."""

    currency: Currency
    hours: int
    available: list[int] = field(init=False)
    pending: list[int] = field(init=False)
    deposited: int = 0
    withdrawn: int = 0
    fees: int = 0
    last_at: int | None = None
    #: Net total of the movements before the first hour kept.
    before: int = 0
    deposits: list[int] = field(init=False)
    deposit_count: list[int] = field(init=False)
    withdrawals: list[int] = field(init=False)
    withdrawal_count: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.available = [0] * len(self.currency.wallets)
        self.pending = [0] * len(self.currency.wallets)
        self.deposits = [0] * self.hours
        self.deposit_count = [0] * self.hours
        self.withdrawals = [0] * self.hours
        self.withdrawal_count = [0] * self.hours


class ViewBuilder:
    """Feeds on ledger transactions (in any order) and finishes into `GatewayViews`."""

    def __init__(self, spec: LedgerSpec) -> None:
        self.spec = spec
        self.clock = epoch(spec.clock)
        self.first_hour = _earliest_start(self.clock)
        hours = (self.clock - self.clock % HOUR - self.first_hour) // HOUR + 1
        self._tallies = {c.code: _Tally(c, hours) for c in spec.currency_table}
        self._wallet_index = {
            c.code: {w.wallet_id: i for i, w in enumerate(c.wallets)} for c in spec.currency_table
        }

    def add(self, tx: Transaction) -> None:
        tally = self._tallies[tx.currency]
        if tally.last_at is None or tx.at > tally.last_at:
            tally.last_at = tx.at
        state = tx.state
        if state == FAILED:
            return
        wallet = self._wallet_index[tx.currency][tx.wallet_id]
        hour = (tx.at - self.first_hour) // HOUR
        tally.fees += tx.fee
        if tx.type is RecordType.DEPOSIT:
            if state == CONFIRMED:
                tally.available[wallet] += tx.amount
            else:
                tally.pending[wallet] += tx.amount
            tally.deposited += tx.amount
            if hour < 0:
                tally.before += tx.amount
            else:
                tally.deposits[hour] += tx.amount
                tally.deposit_count[hour] += 1
        else:
            tally.available[wallet] -= tx.amount
            tally.withdrawn += tx.amount
            if hour < 0:
                tally.before -= tx.amount
            else:
                tally.withdrawals[hour] += tx.amount
                tally.withdrawal_count[hour] += 1

    def finish(self) -> GatewayViews:
        return GatewayViews(self.spec, self.first_hour, self._tallies)


def _prefix(values: list[int]) -> list[int]:
    return [0, *accumulate(values)]


class GatewayViews:
    """The gateway's balances and history of one ledger, as the gateway prints them."""

    def __init__(self, spec: LedgerSpec, first_hour: int, tallies: dict[str, _Tally]) -> None:
        self.spec = spec
        self.clock = epoch(spec.clock)
        self._first_hour = first_hour
        self._tallies = tallies
        # Prefix sums over the hours: any bucket's figures in O(1).
        self._sums = {
            code: {
                "deposits": _prefix(t.deposits),
                "deposit_count": _prefix(t.deposit_count),
                "withdrawals": _prefix(t.withdrawals),
                "withdrawal_count": _prefix(t.withdrawal_count),
            }
            for code, t in tallies.items()
        }

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._tallies)

    def holds(self, code: str) -> bool:
        return code in self._tallies

    # -- /user/balances/ -----------------------------------------------------------------

    def balances_document(self, breaker: str | None = None) -> dict[str, Any]:
        """GET /user/balances/, with `breaker` (see config.BREAKERS) applied if given."""
        balances = []
        wallet_ids: set[str] = set()
        usd_total = money.ZERO
        for position, tally in enumerate(self._tallies.values()):
            currency = tally.currency
            scale = currency.scale
            available = sum(tally.available)
            pending = sum(tally.pending)
            total = available + pending
            usd = money.round_to(money.product(amount(total, scale), currency.usd_rate), 2)
            usd_total = money.add(usd_total, usd)
            wallets = []
            for index, wallet in enumerate(currency.wallets):
                balance = tally.available[index]
                if breaker == "wallet_balance" and position == 0 and index == 0:
                    balance += 1
                wallet_ids.add(wallet.wallet_id)
                wallets.append(
                    {
                        "wallet_id": wallet.wallet_id,
                        "wallet_name": wallet.name,
                        "balance": amount_text(balance, scale),
                        "pending": amount_text(tally.pending[index], scale),
                    }
                )
            last_transaction = None if tally.last_at is None else epoch_text(tally.last_at)
            balances.append(
                {
                    "currency": currency.code,
                    "currency_name": currency.name,
                    "network": currency.network,
                    "total_balance": amount_text(total, scale),
                    "available_balance": amount_text(available, scale),
                    "pending_balance": amount_text(pending, scale),
                    "total_deposited": amount_text(tally.deposited, scale),
                    "total_withdrawn": amount_text(tally.withdrawn, scale),
                    "total_fees_paid": amount_text(tally.fees, scale),
                    "usd_value": money.canonical(usd, 2),
                    "last_transaction": last_transaction,
                    "wallets": wallets,
                }
            )
        if breaker == "total_usd_value":
            usd_total = money.add(usd_total, _ONE_CENT)
        return {
            "balances": balances,
            "summary": {
                "total_usd_value": money.canonical(usd_total, 2),
                "total_currencies": len(balances),
                "total_wallets": len(wallet_ids),
                "last_update": epoch_text(self.clock),
            },
        }

    # -- /user/balances/history/ -----------------------------------------------------------

    def history_document(
        self, code: str, period: str, interval: str, breaker: str | None = None
    ) -> dict[str, Any]:
        """GET /user/balances/history/?currency=code&period=..&interval=.."""
        tally = self._tallies[code]
        currency = tally.currency
        scale = currency.scale
        sums = self._sums[code]
        net = [d - w for d, w in zip(sums["deposits"], sums["withdrawals"], strict=True)]
        hours_kept = len(net) - 1
        step = int(interval_length(interval).total_seconds()) // HOUR

        buckets = []
        totals = {"deposits": 0, "deposit_count": 0, "withdrawals": 0, "withdrawal_count": 0}
        starts = bucket_starts(self.clock, period, interval)
        starting = tally.before + net[(starts[0] - self._first_hour) // HOUR]
        for start in starts:
            first = (start - self._first_hour) // HOUR
            end = min(first + step, hours_kept)
            figures = {name: sums[name][end] - sums[name][first] for name in totals}
            for name, value in figures.items():
                totals[name] += value
            balance = tally.before + net[end]
            usd = money.round_to(money.product(amount(balance, scale), currency.usd_rate), 2)
            if breaker == "history_balance" and code == self.codes[0] and start == starts[-1]:
                balance += 1
            buckets.append(
                {
                    "timestamp": epoch_text(start),
                    "balance": amount_text(balance, scale),
                    "deposits": amount_text(figures["deposits"], scale),
                    "withdrawals": amount_text(figures["withdrawals"], scale),
                    "deposit_count": figures["deposit_count"],
                    "withdrawal_count": figures["withdrawal_count"],
                    "usd_value": money.canonical(usd, 2),
                }
            )
        ending = tally.before + net[hours_kept]
        days = Decimal(days_in_period(period))
        averages = {}
        for name in ("deposits", "withdrawals"):
            average = money.ratio(amount(totals[name], scale), days, scale)
            assert average is not None  # days >= 1
            averages[name] = money.canonical(average, scale)
        return {
            "currency": code,
            "period": period,
            "interval": interval,
            "history": buckets,
            "summary": {
                "starting_balance": amount_text(starting, scale),
                "ending_balance": amount_text(ending, scale),
                "total_deposits": amount_text(totals["deposits"], scale),
                "total_withdrawals": amount_text(totals["withdrawals"], scale),
                "net_change": amount_text(ending - starting, scale),
                "total_deposit_count": totals["deposit_count"],
                "total_withdrawal_count": totals["withdrawal_count"],
                "average_daily_deposits": averages["deposits"],
                "average_daily_withdrawals": averages["withdrawals"],
            },
        }


def build_views(spec: LedgerSpec) -> GatewayViews:
    """Stream the ledger of `spec` once into its views."""
    builder = ViewBuilder(spec)
    for tx in transactions(spec):
        builder.add(tx)
    return builder.finish()


@functools.lru_cache(maxsize=8)
def compute_views(spec: LedgerSpec) -> GatewayViews:
    """The views of `spec`, computed once per process (servers of one spec share them)."""
    return build_views(spec)
