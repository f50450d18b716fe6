"""Report writers: the report document rendered as text, JSON, CSV, JUnit XML or Markdown.

Every writer takes the report document (a plain dict in the JSON schema, as
`Report.to_dict()` returns it and the store rebuilds it) and nothing else, so `check`
and `export` print the same thing. Writers return text or bytes; callers write files
with `reconcile_tui.files.write_atomically`.
"""

from __future__ import annotations

from typing import Final

from reconcile_tui.errors import BadInput
from reconcile_tui.reconcile.document import ReportDocument
from reconcile_tui.report.auditcsv import EXPORT_COLUMNS, export_csv
from reconcile_tui.report.csvfile import COLUMNS, read_csv, to_csv
from reconcile_tui.report.jsonfile import to_json
from reconcile_tui.report.junit import to_junit
from reconcile_tui.report.markdown import to_markdown
from reconcile_tui.report.text import render_text, to_text

__all__ = [
    "COLUMNS",
    "EXPORT_COLUMNS",
    "FORMATS",
    "export_csv",
    "read_csv",
    "render_bytes",
    "render_text",
    "to_csv",
    "to_json",
    "to_junit",
    "to_markdown",
    "to_text",
]

#: Every report format, in the order `--format` lists them.
FORMATS: Final = ("text", "json", "csv", "junit", "markdown")


def render_bytes(document: ReportDocument, fmt: str) -> bytes:
    """The report in format `fmt`, as the UTF-8 bytes of a file."""
    if fmt == "text":
        return to_text(document).encode("utf-8")
    if fmt == "json":
        return to_json(document).encode("utf-8")
    if fmt == "csv":
        return to_csv(document)  # already bytes: it starts with a BOM for Excel
    if fmt == "junit":
        return to_junit(document).encode("utf-8")
    if fmt == "markdown":
        return to_markdown(document).encode("utf-8")
    raise BadInput(f"unknown report format {fmt!r} (choose one of {', '.join(FORMATS)})")
