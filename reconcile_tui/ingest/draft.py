"""Drafting a mapping for an export we have not seen: a commented TOML for a person to review.

It reads the start of the file only: the encoding, the delimiter, the header row (after a
preamble), the columns by their names (accents folded), how amounts and dates are written,
and the type and status words seen. Whatever it cannot know it writes as an `EDIT:` line to
check: a user who does what the draft says must not import wrong values without a word
(docs/mapping.md, "Drafting a mapping").
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from reconcile_tui.errors import BadFile
from reconcile_tui.files import read_start
from reconcile_tui.ingest.mapping import EPOCH_FORMATS, TIME_OF_DAY
from reconcile_tui.money import AmountError, NumberStyle, parse_amount, trimmed
from reconcile_tui.vocabulary import record_status, record_type

__all__ = ["draft_mapping"]

#: How much of the file is read to draft from: enough rows to see the words used.
SAMPLE_BYTES = 256 * 1024
SAMPLE_ROWS = 400

#: Header names (folded: without accents, punctuation or case) that usually hold each
#: field. A field takes the first of its names the file has, so the most specific come
#: first: a payment's own id before the invoice's or the order's (an order may be paid in
#: several payments), and a bare `id` last.
_NAMES: dict[str, tuple[str, ...]] = {
    "reference": (
        "payment id", "transaction id", "txn id", "charge id", "charge code", "transfer id",
        "trade id", "invoice id", "order id", "reference", "ref", "refid", "referenz",
        "reference number", "buchungsnummer", "uuid", "id", "transaction",
    ),
    "occurred_at": (
        "occurred at", "date", "datetime", "timestamp", "time", "created", "created at",
        "date utc", "created utc", "utc time", "date time", "received date", "buchungsdatum",
        "datum", "completed", "settled", "booking date", "posting date", "value date",
        "time created", "date created",
    ),
    "time": ("time", "uhrzeit", "time utc"),
    "time_zone": ("time zone", "timezone", "zone", "tz"),
    "currency": (
        "currency", "asset", "coin", "ccy", "symbol", "wahrung", "devise", "unit",
        "crypto code", "amount currency", "amount unit", "amount balance unit",
    ),
    "amount": (
        "amount", "net", "change", "quantity", "quantity transacted", "paid", "betrag",
        "montant", "total amount", "net amount",
    ),
    "debit": ("debit", "money out", "paid out", "withdrawals", "soll", "out"),
    "credit": ("credit", "money in", "paid in", "deposits", "haben", "in"),
    "fee": (
        "fee", "fees", "commission", "gebuhr", "gebuhren", "frais", "fee amount",
        "transaction fee", "network fee", "fees and or spread",
    ),
    "fee_currency": (
        "fee currency", "fee unit", "fee asset", "fee coin", "fee ccy", "commission asset",
        "price currency",
    ),
    "type": (
        "type", "kind", "operation", "transaction type", "category", "art", "buchungsart",
        "umsatzart", "typ", "side", "action",
    ),
    "status": (
        "status", "state", "payment status", "invoice status", "financial status",
        "transaction status", "statut", "zustand",
    ),
    "tx_hash": (
        "tx hash", "txhash", "transaction hash", "hash", "txid", "tx id", "blockchain id",
        "transaktions hash", "transaktionshash",
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

# Words are matched with their accents folded (`Überweisung` as `uberweisung`).
_DEPOSIT = re.compile(
    r"deposit|receiv|recv|credit|incoming|\bin\b|payment|sale|charge|invoice|settle|top.?up|"
    r"gutschrift|eingang|buy",
    re.IGNORECASE,
)
_WITHDRAWAL = re.compile(
    r"withdraw|send|sent|payout|debit|outgoing|\bout\b|refund|spend|lastschrift|"
    r"ausgang|uberweisung|sell",
    re.IGNORECASE,
)
#: An opening balance is its own type, whatever its sign (docs/mapping.md, "Rules").
_OPENING = re.compile(
    r"opening|anfangssaldo|saldovortrag|startsaldo|eroffnungssaldo|initial balance|"
    r"solde (initial|d.?ouverture)",
    re.IGNORECASE,
)
_CONFIRMED = re.compile(
    r"complet|succe|done|settled|paid|booked|\bok\b|confirm|gebucht|final|captured|"
    r"abgeschlossen|erfolgreich|bezahlt|termine|effectue|valide"
)
#: Before confirmed: `underpaid` and `partially paid` are not paid.
_PENDING = re.compile(
    r"pend|process|open|offen|ausstehend|attente|unconfirm|wait|queue|send|new|underpaid|"
    r"partial(ly)?.?paid|"
    r"vorgemerkt|authori[sz]ed|in progress|bearbeitung"
)
_FAILED = re.compile(
    r"fail|cancel|reject|expire|error|invalid|storn|revers|declin|void|timed out|timeout|"
    r"abgelehnt|abgebrochen|abgelaufen|annul|echou|refus"
)
#: Money given back: not a word of ours, and what it should count as depends on whether
#: the export lists the refund as a row of its own.
_REFUNDED = re.compile(r"refund|erstatt|rembours|chargeback")
#: What gateways that write a status as a number mean by it: CoinPayments (below 0 failed,
#: 100 and 2 complete, the rest pending).
_STATUS_CODES = {
    -2: ("failed", "PayPal refund or reversal"),
    -1: ("failed", "cancelled or timed out"),
    0: ("pending", "waiting for the buyer's funds"),
    1: ("pending", "funds seen, not yet complete"),
    2: ("confirmed", "queued for payout: complete"),
    3: ("pending", "PayPal pending"),
    100: ("confirmed", "complete"),
}
#: Type words of moves inside one's own accounts: proposed as rows to skip.
_INTERNAL = re.compile(r"transfer|internal|\bself\b|staking", re.IGNORECASE)
_FOOTER = re.compile(r"^\s*(total|totals|summe|sum|closing|opening|ending|end)\b", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?[\d.,' ]*\d(?:[eE][-+]?\d+)?")
_WITH_CODE = re.compile(r"[-+]?[\d.,]*\d\s+[A-Za-z][A-Za-z0-9]{1,19}")
#: The digits of an amount cell and the marks between them (`-1.234,56 EUR` -> `1.234,56`).
_DIGITS = re.compile(r"[-+]?\d(?:[\d.,' ]*\d)?")
#: One mark between digits that could as well group thousands: `1,500`, `2.125`.
_GROUPED = re.compile(r"[1-9]\d{0,2}[.,]\d{3}")

#: Headers (folded) of columns that change between two exports of the same payment, so a
#: fingerprint leaves them out (docs/mapping.md, "Drafting a mapping"): times other than
#: the one it happened at, hashes that appear once it is on chain, counts that grow.
_A_TIME = re.compile(
    r"\b(date|datum|time|timestamp|datetime|zeit|uhrzeit|valuta)\b|\b(at|on)$|"
    r"^(created|updated|modified|completed|confirmed|settled|processed|finished|expires|"
    r"expired|expiry|cancelled|canceled|refunded)( utc)?$"
)
_A_HASH = re.compile(r"\bhash\b|hash$|\btx ?id\b|\bblockchain id\b")
_A_COUNT = re.compile(r"\b(confirmations?|confs?|count|block|block height|block number|attempts)\b")
_WRITTEN_TIME = re.compile(r"\d{4}-\d\d-\d\d(?:[T ].*)?|\d{1,2}[./]\d{1,2}[./]\d{2,4}(?: .*)?")
#: A status column under a name the draft does not know (`Payment State`).
_A_STATUS = re.compile(r"\b(status|state|statut|zustand|estado|stato)\b")
#: Words an accounting tool's report of one account says of itself: there a debit to
#: your own (asset) account is money in, the other way round from a bank statement.
_LEDGER = re.compile(
    r"account[ _-]?transactions|(general|nominal)[ _-]?ledger|trial[ _-]?balance|"
    r"hauptbuch|kontenblatt|grand[ _-]?livre",
    re.IGNORECASE,
)


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
    """`ReceivedDate`, `received_date` and `Received date` all as `received date`;
    `Währung` as `wahrung`, `Débit` as `debit`."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])|[_/\-]", " ", _without_accents(name))
    plain = "".join(char for char in spaced.casefold() if char.isalnum() or char == " ")
    return " ".join(plain.split())


def _without_accents(text: str) -> str:
    """Letters without their marks, `ß` as `ss`: dropping `ü` made `Gebühr` `gebhr`, which
    no known name matched (docs/mapping.md, "Drafting a mapping")."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss").replace("ẞ", "SS"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


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
    """The first row as wide as most rows whose cells are names, not numbers. Rows of one
    cell are a preamble's (a report's title, its period), however many there are."""
    widths = Counter(len(row) for row in rows if len(row) > 1) or Counter(len(row) for row in rows)
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


def _day_month_note(swapped: str) -> str:
    """The line to check when both orders read every date: it names the other order in
    words that match it (US formats with AM/PM are month first, so the other is day first)."""
    order = "day first" if swapped.index("%d") < swapped.index("%m") else "month first"
    return (
        f"EDIT: every day seen is 12 or less, so {swapped!r} ({order}) reads"
        " them too: which does the export write?"
    )


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
    notes: dict[str, str] = {}
    _status_by_its_name(columns, header, notes)

    def cells(name: str) -> list[str]:
        position = header.index(name)
        return [row[position].strip() for row in body]

    def values(field_name: str) -> list[str]:
        if field_name not in columns:
            return []
        return [cell for cell in cells(columns[field_name]) if cell]

    first_of = _reference(columns, header, body)
    if values("fee") and not all(_NUMBER.fullmatch(fee) for fee in values("fee")):
        del columns["fee"]  # e.g. `0.0005 BTC`: not a number this draft can read
        columns.pop("fee_currency", None)

    amounts = values("amount") + values("debit") + values("credit") + values("fee")
    reading = _reading(amounts, delimiter)
    in_cell = bool(values("amount")) and all(
        _WITH_CODE.fullmatch(amount) for amount in values("amount")
    )
    signed = any(amount.startswith("-") for amount in values("amount"))
    exponent = any(re.search(r"\d[eE][-+]?\d", amount) for amount in amounts)
    times = values("time") if "time" in columns else None
    date_format = _date_format(values("occurred_at"), times)
    if times is not None and not TIME_OF_DAY.search(date_format or ""):
        del columns["time"]
    if "debit" in columns:
        preamble = " ".join(cell for row in rows[:start] for cell in row)
        _debit_and_credit(columns, notes, ledger=bool(_LEDGER.search(f"{path.stem} {preamble}")))
    fingerprint = []
    if not first_of and "reference" not in columns:
        fingerprint = _fingerprint(header, columns, cells)

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
    if reading.decimal_comma or reading.note:
        draft.key("decimal_comma", reading.decimal_comma, reading.note or "amounts like 12,50")
    if reading.thousands:
        draft.key("thousands_separator", reading.thousands)
    if date_format is not None:
        swapped = _day_month_swapped(date_format)
        seen = values("occurred_at")
        if times is not None and TIME_OF_DAY.search(date_format):
            seen = [f"{day.strip()} {time.strip()}" for day, time in zip(seen, times, strict=False)]
        if swapped and _all_parse([v.strip() for v in seen if v.strip()], swapped):
            draft.key("date_format", date_format, _day_month_note(swapped))
        else:
            draft.key("date_format", date_format, "as the dates seen")
        if date_format not in EPOCH_FORMATS and not TIME_OF_DAY.search(date_format):
            draft.key("dates_only", True, "no time of day: records are stored at midnight")
    draft.key("timezone", "UTC", "the zone of times written without an offset: check it")
    draft.add()

    draft.add("[columns]  # our field = the file's header; a field not named is never read")
    for field_name, name in columns.items():
        draft.key(field_name, name, notes.get(field_name, ""))
    _missing_columns(draft, columns)
    named = set(columns.values()) | set(first_of) | set(fingerprint)
    _listed(draft, "# not read: ", [name for name in header if name and name not in named])
    if first_of:
        draft.add()
        draft.add("[reference]  # the id is in one of these columns: the first not empty")
        draft.key("first_of", first_of)
    elif fingerprint:
        draft.add()
        draft.add("[reference]  # no column with a unique id: a fingerprint of these cells")
        draft.add("# (not the status, fees, hashes, counts or other times: a newer export of")
        draft.add("# the same payment changes them, and must update it, not add it again)")
        draft.key("fingerprint", fingerprint)
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


def _status_by_its_name(columns: dict[str, str], header: list[str], notes: dict[str, str]) -> None:
    """A status column under a name not known (`Payment State`) is still the status, to
    check: without it every row was drafted confirmed, "the file has no status column"."""
    if "status" in columns:
        return
    taken = set(columns.values())
    for name in header:
        if name not in taken and _A_STATUS.search(_fold(name)):
            columns["status"] = name
            notes["status"] = "EDIT: chosen by its name: is it the payment's status?"
            return


def _missing_columns(draft: _Draft, columns: dict[str, str]) -> None:
    """A date or amount column not recognised is a line to fill in, never left out: the
    placeholder refuses the import until it is (no `EDIT-ME` header exists)."""
    if "occurred_at" not in columns:
        draft.key(
            "occurred_at", "EDIT-ME", "EDIT: no date column recognised: write its header here"
        )
    if "amount" not in columns and "debit" not in columns:
        draft.key(
            "amount",
            "EDIT-ME",
            "EDIT: no amount column recognised: write its header here"
            " (or debit = and credit = for money out and money in)",
        )


def _listed(draft: _Draft, prefix: str, names: list[str], width: int = 88) -> None:
    """`names` quoted, on comment lines of about `width` characters."""
    lines: list[list[str]] = [[]]
    for name in names:
        quoted = json.dumps(name, ensure_ascii=False)
        if lines[-1] and len(prefix) + len(", ".join([*lines[-1], quoted])) > width:
            lines.append([])
        lines[-1].append(quoted)
    for position, line in enumerate(line for line in lines if line):
        draft.add(
            ("#   " if position else prefix) + ", ".join(line) + ("," * (line is not lines[-1]))
        )


@dataclass(frozen=True)
class _Reading:
    """How the amounts are written: the decimal mark, the thousands separator, and a line
    to check when the file's amounts read either way (docs/mapping.md, "Drafting a mapping")."""

    decimal_comma: bool
    thousands: str | None
    note: str = ""


def _marks(amount: str) -> set[str]:
    """The decimal marks `amount` can be written with: `,` or `.`, or both when its one mark
    could as well group thousands in the other reading (`1,500`, `2.125`)."""
    found = _DIGITS.search(amount)
    digits = found.group().lstrip("+-") if found else ""
    commas, points = digits.count(","), digits.count(".")
    if not commas and not points:
        return {",", "."}
    if commas and points:  # 1.234,56 or 1,234.56: the last one is the decimal mark
        return {"," if digits.rfind(",") > digits.rfind(".") else "."}
    mark, other = ("," if commas else "."), ("." if commas else ",")
    if commas + points > 1:  # 1,234,567: the marks group thousands
        return {other}
    if _GROUPED.fullmatch(digits) and not re.search(r"\d[eE]", amount):
        return {mark, other}
    return {mark}  # 12,5 or 288,000000 or 0,500: not a thousands separator


def _reading(amounts: list[str], delimiter: str) -> _Reading:
    """A decimal comma only when some amount cannot be read with a decimal point, and the
    other way round; amounts that fit both readings (`1,500` and `2.125`), or contradict
    each other, get the more likely one and a line to check: a US `1,500` read as 1.5 was
    imported without a word."""
    shown = [amount for amount in amounts if re.search(r"\d[.,]\d", amount)]
    commas = [amount for amount in shown if _marks(amount) == {","}]
    points = [amount for amount in shown if _marks(amount) == {"."}]
    either = [amount for amount in shown if len(_marks(amount)) == 2]
    by_comma = _Reading(True, _grouping(shown, "."))
    by_point = _Reading(False, _grouping(shown, ","))
    if commas and not points:
        return by_comma
    if not commas and (points or not either):
        return by_point
    # More amounts that need one reading make it the likely one; a file that cannot tell
    # them apart at all is more likely European when it is split by semicolons.
    comma_first = len(commas) > len(points) or (len(commas) == len(points) and delimiter == ";")
    likely, other = (by_comma, by_point) if comma_first else (by_point, by_comma)
    examples = _examples(either + commas + points)
    return _Reading(likely.decimal_comma, likely.thousands, _two_readings(examples, likely, other))


def _grouping(amounts: list[str], separator: str) -> str | None:
    """The thousands separator the amounts show, when the decimal mark is the other one."""
    for candidate in (separator, " ", "'"):
        if any(re.search(r"\d" + re.escape(candidate) + r"\d{3}", amount) for amount in amounts):
            return candidate
    return None


def _examples(amounts: list[str]) -> list[str]:
    """One amount written with a comma and one with a point, to show each read both ways."""
    chosen: list[str] = []
    for mark in (",", "."):
        chosen.extend([amount for amount in amounts if mark in amount and amount not in chosen][:1])
    return chosen


def _two_readings(examples: list[str], likely: _Reading, other: _Reading) -> str:
    def named(reading: _Reading) -> str:
        return "a decimal comma" if reading.decimal_comma else "a decimal point"

    def settings(reading: _Reading) -> str:
        grouping = (
            f"thousands_separator = {json.dumps(reading.thousands)}"
            if reading.thousands
            else "no thousands_separator"
        )
        return f"decimal_comma = {str(reading.decimal_comma).lower()}, {grouping}"

    def read(reading: _Reading) -> str:
        return " and ".join(
            f"{json.dumps(amount)} is {_read_as(amount, reading)}" for amount in examples
        )

    return (
        f"EDIT: the amounts do not tell the decimal mark: read with {named(likely)},"
        f" {read(likely)}; with {named(other)} ({settings(other)}), {read(other)}."
        " Which does the export write?"
    )


def _read_as(amount: str, reading: _Reading) -> str:
    """`amount` as the import would store it with `reading`, or why it would refuse it."""
    found = _DIGITS.search(amount)
    style = NumberStyle(
        decimal_comma=reading.decimal_comma, thousands=reading.thousands, signed=True
    )
    try:
        return format(trimmed(parse_amount(found.group() if found else amount, style=style)), "f")
    except AmountError:
        return "refused"


def _debit_and_credit(columns: dict[str, str], notes: dict[str, str], *, ledger: bool) -> None:
    """Which way round `Debit` and `Credit` are read. On a bank statement a debit is money
    out; in an accounting tool's report of your own (asset) account a debit is money in:
    the words alone cannot tell, so the line says which way it was read and how to swap
    (docs/mapping.md, "Drafting a mapping"). `Money out`/`Money in` say it themselves."""
    debit, credit = columns["debit"], columns["credit"]
    if _fold(debit) not in {"debit", "soll"}:
        return
    tools = "Xero or QuickBooks Account Transactions, a General Ledger"
    if ledger:
        columns["debit"], columns["credit"] = credit, debit
        notes["debit"] = (
            f"EDIT: read as a ledger of your own account ({tools}): {json.dumps(debit)} is"
            f" money in, {json.dumps(credit)} money out; on a bank statement a debit is money"
            " out: then swap the two headers"
        )
    else:
        notes["debit"] = (
            f"EDIT: read as a bank statement: {json.dumps(debit)} is money out,"
            f" {json.dumps(credit)} money in; in a ledger of your own account ({tools}) a"
            " debit is money in: then swap the two headers"
        )


def _reference(columns: dict[str, str], header: list[str], body: list[list[str]]) -> list[str]:
    """Picks the id column: the first of the names ids go by (most specific first) whose
    cells are all filled and each on one row. A row exported twice whole keeps its id (the
    import reports it as a duplicate: docs/mapping.md). Else the id columns to take the
    first non-empty of, when the id is sometimes empty; else none (a fingerprint)."""
    chosen = columns.get("reference")
    if chosen is None:
        return []
    taken = {name for field_name, name in columns.items() if field_name != "reference"}
    folded = {_fold(name): name for name in header if name.strip()}
    named = [folded[name] for name in _NAMES["reference"] if name in folded]
    for name in (name for name in named if name not in taken):
        if _holds_ids(header.index(name), body):
            columns["reference"] = name
            return []
    del columns["reference"]
    if all(row[header.index(chosen)].strip() for row in body):
        return []
    ids = [name for name in header if re.search(r"(^|\W|_)id$", _fold(name).replace(" ", "_"))]
    ids = [name for name in ids if name not in columns.values()] or [chosen]
    ids.sort(key=lambda name: name != chosen)
    return ids


def _holds_ids(position: int, body: list[list[str]]) -> bool:
    first: dict[str, list[str]] = {}
    for row in body:
        cell = row[position].strip()
        if not cell or first.setdefault(cell, row) != row:
            return False
    return True


def _fingerprint(
    header: list[str], columns: dict[str, str], cells: Callable[[str], list[str]]
) -> list[str]:
    """The cells that say which payment a row is. Not those a newer export of the same
    payment changes (pending, then completed: docs/mapping.md, "Drafting a mapping"): the
    status, the fee and the hash that appear once it settles, every time but the one it
    happened at, counts of confirmations."""
    changing = {columns.get(name) for name in ("status", "tx_hash", "fee", "fee_currency")}
    kept = set(columns.values()) - changing
    return [
        name
        for name in header
        if name and (name in kept or not (name in changing or _changes(name, cells(name))))
    ]


def _changes(name: str, cells: list[str]) -> bool:
    folded = _fold(name)
    named = ("fee", "fee_currency", "status", "tx_hash")
    if any(folded in _NAMES[field_name] for field_name in named):
        return True
    if any(pattern.search(folded) for pattern in (_A_TIME, _A_HASH, _A_COUNT, _A_STATUS)):
        return True
    filled = [cell for cell in cells if cell]
    return bool(filled) and all(_WRITTEN_TIME.fullmatch(cell) for cell in filled)


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
            meaning = _type_meaning(word, signed=signed)
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
            meaning, note = _status_meaning(word)
            draft.key(json.dumps(word, ensure_ascii=False), meaning, note)


def _type_meaning(word: str, *, signed: bool) -> str | None:
    """An opening balance whatever its sign; else the sign when amounts are signed; else
    what the word says."""
    plain = _without_accents(word)
    if _OPENING.search(plain):
        return "opening"
    if signed:
        return "sign"
    return _guess(plain, ((_WITHDRAWAL, "withdrawal"), (_DEPOSIT, "deposit")))


def _status_meaning(word: str) -> tuple[str, str]:
    """What a status word means, and the line to check when the draft is not sure. A word
    it does not know is `?`, which the mapping refuses until it is written: it used to be
    drafted confirmed, and imported as money received."""
    plain = _without_accents(word).casefold().strip()
    if re.fullmatch(r"[-+]?\d+", plain):
        return _status_code(int(plain))
    if _REFUNDED.search(plain):
        if "partial" in plain:
            return "confirmed", "EDIT: partly refunded: the payment stands, the refund aside"
        return (
            "failed",
            "EDIT: refunded: failed leaves the payment out; if the export lists the refund"
            " as a row of its own, write confirmed",
        )
    meaning = _guess(plain, ((_FAILED, "failed"), (_PENDING, "pending"), (_CONFIRMED, "confirmed")))
    if meaning:
        return meaning, ""
    return "?", "EDIT: not a word this draft knows: confirmed, pending or failed?"


def _status_code(code: int) -> tuple[str, str]:
    """A status written as a number means what its gateway says; CoinPayments' codes are
    the known ones, and even they are a line to check."""
    if code in _STATUS_CODES:
        meaning, said = _STATUS_CODES[code]
        return meaning, f"EDIT: a status code; CoinPayments' {code} is {said}: is it yours?"
    meaning = "failed" if code < 0 else "confirmed" if code >= 100 else "pending"
    return meaning, "EDIT: a status code this draft does not know: confirmed, pending or failed?"


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
