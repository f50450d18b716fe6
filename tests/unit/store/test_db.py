"""The database: migrated on open, refused when too new or foreign, writes all-or-nothing."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from reconcile_tui.errors import DatabaseError
from reconcile_tui.store.db import Store
from reconcile_tui.store.schema import SCHEMA_VERSION


def test_a_new_database_is_migrated_and_marked_as_ours(db_file):
    with Store(db_file) as store:
        assert store.query_one("PRAGMA user_version")[0] == SCHEMA_VERSION
        assert store.query_one("PRAGMA application_id")[0] == 0x52434E54
        assert store.query_one("PRAGMA journal_mode")[0] == "wal"
        assert store.query_one("PRAGMA foreign_keys")[0] == 1
        applied = store.query("SELECT name FROM _sqlite_migrations ORDER BY id")
        assert [row[0] for row in applied] == [
            "0001_initial",
            "0002_snapshot_transactions",
            "0003_causes",
            "0004_closes",
            "0005_drop_parsed_snapshot_copies",
            "0006_transaction_keys",
        ]
        tables = {row[0] for row in store.query("SELECT name FROM sqlite_master")}
        assert not {"snapshot_balances", "snapshot_wallets"} & tables
        assert "snapshot_buckets" in tables  # a close reads it (docs/close.md)
        strict = store.query(
            "SELECT name FROM pragma_table_list WHERE strict = 1 AND schema = 'main'"
        )
        assert {"records", "imports", "snapshots", "acknowledgements", "runs"} <= {
            r[0] for r in strict
        }
    # Opening again migrates nothing twice.
    with Store(db_file) as store:
        assert len(store.query("SELECT * FROM _sqlite_migrations")) == len(applied)


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
