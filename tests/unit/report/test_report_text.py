"""The terminal report: readable at 80 columns, words for severity, capped tables."""

from __future__ import annotations

import io

from rich.cells import cell_len
from rich.console import Console

from reconcile_tui.reconcile.model import Kind
from reconcile_tui.report import render_text, to_text
from reconcile_tui.report.text import MAX_ROWS_PER_CURRENCY

SEVERITY_WORD = {"error": "ERROR", "warning": "warn"}


def flat(text: str) -> str:
    """`text` with wrapping undone (any run of whitespace as one space)."""
    return " ".join(text.split())


def titles(lines: list[str], document) -> dict[str | None, int]:
    """Line index of each currency table's title."""
    found: dict[str | None, int] = {}
    for discrepancy in document["discrepancies"]:
        currency = discrepancy["currency"]
        label = currency or "Gateway summary"
        (index,) = [i for i, line in enumerate(lines) if line.startswith(f"{label}  ")]
        found[currency] = index
    return found


def test_fits_80_columns(document):
    for line in to_text(document, width=80).splitlines():
        assert cell_len(line) <= 80, line


def test_every_discrepancy_in_its_currency_table_with_kind_and_severity_word(document):
    lines = to_text(document, width=80).splitlines()
    starts = titles(lines, document)
    boundaries = [*sorted(starts.values()), len(lines)]
    for discrepancy in document["discrepancies"]:
        (index,) = [i for i, line in enumerate(lines) if discrepancy["id"][:10] in line]
        start = starts[discrepancy["currency"]]
        end = boundaries[boundaries.index(start) + 1]
        assert start < index < end
        word = "ack" if discrepancy["acknowledged"] else SEVERITY_WORD[discrepancy["severity"]]
        assert lines[index].split()[1:3] == [word, discrepancy["kind"]]


def test_ids_are_shortened_but_kept_unique(document):
    text = to_text(document, width=80)
    for discrepancy in document["discrepancies"]:
        assert discrepancy["id"][:10] in text
        assert discrepancy["id"] not in text


def check_cell(lines: list[str], discrepancy) -> str:
    """The text of a row's check column: the row's lines without the ID, Sev and amounts."""
    (first,) = [i for i, line in enumerate(lines) if discrepancy["id"][:10] in line]
    start = lines[first].index(discrepancy["kind"])
    usd = discrepancy["usd_difference"]
    amounts = [discrepancy[key] or "—" for key in ("api_value", "merchant_value", "difference")]
    amounts.append(f"USD {usd}" if usd is not None else "")
    cell = []
    for offset, line in enumerate(lines[first:]):
        if not line:
            break
        part = line[start:]
        amount = amounts[offset] if offset < len(amounts) else ""
        if amount:
            assert part.endswith(amount)
            part = part[: -len(amount)]
        cell.append(part)
    return "".join(cell)


def test_messages_are_wrapped_not_cut(document):
    lines = to_text(document, width=80).splitlines()
    for discrepancy in document["discrepancies"]:
        # Compared without whitespace: wrapping adds line breaks, and a word longer than
        # the column is folded.
        message = "".join(discrepancy["message"].split())
        assert message in "".join(check_cell(lines, discrepancy).split())


def test_summary_and_totals(document):
    text = to_text(document, width=80)
    assert "✗ DISCREPANCIES: 11 open" in text
    assert "9 errors, 2 warnings, 3 acknowledged" in text
    assert "2025-01-15T09:30:00Z (5m old)" in text
    assert "https://api.cryptofuse.io" in text
    assert "ETH from 2025-01-10T00:00:00Z" in flat(text)
    assert text.rstrip().splitlines()[-1] == "✗ Totals: 9 errors, 2 warnings, 3 acknowledged."


def test_amounts_are_right_aligned_in_one_column(document):
    lines = to_text(document, width=80).splitlines()
    eth = next(d for d in document["discrepancies"] if d["kind"] == "available_mismatch")
    (first,) = [i for i, line in enumerate(lines) if eth["id"][:10] in line]
    shown = lines[first : first + 4]
    values = [
        eth["api_value"],
        eth["merchant_value"],
        eth["difference"],
        f"USD {eth['usd_difference']}",
    ]
    for line, value in zip(shown, values, strict=True):
        assert line.endswith(" " + value)
    assert len({len(line) for line in shown}) == 1


def test_notes_are_printed(document):
    text = flat(to_text(document, width=80))
    assert "Notes • BTC: the records start from an opening balance" in text
    assert "• ETH: # no balance history was fetched | so not compared" in text


def test_no_colour_codes_and_no_trailing_spaces(document):
    text = to_text(document, width=80)
    assert "\x1b" not in text
    assert all(line == line.rstrip() for line in text.splitlines())


def test_data_is_never_read_as_console_markup(make_document, make_discrepancy):
    message = "[bold red]not markup[/] :thumbs_up: [link=http://x]y[/link]"
    document = make_document([make_discrepancy(Kind.LOW_BALANCE, message, currency="BTC")])
    assert message in to_text(document, width=100)


def test_rows_per_currency_are_capped(make_document, history_mismatches):
    document = make_document(history_mismatches(MAX_ROWS_PER_CURRENCY + 30))
    text = to_text(document, width=80)
    shown = [d for d in document["discrepancies"] if d["id"][:10] in text]
    assert len(shown) == MAX_ROWS_PER_CURRENCY
    assert "… 30 more (use --format json or export)" in text


def test_clean_report_says_clean(clean_document):
    text = to_text(clean_document, width=80)
    assert "✓ CLEAN: no open discrepancies" in text
    assert text.rstrip().splitlines()[-1] == "✓ Clean: the gateway and the records agree."
    assert "Difference" not in text


def test_render_text_on_a_colour_console_keeps_the_words(document):
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, force_terminal=True, color_system="standard")
    render_text(document, console)
    coloured = buffer.getvalue()
    assert "\x1b[" in coloured
    for word in ("ERROR", "warn", "ack"):
        assert word in coloured
