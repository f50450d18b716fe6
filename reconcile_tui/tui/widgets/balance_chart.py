"""A chart of one currency's history: gateway against records balance, flows as bars."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from rich.text import Text
from textual.app import RenderResult
from textual.color import Color
from textual_plotext import PlotextPlot

from reconcile_tui.reconcile.figures import BucketFigures

__all__ = ["BalanceChart"]


def _points(values: Sequence[str | None]) -> list[float | None]:
    # Floats only to place points on a character grid; no amount is computed from them.
    return [None if value is None else float(Decimal(value)) for value in values]


def axis_ticks(values: Sequence[float | None], count: int) -> tuple[list[float], list[str]]:
    """About `count` round tick values spanning `values`, labelled with thousands separators
    (plotext's own labels have none): `12,500`, `0.25`."""
    known = [value for value in values if value is not None]
    if not known:
        return [], []
    low, high = min(known), max(known)
    if high == low:
        low, high = low - 1, high + 1
    raw = (high - low) / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    places = max(0, -math.floor(math.log10(step)) + (1 if step / magnitude == 2.5 else 0))
    first, last = math.floor(low / step), math.ceil(high / step)
    ticks = [index * step for index in range(first, last + 1)]
    return ticks, [f"{tick:,.{places}f}" for tick in ticks]


class BalanceChart(PlotextPlot):
    """Lines: the gateway's balance and the records' running balance per bucket (left
    axis), the first divergence marked by a vertical line. Bars: deposits and withdrawals
    per bucket (right axis)."""

    can_focus = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.buckets: list[BucketFigures] = []
        self.first_divergence: str | None = None
        self.interval = "daily"

    def show_history(
        self, buckets: Sequence[BucketFigures], first_divergence: str | None, interval: str
    ) -> None:
        self.buckets = list(buckets)
        self.first_divergence = first_divergence
        self.interval = interval
        self.refresh()

    def _colour(self, name: str) -> tuple[int, int, int]:
        value = self.app.theme_variables.get(name) or self.app.theme_variables["foreground"]
        return Color.parse(value).rgb

    def _label(self, timestamp: str) -> str:
        # 2025-01-12T00:00:00Z -> 01-12 (daily) or 01-12 14h (hourly)
        day = timestamp[5:10]
        return day if self.interval == "daily" else f"{day} {timestamp[11:13]}h"

    def _draw(self, width: int, height: int) -> None:
        plot = self.plt
        plot.clear_figure()
        if not self.buckets:
            plot.plotsize(width, height)
            plot.title("No history for this currency in the stored snapshot")
            return
        xs = [float(x) for x in range(1, len(self.buckets) + 1)]
        step = max(1, len(xs) // max(1, width // 9))
        ticks = xs[::step]
        labels = [self._label(self.buckets[int(x) - 1].timestamp) for x in ticks]
        plot.plotsize(width, height)
        rows = max(2, height // 4)
        balances = _points([b.api_balance for b in self.buckets])
        mine = [b.records_balance for b in self.buckets]
        left, left_labels = axis_ticks([*balances, *_points(mine)], rows)
        flows = [
            _points([b.api_deposits for b in self.buckets]),
            _points([b.api_withdrawals for b in self.buckets]),
        ]
        right, right_labels = axis_ticks([0.0, *flows[0], *flows[1]], rows)
        # Flows on the right axis, balances on the left: one grid, each at its own scale.
        # The bundled type stub lags plotext: multiple_bar takes `labels` and one colour each.
        cast(Any, plot).multiple_bar(
            xs,
            flows,
            color=[self._colour("success"), self._colour("error")],
            yside="right",
        )
        plot.plot(
            xs,
            balances,
            color=self._colour("primary"),
            marker="braille",
        )
        if any(value is not None for value in mine):
            known = [(x, v) for x, v in zip(xs, _points(mine), strict=True) if v is not None]
            plot.plot(
                [x for x, _ in known],
                [v for _, v in known],
                color=self._colour("accent"),
                marker="braille",
            )
        if self.first_divergence is not None:
            for x, bucket in zip(xs, self.buckets, strict=True):
                if bucket.timestamp == self.first_divergence:
                    plot.vline(x, color=self._colour("error"))
        plot.xticks(ticks, labels)
        # The bundled type stub lags plotext here too: `yside` takes "left" or "right".
        axes = cast(Any, plot)
        if left:
            axes.ylim(left[0], left[-1], yside="left")
            axes.yticks(left, left_labels, yside="left")
        if right:
            axes.ylim(right[0], right[-1], yside="right")
            axes.yticks(right, right_labels, yside="right")

    def legend(self, width: int) -> Text:
        """One line above the plot naming each mark in its colour: the plot keeps its rows."""
        parts: list[tuple[str, tuple[int, int, int]]] = [
            ("━ gateway", self._colour("primary")),
            ("━ records", self._colour("accent")),
            ("█ deposits", self._colour("success")),
            ("█ withdrawals", self._colour("error")),
        ]
        if self.first_divergence is not None:
            parts.append(("│ first divergence", self._colour("error")))
        legend = Text(no_wrap=True, overflow="ellipsis")
        for index, (words, (red, green, blue)) in enumerate(parts):
            if index:
                legend.append("  ")
            legend.append(words, style=f"rgb({red},{green},{blue})")
        legend.append("  (balances left axis, flows right)", style="dim")
        legend.truncate(width, overflow="ellipsis")
        return legend

    def render(self) -> RenderResult:
        width, height = self.size.width, self.size.height
        if width < 20 or height < 8:
            return Text("(the chart needs a larger window)")
        self._draw(width, height - 1)
        self.plt._set_size(width, height - 1)
        self.plt.theme(self._get_plotext_theme_name(self.app.theme))
        legend = self.legend(width) if self.buckets else Text()
        return Text("\n").join([legend, Text.from_ansi(self.plt.build())])
