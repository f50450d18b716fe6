"""The terminal report: a summary panel, one table per currency, then notes and totals.

Made for 80 columns: each table has a wrapping "check" column (kind, where, message) and
one right-aligned column stacking gateway, records, difference and USD, so long amounts
(18 places for ETH) never squeeze the message to nothing. Severity is a word ("ERROR",
"warn", "ack"), coloured only as an extra. Ids are shortened for the eye; json and csv
carry them whole, and `ack` accepts a unique prefix.

Everything from the data is printed as `Text`, never as console markup, so a message
holding `[bold]` or `:smile:` is shown as written; control characters (ESC, bidi
overrides) are shown as escapes (`visible.py`), so no record can drive the terminal.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Final, TypeVar

from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from reconcile_tui.reconcile.document import (
    CauseCounts,
    CauseDocument,
    DiscrepancyDocument,
    FindingDocument,
    NoteDocument,
    ReportDocument,
    Summary,
)
from reconcile_tui.report.visible import visible_document
from reconcile_tui.times import TimeError, age_text, parse_api_time

__all__ = ["MAX_ROWS_PER_CURRENCY", "render_text", "to_text"]

#: Rows per currency table; beyond this the terminal is the wrong place to read them.
MAX_ROWS_PER_CURRENCY: Final = 100

_ID_LENGTH: Final = 10
_WALLET_LENGTH: Final = 8
_REFERENCES_SHOWN: Final = 3
_MISSING: Final = "—"

_Finding = TypeVar("_Finding", bound=FindingDocument)

_SEVERITY_STYLE: Final = {"error": "bold red", "warning": "yellow"}


def to_text(document: ReportDocument, width: int = 100) -> str:
    """The terminal report as plain text (no colour, no control codes) `width` columns wide."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system=None,
        force_terminal=False,
        no_color=True,
        highlight=False,
        emoji=False,
        legacy_windows=False,
    )
    render_text(document, console)
    # Rich pads every line to the full width; a file should not carry that padding.
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def render_text(document: ReportDocument, console: Console) -> None:
    """Print the report on `console`, control characters from the data escaped."""
    document = _counting_causes(visible_document(document))
    summary = document["summary"]
    console.print(_summary_panel(document), highlight=False)
    causes = document.get("causes") or []
    if causes:
        console.print()
        console.print(_per_currency(document), highlight=False)
    _print_tables(console, causes, _cause_table)
    _print_tables(console, document["discrepancies"], _table)
    notes = document.get("notes") or []
    if notes:
        console.print()
        console.print(Text("Notes", style="bold"))
        for note in notes:
            console.print(Text.assemble("• ", _note(note)), highlight=False)
    console.print()
    console.print(_totals_line(summary), highlight=False)


def _counting_causes(document: ReportDocument) -> ReportDocument:
    """The document as read: a report that lists no causes (schema 1, or built by hand)
    is counted by its discrepancies, so its summary's cause counts are set aside."""
    if document.get("causes") or "causes" not in document["summary"]:
        return document
    summary = document["summary"].copy()
    del summary["causes"]
    return {**document, "summary": summary}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _counts(summary: CauseCounts) -> str:
    text = f"{_plural(summary['errors'], 'error')}, {_plural(summary['warnings'], 'warning')}"
    if summary["acknowledged"]:
        text += f", {summary['acknowledged']} acknowledged"
    return text


def _counted(summary: Summary) -> CauseCounts:
    """What users count: open causes (schema 2), else open discrepancies (schema 1)."""
    return summary.get("causes") or summary


def _status(summary: Summary) -> Text:
    counted = _counted(summary)
    if summary["status"] == "clean":
        what = "causes" if "causes" in summary else "discrepancies"
        return Text(f"✓ CLEAN: no open {what}", style="bold green")
    style = "bold red" if counted["errors"] else "bold yellow"
    if "causes" in summary:
        open_ = counted["errors"] + counted["warnings"]
        found = summary["errors"] + summary["warnings"]
        return Text(
            f"✗ {_plural(open_, 'open cause').upper()} behind"
            f" {_plural(found, 'open discrepancy').replace('discrepancys', 'discrepancies')}",
            style=style,
        )
    return Text(f"✗ DISCREPANCIES: {summary['errors'] + summary['warnings']} open", style=style)


def _totals_line(summary: Summary) -> Text:
    counted = _counted(summary)
    if summary["status"] == "clean":
        acknowledged = counted["acknowledged"]
        extra = f" ({acknowledged} acknowledged)" if acknowledged else ""
        return Text(f"✓ Clean: the gateway and the records agree{extra}.", style="green")
    style = "bold red" if counted["errors"] else "bold yellow"
    what = "causes: " if "causes" in summary else ""
    return Text(f"✗ Totals: {what}{_counts(counted)}.", style=style)


def _summary_panel(document: ReportDocument) -> Panel:
    api = document["api"]
    records = document["records"]
    summary = document["summary"]
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("Status", _status(summary))
    if "causes" in summary:
        grid.add_row("Causes", Text(_counts(summary["causes"])))
        grid.add_row("Findings", Text(_counts(summary) + " (discrepancies)"))
        unexplained = {
            code: rest for code, rest in summary.get("unexplained", {}).items() if rest != "0"
        }
        if unexplained:
            shown = ", ".join(f"{code} {rest}" for code, rest in unexplained.items())
            grid.add_row("Unexplained", Text(shown))
    else:
        grid.add_row("Counts", Text(_counts(summary)))
    by_kinds = _counted(summary)["by_kind"]
    if by_kinds:
        by_kind = ", ".join(f"{kind} {count}" for kind, count in by_kinds.items())
        grid.add_row("Open", Text(by_kind))
    grid.add_row("Gateway", Text(api["base_url"]))
    grid.add_row("Fetched", Text(api["fetched_at"] + _age(api["fetched_at"], document)))
    grid.add_row("Period", Text(f"{api['period']}, {api['interval']} buckets"))
    files = ", ".join(records["files"]) or "no files"
    grid.add_row("Records", Text(f"{records['count']} from {files}"))
    tolerances = ", ".join(f"{code} {value}" for code, value in document["tolerances"].items())
    grid.add_row("Tolerance", Text(tolerances or "no currency in scope"))
    if summary["first_divergence"]:
        first = ", ".join(
            f"{code} from {bucket}" for code, bucket in summary["first_divergence"].items()
        )
        grid.add_row("Drift", Text(first))
    return Panel(grid, title="Reconciliation", title_align="left", box=box.ROUNDED, expand=False)


def _age(fetched_at: str, document: ReportDocument) -> str:
    """How old the gateway data was when the report was made, e.g. " (5m old)"."""
    try:
        age = parse_api_time(document["generated_at"]) - parse_api_time(fetched_at)
    except TimeError:
        return ""  # a document edited by hand may carry odd times; the times still show
    return f" ({age_text(age)} old)" if age.total_seconds() >= 0 else ""


def _print_tables(
    console: Console,
    rows: list[_Finding],
    table: Callable[[str | None, list[_Finding]], Table],
) -> None:
    """One table per currency, at most MAX_ROWS_PER_CURRENCY rows, and how many more
    the other formats hold."""
    for currency, listed in _by_currency(rows).items():
        console.print()
        console.print(table(currency, listed[:MAX_ROWS_PER_CURRENCY]), highlight=False)
        hidden = len(listed) - MAX_ROWS_PER_CURRENCY
        if hidden > 0:
            console.print(Text(f"… {hidden} more (use --format json or export)", style="italic"))


def _by_currency(
    discrepancies: list[_Finding],
) -> dict[str | None, list[_Finding]]:
    """Discrepancies per currency, in the order the document first names each currency."""
    grouped: dict[str | None, list[_Finding]] = {}
    for discrepancy in discrepancies:
        grouped.setdefault(discrepancy["currency"], []).append(discrepancy)
    return grouped


def _finding_table(
    title: str,
    listed: list[_Finding],
    columns: tuple[str, str],
    describe: Callable[[_Finding], Text],
    figures: Callable[[_Finding], Text],
) -> Table:
    """A table of discrepancies or causes: titled with its open errors, open warnings and
    acknowledged ones; a row each with its ID, severity, what it is (`describe`, under
    the first of `columns`) and its amounts (`figures`, under the second); acknowledged
    rows dimmed."""
    open_ = [found for found in listed if not found["acknowledged"]]
    errors = sum(1 for found in open_ if found["severity"] == "error")
    counts = f"{_plural(errors, 'error')}, {_plural(len(open_) - errors, 'warning')}"
    if len(listed) > len(open_):
        counts += f", {len(listed) - len(open_)} acknowledged"
    table = Table(
        title=Text.assemble((title, "bold"), f"  {counts}"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_lines=True,
        show_edge=False,
        padding=(0, 1),
        pad_edge=False,
        expand=True,
    )
    table.add_column("ID", no_wrap=True)
    table.add_column("Sev", no_wrap=True)
    table.add_column(columns[0], overflow="fold", ratio=1)
    table.add_column(columns[1], justify="right", no_wrap=True)
    for found in listed:
        table.add_row(
            Text(found["id"][:_ID_LENGTH]),
            _severity(found),
            describe(found),
            figures(found),
            style="dim" if found["acknowledged"] else None,
        )
    return table


def _table(currency: str | None, found: list[DiscrepancyDocument]) -> Table:
    columns = ("Check", "Gateway\nRecords\nDifference")
    return _finding_table(currency or "Gateway summary", found, columns, _check, _amounts)


def _per_currency(document: ReportDocument) -> Table:
    """Per currency: open causes, open discrepancies and what no cause explains."""
    table = Table(
        title=Text("Per currency", style="bold"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("Currency", no_wrap=True)
    table.add_column("Open causes", justify="right")
    table.add_column("Open discrepancies", justify="right")
    table.add_column("Unexplained", justify="right")
    unexplained = document["summary"].get("unexplained", {})
    causes = _by_currency(document.get("causes") or [])
    found = _by_currency(document["discrepancies"])
    for currency in dict.fromkeys([*causes, *found]):
        table.add_row(
            currency or "Gateway summary",
            str(sum(1 for c in causes.get(currency, []) if not c["acknowledged"])),
            str(sum(1 for d in found.get(currency, []) if not d["acknowledged"])),
            unexplained.get(currency or "", _MISSING),
        )
    return table


def _cause_table(currency: str | None, listed: list[CauseDocument]) -> Table:
    title = f"{currency or 'Gateway summary'} causes"
    return _finding_table(title, listed, ("Cause", "Amount"), _cause, _cause_amount)


def _cause_amount(cause: CauseDocument) -> Text:
    return Text(cause["amount"] or _MISSING, style="bold")


def _cause(cause: CauseDocument) -> Text:
    lines = [Text(cause["kind"], style="bold")]
    where = []
    if cause["wallet_id"] is not None:
        where.append(f"wallet {_short(cause['wallet_id'], _WALLET_LENGTH)}")
    if cause["references"]:
        where.append(f"ref {', '.join(cause['references'][:_REFERENCES_SHOWN])}")
    if cause["gateway_ids"]:
        where.append(f"gateway {', '.join(cause['gateway_ids'][:_REFERENCES_SHOWN])}")
    if where:
        lines.append(Text(" · ".join(where), style="italic"))
    lines.append(Text(cause["message"]))
    explains = cause["explains"]
    if explains:
        shown = ", ".join(found[:_ID_LENGTH] for found in explains[:_REFERENCES_SHOWN])
        more = len(explains) - _REFERENCES_SHOWN
        lines.append(
            Text(
                f"  explains {_plural(len(explains), 'discrepancy').replace('ys', 'ies')}:"
                f" {shown}" + (f" (+{more} more)" if more > 0 else "")
            )
        )
    return Text("\n").join(lines)


def _severity(discrepancy: FindingDocument) -> Text:
    if discrepancy["acknowledged"]:
        return Text("ack")
    severity = discrepancy["severity"]
    word = "ERROR" if severity == "error" else "warn"
    return Text(word, style=_SEVERITY_STYLE.get(severity, ""))


def _short(value: str, length: int) -> str:
    return value if len(value) <= length + 4 else value[:length] + "…"


def _check(discrepancy: DiscrepancyDocument) -> Text:
    where = []
    if discrepancy["wallet_id"] is not None:
        where.append(f"wallet {_short(discrepancy['wallet_id'], _WALLET_LENGTH)}")
    if discrepancy["bucket"] is not None:
        where.append(f"bucket {discrepancy['bucket']}")
    if discrepancy["field"] is not None:
        where.append(f"field {discrepancy['field']}")
    lines = [Text(discrepancy["kind"], style="bold")]
    if where:
        lines.append(Text(" · ".join(where), style="italic"))
    lines.append(Text(discrepancy["message"]))
    references = discrepancy["references"]
    if references:
        shown = ", ".join(references[:_REFERENCES_SHOWN])
        more = len(references) - _REFERENCES_SHOWN
        lines.append(Text(f"refs {shown}" + (f" (+{more} more)" if more > 0 else "")))
    return Text("\n").join(lines)


def _amounts(discrepancy: DiscrepancyDocument) -> Text:
    usd = discrepancy["usd_difference"]
    return Text("\n").join(
        [
            Text(discrepancy["api_value"] or _MISSING),
            Text(discrepancy["merchant_value"] or _MISSING),
            Text(discrepancy["difference"] or _MISSING, style="bold"),
            Text(f"USD {usd}" if usd is not None else ""),
        ]
    )


def _note(note: NoteDocument) -> Text:
    currency, message = note.get("currency"), note["message"]
    # The engine's notes usually name their currency already; do not say it twice.
    if currency and not message.startswith(f"{currency}:"):
        return Text(f"{currency}: {message}")
    return Text(message)
