"""Mapping profiles: how one CSV layout maps onto merchant records.

The default profile reads DESIGN's layout
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
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reconcile_tui.errors import BadInput
from reconcile_tui.files import read_input
from reconcile_tui.money import AmountError, NumberStyle
from reconcile_tui.times import TimeError, zone

__all__ = ["FIELDS", "Mapping", "load_mapping"]

#: The fields of a merchant record, in DESIGN's default column order.
FIELDS = (
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
)

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
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    """Which header names hold each field; a field left out has no column."""

    reference: str | None = "reference"
    occurred_at: str | None = "occurred_at"
    currency: str | None = "currency"
    wallet_id: str | None = "wallet_id"
    wallet_name: str | None = "wallet_name"
    type: str | None = "type"
    amount: str | None = "amount"
    fee: str | None = "fee"
    status: str | None = "status"
    tx_hash: str | None = "tx_hash"


class AmountRule(_Section):
    """`signed = true`: negative amounts are withdrawals and positive ones deposits."""

    signed: bool = False


class Mapping(_Section):
    """A complete description of one CSV layout."""

    name: str = "default layout"
    csv: CsvFormat = CsvFormat()
    columns: Columns = Columns()
    amount: AmountRule = AmountRule()
    values: dict[FieldName, dict[str, str]] = Field(default_factory=dict)
    defaults: dict[FieldName, str] = Field(default_factory=dict)
    source: str | None = Field(default=None, exclude=True)
    sha256: str | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _complete(self) -> Mapping:
        if self.columns.reference is None:
            raise ValueError("columns.reference is required: the reference is a record's key")
        for field in ("occurred_at", "amount"):
            if getattr(self.columns, field) is None:
                raise ValueError(f"columns.{field} is required")
        try:
            self.number_style()
        except AmountError as error:
            raise ValueError(f"csv: {error}") from None
        return self

    def number_style(self, *, signed: bool | None = None) -> NumberStyle:
        """How this layout writes amounts."""
        return NumberStyle(
            decimal_comma=self.csv.decimal_comma,
            thousands=self.csv.thousands_separator,
            signed=self.amount.signed if signed is None else signed,
        )

    def column(self, field: str) -> str | None:
        """The header name mapped to `field`, or None."""
        name: str | None = getattr(self.columns, field)
        return name


def load_mapping(path: Path) -> Mapping:
    """Read a TOML mapping file, or raise BadInput naming the file and the bad key."""
    raw = read_input(path, "mapping file")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadInput(f"{path}: mapping files are UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise BadInput(f"{path}: not valid TOML ({error})") from None
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "mapping"
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        raise BadInput(f"{path}: {where}: {message}") from None
    return mapping.model_copy(
        update={"source": str(path), "sha256": hashlib.sha256(raw).hexdigest()}
    )
