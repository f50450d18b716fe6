"""How a worker thread reaches the user's database: one `Workspace` per unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reconcile_tui.config import Settings

if TYPE_CHECKING:
    from reconcile_tui.workspace import Workspace

__all__ = ["WorkspaceAccess", "access_of"]


@dataclass(frozen=True)
class WorkspaceAccess:
    """The settings, database file and clock every worker opens its workspace with."""

    settings: Settings
    db_path: Path | str
    clock: Callable[[], datetime]

    def open(self) -> Workspace:
        """A fresh workspace for the calling thread; close it (use `with`) when done."""
        # Imported here, in the worker: the core loads while the first frame is drawn.
        from reconcile_tui.workspace import Workspace

        return Workspace(self.settings, db_path=self.db_path, clock=self.clock)

    def now(self) -> datetime:
        return self.clock()


def access_of(app: object) -> WorkspaceAccess:
    """The running app's `WorkspaceAccess` (every reconcile-tui app carries one)."""
    access = getattr(app, "access", None)
    if not isinstance(access, WorkspaceAccess):
        raise TypeError(f"{type(app).__name__} has no workspace access")
    return access
