"""Text from records and the gateway made safe to show: invisible and controlling
characters written as escapes (`\\x1b`, `\\u202e`).

A reference out of a CSV file can hold ESC (`ESC[2J` clears a terminal), BEL, C1
controls, bidirectional overrides that reorder what a reader sees, zero-width characters
and line separators. Every writer a person reads (text, Markdown, CSV, JUnit, the
terminal app) shows them through `visible`; JSON keeps the exact text with JSON's own
escapes (`json_escaped`). See docs/report.md, "Control characters".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["json_escaped", "reveal", "visible", "visible_document"]

#: Unicode categories never shown raw: controls, format characters (bidi overrides,
#: zero-width), line and paragraph separators, lone surrogates.
_HIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
#: Controls that are layout every writer already handles (a table cell wraps, a CSV
#: cell is quoted, Markdown turns a line break into `<br>`).
_LAYOUT: Final = frozenset("\t\n")

_ESCAPE: Final = re.compile(r"\\(?:\\|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def _hidden(character: str) -> bool:
    return character not in _LAYOUT and unicodedata.category(character) in _HIDDEN_CATEGORIES


def _escape(character: str) -> str:
    code = ord(character)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: str, *, reversible: bool = False) -> str:
    """`text` with every hidden character as an escape; tabs and line feeds kept.

    `reversible` also doubles each backslash, so `reveal` gives the text back exactly
    (for the CSV export, which must read back)."""
    if text.isprintable() and not (reversible and "\\" in text):
        return text  # the common case; nothing isprintable() accepts is hidden
    shown = []
    for character in text:
        if character == "\\" and reversible:
            shown.append("\\\\")
        elif _hidden(character):
            shown.append(_escape(character))
        else:
            shown.append(character)
    return "".join(shown)


def reveal(text: str) -> str:
    """The text `visible(..., reversible=True)` was given."""

    def original(match: re.Match[str]) -> str:
        escape = match.group()
        return "\\" if escape == "\\\\" else chr(int(escape[2:], 16))

    return _ESCAPE.sub(original, text)


def visible_document(value: Any) -> Any:
    """A report document (or any part of it) with `visible` applied to every text, keys
    included; numbers, booleans and None as they are."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, Mapping):
        return {visible_document(key): visible_document(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [visible_document(item) for item in value]
    return value


def json_escaped(text: str) -> str:
    """JSON text with every hidden character JSON's encoder leaves raw as a `\\uXXXX`
    escape: the parsed values are unchanged, the bytes are safe on a terminal."""

    def escaped(character: str) -> str:
        code = ord(character)
        if code < 0x10000:
            return f"\\u{code:04x}"
        code -= 0x10000  # beyond the BMP, JSON escapes a surrogate pair
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"

    # Indented JSON is many short lines, almost all printable: only a line that is not
    # is looked at character by character.
    return "\n".join(
        line if line.isprintable() else "".join(escaped(c) if _hidden(c) else c for c in line)
        for line in text.split("\n")
    )
