"""The app: global keys, refresh from the gateway, navigation, and the factory that builds it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from reconcile_tui.config import Settings
from reconcile_tui.errors import ConfigError
from reconcile_tui.store.runs import DiscrepancyFilter
from reconcile_tui.times import utc_now
from reconcile_tui.tui.access import WorkspaceAccess
from reconcile_tui.tui.checking import RefreshOutcome, refresh_and_check
from reconcile_tui.tui.commands import ScreenCommands
from reconcile_tui.tui.failures import report_failure
from reconcile_tui.tui.theme import LEDGER_DARK, THEMES
from reconcile_tui.tui.views import DataOrigin

__all__ = ["ReconcileApp", "build_app"]


class ReconcileApp(App[int]):
    """reconcile-tui: where the gateway and your own records disagree, and why."""

    CSS_PATH = "app.tcss"
    TITLE = "reconcile-tui"
    COMMANDS: ClassVar = App.COMMANDS | {ScreenCommands}
    #: Under 32 rows every screen is `-short`: headers condense so lists keep their rows
    #: (docs/tui.md, "Small terminals").
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]  # noqa: RUF012 (typed by Textual)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "r",
            "refresh",
            "Refresh",
            id="app.refresh",
            tooltip="Fetch balances and history from the gateway now, then re-check.",
        ),
        Binding(
            "d",
            "discrepancies",
            "Causes",
            id="app.discrepancies",
            tooltip="The causes of the latest check, and the discrepancies they explain:"
            " filter, search, acknowledge, open.",
        ),
        Binding(
            "i",
            "import_records",
            "Import",
            id="app.import",
            tooltip="Import a CSV of your transaction records (preview first).",
        ),
        Binding(
            "e",
            "export",
            "Export",
            id="app.export",
            tooltip="Write the latest check's discrepancies to a CSV or JSON file.",
        ),
        Binding(
            "p",
            "periods",
            "Periods",
            id="app.periods",
            tooltip="Month-end close: a period's figures on both sides, sign-offs and lapses.",
        ),
        Binding(
            "o",
            "overview",
            "Overview",
            id="app.overview",
            show=False,
            tooltip="Back to the overview of every currency.",
        ),
        Binding(
            "question_mark,f1",
            "help",
            "Help",
            id="app.help",
            tooltip="Every key of this screen, and how refresh and offline work.",
        ),
        Binding(
            "q",
            "quit",
            "Quit",
            id="app.quit",
            show=False,
            tooltip="Leave reconcile-tui (nothing needs saving: every change is stored at once).",
        ),
    ]

    #: Where the gateway figures on screen came from (None: no gateway data yet).
    origin: reactive[DataOrigin | None] = reactive(None)
    #: A fetch from the gateway is running.
    refreshing = reactive(False)
    #: Why the last refresh failed (the figures on screen are the stored ones).
    refresh_problem: reactive[str | None] = reactive(None)
    #: The figures on screen were fetched during this session.
    live = reactive(False)
    #: Why the stored data cannot be read (the database's one line), while it cannot:
    #: every screen's banner says so, rather than that there is no data yet.
    store_problem: reactive[str | None] = reactive(None)
    #: Bumped after anything changes the data (refresh, import, acknowledgement).
    data_version = reactive(0)

    class Refreshed(Message):
        """A fetch (or cache hit) and its check finished."""

        def __init__(self, outcome: RefreshOutcome) -> None:
            super().__init__()
            self.outcome = outcome

    def __init__(
        self,
        access: WorkspaceAccess,
        *,
        demo_note: str | None = None,
        offline: bool = False,
    ) -> None:
        super().__init__()
        self.access = access
        self.demo_note = demo_note
        self.offline = offline
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = LEDGER_DARK.name

    def get_default_screen(self) -> Screen[None]:
        from reconcile_tui.tui.screens.overview import OverviewScreen

        return OverviewScreen()

    def key_for(self, binding_id: str) -> str:
        """The key that runs an app binding now (after any user keymap), for messages."""
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.id == binding_id:
                keys = self._keymap.get(binding_id, binding.key)
                first = keys.split(",")[0].strip()
                return self.get_key_display(replace(binding, key=first))
        return binding_id

    def data_changed(self) -> None:
        """Tell every screen the stored data changed (they reload when shown)."""
        self.data_version += 1

    # -- refreshing from the gateway -------------------------------------------------------

    def action_refresh(self) -> None:
        self.fetch_from_gateway(refresh=True)

    def fetch_from_gateway(
        self, *, period: str | None = None, interval: str | None = None, refresh: bool
    ) -> None:
        """Fetch (or, without `refresh`, reuse a snapshot under 5 minutes old) and re-check."""
        if self.offline:
            self.notify(
                "Offline: the figures are the last stored snapshot; this session never"
                " fetches from the gateway.",
                title="Offline",
                severity="warning",
                markup=False,
            )
            return
        origin = self.origin
        self.refreshing = True
        self._fetch(
            period or (origin.period if origin else None),
            interval or (origin.interval if origin else None),
            refresh,
        )

    # On the app's own event loop: the fetch is awaited here, the database steps run in
    # threads of their own (docs/tui.md, "Large data").
    @work(exclusive=True, exit_on_error=False, group="refresh")
    async def _fetch(self, period: str | None, interval: str | None, refresh: bool) -> None:
        outcome = await refresh_and_check(
            self.access, period=period, interval=interval, refresh=refresh
        )
        self.post_message(self.Refreshed(outcome))

    @on(Refreshed)
    def _refreshed(self, message: Refreshed) -> None:
        outcome = message.outcome
        report = outcome.check.report
        self.origin = DataOrigin(
            base_url=report.base_url,
            fetched_at=report.fetched_at,
            period=report.period,
            interval=report.interval,
        )
        self.live = True
        self.refresh_problem = None
        source = (
            "reused the snapshot fetched under 5 minutes ago"
            if outcome.from_cache
            else (f"fetched {outcome.currencies} currencies")
        )
        counts = outcome.open
        # The counts every screen shows (open, acknowledged aside), not the report's totals.
        verdict = (
            "clean"
            if not counts.open
            else f"{counts.open:,} open causes ({counts.errors:,} errors,"
            f" {counts.warnings:,} warnings)"
        )
        self.notify(
            f"{outcome.base_url}: {source}; checked: {verdict}.",
            title="Gateway",
            markup=False,
        )
        self.data_changed()

    @on(Worker.StateChanged)
    def _worker_ended(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "refresh" and event.state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            self.refreshing = False
        error = report_failure(self, event)
        if error is not None and event.worker.group == "refresh":
            self.refresh_problem = str(error)

    # -- navigation ------------------------------------------------------------------------

    def _home(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def action_overview(self) -> None:
        self._home()

    def open_currency(self, code: str) -> None:
        from reconcile_tui.tui.screens.currency import CurrencyScreen

        self.push_screen(CurrencyScreen(code))

    def open_wallet(self, code: str, wallet_id: str) -> None:
        from reconcile_tui.tui.screens.wallet import WalletScreen

        self.push_screen(WalletScreen(code, wallet_id))

    def open_cause(self, cause_id: str) -> None:
        from reconcile_tui.tui.screens.cause import CauseScreen

        self.push_screen(CauseScreen(cause_id))

    def action_discrepancies(self, where: DiscrepancyFilter | None = None) -> None:
        from reconcile_tui.tui.screens.discrepancies import DiscrepanciesScreen

        existing = next((s for s in self.screen_stack if isinstance(s, DiscrepanciesScreen)), None)
        if existing is not None:
            # One list of discrepancies at a time: go back to it rather than stacking.
            while self.screen is not existing:
                self.pop_screen()
            if where is not None:
                existing.apply_filter(where)
            return
        self.push_screen(DiscrepanciesScreen(where))

    def action_periods(self) -> None:
        from reconcile_tui.tui.screens.periods import PeriodsScreen

        if not isinstance(self.screen, PeriodsScreen):
            self.push_screen(PeriodsScreen())

    def action_import_records(self) -> None:
        from reconcile_tui.tui.screens.import_records import ImportScreen

        if not isinstance(self.screen, ImportScreen):
            self.push_screen(ImportScreen())

    def action_export(self) -> None:
        from reconcile_tui.tui.dialogs.export import ExportDialog

        self.push_screen(ExportDialog(self.access.now()))

    def action_help(self) -> None:
        from reconcile_tui.tui.dialogs.help import HelpDialog

        if not isinstance(self.screen, HelpDialog):
            self.push_screen(HelpDialog(self.screen))


def build_app(
    settings: Settings,
    *,
    db_path: Path | str,
    demo_note: str | None = None,
    offline: bool = False,
    clock: Callable[[], datetime] = utc_now,
) -> ReconcileApp:
    """The app on one database, ready to `run()` (or to drive from tests with `run_test()`).

    `demo_note` shows the DEMO banner (the built-in sandbox, no real money); `offline`
    keeps the app to the last stored snapshot (refresh is refused, and says why); `clock`
    is "now" for ages and for the checks the app runs (fixed in tests).
    """
    app = ReconcileApp(
        WorkspaceAccess(settings=settings, db_path=db_path, clock=clock),
        demo_note=demo_note,
        offline=offline,
    )
    if settings.tui.keymap:
        _refuse_unknown_ids(settings.tui.keymap)
        app.set_keymap(dict(settings.tui.keymap))  # the user's keys, by binding id
    return app


def binding_ids() -> set[str]:
    """Every key binding's id, of the app and of each screen, dialog and widget of it."""
    import importlib
    import pkgutil

    from textual.dom import DOMNode

    import reconcile_tui.tui as package

    for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        importlib.import_module(module.name)

    def subclasses(cls: type) -> list[type]:
        children: list[type] = cls.__subclasses__()
        return [cls, *(sub for child in children for sub in subclasses(child))]

    return {
        binding.id
        for cls in subclasses(DOMNode)
        if cls.__module__.startswith(package.__name__)
        for binding in cls.__dict__.get("BINDINGS", [])
        if isinstance(binding, Binding) and binding.id
    }


def _refuse_unknown_ids(keymap: dict[str, str]) -> None:
    """A keymap id no binding has (a typo, an id of an older version) changed nothing and
    said nothing: refused instead, naming the nearest ids (docs/tui.md, "Keys")."""
    import difflib

    known = binding_ids()
    for name in keymap:
        if name not in known:
            near = difflib.get_close_matches(name, sorted(known), n=2)
            hint = f" (did you mean {' or '.join(near)}?)" if near else ""
            raise ConfigError(
                f"tui.keymap: {name!r} is not a key binding's id{hint}; docs/tui.md lists them"
            )
