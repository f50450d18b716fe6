"""Table cells for people: amounts, severity markers, ages and wallet names, styled from the theme.

Cells are `rich.text.Text`, never markup strings: a reference or a message out of a CSV
file may contain `[` and must show as written, and its control characters (ESC, bidi
overrides) show as escapes, as in every report (docs/report.md). Colours come from the
running theme's variables (`Look.from_app`), and every colour is doubled by a symbol or
a word, so the meaning survives a monochrome terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.color import Color

from reconcile_tui import money
from reconcile_tui.reconcile.figures import CurrencyFigures
from reconcile_tui.report.visible import visible
from reconcile_tui.store.runs import FindingCounts
from reconcile_tui.times import age_text, format_utc, parse_api_time

__all__ = [
    "ACKNOWLEDGED",
    "ERROR",
    "MATCHED",
    "WARNING",
    "Look",
    "age_cell",
    "amount_cell",
    "amount_text",
    "bucket_time",
    "counts_cell",
    "full_time",
    "kind_words",
    "plain",
    "short_time",
    "wallet_label",
]

ERROR = "✖"
WARNING = "▲"
MATCHED = "✔"
ACKNOWLEDGED = "☑"
#: What an empty side of a comparison shows (the gateway or the records know nothing).
ABSENT = "—"

#: Each kind of discrepancy in words, for the filter and the table (the ids stay in exports).
KIND_WORDS = {
    "api_inconsistency": "Gateway summary inconsistent",
    "currency_not_in_api": "Currency not at gateway",
    "currency_not_in_records": "Currency not in records",
    "wallet_not_in_api": "Wallet not at gateway",
    "available_mismatch": "Available balance differs",
    "pending_mismatch": "Pending balance differs",
    "total_mismatch": "Total balance differs",
    "history_mismatch": "History differs",
    "duplicate_record": "Repeated reference",
    "stale_pending": "Stale pending item",
    "low_balance": "Low balance",
}


#: Each kind of cause in words (docs/causes.md); kinds shared with discrepancies read the same.
CAUSE_WORDS = {
    "missing_in_records": "Not in records",
    "missing_at_gateway": "Not at gateway",
    "amount_differs": "Amount differs",
    "fee_differs": "Fee differs",
    "status_differs": "Status differs",
    "time_differs": "Time differs",
    "times_unknown": "Times unknown (dates only)",
    "wrong_wallet": "Wrong wallet",
    "unexplained": "Unexplained",
}


def kind_words(kind: str) -> str:
    """A discrepancy's or a cause's kind as people say it (an unknown id shows as written)."""
    return KIND_WORDS.get(kind) or CAUSE_WORDS.get(kind, kind)


@dataclass(frozen=True)
class Look:
    """Rich styles taken from the theme's variables, for cells inside tables."""

    error: Style
    warning: Style
    ok: Style
    muted: Style
    accent: Style
    strong: Style

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> Look:
        background = Color.parse(variables.get("background", "black"))

        def colour(name: str, fallback: str = "foreground") -> Style:
            # Muted variables carry an alpha channel; blend it over the background.
            value = variables.get(name) or variables.get(fallback) or "white"
            return Style(color=(background + Color.parse(value)).rich_color)

        return cls(
            error=colour("text-error") + Style(bold=True),
            warning=colour("text-warning"),
            ok=colour("text-success"),
            muted=colour("foreground-muted"),
            accent=colour("text-accent"),
            strong=Style(bold=True),
        )

    @classmethod
    def from_app(cls, app: App[object]) -> Look:
        return cls.from_variables(app.theme_variables)


def plain(value: object | None, style: Style | str = "") -> Text:
    """Any value as literal text (no markup, control characters escaped), `—` for None.
    Cut to a column narrower than it, it ends in `…`: a cut id must not read as a whole
    one (amounts are never cut: docs/tui.md, "Small terminals")."""
    return Text(
        ABSENT if value is None else visible(str(value)),
        style=style,
        no_wrap=True,
        overflow="ellipsis",
        end="",
    )


def middle_cut(text: str, width: int) -> str:
    """`text` whole when it fits `width`, else its start and end around `…`: a hash or an
    id is told apart by both ends (as block explorers show them), never read as whole."""
    if len(text) <= width or width < 3:
        return text
    head = width // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]


def end_cut(text: str, width: int) -> str:
    """`text` whole when it fits `width`, else `…` and its end: a file's path keeps its
    name and line."""
    if len(text) <= width or width < 2:
        return text
    return "…" + text[len(text) - (width - 1) :]


def amount_text(text: str | None, scale: int | None = None) -> str:
    """An amount with thousands grouping at its currency's scale."""
    if text is None:
        return ABSENT
    return money.format_amount(Decimal(text), scale, grouping=True)


def amount_cell(
    text: str | None,
    scale: int | None = None,
    *,
    style: Style | str = "",
) -> Text:
    """A right-aligned amount cell."""
    return Text(
        amount_text(text, scale),
        style=style,
        justify="right",
        no_wrap=True,
        end="",
    )


def difference_cell(text: str | None, scale: int | None, look: Look) -> Text:
    """A difference: `0` muted when the sides agree, else in the error style."""
    if text is None:
        return amount_cell(None, style=look.muted)
    zero = Decimal(text).is_zero()
    return amount_cell(text, scale, style=look.muted if zero else look.error)


def finding_difference_cell(finding: Mapping[str, Any], look: Look) -> Text:
    """A discrepancy's difference: an amount, or for a count (a bucket's deposit_count)
    the count with its word, `-1 deposit`, so it never reads as money (docs/tui.md)."""
    field = finding.get("field") or ""
    text = finding.get("difference")
    if text is None or not field.endswith("_count"):
        return difference_cell(text, None, look)
    count = int(Decimal(text))
    sign = "-" if count < 0 else "+" if count > 0 else ""
    return Text(
        sign + counted(abs(count), field.removesuffix("_count")),
        style=look.error if count else look.muted,
        justify="right",
        no_wrap=True,
        end="",
    )


def counts_cell(counts: FindingCounts, look: Look) -> Text:
    """`✖ 3  ▲ 1` for open errors and warnings, `✔` when clean; acknowledged as `☑ 2`."""
    cell = Text(no_wrap=True, end="")
    if counts.errors:
        cell.append(f"{ERROR} {counts.errors:,}", look.error)
    if counts.warnings:
        cell.append(" " if len(cell) else "")
        cell.append(f"{WARNING} {counts.warnings:,}", look.warning)
    if not counts.open:
        cell.append(f"{MATCHED} clean", look.ok)
    if counts.acknowledged:
        cell.append(f" {ACKNOWLEDGED} {counts.acknowledged:,}", look.muted)
    return cell


def severity_marker(severity: str, acknowledged: bool, look: Look) -> Text:
    """The marker of one discrepancy: ✖ error, ▲ warning, ☑ acknowledged (see the help)."""
    if acknowledged:
        return Text(ACKNOWLEDGED, style=look.muted, no_wrap=True, end="")
    if severity == "error":
        return Text(ERROR, style=look.error, no_wrap=True, end="")
    return Text(WARNING, style=look.warning, no_wrap=True, end="")


def age_cell(occurred_at: str, now: datetime | None, stale_after: timedelta, look: Look) -> Text:
    """How old a record is against the gateway's clock, flagged `stale` past the threshold."""
    if now is None:
        return plain(None, look.muted)
    age = now - parse_api_time(occurred_at)
    if age > stale_after:
        return Text(f"{age_text(age)} {WARNING} stale", style=look.warning, no_wrap=True, end="")
    return Text(age_text(age), no_wrap=True, end="")


def _moment(value: str | datetime) -> datetime:
    moment = parse_api_time(value) if isinstance(value, str) else value
    # Whole seconds: a fetch time carries microseconds nobody reads (docs/tui.md, "Times").
    return moment.replace(microsecond=0)


def short_time(value: str | datetime | None) -> str:
    """`2025-01-12 21:03Z`: every time in tables, lists and lines (docs/tui.md, "Times")."""
    if value is None:
        return ABSENT
    return format_utc(_moment(value))[:16].replace("T", " ") + "Z"


def full_time(value: str | datetime | None) -> str:
    """`2025-01-12 21:03:00Z`: a time shown in full, in a detail pane (docs/tui.md, "Times")."""
    if value is None:
        return ABSENT
    return format_utc(_moment(value)).replace("T", " ")


def bucket_time(value: str | None) -> str:
    """Where a bucket starts: `2025-01-12` for a daily one (midnight), else its short time."""
    shown = short_time(value)
    return shown[:10] if shown.endswith(" 00:00Z") else shown


#: The plural of each counted word whose plural is not its singular and an `s`.
_PLURALS: dict[str, str] = {"discrepancy": "discrepancies"}


def counted(count: int, word: str) -> str:
    """`1 record`, `2 records`, `1,000 discrepancies`: a count with its word agreeing."""
    return f"{count:,} {word if count == 1 else _PLURALS.get(word, word + 's')}"


def drift_text(figures: CurrencyFigures) -> str | None:
    """`drift from 2025-01-12`: the first history bucket where the two sides disagree;
    None when they agree throughout. When that is the history's first bucket, the drift
    may have begun before it, where the fetched history does not reach: `or before` says
    so, rather than name a day the books may not have drifted on."""
    first = figures.first_divergence
    if not first:
        return None
    shown = f"drift from {bucket_time(first)}"
    if figures.buckets and figures.buckets[0].timestamp == first:
        shown += " or before (the history starts there)"
    return shown


def wallet_label(wallet_id: str, name: str | None, *, wide: bool = False) -> str:
    """A wallet as people know it: its name, with enough of the id to tell wallets apart."""
    shown_id = visible(wallet_id if wide else wallet_id[:8])
    return f"{visible(name)} ({shown_id})" if name else shown_id
