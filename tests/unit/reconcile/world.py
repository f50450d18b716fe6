"""A small random world for testing causes: a true ledger, what the gateway says about it,
and the merchant's records with mistakes planted in them.

Written for the tests alone: it computes balances, history and the transaction listing
from the ledger with its own arithmetic and shares no code with `reconcile_tui.reconcile`,
so a mistake there cannot hide here too.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

CURRENCY = "USDTERC20"
WALLETS = (
    "11111111-0000-4000-8000-000000000001",
    "22222222-0000-4000-8000-000000000002",
    "33333333-0000-4000-8000-000000000003",
)
AS_OF = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
FIRST_BUCKET = datetime(2025, 1, 8, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
BUCKETS = [FIRST_BUCKET + i * DAY for i in range(7)]
CENT = Decimal("0.01")

GATEWAY_WORDS = {
    ("deposit", "confirmed"): "completed",
    ("deposit", "pending"): "confirming",
    ("deposit", "failed"): "expired",
    ("withdrawal", "confirmed"): "completed",
    ("withdrawal", "pending"): "processing",
    ("withdrawal", "failed"): "rejected",
}

#: The mistakes a world can plant, each one cause of the same name.
PLANTS = (
    "missing_in_records",
    "missing_at_gateway",
    "amount_differs",
    "fee_differs",
    "status_differs",
    "time_differs",
    "wrong_wallet",
)


@dataclass(frozen=True)
class Entry:
    reference: str
    wallet: str
    type: str
    status: str
    amount: Decimal
    fee: Decimal
    at: datetime


def _text(amount: Decimal) -> str:
    return f"{amount:.6f}"


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _signed(entry: Entry) -> Decimal:
    if entry.status == "failed":
        return Decimal(0)
    return entry.amount if entry.type == "deposit" else -entry.amount


@dataclass
class World:
    truth: list[Entry]
    records: list[Entry]
    #: (cause kind, reference) of every planted mistake.
    planted: set[tuple[str, str]]

    # -- the gateway's side, from the truth ----------------------------------------------

    def wallet_figures(self, entries: list[Entry]) -> dict[tuple[str, str], Decimal]:
        figures = {(name, w): Decimal(0) for w in WALLETS for name in ("available", "pending")}
        for e in entries:
            if e.status == "failed":
                continue
            name = "pending" if e.type == "deposit" and e.status == "pending" else "available"
            figures[(name, e.wallet)] += _signed(e)
        return figures

    def balances(self) -> dict[str, object]:
        figures = self.wallet_figures(self.truth)
        live = [e for e in self.truth if e.status != "failed"]
        available = sum((figures[("available", w)] for w in WALLETS), Decimal(0))
        pending = sum((figures[("pending", w)] for w in WALLETS), Decimal(0))
        deposited = sum((e.amount for e in live if e.type == "deposit"), Decimal(0))
        withdrawn = sum((e.amount for e in live if e.type == "withdrawal"), Decimal(0))
        total = available + pending
        return {
            "balances": [
                {
                    "currency": CURRENCY,
                    "total_balance": _text(total),
                    "available_balance": _text(available),
                    "pending_balance": _text(pending),
                    "total_deposited": _text(deposited),
                    "total_withdrawn": _text(withdrawn),
                    "total_fees_paid": _text(sum((e.fee for e in live), Decimal(0))),
                    "usd_value": f"{total:.2f}",
                    "wallets": [
                        {
                            "wallet_id": w,
                            "wallet_name": f"Wallet {n}",
                            "balance": _text(figures[("available", w)]),
                            "pending": _text(figures[("pending", w)]),
                        }
                        for n, w in enumerate(WALLETS, start=1)
                    ],
                }
            ],
            "summary": {
                "total_usd_value": f"{total:.2f}",
                "total_currencies": 1,
                "total_wallets": len(WALLETS),
                "last_update": _time(AS_OF),
            },
        }

    def history(self, period: str = "7d", interval: str = "daily") -> dict[str, object]:
        live = [e for e in self.truth if e.status != "failed"]
        step = DAY if interval == "daily" else HOUR
        days = 1 if period == "24h" else int(period[:-1])
        end = FIRST_BUCKET + 7 * DAY
        starts = [end - days * DAY + i * step for i in range(days * DAY // step)]
        first = starts[0]
        buckets = []
        for start in starts:
            inside = [e for e in live if start <= e.at < start + step]
            balance = sum((_signed(e) for e in live if e.at < start + step), Decimal(0))
            buckets.append(
                {
                    "timestamp": _time(start),
                    "balance": _text(balance),
                    "deposits": _text(
                        sum((e.amount for e in inside if e.type == "deposit"), Decimal(0))
                    ),
                    "withdrawals": _text(
                        sum((e.amount for e in inside if e.type == "withdrawal"), Decimal(0))
                    ),
                    "deposit_count": sum(1 for e in inside if e.type == "deposit"),
                    "withdrawal_count": sum(1 for e in inside if e.type == "withdrawal"),
                    "usd_value": f"{balance:.2f}",
                }
            )
        starting = sum((_signed(e) for e in live if e.at < first), Decimal(0))
        deposits = sum((Decimal(b["deposits"]) for b in buckets), Decimal(0))  # type: ignore[arg-type]
        withdrawals = sum((Decimal(b["withdrawals"]) for b in buckets), Decimal(0))  # type: ignore[arg-type]
        return {
            "currency": CURRENCY,
            "period": period,
            "interval": interval,
            "history": buckets,
            "summary": {
                "starting_balance": _text(starting),
                "ending_balance": buckets[-1]["balance"],
                "total_deposits": _text(deposits),
                "total_withdrawals": _text(withdrawals),
                "net_change": _text(deposits - withdrawals),
                "total_deposit_count": sum(b["deposit_count"] for b in buckets),  # type: ignore[misc]
                "total_withdrawal_count": sum(b["withdrawal_count"] for b in buckets),  # type: ignore[misc]
                "average_daily_deposits": _text((deposits / days).quantize(Decimal("0.000001"))),
                "average_daily_withdrawals": _text(
                    (withdrawals / days).quantize(Decimal("0.000001"))
                ),
            },
        }

    def transactions(self) -> dict[str, object]:
        results = []
        for n, e in enumerate(self.truth):
            by_order = n % 3 == 0  # some carry the merchant's reference as order_id only
            results.append(
                {
                    "id": f"T-{n:04d}",
                    "type": "payment" if e.type == "deposit" else "withdrawal",
                    "amount": _text(e.amount + e.fee),
                    "currency": CURRENCY,
                    "status": GATEWAY_WORDS[(e.type, e.status)],
                    "created_at": _time(e.at),
                    "reference": None if by_order else e.reference,
                    "transaction_hash": f"0x{n:04x}",
                    "fee_amount": _text(e.fee),
                    "net_amount": _text(e.amount),
                    "metadata": {"order_id": e.reference if by_order else None},
                }
            )
        return {"count": len(results), "results": results}

    # -- the merchant's side ---------------------------------------------------------

    def csv(self) -> str:
        lines = ["reference,occurred_at,currency,wallet_id,type,amount,fee,status,tx_hash"]
        for e in self.records:
            lines.append(
                f"{e.reference},{_time(e.at)},{CURRENCY},{e.wallet},{e.type},"
                f"{e.amount},{e.fee},{e.status},"
            )
        return "\n".join(lines) + "\n"

    def write(
        self, directory: Path, period: str = "7d", interval: str = "daily"
    ) -> tuple[Path, Path]:
        """(records CSV, saved-responses directory) written under `directory`."""
        api = directory / f"api-{period}-{interval}"
        (api / "history").mkdir(parents=True)
        (api / "balances.json").write_text(json.dumps(self.balances()))
        history = json.dumps(self.history(period, interval))
        (api / "history" / f"{CURRENCY}.json").write_text(history)
        (api / "transactions.json").write_text(json.dumps(self.transactions()))
        records = directory / "records.csv"
        records.write_text(self.csv())
        return records, api


def random_world(seed: int, plants: int) -> World:
    """A ledger of 12 to 30 movements and `plants` mistakes on distinct movements."""
    rng = random.Random(seed)
    truth = []
    used_amounts: set[Decimal] = set()
    for n in range(rng.randint(12, 30)):
        kind = "deposit" if rng.random() < 0.7 else "withdrawal"
        status = rng.choices(["confirmed", "pending", "failed"], [8, 2, 1])[0]
        amount = Decimal(rng.randint(1000, 999999)) * CENT
        while amount in used_amounts:
            amount += CENT
        used_amounts.add(amount)
        truth.append(
            Entry(
                reference=f"R-{seed}-{n:03d}",
                wallet=rng.choice(WALLETS),
                type=kind,
                status=status,
                amount=amount,
                fee=Decimal(rng.randint(0, 300)) * CENT,
                at=datetime(2025, 1, 1, tzinfo=UTC)
                + timedelta(minutes=rng.randint(0, 13 * 24 * 60 + 20 * 60)),
            )
        )
    records = list(truth)
    planted: set[tuple[str, str]] = set()
    live = [n for n, e in enumerate(truth) if e.status != "failed"]
    for plant, n in zip(
        rng.sample(PLANTS, k=min(plants, len(PLANTS))), rng.sample(live, k=plants), strict=False
    ):
        e = truth[n]
        if plant == "missing_in_records":
            records[n] = None  # type: ignore[call-overload]
        elif plant == "missing_at_gateway":
            amount = Decimal(rng.randint(1000, 999999)) * CENT + Decimal("0.003")
            extra = replace(e, reference=f"M-{seed}", amount=amount)
            records.append(extra)
            e = extra
        elif plant == "amount_differs":
            records[n] = replace(e, amount=e.amount + 1)
        elif plant == "fee_differs":
            records[n] = replace(e, fee=e.fee + CENT)
        elif plant == "status_differs":
            records[n] = replace(e, status="pending" if e.status == "confirmed" else "confirmed")
        elif plant == "time_differs":
            records[n] = replace(e, at=e.at + timedelta(hours=3))
        elif plant == "wrong_wallet":
            records[n] = replace(e, wallet=next(w for w in WALLETS if w != e.wallet))
        planted.add((plant, e.reference))
    return World(truth, [r for r in records if r is not None], planted)
