"""Check with transactions: `reconcile-tui check --offline` on 1M records and 1M gateway
transactions, against one SQL join of the two on reference, grouped by currency, wallet,
type and status (`benchmarks.baselines.JOIN`), in the same run and the same database.

    python -m benchmarks.check_speed [--records N] [--repeat 3] [--data DIR]

The records are stored as an import stores them, and the snapshot (balances, one history,
every transaction) as a fetch stores it, untimed; for the baseline the transactions are
also a table of the same database with an index on reference (built untimed), so the join
is the cheapest SQL could do. Ten mistakes are planted: one record booked to the wrong
wallet, nine amounts one unit off.
Beside the command, the engine alone (checks, matching, causes, the report document) is
timed in this process on the snapshot held in memory: every pair is then made in Python,
while the command reads the stored snapshot and leaves the certain pairs to the
database (docs/causes.md, "The first pass in the database").
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from benchmarks import DATA
from benchmarks.baselines import JOIN
from benchmarks.measure import run_measured
from reconcile_tui.api.models import (
    GatewayTransaction,
    parse_balances,
    parse_history,
)
from reconcile_tui.api.snapshot import GatewaySnapshot
from reconcile_tui.reconcile.engine import reconcile
from reconcile_tui.reconcile.rules import Rules
from reconcile_tui.store.db import Store
from reconcile_tui.store.record_sums import SUMS_OF_RECORDS
from reconcile_tui.store.snapshots import save_snapshot

__all__ = ["main"]

CURRENCY = "USDTERC20"
WALLETS = [f"{n:08d}-0000-4000-8000-000000000000" for n in range(1, 5)]
AS_OF = datetime(2025, 1, 31, tzinfo=UTC)
START = AS_OF - timedelta(days=30)
PLANTED = 10


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ledger(size: int) -> list[tuple[str, str, str, str, str, str, str]]:
    """(reference, occurred_at, wallet, type, amount, fee, status) of a true ledger."""
    rng = random.Random(12)
    rows = []
    for n in range(size):
        kind = "deposit" if rng.random() < 0.85 else "withdrawal"
        amount = f"{rng.randint(100, 99_999)}.{rng.randint(0, 999_999):06d}"
        fee = f"0.{rng.randint(0, 999_999):06d}"
        at = START + timedelta(seconds=rng.randint(0, 30 * 86400 - 1))
        # Pending only in the last hours, as a live ledger has them (none stale).
        status = "pending" if at > AS_OF - timedelta(hours=6) else "confirmed"
        rows.append((f"ORD-{n:08d}", _time(at), rng.choice(WALLETS), kind, amount, fee, status))
    return rows


def _next_wallet(wallet: str) -> str:
    return WALLETS[(WALLETS.index(wallet) + 1) % len(WALLETS)]


def _store(path: Path, rows: list[tuple[str, str, str, str, str, str, str]]) -> None:
    path.unlink(missing_ok=True)
    with Store(path) as store, store.write() as conn:
        conn.execute(
            """INSERT INTO imports (id, path, file_sha256, imported_at, rows_read, inserted,
                   updated, unchanged, duplicates, quarantined)
               VALUES (1, 'bench.csv', '', ?, ?, ?, 0, 0, 0, 0)""",
            (_time(AS_OF), len(rows), len(rows)),
        )
        planted = set(range(0, len(rows), max(1, len(rows) // PLANTED)))
        # The first planted mistake books a record to the wrong wallet, so that the check
        # also looks for a wrong wallet among every pair; the others are amounts one off.
        wrong_wallet = min(planted)
        conn.executemany(
            """INSERT INTO records (reference, occurred_at, currency, wallet_id, type, amount,
                   fee, status, import_id, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)""",
            (
                (
                    reference,
                    at,
                    CURRENCY,
                    _next_wallet(wallet) if line == wrong_wallet else wallet,
                    kind,
                    str(Decimal(amount) + 1) if line in planted - {wrong_wallet} else amount,
                    fee,
                    status,
                    line + 2,
                )
                for line, (reference, at, wallet, kind, amount, fee, status) in enumerate(rows)
            ),
        )
        # The day sums an import keeps with its records (store/record_sums.py).
        conn.execute("INSERT INTO record_sums " + SUMS_OF_RECORDS)
        conn.execute(
            "CREATE TABLE bench_transactions (id TEXT, reference TEXT, net_amount TEXT) STRICT"
        )
        conn.executemany(
            "INSERT INTO bench_transactions VALUES (?, ?, ?)",
            ((f"T{n}", row[0], row[4]) for n, row in enumerate(rows)),
        )
        conn.execute(
            "CREATE INDEX bench_transactions_by_reference ON bench_transactions(reference)"
        )


def _snapshot(rows: list[tuple[str, str, str, str, str, str, str]]) -> GatewaySnapshot:
    wallets: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    days = [AS_OF - timedelta(days=7 - i) for i in range(7)]
    bucket: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    before = Decimal(0)
    transactions = []
    for n, (reference, at, wallet, kind, amount, fee, status) in enumerate(rows):
        value, moment = Decimal(amount), datetime.fromisoformat(at)
        signed = value if kind == "deposit" else -value
        figure = "pending" if kind == "deposit" and status == "pending" else "available"
        wallets[(figure, wallet)] += signed
        totals["deposited" if kind == "deposit" else "withdrawn"] += value
        totals["fees"] += Decimal(fee)
        index = (moment - days[0]).days
        if index < 0:
            before += signed
        else:
            bucket[index]["deposits" if kind == "deposit" else "withdrawals"] += value
            bucket[index]["deposit_count" if kind == "deposit" else "withdrawal_count"] += 1
        transactions.append(
            GatewayTransaction.model_construct(
                id=f"T{n}",
                type="payment" if kind == "deposit" else "withdrawal",
                amount=value + Decimal(fee),
                currency=CURRENCY,
                status="completed" if status == "confirmed" else "confirming",
                created_at=moment,
                reference=reference,
                fee_amount=Decimal(fee),
                net_amount=value,
            )
        )
    available = sum((wallets[("available", w)] for w in WALLETS), Decimal(0))
    pending = sum((wallets[("pending", w)] for w in WALLETS), Decimal(0))
    balances = {
        "balances": [
            {
                "currency": CURRENCY,
                "total_balance": str(available + pending),
                "available_balance": str(available),
                "pending_balance": str(pending),
                "total_deposited": str(totals["deposited"]),
                "total_withdrawn": str(totals["withdrawn"]),
                "total_fees_paid": str(totals["fees"]),
                "usd_value": str(available + pending),
                "wallets": [
                    {
                        "wallet_id": w,
                        "wallet_name": f"W{i}",
                        "balance": str(wallets[("available", w)]),
                        "pending": str(wallets[("pending", w)]),
                    }
                    for i, w in enumerate(WALLETS)
                ],
            }
        ],
        "summary": {
            "total_usd_value": str(available + pending),
            "total_currencies": 1,
            "total_wallets": len(WALLETS),
            "last_update": _time(AS_OF),
        },
    }
    running, history = before, []
    for index, day in enumerate(days):
        figures = bucket[index]
        running += figures["deposits"] - figures["withdrawals"]
        history.append(
            {
                "timestamp": _time(day),
                "balance": str(running),
                "deposits": str(figures["deposits"]),
                "withdrawals": str(figures["withdrawals"]),
                "deposit_count": int(figures["deposit_count"]),
                "withdrawal_count": int(figures["withdrawal_count"]),
                "usd_value": str(running),
            }
        )
    deposits = sum((Decimal(b["deposits"]) for b in history), Decimal(0))  # type: ignore[arg-type]
    withdrawals = sum((Decimal(b["withdrawals"]) for b in history), Decimal(0))  # type: ignore[arg-type]
    history_body = {
        "currency": CURRENCY,
        "period": "7d",
        "interval": "daily",
        "history": history,
        "summary": {
            "starting_balance": str(before),
            "ending_balance": str(running),
            "total_deposits": str(deposits),
            "total_withdrawals": str(withdrawals),
            "net_change": str(deposits - withdrawals),
            "total_deposit_count": sum(int(b["deposit_count"]) for b in history),  # type: ignore[call-overload]
            "total_withdrawal_count": sum(int(b["withdrawal_count"]) for b in history),  # type: ignore[call-overload]
            "average_daily_deposits": "0",
            "average_daily_withdrawals": "0",
        },
    }
    balances_raw = json.dumps(balances).encode()
    history_raw = json.dumps(history_body).encode()
    return GatewaySnapshot(
        balances=parse_balances(balances_raw),
        histories={CURRENCY: parse_history(history_raw)},
        fetched_at=AS_OF,
        base_url="benchmark",
        period="7d",
        interval="daily",
        balances_raw=balances_raw,
        histories_raw={CURRENCY: history_raw},
        transactions=tuple(transactions),
    )


def _raw_items(snapshot: GatewaySnapshot) -> tuple[bytes, ...]:
    """Each transaction's JSON, as a gateway would have written it (stored untimed)."""
    return tuple(
        json.dumps(
            {
                "id": t.id,
                "type": t.type,
                "amount": str(t.amount),
                "currency": t.currency,
                "status": t.status,
                "created_at": _time(t.created_at),
                "reference": t.reference,
                "fee_amount": str(t.fee_amount),
                "net_amount": str(t.net_amount),
            }
        ).encode()
        for t in snapshot.transactions or ()
    )


def _median(samples: list[float]) -> float:
    return sorted(samples)[len(samples) // 2]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.check_speed")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DATA)
    arguments = parser.parse_args(argv)
    arguments.data.mkdir(parents=True, exist_ok=True)
    database = arguments.data / f"check-{arguments.records}.db"
    rows = _ledger(arguments.records)
    _store(database, rows)
    snapshot = _snapshot(rows)
    del rows
    with Store(database) as store:
        save_snapshot(
            store,
            replace(snapshot, transactions_raw=_raw_items(snapshot)),
            source="api",
        )
    cli = Path(sys.executable).parent / "reconcile-tui"
    report = database.with_suffix(".json")
    commands = {
        "check": [
            *([str(cli)] if cli.exists() else [sys.executable, "-m", "reconcile_tui"]),
            "--db",
            str(database),
            "check",
            "--offline",
            "--format",
            "json",
            "--output",
            str(report),
            "--fail-on",
            "never",
        ],
        "baseline": [sys.executable, "-m", "benchmarks.baselines", "join", str(database)],
    }
    seconds: dict[str, list[float]] = {"check": [], "baseline": [], "engine": []}
    run_measured(commands["baseline"])  # warm: both read the file from the page cache
    with Store(database) as store:
        for repetition in range(arguments.repeat):
            order = ["check", "baseline", "engine"]
            for name in order if repetition % 2 == 0 else order[::-1]:
                if name == "engine":
                    started = time.perf_counter()
                    engine_report = reconcile(store, snapshot, Rules(), {})
                    engine_report.to_dict()
                    elapsed = time.perf_counter() - started
                else:
                    elapsed = run_measured(commands[name]).seconds
                seconds[name].append(elapsed)
                print(f"{name}: {elapsed:.2f} s", file=sys.stderr)
    causes = json.loads(report.read_text(encoding="utf-8"))["causes"]
    kinds = sorted({cause["kind"] for cause in causes})
    print(f"baseline: `{JOIN}`", file=sys.stderr)
    baseline = _median(seconds["baseline"])
    print(
        f"{arguments.records:,} records, {len(snapshot.transactions or ()):,} transactions:"
        f" check --offline median {_median(seconds['check']):.2f} s"
        f" ({_median(seconds['check']) / baseline:.2f}x),"
        f" engine on the snapshot in memory {_median(seconds['engine']):.2f} s"
        f" ({_median(seconds['engine']) / baseline:.2f}x), join median {baseline:.2f} s;"
        f" {len(causes)} causes ({', '.join(kinds)}); {len(engine_report.causes)} in memory"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
