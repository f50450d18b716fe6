"""One rule book: the row parser decides what a record may be, and the fast path only
takes a strict subset of it with exactly the same result.

The rows here are mostly valid, the way real exports are (every day 1..31 of every month,
leap years, edge times, amounts with up to two places more than their currency's scale,
fees at and above the amount), so that most files really go through the fast path: the
differential test counts how many do and fails when too few would prove anything.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile_tui import money
from reconcile_tui.errors import BadFile
from reconcile_tui.ingest import fast
from reconcile_tui.ingest.importer import import_file
from reconcile_tui.ingest.rows import RowParser
from reconcile_tui.store.db import Store
from reconcile_tui.times import TimeError, format_utc, parse_record_time
from reconcile_tui.vocabulary import STATUS_WORDS, TYPE_WORDS
from tests.conftest import DEFAULT_HEADER, PAGE_CLOCK, WALLET_A, WALLET_B

HEADER = DEFAULT_HEADER.strip().split(",")

#: Scales the gateway prints for currencies the product does not know.
PRINTED = {"TOK2": 2, "TOKSIX": 6, "DOGE": 8, "TOK20": 20, "TOK24": 24}
#: Currencies with a non-empty scale: known (ETH 18, BTC 8, USDT* 6), printed, neither (18).
CURRENCIES = ["ETH", "BTC", "USDTERC20", "USDCTRC20", *PRINTED, "XYZ"]


def scale_of(code: str) -> int:
    return money.scale_for(code.strip().upper(), PRINTED)


def now_and_then(draw: st.DrawFn, one_in: int) -> bool:
    """True about once in `one_in` draws (a middle value: Hypothesis favours the ends)."""
    return draw(st.integers(1, one_in)) == one_in // 2


references = st.from_regex(r"[A-Za-z]{1,4}-[0-9]{1,8}", fullmatch=True)
wallets = st.sampled_from([WALLET_A, WALLET_B, WALLET_A.upper(), WALLET_B.upper(), "hot-wallet"])
kinds = st.sampled_from(sorted(w for w in TYPE_WORDS if w != "opening"))
statuses = st.sampled_from(sorted(STATUS_WORDS))
hashes = st.sampled_from(["", "0xabc", "0xABC"])


ODD_TIMES = [
    "1899-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "2999-12-31T23:59:59Z",
    "3000-01-01T00:00:00Z", "2024-00-10T10:00:00Z", "2024-13-10T10:00:00Z",
    "2024-06-00T10:00:00Z", "2024-06-32T10:00:00Z", "2024-06-01T24:00:00Z",
    "2024-06-01T10:00:60Z", "2024-06-01T10:00:00", "2024-06-01T10:00:00+00:00",
    "2024-06-01T12:00:00+05:30", "2024-06-01T10:00:00.5Z", " 2024-06-01T10:00:00Z",
    "2024-06-01 10:00:00Z", "2025-01-16T10:00:00Z", "2025-01-16T10:00:01Z",
    "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00",
]  # fmt: skip


@st.composite
def times(draw: st.DrawFn) -> str:
    """Every day 1..31 of every month (real dates and unreal ones), leap years and not,
    every hour, minute and second of a day, in the canonical shape; the end of February
    and the ends of a day more often than chance; now and then an odd one."""
    if now_and_then(draw, 40):
        return draw(st.sampled_from(ODD_TIMES))
    year = draw(st.sampled_from([1900, 1904, 1999, 2000, 2023, 2024]))
    month, day = draw(st.integers(1, 12)), draw(st.integers(1, 31))
    if now_and_then(draw, 10):  # the end of February, leap year or not
        month, day = 2, draw(st.integers(28, 31))
    hour = draw(st.one_of(st.integers(0, 23), st.sampled_from([0, 23])))
    minute = draw(st.one_of(st.integers(0, 59), st.sampled_from([0, 59])))
    second = draw(st.one_of(st.integers(0, 59), st.sampled_from([0, 59])))
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"


@st.composite
def amounts(draw: st.DrawFn, scale: int) -> str:
    """A positive amount with up to `scale` places."""
    whole = draw(st.one_of(st.integers(1, 10**6), st.integers(1, 10**money.MAX_WHOLE_DIGITS - 1)))
    places = draw(st.integers(0, scale))
    digits = draw(st.text("0123456789", min_size=places, max_size=places))
    return f"{whole}.{digits}" if places else str(whole)


#: What goes wrong in real exports, one field at a time (index in the row, the odd value).
ODD: dict[int, list[str]] = {
    0: [" padded ", "tab\tinside", "ümlaut-1", "", "a,b"],
    1: ODD_TIMES,
    2: ["eth", " BTC", "X", "", "US DT"],
    3: ["Hot-Wallet", " padded", "", "x\u00c4"],
    4: ["Deposit", " payout", "opening", "refund", ""],
    5: ["0", "0.000", "007.50", "5.", ".5", "1e5", "1,5", "-3", " 1.5", "1" * 31, "1" * 30],
    6: ["-1", "0.0", "00", " 0", "5."],
    7: ["Completed", "settled", " pending", ""],
    8: [" 0xabc", "tx 1"],
}


@st.composite
def records(draw: st.DrawFn) -> tuple[str, ...]:
    """A valid-looking row (its date may still be unreal, its fee above its amount, its
    amount with two places more than its currency's scale); one in thirty has one field
    the way real exports get it wrong."""
    currency = draw(st.sampled_from(CURRENCIES))
    scale = scale_of(currency)
    amount = draw(amounts(scale))
    # Now and then places past the scale: zeros go in, other digits do not.
    extra = draw(st.sampled_from(["0", "00", "1", "01"])) if now_and_then(draw, 20) else ""
    if "." in amount or not extra:
        amount += extra
    else:
        amount += "." + "0" * scale + extra
    if now_and_then(draw, 20):
        fee = draw(amounts(scale))  # as often above the amount as below it
    else:
        fee = draw(
            st.one_of(
                st.sampled_from(["", "0", amount]),
                st.text("0123456789", min_size=1, max_size=max(scale, 1)).map(
                    lambda digits: f"0.{digits}" if scale else "0"
                ),
            )
        )
    row = [
        draw(references), draw(times()), currency, draw(wallets), draw(kinds),
        amount, fee, draw(statuses), draw(hashes),
    ]  # fmt: skip
    if now_and_then(draw, 30):
        field = draw(st.sampled_from(sorted(ODD)))
        row[field] = draw(st.sampled_from(ODD[field]))
    return tuple(row)


def write(path: Path, body: list[tuple[str, ...]]) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([HEADER, *body])
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


class Outcome:
    """One import of one file: the whole database afterwards, or the refusal."""

    def __init__(self, folder: Path, path: Path, *, careful: bool, quarantine: bool) -> None:
        self.fast_rows = 0  # rows its expressions took; the rest went through the parser
        self.staged_fast = False
        parsed = [0]
        real_parse = RowParser.parse
        real_stage = fast.stage_fast

        def counting_parse(parser: RowParser, fields: list[str]):  # type: ignore[no-untyped-def]
            parsed[0] += 1
            return real_parse(parser, fields)

        def watching_stage(*args, **kwargs):  # type: ignore[no-untyped-def]
            staged = real_stage(*args, **kwargs)
            self.staged_fast = True
            self.fast_rows = staged.rows_read - parsed[0]
            return staged

        RowParser.parse = counting_parse  # type: ignore[method-assign]
        fast.stage_fast = watching_stage
        try:
            with Store(folder / f"{'careful' if careful else 'fast'}.db") as store:
                try:
                    result = import_file(
                        store,
                        path,
                        now=PAGE_CLOCK,
                        careful=careful,
                        quarantine=quarantine,
                        validation_scales=PRINTED,
                    )
                    self.result: object = (
                        result.summary(),
                        [s for s in store.conn.iterdump() if "_sqlite_migrations" not in s],
                    )
                    self.stored = store.query(
                        "SELECT line, occurred_at, currency, amount, fee FROM records"
                    )
                except BadFile as refused:
                    self.result = ("refused", str(refused), [str(p) for p in refused.problems])
                    self.stored = []
        finally:
            RowParser.parse = real_parse  # type: ignore[method-assign]
            fast.stage_fast = real_stage


def in_a_folder(test: Callable[[Path], None]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        test(Path(folder))


def test_the_fast_path_stores_exactly_what_the_parser_does_on_mostly_valid_files():
    seen: Counter[str] = Counter()

    @settings(
        max_examples=300,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body=st.lists(records(), min_size=1, max_size=6), quarantine=st.booleans())
    def one_file(body: list[tuple[str, ...]], quarantine: bool) -> None:
        def run(folder: Path) -> None:
            path = folder / "records.csv"
            write(path, body)
            quick = Outcome(folder, path, careful=False, quarantine=quarantine)
            careful = Outcome(folder, path, careful=True, quarantine=quarantine)
            assert quick.result == careful.result
            seen["files"] += 1
            seen["rows"] += len(body)
            if quick.staged_fast:
                seen["files staged by the fast path"] += 1
                seen["rows in those files"] += len(body)
                seen["rows taken by its expressions"] += quick.fast_rows

        in_a_folder(run)

    one_file()
    print(dict(seen))
    # Most files must really go through the fast path, and most rows through its expressions, or
    # this test would prove nothing about it.
    assert seen["files staged by the fast path"] > seen["files"] / 2, dict(seen)
    assert seen["rows taken by its expressions"] > seen["rows"] / 3, dict(seen)
    assert seen["rows taken by its expressions"] > 0.8 * seen["rows in those files"], dict(seen)


def instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip())
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(record=records())
def test_a_row_imports_with_exactly_its_value_or_is_refused_with_a_reason_on_every_path(
    tmp_path_factory, record
):
    folder = tmp_path_factory.mktemp("rule-book")
    path = folder / "records.csv"
    write(path, [record])
    outcomes = [
        Outcome(folder, path, careful=careful, quarantine=False) for careful in (False, True)
    ]
    assert outcomes[0].result == outcomes[1].result
    for outcome in outcomes:
        if outcome.stored:
            [(line, occurred_at, currency, amount, fee)] = outcome.stored
            assert line == 2
            assert currency == record[2].strip().upper()
            assert Decimal(amount) == Decimal(record[5].strip())
            assert Decimal(fee) == Decimal(record[6].strip() or "0")
            assert money.places(Decimal(amount)) == money.storage_scale(currency, PRINTED)
            assert instant(occurred_at) == instant(record[1])
        else:
            refusal, message, problems = outcome.result  # type: ignore[misc]
            assert refusal == "refused"
            assert "1 bad row" in message
            [problem] = problems
            assert problem.startswith(f"{path}:2: ")
            assert len(problem) > len(f"{path}:2: ")


def test_the_fast_path_time_rule_is_the_parser_s_on_every_date_and_edge_time():
    """Exhaustively over the dates where calendars differ: what the fast path's expression
    takes is exactly what the parser reads back as the same text."""
    texts = [
        f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"
        for year in (1, 1899, 1900, 1904, 2000, 2023, 2024, 2100, 2999, 3000, 9999)
        for month in range(14)
        for day in range(33)
        for hour, minute, second in ((0, 0, 0), (23, 59, 59), (24, 0, 0), (12, 60, 0), (12, 0, 60))
    ]
    frame = pl.DataFrame({"c0": texts})
    taken = set(frame.filter(fast.real_time(pl.col("c0")))["c0"])
    read = set()
    for text in texts:
        try:
            if format_utc(parse_record_time(text)) == text:
                read.add(text)
        except TimeError:
            pass
    assert taken == read
    assert len(read) > len(texts) / 10  # the test itself holds real dates
