"""The line on every screen that says where the gateway figures come from and how old they are."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.content import Content
from textual.widgets import Static

from reconcile_tui.times import age_text
from reconcile_tui.tui.cells import short_time

if TYPE_CHECKING:
    from reconcile_tui.tui.app import ReconcileApp

__all__ = ["DataBanner", "DemoBanner"]

DEMO_TEXT = "DEMO DATA — built-in sandbox, no real money"


class DataBanner(Static):
    """`Gateway data fetched 3m ago from https://…` plus live, stored, offline or refreshing."""

    #: Seconds between re-reading the age, so `27s ago` keeps counting while the app is open.
    AGE_EVERY = 5.0

    def on_mount(self) -> None:
        app = self._app
        for name in ("origin", "refreshing", "refresh_problem", "live", "store_problem"):
            self.watch(app, name, self._show, init=False)
        # Ages grow while the app stays open; the clock is the app's (fixed in tests).
        self.set_interval(self.AGE_EVERY, self._show)
        self._show()

    @property
    def _app(self) -> ReconcileApp:
        return cast("ReconcileApp", self.app)

    def on_resize(self) -> None:
        self._show()

    def _show(self, _changed: object = None) -> None:
        self.update(self.describe())

    def describe(self) -> Content:
        app = self._app
        origin = app.origin
        if app.store_problem is not None:
            return Content.from_markup(
                "[$text-error][b]The database cannot be read:[/b][/] $problem",
                problem=app.store_problem,
            )
        if origin is None:
            return Content.from_markup(
                "[b]No gateway data yet.[/b] Import your records ($key) and fetch from the"
                " gateway ($refresh).",
                key=app.key_for("app.import"),
                refresh=app.key_for("app.refresh"),
            )
        age = age_text(app.access.now() - origin.fetched_at)
        # Under 100 columns the exact time gives way, so the line still fits 80.
        narrow = 0 < self.size.width < 100
        parts = [
            Content.from_markup(
                "Fetched [b]$age ago[/b] from $url"
                if narrow
                else "Gateway data fetched [b]$age ago[/b] ($when) from $url",
                age=age,
                when=short_time(origin.fetched_at),
                url=origin.base_url,
            )
        ]
        if origin.period and origin.interval:
            parts.append(Content(f" · {origin.period} {origin.interval}"))
        if app.refreshing:
            parts.append(Content.from_markup(" · [$text-accent]⟳ refreshing from the gateway…[/]"))
        elif app.offline:
            parts.append(Content.from_markup(" · [$text-warning]offline: last stored snapshot[/]"))
        elif app.refresh_problem:
            parts.append(
                Content.from_markup(
                    " · [$text-error]refresh failed, showing the last stored snapshot[/]"
                )
            )
        elif not app.live:
            parts.append(Content.from_markup(" · [$text-muted]stored snapshot[/]"))
        return Content("").join(parts)


class DemoBanner(Static):
    """Unmissable: the figures on screen are the built-in sandbox's, not real money."""

    def __init__(self, note: str) -> None:
        text = DEMO_TEXT if not note or note == DEMO_TEXT else f"{DEMO_TEXT} · {note}"
        super().__init__(Content(text))
