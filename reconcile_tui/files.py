"""Reading the files a user names, and writing files so that a crash or a full disk never
leaves half a file behind; either way a problem is one line that names the file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from reconcile_tui.errors import BadInput

__all__ = ["open_input", "read_input", "write_atomically"]


def _unreadable(path: Path, what: str, error: OSError) -> BadInput:
    if isinstance(error, FileNotFoundError):
        return BadInput(f"{path}: no such {what}")
    if isinstance(error, IsADirectoryError):
        return BadInput(f"{path}: is a directory, not a {what}")
    return BadInput(f"{path}: cannot read this {what} ({error.strerror or error})")


def open_input(path: Path, what: str = "file") -> tuple[BinaryIO, int]:
    """`path` opened for reading in binary, with its size; or BadInput naming the file."""
    try:
        stream = path.open("rb")
    except OSError as error:
        raise _unreadable(path, what, error) from None
    try:
        return stream, os.fstat(stream.fileno()).st_size
    except OSError as error:
        stream.close()
        raise _unreadable(path, what, error) from None


def read_input(path: Path, what: str = "file") -> bytes:
    """The whole of a small file the user named; or BadInput naming the file."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise _unreadable(path, what, error) from None


def write_atomically(path: Path, content: bytes) -> None:
    """Write `content` to `path` whole or not at all (temp file, fsync, rename).

    A reader sees either the old file or the new one, never a torn one; on failure the
    old file is untouched and the error names the path.
    """
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise BadInput(f"{path}: cannot write ({error.strerror or error})") from None
    try:
        # mkstemp makes the file private (0600); a report is an ordinary file: honour umask.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(handle, 0o666 & ~umask)
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise BadInput(f"{path}: cannot write ({error.strerror or error})") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
