"""The Markdown job summary: headline, source, escaped tables, a row cap, notes."""

from __future__ import annotations

import re

import pytest

from reconcile_tui.reconcile.model import Kind
from reconcile_tui.report import to_markdown
from reconcile_tui.report.markdown import MAX_ROWS, escape

COLUMNS = 11


def table_rows(text: str) -> list[str]:
    """Table body rows (not the header or the alignment line)."""
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    return [line for line in rows if not line.startswith("| | ID |")]


def row_of(rows: list[str], discrepancy) -> str:
    """The one row showing `discrepancy` (by its short id)."""
    (line,) = [line for line in rows if f"| {discrepancy['id'][:10]} |" in line]
    return line


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_headline_counts_errors_warnings_and_acknowledged(document):
    assert to_markdown(document).splitlines()[0] == (
        "## ❌ Reconciliation: 9 errors, 2 warnings (3 acknowledged)"
    )


def test_clean_headline(clean_document):
    text = to_markdown(clean_document)
    assert text.splitlines()[0] == "## ✅ Reconciliation clean"
    assert table_rows(text) == []


def test_warnings_alone_get_a_milder_mark(make_document, make_discrepancy):
    document = make_document(
        [make_discrepancy(Kind.STALE_PENDING, "old", currency="BTC", references=["R1"])]
    )
    assert to_markdown(document).splitlines()[0] == "## ⚠️ Reconciliation: 0 errors, 1 warning"


def test_source_tolerances_and_first_divergence(document):
    text = to_markdown(document)
    assert (
        "Gateway https://api.cryptofuse.io fetched 2025-01-15T09:30:00Z · period 7d, daily"
        " buckets · 1234 records from exports/jan.csv, exports/feb\\|march.csv" in text
    )
    assert "**Tolerances:** BTC 0, DOGE 0, ETH 0, USDCTRC20 0, USDTERC20 0.01" in text
    assert (
        "**First divergence:** ETH from 2025-01-10T00:00:00Z,"
        " USDTERC20 from 2025-01-12T00:00:00Z" in text
    )


def test_a_table_per_currency_in_document_order(document):
    headings = [line for line in to_markdown(document).splitlines() if line.startswith("### ")]
    assert headings == [
        "### Gateway summary (1 error, 0 warnings)",
        "### BTC (1 error, 0 warnings, 1 acknowledged)",
        "### DOGE (1 error, 0 warnings)",
        "### ETH (2 errors, 0 warnings, 1 acknowledged)",
        "### USDTERC20 (4 errors, 1 warning, 1 acknowledged)",
        "### USDCTRC20 (0 errors, 1 warning)",
        "### Notes",
    ]


def test_every_discrepancy_is_a_row_with_the_right_number_of_cells(document):
    rows = table_rows(to_markdown(document))
    assert len(rows) == len(document["discrepancies"])
    for line in rows:
        # Pipes inside messages and wallet ids are escaped: a row keeps its 11 cells.
        assert unescaped_pipes(line) == COLUMNS + 1, line
    for discrepancy in document["discrepancies"]:
        line = row_of(rows, discrepancy)
        assert f"| {escape(discrepancy['kind'])} |" in line
        assert discrepancy["message"].splitlines()[0][:20] in line.replace("\\", "")


def test_acknowledged_rows_are_marked(document):
    rows = table_rows(to_markdown(document))
    for discrepancy in document["discrepancies"]:
        if discrepancy["acknowledged"]:
            expected = "| ☑️ ack |"
        else:
            expected = "| ❌ error |" if discrepancy["severity"] == "error" else "| ⚠️ warning |"
        assert row_of(rows, discrepancy).startswith(expected)


def test_newlines_and_html_in_messages_stay_inside_their_cell(document):
    text = to_markdown(document)
    (line,) = [row for row in table_rows(text) if "Zahlung" in row]
    assert "\\<b\\>\\&amp;\\</b\\><br>zweite Zeile ✓ |" in line
    assert "<b>" not in text


def test_negative_amounts_and_usd_appear_as_written(document):
    (line,) = [row for row in table_rows(to_markdown(document)) if "total_deposited" in row]
    assert "| 1.50000000 | 1.60000000 | -0.10000000 | -6500.00 |" in line


def test_rows_stop_at_the_cap_with_a_pointer_to_export(make_document, history_mismatches):
    document = make_document(
        history_mismatches(150, "USDTERC20") + history_mismatches(100, "ETH"),
        tolerances={"ETH": "0", "USDTERC20": "0"},
    )
    text = to_markdown(document)
    assert len(table_rows(text)) == MAX_ROWS == 200
    assert "… 50 more discrepancies not shown; `reconcile-tui export --output FILE`" in text
    # The heading still counts everything in the currency, not just what is shown.
    assert "### ETH (100 errors, 0 warnings)" in text


def test_exactly_the_cap_needs_no_pointer(make_document, history_mismatches):
    text = to_markdown(make_document(history_mismatches(MAX_ROWS)))
    assert len(table_rows(text)) == MAX_ROWS
    assert "more discrepanc" not in text


def test_notes_come_last(document):
    text = to_markdown(document)
    notes = text[text.index("### Notes") :]
    assert text.rstrip().endswith(notes.rstrip())
    assert "- BTC: the records start from an opening balance" in notes
    assert "- 2 rows of exports/jan.csv are quarantined" in notes
    assert "- **ETH:** # no balance history was fetched \\| so not compared" in notes


@pytest.mark.parametrize(
    ("note", "shown"),
    [
        ("# looks like a heading", "- \\# looks like a heading"),
        ("1. a list", "- 1\\. a list"),
        ("- a bullet", "- \\- a bullet"),
        ("> quote", "- \\> quote"),
    ],
)
def test_a_note_cannot_turn_into_markdown_structure(make_document, note, shown):
    text = to_markdown(make_document([], notes=[{"currency": None, "message": note}]))
    assert shown in text.splitlines()


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a|b", "a\\|b"),
        ("one\ntwo\r\nthree", "one<br>two<br>three"),
        ("available_mismatch", "available_mismatch"),
        ("_emphasis_", "\\_emphasis\\_"),
        ("*bold* ~~gone~~", "\\*bold\\* \\~\\~gone\\~\\~"),
        ("<script>&amp;", "\\<script\\>\\&amp;"),
        ("[link](http://x)", "\\[link\\](http://x)"),
        ("back\\slash `code`", "back\\\\slash \\`code\\`"),
        ("-5.000000", "-5.000000"),
    ],
)
def test_escape(text, escaped):
    assert escape(text) == escaped


def test_wallet_ids_are_shortened_for_the_table(document):
    text = to_markdown(document)
    eth = next(d for d in document["discrepancies"] if d["kind"] == "available_mismatch")
    assert f"| {eth['wallet_id'][:8]}… |" in row_of(table_rows(text), eth)
    assert eth["wallet_id"] not in text
