"""Exact sums of stored amounts inside SQLite's own scan (docs/performance.md, "Check with
transactions").

SQLite's SUM() would turn decimal TEXT into floating point. Instead, an amount in the plain
shape `-?D+(.D{1,18})?` (ASCII digits, at most 18 before the point) is taken apart into
whole numbers that SQLite adds exactly: its integer part, and the first nine and the last
nine digits of its fraction padded to 18, each signed like the text; beside them, the most
places any text shows. `money.tally_of_parts` puts them back together as `ExactTally`
would have added the texts. A text of any other shape is counted as odd: its group is then
added by `ExactTally` itself, the one exact rule, which also explains a text it refuses.

Each part stays far inside SQLite's 64-bit integers for a single amount; their sums over
many may not, for integer parts near 10**18: `sum()` then raises and the caller adds the
texts in Python instead (`OVERFLOW`).
"""

from __future__ import annotations

from typing import Final

from reconcile_tui.money import canonical, tally_of_parts

__all__ = ["OVERFLOW", "rebuilt", "summed"]

#: What SQLite says when an exact integer `sum()` no longer fits in 64 bits.
OVERFLOW: Final = "integer overflow"

_PADDING: Final = "0" * 18


def _plain(text: str) -> str:
    """SQL true when `text` (a column) is in the plain shape, strictly: only digits, at
    most one '-' and only first, at most one '.', a digit first (after the '-') and last,
    at most 18 digits before the point and 18 after it. Per text this costs more than the
    parts themselves (docs/performance.md, "Check with transactions")."""
    dot = f"instr({text}, '.')"
    return (
        # A NUL ends the text for GLOB and length() but not for its bytes; a character
        # outside ASCII makes the bytes longer too.
        f"(length(CAST({text} AS BLOB)) = length({text})"
        f" AND {text} NOT GLOB '*[^0-9.-]*' AND {text} NOT GLOB '?*-*'"
        f" AND {text} NOT GLOB '*.*.*'"
        f" AND ({text} GLOB '[0-9]*' OR {text} GLOB '-[0-9]*')"
        f" AND CASE {dot} WHEN 0 THEN length({text}) - ({text} GLOB '-*') <= 18"
        f" ELSE {dot} - 1 - ({text} GLOB '-*') <= 18"
        f" AND length({text}) - {dot} BETWEEN 1 AND 18 END)"
    )


def _row_parts(text: str) -> list[str]:
    """SQL for one amount column: integer part, first nine and last nine digits of the
    fraction padded to 18 (both signed like the text), its places, and 1 when it is odd."""
    dot = f"instr({text}, '.')"
    sign = f"(1 - 2 * ({text} GLOB '-*'))"

    def nine(offset: int) -> str:
        digits = f"substr({text} || '{_PADDING}', {dot} + {offset}, 9)"
        return f"CASE {dot} WHEN 0 THEN 0 ELSE {sign} * CAST({digits} AS INTEGER) END"

    return [
        # CAST reads the leading integer with its sign ("-12.5" -> -12); the plain shape
        # keeps it within 18 digits, where CAST is exact.
        f"CAST({text} AS INTEGER)",
        nine(1),
        nine(10),
        f"CASE {dot} WHEN 0 THEN 0 ELSE length({text}) - {dot} END",
        f"NOT {_plain(text)}",
    ]


def summed(text: str) -> str:
    """The aggregates of `_row_parts` over a group, for a GROUP BY (`rebuilt` reads them)."""
    whole, first, last, places, odd = _row_parts(text)
    return f"sum({whole}), sum({first}), sum({last}), max({places}), sum({odd})"


def rebuilt(whole: object, first: object, last: object, places: object, odd: object) -> str | None:
    """The canonical text of a group's exact total from its parts, or None when the group
    holds an odd text or a part did not stay a whole number: add its texts instead."""
    parts = (whole, first, last, places, odd)
    if odd or not all(type(part) is int for part in parts):
        return None
    assert isinstance(whole, int)
    assert isinstance(first, int)
    assert isinstance(last, int)
    assert isinstance(places, int)
    return canonical(tally_of_parts(whole, first, last, places))
