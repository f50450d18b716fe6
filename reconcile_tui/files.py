"""Reading the files a user names, and writing files so that a crash or a full disk never
leaves half a file behind; either way a problem is one line that names the file."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from reconcile_tui.errors import BadInput

__all__ = [
    "check_readable",
    "forget_kept",
    "keep",
    "open_input",
    "read_input",
    "read_start",
    "reading",
    "refuse_kept",
    "write_atomically",
]

#: The files this process must not write over, by (device, inode), with where each was
#: and what it is: the database in use and every input read. `--output` naming one of
#: them (or a link to it) is refused instead of replacing it (docs/reliability.md).
_KEPT: dict[tuple[int, int], tuple[str, str]] = {}


def keep(path: Path | str, what: str) -> None:
    """Refuse, from now on in this process, to write over the file at `path` (if it is
    one): `what` names it in the refusal ("the database this command uses")."""
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return
    if stat.S_ISREG(found.st_mode):
        _KEPT[(found.st_dev, found.st_ino)] = (os.path.realpath(path), what)


def forget_kept() -> None:
    """A new command starts keeping its own files: the files of a command run before it
    in the same process (a script calling `main` twice) are not this one's."""
    _KEPT.clear()


def refuse_kept(path: Path) -> None:
    """BadInput when `path` is a kept file: a command checks its output before its work."""
    if (kept := _kept(path)) is not None:
        raise BadInput(f"{path}: is {kept}; write to another file")


def _kept(path: Path) -> str | None:
    """What `path` is, when it is a kept file. A kept file since deleted no longer
    counts, even where the system gave its inode to another file."""
    try:
        found = os.stat(path)
        kept_at, what = _KEPT[(found.st_dev, found.st_ino)]
        still = os.stat(kept_at)
    except (OSError, ValueError, KeyError):
        return None
    return what if (still.st_dev, still.st_ino) == (found.st_dev, found.st_ino) else None


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
    keep(path, f"the {what} this command reads")
    try:
        return stream, os.fstat(stream.fileno()).st_size
    except OSError as error:
        stream.close()
        raise _unreadable(path, what, error) from None


def check_readable(path: Path, what: str = "file") -> None:
    """BadInput naming the file unless it can be opened for reading: a command checks the
    files it will read before it opens (or makes) a database."""
    stream, _size = open_input(path, what)
    stream.close()


def read_input(path: Path, what: str = "file") -> bytes:
    """The whole of a small file the user named; or BadInput naming the file."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise _unreadable(path, what, error) from None
    keep(path, f"the {what} this command reads")
    return content


@contextmanager
def reading(path: Path, what: str) -> Iterator[None]:
    """A file failing while being read (a device error, a share gone) is BadInput naming
    it, as a file that cannot be opened is."""
    try:
        yield
    except OSError as error:
        raise _unreadable(path, what, error) from None


def read_start(path: Path, what: str, size: int) -> bytes:
    """The first `size` bytes of a file the user named (a sample to look at); or BadInput
    naming the file, when it cannot be opened or fails while being read."""
    stream, _size = open_input(path, what)
    with stream, reading(path, what):
        return stream.read(size)


def write_atomically(path: Path, content: bytes) -> None:
    """Write `content` to `path` whole or not at all (temp file, fsync, rename).

    A reader sees either the old file or the new one, never a torn one; on failure the
    old file is untouched and the error names the path. A file replaced keeps its
    permissions; a symbolic link is followed and its target replaced, the link kept. A
    path that is no regular file (a FIFO, a device, `/dev/stdout` or another open
    descriptor) is written into, never replaced: the reader at its other end gets the
    content (docs/report.md, writing files).
    """
    refuse_kept(path)
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
