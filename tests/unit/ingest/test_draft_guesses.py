"""What `mapping draft` guesses from an export, and the lines it flags to check.

A user who does exactly what a draft says must never import wrong values with exit 0:
each guess here was one a tester found drafted silently wrong (docs/mapping.md, "Drafting
a mapping").
"""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from reconcile_tui.errors import BadFile, BadInput
from reconcile_tui.ingest.draft import draft_mapping
from reconcile_tui.ingest.importer import import_file
from reconcile_tui.ingest.mapping import load_mapping
from reconcile_tui.store.db import Store
from tests.conftest import PAGE_CLOCK

SAMPLE_DATA = Path(__file__).parents[3] / "sample_data"
RECORD = (
    "reference, occurred_at, currency, wallet_id, wallet_name, type, amount, fee, status, tx_hash"
)


def _draft(tmp_path: Path, text: str | bytes, name: str = "export.csv") -> tuple[Path, str]:
    """The export written to `name` and the mapping drafted from it."""
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path, draft_mapping(path)


def _line(drafted: str, key: str) -> str:
    """The one drafted line that sets `key` (its comment included)."""
    [line] = [line for line in drafted.splitlines() if line.startswith(f"{key} = ")]
    return line


def _import(tmp_path: Path, export: Path, mapping_text: str | None) -> list[tuple[str, ...]]:
    """The stored records after importing `export` with the mapping (None: default layout)
    into a database of its own."""
    layout = None
    if mapping_text is not None:
        mapping = tmp_path / f"{export.stem}.toml"
        mapping.write_text(mapping_text, encoding="utf-8")
        layout = load_mapping(mapping)
    with Store(tmp_path / f"{export.stem}.db") as store:
        import_file(store, export, layout, now=PAGE_CLOCK)
        return [tuple(row) for row in store.query(f"SELECT {RECORD} FROM records ORDER BY 1")]


# 1. Headers with accents.


def test_the_sample_bank_export_drafts_a_mapping_that_imports_as_merchant_csv(tmp_path):
    # `Währung` was folded to `whrung` and `Gebühr` to `gebhr`: the draft asked for a
    # currency (EDIT-ME), read every fee as 0 and the opening balances as deposits.
    drafted = draft_mapping(SAMPLE_DATA / "bank-export.csv")
    mapping = tomllib.loads(drafted)
    assert mapping["csv"]["encoding"] == "cp1252"
    assert mapping["columns"] == {
        "reference": "Referenz",  # ORD-000184 twice is one row exported twice: a duplicate
        "occurred_at": "Buchungsdatum",
        "currency": "Währung",
        "amount": "Betrag",
        "fee": "Gebühr",
        "type": "Buchungsart",
        "status": "Status",
        "tx_hash": "Transaktions-Hash",
        "wallet_id": "Wallet-ID",
        "wallet_name": "Wallet-Name",
    }
    assert mapping["values"]["type"]["Anfangssaldo"] == "opening"
    assert mapping["values"]["status"] == {
        "gebucht": "confirmed",
        "storniert": "failed",
        "vorgemerkt": "pending",
    }
    assert "EDIT" not in drafted  # nothing left to fill in
    from_draft = _import(tmp_path, SAMPLE_DATA / "bank-export.csv", drafted)
    assert len(from_draft) == 340
    assert from_draft == _import(tmp_path, SAMPLE_DATA / "merchant.csv", None)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "Buchungsdatum;Referenz;Währung;Buchungsart;Betrag;Gebühr;Zustand",
            {"currency": "Währung", "fee": "Gebühr", "status": "Zustand", "type": "Buchungsart"},
        ),
        (
            "Date;Référence;Devise;Montant;Frais;Statut",
            {"reference": "Référence", "currency": "Devise", "fee": "Frais", "status": "Statut"},
        ),
    ],
)
def test_headers_with_accents_are_matched_by_their_letters(tmp_path, header, expected):
    row = ";".join(["01.03.2024 10:15:00", "R-1", "EUR", "Zahlung", "10,00", "0,50", "gebucht"])
    _, drafted = _draft(tmp_path, (f"{header}\n{row}\n").encode("cp1252"))
    columns = tomllib.loads(drafted)["columns"]
    assert {field: columns.get(field) for field in expected} == expected


# 2. The decimal mark.


def test_us_thousands_are_not_read_as_a_decimal_comma_and_the_doubt_is_flagged(tmp_path):
    # "1,500" and 2.125 read both ways; the draft said decimal_comma = true without a word
    # and the import stored 1.5 and 2125.
    export, drafted = _draft(
        tmp_path,
        "Date,Transaction ID,Description,Amount,Currency,Status\n"
        '2024-03-01 10:15:00,T-1001,Invoice 1001,"1,500",USDTERC20,Completed\n'
        "2024-03-02 11:00:00,T-1002,Invoice 1002,2.125,USDTERC20,Completed\n",
    )
    csv = tomllib.loads(drafted)["csv"]
    assert (csv["decimal_comma"], csv["thousands_separator"]) == (False, ",")
    note = _line(drafted, "decimal_comma")
    assert "EDIT:" in note
    assert '"1,500" is 1500 and "2.125" is 2.125' in note  # read with a decimal point
    assert '"1,500" is 1.5 and "2.125" is 2125' in note  # read with a decimal comma
    amounts = [row[6] for row in _import(tmp_path, export, drafted)]
    assert amounts == ["1500.000000", "2.125000"]


@pytest.mark.parametrize(
    ("delimiter", "amounts", "decimal_comma", "thousands"),
    [
        (";", ["288,000000", "12,5"], True, None),  # a comma no thousands separator is
        (";", ["1.234,56", "7,00"], True, "."),
        (",", ['"1,234.56"', "0.5"], False, ","),
        (",", ['"1,500"', "12.50"], False, ","),  # was read as 1.5 and 1250
        (",", ["0.00150000", "1.5"], False, None),
    ],
)
def test_an_amount_that_only_one_reading_fits_decides_without_a_doubt(
    tmp_path, delimiter, amounts, decimal_comma, thousands
):
    rows = "".join(
        delimiter.join([f"2024-03-0{day} 10:00:00", f"P-{day}", amount, "BTC"]) + "\n"
        for day, amount in enumerate(amounts, start=1)
    )
    _, drafted = _draft(
        tmp_path, delimiter.join(["Date", "Payment ID", "Amount", "Currency"]) + "\n" + rows
    )
    csv = tomllib.loads(drafted)["csv"]
    assert (csv.get("decimal_comma", False), csv.get("thousands_separator")) == (
        decimal_comma,
        thousands,
    )
    assert "EDIT" not in drafted


def test_a_semicolon_file_that_reads_both_ways_takes_the_comma_and_says_so(tmp_path):
    _, drafted = _draft(
        tmp_path,
        "Datum;Referenz;Betrag;Währung\n"
        "01.03.2024 10:00:00;R-1;1.500;EUR\n"
        "02.03.2024 10:00:00;R-2;2,125;EUR\n",
    )
    csv = tomllib.loads(drafted)["csv"]
    assert (csv["decimal_comma"], csv["thousands_separator"]) == (True, ".")
    note = _line(drafted, "decimal_comma")
    assert '"2,125" is 2.125 and "1.500" is 1500' in note
    assert '"2,125" is 2125 and "1.500" is 1.5' in note


# 3. Debit and credit.


def test_debit_and_credit_of_a_bank_statement_are_read_as_money_out_and_in_and_flagged(
    tmp_path,
):
    export, drafted = _draft(
        tmp_path,
        "Booking date;Description;Debit;Credit;Currency\n"
        "01.03.2024;Customer payment INV-17;;1.250,00;EUR\n"
        "04.03.2024;Card payment office supplies;45,90;;EUR\n",
    )
    columns = tomllib.loads(drafted)["columns"]
    assert (columns["debit"], columns["credit"]) == ("Debit", "Credit")
    note = _line(drafted, "debit")
    assert "EDIT: read as a bank statement" in note
    assert "a debit is money in: then swap the two headers" in note
    stored = _import(tmp_path, export, drafted)
    assert sorted((row[5], Decimal(row[6])) for row in stored) == [
        ("deposit", Decimal("1250")),
        ("withdrawal", Decimal("45.9")),
    ]


def test_an_account_transactions_report_reads_a_debit_as_money_in(tmp_path):
    # Xero's report of the crypto asset account: a debit to it is money in. Read as a bank
    # statement, the payment received was stored as a withdrawal.
    export, drafted = _draft(
        tmp_path,
        "Account Transactions\n"
        "Demo Company\n"
        "For the period 1 March 2024 to 31 March 2024\n"
        "\n"
        "Date,Source,Description,Reference,Debit,Credit,Running Balance\n"
        "01 Mar 2024,Receive Money,Customer payment in BTC,RM-1,0.50000000,,0.50000000\n"
        "02 Mar 2024,Spend Money,Paid supplier in BTC,SM-1,,0.20000000,0.30000000\n",
        name="Account Transactions.csv",
    )
    columns = tomllib.loads(drafted)["columns"]
    assert (columns["debit"], columns["credit"]) == ("Credit", "Debit")
    assert "EDIT: read as a ledger of your own account" in _line(drafted, "debit")
    # The one other line the draft flags: the file names no currency.
    assert 'currency = "EDIT-ME"' in drafted
    stored = _import(tmp_path, export, drafted.replace('"EDIT-ME"', '"BTC"'))
    assert [(row[0], row[5], row[6]) for row in stored] == [
        ("RM-1", "deposit", "0.50000000"),
        ("SM-1", "withdrawal", "0.20000000"),
    ]


# 4. The fingerprint and the id columns.


def test_a_fingerprint_leaves_out_what_a_newer_export_of_the_payment_changes(tmp_path):
    header = (
        "Created At,Updated,Confirmed At,Description,Amount,Currency,Status,"
        "Transaction Hash,Confirmations,Network Fee\n"
    )
    older, drafted = _draft(
        tmp_path,
        header + "2025-01-09 10:00:00,2025-01-09 10:00:05,,Payment from Alice,100.00,"
        "USDTERC20,Pending,,0,\n",
        name="older.csv",
    )
    newer = tmp_path / "newer.csv"
    newer.write_text(
        header + "2025-01-09 10:00:00,2025-01-09 10:41:00,2025-01-09 10:40:00,Payment from Alice,"
        "100.00,USDTERC20,Completed,0xab12,12,1.00\n",
        encoding="utf-8",
    )
    assert tomllib.loads(drafted)["reference"]["fingerprint"] == [
        "Created At",
        "Description",
        "Amount",
        "Currency",
    ]
    mapping = tmp_path / "drafted.toml"
    mapping.write_text(drafted, encoding="utf-8")
    layout = load_mapping(mapping)
    with Store(tmp_path / "books.db") as store:
        import_file(store, older, layout, now=PAGE_CLOCK)
        updated = import_file(store, newer, layout, now=PAGE_CLOCK)
        assert (updated.inserted, updated.updated) == (0, 1)
        rows = store.query("SELECT status, fee, tx_hash FROM records")
    assert [tuple(row) for row in rows] == [("confirmed", "1.000000", "0xab12")]


@pytest.mark.parametrize(
    "name",
    [
        "Charge ID",
        "Charge Code",
        "Payment ID",
        "Invoice ID",
        "Order ID",
        "Transaction ID",
        "Txn ID",
        "Payment Id",
        "ID",
    ],
)
def test_id_headers_are_the_reference(tmp_path, name):
    _, drafted = _draft(
        tmp_path,
        f"{name},Created At,Amount,Currency,Status\n"
        "A1,2025-01-09 10:00:00,1.5,BTC,completed\n"
        "A2,2025-01-09 11:00:00,2.5,BTC,completed\n",
    )
    mapping = tomllib.loads(drafted)
    assert mapping["columns"]["reference"] == name
    assert "reference" not in mapping


def test_the_most_specific_id_that_is_unique_is_the_reference(tmp_path):
    # One order paid in two payments: the order's id repeats, the payment's does not.
    _, drafted = _draft(
        tmp_path,
        "ID,Order ID,Payment ID,Created At,Amount,Currency\n"
        "1,ord-7,pay-1,2025-01-09 10:00:00,0.5,BTC\n"
        "1,ord-7,pay-2,2025-01-09 10:30:00,0.25,BTC\n",
    )
    assert tomllib.loads(drafted)["columns"]["reference"] == "Payment ID"


# 5. Status and fee columns, columns not read, columns not found.


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Payment status", "status"),  # NOWPayments
        ("Financial Status", "status"),  # Shopify
        ("Statut", "status"),
        ("Zustand", "status"),
        ("Transaction Fee", "fee"),
        ("TransactionFee", "fee"),
        ("Network fee", "fee"),
        ("Frais", "fee"),
    ],
)
def test_status_and_fee_columns_under_other_names_are_found(tmp_path, header, field):
    cell = "0.0001" if field == "fee" else "finished"
    _, drafted = _draft(
        tmp_path,
        f"Payment ID,Created at,Amount,Currency,{header}\n"
        f"5077125051,2025-01-09 10:00:00,0.5,BTC,{cell}\n",
    )
    mapping = tomllib.loads(drafted)
    assert mapping["columns"][field] == header
    assert ("status" in mapping.get("defaults", {})) == (field != "status")


def test_a_status_column_under_an_unknown_name_is_not_called_missing(tmp_path):
    # It was drafted `status = "confirmed"  # the file has no status column`: a pending
    # payment imported as confirmed.
    export, drafted = _draft(
        tmp_path,
        "Payment ID,Created at,Amount,Currency,Payment State\n"
        "p-1,2025-01-09 10:00:00,0.5,BTC,pending\n",
    )
    mapping = tomllib.loads(drafted)
    assert mapping["columns"]["status"] == "Payment State"
    assert "EDIT:" in _line(drafted, "status")
    assert "status" not in mapping.get("defaults", {})
    assert _import(tmp_path, export, drafted)[0][8] == "pending"


def test_the_columns_not_read_are_listed_at_the_end_of_columns(tmp_path):
    _, drafted = _draft(
        tmp_path,
        "Date,Transaction ID,Amount,Currency,Status,Memo,Account Code\n"
        "2025-01-09 10:00:00,T-1,0.5,BTC,completed,first,1200\n",
    )
    lines = drafted.splitlines()
    listed = lines.index('# not read: "Memo", "Account Code"')
    assert lines[listed - 1] == 'status = "Status"'
    assert lines[listed + 2].startswith("[amount]")


def test_a_date_or_amount_column_not_found_is_a_line_to_fill_in_and_refuses_until_it_is(
    tmp_path,
):
    # NOWPayments names its amounts "Price amount", "Pay amount" and "Actually paid".
    export, drafted = _draft(
        tmp_path,
        "Payment ID,Booked,Price amount,Price currency,Pay amount,Actually paid,Pay currency\n"
        "5077125051,2025-01-09 10:00:00,100,usd,0.0021,0.0021,btc\n",
    )
    assert _line(drafted, "occurred_at").startswith('occurred_at = "EDIT-ME"  # EDIT: ')
    assert _line(drafted, "amount").startswith('amount = "EDIT-ME"  # EDIT: ')
    with pytest.raises((BadFile, BadInput), match="EDIT-ME"):
        _import(tmp_path, export, drafted.replace('currency = "EDIT-ME"', 'currency = "BTC"'))


# 6. Day and month.


def test_the_day_month_note_says_the_order_of_the_format_it_names(tmp_path):
    # Month first with AM/PM: the other order it names is day first, and it said "month".
    _, drafted = _draft(
        tmp_path,
        "Date,Transaction ID,Amount,Currency\n"
        "03/01/2024 10:15:00 AM,T-1,0.5,BTC\n"
        "03/02/2024 04:30:00 PM,T-2,0.25,BTC\n",
    )
    assert _line(drafted, "date_format") == (
        'date_format = "%m/%d/%Y %I:%M:%S %p"  # EDIT: every day seen is 12 or less, so'
        " '%d/%m/%Y %I:%M:%S %p' (day first) reads them too: which does the export write?"
    )


# 7. Status words.


@pytest.mark.parametrize(
    ("word", "meaning", "flagged"),
    [
        ("offen", "pending", False),
        ("ausstehend", "pending", False),
        ("En attente", "pending", False),
        ("sending", "pending", False),
        ("underpaid", "pending", False),
        ("Annulé", "failed", False),
        ("timed out", "failed", False),
        ("refunded", "failed", True),
        ("erstattet", "failed", True),
        ("Remboursé", "failed", True),
        ("partially_refunded", "confirmed", True),
        ("-1", "failed", True),  # CoinPayments: cancelled or timed out
        ("0", "pending", True),  # waiting for funds
        ("1", "pending", True),  # funds seen, not yet complete
        ("2", "confirmed", True),  # queued for payout
        ("100", "confirmed", True),  # complete
    ],
)
def test_status_words_are_mapped_to_what_they_mean(tmp_path, word, meaning, flagged):
    _, drafted = _draft(
        tmp_path,
        "Txn ID,Created at,Amount,Currency,Status\n"
        f"CPAB1,2025-01-09 10:00:00,0.5,BTC,{word}\n"
        "CPAB2,2025-01-09 11:00:00,0.5,BTC,completed\n",
    )
    assert tomllib.loads(drafted)["values"]["status"] == {word: meaning}
    line = [line for line in drafted.splitlines() if line.startswith(f'"{word}" = ')]
    assert ("EDIT:" in line[0]) == flagged


def test_an_unknown_status_word_is_flagged_and_refuses_the_import_until_it_is_mapped(tmp_path):
    # It was drafted `"on hold" = "confirmed"  # check this one`, and imported as paid.
    export, drafted = _draft(
        tmp_path,
        "Payment ID,Created at,Amount,Currency,Status\np-1,2025-01-09 10:00:00,0.5,BTC,on hold\n",
    )
    assert _line(drafted, '"on hold"').startswith('"on hold" = "?"  # EDIT: ')
    with pytest.raises(BadInput, match=re.escape("values.status: 'on hold' = '?'")):
        _import(tmp_path, export, drafted)
