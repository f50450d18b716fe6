"""Periods: a month's (or any covered range's) close, and every sign-off (docs/close.md).

Per currency, the gateway's balance at the period's end against the records', the
movements on both sides and the open causes in the period; sign it off with a note; see
which sign-offs have lapsed since, and why. Everything is read and written in workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from reconcile_tui import money
from reconcile_tui.errors import ReconcileError
from reconcile_tui.reconcile.close import (
    OpenCausesInPeriod,
    Period,
    PeriodReview,
    month,
    parse_period,
)
from reconcile_tui.report.visible import visible
from reconcile_tui.tui.access import access_of
from reconcile_tui.tui.cells import WARNING, amount_cell, full_time, plain, short_time
from reconcile_tui.tui.dialogs.sign_off import SignOff, SignOffDialog
from reconcile_tui.tui.screens.base import ReconcileScreen
from reconcile_tui.tui.widgets.fitted_table import FittedTable, Row
from reconcile_tui.tui.widgets.row_keys import RowTable

__all__ = ["PeriodsScreen"]


@dataclass(frozen=True)
class PeriodsView:
    """One load: the period's review (or why there is none) and every sign-off."""

    period: Period
    review: PeriodReview | None
    problem: str | None
    sign_offs: list[dict[str, Any]]


PERIOD_COLUMNS = ("Currency", "Side", "End balance", "In", "Out", "Moves in/out")


def _amount(value: Decimal | None, scale: int) -> Text:
    # Written as every other screen writes money: exact at the currency's places, with
    # thousands grouping, never an exponent (`0E-18`) (docs/close.md, docs/tui.md).
    if value is None:
        return Text("unknown", justify="right")
    return amount_cell(str(value), scale)


class PeriodsScreen(ReconcileScreen):
    """Pick a period, compare its figures, sign it off, and list every sign-off."""

    MAIN = "#period-figures"
    AUTO_FOCUS = "#period-figures"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "left_square_bracket",
            "month(-1)",
            "Previous month",
            id="periods.previous",
            tooltip="The calendar month before the one shown.",
        ),
        Binding(
            "right_square_bracket",
            "month(1)",
            "Next month",
            id="periods.next",
            tooltip="The calendar month after the one shown.",
        ),
        Binding(
            "s",
            "sign_off",
            "Sign off",
            id="periods.sign_off",
            tooltip="Close the period shown with a note (refused while causes are open"
            " unless you accept them).",
        ),
        Binding(
            "slash",
            "choose_range",
            "Range",
            id="periods.range",
            tooltip="Type a month (YYYY-MM) or any range (YYYY-MM-DD..YYYY-MM-DD).",
        ),
    ]

    class Loaded(Message):
        def __init__(self, view: PeriodsView) -> None:
            super().__init__()
            self.view = view

    class Signed(Message):
        def __init__(self, label: str) -> None:
            super().__init__()
            self.label = label

    def __init__(self, period: Period | None = None) -> None:
        super().__init__()
        self.period = period
        self.view: PeriodsView | None = None

    def compose_body(self) -> ComposeResult:
        # The box only holds the figures and the sign-offs, which take the focus and keep
        # their cursor's row in view: the box itself never takes it (docs/tui.md, focus).
        with VerticalScroll(id="periods-view", can_focus=False):
            yield Input(
                placeholder="YYYY-MM or YYYY-MM-DD..YYYY-MM-DD, then Enter",
                compact=True,
                id="period-range",
            )
            yield Static(id="period-title")
            yield FittedTable(id="period-figures", more="period-more", keep=2)
            yield Static(id="period-more", classes="table-more")
            yield Static(id="period-causes")
            yield Static("[b]Sign-offs[/b]", id="sign-offs-title")
            listed: DataTable[Text] = RowTable(id="sign-offs")
            yield listed
            yield Static(id="sign-off-detail", classes="table-more")

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = "Periods"
        figures = self.query_one("#period-figures", FittedTable)
        self.query_one("#sign-offs", DataTable).add_columns(
            "Period", "State", "By", "At", "Open", "Note", "Why lapsed"
        )
        figures.focus()

    def start_loading(self) -> None:
        self._load(self.period)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def _load(self, asked: Period | None) -> None:
        with access_of(self.app).open() as workspace:
            # Opened without a period: the newest month (or days) the stored history covers;
            # with no history at all, this month, whose review says what to fetch.
            period = asked or workspace.newest_covered_period() or self._this_month()
            review, problem = None, None
            # An import made outside the app (another person, the CLI) is checked first, as
            # `close` does: the screen said "no open cause" while the CLI counted one.
            if workspace.check_again_if_out_of_date():
                self.app.call_from_thread(self.reconcile_app.data_changed)
            try:
                review = workspace.review_period(period)
            except ReconcileError as error:
                problem = str(error)
            listed = workspace.sign_offs()
        self.post_message(self.Loaded(PeriodsView(period, review, problem, listed)))

    def _this_month(self) -> Period:
        now = access_of(self.app).now()
        return month(now.year, now.month)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        if self.period is None:
            self.period = message.view.period
        if message.view.period != self.period:
            return  # another period was picked meanwhile
        self.view = message.view
        self._show(message.view)
        self.loaded()
        if self.focused is None or self.focused.id == "period-range":
            # A loading table cannot take the focus: it goes to the figures once shown,
            # so the screen's keys work at once (docs/tui.md, focus).
            self.query_one("#period-figures").focus()

    def _show(self, view: PeriodsView) -> None:
        period = view.period
        title = Text.assemble(
            ("Period ", "bold"),
            (period.label, "bold"),
            f"  {period.first.isoformat()} to {period.last.isoformat()} (UTC, inclusive)",
        )
        short = view.review.short_history() if view.review is not None else None
        if short:
            title.append(f"\n{WARNING} {short}", style="bold")
        self.query_one("#period-title", Static).update(title)
        figures = self.query_one("#period-figures", FittedTable)
        rows: list[Row] = []
        causes = self.query_one("#period-causes", Static)
        if view.review is None:
            causes.update(Text(view.problem or "", style="italic"))
        else:
            for code, row in view.review.figures.items():
                # Counts in and out apart: 77 in and 31 out against 76 and 32 made 108 on
                # both sides, and the difference row said 0.
                gateway_moves = (
                    None
                    if row.gateway_deposit_count is None or row.gateway_withdrawal_count is None
                    else (row.gateway_deposit_count, row.gateway_withdrawal_count)
                )
                records_moves = (row.records_deposit_count, row.records_withdrawal_count)
                sides = (
                    ("gateway", row.gateway_balance, row.gateway_deposits,
                     row.gateway_withdrawals, gateway_moves),
                    ("records", row.records_balance, row.records_deposits,
                     row.records_withdrawals, records_moves),
                )  # fmt: skip
                # One scale per currency on both sides: the most places either side shows.
                scale = max(
                    (money.places(value)
                    for value in (row.gateway_balance, row.gateway_deposits,
                                  row.gateway_withdrawals, row.records_balance,
                                  row.records_deposits, row.records_withdrawals)
                    if value is not None),
                    default=0,
                )  # fmt: skip
                for side, balance, deposits, withdrawals, moves in sides:
                    figures_cells = (
                        # Records in a currency no stored history covers (docs/close.md).
                        [
                            Text("no history", justify="right"),
                            *(Text("", justify="right") for _ in range(3)),
                        ]
                        if moves is None
                        else [
                            _amount(balance, scale),
                            _amount(deposits, scale),
                            _amount(withdrawals, scale),
                            Text(f"{moves[0]:,}/{moves[1]:,}", justify="right"),
                        ]
                    )
                    cells = [
                        Text(code if side == "gateway" else "", style="bold"),
                        Text(side),
                        *figures_cells,
                    ]
                    rows.append(Row(None, cells, name=f"{code} {side}"))
                # Gateway minus records in every column, so the row shows where a gap
                # comes from (the movements in, out, or their count), not only its size.
                moved = (
                    (row.gateway_deposits, row.records_deposits),
                    (row.gateway_withdrawals, row.records_withdrawals),
                )
                rows.append(
                    Row(
                        None,
                        [
                            Text(""),
                            Text("difference", style="italic"),
                            _amount(row.difference, scale),
                            *(
                                Text("", justify="right")
                                if gateway is None
                                else _amount(money.sub(gateway, records), scale)
                                for gateway, records in moved
                            ),
                            Text(
                                ""
                                if gateway_moves is None
                                else "/".join(
                                    _signed_count(gateway - records)
                                    for gateway, records in zip(
                                        gateway_moves, records_moves, strict=True
                                    )
                                ),
                                justify="right",
                            ),
                        ],
                        name=f"{code} difference",
                    )
                )
            found = view.review.open_causes
            if found:
                # Ids and currencies only: the messages are on the Discrepancies screen, and
                # at 80x24 they would push the sign-offs off screen.
                shown = ", ".join(f"{c['id'][:8]} {c['currency'] or 'summary'}" for c in found[:3])
                more = f" and {len(found) - 3} more" if len(found) > 3 else ""
                count = f"{len(found):,} open cause{'s' if len(found) != 1 else ''}"
                causes.update(Text(f"{count} in the period: {shown}{more}", style="bold"))
            else:
                causes.update(Text("No open cause in the period: it can be signed off."))
        # One row per side, not one column per side and figure: at 18 places a currency's
        # nine figures in a row would run off even a 120-column screen (docs/tui.md).
        figures.fill(PERIOD_COLUMNS, rows)
        listed = self.query_one("#sign-offs", DataTable)
        listed.clear()
        for entry in reversed(view.sign_offs):
            # Who and why were typed by people (maybe on the command line): shown as
            # written, control characters escaped, like every cell (docs/report.md).
            listed.add_row(
                Text(f"{entry['from']}..{entry['to']}"),
                Text(entry["state"], style="bold" if entry["state"] == "lapsed" else ""),
                plain(entry["by"]),
                Text(short_time(entry["at"])),
                Text(str(entry["open_causes"]), justify="right"),
                plain(entry["note"]),
                plain(entry["lapsed_because"] or ""),
            )
        self._show_sign_off(listed.cursor_row)

    @on(DataTable.RowHighlighted, "#sign-offs")
    def _sign_off_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_sign_off(event.cursor_row)
        if self.focused is event.data_table:
            self._bring_sign_off_detail()

    @on(events.DescendantFocus, "#sign-offs")
    def _sign_offs_focused(self) -> None:
        self._bring_sign_off_detail()

    def _bring_sign_off_detail(self) -> None:
        # At 80x24 the detail is under the fold: whoever moves to the sign-offs is reading
        # them.
        self.query_one("#periods-view", VerticalScroll).scroll_to_widget(
            self.query_one("#sign-off-detail"), animate=False
        )

    def _show_sign_off(self, row: int) -> None:
        """The highlighted sign-off in full under the list: its note, whatever its lines,
        and each reason it lapsed on a line of its own. In the list they were cut at any
        width, and an amount in them scrolled into view cut mid-number."""
        detail = self.query_one("#sign-off-detail", Static)
        shown = list(reversed(self.view.sign_offs)) if self.view is not None else []
        if not shown:
            detail.update("")
            return
        entry = shown[min(max(row, 0), len(shown) - 1)]
        lines = [
            Text.assemble(
                (f"{entry['from']}..{entry['to']} {entry['state']}", "bold"),
                f" · signed by {visible(entry['by'])} at {full_time(entry['at'])} ·"
                f" {entry['open_causes']} open accepted",
            ),
            Text(f"Note: {visible(entry['note'])}"),
        ]
        if entry["lapsed_because"]:
            lines.append(Text("Lapsed because:", style="bold"))
            lines += [Text(f"  {reason}") for reason in entry["lapsed_because"].split("; ")]
        detail.update(Text("\n").join(lines))

    # -- choosing a period -------------------------------------------------------------

    def _choose(self, period: Period) -> None:
        self.period = period
        self.reload()

    def action_month(self, step: int) -> None:
        if self.period is None:
            return  # still finding the period to open on
        self._choose(self.period.shifted(step))

    def action_choose_range(self) -> None:
        self.query_one("#period-range", Input).focus()

    @on(Input.Submitted, "#period-range")
    def _range_typed(self, event: Input.Submitted) -> None:
        try:
            period = parse_period(event.value)
        except ReconcileError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        event.input.value = ""
        self._choose(period)

    # -- signing off -------------------------------------------------------------------

    def action_sign_off(self) -> None:
        view = self.view
        if view is None or view.review is None:
            self.notify(
                "Nothing to sign: no stored history covers this period.", severity="warning"
            )
            return
        review = view.review
        self.app.push_screen(
            SignOffDialog(review.period.label, len(review.open_causes)),
            lambda answer: self._answered(review.period, answer),
        )

    def _answered(self, period: Period, answer: SignOff | None) -> None:
        if answer is not None:
            self._sign(period, answer)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sign-off")
    def _sign(self, period: Period, answer: SignOff) -> None:
        with access_of(self.app).open() as workspace:
            try:
                workspace.close_period(
                    period, answer.note, accept_open=answer.accept_open, by=answer.by
                )
            except OpenCausesInPeriod as refused:
                # Causes opened between the review and the signing (records imported
                # meanwhile): said in the app's words, not the command line's options.
                causes = f"{refused.count} open cause{'s' if refused.count != 1 else ''}"
                self.app.call_from_thread(
                    self.notify,
                    f"{causes} in {refused.period} now; nothing signed: the screen is"
                    " checked again: review them, then sign again (tick the box to accept"
                    " them)",
                    title="Not signed",
                    severity="warning",
                    markup=False,
                )
                self.app.call_from_thread(self.reconcile_app.data_changed)
                return
        self.post_message(self.Signed(period.label))

    @on(Signed)
    def _signed(self, message: Signed) -> None:
        self.notify(f"Closed {message.label}.", title="Signed off", markup=False)
        self.reconcile_app.data_changed()


def _signed_count(count: int) -> str:
    """A count's difference: `+1`, `-1`, or `0`."""
    return f"{count:+,}" if count else "0"
