"""The database schema, as a recorded list of migrations.

A file's schema version has one record: `PRAGMA user_version`, the number of migrations
applied, set in the same transaction as the migrations themselves. Every release reads it
on open: a file above the newest migration here was written by a newer reconcile-tui and
is refused (exit 4) rather than misread (docs/postgresql.md, "The schema version").

Money columns are canonical decimal TEXT in STRICT tables; times are UTC ISO 8601 TEXT
with `Z`. Never add a REAL column for an amount, and never SUM() one: use `decimal_sum`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from reconcile_tui.errors import DatabaseError
from reconcile_tui.store.record_sums import sum_every_day

if TYPE_CHECKING:
    from reconcile_tui.store.db import Store

__all__ = ["SCHEMA_VERSION", "current_tables", "migrate", "migrate_server", "server_version"]

_MIGRATION_SET = "reconcile_tui"

_V1: Final = [
    """CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT""",
    """CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        file_sha256 TEXT NOT NULL,
        mapping_path TEXT,
        mapping_sha256 TEXT,
        imported_at TEXT NOT NULL,
        rows_read INTEGER NOT NULL,
        inserted INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        unchanged INTEGER NOT NULL,
        duplicates INTEGER NOT NULL,
        quarantined INTEGER NOT NULL
    ) STRICT""",
    "CREATE INDEX imports_by_file ON imports(file_sha256)",
    """CREATE TABLE records (
        id INTEGER PRIMARY KEY,
        reference TEXT NOT NULL UNIQUE,
        occurred_at TEXT NOT NULL,
        currency TEXT NOT NULL,
        wallet_id TEXT,
        wallet_name TEXT,
        type TEXT NOT NULL CHECK (type IN ('deposit', 'withdrawal', 'opening')),
        amount TEXT NOT NULL,
        fee TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('confirmed', 'pending', 'failed')),
        tx_hash TEXT,
        import_id INTEGER NOT NULL REFERENCES imports(id),
        line INTEGER NOT NULL,
        CHECK (wallet_id IS NOT NULL OR wallet_name IS NOT NULL)
    ) STRICT""",
    "CREATE INDEX records_by_time ON records(currency, occurred_at)",
    # A wallet's records in time order: its drill-down pages and counts never touch the table.
    "CREATE INDEX records_by_wallet ON records(currency, wallet_id, wallet_name, occurred_at)",
    """CREATE INDEX records_pending ON records(currency, wallet_id, occurred_at)
        WHERE status = 'pending'""",
    """CREATE TABLE record_changes (
        id INTEGER PRIMARY KEY,
        reference TEXT NOT NULL,
        import_id INTEGER NOT NULL REFERENCES imports(id),
        field TEXT NOT NULL,
        old_value TEXT,
        new_value TEXT
    ) STRICT""",
    "CREATE INDEX record_changes_by_reference ON record_changes(reference)",
    """CREATE TABLE duplicates (
        id INTEGER PRIMARY KEY,
        import_id INTEGER NOT NULL REFERENCES imports(id),
        reference TEXT NOT NULL,
        first_line INTEGER NOT NULL,
        line INTEGER NOT NULL,
        differences TEXT NOT NULL
    ) STRICT""",
    "CREATE INDEX duplicates_by_reference ON duplicates(reference)",
    """CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY,
        import_id INTEGER NOT NULL REFERENCES imports(id),
        line INTEGER NOT NULL,
        reason TEXT NOT NULL,
        raw TEXT NOT NULL
    ) STRICT""",
    """CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY,
        fetched_at TEXT NOT NULL,
        as_of TEXT NOT NULL,
        base_url TEXT NOT NULL,
        period TEXT NOT NULL,
        interval TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('api', 'saved')),
        currencies TEXT,
        balances_raw BLOB NOT NULL
    ) STRICT""",
    """CREATE TABLE snapshot_histories (
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
        currency TEXT NOT NULL,
        raw BLOB NOT NULL,
        PRIMARY KEY (snapshot_id, currency)
    ) STRICT""",
    """CREATE TABLE snapshot_balances (
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
        currency TEXT NOT NULL,
        total_balance TEXT NOT NULL,
        available_balance TEXT NOT NULL,
        pending_balance TEXT NOT NULL,
        total_deposited TEXT NOT NULL,
        total_withdrawn TEXT NOT NULL,
        total_fees_paid TEXT NOT NULL,
        usd_value TEXT NOT NULL,
        last_transaction TEXT
    ) STRICT""",
    "CREATE INDEX snapshot_balances_by_snapshot ON snapshot_balances(snapshot_id, currency)",
    """CREATE TABLE snapshot_wallets (
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
        currency TEXT NOT NULL,
        wallet_id TEXT NOT NULL,
        wallet_name TEXT NOT NULL,
        balance TEXT NOT NULL,
        pending TEXT NOT NULL
    ) STRICT""",
    "CREATE INDEX snapshot_wallets_by_snapshot ON snapshot_wallets(snapshot_id, currency)",
    """CREATE TABLE snapshot_buckets (
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
        currency TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        balance TEXT NOT NULL,
        deposits TEXT NOT NULL,
        withdrawals TEXT NOT NULL,
        deposit_count INTEGER NOT NULL,
        withdrawal_count INTEGER NOT NULL,
        usd_value TEXT NOT NULL
    ) STRICT""",
    "CREATE INDEX snapshot_buckets_by_snapshot ON snapshot_buckets(snapshot_id, currency)",
    """CREATE TABLE acknowledgements (
        id INTEGER PRIMARY KEY,
        discrepancy_id TEXT NOT NULL,
        acknowledged_by TEXT NOT NULL,
        acknowledged_at TEXT NOT NULL,
        note TEXT NOT NULL,
        difference TEXT,
        kind TEXT NOT NULL,
        currency TEXT,
        message TEXT NOT NULL
    ) STRICT""",
    "CREATE INDEX acknowledgements_by_discrepancy ON acknowledgements(discrepancy_id, id)",
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        generated_at TEXT NOT NULL,
        snapshot_id INTEGER REFERENCES snapshots(id),
        status TEXT NOT NULL CHECK (status IN ('clean', 'discrepancies')),
        errors INTEGER NOT NULL,
        warnings INTEGER NOT NULL,
        acknowledged INTEGER NOT NULL,
        header_json TEXT NOT NULL,
        overview_json TEXT NOT NULL
    ) STRICT""",
    """CREATE TABLE run_discrepancies (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        id TEXT NOT NULL,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('error', 'warning')),
        currency TEXT,
        wallet_id TEXT,
        bucket TEXT,
        field TEXT,
        api_value TEXT,
        merchant_value TEXT,
        difference TEXT,
        usd_difference TEXT,
        refs TEXT NOT NULL,
        message TEXT NOT NULL,
        acknowledged INTEGER NOT NULL CHECK (acknowledged IN (0, 1)),
        PRIMARY KEY (run_id, position)
    ) STRICT""",
    "CREATE INDEX run_discrepancies_by_id ON run_discrepancies(run_id, id)",
    "PRAGMA application_id = 1380142676",
]

#: The gateway's transaction listing, stored with the snapshot it was fetched for
#: (docs/api-client.md, "Transactions"). `transactions_count` is NULL when the listing was
#: not fetched (refused, absent, or a saved snapshot without it); `transactions_note` says
#: why. Each item keeps its JSON as served (`raw`, for saving and audit); the columns hold
#: every documented field as validated when stored, and are what a load reads back (a
#: million items re-parsed from JSON would take far too long to load).
_SNAPSHOT_TRANSACTIONS: Final = [
    "ALTER TABLE snapshots ADD COLUMN transactions_count INTEGER",
    "ALTER TABLE snapshots ADD COLUMN transactions_note TEXT",
    """CREATE TABLE snapshot_transactions (
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        id TEXT NOT NULL,
        type TEXT NOT NULL CHECK (type IN ('payment', 'withdrawal')),
        transaction_id TEXT,
        withdrawal_id TEXT,
        currency TEXT NOT NULL,
        status TEXT NOT NULL,
        amount TEXT NOT NULL,
        fee_amount TEXT NOT NULL,
        net_amount TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT,
        reference TEXT,
        blockchain_address TEXT,
        transaction_hash TEXT,
        order_id TEXT,
        confirmations INTEGER,
        raw TEXT NOT NULL,
        PRIMARY KEY (snapshot_id, position)
    ) STRICT""",
]

#: Causes stored with each run (docs/causes.md): one row per cause, and each
#: discrepancy's cause ids, so `ack`, `export` and the TUI read them without recomputing.
_CAUSES: Final = [
    """CREATE TABLE run_causes (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        id TEXT NOT NULL,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN ('error', 'warning')),
        currency TEXT,
        wallet_id TEXT,
        refs TEXT NOT NULL,
        gateway_ids TEXT NOT NULL,
        amount TEXT,
        explains TEXT NOT NULL,
        message TEXT NOT NULL,
        acknowledged INTEGER NOT NULL CHECK (acknowledged IN (0, 1)),
        PRIMARY KEY (run_id, position)
    ) STRICT""",
    "CREATE INDEX run_causes_by_id ON run_causes(run_id, id)",
    "ALTER TABLE run_discrepancies ADD COLUMN causes TEXT NOT NULL DEFAULT '[]'",
]

#: Sign-offs of closed periods (docs/close.md): append-only; whether one has lapsed is
#: worked out from `figures_json` (the figures it accepted) each time, never stored.
_CLOSES: Final = [
    """CREATE TABLE closes (
        id INTEGER PRIMARY KEY,
        period_from TEXT NOT NULL,
        period_to TEXT NOT NULL,
        signed_by TEXT NOT NULL,
        signed_at TEXT NOT NULL,
        note TEXT NOT NULL,
        figures_json TEXT NOT NULL,
        open_causes INTEGER NOT NULL
    ) STRICT""",
    "CREATE INDEX closes_by_period ON closes(period_from, period_to, id)",
]

#: The parsed copies of a snapshot's balances and wallets were written on every fetch and
#: never read: the raw bodies are their one record, re-read through the same models as a
#: fresh fetch. The buckets' copy stays: a close finds the history covering a period from
#: it without parsing every stored history (docs/api-client.md, "The stored snapshot").
_DROP_PARSED_COPIES = [
    "DROP TABLE snapshot_balances",
    "DROP TABLE snapshot_wallets",
]

#: Matching's first pass runs in SQL (store/pairs.py, docs/causes.md "The first pass in
#: the database"): it looks each record's candidate transactions up by reference and by
#: order_id, and each transaction's other key among the records, never scanning a side;
#: the columns it compares are in the index, so an identical pair never reads its row.
_TRANSACTION_KEYS = [
    "CREATE INDEX snapshot_transactions_by_reference"
    " ON snapshot_transactions(snapshot_id, reference, currency, type, position, order_id,"
    " net_amount, fee_amount, status, created_at)",
    "CREATE INDEX snapshot_transactions_by_order_id"
    " ON snapshot_transactions(snapshot_id, order_id, currency, type, position, reference)"
    " WHERE order_id IS NOT NULL",
    "CREATE INDEX records_by_reference ON records(reference, currency, type)",
]

#: Each day's exact sums of the records, kept by every import in its own transaction
#: (store/record_sums.py): a check reads a few rows a day instead of every record
#: (docs/performance.md, "Check with transactions"). Filled from the records already
#: stored by `record_sums.sum_every_day` (`_FILLS`).
_RECORD_SUMS = [
    """CREATE TABLE record_sums (
        currency TEXT NOT NULL,
        day TEXT NOT NULL,
        wallet_id TEXT,
        wallet_name TEXT,
        type TEXT NOT NULL,
        status TEXT NOT NULL,
        import_id INTEGER NOT NULL REFERENCES imports(id),
        amount TEXT NOT NULL,
        fee TEXT NOT NULL,
        records INTEGER NOT NULL,
        latest_opening TEXT
    ) STRICT""",
    "CREATE INDEX record_sums_by_day ON record_sums(currency, day)",
]

#: The time zone whose dates an import's file gave without a time of day (`dates_only`,
#: docs/mapping.md); NULL when its times are known. The check reads it for the records
#: that import wrote, whose times it cannot compare closer than the day (docs/causes.md).
_DATES_ONLY = ["ALTER TABLE imports ADD COLUMN dates_only_zone TEXT"]

#: The reference a quarantined row names, when it can be read (NULL when not), and the
#: later import whose file held a good row of that reference (NULL while none has): that
#: import corrected it, and the check stops saying it is set aside (docs/mapping.md,
#: "Bad rows").
_QUARANTINE_REFERENCES = [
    "ALTER TABLE quarantine ADD COLUMN reference TEXT",
    "ALTER TABLE quarantine ADD COLUMN corrected_by INTEGER REFERENCES imports(id)",
]

#: An import taken back (`reconcile-tui imports undo`): when, by whom and why. The row stays
#: for the audit trail; its records, day sums and repeats are gone (docs/mapping.md,
#: "Taking an import back").
_UNDONE_IMPORTS = [
    "ALTER TABLE imports ADD COLUMN undone_at TEXT",
    "ALTER TABLE imports ADD COLUMN undone_by TEXT",
    "ALTER TABLE imports ADD COLUMN undo_note TEXT",
]

#: What a run checked: the imports and snapshots stored then (`runs.StoreState`). A run
#: is out of date when something was imported, undone or fetched since, whatever the
#: clocks of the machines that did it say (docs/postgresql.md, "Several people at once").
_RUN_STORE_STATE = ["ALTER TABLE runs ADD COLUMN store_state TEXT"]

#: Each migration's statements, in order. Append only: never edit one that has shipped.
_MIGRATIONS: Final[list[tuple[str, list[str]]]] = [
    ("0001_initial", _V1),
    ("0002_snapshot_transactions", _SNAPSHOT_TRANSACTIONS),
    ("0003_causes", _CAUSES),
    ("0004_closes", _CLOSES),
    ("0005_drop_parsed_snapshot_copies", _DROP_PARSED_COPIES),
    ("0006_transaction_keys", _TRANSACTION_KEYS),
    ("0007_record_sums", _RECORD_SUMS),
    ("0008_dates_only", _DATES_ONLY),
    ("0009_quarantine_references", _QUARANTINE_REFERENCES),
    ("0010_undone_imports", _UNDONE_IMPORTS),
    ("0011_run_store_state", _RUN_STORE_STATE),
]

SCHEMA_VERSION: Final = len(_MIGRATIONS)

#: What a migration fills from the data already stored, in the same transaction, once its
#: statements have run (on either store: `conn` is a sqlite3 or a server connection).
_FILLS: Final[dict[str, Callable[[Any], None]]] = {"0007_record_sums": sum_every_day}


def current_tables() -> list[str]:
    """The tables the newest migration leaves, in the order they were created (each after
    the tables it refers to)."""
    tables: list[str] = []
    for _name, statements in _MIGRATIONS:
        for statement in statements:
            words = statement.split()
            if words[:2] == ["CREATE", "TABLE"]:
                tables.append(words[2])
            elif words[:2] == ["DROP", "TABLE"]:
                tables.remove(words[2])
    return tables


#: Where earlier releases also listed the migrations they ran, by name (sqlite-utils'
#: table). Nothing reads it: an upgrade drops it, and `user_version` stays the one record.
_OLD_RECORD = "_sqlite_migrations"


def migrate(conn: sqlite3.Connection, where: str) -> None:
    """Bring the database up to SCHEMA_VERSION, or refuse one written by a newer version.

    Runs under `BEGIN IMMEDIATE`, re-reading the version inside the lock, so two processes
    opening a new file at once migrate it exactly once. The migrations after the recorded
    version run in order, and the new version is recorded, in that one transaction.
    """
    if _version(conn, where) == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        applied = _version(conn, where)
        for name, statements in _MIGRATIONS[applied:]:
            for statement in statements:
                conn.execute(statement)
            if name in _FILLS:
                _FILLS[name](conn)
        conn.execute(f"DROP TABLE IF EXISTS {_OLD_RECORD}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _version(conn: sqlite3.Connection, where: str) -> int:
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise DatabaseError(
            f"database {where} has schema version {found}, newer than this reconcile-tui "
            f"understands ({SCHEMA_VERSION}); upgrade reconcile-tui to open it"
        )
    return found


# -- the same migrations on a PostgreSQL server (docs/postgresql.md) ----------------------

#: The server's one record of its schema version: the migrations applied, by name (a
#: server has no `user_version`).
_SERVER_RECORD = """CREATE TABLE IF NOT EXISTS reconcile_migrations (
    migration_set TEXT NOT NULL,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    PRIMARY KEY (migration_set, name)
)"""

#: What the SQLite store registers from Python when it opens a file, created on the
#: server with the first migration: an acknowledgement holds by `money.same_amount`'s rule
#: (equal by value, two absent amounts equal).
_SERVER_FUNCTIONS: Final = [
    """CREATE OR REPLACE FUNCTION same_amount(a TEXT, b TEXT) RETURNS BOOLEAN
       LANGUAGE sql IMMUTABLE AS $$
           SELECT CASE WHEN a IS NULL OR b IS NULL THEN a IS NULL AND b IS NULL
                       ELSE a::NUMERIC = b::NUMERIC END
       $$""",
]


def migrate_server(store: Store) -> None:
    """`migrate` for a PostgreSQL server: the same migrations, each statement as the
    server reads it, applied under the store's write lock so that two people opening a new
    database at once migrate it exactly once."""
    from reconcile_tui.store.postgres import to_postgres_ddl
    from reconcile_tui.times import format_utc, utc_now

    if server_version(store) == SCHEMA_VERSION:
        return
    conn = store.conn
    store.begin()
    try:
        conn.execute(_SERVER_RECORD)
        applied = server_version(store)
        for name, statements in _MIGRATIONS[applied:]:
            if name == _MIGRATIONS[0][0]:
                for statement in _SERVER_FUNCTIONS:
                    conn.execute(statement)
            for statement in statements:
                ddl = to_postgres_ddl(statement)
                if ddl is not None:
                    conn.execute(ddl)
            if name in _FILLS:
                _FILLS[name](conn)
            conn.execute(
                "INSERT INTO reconcile_migrations (migration_set, name, applied_at)"
                " VALUES (?, ?, ?)",
                (_MIGRATION_SET, name, format_utc(utc_now())),
            )
        conn.execute("COMMIT")
    except BaseException:
        store.rollback()
        raise


def server_version(store: Store) -> int:
    """How many migrations a server's store has had; 0 for an empty schema, and a
    schema holding another application's tables is refused."""
    conn = store.conn
    recorded = conn.execute("SELECT to_regclass('reconcile_migrations') IS NOT NULL").fetchone()
    if not recorded[0]:
        # pg_class, not information_schema: the latter lists only the tables this role
        # has a privilege on, and another application's were then missed (its `imports`
        # then failed our first migration with the server's own words).
        tables = conn.execute(
            """SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"""
        ).fetchone()[0]
        if tables:
            raise DatabaseError(f"database {store.path} is not a reconcile-tui database")
        return 0
    # Every row counts, whatever its set: a row this release did not write can only come
    # from a newer one, which must not be half-understood.
    applied = {
        (row[0], row[1])
        for row in conn.execute("SELECT migration_set, name FROM reconcile_migrations")
    }
    known = {(_MIGRATION_SET, name) for name, _ in _MIGRATIONS}
    found = len(applied)
    if found > SCHEMA_VERSION or not applied <= known:
        raise DatabaseError(
            f"database {store.path} has schema version {found}, newer than this reconcile-tui "
            f"understands ({SCHEMA_VERSION}); upgrade reconcile-tui to open it"
        )
    return found
