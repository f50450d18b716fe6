"""One currency: its wallets, its history buckets (mismatches highlighted), a chart, its volume."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from reconcile_tui.reconcile.figures import BucketFigures, CurrencyFigures
from reconcile_tui.store.runs import FindingCounts
from reconcile_tui.times import INTERVALS, PERIODS
from reconcile_tui.tui.access import access_of
from reconcile_tui.tui.cells import (
    ACKNOWLEDGED,
    ERROR,
    Look,
    amount_cell,
    amount_text,
    counted,
    counts_cell,
    difference_cell,
    drift_text,
    plain,
    wallet_label,
)
from reconcile_tui.tui.screens.base import ReconcileScreen, open_binding
from reconcile_tui.tui.views import CurrencyView, difference, load_currency
from reconcile_tui.tui.widgets.balance_chart import BalanceChart
from reconcile_tui.tui.widgets.fitted_table import FittedTable, Row

__all__ = ["CurrencyScreen", "comparison", "history_cells"]

#: From this width a wallet is named by its whole id, not its first eight characters.
WHOLE_IDS = 160

WALLET_COLUMNS = (
    "Status",
    "Wallet",
    "Avail. diff",
    "Pend. diff",
    "Gateway avail.",
    "Records avail.",
    "Gateway pend.",
    "Records pend.",
    "Records",
)
HISTORY_COLUMNS = (
    "",
    "Bucket",
    "Gateway bal.",
    "Records bal.",
    "Gw deposits",
    "Rec deposits",
    "Gw withdr.",
    "Rec withdr.",
    "Dep. #",
    "Wdr. #",
)

#: History fields in column order, as the discrepancies name them.
HISTORY_FIELDS = ("balance", "deposits", "withdrawals", "deposit_count", "withdrawal_count")


def comparison(
    headings: tuple[str, ...],
    rows: list[tuple[str, tuple[str | None, ...]]],
    scale: int,
    look: Look,
) -> Table:
    """A small side-by-side table: a label per side, then one amount per heading.

    The row labelled "Difference" is styled as differences are (zero muted, else error).
    """
    table = Table(box=None, padding=(0, 1), show_edge=False, expand=False)
    table.add_column("", no_wrap=True)
    for heading in headings:
        table.add_column(heading, justify="right", no_wrap=True, header_style=look.muted)
    for label, values in rows:
        if label == "Difference":
            cells = [difference_cell(value, scale, look) for value in values]
        else:
            cells = [amount_cell(value, scale) for value in values]
        table.add_row(Text(label, style=look.strong), *cells)
    return table


def history_cells(
    bucket: BucketFigures,
    findings: dict[tuple[str, str], bool],
    first_divergence: str | None,
    interval: str,
    scale: int,
    look: Look,
) -> list[Text]:
    """One history row: marker, bucket, then gateway/records pairs, mismatches highlighted."""

    def style(field: str) -> str | object:
        state = findings.get((bucket.timestamp, field))
        if state is None:
            return ""
        return look.muted if state else look.error

    flagged = [field for field in HISTORY_FIELDS if (bucket.timestamp, field) in findings]
    if bucket.timestamp == first_divergence:
        marker = Text("⚑ first", style=look.error, no_wrap=True, end="")
    elif flagged and all(findings[(bucket.timestamp, f)] for f in flagged):
        marker = Text(ACKNOWLEDGED, style=look.muted, no_wrap=True, end="")
    elif flagged:
        marker = Text(ERROR, style=look.error, no_wrap=True, end="")
    else:
        marker = plain("")
    when = (
        bucket.timestamp[:10] if interval == "daily" else bucket.timestamp[5:16].replace("T", " ")
    )

    def pair(api: str | None, mine: str | None, field: str) -> list[Text]:
        shown = style(field)
        return [
            amount_cell(api, scale, style=shown),  # type: ignore[arg-type]
            amount_cell(mine, scale, style=shown),  # type: ignore[arg-type]
        ]

    def counts(api: int, mine: int, field: str) -> Text:
        return Text(f"{api}/{mine}", style=style(field), justify="right", end="")  # type: ignore[arg-type]

    return [
        marker,
        plain(when),
        *pair(bucket.api_balance, bucket.records_balance, "balance"),
        *pair(bucket.api_deposits, bucket.records_deposits, "deposits"),
        *pair(bucket.api_withdrawals, bucket.records_withdrawals, "withdrawals"),
        counts(bucket.api_deposit_count, bucket.records_deposit_count, "deposit_count"),
        counts(bucket.api_withdrawal_count, bucket.records_withdrawal_count, "withdrawal_count"),
    ]


class CurrencyScreen(ReconcileScreen):
    """Wallets, history, chart and volume of one currency; period and interval switchable."""

    MAIN = "#currency-views"
    AUTO_FOCUS = "#wallet-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        open_binding(
            "open_wallet",
            "Open wallet",
            id="currency.open_wallet",
            tooltip="Drill into the highlighted wallet: pending items, records, duplicates.",
        ),
        Binding(
            "p",
            "next_period",
            "Period",
            id="currency.period",
            tooltip="Fetch the next history period (24h, 7d, 30d) and re-check.",
        ),
        Binding(
            "b",
            "next_interval",
            "Interval",
            id="currency.interval",
            tooltip="Switch history buckets between hourly and daily (fetches, re-checks).",
        ),
        Binding(
            "w",
            "view('wallets')",
            "Wallets",
            show=False,
            id="currency.wallets",
            tooltip="Show the wallets of this currency.",
        ),
        Binding(
            "h",
            "view('history')",
            "History",
            show=False,
            id="currency.history",
            tooltip="Show the history buckets, mismatched cells highlighted.",
        ),
        Binding(
            "c",
            "view('chart')",
            "Chart",
            show=False,
            id="currency.chart",
            tooltip="Chart the gateway's balance against the records' running balance.",
        ),
        Binding(
            "v",
            "view('volume')",
            "Volume",
            show=False,
            id="currency.volume",
            tooltip="Total volume, daily averages, peak day, deposit/withdrawal ratio.",
        ),
        Binding(
            "f",
            "findings",
            "Causes here",
            id="currency.findings",
            tooltip="The causes of this currency, and the discrepancies they explain.",
        ),
    ]

    class Loaded(Message):
        def __init__(self, view: CurrencyView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code
        self.view: CurrencyView | None = None
        self._wide = False

    def compose_body(self) -> ComposeResult:
        yield Static(id="currency-summary")
        with TabbedContent(id="currency-views", initial="wallets"):
            with TabPane("Wallets", id="wallets"):
                # Status and wallet always stay; amounts that do not fit whole are told
                # for the highlighted wallet under the table (docs/tui.md).
                yield FittedTable(id="wallet-table", more="wallet-more", keep=2)
                yield Static(id="wallet-more", classes="table-more")
            with TabPane("History", id="history"):
                yield FittedTable(
                    id="history-table", more="history-more", keep=2, zebra_stripes=True
                )
                yield Static(id="history-more", classes="table-more")
            with TabPane("Chart", id="chart"):
                yield BalanceChart(id="balance-chart")
            with TabPane("Volume", id="volume"), VerticalScroll(id="volume-view"):
                yield Static(id="volume-figures")

    def on_resize(self) -> None:
        # Whole wallet ids come and go with the width; the tables refit themselves.
        if self.view is not None and self._wide != (self.size.width >= WHOLE_IDS):
            self._show()

    def on_mount(self) -> None:
        super().on_mount()
        self.sub_title = self.code
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._show())

    def start_loading(self) -> None:
        self._load(self.code)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def _load(self, code: str) -> None:
        with access_of(self.app).open() as workspace:
            view = load_currency(workspace, code)
        self.post_message(self.Loaded(view))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.view = message.view
        self._show()
        self.loaded()

    # -- showing -------------------------------------------------------------------------

    def _show(self) -> None:
        view = self.view
        if view is None or not self.is_mounted:
            return
        look = Look.from_app(self.app)
        figures = view.figures
        self.query_one("#currency-summary", Static).update(self._summary(view, look))
        self._show_wallets(view, look)
        self._show_history(view, look)
        self.query_one(BalanceChart).show_history(
            figures.buckets, figures.first_divergence, view.origin.interval or "daily"
        )
        self.query_one("#volume-figures", Static).update(self._volume(figures))

    def _summary(self, view: CurrencyView, look: Look) -> Table:
        figures = view.figures
        outer = Table.grid(padding=(0, 2))
        outer.add_column()
        heading = Text.assemble(
            (figures.currency, look.strong),
            "  ",
            counts_cell(view.open_counts, look),
            (f"  tolerance {view.tolerance or '0'}", look.muted),
            (
                f"  history {view.origin.period} {view.origin.interval}"
                if view.origin.period
                else "",
                look.muted,
            ),
        )
        outer.add_row(heading)
        outer.add_row(
            comparison(
                ("Total", "Available", "Pending"),
                [
                    ("Gateway", (figures.api_total, figures.api_available, figures.api_pending)),
                    (
                        "Records",
                        (figures.records_total, figures.records_available, figures.records_pending),
                    ),
                    (
                        "Difference",
                        (
                            figures.difference,
                            difference(figures.api_available, figures.records_available),
                            difference(figures.api_pending, figures.records_pending),
                        ),
                    ),
                ],
                figures.scale,
                look,
            )
        )
        notes = []
        if figures.usd_difference is not None:
            notes.append(f"USD difference {amount_text(figures.usd_difference, 2)}")
        if figures.usd_value is not None:
            notes.append(f"gateway USD value {amount_text(figures.usd_value, 2)}")
        notes.append(counted(figures.record_count, "record"))
        if drift := drift_text(figures):
            notes.append(drift)
        outer.add_row(Text(" · ".join(notes), style=look.muted))
        return outer

    def _show_wallets(self, view: CurrencyView, look: Look) -> None:
        table = self.query_one("#wallet-table", FittedTable)
        wide = self._wide = self.size.width >= WHOLE_IDS
        scale = view.figures.scale
        rows: list[Row] = []
        for wallet in view.figures.wallets:
            counts = view.open_by_wallet.get(wallet.wallet_id, FindingCounts())
            name = plain(wallet_label(wallet.wallet_id, wallet.wallet_name, wide=wide))
            if wallet.api_available is None:
                name = Text.assemble(name, (" not at gateway", look.error))
            cells = [
                counts_cell(counts, look),
                name,
                difference_cell(
                    difference(wallet.api_available, wallet.records_available), scale, look
                ),
                difference_cell(
                    difference(wallet.api_pending, wallet.records_pending), scale, look
                ),
                amount_cell(wallet.api_available, scale),
                amount_cell(wallet.records_available, scale),
                amount_cell(wallet.api_pending, scale),
                amount_cell(wallet.records_pending, scale),
                Text(f"{wallet.record_count:,}", justify="right"),
            ]
            rows.append(Row(wallet.wallet_id, cells))
        table.fill(WALLET_COLUMNS, rows)
        table.border_title = f"Wallets of {view.figures.currency}"

    def _show_history(self, view: CurrencyView, look: Look) -> None:
        table = self.query_one("#history-table", FittedTable)
        figures = view.figures
        interval = view.origin.interval or "daily"
        rows = [
            Row(
                bucket.timestamp,
                history_cells(
                    bucket,
                    view.history_findings,
                    figures.first_divergence,
                    interval,
                    figures.scale,
                    look,
                ),
            )
            for bucket in figures.buckets
        ]
        table.fill(HISTORY_COLUMNS, rows)
        table.border_title = (
            f"History · {view.origin.period} {interval} · gateway / records, mismatches highlighted"
        )

    def _volume(self, figures: CurrencyFigures) -> Content:
        volume = figures.volume
        if volume is None:
            return Content("The stored snapshot has no history for this currency.")
        scale = figures.scale
        peak = (
            f"{volume.peak_day} ({amount_text(volume.peak_day_deposits, scale)} deposited)"
            if volume.peak_day
            else "no deposits in the period"
        )
        rows = [
            ("Total volume", amount_text(volume.total_volume, scale)),
            ("Average daily deposits", amount_text(volume.average_daily_deposits, scale)),
            ("Average daily withdrawals", amount_text(volume.average_daily_withdrawals, scale)),
            ("Peak day", peak),
            ("Deposit/withdrawal ratio", volume.deposit_withdrawal_ratio or "— (no withdrawals)"),
        ]
        width = max(len(label) for label, _ in rows)
        lines = [
            Content.from_markup("[b]$label[/b]", label=label.ljust(width)) for label, _ in rows
        ]
        return Content("\n").join(
            Content.assemble(line, "  ", value)
            for line, (_, value) in zip(lines, rows, strict=True)
        )

    # -- actions -------------------------------------------------------------------------

    #: The widget that takes the focus when a view is shown, so the arrows move in it.
    VIEW_FOCUS: ClassVar[dict[str, str]] = {
        "wallets": "#wallet-table",
        "history": "#history-table",
        "chart": "#balance-chart",
        "volume": "#volume-view",
    }

    @on(TabbedContent.TabActivated)
    def _tab_changed(self, event: TabbedContent.TabActivated) -> None:
        # A click on a tab leaves the focus on the tab bar; the view's list wants it.
        pane = event.pane.id or ""
        # On a short terminal the chart takes the summary's rows (docs/tui.md).
        self.set_class(pane == "chart", "-charting")
        if pane in self.VIEW_FOCUS:
            self.query_one(self.VIEW_FOCUS[pane]).focus()
        self.refresh_bindings()

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def action_view(self, pane: str) -> None:
        self.query_one(TabbedContent).active = pane
        self.set_class(pane == "chart", "-charting")
        self.query_one(self.VIEW_FOCUS[pane]).focus()

    @on(DataTable.RowSelected, "#wallet-table")
    def _wallet_chosen(self) -> None:
        self.action_open_wallet()

    def action_open_wallet(self) -> None:
        if self.view is None:
            return
        table: DataTable[Text] = self.query_one("#wallet-table", DataTable)
        wallets = self.view.figures.wallets
        if 0 <= table.cursor_row < len(wallets):
            self.reconcile_app.open_wallet(self.code, wallets[table.cursor_row].wallet_id)

    def action_findings(self) -> None:
        from reconcile_tui.store.runs import DiscrepancyFilter

        self.reconcile_app.action_discrepancies(DiscrepancyFilter(currency=self.code))

    def _origin_choice(self) -> tuple[str, str]:
        origin = self.reconcile_app.origin
        return (
            (origin.period if origin and origin.period else PERIODS[1]),
            (origin.interval if origin and origin.interval else INTERVALS[1]),
        )

    def action_next_period(self) -> None:
        period, interval = self._origin_choice()
        wanted = PERIODS[(PERIODS.index(period) + 1) % len(PERIODS)] if period in PERIODS else "7d"
        self.reconcile_app.fetch_from_gateway(period=wanted, interval=interval, refresh=False)

    def action_next_interval(self) -> None:
        period, interval = self._origin_choice()
        wanted = INTERVALS[(INTERVALS.index(interval) + 1) % len(INTERVALS)]
        self.reconcile_app.fetch_from_gateway(period=period, interval=wanted, refresh=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_wallet":
            return self.view is not None and self.focused is self.query_one("#wallet-table")
        return super().check_action(action, parameters)
