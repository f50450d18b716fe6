"""Turning one CSV row into one merchant record, or into a reason it cannot be one.

`RowParser` is built once per file from the mapping and the header line (which it checks:
missing and duplicated columns are refused before any row is read) and then parses each
row into a `Record` of canonical text, ready for the store.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation

from reconcile_tui import money
from reconcile_tui.errors import BadFile
from reconcile_tui.ingest.mapping import BY_SIGN, Columns, Layout
from reconcile_tui.money import AmountError
from reconcile_tui.store.imports import Record
from reconcile_tui.times import TimeError, format_utc, parse_record_time, zone
from reconcile_tui.vocabulary import (
    MAX_KEY,
    STATUS_WORDS,
    TYPE_WORDS,
    RecordStatus,
    RecordType,
    accepted_words,
    record_status,
    record_type,
)

__all__ = ["FUTURE_GRACE", "Record", "RowError", "RowParser"]

#: A record dated further ahead than this (of the import's clock) is refused as a typo.
FUTURE_GRACE = timedelta(days=1)

CURRENCY_CODE = re.compile(r"[A-Z0-9]{2,20}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class RowError(ValueError):
    """Why one row cannot be imported, in words the user can act on."""


#: Fields a layout may leave without a column: what they are when absent or empty.
_OPTIONAL = {"fee": "0", "tx_hash": None, "wallet_id": None, "wallet_name": None}

#: Default-layout columns a file may lack; `_require_fields` checks what must remain.
_MAY_BE_ABSENT = frozenset(_OPTIONAL) | {"type", "currency", "status"}


_AMOUNT_THEN_CODE = re.compile(r"(?P<amount>.*?\d.*?)\s+(?P<code>[A-Za-z][A-Za-z0-9]{1,19})")
_CODE_THEN_AMOUNT = re.compile(r"(?P<code>[A-Za-z][A-Za-z0-9]{1,19})\s+(?P<amount>[-+]?[0-9].*)")
_OFFSET = re.compile(r"(?:UTC|GMT)?(?P<sign>[-+])(?P<hours>\d{1,2}):?(?P<minutes>\d{2})?")
_EPOCH = re.compile(r"\d{1,14}(?:\.\d{1,6})?")


#: A count of milliseconds that is below this many seconds (1973-03-03) is taken for
#: seconds; a count of seconds from a thousand times it (the year 5138) for milliseconds.
_MILLISECONDS_FROM = Decimal(100_000_000)


def _from_epoch(text: str, divisor: int) -> str:
    """Unix epoch seconds (divisor 1) or milliseconds (1000) as exact ISO text in UTC."""
    if not _EPOCH.fullmatch(text):
        unit = "seconds" if divisor == 1 else "milliseconds"
        raise RowError(f"occurred_at {text!r} is not a count of Unix epoch {unit}")
    try:
        seconds = Decimal(text) / divisor
        # A count in the other unit reads as a time too, but decades off: 1733097600 as
        # milliseconds is 1970-01-21, 1733097600000 as seconds past the year 9999. No
        # payment export holds either, so the unit is named (docs/mapping.md).
        if divisor == 1000 and abs(seconds) < _MILLISECONDS_FROM:
            raise RowError(
                f"occurred_at {text!r} read as milliseconds is in 1970: it looks like Unix"
                f' seconds (date_format = "epoch_seconds")'
            )
        if divisor == 1 and abs(seconds) >= _MILLISECONDS_FROM * 1000:
            raise RowError(
                f"occurred_at {text!r} read as seconds is thousands of years away: it looks"
                f' like Unix milliseconds (date_format = "epoch_milliseconds")'
            )
        whole = int(seconds)
        micro = (seconds - whole) * 1_000_000
        if micro != int(micro):
            raise RowError(f"occurred_at {text!r} is finer than a microsecond")
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
            seconds=whole, microseconds=int(micro)
        )
    except (OverflowError, InvalidOperation):
        raise RowError(f"occurred_at {text!r} is not a real time") from None
    return moment.isoformat()


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
    """Parses rows of one file under one mapping.

    Beside the records, it keeps what the import summary must say about the rows it read:
    rows the mapping's skip rules left out, fees in another currency that were not counted,
    and whether times were unknown (docs/mapping.md).
    """

    def __init__(
        self,
        layout: Layout,
        header: list[str],
        path: str,
        *,
        validation_scales: Mapping[str, int],
        now: datetime,
        line: int = 1,
    ) -> None:
        self._layout = layout
        self._path = path
        self._header_line = line
        self._width = len(header)
        self._validation_scales = validation_scales
        self._latest = now + FUTURE_GRACE
        self._zone = zone(layout.csv.timezone)
        self._epoch = layout.epoch_divisor
        # Epoch cells are turned into ISO text before `_time` reads them.
        self._date_format = None if self._epoch else layout.csv.date_format
        self._style = layout.number_style()
        self._unsigned_style = layout.number_style(signed=False)
        self._value_maps = {
            field: {key.strip().casefold(): value for key, value in words.items()}
            for field, words in layout.values.items()
        }
        self._names = [name.strip() for name in header]
        self._index = self._locate_columns()
        self._reference_cells = [
            self._position(name, "[reference]", required=True) or 0
            for name in layout.reference.names
        ]
        self._skips = [
            (
                rule.describe(),
                self._position(rule.column, "[[skip]] column", required=True) or 0,
                {word.strip().casefold() for word in rule.equals},
                re.compile(rule.matches) if rule.matches is not None else None,
            )
            for rule in layout.skip
        ]
        self._require_fields()
        self._cell = self._cell_reader()
        #: Rows left out by each skip rule (its description -> count).
        self.skipped: Counter[str] = Counter()
        #: Fees in another currency than the record's, not counted (currency -> total).
        self.other_fees: dict[str, Decimal] = {}

    @property
    def columns(self) -> dict[str, int]:
        """Where each mapped field is in a row (field -> position), from the header."""
        return dict(self._index)

    def notes(self) -> list[str]:
        """What the import summary must say about how rows were read, beside the counts."""
        notes = []
        if self.other_fees:
            fees = ", ".join(
                f"{money.canonical(total)} {code}"
                for code, total in sorted(self.other_fees.items())
            )
            notes.append(f"fees in another currency kept out of the fees: {fees}")
        if self._layout.csv.dates_only:
            notes.append(
                "times unknown (the export has dates only): "
                f"records stored at 00:00 {self._layout.csv.timezone}"
            )
        return notes

    # -- the header ------------------------------------------------------------------

    def _position(self, wanted: str, key: str, *, required: bool) -> int | None:
        """Where the column headed `wanted` is: exact match first, then ignoring case."""
        matches = [i for i, name in enumerate(self._names) if name == wanted]
        if not matches:
            folded = wanted.casefold()
            matches = [i for i, name in enumerate(self._names) if name.casefold() == folded]
        if len(matches) > 1:
            raise BadFile(
                f"{self._path}:{self._header_line}: column {wanted!r} appears {len(matches)} times"
            )
        if matches:
            return matches[0]
        if required:
            found = ", ".join(repr(name) for name in self._names) or "none"
            fix = (
                f"; write the header exactly as the file has it for {key} in the mapping"
                if self._layout.explicit or self._layout.source
                else ""
            )
            raise BadFile(
                f"{self._path}:{self._header_line}: missing column {wanted!r} "
                f"(columns found: {found})"
                + (fix or _delimiter_hint(self._names, self._layout.csv.delimiter))
            )
        return None

    def _locate_columns(self) -> dict[str, int]:
        layout = self._layout
        index: dict[str, int] = {}
        for field in Columns.model_fields:
            wanted = layout.column(field)
            if wanted is None:
                continue
            # A mapping's own columns must all be there; the default layout's optional
            # ones may be missing.
            required = field not in layout.defaults and (
                layout.explicit or field not in _MAY_BE_ABSENT
            )
            position = self._position(wanted, f"columns.{field}", required=required)
            if position is not None:
                index[field] = position
        return index

    def _require_fields(self) -> None:
        have = set(self._index) | set(self._layout.defaults)
        if self._layout.reference.kind:
            have.add("reference")
        if self._layout.amount.currency_in_cell:
            have.add("currency")
        problems = []
        if "currency" not in have:
            problems.append(
                'a currency column (currency = "<column>" under [columns], '
                'or currency = "BTC" under [defaults])'
            )
        if "status" not in have:
            problems.append(
                'a status column (status = "<column>" under [columns], '
                'or status = "confirmed" under [defaults])'
            )
        if "type" not in have and not self._layout.signed:
            problems.append(
                'a type column (type = "<column>" under [columns]) or signed amounts '
                "(signed = true under [amount])"
            )
        if not have & {"wallet_id", "wallet_name"}:
            problems.append(
                'a wallet_id or wallet_name column (or wallet_name = "<your wallet>" '
                "under [defaults])"
            )
        if problems:
            raise BadFile(
                f"{self._path}:{self._header_line}: the file needs " + " and ".join(problems)
            )

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

    def skip_reason(self, fields: list[str]) -> str | None:
        """The skip rule that leaves this row out (and counts it), or None to parse it."""
        for described, position, words, pattern in self._skips:
            text = fields[position].strip() if position < len(fields) else ""
            if (words and text.casefold() in words) or (pattern and pattern.search(text)):
                self.skipped[described] += 1
                return described
        return None

    def parse(self, fields: list[str]) -> Record:
        """A validated record, or RowError naming the field and the problem."""
        if len(fields) != self._width:
            raise RowError(f"expected {self._width} fields, found {len(fields)}")
        cell = self._cell

        reference = self._reference(fields)
        if not reference:
            raise RowError("reference is empty")

        amount_text, cell_currency = self._amount_cell(fields)
        currency = self._currency(fields, cell_currency)

        kind, amount = self._type_and_amount(fields, currency, amount_text)
        fee_text, other_fee = self._fee_cell(fields, currency)
        amount = self._net_of_fee(amount, fee_text, currency, kind)
        fee = self._fee(fee_text, currency, amount, kind)
        status = self._status(cell(fields, "status"), kind)
        occurred_at = self._time(self._time_text(fields), self._row_zone(fields))

        wallet_id = cell(fields, "wallet_id")
        if wallet_id and _UUID.fullmatch(wallet_id):
            wallet_id = wallet_id.lower()
        wallet_name = cell(fields, "wallet_name")
        if not wallet_id and not wallet_name:
            raise RowError("wallet_id is empty (and there is no wallet_name)")
        for field, key in (("reference", reference), ("wallet_id", wallet_id),
                           ("wallet_name", wallet_name)):  # fmt: skip
            if key is not None and len(key) > MAX_KEY:
                hint = (
                    " (a [reference] fingerprint makes a short one)" if field == "reference" else ""
                )
                raise RowError(
                    f"{field} is {len(key):,} characters long; at most {MAX_KEY} are kept{hint}"
                )

        if other_fee is not None:
            code, value = other_fee
            self.other_fees[code] = self.other_fees.get(code, Decimal(0)) + value
        storage_scale = money.storage_scale(currency, self._validation_scales)
        return Record(
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

    def reference_of(self, fields: list[str]) -> str | None:
        """The reference of a row `parse` refused, when it can be read as `parse` reads
        it (a later import that writes it corrects the row); None when it cannot."""
        if len(fields) != self._width:
            return None
        try:
            reference = self._reference(fields)
        except RowError:
            return None
        return reference if reference and len(reference) <= MAX_KEY else None

    def _reference(self, fields: list[str]) -> str | None:
        rule = self._layout.reference.kind
        if rule is None:
            return self._cell(fields, "reference")
        cells = [fields[position].strip() for position in self._reference_cells]
        if rule == "first_of":
            return next((text for text in cells if text), None)
        if not any(cells):
            return None
        if rule == "join":
            return "|".join(cells)
        # A fingerprint: the same cells give the same reference, so a row exported twice
        # is still reported as a duplicate (docs/mapping.md, "References").
        digest = hashlib.sha256("\x1f".join(cells).encode("utf-8")).hexdigest()
        return "fp-" + digest[:24]

    def _raw(self, fields: list[str], column: str) -> str:
        position = self._index.get(column)
        return fields[position].strip() if position is not None else ""

    def _amount_cell(self, fields: list[str]) -> tuple[str | None, str | None]:
        """The amount's text (signed by debit/credit), and a currency written beside it."""
        if self._layout.columns.debit is not None:
            text = self._debit_credit(fields)
        else:
            text = self._cell(fields, "amount")
        if not text or not self._layout.amount.currency_in_cell:
            return text, None
        found = _AMOUNT_THEN_CODE.fullmatch(text) or _CODE_THEN_AMOUNT.fullmatch(text)
        if found is None:
            raise RowError(
                f"amount {text!r} is not an amount with its currency (like 2.5 ETH); "
                "if the currency has its own column, remove currency_in_cell from [amount]"
            )
        return found["amount"], found["code"]

    def _debit_credit(self, fields: list[str]) -> str | None:
        # The column says which way the money went; one sign before it may repeat that
        # (banks print debits as -100.00), never contradict it: a negative credit is a
        # bad row, not a deposit (docs/mapping.md).
        def unsigned(what: str) -> tuple[str, bool]:
            text = self._raw(fields, what)
            signed = text.startswith(("+", "-"))
            if not text:
                return text, False
            if signed and text[1:].lstrip().startswith(("+", "-")):
                raise RowError(f"{what} {text} has two signs")
            try:
                held = not money.parse_amount(
                    text[1:] if signed else text, style=self._unsigned_style
                ).is_zero()
            except AmountError as error:
                raise RowError(f"{what}: {error}") from None
            if held and what == "credit" and text.startswith("-"):
                raise RowError(
                    f"credit {text} is negative: a credit is money in (money out belongs"
                    " in the debit column)"
                )
            return (text[1:] if signed else text), held

        (debit, out), (credit, into) = unsigned("debit"), unsigned("credit")
        if out and into:
            raise RowError(f"debit {debit} and credit {credit} both hold an amount")
        if out:
            return "-" + debit
        return credit or debit or None

    def _currency(self, fields: list[str], cell_currency: str | None) -> str:
        currency = (self._cell(fields, "currency") or "").upper()
        if cell_currency is not None:
            words = self._value_maps.get("currency", {})
            written = words.get(cell_currency.casefold(), cell_currency).upper()
            if currency and "currency" in self._index and currency != written:
                raise RowError(f"amount is in {written} but the currency column says {currency}")
            currency = written
        if not CURRENCY_CODE.fullmatch(currency):
            raise RowError(
                f"currency {currency!r} is not a currency code" if currency else "currency is empty"
            )
        return currency

    def _fee_cell(self, fields: list[str], currency: str) -> tuple[str, tuple[str, Decimal] | None]:
        """The fee to count, and a fee in another currency that is only reported."""
        text = self._cell(fields, "fee") or "0"
        if "fee_currency" not in self._index:
            return text, None
        written = self._raw(fields, "fee_currency")
        words = self._value_maps.get("currency", {})
        code = words.get(written.casefold(), written).upper()
        if not code or code == currency:
            return text, None
        try:
            value = money.magnitude(money.parse_amount(text, style=self._style))
        except AmountError as error:
            raise RowError(f"fee: {error}") from None
        if value.is_zero():
            return "0", None
        if not CURRENCY_CODE.fullmatch(code):
            raise RowError(f"fee currency {code!r} is not a currency code")
        return "0", (code, value)

    def _net_of_fee(self, amount: Decimal, fee_text: str, currency: str, kind: str) -> Decimal:
        """The balance's move when the export writes the fee on top of the amount."""
        if not self._layout.amount.fee_on_top:
            return amount
        fee = money.magnitude(self._amount(fee_text, currency, signed=True, what="fee"))
        if kind == RecordType.WITHDRAWAL:
            return amount + fee
        if kind == RecordType.DEPOSIT:
            if fee >= amount:
                raise RowError(f"fee {fee_text} is not less than the amount it is taken from")
            return amount - fee
        return amount

    def _time_text(self, fields: list[str]) -> str | None:
        text = self._cell(fields, "occurred_at")
        if text and "time" in self._index:
            text = f"{text} {self._raw(fields, 'time')}".strip()
        if text and self._epoch:
            return _from_epoch(text, self._epoch)
        return text

    def _row_zone(self, fields: list[str]) -> tzinfo | None:
        if "time_zone" not in self._index:
            return None
        written = self._raw(fields, "time_zone")
        if not written:
            return None
        offset = _OFFSET.fullmatch(written)
        if offset is not None:
            sign = -1 if offset["sign"] == "-" else 1
            minutes = int(offset["hours"]) * 60 + int(offset["minutes"] or 0)
            if minutes >= 24 * 60 or int(offset["minutes"] or 0) > 59:
                raise RowError(f"time zone {written!r} is not an offset")
            return timezone(sign * timedelta(minutes=minutes))
        try:
            return zone(written.removeprefix("GMT") if written != "GMT" else "UTC")
        except TimeError as error:
            raise RowError(f"time zone: {error}") from None

    def _type_and_amount(
        self, fields: list[str], currency: str, text: str | None
    ) -> tuple[str, Decimal]:
        if not text:
            raise RowError("amount is empty")
        signed = self._layout.signed
        amount = self._amount(text, currency, signed=signed, what="amount")
        word = self._cell(fields, "type")
        if word == BY_SIGN:
            word = None  # the mapping says the amount's sign decides for this word
        if word:
            kind = record_type(word)
            if kind is None:
                raise RowError(
                    f"type {word!r} is not one of {accepted_words(dict(TYPE_WORDS))} "
                    f'(map it under [values.type], e.g. "{word}" = "deposit", '
                    f'or "{word}" = "{BY_SIGN}" to let the amount\'s sign decide)'
                )
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

    def _scale(self, currency: str) -> int:
        return money.scale_for(currency, self._validation_scales)

    def _amount(self, text: str, currency: str, *, signed: bool, what: str) -> Decimal:
        style = self._style if signed else self._unsigned_style
        try:
            return money.parse_amount(text, self._scale(currency), currency=currency, style=style)
        except AmountError as error:
            raise RowError(f"{what}: {error}") from None

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

    def _time(self, text: str | None, where: tzinfo | None = None) -> str:
        if not text:
            raise RowError("occurred_at is empty")
        try:
            moment = parse_record_time(
                text,
                where or self._zone,
                self._date_format,
                dates_only=self._layout.csv.dates_only,
            )
        except TimeError as error:
            raise RowError(f"occurred_at: {error}") from None
        if moment > self._latest:
            raise RowError(f"occurred_at {format_utc(moment)} is in the future")
        return format_utc(moment)
