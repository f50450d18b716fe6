"""The fast path of an import: stage raw fields at C speed, validate them set-wise in SQL.

Validating a million rows one by one in Python costs ten times what reading and storing
them does. Most exports are plain: ISO times in UTC, dot-decimal amounts, our own words.
So the file is first stored as raw text (csv.reader -> executemany, the speed floor), and
one SQL statement recognises the rows of that plain shape and writes their canonical form.

The Python row parser stays the single judge of what is valid: SQL only accepts a strict
subset that the parser would accept with the same result (a differential test holds them
together), and every other row is handed to the parser. Whenever anything is actually
wrong (a bad row, an undecodable byte, a ragged row), the fast path gives up with
`NotFast` and the careful reader redoes the file, reporting each problem with its line.
"""

from __future__ import annotations

import calendar
import codecs
import csv
import hashlib
import io
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, Final

from reconcile_tui import money
from reconcile_tui.ingest.mapping import Mapping as Layout
from reconcile_tui.ingest.reader import LINE_SIZE_LIMIT
from reconcile_tui.ingest.rows import _UUID, CURRENCY_CODE, FUTURE_GRACE, RowError, RowParser
from reconcile_tui.store import imports as staging
from reconcile_tui.times import EARLIEST, LATEST, format_utc
from reconcile_tui.vocabulary import STATUS_WORDS, TYPE_WORDS, RecordType

__all__ = ["FastStaged", "NotFast", "eligible", "stage_fast"]

_REQUIRED: Final = ("reference", "occurred_at", "currency", "wallet_id", "type", "amount", "status")


#: The parser's UUID pattern as a GLOB: each `[class]{n}` written out n times.
_UUID_GLOB: Final = re.sub(r"(\[[^]]+\])\{(\d+)\}", lambda m: m[1] * int(m[2]), _UUID.pattern)


class NotFast(Exception):
    """This file needs the careful reader; the message says why (for the debug log)."""


@dataclass(frozen=True)
class FastStaged:
    rows_read: int
    sha256: str
    bytes_read: int


def eligible(layout: Layout) -> bool:
    """Whether a layout writes only the plain shapes the fast path recognises."""
    csv_format = layout.csv
    return (
        layout.plain
        and not layout.values
        and not layout.defaults
        and not layout.amount.signed
        and not csv_format.decimal_comma
        and csv_format.thousands_separator is None
        and csv_format.date_format is None
        and csv_format.timezone.upper() in {"UTC", "Z"}
        and all(layout.column(field) for field in _REQUIRED)
    )


_LONE_CR: Final = re.compile(rb"\r(?!\n)")


class _Watched(io.RawIOBase):
    """The file's bytes on their way to the decoder: hashed, counted, and checked for what
    the fast path cannot take (NUL bytes; a carriage return that is not part of CRLF,
    which Python's text layer would count as a line break and the careful reader not; a
    line longer than the careful reader's limit, which the text layer would hold whole)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.sha256 = hashlib.sha256()
        self.bytes_read = 0
        self._ends_with_cr = False
        self._since_line_feed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._stream.readinto(buffer)  # type: ignore[attr-defined]
        if not count:
            if self._ends_with_cr:
                raise NotFast("a carriage return without a line feed")
            return 0
        block = bytes(memoryview(buffer)[:count])
        self.sha256.update(block)
        self.bytes_read += count
        if b"\x00" in block:
            raise NotFast("a NUL byte")
        if self._ends_with_cr and not block.startswith(b"\n"):
            raise NotFast("a carriage return without a line feed")
        if _LONE_CR.search(block[:-1] if block.endswith(b"\r") else block):
            raise NotFast("a carriage return without a line feed")
        self._ends_with_cr = block.endswith(b"\r")
        line_feed = block.rfind(b"\n")
        self._since_line_feed = (
            self._since_line_feed + count if line_feed < 0 else count - line_feed - 1
        )
        if self._since_line_feed > LINE_SIZE_LIMIT:
            # The text layer would hold the whole line: the careful reader bounds it.
            raise NotFast("a line longer than the limit")
        return int(count)


def _text(stream: BinaryIO, encoding: str) -> tuple[_Watched, io.TextIOWrapper]:
    start = stream.read(4)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise NotFast("a UTF-16 byte order mark")
    if start.startswith(codecs.BOM_UTF8) and encoding != "utf-8":
        raise NotFast("a UTF-8 byte order mark in a file declared otherwise")
    stream.seek(0)
    watched = _Watched(stream)
    # utf-8-sig drops a leading byte order mark, as the careful reader does.
    text = io.TextIOWrapper(
        io.BufferedReader(watched, 1 << 20),
        encoding="utf-8-sig" if encoding == "utf-8" else encoding,
        errors="strict",
        newline="",
    )
    return watched, text


def _q(name: str) -> str:
    return f'"{name}"'


def _whole(text: str, dot: str) -> str:
    """SQL for the integer part of a plain amount, without leading zeros ("0" at least)."""
    part = f"(CASE WHEN {dot} THEN substr({text}, 1, {dot} - 1) ELSE {text} END)"
    return f"coalesce(nullif(ltrim({part}, '0'), ''), '0')"


def _fraction(text: str, dot: str) -> str:
    """SQL for the digits after the point of a plain amount ('' without one)."""
    return f"(CASE WHEN {dot} THEN substr({text}, {dot} + 1) ELSE '' END)"


def _joined(whole: str, fraction: str, scale: str) -> str:
    """SQL for the canonical text of an amount from its parts, at `scale` places."""
    padded = f"substr({fraction} || '{'0' * money.MAX_PLACES}', 1, {scale})"
    return f"{whole} || CASE WHEN {scale} > 0 THEN '.' || {padded} ELSE '' END"


def _places(text: str, dot: str) -> str:
    return f"(CASE WHEN {dot} THEN length({text}) - {dot} ELSE 0 END)"


def _plain_amount(column: str) -> str:
    """Digits, at most one dot, digits on both sides of it (what NumberStyle() accepts)."""
    return (
        f"({column} GLOB '[0-9]*' AND {column} NOT GLOB '*[^0-9.]*'"
        f" AND {column} NOT GLOB '*.*.*' AND {column} NOT GLOB '*.')"
    )


def _whole_digits(text: str, dot: str) -> str:
    """SQL for how many digits a plain amount has before its point, leading zeros counted:
    a text with more than money allows, even if only by its zeros, goes to the parser."""
    return f"(CASE WHEN {dot} THEN {dot} - 1 ELSE length({text}) END)"


#: The one shape of a time the fast path takes: what `times.format_utc` writes for a whole
#: second (each digit a `[0-9]`), so the stored text is the text read. Anything else goes
#: to the parser.
_TIME_SHAPE: Final = re.sub(r"[0-9]", "[0-9]", format_utc(EARLIEST))

#: Months shorter than 31 days, from the calendar module (February apart: leap years).
_SHORT_MONTHS: Final = {
    month: days
    for month in range(1, 13)
    if month != 2 and (days := calendar.monthrange(2001, month)[1]) < 31
}


def _real_time(when: str) -> str:
    """SQL that holds for a real calendar date and time of `_TIME_SHAPE` within the years
    the product holds: plain text and integer arithmetic on the digits, nothing that
    depends on how SQLite was built (its date functions echo `2024-02-30` on some)."""
    month, day, hour, minute, second = (
        f"substr({when}, {start}, 2)" for start in (6, 9, 12, 15, 18)
    )
    year = f"CAST(substr({when}, 1, 4) AS INTEGER)"
    leap = f"({year} % 4 = 0 AND ({year} % 100 <> 0 OR {year} % 400 = 0))"
    short = " ".join(f"WHEN '{m:02d}' THEN '{d:02d}'" for m, d in sorted(_SHORT_MONTHS.items()))
    february = f"(CASE WHEN {leap} THEN '29' ELSE '28' END)"
    last_day = f"(CASE {month} WHEN '02' THEN {february} {short} ELSE '31' END)"
    return (
        f"{when} GLOB '{_TIME_SHAPE}'"
        f" AND {month} BETWEEN '01' AND '12'"
        f" AND {hour} < '24' AND {minute} < '60' AND {second} < '60'"
        f" AND {day} >= '01' AND {day} <= {last_day}"
        f" AND {when} >= '{format_utc(EARLIEST)}' AND {when} < '{format_utc(LATEST)}'"
    )


def _case(column: str, words: Mapping[str, str]) -> str:
    branches = " ".join(f"WHEN '{word}' THEN '{value}'" for word, value in sorted(words.items()))
    return f"(CASE {column} {branches} END)"


def _words(words: Mapping[str, object], skip: set[str] | None = None) -> dict[str, str]:
    # Only exact lower-case words: anything else ("Completed", " paid") goes to the parser.
    return {
        word: str(value)
        for word, value in words.items()
        if word.isascii() and "'" not in word and str(value) not in (skip or set())
    }


def _fast_select(columns: Mapping[str, int]) -> str:
    """The SELECT of the canonical form of every plain-shaped row of `temp.staged_raw`."""

    def column(field: str) -> str | None:
        return _q(f"c{columns[field]}") if field in columns else None

    found = [column(field) for field in _REQUIRED]
    if not all(found):
        raise NotFast("a required column is missing")
    ref, when, cur, wid, kind, amt, state = (str(name) for name in found)
    name, fee, tx = column("wallet_name"), column("fee"), column("tx_hash")

    types = _words(TYPE_WORDS, skip={RecordType.OPENING.value})
    statuses = _words(STATUS_WORDS)

    def trimmed(col: str) -> str:
        # Printable ASCII at both ends: nothing str.strip() would remove (a value with
        # anything else there is left to the parser).
        return f"substr({col}, 1, 1) BETWEEN '!' AND '~' AND substr({col}, -1) BETWEEN '!' AND '~'"

    fee_text = f"coalesce(nullif({fee}, ''), '0')" if fee else "'0'"
    shape = [
        f"{ref} <> '' AND {trimmed(ref)}",
        _real_time(when),
        f"{when} <= :latest",
        f"{wid} <> '' AND {trimmed(wid)}",
        # The parser lower-cases UUIDs only: take ids already in lower case, and UUIDs.
        f"({wid} = lower({wid}) OR {wid} GLOB '{_UUID_GLOB}')",
        f"{kind} IN ({', '.join(repr(w) for w in sorted(types))})",
        f"{state} IN ({', '.join(repr(w) for w in sorted(statuses))})",
    ]
    if name:
        shape.append(f"{name} = ''")
    if tx:
        shape.append(f"({tx} = '' OR {trimmed(tx)})")
    amounts = [
        f"{_plain_amount('a')} AND a GLOB '*[1-9]*' AND {_places('a', 'ad')} <= v",
        f"{_plain_amount('f')} AND {_places('f', 'fd')} <= v",
        f"{_whole_digits('a', 'ad')} <= {money.MAX_WHOLE_DIGITS}",
        f"{_whole_digits('f', 'fd')} <= {money.MAX_WHOLE_DIGITS}",
    ]
    # Nested co-routines (LIMIT -1 OFFSET 0 keeps SQLite from flattening them), so that
    # each text, decimal point and canonical amount is computed once per row, not once per
    # use: the row's shape, then its amounts, then fee <= amount.
    canonical_amount = _joined(_whole("a", "ad"), _fraction("a", "ad"), "s")
    canonical_fee = _joined(_whole("f", "fd"), _fraction("f", "fd"), "s")
    return f"""
        SELECT line, reference, occurred_at, currency, wallet_id, NULL, type, amount, fee,
               status, tx_hash
        FROM (
            SELECT line, reference, occurred_at, currency, wallet_id, type, status, tx_hash,
                   {canonical_amount} AS amount, {canonical_fee} AS fee
            FROM (
                SELECT r.line AS line, {ref} AS reference, {when} AS occurred_at,
                       {cur} AS currency, lower({wid}) AS wallet_id,
                       {_case(kind, types)} AS type, {_case(state, statuses)} AS status,
                       {f"nullif({tx}, '')" if tx else "NULL"} AS tx_hash,
                       sc.validate AS v, sc.store AS s,
                       {amt} AS a, {fee_text} AS f,
                       instr({amt}, '.') AS ad, instr({fee_text}, '.') AS fd
                FROM temp.staged_raw r JOIN temp.staged_scales sc ON sc.currency = {cur}
                WHERE {" AND ".join(f"({condition})" for condition in shape)}
                ORDER BY r.line LIMIT -1 OFFSET 0
            )
            WHERE {" AND ".join(f"({condition})" for condition in amounts)}
            LIMIT -1 OFFSET 0
        )
        -- fee <= amount: both at the store scale, so compare lengths, then the texts.
        WHERE length(fee) < length(amount) OR (length(fee) = length(amount) AND fee <= amount)"""


def stage_fast(
    conn: sqlite3.Connection,
    stream: BinaryIO,
    layout: Layout,
    *,
    path: str,
    parser_for: Callable[[list[str]], RowParser],
    validation_scales: Mapping[str, int],
    now: datetime,
    on_rows: Callable[[int, int], None] | None = None,
) -> FastStaged:
    """Stage the whole file into `temp.staged`, or raise NotFast (nothing to undo then:
    the caller prepares fresh staging tables for the careful reader)."""
    watched, text = _text(stream, layout.csv.encoding)
    reader = csv.reader(
        text, delimiter=layout.csv.delimiter, quotechar=layout.csv.quotechar, strict=True
    )
    try:
        header = next(reader)
    except (StopIteration, csv.Error, UnicodeDecodeError) as error:
        raise NotFast(f"no readable header ({error})") from None
    parser = parser_for(header)  # a bad header raises BadFile here, as it would later
    width = len(header)
    columns = ", ".join(f"c{i}" for i in range(width))
    conn.execute("DROP TABLE IF EXISTS temp.staged_raw")
    conn.execute(f"CREATE TEMP TABLE staged_raw (line INTEGER PRIMARY KEY, {columns})")

    counted = [0]

    def numbered() -> Iterator[list[str]]:
        start = reader.line_num + 1
        for row in reader:
            if row:  # a blank line is not a record
                if len(row) != width:
                    raise NotFast("a row with the wrong number of fields")
                counted[0] += 1
                if on_rows is not None and counted[0] % 5_000 == 0:
                    on_rows(counted[0], watched.bytes_read)
                row.insert(0, start)  # type: ignore[arg-type]
                yield row
            start = reader.line_num + 1

    placeholders = ", ".join("?" * (width + 1))
    conn.execute("BEGIN")
    try:
        conn.executemany(f"INSERT INTO staged_raw VALUES ({placeholders})", numbered())
    except csv.Error as error:
        raise NotFast(f"malformed CSV ({error})") from None
    except UnicodeDecodeError:
        raise NotFast("an undecodable byte") from None
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
    rows_read = counted[0]
    if on_rows is not None:
        on_rows(rows_read, watched.bytes_read)

    _stage_scales(conn, parser.columns["currency"], validation_scales)
    select = _fast_select(parser.columns)
    latest = format_utc((now + FUTURE_GRACE).replace(microsecond=0))
    parameters = {"latest": latest}
    conn.execute("BEGIN")
    conn.execute(f"INSERT INTO staged {select}", parameters)
    others = conn.execute(
        "SELECT r.* FROM temp.staged_raw r WHERE r.line NOT IN (SELECT line FROM temp.staged)"
    ).fetchall()
    try:
        staged_rows = [(row[0], *parser.parse([str(v) for v in row[1:]])) for row in others]
    except RowError as error:
        conn.execute("ROLLBACK")
        raise NotFast(f"a bad row ({error})") from None
    staging.stage_records(conn, staged_rows)
    conn.execute("COMMIT")
    return FastStaged(rows_read, watched.sha256.hexdigest(), watched.bytes_read)


def _stage_scales(conn: sqlite3.Connection, index: int, printed: Mapping[str, int]) -> None:
    """The currencies present (column `index`), each with the places it may have and the
    places it is stored with; only canonical codes, so others go to the parser."""
    codes = [row[0] for row in conn.execute(f"SELECT DISTINCT c{index} FROM temp.staged_raw")]
    conn.execute("DROP TABLE IF EXISTS temp.staged_scales")
    conn.execute(
        "CREATE TEMP TABLE staged_scales (currency TEXT PRIMARY KEY, validate INT, store INT)"
    )
    conn.executemany(
        "INSERT INTO staged_scales VALUES (?, ?, ?)",
        [
            (code, money.scale_for(code, printed), money.storage_scale(code, printed))
            for code in codes
            if isinstance(code, str) and CURRENCY_CODE.fullmatch(code)
        ],
    )
