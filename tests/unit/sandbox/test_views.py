"""The gateway's views: every documented invariant holds, and the figures match the ledger.

The figures are recomputed here the slow, obvious way (a list of the ledger, sums with
Decimal) and compared with what the views print.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from reconcile_tui import money
from reconcile_tui.api.models import parse_balances, parse_history
from reconcile_tui.api.snapshot import GatewaySnapshot
from reconcile_tui.reconcile.invariants import check_api_consistency
from reconcile_tui.sandbox import SandboxConfig, transactions
from reconcile_tui.sandbox.catalog import CATALOG
from reconcile_tui.sandbox.views import build_views
from reconcile_tui.times import INTERVALS, PERIODS, parse_api_time
from reconcile_tui.vocabulary import RecordStatus, RecordType

CASES = [
    (1, 5, "7d", "daily"),
    (2, 5, "24h", "hourly"),
    (3, 8, "30d", "daily"),
    (4, 5, "30d", "hourly"),
    (5, 5, "24h", "daily"),
    (6, 20, "7d", "hourly"),
]


def snapshot(config: SandboxConfig, period: str, interval: str) -> GatewaySnapshot:
    views = build_views(config.ledger)
    breaker = config.break_invariant
    balances_raw = json.dumps(views.balances_document(breaker)).encode()
    histories_raw = {
        code: json.dumps(views.history_document(code, period, interval, breaker)).encode()
        for code in views.codes
    }
    return GatewaySnapshot(
        balances=parse_balances(balances_raw),
        histories={code: parse_history(raw) for code, raw in histories_raw.items()},
        fetched_at=config.clock,
        base_url="http://sandbox.test",
        period=period,
        interval=interval,
        balances_raw=balances_raw,
        histories_raw=histories_raw,
    )


@pytest.mark.parametrize(("seed", "currencies", "period", "interval"), CASES)
def test_the_engine_finds_no_broken_invariant(
    seed: int, currencies: int, period: str, interval: str
) -> None:
    config = SandboxConfig(seed=seed, records=3_000, currencies=currencies)
    found = [d.to_dict() for d in check_api_consistency(snapshot(config, period, interval))]
    assert found == []


def live(tx) -> bool:
    return tx.state != RecordStatus.FAILED


def signed(tx) -> Decimal:
    scale = money.known_scale(tx.currency)
    assert scale is not None
    value = Decimal(tx.amount).scaleb(-scale)
    return value if tx.type is RecordType.DEPOSIT else -value


@pytest.mark.parametrize(("seed", "currencies", "period", "interval"), CASES)
def test_every_figure_matches_the_ledger_summed_by_hand(
    seed: int, currencies: int, period: str, interval: str
) -> None:
    config = SandboxConfig(seed=seed, records=2_000, currencies=currencies)
    txs = list(transactions(config.ledger))
    taken = snapshot(config, period, interval)
    balances = taken.balances
    clock = config.clock

    assert balances.summary.last_update == clock
    assert [b.currency for b in balances.balances] == [c.code for c in CATALOG[:currencies]]
    total_usd = Decimal(0)
    for balance, currency in zip(balances.balances, CATALOG, strict=False):
        mine = [tx for tx in txs if tx.currency == balance.currency]
        scale = currency.scale
        assert balance.printed_scale() == scale
        deposited = sum(
            (signed(tx) for tx in mine if live(tx) and tx.type == "deposit"), Decimal(0)
        )
        withdrawn = -sum(
            (signed(tx) for tx in mine if live(tx) and tx.type == "withdrawal"), Decimal(0)
        )
        fees = sum((Decimal(tx.fee).scaleb(-scale) for tx in mine if live(tx)), Decimal(0))
        assert balance.total_deposited == deposited
        assert balance.total_withdrawn == withdrawn
        assert balance.total_fees_paid == fees
        assert balance.total_balance == deposited - withdrawn
        assert balance.total_balance >= 0
        for wallet in balance.wallets:
            own = [tx for tx in mine if tx.wallet_id == wallet.wallet_id and live(tx)]
            confirmed = sum(
                (
                    signed(tx)
                    for tx in own
                    if tx.type == "withdrawal" or tx.state == RecordStatus.CONFIRMED
                ),
                Decimal(0),
            )
            pending = sum(
                (
                    signed(tx)
                    for tx in own
                    if tx.type == "deposit" and tx.state == RecordStatus.PENDING
                ),
                Decimal(0),
            )
            assert wallet.balance == confirmed >= 0
            assert wallet.pending == pending >= 0
        usd = money.round_to(money.product(balance.total_balance, currency.usd_rate), 2)
        assert balance.usd_value == usd
        total_usd += usd
        if mine:
            assert balance.last_transaction == max(parse_api_time(tx.occurred_at) for tx in mine)

        history = taken.histories[balance.currency]
        assert (history.currency, history.period, history.interval) == (
            balance.currency,
            period,
            interval,
        )
        step = timedelta(hours=1) if interval == "hourly" else timedelta(days=1)
        count = {"24h": 24, "7d": 168, "30d": 720}[period] // (1 if interval == "hourly" else 24)
        assert len(history.history) == count
        last = history.history[-1].timestamp
        assert last <= clock < last + step, "the last bucket holds the clock"
        rate = currency.usd_rate
        at = {tx.reference: int(parse_api_time(tx.occurred_at).timestamp()) for tx in mine}
        for bucket in history.history:
            assert bucket.timestamp.minute == bucket.timestamp.second == 0
            if interval == "daily":
                assert bucket.timestamp.hour == 0
            start = int(bucket.timestamp.timestamp())
            end = int((bucket.timestamp + step).timestamp())
            inside = [tx for tx in mine if live(tx) and start <= at[tx.reference] < end]
            before_end = [tx for tx in mine if live(tx) and at[tx.reference] < end]
            deposits = [signed(t) for t in inside if t.type == "deposit"]
            withdrawals = [-signed(t) for t in inside if t.type == "withdrawal"]
            assert bucket.deposits == sum(deposits, Decimal(0))
            assert bucket.withdrawals == sum(withdrawals, Decimal(0))
            assert (bucket.deposit_count, bucket.withdrawal_count) == (
                len(deposits),
                len(withdrawals),
            )
            assert bucket.balance == sum((signed(t) for t in before_end), Decimal(0))
            assert bucket.usd_value == money.round_to(money.product(bucket.balance, rate), 2)
        first = int(history.history[0].timestamp.timestamp())
        starting = sum((signed(t) for t in mine if live(t) and at[t.reference] < first), Decimal(0))
        summary = history.summary
        assert summary.starting_balance == starting
        assert summary.ending_balance == balance.total_balance
        days = Decimal({"24h": 1, "7d": 7, "30d": 30}[period])
        assert summary.average_daily_deposits == money.ratio(summary.total_deposits, days, scale)
        assert summary.average_daily_withdrawals == money.ratio(
            summary.total_withdrawals, days, scale
        )
    assert balances.summary.total_usd_value == total_usd
    assert balances.summary.total_currencies == currencies
    ids = {w.wallet_id for b in balances.balances for w in b.wallets}
    assert balances.summary.total_wallets == len(ids)


def test_the_page_example_is_the_start_of_a_seven_day_history() -> None:
    taken = snapshot(SandboxConfig(records=500), "7d", "daily")
    days = [bucket.timestamp for bucket in taken.histories["USDTERC20"].history]
    assert days[0] == datetime(2025, 1, 9, tzinfo=UTC)
    assert days[-1] == datetime(2025, 1, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("breaker", "field", "currency", "difference"),
    [
        ("wallet_balance", "available_balance=sum(wallets.balance)", "USDTERC20", "-0.000001"),
        ("total_usd_value", "total_usd_value=sum(usd_value)", None, "0.01"),
        ("history_balance", "balance=previous+deposits-withdrawals", "USDTERC20", "0.000001"),
    ],
)
def test_a_broken_invariant_is_the_only_thing_the_engine_flags(
    breaker: str, field: str, currency: str | None, difference: str
) -> None:
    config = SandboxConfig(records=1_000, break_invariant=breaker)
    found = [d.to_dict() for d in check_api_consistency(snapshot(config, "7d", "daily"))]
    fields = {d["field"] for d in found}
    assert field in fields
    first = next(d for d in found if d["field"] == field)
    assert (first["currency"], first["difference"]) == (currency, difference)
    if breaker == "history_balance":
        assert fields == {field, "ending_balance=last(balance)"}
    else:
        assert len(found) == 1


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("interval", INTERVALS)
def test_a_clock_at_midnight_still_puts_the_clock_in_the_last_bucket(
    period: str, interval: str
) -> None:
    midnight = datetime(2025, 3, 1, tzinfo=UTC)
    taken = snapshot(SandboxConfig(records=300, clock=midnight), period, interval)
    assert list(check_api_consistency(taken)) == []
    assert taken.histories["ETH"].history[-1].timestamp == midnight
