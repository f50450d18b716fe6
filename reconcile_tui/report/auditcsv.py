"""The auditors' CSV (`export --format csv`): one row per cause, and per discrepancy on
request, each with its acknowledgement's note, who and when.

Cells follow the CSV report's rules (`csvfile.py`): text is neutralised against formula
injection, while a cell that is exactly a number (`-6300.000000`) stays a number a
spreadsheet can add up; control characters are shown as escapes. UTF-8 with a BOM and
CRLF line endings, as Excel expects.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any, Final

from reconcile_tui.report.csvfile import cell
from reconcile_tui.store.runs import DISCREPANCY_SCOPE

__all__ = ["EXPORT_COLUMNS", "export_csv"]

#: The columns, in order. `amount` is a cause's amount or a discrepancy's difference;
#: `links` a cause's `explains` or a discrepancy's `causes`.
EXPORT_COLUMNS: Final = (
    "row",
    *DISCREPANCY_SCOPE,
    "bucket",
    "field",
    "references",
    "gateway_ids",
    "api_value",
    "merchant_value",
    "amount",
    "usd_difference",
    "links",
    "message",
    "acknowledged",
    "acknowledged_by",
    "acknowledged_at",
    "note",
    "accepted_amount",
)

_BOM: Final = "\ufeff"

#: Columns holding a list of ids, written as a JSON array.
_LISTS: Final = frozenset({"references", "gateway_ids", "links"})


def export_csv(document: Mapping[str, Any], *, discrepancies: bool = False) -> bytes:
    """The causes (then, if asked, the discrepancies) of a report document as CSV."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(EXPORT_COLUMNS)
    for cause in document.get("causes", []):
        writer.writerow(_row("cause", cause, cause.get("amount"), cause.get("explains")))
    if discrepancies:
        for found in document["discrepancies"]:
            writer.writerow(
                _row("discrepancy", found, found.get("difference"), found.get("causes"))
            )
    return (_BOM + buffer.getvalue()).encode("utf-8")


def _row(
    what: str, item: Mapping[str, Any], amount: str | None, links: list[str] | None
) -> list[str]:
    held = item.get("acknowledgement") or {}
    values: dict[str, Any] = {
        **item,
        "row": what,
        "amount": amount,
        "links": links or [],
        "acknowledged_by": held.get("by"),
        "acknowledged_at": held.get("at"),
        "note": held.get("note"),
        # With `acknowledged` false, an acknowledgement that lapsed: it accepted this
        # amount, and the row's amount is another now.
        "accepted_amount": held.get("accepted"),
    }
    return [cell(column, values.get(column), _LISTS) for column in EXPORT_COLUMNS]
