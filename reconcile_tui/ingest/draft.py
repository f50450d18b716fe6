"""Drafting a mapping for an export we have not seen: a commented TOML for a person to review.

It reads the start of the file only: the encoding, the delimiter, the header row (after a
preamble), the columns by their names, how amounts and dates are written, and the type and
status words seen. Whatever it cannot know it writes as a line to check (docs/mapping.md,
"Drafting a mapping").
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from reconcile_tui.errors import BadFile
from reconcile_tui.files import read_start
from reconcile_tui.ingest.mapping import EPOCH_FORMATS, TIME_OF_DAY
from reconcile_tui.vocabulary import record_status, record_type

__all__ = ["draft_mapping"]

#: How much of the file is read to draft from: enough rows to see the words used.
SAMPLE_BYTES = 256 * 1024
SAMPLE_ROWS = 400

#: Header names (folded, without punctuation) that usually hold each field.
_NAMES: dict[str, tuple[str, ...]] = {
    "reference": (
        "reference", "ref", "refid", "id", "transaction id", "txn id", "payment id",
        "transfer id", "trade id", "invoice id", "order id", "uuid", "referenz",
        "buchungsnummer", "transaction",
    ),
    "occurred_at": (
        "occurred at", "date", "datetime", "timestamp", "time", "created", "created at",
        "date utc", "created utc", "utc time", "date time", "received date", "buchungsdatum",
        "datum", "completed", "settled", "booking date", "posting date", "value date",
    ),
    "time": ("time", "uhrzeit", "time utc"),
    "time_zone": ("time zone", "timezone", "zone", "tz"),
    "currency": (
        "currency", "asset", "coin", "ccy", "symbol", "wahrung", "unit", "crypto code",
        "amount currency", "amount unit", "amount balance unit",
    ),
    "amount": (
        "amount", "net", "change", "quantity", "quantity transacted", "paid", "betrag",
        "total amount", "net amount",
    ),
    "debit": ("debit", "money out", "paid out", "withdrawals", "soll", "out"),
    "credit": ("credit", "money in", "paid in", "deposits", "haben", "in"),
    "fee": (
        "fee", "fees", "commission", "gebuhr", "fee amount", "network fee", "fees and or spread",
    ),
    "fee_currency": (
        "fee currency", "fee unit", "fee asset", "fee coin", "fee ccy", "commission asset",
        "price currency",
    ),
    "type": (
        "type", "kind", "operation", "transaction type", "category", "art", "side", "action",
    ),
    "status": ("status", "state", "invoice status"),
    "tx_hash": (
        "tx hash", "txhash", "transaction hash", "hash", "txid", "tx id", "blockchain id",
    ),
    "wallet_id": ("wallet id",),
    "wallet_name": ("wallet name", "wallet", "account", "account name"),
}  # fmt: skip

_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S UTC",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%b. %d, %Y, %I:%M %p",
    "%b %d, %Y, %I:%M %p",
    "%d %b %Y %H:%M:%S",
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d %b %Y",
)
_TIMES = ("%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")

_DEPOSIT = re.compile(
    r"deposit|receiv|recv|credit|incoming|\bin\b|payment|sale|charge|invoice|settle|top.?up|"
    r"gutschrift|eingang|buy",
    re.IGNORECASE,
)
_WITHDRAWAL = re.compile(
    r"withdraw|send|sent|payout|debit|outgoing|\bout\b|refund|spend|lastschrift|"
    r"ausgang|überweisung|sell",
    re.IGNORECASE,
)
_CONFIRMED = re.compile(r"complet|success|done|settled|paid|booked|ok|confirm|gebucht|final")
_PENDING = re.compile(r"pend|process|open|unconfirm|wait|new|vorgemerkt")
_FAILED = re.compile(r"fail|cancel|reject|expire|error|invalid|storn|revers")
#: Type words of moves inside one's own accounts: proposed as rows to skip.
_INTERNAL = re.compile(r"transfer|internal|\bself\b|staking", re.IGNORECASE)
_FOOTER = re.compile(r"^\s*(total|totals|summe|sum|closing|opening|ending|end)\b", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?[\d.,' ]*\d(?:[eE][-+]?\d+)?")
_WITH_CODE = re.compile(r"[-+]?[\d.,]*\d\s+[A-Za-z][A-Za-z0-9]{1,19}")


@dataclass
class _Draft:
    """What was learned about the file, line by line of the TOML to write."""

    lines: list[str] = field(default_factory=list)

    def add(self, line: str = "") -> None:
        self.lines.append(line)

    def key(self, name: str, value: object, note: str = "") -> None:
        text = (
            json.dumps(value, ensure_ascii=False)
            if not isinstance(value, bool)
            else ("true" if value else "false")
        )
        self.lines.append(f"{name} = {text}" + (f"  # {note}" if note else ""))


def _fold(name: str) -> str:
    """`ReceivedDate`, `received_date` and `Received date` all as `received date`."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])|[_/\-]", " ", name)
    ascii_only = codecs.encode(spaced, "ascii", "ignore").decode()
    plain = "".join(char for char in ascii_only if char.isalnum() or char == " ")
    return " ".join(plain.lower().split())


def _decode(sample: bytes) -> tuple[str, str]:
    if sample.startswith(codecs.BOM_UTF8):
        sample = sample[len(codecs.BOM_UTF8) :]
    try:
        return sample.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        if error.start > len(sample) - 4:  # a character cut by the sample's end
            return sample[: error.start].decode("utf-8"), "utf-8"
        return sample.decode("cp1252", errors="replace"), "cp1252"


def _rows(text: str, delimiter: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return [row for row in reader if any(cell.strip() for cell in row)][:SAMPLE_ROWS]
    except csv.Error:
        return []


def _delimiter(text: str) -> str:
    """The delimiter that splits the most rows into the same number of cells."""
    best, best_score = ",", -1
    for candidate in (",", ";", "\t", "|"):
        widths = Counter(len(row) for row in _rows(text, candidate))
        width, count = widths.most_common(1)[0] if widths else (1, 0)
        score = count * (width > 1) * width
        if score > best_score:
            best, best_score = candidate, score
    return best


def _header_row(rows: list[list[str]]) -> int:
    """The first row as wide as most rows whose cells are names, not numbers."""
    widths = Counter(len(row) for row in rows)
    width = widths.most_common(1)[0][0]
    for position, row in enumerate(rows):
        names = [cell for cell in row if cell.strip()]
        if (
            len(row) == width
            and len(names) >= width // 2
            and not any(_NUMBER.fullmatch(cell.strip()) for cell in names)
        ):
            return position
    return 0


def _match_columns(header: list[str]) -> dict[str, str]:
    folded = {_fold(name): name for name in header if name.strip()}
    found: dict[str, str] = {}
    taken: set[str] = set()
    for field_name, names in _NAMES.items():
        for name in names:
            if name in folded and folded[name] not in taken:
                found[field_name] = folded[name]
                taken.add(folded[name])
                break
    if "time" in found and found.get("occurred_at") == found["time"]:
        del found["time"]
    if ("debit" in found) != ("credit" in found):
        found.pop("debit", None)
        found.pop("credit", None)
    if "amount" in found:
        found.pop("debit", None)
        found.pop("credit", None)
    if "tx_hash" in found and found["tx_hash"] == found.get("reference"):
        del found["tx_hash"]
    return found


def _date_format(values: list[str], times: list[str] | None) -> str | None:
    """None for ISO 8601; a strptime format; or epoch_seconds / epoch_milliseconds."""
    values = [value.strip() for value in values if value.strip()]
    if not values:
        return None
    if all(re.fullmatch(r"\d{10}(\.\d+)?", value) for value in values):
        return "epoch_seconds"
    if all(re.fullmatch(r"\d{13}", value) for value in values):
        return "epoch_milliseconds"
    if times is not None:
        joined = [f"{day} {time.strip()}" for day, time in zip(values, times, strict=False)]
        for day_format in (f for f in _FORMATS if not TIME_OF_DAY.search(f)):
            for time_format in _TIMES:
                if _all_parse(joined, f"{day_format} {time_format}"):
                    return f"{day_format} {time_format}"
    if all(_iso(value) for value in values):
        return None
    for candidate in _FORMATS:
        if _all_parse(values, candidate):
            return candidate
    return None


def _day_month_swapped(date_format: str) -> str | None:
    """The same format with day and month in each other's place, or None without both."""
    if "%d" not in date_format or "%m" not in date_format:
        return None
    return date_format.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def _iso(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return bool(re.search(r"\d[T ]\d", value))


def _all_parse(values: Iterable[str], date_format: str) -> bool:
    try:
        for value in values:
            datetime.strptime(value, date_format)
    except (ValueError, re.error):
        return False
    return True


def _guess(word: str, kinds: tuple[tuple[re.Pattern[str], str], ...]) -> str | None:
    for pattern, meaning in kinds:
        if pattern.search(word):
            return meaning
    return None


def draft_mapping(path: Path) -> str:
    """A commented TOML mapping proposed for `path`; BadFile when nothing can be read."""
    sample = read_start(path, "CSV file", SAMPLE_BYTES)
    if not sample.strip():
        raise BadFile(f"{path}: the file is empty, so there is nothing to draft a mapping from")
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise BadFile(f"{path}: the file is UTF-16; save it as UTF-8 and draft again")
    text, encoding = _decode(sample)
    if len(sample) >= SAMPLE_BYTES:
        text = text[: text.rfind("\n") + 1]  # the last line may be cut by the sample's end
    delimiter = _delimiter(text)
    rows = _rows(text, delimiter)
    if not rows:
        raise BadFile(f"{path}: no CSV rows found to draft a mapping from")
    start = _header_row(rows)
    header = [cell.strip() for cell in rows[start]]
    body = [row for row in rows[start + 1 :] if len(row) == len(header)]
    footer = [row for row in body if row and _FOOTER.match(row[0])]
    body = [row for row in body if row not in footer]
    columns = _match_columns(header)

    def cells(name: str) -> list[str]:
        position = header.index(name)
        return [row[position].strip() for row in body]

    def values(field_name: str) -> list[str]:
        if field_name not in columns:
            return []
        return [cell for cell in cells(columns[field_name]) if cell]

    first_of = _reference(columns, header, cells)
    if values("fee") and not all(_NUMBER.fullmatch(fee) for fee in values("fee")):
        del columns["fee"]  # e.g. `0.0005 BTC`: not a number this draft can read
        columns.pop("fee_currency", None)

    amounts = values("amount") + values("debit") + values("credit") + values("fee")
    decimal_comma = any(re.fullmatch(r"[-+]?[\d.]*\d,\d+", amount) for amount in amounts)
    thousands = None
    if decimal_comma and any("." in amount for amount in amounts):
        thousands = "."
    elif not decimal_comma and any(re.search(r"\d,\d{3}\b", amount) for amount in amounts):
        thousands = ","
    in_cell = bool(values("amount")) and all(
        _WITH_CODE.fullmatch(amount) for amount in values("amount")
    )
    signed = any(amount.startswith("-") for amount in values("amount"))
    exponent = any(re.search(r"\d[eE][-+]?\d", amount) for amount in amounts)
    times = values("time") if "time" in columns else None
    date_format = _date_format(values("occurred_at"), times)
    if times is not None and not TIME_OF_DAY.search(date_format or ""):
        del columns["time"]

    draft = _Draft()
    draft.add(f"# A mapping drafted from {path.name}: check every line before importing.")
    draft.add(f"# Import with: reconcile-tui import {path.name} --mapping THIS_FILE.toml")
    draft.key("name", f"{path.stem} (drafted)")
    draft.add()
    draft.add("[csv]")
    draft.key("encoding", encoding)
    draft.key("delimiter", "\\t" if delimiter == "\t" else delimiter)
    if start:
        draft.key("skip_lines", start, "rows before the header (a preamble)")
    if decimal_comma:
        draft.key("decimal_comma", True, "amounts like 12,50")
    if thousands:
        draft.key("thousands_separator", thousands)
    if date_format is not None:
        swapped = _day_month_swapped(date_format)
        seen = values("occurred_at")
        if times is not None and TIME_OF_DAY.search(date_format):
            seen = [f"{day.strip()} {time.strip()}" for day, time in zip(seen, times, strict=False)]
        if swapped and _all_parse([v.strip() for v in seen if v.strip()], swapped):
            draft.key(
                "date_format",
                date_format,
                f"EDIT: every day seen is 12 or less, so {swapped!r} (month first) reads"
                " them too: which does the export write?",
            )
        else:
            draft.key("date_format", date_format, "as the dates seen")
        if date_format not in EPOCH_FORMATS and not TIME_OF_DAY.search(date_format):
            draft.key("dates_only", True, "no time of day: records are stored at midnight")
    draft.key("timezone", "UTC", "the zone of times written without an offset: check it")
    draft.add()

    draft.add("[columns]  # our field = the file's header; a field not named is never read")
    for field_name, name in columns.items():
        draft.key(field_name, name)
    if first_of:
        draft.add()
        draft.add("[reference]  # the id is in one of these columns: the first not empty")
        draft.key("first_of", first_of)
    elif "reference" not in columns:
        draft.add()
        draft.add("[reference]  # no column with a unique id: a fingerprint of these cells")
        # Not the status: a newer export of the same payment (pending, then completed)
        # must be the same record, updated, not a second one (docs/mapping.md).
        changing = {columns.get("status")}
        draft.key("fingerprint", [name for name in header if name and name not in changing])
    draft.add()

    draft.add("[amount]")
    no_type = "type" not in columns
    if signed or no_type or "debit" in columns:
        draft.key("signed", signed or no_type, "negative = withdrawal, positive = deposit")
    if in_cell:
        draft.key("currency_in_cell", True, "amounts like 2.5 ETH")
    if exponent:
        draft.key("exponent", True, "amounts like 1.5E-05, read exactly")
    draft.add("# fee_on_top = true  # when the balance moves by the amount and then the fee")

    internal = sorted({word for word in values("type") if _INTERNAL.search(word)})
    _value_maps(
        draft, values("type"), values("status"), signed=signed or no_type, skipped=set(internal)
    )
    _currency_map(draft, values("currency"))
    if internal:
        draft.add()
        draft.add("[[skip]]  # moves between your own accounts: remove if they count here")
        draft.key("column", columns["type"])
        draft.key("equals", internal)
    _defaults(draft, columns, header, in_cell)

    if footer:
        first = header[0]
        draft.add()
        draft.add("[[skip]]  # footer rows seen at the end")
        draft.key("column", first)
        draft.key("matches", "^(" + "|".join(sorted({row[0].split()[0] for row in footer})) + ")")
    return "\n".join(draft.lines) + "\n"


def _reference(
    columns: dict[str, str], header: list[str], cells: Callable[[str], list[str]]
) -> list[str]:
    """Id columns to take the first non-empty of, when the id column is sometimes empty;
    drops a reference column whose cells are not unique (a fingerprint is proposed)."""
    chosen = columns.get("reference")
    if chosen is None:
        return []
    found = cells(chosen)
    if all(found) and len(set(found)) == len(found):
        return []
    del columns["reference"]
    if all(found):
        return []
    ids = [name for name in header if re.search(r"(^|\W|_)id$", _fold(name).replace(" ", "_"))]
    ids = [name for name in ids if name not in columns.values()] or [chosen]
    ids.sort(key=lambda name: name != chosen)
    return ids


def _currency_map(draft: _Draft, codes: list[str]) -> None:
    """Exchange ledgers prefix codes (XXBT, XETH, ZEUR): propose the codes people use."""
    seen = sorted({code for code in codes if re.fullmatch(r"[XZ][A-Z]{3}", code)})
    if not seen or len(seen) != len(set(codes)):
        return
    draft.add()
    draft.add("[values.currency]  # their code = ours")
    for code in seen:
        plain = code[1:]
        draft.key(json.dumps(code), "BTC" if plain == "XBT" else plain)


def _value_maps(
    draft: _Draft, types: list[str], statuses: list[str], *, signed: bool, skipped: set[str]
) -> None:
    unknown_types = sorted({word for word in types if record_type(word) is None})
    if unknown_types:
        draft.add()
        draft.add('[values.type]  # their word = deposit, withdrawal, or "sign" (the sign decides)')
        for word in unknown_types:
            meaning = _guess(word, ((_WITHDRAWAL, "withdrawal"), (_DEPOSIT, "deposit")))
            if signed:
                meaning = "sign"
            if word in skipped and not meaning:
                # The [[skip]] below leaves its rows out; a meaning is needed only without
                # it, and a mapping refuses a word that means nothing it knows.
                draft.add(
                    f'# {json.dumps(word, ensure_ascii=False)} = "deposit"'
                    "  # or withdrawal: needed only if the [[skip]] below is removed"
                )
                continue
            draft.key(
                json.dumps(word, ensure_ascii=False),
                meaning or "?",
                "" if meaning else ("EDIT: deposit or withdrawal"),
            )
    unknown_statuses = sorted({word for word in statuses if record_status(word) is None})
    if unknown_statuses:
        draft.add()
        draft.add("[values.status]  # their word = confirmed, pending or failed")
        for word in unknown_statuses:
            folded = word.casefold()
            meaning = _guess(
                folded, ((_FAILED, "failed"), (_PENDING, "pending"), (_CONFIRMED, "confirmed"))
            )
            draft.key(
                json.dumps(word, ensure_ascii=False),
                meaning or "confirmed",
                ("" if meaning else "check this one"),
            )


def _defaults(draft: _Draft, columns: dict[str, str], header: list[str], in_cell: bool) -> None:
    lines = []
    if "currency" not in columns and not in_cell:
        named = [
            match.group(1) for name in header if (match := re.search(r"\(([A-Z0-9]{2,20})\)", name))
        ]
        if named:
            lines.append(("currency", named[0], "from the header"))
        else:
            lines.append(("currency", "EDIT-ME", "EDIT: the currency code of this file"))
    if "status" not in columns:
        lines.append(("status", "confirmed", "the file has no status column"))
    if "wallet_id" not in columns and "wallet_name" not in columns:
        lines.append(("wallet_name", "main", "the gateway wallet these records belong to"))
    if lines:
        draft.add()
        draft.add("[defaults]  # values for fields the file has no column for")
        for name, value, note in lines:
            draft.key(name, value, note)
