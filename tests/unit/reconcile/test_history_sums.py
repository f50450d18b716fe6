"""The records' history buckets: sums per span of bounds against the record-by-record walk.

On PostgreSQL the records between two consecutive bucket bounds come summed per type by the
server (docs/postgresql.md, "Speed"); SQLite sums them per hour when every bound is a whole
hour, and otherwise streams every record (docs/performance.md, "Check with transactions");
when every bound is a whole day, both add the day sums the imports keep (the daily cases).
All feed the same walk, so every bucket's figures must be the same text as when the walk
reads each record itself, on ledgers built to catch an off-by-one: records exactly on a
bound, a microsecond before one, before the period, on its end and after it, failed and
pending ones, and an opening balance inside the period.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest

from reconcile_tui.config import load_settings
from reconcile_tui.reconcile.books import BucketBooks, load_books
from reconcile_tui.store import ledger
from reconcile_tui.times import TimeError, format_utc, sql_bound
from reconcile_tui.workspace import Workspace
from tests.conftest import DEFAULT_HEADER, PAGE_CLOCK, SCENARIO, WALLET_A, WALLET_B

USDT = "USDTERC20"
MICROSECOND = timedelta(microseconds=1)


def _history(api_dir: Path, interval: str, period: str, starts: list[datetime]) -> None:
    """Rewrite the saved USDT history to buckets starting at `starts` (figures are the
    gateway's business: only the bounds matter to the records' side)."""
    path = api_dir / "history" / f"{USDT}.json"
    data = json.loads(path.read_text())
    template = data["history"][0]
    data["interval"], data["period"] = interval, period
    data["history"] = [{**template, "timestamp": format_utc(start)} for start in starts]
    path.write_text(json.dumps(data))


def _records(starts: list[datetime], step: timedelta) -> str:
    """A ledger that sits on and around every bound of the buckets starting at `starts`."""
    first, end = starts[0], starts[-1] + step
    rows: list[str] = []

    def row(
        kind: str, moment: datetime, amount: str, status: str = "confirmed", wallet: str = WALLET_A
    ) -> None:
        reference = f"R-{len(rows)}"
        shown = "" if kind == "opening" else status
        rows.append(
            f"{reference},{format_utc(moment)},{USDT},{wallet},{kind},{amount},0,{shown},\n"
        )

    row("deposit", first - timedelta(days=3), "1000")  # long before the period
    row("deposit", first - MICROSECOND, "7.000001")  # the last instant before it
    row("withdrawal", first - MICROSECOND, "2.5", status="pending")
    for index, start in enumerate(starts):
        row("deposit", start, f"{index + 1}.25")  # exactly on a bucket's start
        row("deposit", start, "0.5", status="pending")
        row("withdrawal", start + step / 2, f"0.{index + 1}")
        row("deposit", start + step / 3, "3", status="failed")  # moves nothing
        row("withdrawal", start + step - MICROSECOND, "0.000001")  # a bucket's last instant
        row("deposit", start + step / 2, "10.5", wallet=WALLET_B)
    row("deposit", end, "40")  # exactly on the period's end: after it
    row("deposit", end + step, "50", status="pending")
    # Wallet B opens inside the period: its records before the opening are inside it, and
    # buckets ending before it are not compared.
    row("opening", starts[2] + step / 4, "100", wallet=WALLET_B)
    row("deposit", starts[2] - MICROSECOND, "33", wallet=WALLET_B)
    return DEFAULT_HEADER + "".join(rows)


@contextmanager
def _one_by_one() -> Iterator[None]:
    """The walk reads every record itself: the store is given no bounds to sum between."""
    streamed = ledger.movements_between

    def every_record(store, currency, start, end, bounds=()):  # type: ignore[no-untyped-def]
        return streamed(store, currency, start, end)

    with mock.patch.object(ledger, "movements_between", every_record):
        yield


def _buckets(
    db: Path | str, api_dir: Path, csv: Path, *, one_by_one: bool = False
) -> tuple[list[tuple[str, ...]], int]:
    """Every bucket's figures as text, and how many movements the store handed over."""
    with Workspace(load_settings(environ={}), db_path=db, clock=lambda: PAGE_CLOCK) as workspace:
        workspace.import_files([csv])
        _, snapshot = workspace.load_saved_responses(api_dir)
        history = sorted(snapshot.histories[USDT].history, key=lambda bucket: bucket.timestamp)
        bounds = sorted(
            {bucket.timestamp for bucket in history}
            | {
                bucket.timestamp + (history[1].timestamp - history[0].timestamp)
                for bucket in history
            }
        )
        if one_by_one:
            with _one_by_one():
                books = load_books(workspace.store, snapshot, workspace.rules()).currency(USDT)
            bounds_given = []
        else:
            books = load_books(workspace.store, snapshot, workspace.rules()).currency(USDT)
            bounds_given = bounds
        handed_over = len(
            list(
                ledger.movements_between(
                    workspace.store,
                    USDT,
                    sql_bound(bounds[0]),
                    sql_bound(bounds[-1]),
                    bounds_given,
                )
            )
        )
    return [_shown(bucket) for bucket in books.buckets], handed_over


def _shown(bucket: BucketBooks) -> tuple[str, ...]:
    return (
        str(bucket.deposits),
        str(bucket.deposit_count),
        str(bucket.withdrawals),
        str(bucket.withdrawal_count),
        str(bucket.balance),
    )


DAILY = [datetime(2025, 1, 8, tzinfo=UTC) + timedelta(days=i) for i in range(7)]
HOURLY = [datetime(2025, 1, 14, 10, tzinfo=UTC) + timedelta(hours=i) for i in range(24)]
#: Bounds a quarter of a second past the second: the server compares instants, not text.
FRACTIONAL = [start + timedelta(milliseconds=250) for start in DAILY]


@pytest.mark.parametrize(
    ("interval", "period", "starts", "step"),
    [
        ("daily", "7d", DAILY, timedelta(days=1)),
        ("hourly", "24h", HOURLY, timedelta(hours=1)),
        ("daily", "7d", FRACTIONAL, timedelta(days=1)),
    ],
    ids=["daily", "hourly", "fractional-seconds"],
)
def test_the_servers_bucket_sums_equal_the_record_by_record_walk(
    tmp_path, postgres_url, interval, period, starts, step
):
    api_dir = tmp_path / "api"
    shutil.copytree(SCENARIO / "api_repaired", api_dir)
    _history(api_dir, interval, period, starts)
    csv = tmp_path / "records.csv"
    csv.write_text(_records(starts, step))

    walked, records_walked = _buckets(tmp_path / "reconcile.db", api_dir, csv, one_by_one=True)
    summed, sums_handed_over = _buckets(postgres_url, api_dir, csv)

    assert summed == walked  # bucket by bucket, figure by figure, as text
    # The server really summed: fewer movements came over than SQLite streamed.
    assert sums_handed_over < records_walked
    # And the walk itself is right (independent of either store): the first bucket holds
    # its start's records and its last instant's, not the ones a microsecond before it;
    # wallet B's opening makes the buckets ending before it unknowable.
    deposits, deposit_count, withdrawals, withdrawal_count, _ = walked[0]
    assert (Decimal(deposits), deposit_count) == (Decimal("12.25"), "3")
    assert (Decimal(withdrawals), withdrawal_count) == (Decimal("0.100001"), "2")
    assert walked[0][4] == walked[1][4] == "None"
    assert walked[2][4] != "None"
    # The last bucket ends before the deposit exactly on the period's end.
    assert Decimal(walked[-1][0]) == Decimal(f"{len(starts)}.25") + 11
    assert walked[-1][1] == "3"


#: Bounds on whole minutes that are not whole hours: SQLite cannot sum per hour.
MINUTES = [start + timedelta(minutes=30) for start in HOURLY]


def _scenario(
    tmp_path: Path, interval: str, period: str, starts: list[datetime]
) -> tuple[Path, Path]:
    api_dir = tmp_path / "api"
    shutil.copytree(SCENARIO / "api_repaired", api_dir)
    _history(api_dir, interval, period, starts)
    csv = tmp_path / "records.csv"
    csv.write_text(_records(starts, starts[1] - starts[0]))
    return api_dir, csv


@pytest.mark.parametrize(
    ("interval", "period", "starts"),
    [("daily", "7d", DAILY), ("hourly", "24h", HOURLY)],
    ids=["daily", "hourly"],
)
def test_sqlites_hourly_sums_equal_the_record_by_record_walk(tmp_path, interval, period, starts):
    api_dir, csv = _scenario(tmp_path, interval, period, starts)

    walked, records_walked = _buckets(tmp_path / "walked.db", api_dir, csv, one_by_one=True)
    summed, sums_handed_over = _buckets(tmp_path / "summed.db", api_dir, csv)

    assert summed == walked  # bucket by bucket, figure by figure, as text
    assert sums_handed_over < records_walked  # SQLite really summed
    deposits, deposit_count, withdrawals, withdrawal_count, _ = walked[0]
    assert (Decimal(deposits), deposit_count) == (Decimal("12.25"), "3")
    assert (Decimal(withdrawals), withdrawal_count) == (Decimal("0.100001"), "2")
    assert walked[0][4] == walked[1][4] == "None"  # before wallet B's opening
    assert walked[2][4] != "None"


@pytest.mark.parametrize(
    ("interval", "period", "starts"),
    [("hourly", "24h", MINUTES), ("daily", "7d", FRACTIONAL)],
    ids=["half-past", "fractional-seconds"],
)
def test_a_bound_that_is_not_a_whole_hour_makes_sqlite_stream_every_record(
    tmp_path, interval, period, starts
):
    api_dir, csv = _scenario(tmp_path, interval, period, starts)

    walked, records_walked = _buckets(tmp_path / "walked.db", api_dir, csv, one_by_one=True)
    summed, handed_over = _buckets(tmp_path / "summed.db", api_dir, csv)

    assert summed == walked
    assert handed_over == records_walked


def test_an_amount_sqlite_cannot_take_apart_makes_it_stream_every_record(tmp_path):
    """A record an older version stored as `+1.25` is read by the walk, not summed."""
    api_dir, csv = _scenario(tmp_path, "hourly", "24h", HOURLY)
    odd_csv = tmp_path / "odd.csv"
    odd_csv.write_text(csv.read_text())
    summed, handed_over = _buckets(tmp_path / "summed.db", api_dir, csv)

    walked: list[tuple[str, ...]] = []
    with Workspace(
        load_settings(environ={}), db_path=tmp_path / "odd.db", clock=lambda: PAGE_CLOCK
    ) as workspace:
        workspace.import_files([odd_csv])
        with workspace.store.write() as conn:
            changed = conn.execute(
                "UPDATE records SET amount = '+' || amount WHERE reference = 'R-3'"
            ).rowcount
        _, snapshot = workspace.load_saved_responses(api_dir)
        books = load_books(workspace.store, snapshot, workspace.rules()).currency(USDT)
        walked = [_shown(bucket) for bucket in books.buckets]
        bounds = [HOURLY[0], *(start + timedelta(hours=1) for start in HOURLY)]
        streamed = list(
            ledger.movements_between(
                workspace.store, USDT, sql_bound(bounds[0]), sql_bound(bounds[-1]), bounds
            )
        )

    assert changed == 1
    assert walked == summed  # +1.25 is 1.25 to the walk
    assert len(streamed) > handed_over  # every record, one by one
    assert "+1.250000" in {movement.amount for movement in streamed}


def test_an_hours_sum_beyond_sqlites_integers_makes_it_stream_every_record(tmp_path):
    """Ten deposits of 18 nines in one hour: their integer parts overflow 64 bits."""
    api_dir, csv = _scenario(tmp_path, "hourly", "24h", HOURLY)
    huge = "".join(
        f"HUGE-{n},{format_utc(HOURLY[3] + timedelta(minutes=n))},{USDT},{WALLET_A},"
        f"deposit,{'9' * 18}.5,0,confirmed,\n"
        for n in range(10)
    )
    csv.write_text(csv.read_text() + huge)

    walked, records_walked = _buckets(tmp_path / "walked.db", api_dir, csv, one_by_one=True)
    summed, handed_over = _buckets(tmp_path / "summed.db", api_dir, csv)

    assert summed == walked
    assert handed_over == records_walked
    assert Decimal(walked[3][0]) > 10 * Decimal("9" * 18)


def test_a_stored_minute_past_59_fails_the_hourly_sums_as_it_fails_the_walk(tmp_path):
    """The hour's latest time is read like each record's: an impossible one is refused."""
    api_dir, csv = _scenario(tmp_path, "hourly", "24h", HOURLY)
    failures: list[str] = []
    for one_by_one in (True, False):
        db = tmp_path / f"{one_by_one}.db"
        with Workspace(load_settings(environ={}), db_path=db, clock=lambda: PAGE_CLOCK) as work:
            work.import_files([csv])
            with work.store.write() as conn:
                conn.execute(
                    "UPDATE records SET occurred_at = ? WHERE reference = 'R-5'",
                    (format_utc(HOURLY[0])[:14] + "61:00Z",),
                )
            _, snapshot = work.load_saved_responses(api_dir)
            walk = _one_by_one() if one_by_one else nullcontext()
            with walk, pytest.raises(TimeError) as failure:
                load_books(work.store, snapshot, work.rules())
            failures.append(str(failure.value))

    assert failures[0] == failures[1]
    assert "61:00Z" in failures[0]
