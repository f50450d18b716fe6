"""The tests' PostgreSQL server and its fault helpers do what the store's tests rely on.

Each test gets a working, empty database of its own, on a server that asks for a password;
the fault helpers really cut connections; without a server or binaries the suite fails
saying what to install, it never skips.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from tests import postgres

ROOT = Path(__file__).parent.parent
USER_TABLES = (
    "SELECT count(*) FROM information_schema.tables"
    " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
)


def test_each_test_gets_a_working_empty_database_on_a_supported_server(postgres_url):
    with psycopg.connect(postgres_url) as conn:
        assert conn.info.server_version >= postgres.OLDEST_VERSION * 10_000
        assert conn.execute(USER_TABLES).fetchone() == (0,)
        conn.execute("CREATE TABLE amounts (amount NUMERIC NOT NULL)")
        conn.execute(
            "INSERT INTO amounts VALUES (%s), (%s)",
            (Decimal("0.000000000000000001"), Decimal("12345678901234567890.5")),
        )
        (total,) = conn.execute("SELECT sum(amount) FROM amounts").fetchone()
    assert total == Decimal("12345678901234567890.500000000000000001")


@pytest.mark.parametrize("turn", ["first", "second"])
def test_two_tests_never_see_each_others_tables(postgres_url, turn):
    # Both turns create the same table: the second would fail if it saw the first's.
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE imports (turn TEXT)")
        conn.execute("INSERT INTO imports VALUES (%s)", (turn,))
        assert conn.execute("SELECT turn FROM imports").fetchall() == [(turn,)]


def test_databases_side_by_side_are_isolated_and_dropped_afterwards(postgres_server):
    with (
        postgres.fresh_database(postgres_server) as one,
        postgres.fresh_database(postgres_server) as other,
    ):
        assert one != other
        with psycopg.connect(one) as conn:
            conn.execute("CREATE TABLE only_here (n INT)")
        with psycopg.connect(other) as conn:
            assert conn.execute(USER_TABLES).fetchone() == (0,)
        # Still connected when the block ends: the database is dropped all the same.
        lingering = psycopg.connect(one)
    with psycopg.connect(postgres_server) as conn:
        names = {name for (name,) in conn.execute("SELECT datname FROM pg_database").fetchall()}
    assert one.rsplit("/", 1)[1] not in names
    assert other.rsplit("/", 1)[1] not in names
    lingering.close()


def test_a_wrong_password_is_refused_by_the_server(postgres_url):
    refused = postgres.wrong_password(postgres_url)
    assert refused.split("@")[1] == postgres_url.split("@")[1]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(refused)


def test_masked_urls_never_show_the_password():
    url = "postgresql://alice:s3cret@db.example:5432/books"
    assert postgres.masked(url) == "postgresql://alice:***@db.example:5432/books"
    assert "s3cret" not in postgres.masked(postgres.wrong_password(url))
    assert postgres.masked("postgresql://alice@db.example/books") == (
        "postgresql://alice@db.example/books"
    )
    # A child process gets the URL without the password, and the password apart.
    assert postgres.without_password("postgresql://alice:p%40ss@db.example/books") == (
        "postgresql://alice@db.example/books",
        "p@ss",
    )


def test_cutting_the_backends_breaks_the_open_connection_and_the_server_stays_up(postgres_url):
    victim = psycopg.connect(postgres_url)
    victim.execute("SELECT 1")
    assert postgres.terminate_backends(postgres_url) == 1
    with pytest.raises(psycopg.OperationalError):
        victim.execute("SELECT 1")
    victim.close()
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_connection_is_cut_in_the_middle_of_the_statement_watched_for(postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE records (reference TEXT)")
    failures: list[Exception] = []

    def import_forever() -> None:
        with psycopg.connect(postgres_url) as conn:
            try:
                # Never ends on its own: only the cut ends it.
                conn.execute(
                    "INSERT INTO records SELECT 'R-' || n FROM generate_series(1, 1000000000) AS n"
                )
            except psycopg.OperationalError as cut:
                failures.append(cut)

    with postgres.terminated_when_running(postgres_url, "insert into records") as termination:
        worker = threading.Thread(target=import_forever)
        worker.start()
        worker.join()
    assert len(termination.cut) == 1
    assert "generate_series" in termination.cut[0]
    assert len(failures) == 1
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM records").fetchone() == (0,)


def test_without_server_binaries_the_message_says_what_to_install(tmp_path):
    with pytest.raises(postgres.NoPostgres, match="install Debian's postgresql package"):
        postgres.find_server_binaries(debian_root=tmp_path, path=str(tmp_path))


def test_binaries_older_than_the_product_supports_are_not_taken(tmp_path):
    bindir = tmp_path / "13" / "bin"
    bindir.mkdir(parents=True)
    for tool in ("initdb", "pg_ctl", "psql"):
        (bindir / tool).write_text("#!/bin/sh\nexit 1\n")
    (bindir / "postgres").write_text("#!/bin/sh\necho 'postgres (PostgreSQL) 13.9'\n")
    for tool in bindir.iterdir():
        tool.chmod(0o755)
    with pytest.raises(postgres.NoPostgres, match="version 14 or newer"):
        postgres.find_server_binaries(debian_root=tmp_path, path="")


@pytest.mark.slow
def test_the_ci_commands_start_a_server_that_stops_restarts_and_is_removed():
    # A directory of its own under the system's temporary folder: the server's user must
    # reach it, and pytest's own folders are private to the user running the tests.
    directory = Path(tempfile.mkdtemp(prefix="reconcile-ci-"))
    run = [sys.executable, "-m", "tests.postgres"]
    started = subprocess.run(
        [*run, "start", str(directory)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    try:
        assert started.returncode == 0, started.stderr
        url = started.stdout.strip()
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (postgres.ROLE,)
            conn.execute("CREATE TABLE t (n INT)")  # the role may create in its database
        # The whole server gone, then back, for a test that needs more than a cut connection.
        cluster = postgres.Cluster.load(directory)
        cluster.stop()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url)
        cluster.start()
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    finally:
        stopped = subprocess.run(
            [*run, "stop", str(directory)], cwd=ROOT, capture_output=True, text=True, check=False
        )
    assert stopped.returncode == 0, stopped.stderr
    assert not directory.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url)
