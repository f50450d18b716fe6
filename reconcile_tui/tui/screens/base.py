"""The frame every screen shares: title, data banner, footer, reloading when the data changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header
from textual.worker import Worker, WorkerState

from reconcile_tui.errors import DatabaseError
from reconcile_tui.tui.failures import failure_message, report_failure
from reconcile_tui.tui.widgets.data_banner import DataBanner, DemoBanner

if TYPE_CHECKING:
    from reconcile_tui.tui.app import ReconcileApp

__all__ = ["ReconcileScreen", "open_binding"]


def open_binding(action: str, description: str, *, id: str, tooltip: str) -> Binding:
    """Enter on a screen's table: a priority binding, so it wins over the table's own
    Enter and shows in the footer (docs/tui.md)."""
    return Binding("enter", action, description, id=id, priority=True, tooltip=tooltip)


class ReconcileScreen(Screen[None]):
    """A screen showing part of the latest check; it reloads whenever the data changes.

    The app counts changes (`data_version`: a refresh, an import, an acknowledgement); a
    screen that is not on top catches up when it becomes current again.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "back",
            "Back",
            id="screen.back",
            tooltip="Return to the previous screen.",
        ),
    ]

    #: The widget covered by a loading indicator while its data is being fetched.
    MAIN: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self.loaded_version = -1

    @property
    def reconcile_app(self) -> ReconcileApp:
        return cast("ReconcileApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header(icon="≡")
        yield DataBanner(id="data-banner")
        if self.reconcile_app.demo_note is not None:
            yield DemoBanner(self.reconcile_app.demo_note)
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets, between the banner and the footer."""
        raise NotImplementedError

    def on_mount(self) -> None:
        self.watch(self.app, "data_version", self._data_changed, init=False)
        self.watch(self.app, "refreshing", self._refreshing, init=False)

    def on_screen_resume(self) -> None:
        if self.loaded_version != self.reconcile_app.data_version:
            self.reload()

    def _data_changed(self, _version: int) -> None:
        if self.is_current:
            self.reload()

    def _refreshing(self, refreshing: bool) -> None:
        main = self.main_widget()
        if main is not None:
            main.loading = refreshing

    def main_widget(self) -> Widget | None:
        return self.query_one(self.MAIN) if self.MAIN else None

    def reload(self) -> None:
        """Fetch this screen's data again (subclasses start their worker here)."""
        self.loaded_version = self.reconcile_app.data_version
        main = self.main_widget()
        if main is not None:
            main.loading = True
        self.start_loading()

    def start_loading(self) -> None:
        raise NotImplementedError

    def loaded(self) -> None:
        """Call when the data has arrived and is shown."""
        main = self.main_widget()
        if main is not None:
            main.loading = self.reconcile_app.refreshing
        self.refresh_bindings()  # actions that need data are offered now

    @on(Worker.StateChanged)
    def _worker_ended(self, event: Worker.StateChanged) -> None:
        if event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.loaded()
        if event.worker.group == "load":
            # A screen that cannot read the store must not look like an empty one.
            error = event.worker.error if event.state == WorkerState.ERROR else None
            if isinstance(error, DatabaseError):
                self.reconcile_app.store_problem = failure_message(error)
            elif event.state == WorkerState.SUCCESS:
                self.reconcile_app.store_problem = None
        self.worker_ended(event)

    def worker_ended(self, event: Worker.StateChanged) -> None:
        """A worker of this screen changed state: failures become notifications."""
        report_failure(self, event)

    def action_back(self) -> None:
        if self.app.screen_stack[0] is not self:
            self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return self.app.screen_stack[0] is not self  # the overview is home
        return True
