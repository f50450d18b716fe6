"""Reading the files a user names, and writing files so that a crash or a full disk never
leaves half a file behind; either way a problem is one line that names the file."""

from __future__ import annotations

import os
import stat
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
    old file is untouched and the error names the path. A file replaced keeps its
    permissions; a symbolic link is followed and its target replaced, the link kept. A
    path that is no regular file (a FIFO, a device, `/dev/stdout` or another open
    descriptor) is written into, never replaced: the reader at its other end gets the
    content (docs/report.md, writing files).
    """
    if _is_a_stream(path):
        _write_into(path, content)
        return
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    directory = target.parent if str(target.parent) else Path(".")
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise BadInput(f"{path}: cannot write ({error.strerror or error})") from None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=directory, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as error:
        raise BadInput(f"{path}: cannot write ({error.strerror or error})") from None
    try:
        # mkstemp makes the file private (0600): keep the mode of the file replaced, or
        # make an ordinary file that honours the umask.
        os.fchmod(handle, _new_file_mode() if mode is None else mode)
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise BadInput(f"{path}: cannot write ({error.strerror or error})") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


#: Where a path names a descriptor a process holds open (`/dev/stdout` leads here).
_OPEN_DESCRIPTORS = ("/proc/", "/dev/fd/")


def _is_a_stream(path: Path) -> bool:
    """Whether `path` is something other than a regular file to replace: an existing
    FIFO, device or socket, or a link (a chain of links) into a process's open
    descriptors, such as `/dev/stdout` while stdout is a file opened for appending."""
    hop = path
    for _ in range(40):  # the kernel's own limit on a chain of links
        if os.path.abspath(hop).startswith(_OPEN_DESCRIPTORS):
            return True
        if not hop.is_symlink():
            break
        hop = hop.parent / os.readlink(hop)
    try:
        mode = path.stat().st_mode
    except OSError:
        return False  # missing (a new file) or unreadable: the atomic write says which
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _write_into(path: Path, content: bytes) -> None:
    """Write into a stream in place; appending, so a descriptor opened with `>>` keeps
    what it holds."""
    try:
        with path.open("ab") as stream:
            stream.write(content)
            stream.flush()
    except OSError as error:
        raise BadInput(f"{path}: cannot write ({error.strerror or error})") from None
