"""The synthetic ledger: deterministic, exactly sized, realistic, and never below zero."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest

from reconcile_tui import money
from reconcile_tui.errors import BadInput
from reconcile_tui.sandbox import SandboxConfig, transactions
from reconcile_tui.sandbox.catalog import (
    CATALOG,
    DEFAULT_WALLET,
    FOREIGN_CURRENCY,
    MARKETPLACE,
    ONLINE_STORE,
    RETIRED_WALLET,
)
from reconcile_tui.sandbox.ledger import Transaction, epoch
from reconcile_tui.vocabulary import STATUS_WORDS, RecordStatus, RecordType

CLOCK = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
DAY = 86_400


def ledger(**options: Any) -> list[Transaction]:
    return list(transactions(SandboxConfig(**options).ledger))


def test_same_spec_gives_the_same_ledger_and_another_seed_another() -> None:
    first = ledger(seed=4, records=800)
    assert first == ledger(seed=4, records=800)
    assert first != ledger(seed=5, records=800)


@pytest.mark.parametrize("records", [0, 1, 7, 999, 2_500])
def test_the_ledger_holds_exactly_the_records_asked_for(records: int) -> None:
    assert len(ledger(records=records)) == records


def test_everything_happens_before_the_clock_within_the_days_asked_for() -> None:
    txs = ledger(records=1_500, days=60)
    clock = epoch(CLOCK)
    first_day = clock - clock % DAY - 59 * DAY
    assert all(first_day <= tx.at < clock for tx in txs)
    assert [tx.at for tx in txs] == sorted(tx.at for tx in txs)
    assert txs[-1].at > clock - DAY, "the ledger runs up to the clock"


def test_references_count_payments_and_payouts_in_time_order() -> None:
    txs = ledger(records=1_000)
    payments = [tx.reference for tx in txs if tx.type is RecordType.DEPOSIT]
    payouts = [tx.reference for tx in txs if tx.type is RecordType.WITHDRAWAL]
    assert payments == [f"ORD-{n:06d}" for n in range(1, len(payments) + 1)]
    assert payouts == [f"PO-{n:06d}" for n in range(1, len(payouts) + 1)]
    assert 0.15 < len(payouts) / len(txs) < 0.4


def test_amounts_are_positive_with_the_fee_inside_and_within_the_scale() -> None:
    txs = ledger(records=2_000, currencies=20)
    for tx in txs:
        assert tx.amount > 0
        assert 0 <= tx.fee <= tx.amount
    eth = [tx for tx in txs if tx.currency == "ETH"]
    assert any(tx.amount % 10 for tx in eth), "ETH amounts use all 18 places"
    usdt = [tx for tx in txs if tx.currency == "USDTERC20"]
    assert any(tx.amount % 10_000 for tx in usdt), "some stablecoin amounts carry sub-cents"
    assert any(tx.amount % 1_000_000 == 0 for tx in usdt), "some are whole dollars"


def test_each_transaction_is_in_a_wallet_the_gateway_reports_for_its_currency() -> None:
    wallets = {c.code: {w.wallet_id for w in c.wallets} for c in CATALOG}
    for tx in ledger(records=2_000, currencies=20):
        assert tx.wallet_id in wallets[tx.currency]
    assert {tx.wallet_id for tx in ledger(records=500)} == {
        DEFAULT_WALLET.wallet_id,
        ONLINE_STORE.wallet_id,
        MARKETPLACE.wallet_id,
    }


def test_no_wallet_ever_goes_below_zero() -> None:
    available: dict[tuple[str, str], int] = defaultdict(int)
    for tx in ledger(seed=8, records=5_000):
        key = (tx.currency, tx.wallet_id)
        if tx.state == RecordStatus.FAILED:
            continue
        if tx.type is RecordType.DEPOSIT:
            if tx.state == RecordStatus.CONFIRMED:
                available[key] += tx.amount
        else:
            available[key] -= tx.amount
            assert available[key] >= 0, f"{tx.reference} overdraws {key}"


def test_statuses_look_like_a_real_gateway() -> None:
    txs = ledger(seed=3, records=5_000)
    clock = epoch(CLOCK)
    statuses = Counter(tx.status for tx in txs)
    assert statuses["completed"] > 0.85 * len(txs)
    assert min(statuses["expired"], statuses["failed"], statuses["partially_completed"]) > 0
    assert all(word in STATUS_WORDS for word in statuses)
    pending = [tx for tx in txs if tx.state == RecordStatus.PENDING]
    recent = [tx for tx in pending if clock - tx.at < 6 * 3600]
    stuck = [tx for tx in pending if clock - tx.at > 2 * DAY]
    assert recent, "the last hours' transactions are still on their way"
    assert 1 <= len(stuck) <= 10, "a few payments are stuck confirming for days"
    assert all(tx.type is RecordType.DEPOSIT and tx.status == "confirming" for tx in stuck)
    assert all(tx.tx_hash is None for tx in txs if tx.status == "expired")
    unpaid = [tx for tx in txs if tx.status in {"expired", "failed"} and tx.type == "deposit"]
    assert all(tx.fee == 0 for tx in unpaid)


def test_transaction_hashes_follow_the_network() -> None:
    txs = ledger(records=2_000, currencies=20)
    evm = re.compile(r"0x[0-9a-f]{64}")
    plain = re.compile(r"[0-9a-f]{64}")
    for tx in txs:
        if tx.tx_hash is None:
            continue
        network = next(c.network for c in CATALOG if c.code == tx.currency)
        assert (plain if network in {"TRX", "BTC", "SOL"} else evm).fullmatch(tx.tx_hash)


def test_the_catalog_has_twenty_currencies_with_the_products_scales() -> None:
    assert len(CATALOG) == 20
    codes = [currency.code for currency in CATALOG]
    assert codes[:5] == ["USDTERC20", "USDCERC20", "DAIERC20", "ETH", "USDTTRC20"]
    assert len(set(codes)) == 20
    for currency in CATALOG:
        assert currency.scale == money.known_scale(currency.code)
    assert {c.code: c.scale for c in CATALOG if c.code in {"ETH", "WETH", "BTC"}} == {
        "ETH": 18,
        "WETH": 18,
        "BTC": 8,
    }
    assert FOREIGN_CURRENCY not in codes
    assert all(RETIRED_WALLET not in currency.wallets for currency in CATALOG)
    assert all(currency.wallets[0] == DEFAULT_WALLET for currency in CATALOG)


def test_a_ledger_with_no_time_for_records_is_refused() -> None:
    midnight = datetime(2025, 1, 15, tzinfo=UTC)
    with pytest.raises(BadInput, match="no time"):
        ledger(records=5, days=1, clock=midnight)
    assert ledger(records=0, days=1, clock=midnight) == []
