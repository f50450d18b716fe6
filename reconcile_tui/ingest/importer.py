"""Importing one merchant CSV file: streaming, all-or-nothing, idempotent.

1. Stage the file in TEMP tables (constant memory; no lock on the database yet). Plain
   files take the fast path (`ingest.fast`: blocks of lines validated by column
   expressions); anything unusual or wrong takes the careful reader, which validates row
   by row and keeps every problem with its line.
2. If any row is bad and quarantine was not asked for, refuse the file: every bad row is
   reported as `file:line: reason` and the database is untouched.
3. Otherwise merge in one `BEGIN IMMEDIATE` transaction (see `store.imports`).

Re-importing the same bytes with the same mapping is recognised by its sha256 and changes
nothing. Cancelling (the TUI's cancel button) or killing the process at any point leaves
the database exactly as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from reconcile_tui.errors import BadFile, BadInput, RowProblem
from reconcile_tui.files import open_input
from reconcile_tui.ingest.header import read_header
from reconcile_tui.ingest.mapping import Layout
from reconcile_tui.ingest.reader import read_csv
from reconcile_tui.ingest.rows import RowError, RowParser
from reconcile_tui.store import imports as staging
from reconcile_tui.store.db import Connection, Store
from reconcile_tui.times import format_utc, utc_now

__all__ = ["ImportCancelled", "ImportProgress", "ImportResult", "import_file"]

log = logging.getLogger(__name__)

#: Rows staged per batch: bounds memory, and how often progress and cancel are checked.
BATCH_ROWS = 5_000

#: Bad rows kept in memory for the error message; all of them are counted and staged.
PROBLEMS_SHOWN = 1_000


class ImportCancelled(BadInput):
    """The user cancelled an import; nothing was written."""


@dataclass(frozen=True)
class ImportProgress:
    """How far an import has read: for progress bars."""

    path: str
    rows_read: int
    bytes_read: int
    bytes_total: int


@dataclass
class ImportResult:
    """What an import did. `status` is imported, dry_run or already_imported."""

    path: str
    file_sha256: str
    status: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    quarantined: int = 0
    import_id: int | None = None
    earlier_import: tuple[int, str] | None = None
    problems: list[RowProblem] = field(default_factory=list)
    problem_count: int = 0
    #: Rows the mapping's skip rules left out: the rule, in words -> how many.
    skipped: dict[str, int] = field(default_factory=dict)
    #: What else the summary must say about how the rows were read (docs/mapping.md).
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people."""
        if self.status == "already_imported" and self.earlier_import:
            number, when = self.earlier_import
            return f"{self.path}: already imported (import #{number} at {when}); nothing changed"
        verb = "would import" if self.status == "dry_run" else "imported"
        parts = [
            f"{_counted(self.rows_read, 'row')} read",
            f"{self.inserted} new",
            f"{self.updated} updated",
            f"{self.unchanged} unchanged",
        ]
        if self.duplicates:
            parts.append(f"{_counted(self.duplicates, 'repeated reference')} kept aside")
        if self.quarantined or (self.status == "dry_run" and self.problem_count):
            bad = self.quarantined or self.problem_count
            parts.append(f"{_counted(bad, 'bad row')} quarantined")
        if self.skipped:
            rules = "; ".join(f"{rule}: {count}" for rule, count in self.skipped.items())
            skipped = _counted(sum(self.skipped.values()), "row")
            parts.append(f"{skipped} skipped by the mapping ({rules})")
        return f"{self.path}: {verb}: " + ", ".join(parts + self.notes)


def _counted(count: int, words: str) -> str:
    """`1 row`, `2 rows`, `1 bad row` (the count as scripts' logs have it: no grouping)."""
    return f"{count} {words}" if count == 1 else f"{count} {words}s"


class _DryRun(Exception):
    """Raised inside the merge transaction of a dry run so that it rolls back."""


class _AlreadyImported(Exception):
    """Raised inside the merge transaction when another import of the same file landed
    first (docs/postgresql.md, "Concurrency")."""

    def __init__(self, earlier: tuple[int, str]) -> None:
        super().__init__(earlier)
        self.earlier = earlier


def import_file(
    store: Store,
    path: Path,
    layout: Layout | None = None,
    *,
    validation_scales: Mapping[str, int] | None = None,
    quarantine: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    on_progress: Callable[[ImportProgress], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    careful: bool = False,
) -> ImportResult:
    """Import one CSV file; see the module docstring. Raises BadFile when refused.

    `careful` skips the fast path (tests use it to hold the two paths together).
    """
    layout = layout or Layout()
    now = now or utc_now()
    shown = str(path)
    scales = validation_scales or {}
    stream, total_bytes = open_input(path, "CSV file")

    def progress(rows_read: int, bytes_read: int) -> None:
        if on_progress:
            on_progress(ImportProgress(shown, rows_read, bytes_read, total_bytes))
        if is_cancelled and is_cancelled():
            raise ImportCancelled(f"{shown}: import cancelled; nothing was written")

    def parser_for(header: list[str], line: int = 1) -> RowParser:
        return RowParser(layout, header, shown, validation_scales=scales, now=now, line=line)

    conn = store.conn
    with store.errors(), stream:
        try:
            staged: _Staged | None = None
            if not careful:
                # Loaded here, not at the top: polars costs every other command (and the
                # TUI's start) a tenth of a second it does not need (docs/performance.md).
                from reconcile_tui.ingest import fast

                if fast.eligible(layout):
                    staging.prepare_staging(conn)
                    try:
                        done = fast.stage_fast(
                            conn,
                            stream,
                            layout,
                            path=shown,
                            parser_for=parser_for,
                            validation_scales=scales,
                            now=now,
                            on_rows=progress,
                        )
                        staged = _Staged(done.rows_read, done.sha256, [], 0)
                    except fast.NotFast as why:
                        log.debug("%s needs the careful reader: %s", shown, why)
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                        stream.seek(0)
            if staged is None:
                staging.prepare_staging(conn)
                staged = _stage_carefully(conn, stream, layout, shown, parser_for, progress)
            return _merge(store, shown, layout, staged, now, quarantine=quarantine, dry_run=dry_run)
        except OSError as error:
            # The file failed while being read (a device error, a network share gone, a
            # file the system cannot read whole): its rows are not all known, so none land.
            raise BadInput(
                f"{shown}: cannot read this CSV file ({error.strerror or error}); nothing was"
                " imported"
            ) from None
        finally:
            store.rollback()
            # The staging tables die with the connection; dropping a million staged rows
            # here would cost a second for nothing. The next import recreates them.


@dataclass(frozen=True)
class _Staged:
    rows_read: int
    sha256: str
    problems: list[RowProblem]
    problem_count: int
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _stage_carefully(
    conn: Connection,
    stream: BinaryIO,
    layout: Layout,
    shown: str,
    parser_for: Callable[[list[str], int], RowParser],
    progress: Callable[[int, int], None],
) -> _Staged:
    """Row by row, every problem kept with its line: for unusual files and bad ones."""
    reader = read_csv(
        stream,
        encoding=layout.csv.encoding,
        delimiter=layout.csv.delimiter,
        quotechar=layout.csv.quotechar,
    )
    rows = iter(reader)
    header = read_header(rows, layout, shown)
    assert header.fields is not None
    parser = parser_for(header.fields, header.line)

    problems: list[RowProblem] = []
    problem_count = 0
    rows_read = 0
    good: list[tuple[object, ...]] = []
    bad: list[tuple[int, str, str, str | None]] = []

    def flush() -> None:
        conn.execute("BEGIN")
        staging.stage_records(conn, good)
        staging.stage_bad_rows(conn, bad)
        conn.execute("COMMIT")
        good.clear()
        bad.clear()
        progress(rows_read, reader.bytes_read)

    for row in rows:
        rows_read += 1
        reason = row.problem
        if reason is None:
            assert row.fields is not None
            if parser.skip_reason(row.fields) is not None:
                continue  # counted by the parser, reported in the summary
            try:
                good.append((row.line, *parser.parse(row.fields).values()))
            except RowError as error:
                reason = str(error)
        if reason is not None:
            problem_count += 1
            if len(problems) < PROBLEMS_SHOWN:
                problems.append(RowProblem(shown, row.line, reason))
            reference = parser.reference_of(row.fields) if row.fields is not None else None
            bad.append((row.line, reason, row.text, reference))
        if len(good) + len(bad) >= BATCH_ROWS:
            flush()
    flush()
    return _Staged(
        rows_read,
        reader.sha256,
        problems,
        problem_count,
        skipped=dict(parser.skipped),
        notes=parser.notes(),
    )


def _merge(
    store: Store,
    shown: str,
    layout: Layout,
    staged: _Staged,
    now: datetime,
    *,
    quarantine: bool,
    dry_run: bool,
) -> ImportResult:
    """Refuse a file with bad rows (unless quarantining), else merge it in one transaction."""
    conn = store.conn
    if staged.problem_count and not quarantine:
        noun = "row" if staged.problem_count == 1 else "rows"
        raise BadFile(
            f"{shown}: {staged.problem_count} bad {noun}; nothing was imported "
            "(fix the file, or import it with quarantine to keep the good rows)",
            staged.problems,
        )
    result = ImportResult(
        path=shown,
        file_sha256=staged.sha256,
        status="dry_run" if dry_run else "imported",
        rows_read=staged.rows_read,
        problems=staged.problems,
        problem_count=staged.problem_count,
        skipped=staged.skipped,
        notes=staged.notes,
    )
    earlier = staging.find_earlier_import(conn, staged.sha256, layout.sha256)
    if earlier is not None:
        result.status = "already_imported"
        result.earlier_import = earlier
        return result
    staging.finish_staging(conn)
    try:
        with store.write():
            # Asked again under the write lock: two people importing the same file at
            # once both passed the question above, and each stored an import of it.
            earlier = staging.find_earlier_import(conn, staged.sha256, layout.sha256)
            if earlier is not None:
                raise _AlreadyImported(earlier)
            counts = staging.merge_staged(
                store,
                path=shown,
                file_sha256=staged.sha256,
                mapping_path=layout.source,
                mapping_sha256=layout.sha256,
                imported_at=format_utc(now),
                rows_read=staged.rows_read,
                keep_bad_rows=quarantine,
                dates_only_zone=layout.csv.timezone if layout.csv.dates_only else None,
            )
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    except _AlreadyImported as already:
        result.status = "already_imported"
        result.earlier_import = already.earlier
        return result
    result.inserted = counts.inserted
    result.updated = counts.updated
    result.unchanged = counts.unchanged
    result.duplicates = counts.duplicates
    result.quarantined = counts.quarantined
    if not dry_run:
        result.import_id = counts.import_id
    log.info(result.summary())
    return result
