"""The shared store on a PostgreSQL server: the same SQL as the embedded SQLite file.

The store's queries are written once, in the SQL both databases read, with SQLite's `?`
placeholders. `to_postgres` rewrites the few spellings that differ (placeholders, `IS` for
nullable equality, `json_each`, `temp.`, `decimal_sum`), so every rule lives in one query
(docs/postgresql.md, "One set of queries"). Money is NUMERIC here, and read back as the
text PostgreSQL prints for it, which is the canonical text the SQLite store holds: the
places a value was stored with are kept, and a SUM carries the largest of them.

Writes take one advisory lock for their whole transaction, the way SQLite's `BEGIN
IMMEDIATE` takes its write lock: two people writing at once queue, never interleave
(docs/postgresql.md, "Several people at once").
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final

from reconcile_tui import redaction
from reconcile_tui.config import SERVER_SCHEMES
from reconcile_tui.errors import BadInput, DatabaseError

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "PostgresConnection",
    "connect",
    "display_url",
    "is_server_url",
    "postgres_failure",
    "to_postgres",
    "to_postgres_ddl",
]


#: The key of the advisory lock every write transaction holds ("RCNT", as the SQLite
#: file's application id).
WRITE_LOCK = 0x52434E54

#: Tables whose money columns are NUMERIC on the server (TEXT in SQLite), and the columns.
_MONEY_TABLES = frozenset(
    {
        "records",
        "record_sums",
        "snapshot_transactions",
        "snapshot_buckets",
        "staged",
        "staged_repeats",
    }
)
_MONEY_COLUMNS = frozenset(
    {"amount", "fee", "fee_amount", "net_amount", "balance", "deposits", "withdrawals",
     "usd_value"}
)  # fmt: skip


def is_server_url(location: object) -> bool:
    """Whether a `--db` value names a PostgreSQL server (else it is a SQLite file)."""
    return isinstance(location, str) and location.startswith(SERVER_SCHEMES)


def display_url(url: str) -> str:
    """The URL as shown in messages: its password registered with the one mask (so no
    other path prints it either) and masked here by it."""
    redaction.register_url_password(url)
    return redaction.mask(url)


# -- SQL --------------------------------------------------------------------------------

_LITERAL = re.compile(r"('(?:[^']|'')*')")
_IS_NOT = re.compile(r"\bIS NOT (?!NULL\b)")
_IS = re.compile(r"\bIS (?!NOT\b|NULL\b|DISTINCT\b|TRUE\b|FALSE\b)")
_JSON_EACH = re.compile(r"json_each\(([^()]*)\)\s+(?:AS\s+)?(\w+)")
_TEMP_INDEX = re.compile(r"\bINDEX temp\.")
_TEMP_TABLE = re.compile(r"\btemp\.")


@functools.lru_cache(maxsize=512)
def to_postgres(sql: str) -> str:
    """The store's SQL (SQLite's spelling) as PostgreSQL reads it."""
    pieces = _LITERAL.split(sql)
    for index in range(0, len(pieces), 2):  # outside string literals only
        code = pieces[index].replace("%", "%%").replace("?", "%s")
        code = _IS_NOT.sub("IS DISTINCT FROM ", code)
        code = _IS.sub("IS NOT DISTINCT FROM ", code)
        code = code.replace("decimal_sum(", "sum(")
        code = _JSON_EACH.sub(r"jsonb_array_elements_text((\1)::jsonb) AS \2(value)", code)
        code = _TEMP_INDEX.sub("INDEX ", code)
        code = _TEMP_TABLE.sub("pg_temp.", code)
        code = code.replace("BEGIN IMMEDIATE", "BEGIN")
        # SQLite's BINARY (byte order) is the server's "C": an expression made from no
        # text column (a number as text) would otherwise take the database's default,
        # which may sort as people do (docs/postgresql.md, "Text").
        code = code.replace(" COLLATE BINARY", ' COLLATE "C"')
        # SQLite's LIKE ignores the case of ASCII letters; ILIKE does so on the server.
        code = code.replace(" LIKE ", " ILIKE ")
        pieces[index] = code
    for index in range(1, len(pieces), 2):
        pieces[index] = pieces[index].replace("%", "%%")
    return "".join(pieces)


_CREATE = re.compile(r"^\s*CREATE (?:TEMP )?TABLE (\w+)")
_COLUMN_TEXT = re.compile(r"^(\s*)(\w+) TEXT\b", re.MULTILINE)
#: The statements that define text columns (a function's TEXT arguments take no collation).
_DEFINES_COLUMNS = re.compile(r"\s*(CREATE (TEMP )?TABLE|ALTER TABLE \w+ ADD COLUMN)\b")


def to_postgres_ddl(statement: str) -> str | None:
    """A migration statement as PostgreSQL reads it (None: nothing to do there).

    Row ids become identity columns, BLOB is BYTEA, counts are BIGINT, tables are not
    STRICT (PostgreSQL always is), and the money columns of the money tables are NUMERIC.
    """
    if statement.lstrip().startswith("PRAGMA"):
        return None
    created = _CREATE.match(statement)
    if created and created.group(1) in _MONEY_TABLES:

        def numeric(match: re.Match[str]) -> str:
            indent, name = match.group(1), match.group(2)
            return f"{indent}{name} {'NUMERIC' if name in _MONEY_COLUMNS else 'TEXT'}"

        statement = _COLUMN_TEXT.sub(numeric, statement)
        statement = re.sub(
            r"(?<=[(,] )(amount|fee) TEXT\b", r"\1 NUMERIC", statement
        )  # one-line column lists (the staging tables)
    statement = re.sub(r"\) STRICT$", ")", statement.rstrip())
    statement = re.sub(
        r"\bid INTEGER PRIMARY KEY",
        "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        statement,
    )
    statement = re.sub(r"\bINTEGER\b", "BIGINT", statement)
    statement = re.sub(r"\bBLOB\b", "BYTEA", statement)
    if _DEFINES_COLUMNS.match(statement):
        # Text compares and sorts byte by byte, as SQLite's BINARY does, whatever the
        # server's default collation: an en-US one would order `a-2` after `A_1` and
        # `ORD-10` elsewhere than a file does (docs/postgresql.md, "Text").
        statement = re.sub(r"\bTEXT\b(?! COLLATE)", 'TEXT COLLATE "C"', statement)
    return to_postgres(statement)


# -- errors -----------------------------------------------------------------------------


def no_schema(where: str, detail: str) -> DatabaseError:
    """No schema on the search path to keep the store in: none named, or none this role
    may use (the search path may come from the URL's options or from the role)."""
    return DatabaseError(
        f"database {where}: no schema to keep the store in ({detail}): create the schema"
        " the search_path names (the URL's options or the role's setting) first, or grant"
        " this role USAGE and CREATE on it"
    )


def postgres_failure(error: Exception, where: str, *, connecting: bool = False) -> DatabaseError:
    """Translate a psycopg error into the one line a user needs (exit 4): `connecting`
    when it came from opening the connection, else from a statement."""
    import psycopg
    from psycopg import errors

    # The server's own sentence, without the statement it quotes on further lines.
    primary = error.diag.message_primary if isinstance(error, psycopg.Error) else None
    text = redaction.mask(" ".join(str(primary or error).split()))
    if isinstance(error, errors.InvalidPassword) or "password authentication failed" in text:
        return DatabaseError(f"database {where}: the server refused the user or password")
    if "no password supplied" in text:
        return DatabaseError(
            f"database {where}: the server asks for a password and none was given (set"
            " PGPASSWORD, add it to ~/.pgpass, or put it in the URL)"
        )
    if isinstance(error, errors.InvalidCatalogName):
        return DatabaseError(f"database {where} does not exist on the server: create it first")
    if isinstance(error, errors.InvalidSchemaName):
        return no_schema(where, _first(text))
    if isinstance(error, errors.InsufficientPrivilege):
        # What the owner grants for each, as the README's "Shared store" says.
        if " for schema " in text:
            return DatabaseError(
                f"database {where}: this role may not create the store's tables ({text}):"
                " the database's owner runs reconcile-tui once first, or grants CREATE on"
                " the schema to this role"
            )
        if " for table " in text or " for sequence " in text:
            return DatabaseError(
                f"database {where}: this role may not use the store's tables ({text}):"
                " their owner grants SELECT, INSERT, UPDATE, DELETE on the tables and"
                " USAGE, SELECT on the sequences to this role"
            )
        if " for function " in text:
            # Where default privileges revoke EXECUTE from PUBLIC (a common hardening).
            return DatabaseError(
                f"database {where}: this role may not use the store's functions ({text}):"
                " their owner grants EXECUTE on all functions in the schema to this role"
            )
        return DatabaseError(f"database {where}: permission denied ({text})")
    if isinstance(error, errors.LockNotAvailable):
        return DatabaseError(f"database {where} is locked by another writer; try again shortly")
    if isinstance(error, errors.QueryCanceled):
        # The server's statement_timeout, or an administrator cancelling the statement.
        return DatabaseError(
            f"database {where}: the server cancelled the statement ({_first(text)});"
            " nothing was written"
        )
    if isinstance(error, errors.SerializationFailure | errors.DeadlockDetected):
        return DatabaseError(
            f"database {where}: another writer changed the same rows at once; nothing was"
            " written, try again"
        )
    if isinstance(error, errors.DiskFull):
        return DatabaseError(f"database {where}: the server's disk is full; nothing was written")
    if isinstance(error, errors.ReadOnlySqlTransaction):
        return DatabaseError(f"database {where} is read-only; nothing was written")
    if connecting and (refused := _UNSUPPORTED.search(text)):
        # A pooler (PgBouncer) takes no `options` at startup; the store sets its own
        # once connected, so only the URL's can be refused (docs/postgresql.md, "Poolers").
        return DatabaseError(
            f"database {where}: the server or a pooler in front of it refuses the URL's"
            f" {refused[1]}: a pooler such as PgBouncer takes none; set them on the role"
            " instead (ALTER ROLE ... SET search_path = ...)"
        )
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        if connecting:
            return DatabaseError(f"database {where}: cannot connect to the server ({_first(text)})")
        state = getattr(error, "sqlstate", None)
        if state is not None and not state.startswith(_CONNECTION_GONE):
            # An operational error the server answered (a limit, its resources): the
            # session lives on and the transaction was rolled back.
            return DatabaseError(
                f"database {where}: the server refused the statement ({_first(text)});"
                " nothing was written"
            )
        return DatabaseError(
            f"database {where}: the connection to the server was lost; nothing half-written"
            " was kept"
        )
    return DatabaseError(f"database {where}: {_first(text)}")


_UNSUPPORTED = re.compile(r"unsupported startup parameter: (\w+)")

#: SQLSTATEs of a session that ended: a connection exception (class 08), or the server
#: shutting down or restarting (57P01-57P03).
_CONNECTION_GONE = ("08", "57P01", "57P02", "57P03")


def commit_failure(conn: PostgresConnection, error: Exception, where: str) -> DatabaseError:
    """The line for a COMMIT that failed. A connection lost then leaves the outcome
    unknown: the server may have made the commit durable before its answer was lost, and
    only a look at the store can tell (docs/postgresql.md, "Faults")."""
    if conn.lost:
        return DatabaseError(
            f"database {where}: the connection to the server was lost while committing;"
            " the change may or may not have been kept: look before doing it again (an"
            " import run again says whether it was)"
        )
    return postgres_failure(error, where)


def _first(text: str) -> str:
    return text.split("\n", 1)[0][:300]


# -- the connection ---------------------------------------------------------------------


class _Row(tuple[Any, ...]):
    """A result row read by position or by column name, like `sqlite3.Row`."""

    __slots__ = ()
    _names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _named_rows(cursor: Any) -> Any:
    names = {column.name: index for index, column in enumerate(cursor.description or ())}
    row_type = type("Row", (_Row,), {"_names": names, "__slots__": ()})

    def make(values: Sequence[Any]) -> _Row:
        row: _Row = row_type(values)
        return row

    return make


class _Cursor:
    """What the store reads back from a statement: rows, the new id, the row count."""

    def __init__(self, cursor: psycopg.Cursor[Any], lastrowid: int | None = None) -> None:
        self._cursor = cursor
        self.lastrowid = lastrowid

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def fetchone(self) -> Any:
        return self._cursor.fetchone() if self._cursor.description else None

    @property
    def description(self) -> list[tuple[str]]:
        return [(column.name,) for column in self._cursor.description or ()]

    def fetchmany(self, size: int) -> list[Any]:
        return self._cursor.fetchmany(size) if self._cursor.description else []

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall() if self._cursor.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor) if self._cursor.description else iter(())


_INSERT_WITH_ID = re.compile(
    r"^\s*INSERT INTO (imports|snapshots|acknowledgements|runs|closes) \(.*\)\s*VALUES",
    re.DOTALL,
)


class PostgresConnection:
    """A psycopg connection speaking the store's SQL, with the sqlite3 calls it uses."""

    dialect = "postgresql"

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> _Cursor:
        if sql.lstrip().startswith("CREATE"):
            statement = to_postgres_ddl(sql) or ""
        else:
            statement = to_postgres(sql)
        returning = _INSERT_WITH_ID.match(sql) is not None and "RETURNING" not in sql
        if returning:
            statement += " RETURNING id"
        cursor = self.raw.execute(statement, parameters or None, prepare=False)
        if returning:
            row = cursor.fetchone()
            return _Cursor(cursor, int(row[0]) if row else None)
        return _Cursor(cursor)

    def execute_named(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Any:
        """Rows readable by column name (`store.query`)."""
        cursor = self.raw.cursor(row_factory=_named_rows)
        cursor.execute(to_postgres(sql), parameters or None)
        return cursor

    def stream(self, sql: str, size: int) -> Iterator[tuple[Any, ...]]:
        """A query's rows as the server sends them, `size` at a time, never all at once."""
        yield from self.raw.cursor().stream(to_postgres(sql), size=size)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> _Cursor:
        cursor = self.raw.cursor()
        cursor.executemany(to_postgres(sql), rows)
        return _Cursor(cursor)

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Rows into a table through COPY, the server's bulk load (an import's staging)."""
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self.raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    @contextlib.contextmanager
    def copy_csv(self, table: str, columns: Sequence[str]) -> Iterator[Callable[[str], None]]:
        """CSV text into a table through one COPY, parsed by the server: the block yields
        a function that sends each piece of text. A thread of the driver's sends it, so
        the server parses one piece while the caller makes the next (an import validates
        its file's next block meanwhile: docs/postgresql.md, "Speed")."""
        from psycopg.copy import QueuedLibpqWriter

        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)"
        cursor = self.raw.cursor()
        with cursor, cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:

            def send(text: str) -> None:
                copy.write(text.encode("utf-8"))

            yield send

    @property
    def lost(self) -> bool:
        """Whether the connection to the server broke (not a statement the server refused:
        a refusal leaves it open)."""
        return bool(self.raw.broken or self.raw.closed)

    def close(self) -> None:
        self.raw.close()


#: Who holds the write lock now: its holder's server process, if any.
_WRITE_LOCK_HOLDER = """SELECT pid FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND classid = 0 AND objsubid = 1
      AND objid::bigint = ? AND database = (
          SELECT oid FROM pg_database WHERE datname = current_database())"""


def take_write_lock(conn: PostgresConnection) -> None:
    """Take the store's write lock in the transaction just begun, waiting in the queue of
    writers for as long as it moves: a wait gives up (LockNotAvailable, the transaction
    rolled back) only when one writer held the lock for the whole lock timeout. Five
    people importing at once each wait for the merges before theirs, however long the
    queue, where a wait bounded in total failed all but the first few; a writer stuck
    holding it is still given up on (docs/postgresql.md, "Several people at once")."""
    from psycopg import errors

    while True:
        before = conn.execute(_WRITE_LOCK_HOLDER, (WRITE_LOCK,)).fetchone()
        try:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
            return
        except errors.LockNotAvailable:
            conn.execute("ROLLBACK")
            after = conn.execute(_WRITE_LOCK_HOLDER, (WRITE_LOCK,)).fetchone()
            if before is not None and after == before:
                raise
            conn.execute("BEGIN")


#: What libpq and psycopg say of a setting whose value they refuse, before connecting.
_REFUSED_SETTING = re.compile(
    r"invalid integer value \S+ for connection option \"?\w+\"?"
    r"|invalid \w+ value: \S+|invalid port number: \S+|bad value for \w+: \S+"
)


def read_url(url: str) -> dict[str, Any]:
    """The URL's connection settings, or `BadInput` (exit 2) for a URL that no server
    could answer: a typo in `--db` is bad usage, not an unusable database
    (docs/postgresql.md, "Faults")."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    where = display_url(url)
    try:
        given = conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        raise BadInput(f"database URL {where} is not usable ({_first(str(error))})") from None
    # A list of ports goes with a list of hosts; each must be a TCP port.
    for port in str(given.get("port") or "").split(","):
        if port and not (port.isdigit() and 1 <= int(port) <= 65535):
            raise BadInput(f"database URL {where}: port {port!r} is not a number from 1 to 65535")
    return given


def connect(url: str, *, timeout: float) -> PostgresConnection:
    """Connect in autocommit mode (the store opens every transaction itself), with waits
    for locks bounded by `timeout`, and NUMERIC read back as its exact text."""
    import psycopg
    from psycopg.types.string import TextLoader

    # The driver logs a second line of its own for a connection it loses mid-COPY; the
    # user gets the store's one line (docs/postgresql.md, "Faults").
    logging.getLogger("psycopg").setLevel(logging.ERROR)

    # What the URL says is kept (a `?options=-csearch_path%3Dbooks`, a `connect_timeout`);
    # the session's settings are set once connected, not sent as startup options, which
    # a connection pooler such as PgBouncer refuses (docs/postgresql.md, "Poolers").
    given = read_url(url)
    extra: dict[str, Any] = {}
    if "connect_timeout" not in given:
        extra["connect_timeout"] = max(1, int(timeout))
    if "application_name" not in given:
        extra["application_name"] = "reconcile-tui"
    # Text goes both ways as UTF-8 whatever the URL, PGCLIENTENCODING or the database
    # say: the store's COPY sends UTF-8, and the server converts or refuses, never guesses.
    extra["client_encoding"] = "UTF8"
    try:
        conn = psycopg.connect(url, autocommit=True, **extra)
    except psycopg.Error as error:
        # A value of the URL's that the driver itself refuses, before any server is asked
        # (`?sslmode=bogus`, `?connect_timeout=abc`): bad usage, like a malformed URL.
        if refused := _REFUSED_SETTING.search(" ".join(str(error).split())):
            where = display_url(url)
            said = redaction.mask(refused[0])
            raise BadInput(f"database URL {where} is not usable ({said})") from None
        raise
    conn.adapters.register_loader("numeric", TextLoader)
    # Lock waits bounded like SQLite's busy timeout, UTC, and READ COMMITTED whatever the
    # server's default: a write reads what the writer before it committed once it holds
    # the write lock (docs/postgresql.md, "Several people at once"); the reads that must
    # share one state ask for REPEATABLE READ themselves. A backslash in a literal is
    # itself (`ESCAPE '\'`), as SQLite reads it, whatever a role's old default says.
    # One round trip, no parameters.
    try:
        conn.execute(
            f"SET lock_timeout = {int(timeout * 1000)}; SET TimeZone = 'UTC';"
            " SET default_transaction_isolation = 'read committed';"
            " SET standard_conforming_strings = on",
            prepare=False,
        )
    except BaseException:
        conn.close()
        raise
    return PostgresConnection(conn)


#: The oldest server the store is built and tested for (docs/postgresql.md).
OLDEST_SERVER: Final = 140000


def version_problem(conn: PostgresConnection, where: str) -> DatabaseError | None:
    """Why the server is too old for the store, or None: it must be PostgreSQL 14 or
    newer; an older one is refused before anything is written, rather than failing on
    the first statement it does not know."""
    number = conn.raw.info.server_version
    if number >= OLDEST_SERVER:
        return None
    # 14.2 is 140002; before 10, 9.6.24 was 90624.
    release = (
        f"{number // 10000}.{number % 10000}"
        if number >= 100000
        else f"{number // 10000}.{number // 100 % 100}"
    )
    return DatabaseError(
        f"database {where} is on PostgreSQL {release}; the store needs PostgreSQL 14 or newer"
    )


def encoding_problem(conn: PostgresConnection, where: str) -> DatabaseError | None:
    """Why a database cannot keep the store's text, or None: it must be UTF8. A LATIN1
    database cannot hold every name a file may bring (an import would fail on its first
    euro sign), and SQL_ASCII checks nothing it is given (docs/postgresql.md)."""
    encoding = conn.raw.info.parameter_status("server_encoding")
    if encoding is None or encoding.upper() in ("UTF8", "UTF-8"):
        return None
    return DatabaseError(
        f"database {where} keeps its text as {encoding}; the store needs a UTF8 database:"
        " create one with CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0"
    )
