"""Running the core for the app: fetch from the gateway and check, or check the newest
stored snapshot after an import.

The fetch is awaited on the app's own event loop (the client is asynchronous); the
database steps around it run in a thread each, as the drivers block (docs/tui.md,
"Large data"). Nothing here imports textual. Reading what a screen shows is `views.py`'s job.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconcile_tui.store.runs import FindingCounts
from reconcile_tui.tui.views import open_counts

if TYPE_CHECKING:  # workers pass these in: nothing here loads the core's heavy parts
    from reconcile_tui.api.incremental import ListingSince
    from reconcile_tui.api.snapshot import GatewaySnapshot
    from reconcile_tui.ingest.importer import ImportResult
    from reconcile_tui.tui.access import WorkspaceAccess
    from reconcile_tui.workspace import CheckOutcome, FetchOutcome, FetchRequest, Workspace

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
    """Reconcile the records against the snapshot the screens show (the latest check's,
    unless a newer one was fetched since); None without one."""
    chosen = workspace.snapshot_to_check()
    return None if chosen is None else workspace.check(*chosen)


async def refresh_and_check(
    access: WorkspaceAccess, *, period: str | None, interval: str | None, refresh: bool
) -> RefreshOutcome:
    """Fetch from the gateway (or reuse a fresh cached snapshot) and reconcile against it.

    Cancelling (a newer refresh) stops the fetch where it is; a database step already
    started finishes in its thread, and its outcome is dropped."""
    request, cached, since = await asyncio.to_thread(_look_up, access, period, interval, refresh)
    if cached is not None:
        return cached
    from reconcile_tui.api.client import fetch_snapshot  # loaded by `_look_up`'s thread

    snapshot = await fetch_snapshot(
        access.settings.api,
        period=request.period,
        interval=request.interval,
        currencies=request.currencies,
        listing_since=since,
        clock=access.clock,
    )
    return await asyncio.to_thread(_keep_and_check, access, request, snapshot)


def _look_up(
    access: WorkspaceAccess, period: str | None, interval: str | None, refresh: bool
) -> tuple[FetchRequest, RefreshOutcome | None, ListingSince | None]:
    """What to fetch, and the checked cache hit when a fresh snapshot is stored; else
    where the transaction listing is asked for from."""
    import reconcile_tui.api.client  # noqa: F401  (loads off the event loop, for the fetch)

    with access.open() as workspace:
        request = workspace.fetch_request(period=period, interval=interval)
        cached = workspace.cached_fetch(request, refresh=refresh)
        if cached is not None:
            return request, _checked(workspace, cached), None
        return request, None, workspace.listing_since()


def _keep_and_check(
    access: WorkspaceAccess, request: FetchRequest, snapshot: GatewaySnapshot
) -> RefreshOutcome:
    with access.open() as workspace:
        return _checked(workspace, workspace.keep_fetched(request, snapshot))


def _checked(workspace: Workspace, fetched: FetchOutcome) -> RefreshOutcome:
    checked = workspace.check(fetched.snapshot_id, fetched.snapshot)
    return RefreshOutcome(
        base_url=fetched.snapshot.base_url,
        from_cache=fetched.from_cache,
        currencies=len(fetched.snapshot.balances.balances),
        check=checked,
        open=open_counts(workspace),
    )
