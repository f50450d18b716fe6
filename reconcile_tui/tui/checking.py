"""Running the core for the app: fetch from the gateway and check, or check the newest
stored snapshot after an import; each in one call that a worker thread runs.

Nothing here imports textual. Reading what a screen shows is `views.py`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconcile_tui.errors import NotFound
from reconcile_tui.store.runs import FindingCounts
from reconcile_tui.tui.views import open_counts

if TYPE_CHECKING:  # workers pass these in: nothing here loads the core's heavy parts
    from reconcile_tui.ingest.importer import ImportResult
    from reconcile_tui.workspace import CheckOutcome, Workspace

__all__ = ["ImportOutcome", "RefreshOutcome", "check_latest", "refresh_and_check"]


@dataclass(frozen=True)
class RefreshOutcome:
    """A fetch (or cache hit) and the check that followed it."""

    base_url: str
    from_cache: bool
    currencies: int
    check: CheckOutcome
    #: Open errors and warnings of the new run, as every screen counts them.
    open: FindingCounts = field(default_factory=FindingCounts)


@dataclass(frozen=True)
class ImportOutcome:
    """What an import did, and the check re-run against the latest snapshot (if any)."""

    results: tuple[ImportResult, ...]
    check: CheckOutcome | None


def check_latest(workspace: Workspace) -> CheckOutcome | None:
    """Reconcile the records against the newest stored snapshot; None without one."""
    try:
        snapshot_id, snapshot = workspace.latest_snapshot()
    except NotFound:
        return None
    return workspace.check(snapshot_id, snapshot)


def refresh_and_check(
    workspace: Workspace, *, period: str | None, interval: str | None, refresh: bool
) -> RefreshOutcome:
    """Fetch from the gateway (or reuse a fresh cached snapshot) and reconcile against it."""
    fetched = workspace.fetch(period=period, interval=interval, refresh=refresh)
    checked = workspace.check(fetched.snapshot_id, fetched.snapshot)
    return RefreshOutcome(
        base_url=fetched.snapshot.base_url,
        from_cache=fetched.from_cache,
        currencies=len(fetched.snapshot.balances.balances),
        check=checked,
        open=open_counts(workspace),
    )
