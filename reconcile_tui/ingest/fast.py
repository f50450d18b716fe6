"""The fast path of an import: the plain rows of a file recognised by column expressions.

Validating a million rows one by one in Python costs ten times what reading and storing
them does. Most exports are plain: ISO times in UTC, dot-decimal amounts, our own words.
So the file is read in blocks of whole lines; each block becomes a column of lines that
polars splits into fields and checks with the rule book's plain shapes as expressions,
writing each plain row's canonical form at once. Every other row goes to the row parser.

The Python row parser stays the single judge of what is valid: the expressions only accept
a strict subset that the parser would accept with the same result (a differential test
holds them together row by row, docs/money.md), and every other row is handed to the
parser. Whenever anything is actually wrong (a bad row, an undecodable byte, a ragged row,
a field that spans lines), the fast path gives up with `NotFast` and the careful reader
redoes the file, reporting each problem with its line.

A line is a row here: a field holding a line break gives up (the careful reader counts its
lines), so a row's line number is its position among the file's lines.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Final

import polars as pl

from reconcile_tui import money
from reconcile_tui.ingest.mapping import Layout
from reconcile_tui.ingest.reader import FIELD_SIZE_LIMIT
from reconcile_tui.ingest.rows import _UUID, CURRENCY_CODE, FUTURE_GRACE, RowError, RowParser
from reconcile_tui.store import imports as staging
from reconcile_tui.store.db import Connection
from reconcile_tui.times import EARLIEST, LATEST, format_utc
from reconcile_tui.vocabulary import MAX_KEY, STATUS_WORDS, TYPE_WORDS, RecordType

__all__ = ["FastStaged", "NotFast", "eligible", "real_time", "stage_fast"]

_REQUIRED: Final = ("reference", "occurred_at", "currency", "wallet_id", "type", "amount", "status")

#: Bytes read per block (whole lines): bounds memory, and how often progress is reported.
BLOCK_BYTES: Final = 1 << 20


#: The staged rows' columns: the line, then the record's fields as canonical text.
_STAGED_SCHEMA: Final = [
    ("line", pl.Int64),
    *((name, pl.String) for name in staging.RECORD_COLUMNS),
]


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
        and codecs.lookup(csv_format.encoding).name == "utf-8"
        and all(layout.column(field) for field in _REQUIRED)
    )


_LONE_CR: Final = re.compile(rb"\r(?!\n)")


class _Blocks:
    """The file's bytes in blocks of whole lines, each with the number of its first line:
    hashed, counted, and checked for what the fast path cannot take (a NUL byte; a
    carriage return that is not part of CRLF, which the careful reader would not count as
    a line break; a line longer than the careful reader's limit; a byte that is not UTF-8;
    a UTF-16 byte order mark)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.sha256 = hashlib.sha256()
        self.bytes_read = 0

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        rest = b""
        line = 1
        first = True
        while True:
            data = self._stream.read(BLOCK_BYTES)
            self.sha256.update(data)
            self.bytes_read += len(data)
            if first:
                first = False
                if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    raise NotFast("a UTF-16 byte order mark")
                data = data.removeprefix(codecs.BOM_UTF8)  # as the careful reader does
            block = rest + data
            end = len(block) if not data else block.rfind(b"\n") + 1
            whole, rest = block[:end], block[end:]
            if len(rest) > FIELD_SIZE_LIMIT:
                raise NotFast("a line longer than a field may be")
            if whole:
                _check(whole)
                yield line, whole
                line += whole.count(b"\n")
            if not data:
                return


def _check(whole: bytes) -> None:
    if b"\x00" in whole:
        raise NotFast("a NUL byte")
    if _LONE_CR.search(whole):
        raise NotFast("a carriage return without a line feed")
    try:
        whole.decode("utf-8")
    except UnicodeDecodeError:
        raise NotFast("an undecodable byte") from None
    if max(map(len, whole.split(b"\n"))) > FIELD_SIZE_LIMIT:
        # A field longer than the careful reader's limit is a bad row there: such a line
        # is left to it (`reader.FIELD_SIZE_LIMIT`).
        raise NotFast("a line longer than a field may be")


# -- the rule book's plain shapes, as column expressions --------------------------------

#: The one shape of a time the fast path takes: what `times.format_utc` writes for a whole
#: second, so the stored text is the text read. Anything else goes to the parser.
_TIME_SHAPE: Final = "^" + re.sub(r"[0-9]", "[0-9]", format_utc(EARLIEST)) + "$"
_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"

_AMOUNT_SHAPE: Final = r"^[0-9]+(\.[0-9]+)?$"  # what NumberStyle() accepts, unsigned
_UUID_SHAPE: Final = "^" + _UUID.pattern + "$"


def real_time(when: pl.Expr) -> pl.Expr:
    """True for a real calendar date and time of `_TIME_SHAPE` within the years the
    product holds: the strict parse is null for a date the calendar does not have, and
    hours, minutes and seconds are held below 24 and 60 by their digits (no leap second)."""
    parsed = when.str.strptime(pl.Datetime("us"), _TIME_FORMAT, strict=False)
    return (
        when.str.contains(_TIME_SHAPE)
        & parsed.is_not_null()
        & (when.str.slice(11, 2) < "24")
        & (when.str.slice(14, 2) < "60")
        & (when.str.slice(17, 2) < "60")
        & (when >= format_utc(EARLIEST))
        & (when < format_utc(LATEST))
    )


def _trimmed(text: pl.Expr) -> pl.Expr:
    """Printable ASCII at both ends: not empty, and nothing `str.strip()` would remove."""
    return text.str.slice(0, 1).is_between(pl.lit("!"), pl.lit("~")) & text.str.slice(
        -1, 1
    ).is_between(pl.lit("!"), pl.lit("~"))


def _places(text: pl.Expr) -> pl.Expr:
    """Digits after the point of a plain amount (0 without one)."""
    return (
        text.str.len_bytes()
        - text.str.find(".", literal=True).fill_null(text.str.len_bytes() - 1)
        - 1
    )


def _whole_digits(text: pl.Expr) -> pl.Expr:
    """Digits before the point of a plain amount, leading zeros counted: a text with more
    than money allows, even if only by its zeros, goes to the parser."""
    return text.str.find(".", literal=True).fill_null(text.str.len_bytes())


def _canonical(text: pl.Expr, scale: pl.Expr) -> pl.Expr:
    """The canonical text of a plain amount at `scale` places (never fewer than it has:
    places were held to the validation scale, which the storage scale never is below)."""
    dot = _whole_digits(text)
    whole = text.str.slice(0, dot).str.strip_chars_start("0")
    whole = pl.when(whole == "").then(pl.lit("0")).otherwise(whole)
    fraction = text.str.slice(dot + 1)
    padded = (fraction + "0" * money.MAX_PLACES).str.slice(0, scale)
    return pl.when(scale > 0).then(whole + "." + padded).otherwise(whole)


def _words(words: Mapping[str, object], skip: set[str] | None = None) -> dict[str, str]:
    # Only exact lower-case words: anything else ("Completed", " paid") goes to the parser.
    return {word: str(value) for word, value in words.items() if str(value) not in (skip or set())}


_TYPES: Final = _words(TYPE_WORDS, skip={RecordType.OPENING.value})
_STATUSES: Final = _words(STATUS_WORDS)


def _plain(columns: Mapping[str, int], latest: str) -> tuple[pl.Expr, list[pl.Expr]]:
    """The condition for a plain row, and its staged columns (line, reference, ...)."""

    def column(field: str) -> pl.Expr | None:
        return pl.col(f"c{columns[field]}") if field in columns else None

    found = [column(field) for field in _REQUIRED]
    required = [expression for expression in found if expression is not None]
    if len(required) != len(found):
        raise NotFast("a required column is missing")
    ref, when, cur, wid, kind, amt, state = required
    name, fee_column, tx = column("wallet_name"), column("fee"), column("tx_hash")
    fee = (
        pl.when(fee_column == "").then(pl.lit("0")).otherwise(fee_column)
        if fee_column is not None
        else pl.lit("0")
    )
    validate, store = pl.col("validate"), pl.col("store")
    is_uuid = wid.str.contains(_UUID_SHAPE)
    # A wallet is named by its id, its name, or both: each empty or with nothing to strip.
    named = name.pipe(_trimmed) if name is not None else pl.lit(False)
    plain = [
        ref.pipe(_trimmed),
        # Longer keys are the parser's to refuse (`rows.RecordParser.parse`).
        ref.str.len_chars() <= MAX_KEY,
        wid.str.len_chars() <= MAX_KEY,
        real_time(when),
        when <= latest,
        wid.pipe(_trimmed) | ((wid == "") & named),
        # The parser lower-cases UUIDs only: take ids already in lower case, and UUIDs.
        (wid == wid.str.to_lowercase()) | is_uuid,
        kind.is_in(list(_TYPES)),
        state.is_in(list(_STATUSES)),
        validate.is_not_null(),
        amt.str.contains(_AMOUNT_SHAPE),
        amt.str.contains("[1-9]"),
        _places(amt) <= validate,
        _whole_digits(amt) <= money.MAX_WHOLE_DIGITS,
        fee.str.contains(_AMOUNT_SHAPE),
        _places(fee) <= validate,
        _whole_digits(fee) <= money.MAX_WHOLE_DIGITS,
    ]
    if name is not None:
        plain += [(name == "") | named, name.str.len_chars() <= MAX_KEY]
    if tx is not None:
        plain.append((tx == "") | tx.pipe(_trimmed))
    condition = pl.all_horizontal(plain).fill_null(False)
    outputs = [
        pl.col("line"),
        ref.alias("reference"),
        when.alias("occurred_at"),
        cur.alias("currency"),
        pl.when(is_uuid).then(wid.str.to_lowercase()).when(wid != "").then(wid).alias("wallet_id"),
        (pl.when(name != "").then(name) if name is not None else pl.lit(None, pl.String)).alias(
            "wallet_name"
        ),
        kind.replace_strict(_TYPES, default=None).alias("type"),
        _canonical(amt, store).alias("amount"),
        _canonical(fee, store).alias("fee"),
        state.replace_strict(_STATUSES, default=None).alias("status"),
        (pl.when(tx != "").then(tx) if tx is not None else pl.lit(None, pl.String)).alias(
            "tx_hash"
        ),
    ]
    return condition, outputs


def stage_fast(
    conn: Connection,
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
    blocks = _Blocks(stream)
    reading: _Reading | None = None
    latest = format_utc((now + FUTURE_GRACE).replace(microsecond=0))
    rows_read = 0
    conn.execute("BEGIN")
    with staging.table_stager(conn) as stage:
        for first_line, whole in blocks:
            body, line = whole, first_line
            if reading is None:
                header_end = whole.index(b"\n") + 1 if b"\n" in whole else len(whole)
                header = _csv_rows(whole[:header_end], layout, 1)
                if len(header) != 1:
                    raise NotFast("no readable header")
                # A bad header raises BadFile here, as it would in the careful reader.
                names = header[0][1]
                reading = _Reading(parser_for(names), len(names), layout, validation_scales, latest)
                body, line = whole[header_end:], 2
            fields = reading.fields(body, line)
            rows_read += fields.height
            reading.stage(stage, fields)
            if on_rows is not None:
                on_rows(rows_read, blocks.bytes_read)
    if reading is None:
        raise NotFast("no readable header")
    conn.execute("COMMIT")
    return FastStaged(rows_read, blocks.sha256.hexdigest(), blocks.bytes_read)


class _Reading:
    """One file's rows, block by block: split into fields, the plain ones staged at once
    in canonical form, every other one judged by the parser."""

    def __init__(
        self,
        parser: RowParser,
        width: int,
        layout: Layout,
        printed: Mapping[str, int],
        latest: str,
    ) -> None:
        self._parser = parser
        self._layout = layout
        self._printed = printed
        self._width = width
        self._names = [f"c{i}" for i in range(self._width)]
        self._currency = f"c{parser.columns['currency']}"
        self._condition, self._outputs = _plain(parser.columns, latest)
        self._scales: dict[str, tuple[int | None, int | None]] = {}

    def fields(self, body: bytes, line: int) -> pl.DataFrame:
        """The rows of whole lines starting at `line`: `line`, then the fields c0, c1, ..."""
        csv_format = self._layout.csv
        quote, delimiter = csv_format.quotechar.encode(), csv_format.delimiter.encode()
        blank = body.startswith((b"\n", b"\r\n")) or b"\n\n" in body or b"\n\r\n" in body
        if quote in body or blank:
            rows = _csv_rows(body, self._layout, line)
            if any(len(row) != self._width for _, row in rows):
                raise NotFast("a row with the wrong number of fields")
            return pl.DataFrame(
                [(number, *row) for number, row in rows],
                schema=[("line", pl.Int64), *((name, pl.String) for name in self._names)],
                orient="row",
            )
        # No quotes and no blank lines: a line is a row, and the csv module would split it
        # exactly at each delimiter, as polars does with quoting off.
        lines = body.count(b"\n") + (0 if body.endswith(b"\n") or not body else 1)
        if body.count(delimiter) != lines * (self._width - 1):
            raise NotFast("a row with the wrong number of fields")
        if not lines:
            return pl.DataFrame(
                schema=[("line", pl.Int64), *((name, pl.String) for name in self._names)]
            )
        try:
            frame = pl.read_csv(
                body,
                has_header=False,
                new_columns=self._names,
                separator=csv_format.delimiter,
                quote_char=None,
                infer_schema=False,
                empty_string_is_null=False,
            )
        except pl.exceptions.PolarsError as error:
            raise NotFast(f"malformed CSV ({error})") from None
        if frame.height != lines or frame.width != self._width:
            raise NotFast("rows that do not follow the lines")
        return frame.select(
            pl.int_range(line, line + lines, dtype=pl.Int64).alias("line"), pl.all()
        )

    def stage(self, stage: Callable[[pl.DataFrame], None], fields: pl.DataFrame) -> None:
        """Stage the plain rows in canonical form and the others as the parser reads them;
        NotFast at the first row the parser refuses."""
        for code in fields[self._currency].unique().to_list():
            if code not in self._scales:
                self._scales[code] = _scales(code, self._printed)
        validate = {code: pair[0] for code, pair in self._scales.items() if pair[0] is not None}
        store = {code: pair[1] for code, pair in self._scales.items() if pair[1] is not None}
        currency = pl.col(self._currency)
        fields = fields.with_columns(
            currency.replace_strict(validate, default=None, return_dtype=pl.Int64).alias(
                "validate"
            ),
            currency.replace_strict(store, default=None, return_dtype=pl.Int64).alias("store"),
        ).with_columns(self._condition.alias("plain"))
        staged = fields.filter("plain").select(self._outputs)
        # fee <= amount: both canonical at the same scale, so compare lengths, then texts.
        amount, fee = pl.col("amount"), pl.col("fee")
        fits = (fee.str.len_bytes() < amount.str.len_bytes()) | (
            (fee.str.len_bytes() == amount.str.len_bytes()) & (fee <= amount)
        )
        staged = staged.with_columns(fits.alias("fits"))
        judged = fields.filter(
            ~pl.col("plain")
            | pl.col("line").is_in(staged.filter(~pl.col("fits"))["line"].implode())
        ).select("line", *self._names)
        stage(staged.filter("fits").drop("fits"))
        if judged.is_empty():
            return
        try:
            parsed = [
                (row[0], *self._parser.parse(list(row[1:])).values()) for row in judged.iter_rows()
            ]
        except RowError as error:
            raise NotFast(f"a bad row ({error})") from None
        stage(pl.DataFrame(parsed, schema=_STAGED_SCHEMA, orient="row"))


def _csv_rows(body: bytes, layout: Layout, line: int) -> list[tuple[int, list[str]]]:
    """The rows of whole lines read by the csv module, as the careful reader reads them,
    each with its line; a blank line is no row. NotFast for a field spanning lines."""
    text = body.decode("utf-8")
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=layout.csv.delimiter,
        quotechar=layout.csv.quotechar,
        strict=True,
    )
    rows = []
    try:
        start = 1
        for row in reader:
            if reader.line_num != start:
                raise NotFast("a field spanning lines")
            if row:
                rows.append((line + start - 1, row))
            start = reader.line_num + 1
    except csv.Error as error:
        raise NotFast(f"malformed CSV ({error})") from None
    return rows


def _scales(code: str, printed: Mapping[str, int]) -> tuple[int | None, int | None]:
    """The places a currency's amounts may have and are stored with; only canonical codes
    (others go to the parser)."""
    if not isinstance(code, str) or not CURRENCY_CODE.fullmatch(code):
        return None, None
    return money.scale_for(code, printed), money.storage_scale(code, printed)
