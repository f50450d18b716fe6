"""Importing one merchant CSV file: streaming, all-or-nothing, idempotent.

1. Stream the file row by row (constant memory), validating each row; good rows and bad
   rows go to TEMP staging tables in batches. No lock on the database is held yet.
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

from reconcile_tui.errors import BadFile, BadInput, RowProblem
from reconcile_tui.ingest.mapping import Mapping as Layout
from reconcile_tui.ingest.reader import read_csv
from reconcile_tui.ingest.rows import RowError, RowParser
from reconcile_tui.store import imports as staging
from reconcile_tui.store.db import Store
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

    def summary(self) -> str:
        """One line for people."""
        if self.status == "already_imported" and self.earlier_import:
            number, when = self.earlier_import
            return f"{self.path}: already imported (import #{number} at {when}); nothing changed"
        verb = "would import" if self.status == "dry_run" else "imported"
        parts = [
            f"{self.rows_read} rows read",
            f"{self.inserted} new",
            f"{self.updated} updated",
            f"{self.unchanged} unchanged",
        ]
        if self.duplicates:
            parts.append(f"{self.duplicates} repeated references kept aside")
        if self.quarantined or (self.status == "dry_run" and self.problem_count):
            parts.append(f"{self.quarantined or self.problem_count} bad rows quarantined")
        return f"{self.path}: {verb}: " + ", ".join(parts)


class _DryRun(Exception):
    """Raised inside the merge transaction of a dry run so that it rolls back."""


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
) -> ImportResult:
    """Import one CSV file; see the module docstring. Raises BadFile when refused."""
    layout = layout or Layout()
    now = now or utc_now()
    shown = str(path)
    try:
        stream = path.open("rb")
        total_bytes = path.stat().st_size
    except FileNotFoundError:
        raise BadInput(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{shown}: is a directory, not a CSV file") from None
    except OSError as error:
        raise BadInput(f"{shown}: cannot read ({error.strerror})") from None

    conn = store.conn
    with store.errors(), stream:
        staging.prepare_staging(conn)
        try:
            reader = read_csv(
                stream,
                encoding=layout.csv.encoding,
                delimiter=layout.csv.delimiter,
                quotechar=layout.csv.quotechar,
            )
            rows = iter(reader)
            header = next(rows, None)
            if header is None:
                raise BadFile(f"{shown}: the file is empty (no header line)")
            if header.fields is None:
                raise BadFile(f"{shown}:{header.line}: {header.problem}")
            parser = RowParser(
                layout,
                header.fields,
                shown,
                validation_scales=validation_scales or {},
                now=now,
            )

            problems: list[RowProblem] = []
            problem_count = 0
            rows_read = 0
            good: list[tuple[object, ...]] = []
            bad: list[tuple[int, str, str]] = []

            def flush() -> None:
                conn.execute("BEGIN")
                staging.stage_records(conn, good)
                staging.stage_bad_rows(conn, bad)
                conn.execute("COMMIT")
                good.clear()
                bad.clear()
                if on_progress:
                    on_progress(ImportProgress(shown, rows_read, reader.bytes_read, total_bytes))
                if is_cancelled and is_cancelled():
                    raise ImportCancelled(f"{shown}: import cancelled; nothing was written")

            for row in rows:
                rows_read += 1
                reason = row.problem
                if reason is None:
                    assert row.fields is not None
                    try:
                        good.append((row.line, *parser.parse(row.fields)))
                    except RowError as error:
                        reason = str(error)
                if reason is not None:
                    problem_count += 1
                    if len(problems) < PROBLEMS_SHOWN:
                        problems.append(RowProblem(shown, row.line, reason))
                    bad.append((row.line, reason, row.text))
                if len(good) + len(bad) >= BATCH_ROWS:
                    flush()
            flush()

            if problem_count and not quarantine:
                noun = "row" if problem_count == 1 else "rows"
                raise BadFile(
                    f"{shown}: {problem_count} bad {noun}; nothing was imported "
                    "(fix the file, or import with --quarantine to keep the good rows)",
                    problems,
                )

            result = ImportResult(
                path=shown,
                file_sha256=reader.sha256,
                status="dry_run" if dry_run else "imported",
                rows_read=rows_read,
                problems=problems,
                problem_count=problem_count,
            )
            mapping_sha = layout.sha256
            earlier = staging.find_earlier_import(conn, reader.sha256, mapping_sha)
            if earlier is not None:
                result.status = "already_imported"
                result.earlier_import = earlier
                return result
            try:
                with store.write():
                    counts = staging.merge_staged(
                        conn,
                        path=shown,
                        file_sha256=reader.sha256,
                        mapping_path=layout.source,
                        mapping_sha256=mapping_sha,
                        imported_at=format_utc(now),
                        rows_read=rows_read,
                        keep_bad_rows=quarantine,
                    )
                    if dry_run:
                        raise _DryRun
            except _DryRun:
                pass
            result.inserted = counts.inserted
            result.updated = counts.updated
            result.unchanged = counts.unchanged
            result.duplicates = counts.duplicates
            result.quarantined = counts.quarantined
            if not dry_run:
                result.import_id = counts.import_id
            log.info(result.summary())
            return result
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            staging.drop_staging(conn)
