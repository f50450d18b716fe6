"""Writing a scenario: the merchant's CSV (and a bank-style copy), expected.json, scenario.json.

`generate_scenario` makes two streaming passes over the ledger: one to choose the planted
mistakes' targets, one that feeds the gateway's views, writes each merchant row as it
comes and sums it into the independent model of the records. Memory stays small whatever
the number of records. Every file is written whole or not at all (a temporary file
renamed into place), and the same options always give byte-identical files.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

from reconcile_tui import money
from reconcile_tui.errors import BadInput
from reconcile_tui.sandbox.catalog import written_places
from reconcile_tui.sandbox.config import SandboxConfig
from reconcile_tui.sandbox.expected import RecordBooks, ScenarioRules, expected_report
from reconcile_tui.sandbox.ledger import DAY, epoch, epoch_text, transactions
from reconcile_tui.sandbox.openings import plan_opening
from reconcile_tui.sandbox.plants import PLANT_MEANINGS, MerchantRow, Planter, choose_plants
from reconcile_tui.sandbox.spec import CONFIRMED, FAILED, PENDING, status_of
from reconcile_tui.sandbox.units import amount, amount_text
from reconcile_tui.sandbox.views import ViewBuilder
from reconcile_tui.times import DEFAULT_INTERVAL, DEFAULT_PERIOD, INTERVALS, PERIODS
from reconcile_tui.vocabulary import RecordType

__all__ = [
    "BANK_CSV",
    "BANK_MAPPING",
    "DEFAULT_BASE_URL",
    "EXPECTED",
    "MERCHANT_CSV",
    "RULES",
    "SCENARIO",
    "GeneratedScenario",
    "generate_scenario",
]

MERCHANT_CSV: Final = "merchant.csv"
EXPECTED: Final = "expected.json"
SCENARIO: Final = "scenario.json"
BANK_CSV: Final = "bank-export.csv"
BANK_MAPPING: Final = "bank-export.toml"
#: The rules `check` must be given (`--config`) when a scenario asks for any.
RULES: Final = "reconcile.toml"

#: Where `sandbox serve` listens by default: the base_url expected.json names.
DEFAULT_BASE_URL: Final = "http://127.0.0.1:8765"

MERCHANT_HEADER: Final = (
    "reference", "occurred_at", "currency", "wallet_id", "wallet_name", "type", "amount", "fee",
    "status", "tx_hash",
)  # fmt: skip

#: The bank layout: German headers, signed amounts, `;`, decimal comma, cp1252.
BANK_HEADER: Final = (
    "Buchungsdatum", "Referenz", "Währung", "Wallet-ID", "Wallet-Name", "Buchungsart", "Betrag",
    "Gebühr", "Status", "Transaktions-Hash",
)  # fmt: skip
BANK_DATE_FORMAT: Final = "%d.%m.%Y %H:%M:%S"
BANK_STATUS_WORDS: Final = {CONFIRMED: "gebucht", PENDING: "vorgemerkt", FAILED: "storniert"}
BANK_TYPE_WORDS: Final = {
    RecordType.DEPOSIT: "Zahlung",
    RecordType.WITHDRAWAL: "Auszahlung",
    RecordType.OPENING: "Anfangssaldo",
}

BANK_MAPPING_TEXT: Final = """\
# How to read bank-export.csv: the same records as merchant.csv, written the way a
# German bank's account statement export writes them.
#   reconcile-tui import --mapping bank-export.toml bank-export.csv
name = "Bank export (Kontoauszug)"

[csv]
delimiter = ";"
encoding = "cp1252"
decimal_comma = true
thousands_separator = "."
date_format = "{date_format}"
# The export writes UTC wall-clock times without an offset.
timezone = "UTC"

[columns]
reference = "Referenz"
occurred_at = "Buchungsdatum"
currency = "Währung"
wallet_id = "Wallet-ID"
wallet_name = "Wallet-Name"
type = "Buchungsart"
amount = "Betrag"
fee = "Gebühr"
status = "Status"
tx_hash = "Transaktions-Hash"

# Payouts are written negative; the type column must agree with the sign.
[amount]
signed = true

[values.type]
"Zahlung" = "deposit"
"Auszahlung" = "withdrawal"
"Anfangssaldo" = "opening"

[values.status]
"gebucht" = "confirmed"
"vorgemerkt" = "pending"
"storniert" = "failed"
"""


@dataclass(frozen=True)
class GeneratedScenario:
    """What `generate_scenario` wrote."""

    directory: Path
    files: list[Path]
    rows: int
    plants: list[dict[str, Any]]
    expected: dict[str, Any] = field(repr=False)
    #: Where the export starts from opening balances (scenario.json's `opening`), or None.
    opening: dict[str, Any] | None = None
    #: Each expected cause's effect on every figure, by cause id (docs/causes.md).
    effects: dict[str, Any] = field(default_factory=dict, repr=False)


@contextmanager
def _atomic_text(path: Path, encoding: str, newline: str = "") -> Iterator[IO[str]]:
    """A text file written whole or not at all, streamed (a temp file renamed into place).

    The temporary file is created like any other file (the umask decides who may read
    it): a scenario is meant to be shared, committed and read by other tools.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("x", encoding=encoding, newline=newline) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise BadInput(f"{path}: cannot write ({error.strerror or error})") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _write_text(path: Path, text: str) -> None:
    with _atomic_text(path, "utf-8") as stream:
        stream.write(text)


def merchant_fields(row: MerchantRow) -> list[str]:
    """A row in the default layout (gateway status words: they import as ours)."""
    scale = written_places(row.currency)
    wallet_id, wallet_name = row.wallet
    return [
        row.reference,
        epoch_text(row.at),
        row.currency,
        wallet_id or "",
        wallet_name or "",
        row.type.value,
        amount_text(row.amount, scale),
        amount_text(row.fee, scale),
        row.status,
        row.tx_hash or "",
    ]


_TO_GERMAN: Final = str.maketrans({",": ".", ".": ","})


def _german(value: int, scale: int) -> str:
    """1234.5 -> `1.234,500000`: thousands dots, decimal comma."""
    return money.format_amount(amount(value, scale), grouping=True).translate(_TO_GERMAN)


def bank_fields(row: MerchantRow) -> list[str]:
    """A row in the bank layout: withdrawals negative, fee positive, German words."""
    scale = written_places(row.currency)
    signed = _german(row.amount, scale)
    if row.type is RecordType.WITHDRAWAL:
        signed = "-" + signed
    wallet_id, wallet_name = row.wallet
    return [
        datetime.fromtimestamp(row.at, UTC).strftime(BANK_DATE_FORMAT),
        row.reference,
        row.currency,
        wallet_id or "",
        wallet_name or "",
        BANK_TYPE_WORDS[row.type],
        signed,
        _german(row.fee, scale),
        BANK_STATUS_WORDS[status_of(row.status)],
        row.tx_hash or "",
    ]


def _json_text(document: object) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def generate_scenario(
    out: Path,
    config: SandboxConfig | None = None,
    *,
    discrepancies: int = 10,
    period: str = DEFAULT_PERIOD,
    interval: str = DEFAULT_INTERVAL,
    bank_export: bool = False,
    base_url: str = DEFAULT_BASE_URL,
    tolerances: Mapping[str, str] | None = None,
    low_balance: Mapping[str, str] | None = None,
) -> GeneratedScenario:
    """Write a scenario for the ledger of `config` into directory `out`.

    merchant.csv (default layout, planted mistakes), expected.json (what `check` with
    this period/interval must report), scenario.json (what `sandbox serve --scenario`
    needs, and the plants), and with `bank_export` the same records as bank-export.csv
    plus its mapping bank-export.toml. `tolerances` and `low_balance` (currency ->
    amount text) are rules `check` is to apply: they are written into reconcile.toml,
    which the check must then be given with `--config`.
    """
    config = config or SandboxConfig()
    if period not in PERIODS:
        raise BadInput(f"--period must be one of {', '.join(PERIODS)}, not {period!r}")
    if interval not in INTERVALS:
        raise BadInput(f"--interval must be one of {', '.join(INTERVALS)}, not {interval!r}")
    if out.exists() and not out.is_dir():
        raise BadInput(f"{out}: exists and is not a directory")
    rules = ScenarioRules.of(tolerances or {}, low_balance or {})
    spec = config.ledger
    plants = choose_plants(spec, discrepancies, period, interval)
    opening = plan_opening(spec)

    clock = epoch(spec.clock)
    # Hour by hour from a month before today's midnight: every period's first bucket.
    books = RecordBooks(hours_from=clock - clock % DAY - 31 * DAY)
    builder = ViewBuilder(spec)
    planter = Planter(plants, opening)
    rows = 0
    files = [out / MERCHANT_CSV]
    with _atomic_text(out / MERCHANT_CSV, "utf-8") as merchant_stream:
        merchant = csv.writer(merchant_stream, lineterminator="\n")
        merchant.writerow(MERCHANT_HEADER)
        with _bank_writer(out / BANK_CSV if bank_export else None) as bank:

            def write(row: MerchantRow) -> None:
                merchant.writerow(merchant_fields(row))
                if bank is not None:
                    bank.writerow(bank_fields(row))
                books.add(row)

            for tx in transactions(spec):
                builder.add(tx)
                for row in planter.rows_for(tx):
                    write(row)
                    rows += 1
            for row in planter.finish():
                write(row)
                rows += 1

    views = builder.finish()
    breaker = config.break_invariant
    effects: dict[str, Any] = {}
    balances = views.balances_document(breaker)
    histories = {
        code: views.history_document(code, period, interval, breaker) for code in views.codes
    }
    expected = expected_report(
        balances,
        histories,
        books,
        rules,
        period=period,
        interval=interval,
        base_url=base_url,
        record_files=[MERCHANT_CSV],
        plants=plants,
        breaker=breaker,
        effects=effects,
    )
    described = [plant.describe() for plant in plants]
    opened = None
    if opening is not None:
        opened = {
            "currency": opening.currency,
            "occurred_at": epoch_text(opening.at),
            "references": [row.reference for row in planter.opening_rows],
            "transactions_left_out": planter.left_out,
        }
    scenario = {
        "scenario_version": 1,
        "ledger": config.describe(),
        "break_invariant": breaker,
        "period": period,
        "interval": interval,
        "discrepancies": discrepancies,
        "rows": rows,
        "files": {
            "records": MERCHANT_CSV,
            "expected": EXPECTED,
            **({"rules": RULES} if rules.configured else {}),
            **({"bank_export": BANK_CSV, "bank_mapping": BANK_MAPPING} if bank_export else {}),
        },
        "rules": rules.describe(),
        "opening": opened,
        "plant_kinds": {kind.value: meaning for kind, meaning in PLANT_MEANINGS.items()},
        "plants": described,
    }
    _write_text(out / EXPECTED, _json_text(expected))
    _write_text(out / SCENARIO, _json_text(scenario))
    files += [out / EXPECTED, out / SCENARIO]
    if rules.configured:
        _write_text(out / RULES, rules.toml())
        files.append(out / RULES)
    if bank_export:
        _write_text(out / BANK_MAPPING, BANK_MAPPING_TEXT.format(date_format=BANK_DATE_FORMAT))
        files += [out / BANK_CSV, out / BANK_MAPPING]
    return GeneratedScenario(out, files, rows, described, expected, opened, effects)


@contextmanager
def _bank_writer(path: Path | None) -> Iterator[Any]:
    """A csv writer for the bank layout, or None when no bank export was asked for."""
    if path is None:
        yield None
        return
    with _atomic_text(path, "cp1252") as stream:
        writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")
        writer.writerow(BANK_HEADER)
        yield writer
