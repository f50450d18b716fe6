"""Control characters out of a merchant's CSV (ESC, BEL, C1, bidi overrides, zero-width,
line separators) never reach a reader raw: every format shows them as escapes, JSON and
CSV still give the exact text back."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from reconcile_tui.reconcile.model import Kind
from reconcile_tui.report import FORMATS, read_csv, render_bytes, render_text
from reconcile_tui.report.visible import reveal, visible
from reconcile_tui.tui.cells import plain, wallet_label

#: Each hidden character, with the escape a reader sees.
HOSTILE = {
    "\x1b": "\\x1b",  # ESC: `ESC[2J` clears the screen
    "\x07": "\\x07",  # BEL
    "\x00": "\\x00",
    "\r": "\\x0d",  # returns to the line's start and overwrites it
    "\x7f": "\\x7f",
    "\x9b": "\\x9b",  # C1 CSI
    "\x85": "\\x85",  # C1 next line
    "\u202a": "\\u202a",
    "\u202e": "\\u202e",  # right-to-left override
    "\u2066": "\\u2066",
    "\u2069": "\\u2069",
    "\u200b": "\\u200b",  # zero-width space
    "\u200f": "\\u200f",
    "\u2028": "\\u2028",  # line separator
    "\u2029": "\\u2029",
    "\ufeff": "\\ufeff",
    "\U000e0041": "\\U000e0041",  # a tag character, invisible
}
REFERENCE = "ORD-" + "".join(HOSTILE) + "[2J"
MESSAGE = f"reference {REFERENCE} appears twice in jan.csv"


@pytest.fixture
def hostile(make_document, make_discrepancy):
    return make_document(
        [
            make_discrepancy(
                Kind.DUPLICATE_RECORD,
                MESSAGE,
                currency="USDTERC20",
                wallet_id="w\u202eallet",
                references=[REFERENCE],
            )
        ],
        notes=[{"currency": "USDTERC20", "message": f"note about {REFERENCE}"}],
    )


@pytest.mark.parametrize("character", list(HOSTILE))
def test_each_hidden_character_is_shown_as_its_escape(character):
    assert visible(f"a{character}b") == f"a{HOSTILE[character]}b"


def test_layout_and_ordinary_text_stay_as_written():
    text = "Zahlung für „12“ ✓ 日本 \U0001f600\ttab\nline\u00a0nbsp \\ backslash"
    assert visible(text) == text


@given(st.text())
def test_the_reversible_form_gives_the_text_back(text):
    shown = visible(text, reversible=True)
    assert reveal(shown) == text
    assert not any(character in shown for character in HOSTILE)


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_report_format_carries_a_hidden_character_raw(hostile, fmt):
    written = render_bytes(hostile, fmt).decode("utf-8")
    if fmt == "csv":
        # Its own BOM and CRLF line endings are the format, not data.
        written = written.removeprefix("\ufeff").replace("\r\n", "\n")
    for character in HOSTILE:
        assert character not in written, (fmt, character)


@pytest.mark.parametrize("fmt", ["text", "markdown", "junit"])
def test_formats_for_people_show_the_escapes(hostile, fmt):
    written = render_bytes(hostile, fmt).decode("utf-8")
    assert "\\x1b" in written
    assert "\\u202e" in written


def test_the_terminal_report_sends_no_escape_of_the_data(hostile):
    screen = io.StringIO()
    console = Console(file=screen, width=200, force_terminal=True, color_system=None)
    render_text(hostile, console)
    shown = screen.getvalue()
    for character in ("\x1b[2J", "\x07", "\u202e"):
        assert character not in shown
    assert "ORD-\\x1b\\x07" in shown


def test_json_keeps_the_exact_text_with_its_own_escapes(hostile):
    written = render_bytes(hostile, "json").decode("utf-8")
    assert "\\u202e" in written
    assert "\\u001b" in written
    back = json.loads(written)
    assert back["discrepancies"][0]["references"] == [REFERENCE]
    assert back["discrepancies"][0]["message"] == MESSAGE


def test_csv_shows_escapes_and_reads_back_exactly(hostile):
    written = render_bytes(hostile, "csv")
    assert b"\\x1b" in written
    assert read_csv(written) == hostile["discrepancies"]


def test_junit_messages_show_escapes(hostile):
    root = ET.fromstring(render_bytes(hostile, "junit"))
    failure = root.find(".//failure")
    assert failure is not None
    assert failure.get("message") == visible(MESSAGE)
    assert "\\u202e" in failure.get("message", "")


def test_the_terminal_app_shows_record_text_escaped():
    assert plain(REFERENCE).plain == visible(REFERENCE)
    assert "\x1b" not in plain(REFERENCE).plain
    assert wallet_label("0b9d8c7e-6f5a", "ops\u202e") == "ops\\u202e (0b9d8c7e)"
