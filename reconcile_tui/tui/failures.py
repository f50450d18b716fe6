"""Turning a failed worker into one clear notification, never a traceback on screen.

A `ReconcileError` is something the user can act on: its `str()` is the line to show. Any
other exception is a bug in reconcile-tui, and the notification says so plainly.
Textual does not bubble `Worker.StateChanged`, so every node that starts workers hands
its failures here.
"""

from __future__ import annotations

import logging

from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

from reconcile_tui.errors import ApiError, BadInput, DatabaseError, ReconcileError
from reconcile_tui.redaction import mask

__all__ = ["failure_message", "failure_title", "report_failure"]

log = logging.getLogger(__name__)


def failure_title(error: BaseException) -> str:
    """The notification's title: what kind of trouble this is, in the user's words."""
    if isinstance(error, ApiError):
        return "Gateway"
    if isinstance(error, DatabaseError):
        return "Database"
    if isinstance(error, BadInput):
        return "Cannot do that"
    if isinstance(error, ReconcileError):
        return "Problem"
    return "Bug in reconcile-tui"


def failure_message(error: BaseException) -> str:
    """The notification's text, with every known secret masked (reconcile_tui.redaction)."""
    if isinstance(error, ReconcileError):
        return mask(str(error))
    return mask(
        f"Unexpected {type(error).__name__}: {error}. This is a bug, not your data;"
        " please report it. Nothing was changed by the failed step."
    )


def report_failure(node: DOMNode, event: Worker.StateChanged) -> BaseException | None:
    """Notify about a worker that ended in error; returns the error (None otherwise)."""
    worker: Worker[object] = event.worker
    if event.state != WorkerState.ERROR or worker.error is None:
        return None
    error = worker.error
    if not isinstance(error, ReconcileError):
        log.debug("worker %s failed", worker.name, exc_info=error)
    node.app.notify(
        failure_message(error),
        title=failure_title(error),
        severity="error",
        timeout=12,
        markup=False,
    )
    return error
