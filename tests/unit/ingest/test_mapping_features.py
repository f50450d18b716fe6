"""The mapping model: explicit columns, refusals at load, and the row parser for features."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile_tui.errors import BadInput
from reconcile_tui.ingest import fast
from reconcile_tui.ingest.mapping import Layout, load_mapping
from reconcile_tui.ingest.preview import preview_file
from reconcile_tui.money import AmountError, NumberStyle, parse_amount

BASE = {"columns": {"reference": "id", "occurred_at": "when", "amount": "amount"}}


def _with(**sections: object) -> dict[str, object]:
    data: dict[str, object] = {key: dict(value) for key, value in BASE.items()}
    for name, section in sections.items():
        if isinstance(section, dict):
            section = {**data.get(name, {}), **section}  # type: ignore[dict-item]
        data[name] = section
    return data


@pytest.mark.parametrize(
    "data",
    [
        _with(csv={"skip_lines": 2}),
        _with(csv={"header_contains": "id"}),
        _with(csv={"date_format": "%d.%m.%Y", "dates_only": True}),
        _with(csv={"date_format": "epoch_seconds"}),
        _with(columns={"reference": "", "time": "t"}, reference={"first_of": ["id", "alt"]}),
        _with(columns={"reference": ""}, reference={"join": ["id", "alt"]}),
        _with(columns={"reference": ""}, reference={"fingerprint": ["id", "alt"]}),
        _with(skip=[{"column": "type", "equals": "transfer"}]),
        _with(columns={"time_zone": "tz"}),
        _with(columns={"fee_currency": "fee unit"}),
        _with(columns={"amount": "", "debit": "out", "credit": "in"}),
        _with(amount={"exponent": True}),
        _with(amount={"currency_in_cell": True}),
        _with(amount={"fee_on_top": True}),
    ],
)
def test_every_mapping_feature_takes_the_row_parser(data):
    layout = Layout.model_validate(data)
    assert not layout.plain
    assert not fast.eligible(layout)


def test_a_plain_renaming_mapping_may_still_take_the_fast_path():
    layout = Layout.model_validate(
        {"columns": {field: field.upper() for field in ("reference", "occurred_at", "currency",
                     "wallet_id", "type", "amount", "status")}}
    )  # fmt: skip
    assert layout.explicit
    assert layout.plain
    assert layout.column("fee") is None  # not named, so never read
    assert fast.eligible(layout)


def test_the_default_layout_reads_its_own_names():
    assert not Layout().explicit
    assert Layout().column("fee") == "fee"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[values.status]\n"ok" = "confirmed"\n"OK" = "failed"\n',
            "values.status: 'ok' = 'confirmed' and 'OK' = 'failed' are the same word",
        ),
        (
            '[columns]\noccurred_at = "d"\namount = "a"\n',
            "columns.reference is required: the reference is a record's key; write reference",
        ),
        (
            '[columns]\nreference = "r"\namount = "a"\n',
            'columns.occurred_at is required; write occurred_at = "<date column>" under [columns]',
        ),
        (
            '[columns]\nreference = "r"\noccurred_at = "d"\ndebit = "out"\n',
            "columns.debit and columns.credit go together",
        ),
        (
            '[values.type]\n"trade" = "sign"\n',
            "lets the amount's sign decide, but amounts are not signed; write signed = true "
            "under [amount]",
        ),
        (
            '[csv]\ndate_format = "epoch_seconds"\n[columns]\nreference = "r"\n'
            'occurred_at = "d"\namount = "a"\ntime = "t"\n',
            "is a whole time; remove columns.time",
        ),
        # A typo in what a word means refused every row it was on, one by one.
        (
            '[values.status]\n"done" = "confirmd"\n',
            "values.status: 'done' = 'confirmd': 'confirmd' is not one of approved, canceled,",
        ),
        (
            '[values.type]\n"in" = "depsoit"\n',
            "values.type: 'in' = 'depsoit': 'depsoit' is not one of deposit, opening, payment,"
            ' payout or withdrawal or "sign"',
        ),
        # TOML has true and false: a word was taken for one.
        ('[csv]\ndecimal_comma = "yes"\n', "csv.decimal_comma: Input should be a valid boolean"),
        ('[[skip]]\ncolumn = "type"\n', 'write equals = ["word", ...] or matches = "regex"'),
        ('[[skip]]\ncolumn = "type"\nmatches = "(("\n', "skip.0.matches: not a regular expression"),
        ("[amount]\nrounding = true\n", "amount.rounding: unknown key (the keys here are: signed"),
        # The draft wrote a literal UTC into the format; a user who then set the zone
        # moved every time by it.
        (
            '[csv]\ndate_format = "%Y-%m-%d %H:%M:%S UTC"\ntimezone = "Europe/Berlin"\n',
            "says its times are UTC ('UTC'), but csv.timezone is 'Europe/Berlin', which would",
        ),
        # %H ignores AM/PM: 2:30 PM was stored as 02:30.
        (
            '[csv]\ndate_format = "%m/%d/%Y %H:%M %p"\n',
            "reads AM/PM (%p) with a 24-hour %H, which ignores it: write %I for the hour",
        ),
    ],
)
def test_a_mapping_that_cannot_work_is_refused_when_it_loads_saying_what_to_write(
    tmp_path, toml, message
):
    path = tmp_path / "m.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(BadInput) as refused:
        load_mapping(path)
    assert message in str(refused.value)
    assert str(refused.value).startswith(f"{path}: ")


def test_value_maps_with_the_same_word_twice_and_the_same_meaning_are_fine(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[values.status]\n"ok" = "confirmed"\n"OK" = "confirmed"\n', encoding="utf-8")
    assert load_mapping(path).values["status"]["OK"] == "confirmed"


def test_exponent_notation_is_read_exactly_only_when_asked():
    with pytest.raises(AmountError, match="exponent = true under \\[amount\\]"):
        parse_amount("-3.605E-05", 8, style=NumberStyle(signed=True))
    style = NumberStyle(signed=True, exponent=True)
    assert str(parse_amount("-3.605E-05", 8, style=style)) == "-0.00003605"
    with pytest.raises(AmountError, match="more decimal places"):
        parse_amount("1E-9", 8, style=style)
    with pytest.raises(AmountError):
        parse_amount("1E999", 8, style=style)  # more than two exponent digits


def test_the_preview_shows_a_row_the_mapping_skips_as_skipped_not_as_a_problem():
    exports = Path(__file__).parents[2] / "data" / "exports"
    layout = load_mapping(exports / "kraken-ledgers.toml")
    preview = preview_file(exports / "kraken-ledgers.csv", layout)
    skipped = [row for row in preview.rows if row.skipped is not None]
    assert len(skipped) == 1
    assert skipped[0].problem is None
    assert skipped[0].record is None
    assert "transfer" in skipped[0].skipped
    assert all(row.problem is None for row in preview.rows)


def test_the_field_names_a_layout_accepts_are_the_records_columns():
    """`FieldName` is the one repetition the type checker needs; it must not drift."""
    from typing import get_args

    from reconcile_tui.ingest.mapping import FieldName
    from reconcile_tui.store.imports import RECORD_COLUMNS

    assert get_args(FieldName) == RECORD_COLUMNS


def test_a_mapping_saved_with_a_byte_order_mark_loads_as_without(tmp_path):
    # Notepad's UTF-8 starts with one: it was "not valid TOML (Invalid statement)".
    path = tmp_path / "m.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b'[csv]\ndelimiter = ";"\ndecimal_comma = true\n')
    layout = load_mapping(path)
    assert (layout.csv.delimiter, layout.csv.decimal_comma) == (";", True)


@pytest.mark.parametrize(
    ("date_format", "written", "problem"),
    [
        # Seconds under a milliseconds mapping were imported as 1970-01-21.
        ("epoch_milliseconds", "1733097600", 'looks like Unix seconds (date_format = "epoch_'),
        ("epoch_seconds", "1733097600000", 'like Unix milliseconds (date_format = "epoch_milli'),
        ("epoch_milliseconds", "1733097600000", None),
        ("epoch_seconds", "1733097600.5", None),
    ],
)
def test_an_epoch_count_in_the_other_unit_is_refused_naming_the_unit(
    tmp_path, date_format, written, problem
):
    (tmp_path / "m.toml").write_text(
        f'[csv]\ndate_format = "{date_format}"\n'
        '[columns]\nreference = "id"\noccurred_at = "t"\namount = "a"\ncurrency = "c"\n'
        'type = "k"\nstatus = "s"\nwallet_id = "w"\n',
        encoding="utf-8",
    )
    (tmp_path / "f.csv").write_text(
        f"id,t,a,c,k,s,w\nX-1,{written},1.5,ETH,deposit,confirmed,w1\n", encoding="utf-8"
    )
    (row,) = preview_file(tmp_path / "f.csv", load_mapping(tmp_path / "m.toml")).rows
    if problem is None:
        assert row.problem is None
        assert row.record is not None
        assert row.record.occurred_at.startswith("2024-12-02T00:00:00")
    else:
        assert row.record is None
        assert problem in row.problem


def test_a_time_that_says_utc_through_percent_z_stays_utc_under_any_mapping_zone(tmp_path):
    # strptime's %Z takes the word but gives no zone: the mapping's zone moved the time.
    (tmp_path / "m.toml").write_text(
        '[csv]\ndate_format = "%Y-%m-%d %H:%M:%S %Z"\ntimezone = "Europe/Berlin"\n'
        '[columns]\nreference = "id"\noccurred_at = "t"\namount = "a"\ncurrency = "c"\n'
        'type = "k"\nstatus = "s"\nwallet_id = "w"\n',
        encoding="utf-8",
    )
    (tmp_path / "f.csv").write_text(
        "id,t,a,c,k,s,w\nX-1,2025-01-10 14:03:22 UTC,1.5,ETH,deposit,confirmed,w1\n",
        encoding="utf-8",
    )
    (row,) = preview_file(tmp_path / "f.csv", load_mapping(tmp_path / "m.toml")).rows
    assert row.record is not None
    assert row.record.occurred_at.startswith("2025-01-10T14:03:22")


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("(12,50)", "-12.50"),
        ("( 1.234,56 )", "-1234.56"),
        ("\u22120,5", "-0.5"),
        ("12,50", "12.50"),
    ],
)
def test_a_signed_column_reads_accounting_negatives(written, read):
    # QuickBooks and spreadsheets print `(12,50)`; a report writer the minus sign U+2212:
    # both were "is not an amount", with no hint.
    style = Layout.model_validate(
        {"csv": {"decimal_comma": True, "thousands_separator": "."}, "amount": {"signed": True}}
    ).number_style()
    assert str(parse_amount(written, style=style)) == read


@pytest.mark.parametrize("written", ["(12.50)", "\u22120.5"])
def test_an_unsigned_column_and_the_gateways_numbers_refuse_accounting_negatives(written):
    with pytest.raises(AmountError, match="has a sign; amounts here are positive"):
        parse_amount(written, style=Layout().number_style())
    with pytest.raises(AmountError):
        parse_amount(written, style=NumberStyle(signed=True))  # as the gateway's are read
