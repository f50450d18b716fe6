"""The CSV export: formula injection neutralised, and an exact round trip of every value."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile_tui.errors import BadInput
from reconcile_tui.money import FloatInMoneyError
from reconcile_tui.report import COLUMNS, read_csv, to_csv
from reconcile_tui.report.csvfile import FORMULA_STARTS, PLAIN_NUMBER

AMOUNTS = ("api_value", "merchant_value", "difference", "usd_difference")
DANGEROUS = ["=", "+", "-", "@", "\t", "\r"]


def raw_cells(data: bytes) -> list[list[str]]:
    """The cells as a spreadsheet sees them: BOM removed, nothing else undone."""
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def row(**values: Any) -> dict[str, Any]:
    """A discrepancy object with harmless defaults."""
    base: dict[str, Any] = {
        "id": "0123456789abcdef",
        "kind": "available_mismatch",
        "severity": "error",
        "currency": "USDTERC20",
        "wallet_id": None,
        "bucket": None,
        "field": None,
        "api_value": None,
        "merchant_value": None,
        "difference": None,
        "usd_difference": None,
        "references": [],
        "message": "a message",
        "acknowledged": False,
        "causes": [],
    }
    return base | values


def test_header_bom_and_crlf_line_endings(document):
    data = to_csv(document)
    assert data.startswith(b"\xef\xbb\xbf" + ",".join(COLUMNS).encode() + b"\r\n")
    assert raw_cells(data)[0] == list(COLUMNS)
    assert len(raw_cells(data)) == 1 + len(document["discrepancies"])


def test_round_trips_every_discrepancy_exactly(document):
    assert read_csv(to_csv(document)) == document["discrepancies"]


def test_amounts_parse_back_to_identical_decimals(document):
    parsed = read_csv(to_csv(document))
    compared = 0
    for original, back in zip(document["discrepancies"], parsed, strict=True):
        for column in AMOUNTS:
            if original[column] is None:
                assert back[column] is None
                continue
            assert back[column] == original[column]
            assert Decimal(back[column]) == Decimal(original[column])
            compared += 1
    assert compared > 20


def test_no_cell_of_a_real_report_starts_like_a_formula(document):
    for cells in raw_cells(to_csv(document)):
        for cell in cells:
            assert cell[:1] not in FORMULA_STARTS or PLAIN_NUMBER.fullmatch(cell), cell


def test_negative_amounts_stay_numbers_a_spreadsheet_can_add(document):
    position = next(i for i, d in enumerate(document["discrepancies"]) if d["currency"] == "ETH")
    eth = raw_cells(to_csv(document))[1 + position]
    assert eth[COLUMNS.index("difference")] == "-0.500000000000000001"
    assert eth[COLUMNS.index("usd_difference")] == "-1500.00"


def test_a_malicious_hyperlink_is_inert_in_message_wallet_and_references(document):
    target = next(d for d in document["discrepancies"] if d["kind"] == "wallet_not_in_api")
    cells = raw_cells(to_csv(document))[1 + document["discrepancies"].index(target)]
    assert cells[COLUMNS.index("message")] == "'" + target["message"]
    assert cells[COLUMNS.index("wallet_id")] == "'" + target["wallet_id"]
    assert cells[COLUMNS.index("references")].startswith('["=HYPERLINK(')


@pytest.mark.parametrize("first", DANGEROUS)
@pytest.mark.parametrize("column", ["message", "wallet_id", "bucket", "difference", "id"])
def test_each_dangerous_first_character_gets_a_quote(make_document, first, column):
    value = f"{first}1+1"
    data = to_csv(make_document([row(**{column: value})]))
    # A carriage return is shown as its escape, which no spreadsheet runs either.
    expected = "\\x0d1+1" if first == "\r" else "'" + value
    assert raw_cells(data)[1][COLUMNS.index(column)] == expected
    assert read_csv(data)[0][column] == value


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("5.000000", "5.000000"),
        ("plain text", "plain text"),
        (" =spaced", " =spaced"),
        ("'quoted", "'quoted"),
        ("'", "'"),
        ("'=already", "''=already"),
        ("''", "'''"),
        ("'-1", "''-1"),
        ("-1", "-1"),
        ("-1.50", "-1.50"),
        ("-1e5", "'-1e5"),
        ("-1.", "'-1."),
    ],
)
def test_only_what_needs_it_is_quoted_and_the_quote_is_unambiguous(make_document, value, cell):
    data = to_csv(make_document([row(message=value)]))
    assert raw_cells(data)[1][COLUMNS.index("message")] == cell
    assert read_csv(data)[0]["message"] == value


def test_commas_quotes_newlines_and_unicode_survive(make_document):
    message = 'a, "b"\r\nc\nd\re — ✓ <&> =x'
    data = to_csv(make_document([row(message=message, references=['x,"y"\n', "ü"])]))
    back = read_csv(data)[0]
    assert back["message"] == message
    assert back["references"] == ['x,"y"\n', "ü"]


def test_booleans_and_references_have_plain_forms(make_document):
    data = to_csv(make_document([row(acknowledged=True, references=["ORD-1", "ORD-2"])]))
    cells = raw_cells(data)[1]
    assert cells[COLUMNS.index("acknowledged")] == "true"
    assert cells[COLUMNS.index("references")] == '["ORD-1", "ORD-2"]'
    assert cells[COLUMNS.index("api_value")] == ""


def test_an_empty_report_is_just_the_header(clean_document):
    data = to_csv(clean_document)
    assert raw_cells(data) == [list(COLUMNS)]
    assert read_csv(data) == []


def test_refuses_a_float_amount(make_document):
    with pytest.raises(FloatInMoneyError):
        to_csv(make_document([row(difference=-5.0)]))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"id,kind\r\n",
        "\ufeff".encode() + ",".join(COLUMNS).encode() + b"\r\nonly,three,cells\r\n",
        b"\xff\xfe",
    ],
)
def test_read_csv_refuses_what_is_not_an_export(data):
    with pytest.raises(BadInput):
        read_csv(data)


def test_read_csv_refuses_a_bad_acknowledged_cell(make_document):
    data = to_csv(make_document([row()])).replace(b",false,", b",maybe,")
    with pytest.raises(BadInput, match="acknowledged"):
        read_csv(data)


amounts = st.none() | st.from_regex(r"-?\d{1,20}(\.\d{1,18})?", fullmatch=True)
texts = st.text(st.characters(exclude_categories=["Cs"]))
optional_texts = st.none() | st.text(st.characters(exclude_categories=["Cs"]), min_size=1)


@given(
    api_value=amounts,
    merchant_value=amounts,
    difference=amounts,
    usd_difference=amounts,
    message=texts,
    wallet_id=optional_texts,
    references=st.lists(texts, max_size=4),
    acknowledged=st.booleans(),
)
def test_round_trip_property(
    api_value,
    merchant_value,
    difference,
    usd_difference,
    message,
    wallet_id,
    references,
    acknowledged,
):
    original = row(
        api_value=api_value,
        merchant_value=merchant_value,
        difference=difference,
        usd_difference=usd_difference,
        message=message,
        wallet_id=wallet_id,
        references=references,
        acknowledged=acknowledged,
    )
    data = to_csv({"discrepancies": [original]})
    (back,) = read_csv(data)
    assert back == original
    for column in AMOUNTS:
        if original[column] is not None:
            assert Decimal(back[column]) == Decimal(original[column])
    for cell in raw_cells(data)[1]:
        assert cell[:1] not in FORMULA_STARTS or PLAIN_NUMBER.fullmatch(cell)
