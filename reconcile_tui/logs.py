"""Logging to stderr for the CLI, with every known secret masked in every record.

The HTTP client never logs a token or client secret in the first place; this filter is
the second lock on the door, in case a library (or a future change) ever does. Which
values are secret, and in which forms, is known in one place: reconcile_tui.redaction.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from reconcile_tui.redaction import MASK, mask

__all__ = ["MASK", "SecretMask", "configure_logging", "remove_handlers"]


class SecretMask(logging.Filter):
    """Masks every known secret (reconcile_tui.redaction) in a record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            # A traceback (--debug) repeats the exception's text: format it now, masked.
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_MASK = SecretMask()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time of each record (the TUI, and tests,
    replace it), never to a stream captured when logging was set up."""

    reconcile_tui = True

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def remove_handlers() -> None:
    """Take reconcile-tui's own handler off the root logger (the TUI, tests)."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "reconcile_tui", False):
            root.removeHandler(existing)


def configure_logging(verbosity: int) -> None:
    """0: warnings only; 1: progress (INFO); 2: debugging detail (DEBUG), to stderr."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_MASK)
    remove_handlers()
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    if verbosity < 2:
        # httpx logs each request at INFO, and stamina each retry as a WARNING named
        # "stamina.retry_scheduled"; the client says what it retries and why in its own
        # words (at -v), so theirs are kept for -vv.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("stamina").setLevel(logging.ERROR)
    else:
        logging.getLogger("httpx").setLevel(logging.NOTSET)
        logging.getLogger("stamina").setLevel(logging.NOTSET)
