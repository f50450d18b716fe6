"""Mapping profiles: how one CSV layout maps onto merchant records.

The default profile reads the default layout (docs/mapping.md)
(`reference,occurred_at,currency,wallet_id,type,amount,fee,status,tx_hash`). Any other
layout is a TOML file (see docs/mapping.md and sample_data/bank-export.toml):

    name = "Bank export"
    [csv]
    delimiter = ";"
    encoding = "cp1252"
    decimal_comma = true
    thousands_separator = "."
    date_format = "%d.%m.%Y %H:%M"
    timezone = "Europe/Berlin"
    [columns]
    reference = "Buchungsnummer"
    amount = "Betrag"
    [amount]
    signed = true
    [values.status]
    "gebucht" = "confirmed"
    [defaults]
    currency = "USDTERC20"
"""

from __future__ import annotations

import codecs
import hashlib
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reconcile_tui.config import first_problem
from reconcile_tui.errors import BadInput
from reconcile_tui.files import read_input
from reconcile_tui.money import AmountError, NumberStyle
from reconcile_tui.store.imports import RECORD_COLUMNS
from reconcile_tui.times import TimeError, zone
from reconcile_tui.vocabulary import (
    STATUS_WORDS,
    TYPE_WORDS,
    accepted_words,
    record_status,
    record_type,
)

__all__ = ["FIELDS", "Layout", "load_mapping"]

#: The fields of a merchant record, in the default column order (docs/mapping.md).
FIELDS = RECORD_COLUMNS

#: The same names as a type, so a layout's `values` and `defaults` refuse any other key;
#: a test holds it to `FIELDS`.
FieldName = Literal[
    "reference",
    "occurred_at",
    "currency",
    "wallet_id",
    "wallet_name",
    "type",
    "amount",
    "fee",
    "status",
    "tx_hash",
]

# Encodings whose bytes for "\n", "," and ASCII letters are plain ASCII, so a file can be
# split into lines before it is decoded (which is how a bad byte gets its line number).
_ASCII_COMPATIBLE = {
    "utf-8",
    "ascii",
    "cp1252",
    "latin-1",
    "iso8859-15",
    "cp1250",
    "cp1251",
    "mac-roman",
    "cp437",
    "cp850",
    "iso8859-2",
}


class _Section(BaseModel):
    # Strict: TOML has its own true, false and numbers, so `decimal_comma = "yes"` is a
    # mistake to say, not a true to guess (docs/mapping.md).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class CsvFormat(_Section):
    """How the file itself is written."""

    delimiter: str = ","
    quotechar: str = '"'
    encoding: str = "utf-8"
    decimal_comma: bool = False
    thousands_separator: str | None = None
    date_format: str | None = Field(
        default=None, description="strptime format; ISO 8601 when not given"
    )
    timezone: str = Field(default="UTC", description="zone of times written without an offset")
    dates_only: bool = Field(
        default=False, description="the export has no time of day: store midnight, say so"
    )
    skip_lines: int = Field(default=0, ge=0, le=10_000, description="lines before the header")
    header_contains: str | None = Field(
        default=None, description="the header is the first line with a cell equal to this"
    )

    @field_validator("delimiter", "quotechar")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if value == "\\t":
            value = "\t"
        if len(value) != 1:
            raise ValueError("must be a single character")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            name = codecs.lookup(value).name
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        if name not in _ASCII_COMPATIBLE:
            raise ValueError(f"encoding {value!r} is not supported; convert the file to UTF-8")
        return name

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zone(value)
        except TimeError as error:
            raise ValueError(str(error)) from None
        return value


class Columns(_Section):
    """Which header names hold each field. The default layout's are its own names; a
    mapping file's `[columns]` is explicit: a field it does not name has no column and is
    never read, whatever the file's headers say (docs/mapping.md, "A mapping is explicit")."""

    reference: str | None = None
    occurred_at: str | None = None
    currency: str | None = None
    wallet_id: str | None = None
    wallet_name: str | None = None
    type: str | None = None
    amount: str | None = None
    fee: str | None = None
    status: str | None = None
    tx_hash: str | None = None
    # Cells that are not fields of a record but help to make one.
    time: str | None = Field(default=None, description="the time of day, beside a date column")
    time_zone: str | None = Field(default=None, description="a zone name or offset per row")
    fee_currency: str | None = None
    debit: str | None = None
    credit: str | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # TOML has no null: `fee = ""` is how a mapping says a field has no column.
        return None if value == "" else value


#: The default layout's columns: each field under its own name.
DEFAULT_COLUMNS = Columns(**{field: field for field in FIELDS})

_HELPER_COLUMNS = ("time", "time_zone", "fee_currency", "debit", "credit")


class ReferenceRule(_Section):
    """Where the reference comes from when no one column holds a unique id."""

    first_of: list[str] = Field(default_factory=list, description="the first non-empty cell")
    join: list[str] = Field(default_factory=list, description="these cells joined with `|`")
    fingerprint: list[str] = Field(default_factory=list, description="a hash of these cells")

    @model_validator(mode="after")
    def _one_rule(self) -> ReferenceRule:
        given = [name for name in ("first_of", "join", "fingerprint") if getattr(self, name)]
        if len(given) > 1:
            raise ValueError(
                f"give one of first_of, join or fingerprint, not {' and '.join(given)}"
            )
        return self

    @property
    def kind(self) -> str | None:
        for name in ("first_of", "join", "fingerprint"):
            if getattr(self, name):
                return name
        return None

    @property
    def names(self) -> list[str]:
        return self.first_of or self.join or self.fingerprint


class SkipRule(_Section):
    """Rows to leave out on purpose (fee-only rows, internal transfers, a Total line)."""

    column: str
    equals: list[str] = Field(default_factory=list, description="case-insensitive words")
    matches: str | None = Field(default=None, description="a regular expression, searched")

    @field_validator("equals", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("matches")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"not a regular expression ({error})") from None
        return value

    @model_validator(mode="after")
    def _says_what(self) -> SkipRule:
        if not self.equals and self.matches is None:
            raise ValueError('write equals = ["word", ...] or matches = "regex" for the rule')
        return self

    def describe(self) -> str:
        if self.equals:
            return f"{self.column} is " + " or ".join(repr(word) for word in self.equals)
        return f"{self.column} matches {self.matches!r}"


class AmountRule(_Section):
    """How the amount is written (docs/mapping.md, "Amounts")."""

    signed: bool = Field(default=False, description="negative = withdrawal")
    exponent: bool = Field(default=False, description="accept 1.5E-05, read exactly")
    currency_in_cell: bool = Field(default=False, description="`2.5 ETH` in one cell")
    fee_on_top: bool = Field(
        default=False, description="the balance moves by the amount, then the fee is taken"
    )


#: The word a `[values.type]` entry maps to when the amount's sign decides the type.
BY_SIGN = "sign"

TIME_OF_DAY = re.compile(r"%-?[HIMSXcTRfp]")
#: A date format that writes its times' zone as the word UTC (or GMT) itself.
_ZONE_IN_FORMAT = re.compile(r"\b(?:UTC|GMT)\b")
EPOCH_FORMATS = {"epoch_seconds": 1, "epoch_milliseconds": 1000}


def _fix(key: str, example: str) -> str:
    return f"; write {example} under [{key}]" if key else f"; write {example}"


class Layout(_Section):
    """A complete description of one CSV layout: what a mapping file describes."""

    name: str = "default layout"
    csv: CsvFormat = CsvFormat()
    columns: Columns = DEFAULT_COLUMNS
    reference: ReferenceRule = ReferenceRule()
    amount: AmountRule = AmountRule()
    values: dict[FieldName, dict[str, str]] = Field(default_factory=dict)
    defaults: dict[FieldName, str] = Field(default_factory=dict)
    skip: list[SkipRule] = Field(default_factory=list)
    source: str | None = Field(default=None, exclude=True)
    sha256: str | None = Field(default=None, exclude=True)

    @property
    def explicit(self) -> bool:
        """Whether the columns are the mapping's own (then only those are ever read)."""
        return "columns" in self.model_fields_set

    @property
    def signed(self) -> bool:
        """Whether amounts carry their direction (a signed column, or debit and credit)."""
        return self.amount.signed or self.columns.debit is not None

    @property
    def epoch_divisor(self) -> int | None:
        """1 for Unix seconds, 1000 for milliseconds, None for a written date."""
        return EPOCH_FORMATS.get(self.csv.date_format or "")

    @property
    def plain(self) -> bool:
        """Whether the layout uses none of the features only the row parser knows."""
        return (
            not self.csv.skip_lines
            and self.csv.header_contains is None
            and not self.csv.dates_only
            and self.epoch_divisor is None
            and self.reference.kind is None
            and not self.skip
            and self.amount == AmountRule(signed=self.amount.signed)
            and all(getattr(self.columns, name) is None for name in _HELPER_COLUMNS)
        )

    @model_validator(mode="after")
    def _complete(self) -> Layout:
        columns = self.columns
        if self.reference.kind and columns.reference:
            raise ValueError(
                "columns.reference and a [reference] rule both say where the reference is; "
                "keep one of them"
            )
        if not self.reference.kind and not columns.reference:
            raise ValueError(
                "columns.reference is required: the reference is a record's key"
                + _fix("columns", 'reference = "<the column with a unique id>"')
                + ", or a [reference] rule (first_of, join or fingerprint = [...columns])"
            )
        if columns.occurred_at is None:
            raise ValueError(
                "columns.occurred_at is required" + _fix("columns", 'occurred_at = "<date column>"')
            )
        has_debit_credit = columns.debit is not None or columns.credit is not None
        if has_debit_credit and (columns.debit is None or columns.credit is None):
            raise ValueError(
                "columns.debit and columns.credit go together"
                + _fix("columns", 'debit = "<money out>" and credit = "<money in>"')
            )
        if has_debit_credit and columns.amount is not None:
            raise ValueError(
                "columns.amount and columns.debit/credit both hold the amount; keep one of them"
            )
        if columns.amount is None and not has_debit_credit:
            raise ValueError(
                "columns.amount is required"
                + _fix(
                    "columns", 'amount = "<amount column>" (or debit = "..." and credit = "...")'
                )
            )
        self._check_values()
        self._check_dates()
        try:
            self.number_style()
        except AmountError as error:
            raise ValueError(f"csv: {error}") from None
        return self

    def _check_values(self) -> None:
        for field, words in self.values.items():
            seen: dict[str, tuple[str, str]] = {}
            for key, value in words.items():
                folded = key.strip().casefold()
                if folded in seen and seen[folded][1] != value:
                    first, meaning = seen[folded]
                    raise ValueError(
                        f"values.{field}: {first!r} = {meaning!r} and {key!r} = {value!r} are "
                        "the same word (case is ignored) with different meanings; keep one"
                    )
                seen.setdefault(folded, (key, value))
        # A typo in what a word means would refuse every row it is on, one by one: said
        # once here instead, with the words the reader accepts (the vocabulary's own).
        vocabularies: tuple[tuple[FieldName, Callable[[str], object], Mapping[str, object]], ...]
        vocabularies = (
            ("type", record_type, TYPE_WORDS),
            ("status", record_status, STATUS_WORDS),
        )
        for field, means, vocabulary in vocabularies:
            for key, value in self.values.get(field, {}).items():
                if means(value) is None and not (field == "type" and value == BY_SIGN):
                    also = f' or "{BY_SIGN}"' if field == "type" else ""
                    raise ValueError(
                        f"values.{field}: {key!r} = {value!r}: {value!r} is not one of"
                        f" {accepted_words(dict(vocabulary))}{also}"
                    )
        if BY_SIGN in self.values.get("type", {}).values() and not self.signed:
            raise ValueError(
                f'values.type: "{BY_SIGN}" lets the amount\'s sign decide, but amounts are not '
                "signed" + _fix("amount", "signed = true")
            )

    def _check_dates(self) -> None:
        date_format = self.csv.date_format
        if self.epoch_divisor is not None:
            if self.columns.time is not None:
                raise ValueError(
                    f"csv.date_format {date_format} is a whole time; remove columns.time"
                )
            return
        if (
            date_format is not None
            and not TIME_OF_DAY.search(date_format)
            and not self.csv.dates_only
        ):
            raise ValueError(
                f"csv.date_format {date_format!r} has no time of day, so every time would be "
                "invented"
                + _fix("csv", "dates_only = true")
                + " to store each record at midnight (the summary says times are unknown)"
                + ", or name the time column under [columns] (time = ...) and add its "
                "directives to the format (e.g. %H:%M:%S)"
            )

        zone_written = _ZONE_IN_FORMAT.search(date_format or "")
        if zone_written and self.csv.timezone.upper() not in ("UTC", "GMT"):
            # strptime reads a literal `UTC` as any other letters, and the mapping's
            # timezone then moved times the file says are UTC (docs/mapping.md).
            raise ValueError(
                f"csv.date_format {date_format!r} says its times are UTC ({zone_written[0]!r}),"
                f" but csv.timezone is {self.csv.timezone!r}, which would move them: remove"
                " timezone, or the zone from date_format"
            )
        if date_format and "%p" in date_format and "%H" in date_format:
            # %H ignores AM/PM: `2:30 PM` was stored as 02:30 without a word.
            raise ValueError(
                f"csv.date_format {date_format!r} reads AM/PM (%p) with a 24-hour %H, which"
                " ignores it: write %I for the hour"
            )

    def number_style(self, *, signed: bool | None = None) -> NumberStyle:
        """How this layout writes amounts."""
        return NumberStyle(
            decimal_comma=self.csv.decimal_comma,
            thousands=self.csv.thousands_separator,
            signed=self.signed if signed is None else signed,
            exponent=self.amount.exponent,
            accounting=True,
        )

    def column(self, field: str) -> str | None:
        """The header name mapped to `field`, or None."""
        name: str | None = getattr(self.columns, field)
        return name


_SECTIONS: dict[str, type[BaseModel]] = {
    "csv": CsvFormat,
    "columns": Columns,
    "reference": ReferenceRule,
    "amount": AmountRule,
    "skip": SkipRule,
}


def _unknown_key_hint(location: tuple[int | str, ...]) -> str:
    """The keys that are allowed where an unknown one was written."""
    section = _SECTIONS.get(str(location[0])) if len(location) > 1 else Layout
    if section is None:
        return ""
    keys = [name for name, info in section.model_fields.items() if not info.exclude]
    return f" (the keys here are: {', '.join(keys)})"


def load_mapping(path: Path) -> Layout:
    """Read a TOML mapping file, or raise BadInput naming the file and the bad key."""
    raw = read_input(path, "mapping file")
    try:
        # An editor on Windows may save the file with a byte order mark: not part of it.
        data = tomllib.loads(raw.decode("utf-8").removeprefix("\ufeff"))
    except UnicodeDecodeError:
        raise BadInput(f"{path}: mapping files are UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise BadInput(f"{path}: not valid TOML ({error})") from None
    try:
        mapping = Layout.model_validate(data)
    except ValidationError as error:
        problem = first_problem(error)
        message = problem.message
        if problem.type == "extra_forbidden":
            message = "unknown key" + _unknown_key_hint(problem.location)
        raise BadInput(f"{path}: {problem.dotted or 'mapping'}: {message}") from None
    return mapping.model_copy(
        update={"source": str(path), "sha256": hashlib.sha256(raw).hexdigest()}
    )
