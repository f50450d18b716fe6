"""A line longer than the reader's limit is a bad row with its line, read without holding
it whole: memory stays bounded on both import paths, whatever the file's longest line."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from reconcile_tui.errors import BadFile

# Loaded before any peak is measured: an import loads the fast path (and polars) on first
# use, and those modules' own objects would count as the reading's memory when this file's
# tests run first or alone.
from reconcile_tui.ingest import fast  # noqa: F401
from reconcile_tui.ingest.importer import import_file
from reconcile_tui.ingest.reader import LINE_SIZE_LIMIT
from reconcile_tui.store.db import Store
from tests.conftest import DEFAULT_HEADER, PAGE_CLOCK, WALLET_A

#: Four times the limit: holding the line whole would show in the peak.
LONG = 4 * LINE_SIZE_LIMIT

#: What reading may hold at once: a line's worth of bytes and of text, whatever its length.
BOUND = 3 * LINE_SIZE_LIMIT


def good(reference: str) -> bytes:
    return f"{reference},2024-06-01T10:00:00Z,ETH,{WALLET_A},deposit,1.5,0,confirmed,\n".encode()


def write_long_line_file(path: Path, *, newline: bool = True) -> None:
    with path.open("wb") as out:
        out.write(DEFAULT_HEADER.encode() + good("R-1"))
        out.write(b"R-2,2024-06-01T10:00:00Z,ETH," + b"x" * LONG + (b"\n" if newline else b""))
        if newline:
            out.write(good("R-3"))


def peak_while(action) -> tuple[object, int]:
    tracemalloc.start()
    try:
        try:
            outcome: object = action()
        except BadFile as refused:
            outcome = refused
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("careful", [False, True], ids=["fast", "careful"])
@pytest.mark.parametrize("newline", [True, False], ids=["then-more-rows", "no-line-break-at-all"])
def test_a_line_over_the_limit_is_a_bad_row_read_in_bounded_memory(tmp_path, careful, newline):
    path = tmp_path / "long.csv"
    write_long_line_file(path, newline=newline)
    with Store(tmp_path / "books.db") as store:
        refused, peak = peak_while(
            lambda: import_file(store, path, now=PAGE_CLOCK, careful=careful)
        )
        assert store.query("SELECT count(*) FROM records")[0][0] == 0
    assert isinstance(refused, BadFile)
    assert [(p.line, p.reason) for p in refused.problems] == [
        (3, f"the line is longer than {LINE_SIZE_LIMIT} bytes")
    ]
    assert peak < BOUND
    print(f"peak {peak / 2**20:.1f} MiB for a {LONG / 2**20:.0f} MiB line")


@pytest.mark.parametrize("careful", [False, True], ids=["fast", "careful"])
def test_quarantine_keeps_the_other_rows_and_the_start_of_the_long_line(tmp_path, careful):
    path = tmp_path / "long.csv"
    write_long_line_file(path)
    with Store(tmp_path / "books.db") as store:
        result = import_file(store, path, now=PAGE_CLOCK, careful=careful, quarantine=True)
        assert (result.inserted, result.quarantined) == (2, 1)
        [(line, raw)] = store.query("SELECT line, raw FROM quarantine")
        assert line == 3
        assert raw.startswith("R-2,2024-06-01T10:00:00Z,ETH,xxx")
        assert len(raw) <= 200
        # The file's hash covers every byte, the skipped ones too.
        assert result.rows_read == 3


@pytest.mark.parametrize("careful", [False, True], ids=["fast", "careful"])
def test_a_header_over_the_limit_refuses_the_file_before_reading_on(tmp_path, careful):
    path = tmp_path / "no-lines.csv"
    path.write_bytes(b"\x00" * LONG)  # a stream of zeros, as /dev/zero gives
    with Store(tmp_path / "books.db") as store:
        refused, peak = peak_while(
            lambda: import_file(store, path, now=PAGE_CLOCK, careful=careful)
        )
    assert isinstance(refused, BadFile)
    assert str(refused) == f"{path}:1: the line is longer than {LINE_SIZE_LIMIT} bytes"
    assert peak < BOUND
