"""The CSV export for auditors: one row per discrepancy, safe to open in a spreadsheet.

Every cell is text exactly as the report document holds it, so amounts keep every digit.
A cell that a spreadsheet would run as a formula (first character `=`, `+`, `-`, `@`, tab
or carriage return, per OWASP's CSV injection guidance) gets a leading `'`, unless it is
exactly a plain number: `-5.000000` stays a number a spreadsheet can add up, since a
leading minus on digits is no formula. `read_csv` removes exactly the quotes it added.

The escape is reversible: a cell that already starts with `'` followed by one of those
characters (or by another `'`) gets one more quote, so `read_csv` can always tell which
quote it added and which belongs to the text.

Control characters (ESC, bidi overrides, zero-width) are shown as escapes (`\x1b`,
`\u202e`) and a backslash as two, so a reader sees them and `read_csv` still gives the
exact text back (see `visible.py`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from reconcile_tui.errors import BadInput
from reconcile_tui.money import FloatInMoneyError
from reconcile_tui.report.visible import json_escaped, reveal, visible
from reconcile_tui.store.runs import DISCREPANCY_FIGURES, DISCREPANCY_KEYS

__all__ = ["COLUMNS", "PLAIN_NUMBER", "cell", "neutralise", "read_csv", "restore", "to_csv"]

#: The columns, in order: the discrepancy object of the report schema.
COLUMNS: Final = DISCREPANCY_KEYS

#: Columns the schema allows to be null; an empty cell there reads back as None.
NULLABLE: Final = frozenset({"currency", "wallet_id", *DISCREPANCY_FIGURES})

#: Columns holding a list of text, written as a JSON array.
_LISTS: Final = frozenset({"references", "causes"})

#: First characters that make a spreadsheet evaluate a cell (OWASP CSV injection).
FORMULA_STARTS: Final = frozenset("=+-@\t\r")

#: A cell that is exactly this is a number to a spreadsheet, never a formula.
PLAIN_NUMBER: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")

_QUOTE: Final = "'"
_BOM: Final = "\ufeff"


def neutralise(text: str) -> str:
    """`text` made inert for a spreadsheet, reversibly (see the module docstring)."""
    if PLAIN_NUMBER.fullmatch(text):
        return text
    if text[:1] in FORMULA_STARTS or _has_escape(text):
        return _QUOTE + text
    return text


def restore(cell: str) -> str:
    """The text `neutralise` was given, from the cell it produced."""
    return cell[1:] if _has_escape(cell) else cell


def _has_escape(text: str) -> bool:
    return text[:1] == _QUOTE and (text[1:2] in FORMULA_STARTS or text[1:2] == _QUOTE)


def to_csv(document: Mapping[str, Any]) -> bytes:
    """The discrepancies as CSV: UTF-8 with a BOM (Excel needs it), CRLF line endings."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for discrepancy in document["discrepancies"]:
        writer.writerow([cell(column, discrepancy.get(column)) for column in COLUMNS])
    return (_BOM + buffer.getvalue()).encode("utf-8")


def cell(column: str, value: Any, lists: frozenset[str] = _LISTS) -> str:
    """One cell of a CSV report or export: a list as a JSON array, `acknowledged` as
    true/false, None as empty, text made visible and neutralised. A float is refused:
    amounts travel as text (docs/money.md)."""
    if column in lists:
        # ensure_ascii=False keeps references readable; a JSON array starts with `[`.
        return json_escaped(json.dumps(list(value or ()), ensure_ascii=False))
    if column == "acknowledged":
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float):
        raise FloatInMoneyError(f"report field {column} is a float; amounts travel as text")
    if not isinstance(value, str):
        raise TypeError(f"report field {column} must be text, not {type(value).__name__}")
    return neutralise(visible(value, reversible=True))


def read_csv(data: bytes) -> list[dict[str, Any]]:
    """Discrepancy objects back from `to_csv` output: the exact inverse of the export."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadInput(f"not a UTF-8 discrepancy export ({error.reason})") from None
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, None)
    if header is None or tuple(header) != COLUMNS:
        raise BadInput("not a discrepancy export: the header row differs from the CSV columns")
    found: list[dict[str, Any]] = []
    for line, row in enumerate(rows, start=2):
        if len(row) != len(COLUMNS):
            raise BadInput(f"row {line}: {len(row)} cells, expected {len(COLUMNS)}")
        found.append(
            {column: _value(column, cell, line) for column, cell in zip(COLUMNS, row, strict=True)}
        )
    return found


def _value(column: str, cell: str, line: int) -> Any:
    if column in _LISTS:
        try:
            listed = json.loads(cell)
        except json.JSONDecodeError:
            listed = None
        if not isinstance(listed, list) or not all(isinstance(r, str) for r in listed):
            raise BadInput(f"row {line}: {column} must be a JSON array of text")
        return listed
    if column == "acknowledged":
        if cell not in {"true", "false"}:
            raise BadInput(f"row {line}: acknowledged must be true or false, not {cell!r}")
        return cell == "true"
    if cell == "" and column in NULLABLE:
        return None
    return reveal(restore(cell))
