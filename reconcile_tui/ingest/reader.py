"""Streaming a CSV file into rows, each with the line it starts on.

The file is read in binary and split into physical lines before decoding, so an
undecodable byte or a NUL byte is reported with its own line number instead of failing
the whole stream somewhere unknown. Memory stays constant whatever the file's size, and
whatever a line's: no more than LINE_SIZE_LIMIT bytes of one line are ever held.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

__all__ = ["FIELD_SIZE_LIMIT", "LINE_SIZE_LIMIT", "CsvRow", "read_csv"]

#: The csv module's default: a field longer than this is a bad row, not a memory hazard.
FIELD_SIZE_LIMIT = csv.field_size_limit()

#: The longest physical line read, in bytes: a longer one is a bad row (its line number,
#: the rest of it skipped unread), or refuses the file when it is the header. Without it
#: a file with no line break (or a stream of zeros) would be held whole before any field
#: limit applies.
LINE_SIZE_LIMIT = 4 << 20

#: What a quarantined over-long line keeps of its text.
_KEPT_OF_LONG_LINE = 200

#: The rest of an over-long line is skipped in blocks of this many bytes.
_SKIP_BLOCK = 1 << 16


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One CSV record: its first line, its fields (None if unreadable), and why not."""

    line: int
    fields: list[str] | None
    problem: str | None
    text: str


class _Lines:
    """Decoded physical lines for csv.reader, remembering problems and raw text per line."""

    def __init__(self, stream: BinaryIO, encoding: str) -> None:
        self._stream = stream
        self._decode = codecs.getdecoder(encoding)
        self._encoding = encoding
        self.number = 0
        self.bytes_read = 0
        self.sha256 = hashlib.sha256()
        self.problems: dict[int, str] = {}
        self.raw: list[str] = []

    def __iter__(self) -> Iterator[str]:
        while chunk := self._read(LINE_SIZE_LIMIT + 1):
            self.number += 1
            if len(chunk) > LINE_SIZE_LIMIT:
                self.problems[self.number] = f"the line is longer than {LINE_SIZE_LIMIT} bytes"
                self.raw.append(chunk[:_KEPT_OF_LONG_LINE].decode(self._encoding, "replace"))
                ended = chunk.endswith(b"\n")
                chunk = b""  # not held while the rest is skipped
                yield "\n"
                if self.number == 1:
                    return  # the header: the file is refused, nothing more to read
                while not ended and (part := self._read(_SKIP_BLOCK)):
                    ended = part.endswith(b"\n")  # skipped unkept, still hashed and counted
                continue
            if self.number == 1:
                chunk = self._strip_bom(chunk)
            text, raw = self._decode_line(chunk)
            self.raw.append(raw)
            yield text

    def _read(self, limit: int) -> bytes:
        """At most `limit` bytes of the current line, hashed and counted."""
        chunk = self._stream.readline(limit)
        self.bytes_read += len(chunk)
        self.sha256.update(chunk)
        return chunk

    def _strip_bom(self, chunk: bytes) -> bytes:
        if chunk.startswith(codecs.BOM_UTF8):
            if self._encoding != "utf-8":
                self.problems[1] = (
                    f"file starts with a UTF-8 byte order mark but is declared {self._encoding}"
                )
            return chunk[len(codecs.BOM_UTF8) :]
        if chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            self.problems[1] = "file is UTF-16; save it as UTF-8"
        return chunk

    def _decode_line(self, chunk: bytes) -> tuple[str, str]:
        """The text to parse, and the text to keep should the row be quarantined."""
        nul = chunk.find(b"\x00")
        if nul >= 0:
            self.problems.setdefault(self.number, f"NUL byte at column {nul + 1}")
            return "\n", chunk.replace(b"\x00", b"").decode(self._encoding, "backslashreplace")
        try:
            text = str(self._decode(chunk)[0])
            return text, text
        except UnicodeDecodeError as error:
            byte = chunk[error.start : error.start + 1].hex()
            self.problems.setdefault(
                self.number,
                f"byte 0x{byte} at column {error.start + 1} is not valid {self._encoding} "
                "(declare the file's encoding in a mapping)",
            )
            return "\n", chunk.decode(self._encoding, errors="backslashreplace")


class CsvReader:
    """Iterates `CsvRow`s of a binary stream; exposes progress and the file's sha256."""

    def __init__(self, stream: BinaryIO, *, encoding: str, delimiter: str, quotechar: str) -> None:
        self._lines = _Lines(stream, encoding)
        self._reader = csv.reader(
            self._lines, delimiter=delimiter, quotechar=quotechar, strict=True
        )

    @property
    def bytes_read(self) -> int:
        return self._lines.bytes_read

    @property
    def sha256(self) -> str:
        """The hex sha256 of every byte read so far (of the whole file once exhausted)."""
        return self._lines.sha256.hexdigest()

    def __iter__(self) -> Iterator[CsvRow]:
        lines = self._lines
        while True:
            start = lines.number + 1
            lines.raw.clear()
            try:
                fields: list[str] | None = next(self._reader)
                problem = None
            except StopIteration:
                return
            except csv.Error as error:
                fields, problem = None, _csv_problem(str(error))
            text = "".join(lines.raw).rstrip("\r\n")
            for number in range(start, lines.number + 1):
                if number in lines.problems:
                    fields, problem = None, lines.problems.pop(number)
                    break
            if problem is None and fields is not None and not any(f.strip() for f in fields):
                # A blank line is not a record, nor is a row of empty cells: a spreadsheet
                # saves its empty rows as `,,,,` (docs/mapping.md, "Bad rows").
                continue
            yield CsvRow(start, fields, problem, text)


def read_csv(stream: BinaryIO, *, encoding: str, delimiter: str, quotechar: str) -> CsvReader:
    """Rows of `stream` with their line numbers; see CsvReader."""
    return CsvReader(stream, encoding=encoding, delimiter=delimiter, quotechar=quotechar)


def _csv_problem(message: str) -> str:
    if "field larger than field limit" in message:
        return f"a field is longer than {FIELD_SIZE_LIMIT} characters"
    if "unexpected end of data" in message or "EOF" in message:
        return "a quoted field is never closed"
    if "new-line character seen in unquoted field" in message:
        # Python's words point at its own open() mode; what the user can change is the
        # file: lines ended by a bare carriage return (old Mac files), or one in a cell.
        return (
            "a carriage return (\\r) without a line feed in an unquoted field: save the file"
            " with LF or CRLF line ends, or quote the cell"
        )
    return f"malformed CSV ({message})"
