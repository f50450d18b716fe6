"""Opening the reconcile database safely, and the one way to write to it.

A file path is a SQLite file; a `postgresql://` URL a shared server (store/postgres.py).

Every write runs in `Store.write()`: a `BEGIN IMMEDIATE` transaction that takes the write
lock up front (so two processes queue on `busy_timeout` instead of failing mid-way) and
either commits whole or rolls back whole. The connection runs in autocommit mode
(`isolation_level=None`) so that nothing opens or commits a transaction behind our back.
SQLite failures a user can meet (locked, read-only, full disk, corrupt file, newer schema)
become `DatabaseError` with one line that names the file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, cast

from reconcile_tui import files, money
from reconcile_tui.errors import BadInput, DatabaseError, NotFound
from reconcile_tui.store import postgres, schema

__all__ = [
    "DEFAULT_BUSY_TIMEOUT",
    "LIKE_LITERAL",
    "Connection",
    "NoDatabase",
    "Store",
    "literal_pattern",
    "load_rows",
    "sqlite_failure",
]

log = logging.getLogger(__name__)

#: Seconds a writer waits for another process's write lock before giving up (exit 4).
DEFAULT_BUSY_TIMEOUT = 10.0

#: Marks the file as ours in its header (`PRAGMA application_id`): "RCNT".
APPLICATION_ID = 0x52434E54


#: How every LIKE built from a user's text is written: `column LIKE_LITERAL` with the
#: parameter `literal_pattern(text, ...)`, so `%` and `_` the user types are just characters.
LIKE_LITERAL = "LIKE ? ESCAPE '\\'"


def literal_pattern(text: str, *, prefix: bool = False) -> str:
    """A LIKE pattern matching `text` literally: anywhere in the value, or at its start.

    LIKE reads `%` and `_` as wildcards; a search for `50%` or an `ack %` must not match
    everything (docs/reliability.md, acknowledgements)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if prefix else f"%{escaped}%"


#: Set by `note_interrupts`' handler when Ctrl-C arrives. Inside one of the store's Python
#: functions (the exact SUM runs in Python), SQLite turns the interrupt into its
#: statement's error ("user-defined aggregate's 'step' method raised error"), which would
#: read as a damaged store.
_INTERRUPTED = threading.Event()


def _interrupted(signum: int, frame: FrameType | None) -> None:
    _INTERRUPTED.set()
    signal.default_int_handler(signum, frame)


def note_interrupts() -> None:
    """Let Ctrl-C be told from a failed statement (the command line calls it once): the
    interrupt is raised as ever, and remembered. No cost a row, as a wrapped SUM had."""
    signal.signal(signal.SIGINT, _interrupted)


def sqlite_failure(error: sqlite3.Error, path: Path | str) -> DatabaseError:
    """Translate a SQLite error into the one line a user needs. An interrupt that SQLite
    made into the statement's error is raised again as the interrupt it was."""
    if _INTERRUPTED.is_set():
        _INTERRUPTED.clear()
        raise KeyboardInterrupt
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return DatabaseError(f"database {path} is locked by another process; try again shortly")
    if (
        name.startswith("SQLITE_FULL")
        or "disk is full" in text
        or "database or disk is full" in text
    ):
        return DatabaseError(f"database {path}: the disk is full; nothing was written")
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        return DatabaseError(f"database {path} is read-only; nothing was written")
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "not a database" in text:
        return DatabaseError(f"database {path} is damaged or not a database ({text})")
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return DatabaseError(f"database {path} cannot be opened (check the folder exists)")
    if name.startswith("SQLITE_IOERR"):
        return DatabaseError(f"database {path}: input/output error ({text})")
    return DatabaseError(f"database {path}: {text}")


#: A store's connection: a sqlite3 connection, or a server's speaking the same SQL.
Connection = sqlite3.Connection | postgres.PostgresConnection


def stored_json(text: str | bytes, what: str) -> Any:
    """A JSON value the store wrote (a run's header, a sign-off's figures), read back;
    DatabaseError (exit 4) naming it when the text is not JSON: a database damaged or
    edited by hand, not a bug of the command that reads it."""
    try:
        return json.loads(text)
    except (ValueError, TypeError) as error:
        raise DatabaseError(
            f"the database holds a damaged {what} ({error}); run `reconcile-tui check` again,"
            " or restore the database from a backup"
        ) from None


def load_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Many rows into one table: COPY on a server, one prepared INSERT on a file."""
    if isinstance(conn, postgres.PostgresConnection):
        conn.copy_rows(table, columns, rows)
        return
    placeholders = ", ".join("?" * len(columns))
    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows)


class NoDatabase(NotFound):
    """The database file does not exist, and the command must not create it (exit 2)."""


def _would_make(file: Path) -> list[Path]:
    """The file, then each missing folder above it, innermost first; empty when the
    file exists already."""
    if file.exists() or file.is_symlink():
        return []
    made = [file]
    folder = file.parent
    while not folder.exists() and folder != folder.parent:
        made.append(folder)
        folder = folder.parent
    return made


class Store:
    """One reconcile database: a SQLite file, or a PostgreSQL server (docs/postgresql.md),
    migrated on open and written only in transactions."""

    def __init__(
        self,
        path: Path | str,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        migrate: bool = True,
        create: bool = True,
    ) -> None:
        self.busy_timeout = busy_timeout
        self.conn: Any
        self.made: list[Path] = []
        if postgres.is_server_url(path):
            self._open_server(str(path), migrate=migrate, create=create)
            return
        self.dialect = "sqlite"
        self.path: Path | str = Path(path) if str(path) != ":memory:" else Path(":memory:")
        self.file = Path(self.path)
        in_memory = str(path) == ":memory:"
        # What this open makes (the file, and folders that did not exist), so that a
        # command refused before it stored anything can leave none of it behind.
        self.made = [] if in_memory else _would_make(self.file)
        if not in_memory and self.file.is_dir():
            raise BadInput(f"database {self.path} is a directory: give the database file's path")
        if not in_memory and not create and not self.file.exists():
            # Commands that only work on an earlier check's findings must not leave an
            # empty database behind (README, "Everyday use"; docs/reliability.md).
            raise NoDatabase(f"database {self.path} does not exist")
        try:
            if not in_memory:
                self.file.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(
                str(path),
                timeout=busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        except (sqlite3.Error, OSError) as error:
            if isinstance(error, sqlite3.Error):
                raise sqlite_failure(error, self.path) from None
            raise DatabaseError(f"database {self.path} cannot be created ({error})") from None
        if not in_memory:
            files.keep(self.file, "the database this command uses")
        try:
            self._configure()
            self._check_identity()
            if migrate:
                schema.migrate(self.conn, str(self.path))
        except sqlite3.Error as error:
            self.conn.close()
            raise sqlite_failure(error, self.path) from None
        except DatabaseError:
            self.conn.close()
            raise

    def _open_server(self, url: str, *, migrate: bool, create: bool) -> None:
        # The password is masked in every message from here on (docs/postgresql.md).
        self.dialect = "postgresql"
        self.path = postgres.display_url(url)
        try:
            self.conn = postgres.connect(url, timeout=self.busy_timeout)
        except Exception as error:
            if not _is_driver_error(error):
                raise
            raise postgres.postgres_failure(error, self.path, connecting=True) from None
        try:
            for problem in (postgres.version_problem, postgres.encoding_problem):
                if refused := problem(self.conn, self.path):
                    raise refused
            if not create:
                with self.errors():
                    found = self.conn.execute("SELECT current_schema()").fetchone()[0]
                    empty = found is not None and schema.server_version(self) == 0
                if found is None:
                    raise postgres.no_schema(
                        self.path, "no schema on the search_path that this role may use"
                    )
                if empty:
                    # As for a file that does not exist: the commands that only read an
                    # earlier check's findings create no store (README, "Everyday use").
                    raise NoDatabase(f"database {self.path} holds no reconcile-tui store yet")
            if migrate:
                with self.errors():
                    schema.migrate_server(self)
        except BaseException:
            self.conn.close()
            raise

    @property
    def server(self) -> bool:
        """Whether this store is a PostgreSQL server (else a SQLite file)."""
        return self.dialect == "postgresql"

    def _configure(self) -> None:
        conn = self.conn
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        # WAL lets the TUI read while a headless `check` writes; FULL sync keeps a commit
        # on disk even through a power cut, which money deserves.
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal" and str(self.path) != ":memory:":
            log.warning("database %s stays in %s journal mode", self.path, mode)
        conn.execute("PRAGMA synchronous = FULL")
        # typeshed wants step(*args: Any); DecimalSum.step is typed for the one TEXT argument.
        conn.create_aggregate("decimal_sum", 1, cast(Any, money.DecimalSum))
        conn.create_function("same_amount", 2, money.same_amount, deterministic=True)

    def _check_identity(self) -> None:
        application_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
        if application_id not in (0, APPLICATION_ID):
            raise DatabaseError(f"database {self.path} belongs to another application")
        if application_id == 0:
            tables = self.conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
            if tables:
                raise DatabaseError(f"database {self.path} is not a reconcile-tui database")

    def failure(self, error: Exception) -> DatabaseError:
        """The one line for a database error raised by this store's driver."""
        if self.server:
            return postgres.postgres_failure(error, str(self.path))
        assert isinstance(error, sqlite3.Error)
        return sqlite_failure(error, self.path)

    def begin(self) -> None:
        """Open a write transaction holding the store's one write lock: SQLite's
        `BEGIN IMMEDIATE`; on a server, the same queue as an advisory lock."""
        self.conn.execute("BEGIN IMMEDIATE")
        if self.server:
            postgres.take_write_lock(self.conn)

    @contextlib.contextmanager
    def write(self) -> Iterator[Any]:
        """A write transaction: `begin()`, then COMMIT, or ROLLBACK on any error."""
        try:
            self.begin()
        except Exception as error:
            if not _is_driver_error(error):
                raise
            self._rollback()
            raise self.failure(error) from None
        try:
            yield self.conn
        except Exception as error:
            self._rollback()
            if _is_driver_error(error):
                raise self.failure(error) from None
            raise
        except BaseException:
            self._rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except Exception as error:
            if not _is_driver_error(error):
                raise
            self._rollback()
            if self.server:
                raise postgres.commit_failure(self.conn, error, str(self.path)) from None
            raise self.failure(error) from None

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Several reads from one state of the store: what another person writes meanwhile
        (an import, a check's run) is seen by none of them, so a check never adds one
        state's sums to another's history (docs/postgresql.md, "Several people at once").
        SQLite reads one snapshot of its write-ahead log; a server, one REPEATABLE READ
        snapshot. Inside a transaction already, that one's view is the view."""
        if self.conn.in_transaction:
            yield
            return
        with self.errors():
            self.conn.execute(
                "BEGIN ISOLATION LEVEL REPEATABLE READ" if self.server else "BEGIN DEFERRED"
            )
        try:
            yield
        finally:
            # Only reads (and TEMP tables, which a reader may make) happened: nothing to keep.
            self._rollback()

    def _rollback(self) -> None:
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        except Exception as error:  # a lost connection has nothing left to roll back
            if not _is_driver_error(error):
                raise

    def rollback(self) -> None:
        """Undo an open transaction, if any (a failed or cancelled import)."""
        self._rollback()

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """Turn any database error raised inside the block into a DatabaseError."""
        try:
            yield
        except Exception as error:
            if not _is_driver_error(error):
                raise
            if self.server:
                self._rollback()
            raise self.failure(error) from None

    def query(self, sql: str, parameters: tuple[Any, ...] | dict[str, Any] = ()) -> list[Any]:
        """All rows of a read query (readable by position or by column name)."""
        with self.errors():
            if self.server:
                rows: list[Any] = self.conn.execute_named(sql, parameters).fetchall()
                return rows
            cursor = self.conn.execute(sql, parameters)
            cursor.row_factory = sqlite3.Row
            found: list[Any] = cursor.fetchall()
            return found

    def query_one(self, sql: str, parameters: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        """The first row of a read query, or None."""
        with self.errors():
            if self.server:
                return self.conn.execute_named(sql, parameters).fetchone()
            cursor = self.conn.execute(sql, parameters)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchone()

    def secondary_indexes(self, table: str) -> list[tuple[str, str]]:
        """(name, CREATE statement) of a table's indexes other than its keys."""
        if self.server:
            rows = self.conn.execute(
                """SELECT i.indexname, i.indexdef FROM pg_indexes i
                   WHERE i.schemaname = current_schema() AND i.tablename = ?
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                                     WHERE c.conname = i.indexname)
                   ORDER BY i.indexname""",
                (table,),
            ).fetchall()
        else:
            rows = self.conn.execute(
                """SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?
                   AND sql IS NOT NULL ORDER BY name""",
                (table,),
            ).fetchall()
        return [(str(name), str(statement)) for name, statement in rows]

    def vacuum(self, table: str) -> None:
        """On a server, bring a table's statistics and visibility map up to date now,
        rather than when autovacuum gets to it. Nothing on a file (SQLite plans without
        statistics here), nor inside a transaction (VACUUM cannot run there). What was
        written stands either way, so a failure is only logged: autovacuum will do it."""
        if not self.server or self.conn.in_transaction:
            return
        try:
            with self.errors():
                self.conn.execute(f"VACUUM (ANALYZE) {table}")
        except DatabaseError as error:
            log.info("VACUUM %s left to autovacuum: %s", table, error)

    def owns(self, table: str) -> bool:
        """Whether this connection may drop and rebuild the table's indexes and keys: a
        file's always; on a server, a role with the privileges of the table's owner (the
        role that made the store). Another person's role, granted the rows only, may not."""
        if not self.server:
            return True
        row = self.conn.execute(
            "SELECT pg_has_role(relowner, 'USAGE') FROM pg_class WHERE oid = to_regclass(?)",
            (table,),
        ).fetchone()
        return bool(row and row[0])

    def table_keys(self, table: str) -> list[tuple[str, str]]:
        """(name, definition) of a table's keys on a server, in the order to add them back:
        its primary and unique keys (each an index grown row by row; one sorted build
        afterwards checks every row at once), unless another table's foreign key rests
        on one, then its foreign keys (each inserted row fires a check of its own; added
        back, one join checks them all). Empty in a file, whose constraints cannot be
        dropped."""
        if not self.server:
            return []
        rows = self.conn.execute(
            """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint c
               WHERE conrelid = to_regclass(?)
                 AND (contype = 'f' OR contype IN ('p', 'u') AND NOT EXISTS (
                        SELECT 1 FROM pg_constraint other
                        WHERE other.contype = 'f' AND other.conindid = c.conindid))
               ORDER BY contype = 'f', conname""",
            (table,),
        ).fetchall()
        return [(str(name), str(definition)) for name, definition in rows]

    def first_filled_table(self) -> str | None:
        """The first table holding a row, or None for an empty store."""
        for table in schema.current_tables():
            if self.query_one(f"SELECT 1 FROM {table} LIMIT 1") is not None:
                return table
        return None

    def integrity_problems(self) -> list[str]:
        """What `integrity_check` and `foreign_key_check` report; empty when healthy (a
        server keeps its own integrity)."""
        if self.server:
            return []
        problems = [row[0] for row in self.conn.execute("PRAGMA integrity_check")]
        problems = [p for p in problems if p != "ok"]
        problems += [
            f"foreign key: {tuple(row)}" for row in self.conn.execute("PRAGMA foreign_key_check")
        ]
        return problems

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()

    def close_unused(self) -> None:
        """Close; and when this open created the file and nothing was stored in it, remove
        it with the folders it made: a refused command leaves no new database behind
        (docs/reliability.md). A server's database is never removed."""
        unused = False
        if self.made:
            with contextlib.suppress(Exception):  # unsure whether it is empty: keep it
                unused = self.first_filled_table() is None
        self.close()
        if not unused:
            return
        for made in self.made:
            if made.is_dir():
                with contextlib.suppress(OSError):
                    made.rmdir()  # only while empty: never a folder that holds anything
                continue
            for sidecar in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(FileNotFoundError):
                    made.with_name(made.name + sidecar).unlink()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_driver_error(error: BaseException) -> bool:
    """Whether an error comes from a database driver (sqlite3 or psycopg), not our code."""
    if isinstance(error, sqlite3.Error):
        return True
    module = type(error).__module__
    return module.startswith("psycopg")
