"""The database: migrated on open, refused when too new or foreign, writes all-or-nothing."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from reconcile_tui.errors import DatabaseError
from reconcile_tui.store.db import Store
from reconcile_tui.store.schema import _MIGRATIONS, SCHEMA_VERSION, current_tables


def test_a_new_database_is_migrated_and_marked_as_ours(db_file):
    with Store(db_file) as store:
        assert store.query_one("PRAGMA user_version")[0] == SCHEMA_VERSION
        assert store.query_one("PRAGMA application_id")[0] == 0x52434E54
        assert store.query_one("PRAGMA journal_mode")[0] == "wal"
        assert store.query_one("PRAGMA foreign_keys")[0] == 1
        tables = {row[0] for row in store.query("SELECT name FROM sqlite_master")}
        assert not {"snapshot_balances", "snapshot_wallets"} & tables
        assert "snapshot_buckets" in tables  # a close reads it (docs/close.md)
        # user_version is the one record of the schema version (docs/postgresql.md)
        assert "_sqlite_migrations" not in tables
        assert tables == set(current_tables()) | {
            row[0] for row in store.query("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        strict = store.query(
            "SELECT name FROM pragma_table_list WHERE strict = 1 AND schema = 'main'"
        )
        assert {"records", "imports", "snapshots", "acknowledgements", "runs"} <= {
            r[0] for r in strict
        }


def _as_an_earlier_release_left_it(path, applied: int) -> None:
    """A file an earlier release migrated to `applied`: the migrations' tables, its
    user_version, and sqlite-utils' list of the migrations it ran, which it also kept."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA application_id = 0x52434E54")
    for _name, statements in _MIGRATIONS[:applied]:
        for statement in statements:
            conn.execute(statement)
    conn.execute(
        "CREATE TABLE [_sqlite_migrations] ([id] INTEGER PRIMARY KEY, [migration_set] TEXT,"
        " [name] TEXT, [applied_at] TEXT)"
    )
    conn.executemany(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, ?, ?)",
        [("reconcile_tui", name, "2025-01-15 10:00:00") for name, _ in _MIGRATIONS[:applied]],
    )
    conn.execute(
        "INSERT INTO imports (path, file_sha256, imported_at, rows_read, inserted, updated,"
        " unchanged, duplicates, quarantined) VALUES ('old.csv', 'ab', '2025-01-15T10:00:00Z',"
        " 1, 1, 0, 0, 0, 0)"
    )
    conn.execute(f"PRAGMA user_version = {applied}")
    conn.close()


def _schema(path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return sorted(
            conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL").fetchall()
        )
    finally:
        conn.close()


def test_a_file_from_an_earlier_release_is_upgraded_once_keeping_its_data(db_file, tmp_path):
    _as_an_earlier_release_left_it(db_file, applied=3)
    with Store(db_file) as store:
        assert store.query_one("PRAGMA user_version")[0] == SCHEMA_VERSION
        assert [tuple(row) for row in store.query("SELECT path FROM imports")] == [("old.csv",)]
    fresh = tmp_path / "fresh.db"
    Store(fresh).close()
    # the same schema as a new file: migrations 4 and 5 ran, 1 to 3 did not run again, and
    # the earlier release's second record is gone
    assert _schema(db_file) == _schema(fresh)
    before = _schema(db_file)
    with Store(db_file) as store:
        assert [tuple(row) for row in store.query("SELECT path FROM imports")] == [("old.csv",)]
    assert _schema(db_file) == before


def test_a_database_from_a_newer_version_is_refused_with_exit_4(db_file):
    Store(db_file).close()
    conn = sqlite3.connect(db_file)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(DatabaseError, match="newer than this reconcile-tui understands") as caught:
        Store(db_file)
    assert caught.value.exit_code == 4


def test_a_database_of_another_application_is_refused(tmp_path):
    foreign = tmp_path / "other.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="not a reconcile-tui database"):
        Store(foreign)
    assert sqlite3.connect(foreign).execute("SELECT count(*) FROM customers").fetchone() == (0,)


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    garbage = tmp_path / "notes.db"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(DatabaseError, match="damaged or not a database"):
        Store(garbage)


def test_a_write_that_fails_leaves_nothing_behind(store):
    def fail_halfway() -> None:
        with store.write() as conn:
            conn.execute("INSERT INTO meta VALUES ('a', '1')")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_halfway()
    assert store.query("SELECT * FROM meta") == []
    with store.write() as conn:
        conn.execute("INSERT INTO meta VALUES ('a', '1')")
    assert [tuple(r) for r in store.query("SELECT * FROM meta")] == [("a", "1")]


def test_a_write_lock_held_past_the_timeout_is_a_clear_database_error(db_file):
    Store(db_file).close()
    holder = sqlite3.connect(db_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with Store(db_file, busy_timeout=0.2) as waiting:
            with (
                pytest.raises(DatabaseError, match="locked by another process") as caught,
                waiting.write(),
            ):
                pass
            assert caught.value.exit_code == 4
            # Reading still works while another process writes (WAL).
            assert waiting.query_one("SELECT count(*) FROM records")[0] == 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_writer_waits_for_a_short_lock_instead_of_failing(db_file):
    Store(db_file).close()
    holder = sqlite3.connect(db_file, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        with Store(db_file, busy_timeout=10) as waiting, waiting.write() as conn:
            conn.execute("INSERT INTO meta VALUES ('waited', 'yes')")
    finally:
        release.join()
        holder.close()
    with Store(db_file) as store:
        assert store.query_one("SELECT value FROM meta WHERE key = 'waited'")[0] == "yes"


def test_a_full_disk_is_a_clear_error_and_the_write_is_rolled_back(db_file):
    store = Store(db_file)
    page_count = store.query_one("PRAGMA page_count")[0]
    store.conn.execute(f"PRAGMA max_page_count = {page_count}")
    with pytest.raises(DatabaseError, match="the disk is full"), store.write() as conn:
        conn.executemany(
            "INSERT INTO meta VALUES (?, ?)", ((str(i), "x" * 1000) for i in range(2000))
        )
    assert store.query_one("SELECT count(*) FROM meta")[0] == 0
    assert store.integrity_problems() == []
