"""Starting the app from the command line: `reconcile-tui` runs `run_app`, and
`reconcile-tui demo` runs `run_demo` on the built-in sandbox and the sample scenario."""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import SecretStr

from reconcile_tui.config import ApiSettings, Settings, StoreSettings, load_settings
from reconcile_tui.errors import BadInput
from reconcile_tui.tui.app import ReconcileApp, build_app

__all__ = ["SAMPLE", "prepare_demo", "run_app", "run_demo"]

#: The scenario of sample_data/ (its README gives the same numbers): the demo generates it
#: afresh, so it works from an installed copy too, and a test keeps the two identical.
SAMPLE = {"seed": 2025, "records": 400, "discrepancies": 12}


class _NotifyingHandler(logging.Handler):
    """Warnings logged by the core while the app runs, shown as notifications.

    Writing them to stderr would scribble over the screen; a notification is where a user
    of the app looks anyway.
    """

    def __init__(self, app: ReconcileApp) -> None:
        super().__init__(logging.WARNING)
        self.app = app

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            self.app.notify(message, title="Warning", severity="warning", markup=False)
        except Exception:  # a log record must never take the app down
            self.handleError(record)


@contextmanager
def warnings_as_notifications(app: ReconcileApp) -> Iterator[None]:
    """While the app runs, send WARNING+ log records to notifications instead of stderr."""
    root = logging.getLogger()
    terminal = [
        handler
        for handler in root.handlers
        if isinstance(handler, logging.StreamHandler)
        and getattr(handler, "stream", None) in (sys.stderr, sys.stdout)
    ]
    notifying = _NotifyingHandler(app)
    notifying.setFormatter(logging.Formatter("%(message)s"))
    for handler in terminal:
        for log_filter in handler.filters:  # keeps the secret mask the CLI installed
            notifying.addFilter(log_filter)
        root.removeHandler(handler)
    root.addHandler(notifying)
    try:
        yield
    finally:
        root.removeHandler(notifying)
        for handler in terminal:
            root.addHandler(handler)


def run_app(settings: Settings, *, db_path: Path | str) -> int:
    """Open the app on the user's database; returns the process exit code.

    It opens at once on the last stored check (offline-capable: nothing is fetched until
    the user refreshes); with no data yet, the overview says what to do first.
    """
    app = build_app(settings, db_path=db_path)
    with warnings_as_notifications(app):
        app.run()
    return app.return_code or 0


def prepare_demo(
    folder: Path, sandbox_url: str, token: str, database: Path | str | None = None
) -> Settings:
    """Import the sample scenario into a new database in `folder` (or into `database`, an
    empty server's, docs/postgresql.md), fetch the sandbox's balances and check them;
    returns settings that point the app at both."""
    from reconcile_tui.workspace import Workspace  # the demo's own setup, before the app

    settings = load_settings(environ={}).model_copy(
        update={
            "api": ApiSettings(url=sandbox_url, token=SecretStr(token)),
            "store": StoreSettings(path=database or folder / "demo.db"),
        }
    )
    with Workspace(settings) as workspace:
        if workspace.holds_anything():
            raise BadInput(
                f"database {workspace.store.path} already holds data: the demo needs an"
                " empty one, so that sample data never mixes with your books"
            )
        workspace.import_files([folder / "scenario" / "merchant.csv"])
        fetched = workspace.fetch()
        workspace.check(fetched.snapshot_id, fetched.snapshot)
    return settings


def run_demo(seed: int | None = None, database: Path | str | None = None) -> int:
    """The app on the built-in sandbox (a real HTTP server on a free loopback port) and the
    sample scenario, in a temporary database (or the empty server database given): no
    credentials, no network, nothing kept but what a server keeps."""
    # The sandbox (a web server and a scenario generator) is loaded for the demo only.
    from reconcile_tui.sandbox import SandboxConfig, generate_scenario, start_sandbox

    config = SandboxConfig(seed=SAMPLE["seed"] if seed is None else seed, records=SAMPLE["records"])
    with tempfile.TemporaryDirectory(prefix="reconcile-tui-demo-") as temporary:
        folder = Path(temporary)
        print(
            "Preparing the demo: sample records and the built-in sandbox gateway…", file=sys.stderr
        )
        generate_scenario(folder / "scenario", config, discrepancies=SAMPLE["discrepancies"])
        with start_sandbox(config) as sandbox:
            settings = prepare_demo(folder, sandbox.url, sandbox.token, database)
            note = (
                f"sandbox gateway at {sandbox.url} · sample scenario: seed {config.seed},"
                f" {config.records} gateway transactions,"
                f" {SAMPLE['discrepancies']} planted mistakes"
            )
            app = build_app(settings, db_path=settings.db_path, demo_note=note)
            with warnings_as_notifications(app):
                app.run()
    return app.return_code or 0
