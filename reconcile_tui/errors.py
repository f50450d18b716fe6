"""The failures a user can meet, each carrying the exit code the CLI turns it into.

Every command exits with one of the documented codes (README.md): 2 bad usage or bad input,
3 the gateway could not be reached or refused us, 4 the database is unusable. Raising one of
these classes is how any layer says "stop, and tell the user this one line"; the CLI prints
`str(error)` and exits with `error.exit_code`, the TUI shows the same line as a
notification."""

from __future__ import annotations

from dataclasses import dataclass


class ReconcileError(Exception):
    """Base of every error a user can cause or meet; never a bug."""

    exit_code = 2


class BadInput(ReconcileError):
    """A file, a value or an option the user gave cannot be used (exit 2)."""

    exit_code = 2


class ConfigError(BadInput):
    """The configuration file or environment is wrong (exit 2)."""


@dataclass(frozen=True)
class RowProblem:
    """One bad row of an input file: where it is and what is wrong with it."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


class BadFile(BadInput):
    """An input file was refused as a whole; `problems` lists each bad row."""

    def __init__(self, message: str, problems: list[RowProblem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class ApiError(ReconcileError):
    """The gateway could not be reached or refused the request after retries (exit 3)."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.url = url


class DatabaseError(ReconcileError):
    """The database is locked past the timeout, corrupt, full or too new (exit 4)."""

    exit_code = 4


class NotFound(BadInput):
    """Something the user named (a discrepancy id, a snapshot) does not exist (exit 2)."""
