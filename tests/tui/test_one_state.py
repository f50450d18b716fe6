"""One check on every screen: after a switch that reused an older snapshot, nothing re-checks
behind the user's back, and every screen counts the same run (docs/tui.md, "One state")."""

from __future__ import annotations

import contextlib
import itertools
from datetime import timedelta
from pathlib import Path

from textual.widgets import Static

from reconcile_tui.store import snapshots
from reconcile_tui.tui.app import ReconcileApp
from reconcile_tui.tui.checking import check_latest
from reconcile_tui.tui.views import load_overview
from reconcile_tui.tui.widgets.data_banner import DataBanner
from reconcile_tui.workspace import Workspace
from tests.conftest import PAGE_CLOCK, WALLET_A
from tests.tui.conftest import scenario_settings, settle, shown_text


def _switch_back_to_an_older_snapshot(db_path: Path) -> int:
    """Another snapshot is stored and checked (the newest), then the first one is checked
    again, as `b` does when it reuses a snapshot fetched minutes earlier; its run id."""
    folder = db_path.parent
    with (
        contextlib.chdir(folder),
        Workspace(scenario_settings(), db_path=db_path, clock=lambda: PAGE_CLOCK) as workspace,
    ):
        first_id = workspace.latest_snapshot_id()
        assert first_id is not None
        newest_id, newest = workspace.load_saved_responses(Path("api"))
        workspace.check(newest_id, newest)
        first = snapshots.load_snapshot(workspace.store, first_id)
        return workspace.check(first_id, first).run_id


def test_the_overview_keeps_the_run_the_user_chose(scenario_db):
    chosen = _switch_back_to_an_older_snapshot(scenario_db)
    with Workspace(scenario_settings(), db_path=scenario_db, clock=lambda: PAGE_CLOCK) as workspace:
        overview = load_overview(workspace)
    assert not overview.rechecked
    assert overview.run_id == chosen


async def test_every_screen_counts_the_same_run(make_app, scenario_db):
    _switch_back_to_an_older_snapshot(scenario_db)
    app: ReconcileApp = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        banner = shown_text(app.screen.query_one(DataBanner))
        assert "7d daily" in banner
        status = shown_text(app.screen.query_one("#run-status", Static))
        await pilot.press("d")
        await settle(pilot)
        counts = shown_text(app.screen.query_one("#findings-counts", Static))
    overview_errors = status.split("✖ ")[1].split(" ")[0]
    list_errors = counts.split("✖ ")[1].split(" ")[0]
    assert overview_errors == list_errors


def test_records_imported_after_a_switch_are_checked_on_the_snapshot_the_user_chose(
    scenario_db,
):
    # The import screen's check, and the overview's when records arrived from elsewhere,
    # used the newest snapshot: an import switched the screens to another period.
    _switch_back_to_an_older_snapshot(scenario_db)
    folder = scenario_db.parent
    ticks = (PAGE_CLOCK + timedelta(seconds=n) for n in itertools.count(1))
    with (
        contextlib.chdir(folder),
        Workspace(scenario_settings(), db_path=scenario_db, clock=lambda: next(ticks)) as workspace,
    ):
        chosen = workspace.latest_run().snapshot_id
        assert chosen != workspace.latest_snapshot_id()
        late = folder / "late.csv"
        header = "reference,occurred_at,currency,wallet_id,type,amount,fee,status,tx_hash\n"
        row = "L-{n},2025-01-14T0{n}:00:00Z,USDTERC20," + WALLET_A + ",deposit,{n},0,confirmed,\n"
        late.write_text(header + row.format(n=1))
        workspace.import_files([late])
        assert check_latest(workspace) is not None
        assert workspace.latest_run().snapshot_id == chosen
        late.write_text(header + row.format(n=1) + row.format(n=2))
        workspace.import_files([late])
        overview = load_overview(workspace)
        assert overview.rechecked
        assert workspace.latest_run().snapshot_id == chosen
