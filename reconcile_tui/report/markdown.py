"""The Markdown report for CI job summaries (GitHub-flavoured): headline, source, tables.

Job summaries are read in a browser, so every value from the data is escaped: Markdown
punctuation and HTML are shown as typed, and `|` or a line break cannot break a table.
Tables stop after `MAX_ROWS` discrepancies in all; the full list is one `export` away.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from reconcile_tui.reconcile import document as schema
from reconcile_tui.report.visible import visible_document
from reconcile_tui.store.runs import DISCREPANCY_FIGURES

__all__ = ["MAX_ROWS", "escape", "to_markdown"]

#: Discrepancy rows shown across all tables; a summary page is not an export.
MAX_ROWS: Final = 200

_ID_LENGTH: Final = 10
_WALLET_LENGTH: Final = 8

# Backslash-escape what GitHub would read as emphasis, code, links, HTML, entities,
# strikethrough or a table cell border; line breaks become <br> so a cell stays a cell.
# An underscore inside a word cannot start emphasis, so `available_mismatch` stays as is.
_SPECIAL: Final = re.compile(r"[\\`*\[\]<>|~&]|(?<![^\W_])_|_(?![^\W_])")
# What would start a heading, a list or a quote at the beginning of a list item's text.
_BLOCK_START: Final = re.compile(r"[#+\-=]|\d+(?=[.)])")
_LINE_BREAK: Final = re.compile(r"\r\n|\r|\n")

_HEADER: Final = (
    "| | ID | Kind | Wallet | Bucket | Field | Gateway | Records | Difference | USD | Message |\n"
    "|---|---|---|---|---|---|---:|---:|---:|---:|---|"
)


def escape(text: str) -> str:
    """`text` shown literally in GitHub Markdown, on one line, safe inside a table cell."""
    return _LINE_BREAK.sub("<br>", _SPECIAL.sub(lambda match: "\\" + match.group(), text))


def _escape_item(text: str) -> str:
    """`escape`, and also inert at the start of a list item (no heading, list or rule)."""
    text = escape(text.lstrip())
    start = _BLOCK_START.match(text)
    if start is None:
        return text
    if start.group().isdigit():  # "1." or "2)" would open a numbered list
        return f"{start.group()}\\{text[start.end() :]}"
    return f"\\{text}"


def to_markdown(document: schema.ReportDocument) -> str:
    """The report as a Markdown job summary, control characters from the data escaped."""
    document = visible_document(document)
    summary = document["summary"]
    if not document.get("causes"):
        # Nothing to count but discrepancies (schema 1, or a document built by hand).
        summary = summary.copy()
        summary.pop("causes", None)
    parts = [f"## {_headline(summary)}", _source(document), _tolerances(document)]
    if summary["first_divergence"]:
        parts.append(_first_divergence(summary["first_divergence"]))
    causes = document.get("causes") or []
    if causes:
        parts.append(_cause_table(causes))
    parts += _tables(document["discrepancies"])
    notes = document.get("notes") or []
    if notes:
        parts.append("### Notes\n\n" + "\n".join(f"- {_note(note)}" for note in notes))
    return "\n\n".join(parts) + "\n"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _headline(summary: schema.Summary) -> str:
    # What users count: open causes (schema 2), else open discrepancies (schema 1).
    counted = summary.get("causes") or summary
    errors, warnings = counted["errors"], counted["warnings"]
    acknowledged = f" ({counted['acknowledged']} acknowledged)" if counted["acknowledged"] else ""
    if summary["status"] == "clean":
        return f"✅ Reconciliation clean{acknowledged}"
    # Warnings alone do not fail a default `check`, so they get a milder mark.
    mark = "❌" if errors else "⚠️"
    counts = f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
    if "causes" in summary:
        found = summary["errors"] + summary["warnings"]
        counts = (
            f"{_plural(errors + warnings, 'open cause')} ({counts}) behind {found} open"
            f" {'discrepancy' if found == 1 else 'discrepancies'}"
        )
    return f"{mark} Reconciliation: {counts}{acknowledged}"


_CAUSE_HEADER: Final = (
    "| | ID | Kind | Currency | Wallet | References | Gateway ids | Amount | Explains | Message |\n"
    "|---|---|---|---|---|---|---|---:|---:|---|"
)


def _cause_table(causes: list[schema.CauseDocument]) -> str:
    """Every cause (at most MAX_ROWS), with how many discrepancies it explains."""
    rows = []
    for cause in causes[:MAX_ROWS]:
        cells = [
            _mark(cause),
            escape(cause["id"][:_ID_LENGTH]),
            escape(cause["kind"]),
            escape(cause["currency"]) if cause["currency"] is not None else "",
            escape(_short(cause["wallet_id"])) if cause["wallet_id"] is not None else "",
            escape(", ".join(cause["references"])),
            escape(", ".join(cause["gateway_ids"])),
            escape(cause["amount"]) if cause["amount"] is not None else "",
            str(len(cause["explains"])),
            escape(cause["message"]),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    hidden = len(causes) - MAX_ROWS
    more = f"\n\n… {hidden} more causes not shown." if hidden > 0 else ""
    return f"### Causes\n\n{_CAUSE_HEADER}\n" + "\n".join(rows) + more


def _source(document: schema.ReportDocument) -> str:
    api = document["api"]
    records = document["records"]
    files = ", ".join(escape(name) for name in records["files"]) or "no files"
    return (
        f"Gateway {escape(api['base_url'])} fetched {escape(api['fetched_at'])}"
        f" · period {escape(api['period'])}, {escape(api['interval'])} buckets"
        f" · {_plural(records['count'], 'record')} from {files}"
        f" · generated {escape(document['generated_at'])}"
    )


def _tolerances(document: schema.ReportDocument) -> str:
    tolerances = document["tolerances"]
    if not tolerances:
        return "**Tolerances:** no currency in scope"
    shown = ", ".join(f"{escape(code)} {escape(value)}" for code, value in tolerances.items())
    return f"**Tolerances:** {shown}"


def _first_divergence(first: Mapping[str, str]) -> str:
    shown = ", ".join(f"{escape(code)} from {escape(bucket)}" for code, bucket in first.items())
    return f"**First divergence:** {shown}"


def _tables(discrepancies: list[schema.DiscrepancyDocument]) -> list[str]:
    by_currency: dict[str | None, list[schema.DiscrepancyDocument]] = {}
    for discrepancy in discrepancies:
        by_currency.setdefault(discrepancy["currency"], []).append(discrepancy)
    parts: list[str] = []
    budget = MAX_ROWS
    for currency, found in by_currency.items():
        if budget <= 0:
            break
        shown = found[:budget]
        budget -= len(shown)
        title = escape(currency) if currency is not None else "Gateway summary"
        rows = "\n".join(_row(discrepancy) for discrepancy in shown)
        parts.append(f"### {title} ({_counts(found)})\n\n{_HEADER}\n{rows}")
    hidden = len(discrepancies) - MAX_ROWS
    if hidden > 0:
        parts.append(
            f"… {hidden} more {'discrepancy' if hidden == 1 else 'discrepancies'} not shown;"
            " `reconcile-tui export --output FILE` writes them all."
        )
    return parts


def _counts(found: list[schema.DiscrepancyDocument]) -> str:
    open_ = [d for d in found if not d["acknowledged"]]
    errors = sum(1 for d in open_ if d["severity"] == "error")
    parts = [_plural(errors, "error"), _plural(len(open_) - errors, "warning")]
    acknowledged = len(found) - len(open_)
    if acknowledged:
        parts.append(f"{acknowledged} acknowledged")
    return ", ".join(parts)


def _mark(finding: schema.FindingDocument) -> str:
    if finding["acknowledged"]:
        return "☑️ ack"
    return "❌ error" if finding["severity"] == "error" else "⚠️ warning"


def _short(wallet_id: str) -> str:
    """A wallet UUID cut to its first characters: the table has room for the message."""
    return wallet_id if len(wallet_id) <= _WALLET_LENGTH + 4 else wallet_id[:_WALLET_LENGTH] + "…"


def _row(discrepancy: schema.DiscrepancyDocument) -> str:
    # The figures by the columns' names (one list of them: the store's), read as text.
    by_name: Mapping[str, object] = discrepancy
    cells = [
        _mark(discrepancy),
        escape(discrepancy["id"][:_ID_LENGTH]),
        escape(discrepancy["kind"]),
        escape(_short(discrepancy["wallet_id"])) if discrepancy["wallet_id"] is not None else "",
        *(
            escape(str(by_name[key])) if by_name[key] is not None else ""
            for key in (*DISCREPANCY_FIGURES, "message")
        ),
    ]
    return "| " + " | ".join(cells) + " |"


def _note(note: schema.NoteDocument) -> str:
    currency, message = note.get("currency"), note["message"]
    # The engine's notes usually name their currency already; do not say it twice.
    if currency and not message.startswith(f"{currency}:"):
        return f"**{escape(currency)}:** {escape(message)}"
    return _escape_item(message)
