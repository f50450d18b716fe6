"""Each day's sums that imports keep equal what summing the stored records gives.

`record_sums` is derived data (store/record_sums.py): every import refreshes the days it
touched. Over seeded random sequences of imports into one store (new records, newer
exports changing a record's amount, fee, status, wallet, currency or day, references
repeated within a file, amounts spelled with more places), on both stores, the table and
`ledger.group_totals` for random period starts must equal what this test computes from
the records themselves, in Python, record by record: the same groups, the same exact
sums written with the same places, the same counts and latest openings.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pytest

from reconcile_tui.config import load_settings
from reconcile_tui.store.db import Store
from reconcile_tui.store.ledger import group_totals
from reconcile_tui.workspace import Workspace
from tests.conftest import PAGE_CLOCK, WALLET_A, WALLET_B

HEADER = "reference,occurred_at,currency,wallet_id,wallet_name,type,amount,fee,status,tx_hash\n"
FIRST_DAY = datetime(2024, 3, 30, tzinfo=UTC)
CURRENCIES = ("USDTERC20", "ETH")
PLACES = {"USDTERC20": 6, "ETH": 18}

Row = dict[str, str]


def _time(rng: random.Random) -> str:
    """A time over six days, often on a day's or an hour's bounds."""
    moment = FIRST_DAY + timedelta(days=rng.randrange(6))
    moment += rng.choice(
        [
            timedelta(0),
            timedelta(days=1, microseconds=-1),
            timedelta(hours=rng.randrange(24)),
            timedelta(seconds=rng.randrange(86_400), microseconds=rng.choice([0, 250_000])),
        ]
    )
    spec = "microseconds" if moment.microsecond else "seconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _amount(rng: random.Random, currency: str) -> str:
    places = rng.randrange(PLACES[currency] + 1)
    units = rng.randrange(1, 10 ** rng.randrange(1, 12))
    return format(Decimal(units).scaleb(-places), "f")


def _fee(rng: random.Random, amount: str, currency: str) -> str:
    """A fee within the amount it is part of, with up to the currency's places."""
    places = rng.randrange(PLACES[currency] + 1)
    fee = (Decimal(amount) / rng.choice([1, 3, 7])).quantize(Decimal(1).scaleb(-places), ROUND_DOWN)
    return rng.choice(["0", format(fee, "f")])


def _row(rng: random.Random, reference: str) -> Row:
    currency = rng.choice(CURRENCIES)
    kind = rng.choice(["deposit", "deposit", "withdrawal", "opening"])
    by_name = rng.random() < 0.2
    amount = _amount(rng, currency)
    return {
        "reference": reference,
        "occurred_at": _time(rng),
        "currency": currency,
        "wallet_id": "" if by_name else rng.choice([WALLET_A, WALLET_B]),
        "wallet_name": rng.choice(["Cold", "Hot"]) if by_name else "",
        "type": kind,
        "amount": amount,
        "fee": "0" if kind == "opening" else _fee(rng, amount, currency),
        "status": "confirmed"
        if kind == "opening"
        else rng.choice(["confirmed", "confirmed", "pending", "failed"]),
        "tx_hash": "",
    }


def _changed(rng: random.Random, row: Row) -> Row:
    """A newer export of `row` changing one or two of its fields."""
    changed = dict(row)
    for _ in range(rng.randrange(1, 3)):
        field = rng.choice(["amount", "fee", "status", "wallet", "currency", "day", "places"])
        if field == "amount":
            changed["amount"] = _amount(rng, changed["currency"])
            changed["fee"] = "0"
        elif field == "fee" and changed["type"] != "opening":
            changed["fee"] = _fee(rng, changed["amount"], changed["currency"])
        elif field == "status" and changed["type"] != "opening":
            changed["status"] = rng.choice(["confirmed", "pending", "failed"])
        elif field == "wallet" and changed["wallet_id"]:
            changed["wallet_id"] = WALLET_B if changed["wallet_id"] == WALLET_A else WALLET_A
        elif field == "currency":
            changed["currency"] = "USDTERC20"  # every generated amount fits its 6 places
            changed["amount"] = _amount(rng, "USDTERC20")
            changed["fee"] = "0"
        elif field == "day":
            changed["occurred_at"] = _time(rng)
        elif field == "places":
            changed["amount"] += ".000" if "." not in changed["amount"] else "0"
    return changed


def _write(path: Path, rows: list[Row]) -> Path:
    lines = [",".join(row[name] for name in HEADER.strip().split(",")) for row in rows]
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _imports(tmp_path: Path, rng: random.Random) -> list[Path]:
    """Three to five files: new references, newer exports of earlier ones, repeats."""
    known: dict[str, Row] = {}
    files = []
    for number in range(rng.randrange(3, 6)):
        rows: list[Row] = []
        for _ in range(rng.randrange(5, 40)):
            reference = f"R-{len(known) + len(rows)}-{number}"
            rows.append(_row(rng, reference))
        for row in rng.sample(
            sorted(known.values(), key=lambda r: r["reference"]),
            k=min(len(known), rng.randrange(0, 15)),
        ):
            rows.append(_changed(rng, row) if rng.random() < 0.8 else row)
        if rows and rng.random() < 0.5:
            rows.append(_changed(rng, rng.choice(rows)))  # a repeat: set aside, never summed
        rng.shuffle(rows)
        first: dict[str, Row] = {}
        for row in rows:
            first.setdefault(row["reference"], row)
        known.update(first)
        files.append(_write(tmp_path / f"export-{number}.csv", rows))
    return files


def _stored(store: Store) -> list[tuple[Any, ...]]:
    return list(
        store.query(
            "SELECT currency, wallet_id, wallet_name, type, status, import_id, occurred_at,"
            " amount, fee FROM records"
        )
    )


def _kept(store: Store) -> dict[tuple[Any, ...], Any]:
    """The day sums the store keeps, as `_expected_days` gives them."""
    return {
        (c, d, wi, wn, t, s, int(i)): (
            (Decimal(str(a)), _places(a)),
            (Decimal(str(f)), _places(f)),
            int(n),
            latest,
        )
        for c, d, wi, wn, t, s, i, a, f, n, latest in store.query(
            "SELECT currency, day, wallet_id, wallet_name, type, status, import_id,"
            " amount, fee, records, latest_opening FROM record_sums"
        )
    }


def _places(text: Any) -> int:
    exponent = Decimal(str(text)).as_tuple().exponent
    assert isinstance(exponent, int)
    return max(-exponent, 0)


class Tally:
    """An exact sum with the most places any added text had (as a SUM keeps them)."""

    def __init__(self) -> None:
        self.total = Decimal(0)
        self.places = 0
        self.count = 0

    def add(self, text: Any) -> None:
        self.total += Decimal(str(text))
        self.places = max(self.places, _places(text))
        self.count += 1

    def shown(self) -> tuple[Decimal, int]:
        return self.total, self.places


Grouping = Callable[[str, str | None, str | None, str, str, int, str], tuple[Any, ...]]


def _summed(records: list[tuple[Any, ...]], group: Grouping) -> dict[tuple[Any, ...], Any]:
    """The records summed one by one in the groups `group` names (from a record's
    currency, wallet id and name, type, status, import and time)."""
    sums: dict[tuple[Any, ...], tuple[Tally, Tally, list[str]]] = defaultdict(
        lambda: (Tally(), Tally(), [])
    )
    for currency, wallet_id, wallet_name, kind, status, import_id, at, amount, fee in records:
        amounts, fees, openings = sums[
            group(currency, wallet_id, wallet_name, kind, status, int(import_id), at)
        ]
        amounts.add(amount)
        fees.add(fee)
        if kind == "opening":
            openings.append(at)
    return {
        key: (a.shown(), f.shown(), a.count, max(openings) if openings else None)
        for key, (a, f, openings) in sums.items()
    }


def _expected_days(records: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
    return _summed(
        records,
        lambda currency, wallet_id, wallet_name, kind, status, import_id, at: (
            currency,
            at[:10],
            wallet_id,
            wallet_name,
            kind,
            status,
            import_id,
        ),
    )


def _expected_totals(
    records: list[tuple[Any, ...]], starts: dict[str, str]
) -> dict[tuple[Any, ...], Any]:
    return _summed(
        records,
        lambda currency, wallet_id, wallet_name, kind, status, import_id, at: (
            currency,
            wallet_id,
            wallet_name,
            kind,
            status,
            currency in starts and at < starts[currency],
            import_id,
        ),
    )


def _random_starts(rng: random.Random, records: list[tuple[Any, ...]]) -> dict[str, str]:
    """A period start per currency (or none): on a record's own second, a day's first
    moment, or anywhere, as `sql_bound` writes them (19 characters)."""
    starts = {}
    for currency in CURRENCIES:
        choice = rng.randrange(4)
        if choice == 0:
            continue
        if choice == 1 and records:
            starts[currency] = rng.choice(records)[6][:19]
        elif choice == 2:
            starts[currency] = _time(rng)[:10] + "T00:00:00"
        else:
            starts[currency] = _time(rng)[:19]
    return starts


@pytest.mark.parametrize("seed", range(8))
def test_the_day_sums_imports_keep_are_the_sums_of_the_stored_records(db_path, tmp_path, seed):
    rng = random.Random(seed)
    files = _imports(tmp_path, rng)
    with Workspace(load_settings(environ={}), db_path=db_path, clock=lambda: PAGE_CLOCK) as work:
        for path in files:
            (result,) = work.import_files([path])
            assert result.inserted or result.updated or result.unchanged
            store = work.store
            records = _stored(store)
            kept = _kept(store)
            assert kept == _expected_days(records)
            for _ in range(4):
                starts = _random_starts(rng, records)
                totals = {
                    (
                        g.currency,
                        g.wallet_id,
                        g.wallet_name,
                        g.type,
                        g.status,
                        g.before_period,
                        g.import_id,
                    ): (
                        (Decimal(g.amount), _places(g.amount)),
                        (Decimal(g.fee), _places(g.fee)),
                        g.count,
                        g.latest_at,
                    )
                    for g in group_totals(store, starts)
                }
                assert totals == _expected_totals(records, starts), starts
    assert len(records) > 10


def _as_before_the_day_sums(store: Store) -> None:
    """Make the store one the release before the day sums left (migration 0007), and
    before what came after it (the columns of 0008 to 0011)."""
    with store.write() as conn:
        conn.execute("DROP TABLE record_sums")
        conn.execute("ALTER TABLE imports DROP COLUMN dates_only_zone")
        conn.execute("ALTER TABLE quarantine DROP COLUMN reference")
        conn.execute("ALTER TABLE quarantine DROP COLUMN corrected_by")
        for column in ("undone_at", "undone_by", "undo_note"):
            conn.execute(f"ALTER TABLE imports DROP COLUMN {column}")
        conn.execute("ALTER TABLE runs DROP COLUMN store_state")
        if store.server:
            conn.execute(
                "DELETE FROM reconcile_migrations WHERE name IN ('0007_record_sums',"
                " '0008_dates_only', '0009_quarantine_references', '0010_undone_imports',"
                " '0011_run_store_state')"
            )
        else:
            conn.execute("PRAGMA user_version = 6")


def test_an_upgrade_sums_the_records_an_earlier_release_stored(db_path, tmp_path):
    rng = random.Random(99)
    files = _imports(tmp_path, rng)
    with Workspace(load_settings(environ={}), db_path=db_path, clock=lambda: PAGE_CLOCK) as work:
        work.import_files(files)
        _as_before_the_day_sums(work.store)
    with Store(db_path) as store:
        records = _stored(store)
        kept = _kept(store)
    assert len(records) > 10
    assert kept == _expected_days(records)
