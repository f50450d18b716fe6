"""Finding the header row: after a preamble some exports write before it.

Bank statements and exchange reports often start with an account number, a period or a
title. A mapping says how many rows to leave out (`skip_lines`) or which cell the header
row holds (`header_contains`); see docs/mapping.md, "Preamble and footer".
"""

from __future__ import annotations

from collections.abc import Iterator

from reconcile_tui.errors import BadFile
from reconcile_tui.ingest.mapping import Layout
from reconcile_tui.ingest.reader import CsvRow

__all__ = ["read_header"]


def read_header(rows: Iterator[CsvRow], layout: Layout, shown: str) -> CsvRow:
    """The header row (its fields are known to be readable); BadFile when there is none."""
    for _ in range(layout.csv.skip_lines):
        if next(rows, None) is None:
            raise BadFile(
                f"{shown}: the file ends within the {layout.csv.skip_lines} rows that "
                "skip_lines leaves out before the header; lower skip_lines under [csv]"
            )
    wanted = layout.csv.header_contains
    for row in rows:
        if wanted is None:
            if row.fields is None:
                raise BadFile(f"{shown}:{row.line}: {row.problem}")
            return row
        folded = wanted.casefold()
        if row.fields is not None and any(cell.strip().casefold() == folded for cell in row.fields):
            return row
    if wanted is None:
        raise BadFile(f"{shown}: the file is empty (no header line)")
    raise BadFile(
        f"{shown}: no row has a cell {wanted!r}, so the header was not found; write "
        "header_contains under [csv] as one of the header's column names"
    )
