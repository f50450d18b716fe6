"""Previewing a CSV file: its first rows as they would be imported, before importing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reconcile_tui.files import open_input, reading
from reconcile_tui.ingest.header import read_header
from reconcile_tui.ingest.mapping import Layout
from reconcile_tui.ingest.reader import read_csv
from reconcile_tui.ingest.rows import RowError, RowParser
from reconcile_tui.store.imports import Record
from reconcile_tui.times import utc_now

__all__ = ["Preview", "PreviewRow", "preview_file"]


@dataclass(frozen=True)
class PreviewRow:
    """One row: its line, its raw fields, and the record it becomes or why it cannot.

    `skipped` holds the mapping's skip rule that leaves the row out (not a problem: the
    import counts it as skipped, docs/mapping.md)."""

    line: int
    fields: list[str]
    record: Record | None
    problem: str | None
    skipped: str | None = None


@dataclass(frozen=True)
class Preview:
    path: str
    header: list[str]
    rows: list[PreviewRow]
    file_size: int


def preview_file(
    path: Path,
    layout: Layout | None = None,
    *,
    rows: int = 20,
    validation_scales: Mapping[str, int] | None = None,
    now: datetime | None = None,
) -> Preview:
    """The header and the first `rows` rows of `path` as parsed; header problems raise."""
    layout = layout or Layout()
    shown = str(path)
    stream, size = open_input(path, "CSV file")
    with stream, reading(path, "CSV file"):
        reader = iter(
            read_csv(
                stream,
                encoding=layout.csv.encoding,
                delimiter=layout.csv.delimiter,
                quotechar=layout.csv.quotechar,
            )
        )
        header = read_header(reader, layout, shown)
        assert header.fields is not None
        parser = RowParser(
            layout,
            header.fields,
            shown,
            validation_scales=validation_scales or {},
            now=now or utc_now(),
            line=header.line,
        )
        found: list[PreviewRow] = []
        for row in reader:
            if len(found) >= rows:
                break
            if row.fields is None:
                found.append(PreviewRow(row.line, [row.text], None, row.problem))
                continue
            skipped = parser.skip_reason(row.fields)
            if skipped is not None:
                found.append(PreviewRow(row.line, row.fields, None, None, skipped=skipped))
                continue
            try:
                found.append(PreviewRow(row.line, row.fields, parser.parse(row.fields), None))
            except RowError as error:
                found.append(PreviewRow(row.line, row.fields, None, str(error)))
    return Preview(shown, header.fields, found, size)
