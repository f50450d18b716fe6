"""Turning one CSV row into one merchant record, or into a reason it cannot be one.

`RowParser` is built once per file from the mapping and the header line (which it checks:
missing and duplicated columns are refused before any row is read) and then parses each
row into a `StagedRecord` tuple of canonical text, ready for the store.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from reconcile_tui import money
from reconcile_tui.errors import BadFile
from reconcile_tui.ingest.mapping import Mapping as Layout
from reconcile_tui.money import AmountError
from reconcile_tui.times import TimeError, format_utc, parse_record_time, zone
from reconcile_tui.vocabulary import (
    STATUS_WORDS,
    TYPE_WORDS,
    RecordStatus,
    RecordType,
    accepted_words,
    record_status,
    record_type,
)

__all__ = ["FUTURE_GRACE", "RowError", "RowParser", "StagedRecord"]

#: A record dated further ahead than this (of the import's clock) is refused as a typo.
FUTURE_GRACE = timedelta(days=1)

CURRENCY_CODE = re.compile(r"[A-Z0-9]{2,20}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class RowError(ValueError):
    """Why one row cannot be imported, in words the user can act on."""


class StagedRecord(NamedTuple):
    """A validated record, all canonical text (the columns of the `records` table)."""

    reference: str
    occurred_at: str
    currency: str
    wallet_id: str | None
    wallet_name: str | None
    type: str
    amount: str
    fee: str
    status: str
    tx_hash: str | None


#: Fields a layout may leave without a column: what they are when absent or empty.
_OPTIONAL = {"fee": "0", "tx_hash": None, "wallet_id": None, "wallet_name": None}

#: Default-layout columns a file may lack; `_require_fields` checks what must remain.
_MAY_BE_ABSENT = frozenset(_OPTIONAL) | {"type", "currency", "status"}


def _delimiter_hint(names: list[str], delimiter: str) -> str:
    """A hint when one header cell holds several names: the file uses another delimiter."""
    if len(names) != 1:
        return ""
    for other in (";", "\t", "|", ","):
        if other != delimiter and other in names[0]:
            shown = "tab" if other == "\t" else repr(other)
            return f"; the header looks {shown}-separated: declare `delimiter` in a mapping file"
    return ""


class RowParser:
    """Parses rows of one file under one mapping."""

    def __init__(
        self,
        layout: Layout,
        header: list[str],
        path: str,
        *,
        validation_scales: Mapping[str, int],
        now: datetime,
    ) -> None:
        self._layout = layout
        self._path = path
        self._width = len(header)
        self._validation_scales = validation_scales
        self._latest = now + FUTURE_GRACE
        self._zone = zone(layout.csv.timezone)
        self._date_format = layout.csv.date_format
        self._style = layout.number_style()
        self._unsigned_style = layout.number_style(signed=False)
        self._value_maps = {
            field: {key.strip().casefold(): value for key, value in words.items()}
            for field, words in layout.values.items()
        }
        self._index = self._locate_columns(header)
        self._require_fields()
        self._cell = self._cell_reader()

    @property
    def columns(self) -> dict[str, int]:
        """Where each mapped field is in a row (field -> position), from the header."""
        return dict(self._index)

    # -- the header ------------------------------------------------------------------

    def _locate_columns(self, header: list[str]) -> dict[str, int]:
        names = [name.strip() for name in header]
        folded = [name.casefold() for name in names]
        explicit = self._layout.columns.model_fields_set
        index: dict[str, int] = {}
        for field in type(self._layout.columns).model_fields:
            wanted = self._layout.column(field)
            if wanted is None:
                continue
            matches = [i for i, name in enumerate(names) if name == wanted]
            if not matches:
                matches = [i for i, name in enumerate(folded) if name == wanted.casefold()]
            if len(matches) > 1:
                raise BadFile(f"{self._path}:1: column {wanted!r} appears {len(matches)} times")
            if matches:
                index[field] = matches[0]
            elif field not in self._layout.defaults and (
                field in explicit or field not in _MAY_BE_ABSENT
            ):
                found = ", ".join(repr(name) for name in names) or "none"
                raise BadFile(
                    f"{self._path}:1: missing column {wanted!r} (columns found: {found})"
                    + _delimiter_hint(names, self._layout.csv.delimiter)
                )
        return index

    def _require_fields(self) -> None:
        have = set(self._index) | set(self._layout.defaults)
        problems = []
        if "currency" not in have:
            problems.append("a currency column (or a default currency)")
        if "status" not in have:
            problems.append("a status column (or a default status)")
        if "type" not in have and not self._layout.amount.signed:
            problems.append("a type column (or a signed amount column)")
        if not have & {"wallet_id", "wallet_name"}:
            problems.append("a wallet_id or wallet_name column")
        if problems:
            raise BadFile(f"{self._path}:1: the file needs " + " and ".join(problems))

    def _cell_reader(self) -> Callable[[list[str], str], str | None]:
        index = self._index
        defaults: dict[str, str] = {str(k): v for k, v in self._layout.defaults.items()}
        maps = self._value_maps

        def cell(fields: list[str], field: str) -> str | None:
            position = index.get(field)
            text = fields[position].strip() if position is not None else ""
            if text and field in maps:
                text = maps[field].get(text.casefold(), text)
            if not text:
                return defaults.get(field, _OPTIONAL.get(field))
            return text

        return cell

    # -- one row ---------------------------------------------------------------------

    def parse(self, fields: list[str]) -> StagedRecord:
        """A validated record, or RowError naming the field and the problem."""
        if len(fields) != self._width:
            raise RowError(f"expected {self._width} fields, found {len(fields)}")
        cell = self._cell

        reference = cell(fields, "reference")
        if not reference:
            raise RowError("reference is empty")

        currency = (cell(fields, "currency") or "").upper()
        if not CURRENCY_CODE.fullmatch(currency):
            raise RowError(
                f"currency {currency!r} is not a currency code" if currency else "currency is empty"
            )

        kind, amount = self._type_and_amount(fields, currency)
        fee = self._fee(cell(fields, "fee") or "0", currency, amount, kind)
        status = self._status(cell(fields, "status"), kind)
        occurred_at = self._time(cell(fields, "occurred_at"))

        wallet_id = cell(fields, "wallet_id")
        if wallet_id and _UUID.fullmatch(wallet_id):
            wallet_id = wallet_id.lower()
        wallet_name = cell(fields, "wallet_name")
        if not wallet_id and not wallet_name:
            raise RowError("wallet_id is empty (and there is no wallet_name)")

        storage_scale = money.storage_scale(currency, self._validation_scales)
        return StagedRecord(
            reference=reference,
            occurred_at=occurred_at,
            currency=currency,
            wallet_id=wallet_id,
            wallet_name=wallet_name,
            type=kind,
            amount=money.canonical(amount, storage_scale),
            fee=money.canonical(fee, storage_scale),
            status=status,
            tx_hash=cell(fields, "tx_hash"),
        )

    def _scale(self, currency: str) -> int:
        return money.scale_for(currency, self._validation_scales)

    def _amount(self, text: str, currency: str, *, signed: bool, what: str) -> Decimal:
        style = self._style if signed else self._unsigned_style
        try:
            return money.parse_amount(text, self._scale(currency), currency=currency, style=style)
        except AmountError as error:
            raise RowError(f"{what}: {error}") from None

    def _type_and_amount(self, fields: list[str], currency: str) -> tuple[str, Decimal]:
        cell = self._cell
        text = cell(fields, "amount")
        if not text:
            raise RowError("amount is empty")
        signed = self._layout.amount.signed
        amount = self._amount(text, currency, signed=signed, what="amount")
        word = cell(fields, "type")
        if word:
            kind = record_type(word)
            if kind is None:
                raise RowError(f"type {word!r} is not one of {accepted_words(dict(TYPE_WORDS))}")
        elif signed:
            if amount.is_zero():
                raise RowError("amount is zero, so it is neither a deposit nor a withdrawal")
            kind = RecordType.WITHDRAWAL if amount < 0 else RecordType.DEPOSIT
        else:
            raise RowError("type is empty")
        if signed:
            expected_negative = kind == RecordType.WITHDRAWAL
            if amount < 0 and not expected_negative:
                raise RowError(f"amount {text} is negative but the type is {kind}")
            if amount > 0 and expected_negative and word:
                raise RowError(f"amount {text} is positive but the type is {kind}")
            amount = money.magnitude(amount)
        if kind == RecordType.OPENING:
            if amount < 0:
                raise RowError("an opening balance cannot be negative")
        elif amount <= 0:
            raise RowError(f"amount {text} must be greater than zero")
        return kind.value, amount

    def _fee(self, text: str, currency: str, amount: Decimal, kind: str) -> Decimal:
        fee = self._amount(text, currency, signed=self._layout.amount.signed, what="fee")
        fee = money.magnitude(fee)
        if fee > amount:
            raise RowError(f"fee {text} is larger than the amount it is part of")
        if kind == RecordType.OPENING and fee:
            raise RowError("an opening balance has no fee")
        return fee

    def _status(self, word: str | None, kind: str) -> str:
        if not word:
            if kind == RecordType.OPENING:
                return RecordStatus.CONFIRMED.value
            raise RowError("status is empty")
        status = record_status(word)
        if status is None:
            raise RowError(f"status {word!r} is not one of {accepted_words(dict(STATUS_WORDS))}")
        if kind == RecordType.OPENING and status != RecordStatus.CONFIRMED:
            raise RowError(f"an opening balance is always confirmed, not {status}")
        return status.value

    def _time(self, text: str | None) -> str:
        if not text:
            raise RowError("occurred_at is empty")
        try:
            moment = parse_record_time(text, self._zone, self._date_format)
        except TimeError as error:
            raise RowError(f"occurred_at: {error}") from None
        if moment > self._latest:
            raise RowError(f"occurred_at {format_utc(moment)} is in the future")
        return format_utc(moment)
