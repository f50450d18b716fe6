"""Logging to stderr for the CLI, with every known secret masked in every record.

The HTTP client never logs a token or client secret in the first place; this filter is
the second lock on the door, in case a library (or a future change) ever does.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO

__all__ = ["MASK", "SecretMask", "configure_logging", "redact_secrets", "remove_handlers"]

MASK = "********"


class SecretMask(logging.Filter):
    """Replaces each registered secret in a record's message and arguments with MASK."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, secrets: Iterable[str]) -> None:
        # Very short values would mask ordinary words; real secrets are long.
        self._secrets.update(secret for secret in secrets if len(secret) >= 6)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        masked = message
        for secret in self._secrets:
            masked = masked.replace(secret, MASK)
        if masked != message:
            record.msg, record.args = masked, None
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


def redact_secrets(secrets: Iterable[str]) -> None:
    """Mask these values in everything logged from now on."""
    _MASK.add(secrets)


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
