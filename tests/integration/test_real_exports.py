"""Exports in the shapes real gateways, exchanges, wallets and banks write, through the CLI.

Each file under tests/data/exports has a mapping written from docs/mapping.md alone; each
imports exactly. `mapping draft` proposes a mapping that imports the same records after at
most a one-line edit. Refusals exit 2 with file:line and what to write, the database as it
was.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from reconcile_tui.cli import main

EXPORTS = Path(__file__).parent.parent / "data" / "exports"

Row = tuple[str, str, str, str, str, str]  # occurred_at, currency, type, amount, fee, status


@dataclass(frozen=True)
class Export:
    name: str
    records: list[Row]
    summary: tuple[str, ...] = ()
    duplicates: int = 0
    #: The one line of the drafted mapping to change: (line starting with, new line).
    draft_edit: tuple[str, str] | None = None


C, P = "confirmed", "pending"
ON_TOP = ("# fee_on_top = true", "fee_on_top = true")
DEP, WD = "deposit", "withdrawal"

CASES = [
    Export(
        "btcpay-payments",
        [
            ("2024-03-01T10:15:00Z", "BTC", DEP, "0.0015", "0", C),
            ("2024-03-01T11:20:30Z", "BTC", DEP, "0.00075", "0", P),
            ("2024-03-02T09:01:02Z", "BTC", DEP, "0.000015", "0", C),
        ],
        draft_edit=("date_format = ", 'date_format = "%m/%d/%Y %H:%M:%S"'),
    ),
    Export(
        "coinmate",
        [
            ("2024-03-01T10:15:00Z", "LTC", DEP, "2.5", "0", C),
            ("2024-03-01T12:00:00Z", "LTC", DEP, "1", "0", C),
            ("2024-03-02T08:30:00Z", "LTC", WD, "0.501", "0.001", C),
            ("2024-03-02T09:00:00Z", "LTC", WD, "0.2", "0", P),
        ],
        summary=("fees in another currency kept out of the fees: 0.48 EUR",),
        draft_edit=ON_TOP,
    ),
    Export(
        "kraken-ledgers",
        [
            ("2024-03-01T10:15:00Z", "ETH", DEP, "1", "0", C),
            ("2024-03-01T11:00:00Z", "ETH", WD, "0.5035", "0.0035", C),
            ("2024-03-02T09:00:00Z", "ETH", WD, "0.2", "0", C),
            ("2024-03-02T09:30:00Z", "ETH", DEP, "0.0998", "0.0002", C),
        ],
        summary=("1 row skipped by the mapping (type is 'transfer' or 'staking': 1)",),
        draft_edit=ON_TOP,
    ),
    Export(
        "binance-history",
        [
            ("2024-03-01T10:15:00Z", "BNB", DEP, "0.5", "0", C),
            ("2024-03-01T11:00:00Z", "BNB", WD, "0.00003605", "0", C),
            ("2024-03-01T11:00:00Z", "BNB", WD, "0.1", "0", C),
            ("2024-03-02T08:00:00Z", "BNB", WD, "0.15", "0", C),
        ],
        summary=("1 repeated reference kept aside", "1 row skipped by the mapping"),
        duplicates=1,
    ),
    Export(
        "bank-statement",
        [
            ("2024-02-29T23:00:00Z", "EUR", DEP, "1250", "0", C),
            ("2024-03-03T23:00:00Z", "EUR", WD, "45.9", "0", C),
            ("2024-03-04T23:00:00Z", "EUR", WD, "3.1", "0", C),
        ],
        summary=(
            "times unknown (the export has dates only): records stored at 00:00 Europe/Berlin",
            "1 row skipped by the mapping (Booking date matches",
        ),
        draft_edit=("timezone = ", 'timezone = "Europe/Berlin"'),
    ),
    Export(
        "stripe-balance",
        [
            ("2024-03-01T10:15:00Z", "USD", DEP, "96.8", "3.2", C),
            ("2024-03-01T11:00:00Z", "USD", DEP, "1213.45", "36.55", C),
            ("2024-03-02T09:00:00Z", "USD", WD, "500", "0", C),
            ("2024-03-02T12:00:00Z", "USD", WD, "20", "0", C),
        ],
        draft_edit=ON_TOP,
    ),
    Export(
        "paypal-activity",
        [
            ("2024-03-01T09:15:00Z", "EUR", DEP, "9.41", "0.59", C),
            ("2024-03-01T22:30:00Z", "EUR", DEP, "1206.15", "43.85", C),
            ("2024-03-02T08:00:00Z", "EUR", WD, "100", "0", P),
        ],
    ),
    Export(
        "coinbase-transactions",
        [
            ("2024-03-01T10:15:00Z", "ETH", DEP, "0.25", "0", C),
            ("2024-03-01T12:00:00Z", "ETH", DEP, "0.1", "0", C),
            ("2024-03-02T09:00:00Z", "ETH", WD, "0.05", "0", C),
        ],
        summary=("fees in another currency kept out of the fees: 5.00 USD",),
    ),
    Export(
        "trezor-suite",
        [
            ("2024-03-01T10:15:00Z", "BTC", DEP, "0.01", "0", C),
            ("2024-03-02T09:00:00Z", "BTC", WD, "0.004021", "0.000021", C),
        ],
        summary=("1 row skipped by the mapping (Type is 'SELF': 1)",),
        draft_edit=ON_TOP,
    ),
    Export(
        "bitstamp-transactions",
        [
            ("2024-03-01T10:15:00Z", "BTC", DEP, "1", "0", C),
            ("2024-03-02T09:00:00Z", "BTC", WD, "0.25", "0", C),
            ("2024-03-03T16:30:00Z", "USD", DEP, "500", "0", C),
        ],
    ),
    Export(
        "coinbase-pro-account",
        [
            ("2024-03-01T10:15:00.123000Z", "BTC", DEP, "1", "0", C),
            ("2024-03-01T12:00:00.456000Z", "BTC", WD, "0.2", "0", C),
            ("2024-03-02T09:00:00Z", "BTC", WD, "0.5", "0", C),
        ],
        summary=("1 row skipped by the mapping (type is 'fee': 1)",),
    ),
]


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    """Run `reconcile-tui ARGS` in-process on a database of its own."""
    for name in ("RECONCILE_DB", "CRYPTOFUSE_API_URL", "CRYPTOFUSE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    db = tmp_path / "books.db"

    def run(*args: str | Path, database: Path = db) -> Result:
        with pytest.raises(SystemExit) as exited:
            main(["--db", str(database), *(str(arg) for arg in args)])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return Result(int(exited.value.code or 0), out, err)

    run.db = db  # type: ignore[attr-defined]
    return run


def stored(db: Path, *, with_reference: bool = False) -> list[tuple[str, ...]]:
    """The records as (occurred_at, currency, type, amount, fee, status), amounts trimmed."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT reference, occurred_at, currency, type, amount, fee, status FROM records"
        ).fetchall()
    found = [
        (*([ref] if with_reference else []), when, cur, kind, _plain(amt), _plain(fee), status)
        for ref, when, cur, kind, amt, fee, status in rows
    ]
    return sorted(found)


def _plain(amount: str) -> str:
    value = Decimal(amount)
    return format(value.normalize(), "f") if value else "0"


def table_counts(db: Path) -> tuple[int, int]:
    if not db.exists():
        return (0, 0)
    with sqlite3.connect(db) as conn:
        return (
            conn.execute("SELECT count(*) FROM records").fetchone()[0],
            conn.execute("SELECT count(*) FROM imports").fetchone()[0],
        )


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_each_export_imports_exactly_with_its_mapping(cli, case):
    result = cli("import", EXPORTS / f"{case.name}.csv", "--mapping", EXPORTS / f"{case.name}.toml")
    assert result.code == 0, result.err
    assert stored(cli.db) == sorted(case.records)
    for words in case.summary:
        assert words in result.out
    with sqlite3.connect(cli.db) as conn:
        repeats = conn.execute("SELECT count(*) FROM duplicates").fetchone()[0]
    assert repeats == case.duplicates


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_drafted_mapping_imports_each_export_after_at_most_one_line_edit(cli, case, tmp_path):
    drafted = tmp_path / "drafted.toml"
    result = cli("mapping", "draft", EXPORTS / f"{case.name}.csv", "--output", drafted)
    assert result.code == 0, result.err
    text = drafted.read_text(encoding="utf-8")
    if case.draft_edit is not None:
        start, replacement = case.draft_edit
        lines = text.splitlines()
        edited = [i for i, line in enumerate(lines) if line.startswith(start)]
        assert len(edited) == 1, text
        lines[edited[0]] = replacement
        drafted.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = cli("import", EXPORTS / f"{case.name}.csv", "--mapping", drafted)
    assert result.code == 0, result.err + "\n" + drafted.read_text(encoding="utf-8")
    assert stored(cli.db) == sorted(case.records)


def test_mapping_draft_prints_commented_toml_without_output(cli):
    result = cli("mapping", "draft", EXPORTS / "bank-statement.csv")
    assert result.code == 0
    assert result.out.startswith("# A mapping drafted from bank-statement.csv")
    assert 'encoding = "cp1252"' in result.out
    assert 'delimiter = ";"' in result.out
    assert "dates_only = true" in result.out


def test_a_draft_says_when_day_and_month_cannot_be_told_apart(cli, tmp_path):
    # BTCPay writes month first (03/01/2024 is 1 March); every day seen is 12 or less, so
    # day first reads them too: the draft chose it without a word, two months off.
    drafted = cli("mapping", "draft", EXPORTS / "btcpay-payments.csv").out
    [line] = [line for line in drafted.splitlines() if line.startswith("date_format")]
    assert line == (
        'date_format = "%d/%m/%Y %H:%M:%S"  # EDIT: every day seen is 12 or less, so'
        " '%m/%d/%Y %H:%M:%S' (month first) reads them too: which does the export write?"
    )
    told = tmp_path / "told.csv"
    told.write_text(
        "Date,Id,Amount,Currency\n25/01/2024 10:00,a,1.5,BTC\n03/01/2024 10:00,b,1,BTC\n"
    )
    assert (
        'date_format = "%d/%m/%Y %H:%M"  # as the dates seen' in cli("mapping", "draft", told).out
    )


def test_a_drafted_fingerprint_leaves_the_status_out_so_a_newer_export_updates(cli, tmp_path):
    # The status was part of the fingerprint: the payment, pending in one export and
    # completed in the next, became two deposits of 100.
    older = tmp_path / "older.csv"
    older.write_text(
        "Date,Description,Amount,Currency,Status\n"
        "2025-01-09 10:00:00,Payment from Alice,100.00,USDTERC20,Pending\n"
        "2025-01-09 11:00:00,Payout to Bob,-40.00,USDTERC20,Completed\n"
    )
    newer = tmp_path / "newer.csv"
    newer.write_text(older.read_text().replace("Pending", "Completed"))
    mapping = tmp_path / "drafted.toml"
    assert cli("mapping", "draft", older, "--output", mapping).code == 0
    assert 'fingerprint = ["Date", "Description", "Amount", "Currency"]' in mapping.read_text()
    assert cli("import", older, "--mapping", mapping).code == 0
    updated = cli("import", newer, "--mapping", mapping)
    assert "0 new, 1 updated, 1 unchanged" in updated.out
    with sqlite3.connect(cli.db) as conn:
        assert conn.execute("SELECT count(*), min(status) FROM records").fetchone() == (
            2,
            "confirmed",
        )


def test_mapping_draft_of_an_empty_file_is_one_line_and_exit_2(cli, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = cli("mapping", "draft", empty)
    assert result.code == 2
    assert result.err.strip().endswith("nothing to draft a mapping from")
    assert len(result.err.strip().splitlines()) == 1


def test_a_column_the_mapping_does_not_name_is_never_read(cli, tmp_path):
    # The Coinmate file has `Fee` (in EUR for trades) and `Status` headers; a mapping that
    # names neither must not read them because their headers equal a field's name.
    mapping = tmp_path / "coinmate-lean.toml"
    mapping.write_text(
        '[csv]\ndelimiter = ";"\n'
        '[columns]\nreference = "ID"\noccurred_at = "Date"\ncurrency = "Amount Currency"\n'
        'type = "Type"\namount = "Amount"\n'
        '[values.type]\n"BUY" = "deposit"\n"SELL" = "withdrawal"\n'
        '[defaults]\nstatus = "confirmed"\nwallet_name = "main"\n',
        encoding="utf-8",
    )
    result = cli("import", EXPORTS / "coinmate.csv", "--mapping", mapping)
    assert result.code == 0, result.err
    records = stored(cli.db)
    assert {fee for *_, fee, _status in records} == {"0"}
    assert {status for *_, status in records} == {"confirmed"}


def test_value_maps_that_collide_refuse_the_mapping_naming_the_keys(cli, tmp_path):
    assert cli("import", EXPORTS / "stripe-balance.csv", "--mapping",
               EXPORTS / "stripe-balance.toml").code == 0  # fmt: skip
    before = table_counts(cli.db)
    mapping = _mapping(
        tmp_path, "coinmate", '"OK" = "confirmed"', '"OK" = "confirmed"\n"ok" = "failed"'
    )
    result = cli("import", EXPORTS / "coinmate.csv", "--mapping", mapping)
    assert result.code == 2
    assert "values.status: 'OK' = 'confirmed' and 'ok' = 'failed' are the same word" in result.err
    assert str(mapping) in result.err
    assert table_counts(cli.db) == before


def _mapping(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = (EXPORTS / f"{name}.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / f"{name}-edited.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


REFUSALS = [
    # (export, old text in its mapping, new text, what stderr says)
    (
        "binance-history",
        "exponent = true\n",
        "",
        "binance-history.csv:3: amount: '-3.605E-05' uses exponent notation; write the amount "
        "out in full (or, in a mapping file, exponent = true under [amount])",
    ),
    (
        "bank-statement",
        "dates_only = true\n",
        "",
        "csv.date_format '%d.%m.%Y' has no time of day, so every time would be invented; "
        "write dates_only = true under [csv]",
    ),
    (
        "bank-statement",
        'header_contains = "Booking date"',
        'header_contains = "Buchungstag"',
        "bank-statement.csv: no row has a cell 'Buchungstag', so the header was not found; "
        "write header_contains under [csv]",
    ),
    (
        "kraken-ledgers",
        '"trade" = "sign"\n',
        "",
        "kraken-ledgers.csv:4: type 'trade' is not one of",
    ),
    (
        "kraken-ledgers",
        '"trade" = "sign"\n',
        "",
        '(map it under [values.type], e.g. "trade" = "deposit", or "trade" = "sign"',
    ),
    (
        "stripe-balance",
        'occurred_at = "Created (UTC)"',
        'occurred_at = "Created"',
        "stripe-balance.csv:1: missing column 'Created' (columns found: 'id', 'Type'",
    ),
    (
        "stripe-balance",
        'occurred_at = "Created (UTC)"',
        'occurred_at = "Created"',
        "write the header exactly as the file has it for columns.occurred_at in the mapping",
    ),
    (
        "coinbase-pro-account",
        "[reference]\n",
        "[reference]\njoin = ['time']\n",
        "reference: give one of first_of, join or fingerprint, not first_of and join",
    ),
    (
        "coinbase-pro-account",
        'first_of = ["transfer id", "trade id"]\n',
        "",
        "columns.reference is required: the reference is a record's key; write reference = ",
    ),
    (
        "btcpay-payments",
        'wallet_name = "main"\n',
        "",
        "btcpay-payments.csv:1: the file needs a wallet_id or wallet_name column (or "
        'wallet_name = "<your wallet>" under [defaults])',
    ),
    (
        "btcpay-payments",
        "[columns]\n",
        "[columns]\nfavourite = 'x'\n",
        "columns.favourite: unknown key (the keys here are: reference, occurred_at",
    ),
    (
        "stripe-balance",
        '"charge" = "sign"',
        '"charge" = "sign"\n"Charge" = "deposit"',
        "values.type: 'charge' = 'sign' and 'Charge' = 'deposit' are the same word",
    ),
    (
        "trezor-suite",
        "[amount]\n",
        "[columns.x]\n[amount]\n",
        "columns.x",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "message"), REFUSALS)
def test_refusals_say_where_and_what_to_write_and_change_nothing(
    cli, tmp_path, name, old, new, message
):
    assert cli("import", EXPORTS / "stripe-balance.csv", "--mapping",
               EXPORTS / "stripe-balance.toml").code == 0  # fmt: skip
    before = table_counts(cli.db)
    result = cli("import", EXPORTS / f"{name}.csv", "--mapping", _mapping(tmp_path, name, old, new))
    assert result.code == 2, result.out
    assert message in result.err
    assert table_counts(cli.db) == before


def test_a_row_that_is_not_an_amount_with_its_currency_says_what_to_change(cli, tmp_path):
    export = tmp_path / "bitstamp.csv"
    export.write_text(
        (EXPORTS / "bitstamp-transactions.csv")
        .read_text(encoding="utf-8")
        .replace("500.00 USD", "500.00"),
        encoding="utf-8",
    )
    result = cli("import", export, "--mapping", EXPORTS / "bitstamp-transactions.toml")
    assert result.code == 2
    assert (
        "bitstamp.csv:4: amount '500.00' is not an amount with its currency (like 2.5 ETH); "
        "if the currency has its own column, remove currency_in_cell from [amount]"
    ) in result.err
    assert table_counts(cli.db) == (0, 0)


def test_debit_and_credit_both_holding_money_is_a_bad_row(cli, tmp_path):
    export = tmp_path / "bank.csv"
    text = (EXPORTS / "bank-statement.csv").read_bytes().decode("cp1252")
    export.write_bytes(text.replace("3,10;0,00", "3,10;1,00").encode("cp1252"))
    result = cli("import", export, "--mapping", EXPORTS / "bank-statement.toml")
    assert result.code == 2
    assert "bank.csv:8: debit 3,10 and credit 1,00 both hold an amount" in result.err


@pytest.mark.parametrize(
    ("debit", "credit", "said"),
    [
        # A reversal written as a negative credit used to be stored as a deposit.
        ("", "-45,90", "credit -45,90 is negative: a credit is money in"),
        ("+-45,90", "", "debit +-45,90 has two signs"),
        ("--45,90", "", "debit --45,90 has two signs"),
    ],
)
def test_a_sign_that_contradicts_its_debit_or_credit_column_is_a_bad_row(
    cli, tmp_path, debit, credit, said
):
    export = tmp_path / "bank.csv"
    text = (EXPORTS / "bank-statement.csv").read_bytes().decode("cp1252")
    export.write_bytes(text.replace(";45,90;;", f";{debit};{credit};").encode("cp1252"))
    result = cli("import", export, "--mapping", EXPORTS / "bank-statement.toml")
    assert result.code == 2
    assert f"bank.csv:7: {said}" in result.err
    assert table_counts(cli.db) == (0, 0)


def test_a_debit_the_bank_prints_negative_is_money_out_as_an_unsigned_one(cli, tmp_path):
    export = tmp_path / "bank.csv"
    text = (EXPORTS / "bank-statement.csv").read_bytes().decode("cp1252")
    export.write_bytes(text.replace(";45,90;;", ";-45,90;;").encode("cp1252"))
    assert cli("import", export, "--mapping", EXPORTS / "bank-statement.toml").code == 0
    rows = sqlite3.connect(cli.db).execute("SELECT type, amount FROM records ORDER BY line")
    assert [(kind, Decimal(amount)) for kind, amount in rows] == [
        ("deposit", Decimal("1250")),
        ("withdrawal", Decimal("45.9")),
        ("withdrawal", Decimal("3.1")),
    ]


def test_a_fingerprint_reports_the_same_row_twice_as_a_duplicate(cli):
    result = cli("import", EXPORTS / "binance-history.csv", "--mapping",
                 EXPORTS / "binance-history.toml")  # fmt: skip
    assert result.code == 0
    references = [row[0] for row in stored(cli.db, with_reference=True)]
    assert all(ref.startswith("fp-") and len(ref) == 27 for ref in references)
    assert len(set(references)) == 4
    check = sqlite3.connect(cli.db).execute("SELECT line FROM duplicates").fetchall()
    assert check == [(7,)]
