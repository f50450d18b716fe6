"""The shared store on a real PostgreSQL server: faults, several people at once, `db copy`.

Every other store, engine and CLI test runs on both stores through the `db_path` fixture;
these are what only a server has (docs/postgresql.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
import pytest
from psycopg import sql

from reconcile_tui.errors import DatabaseError
from reconcile_tui.ingest import fast
from reconcile_tui.ingest.importer import import_file
from reconcile_tui.store.acks import Acknowledgement, NewerCheck, record_acknowledgement
from reconcile_tui.store.db import Store
from reconcile_tui.store.postgres import WRITE_LOCK, display_url
from reconcile_tui.store.schema import SCHEMA_VERSION, current_tables
from tests.conftest import DEFAULT_HEADER, PAGE_CLOCK, SCENARIO, WALLET_A
from tests.integration import test_cli
from tests.postgres import (
    NoPostgres,
    as_role,
    fresh_database,
    masked,
    pooled,
    terminated_when_running,
    without_password,
    wrong_password,
)

# The CLI run in-process with a clean environment, as every CLI test runs it.
cli = test_cli.cli
scenario_check = test_cli.scenario_check
Result = test_cli.Result


def rows_of(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def big_file(path: Path, rows: int) -> Path:
    lines = [
        f"B-{n:07d},2025-01-{1 + n % 14:02d}T10:00:00Z,ETH,{WALLET_A},deposit,"
        f"1.{n:018d},0,confirmed,\n"
        for n in range(rows)
    ]
    path.write_text(DEFAULT_HEADER + "".join(lines), encoding="utf-8")
    return path


# -- the schema -----------------------------------------------------------------------


def test_a_new_server_database_is_migrated_once_and_recorded(postgres_url):
    with Store(postgres_url) as store:
        assert store.server
        applied = store.query("SELECT name FROM reconcile_migrations ORDER BY name")
        assert len(applied) == SCHEMA_VERSION
        kinds = dict(
            store.query(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name = 'records'"
            )
        )
        assert kinds["amount"] == kinds["fee"] == "numeric"
    with Store(postgres_url) as again:
        assert len(again.query("SELECT * FROM reconcile_migrations")) == SCHEMA_VERSION
    tables = {row[0] for row in rows_of(postgres_url, "SELECT tablename FROM pg_tables")}
    assert set(current_tables()) <= tables


#: Session defaults an administrator may give a shared server (`ALTER DATABASE … SET`):
#: every transaction SERIALIZABLE, dates printed day first, a zone 13:45 ahead, intervals
#: and floats printed otherwise, backslashes in literals as escapes. The store must read
#: and write as on a server left as shipped (docs/postgresql.md, "Several people at once").
ADMINISTRATORS_DEFAULTS = {
    "default_transaction_isolation": "serializable",
    "DateStyle": "SQL, DMY",
    "TimeZone": "Pacific/Chatham",
    "IntervalStyle": "sql_standard",
    "extra_float_digits": "0",
    # The old reading of a backslash in a literal (an escape), off by default since 9.1.
    "standard_conforming_strings": "off",
}


@pytest.fixture(params=["as shipped", "administrator's defaults"])
def shared_url(request, postgres_url: str) -> str:
    """A new server database, as PostgreSQL ships or with `ADMINISTRATORS_DEFAULTS`."""
    if request.param == "administrator's defaults":
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            database = sql.Identifier(conn.info.dbname)
            for name, value in ADMINISTRATORS_DEFAULTS.items():
                conn.execute(
                    sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                        database, sql.Identifier(name), sql.Literal(value)
                    )
                )
        with psycopg.connect(postgres_url) as conn:
            shown = conn.execute("SHOW default_transaction_isolation").fetchone()
            assert shown == ("serializable",)
    return postgres_url


def test_two_people_opening_a_new_database_at_once_migrate_it_exactly_once(shared_url):
    postgres_url = shared_url
    problems: list[BaseException] = []

    def open_it() -> None:
        try:
            Store(postgres_url).close()
        except BaseException as error:
            problems.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    assert rows_of(postgres_url, "SELECT count(*) FROM reconcile_migrations") == [(SCHEMA_VERSION,)]


@pytest.mark.parametrize("migration_set", ["reconcile_tui", "reconcile_tui_next"])
def test_a_server_database_from_a_newer_version_is_refused_with_exit_4(
    cli, postgres_url, migration_set
):
    Store(postgres_url).close()
    with psycopg.connect(postgres_url) as conn:
        conn.execute(
            "INSERT INTO reconcile_migrations VALUES (%s, '9999_future', 'x')", (migration_set,)
        )
    result = cli("--db", postgres_url, "check", "--offline")
    assert result.code == 4
    assert "newer than this reconcile-tui understands" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_a_server_database_of_another_application_is_refused(cli, postgres_url):
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    result = cli("--db", postgres_url, "check", "--offline")
    assert result.code == 4
    assert "is not a reconcile-tui database" in result.err


def test_another_applications_tables_this_role_may_not_see_are_still_refused(
    cli, postgres_url, tmp_path
):
    # information_schema lists only the tables a role has a privilege on: another
    # application's `imports` was missed, and the first migration failed on it with the
    # server's own words; without it, the store was made beside the other tables.
    role, password = f"person_{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("CREATE SCHEMA shop")
        admin.execute("CREATE TABLE shop.imports (id INTEGER)")
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        database = admin.execute("SELECT current_database()").fetchone()[0]
        admin.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
        admin.execute(f"GRANT USAGE, CREATE ON SCHEMA shop TO {role}")
    try:
        second = f"{as_role(postgres_url, role, password)}?options=-csearch_path%3Dshop"
        result = cli("--db", second, "import", big_file(tmp_path / "few.csv", 3))
        assert result.code == 4
        assert "is not a reconcile-tui database" in result.err
        assert rows_of(
            postgres_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'shop'"
        ) == [("imports",)]
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("DROP SCHEMA shop CASCADE")
            admin.execute(f'REVOKE CONNECT ON DATABASE "{database}" FROM {role}')
            admin.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize(
    "args", [("export", "--output", "-"), ("ack", "abcdef", "--note", "n"), ("closes",)]
)
def test_reading_commands_on_an_empty_server_database_create_nothing(cli, postgres_url, args):
    # They made every table, then said no check had run (`closes` even exited 0), where
    # a file that does not exist is left not existing.
    result = cli("--db", postgres_url, *args)
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        f"error: no check has run yet: database {display_url(postgres_url)} holds no"
        " reconcile-tui store yet; run `reconcile-tui check` first"
    ]
    assert rows_of(postgres_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [
        (0,)
    ]


# -- connection faults ------------------------------------------------------------------


@pytest.mark.parametrize("length", ["long", "short"])
def test_a_wrong_password_is_one_line_exit_4_and_never_printed(cli, postgres_url, length):
    refused = wrong_password(postgres_url)
    if length == "short":  # shorter than the mask takes for a secret anywhere in a line
        refused = refused.replace(without_password(refused)[1] or "", uuid.uuid4().hex[:3])
    password = without_password(refused)[1]
    assert password
    result = cli("--db", refused, "check", "--offline")
    assert result.code == 4
    assert "refused the user or password" in result.err
    assert password not in result.out + result.err
    assert "********" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_a_password_beside_a_bracketed_host_is_never_printed(cli, postgres_url):
    # `[127.0.0.1]` is a host libpq connects to, which Python's URL parser refuses: the
    # password was printed in every message of a working connection.
    bare, password = without_password(postgres_url)
    assert password
    host = bare.split("@")[1].split(":")[0]
    bracketed = postgres_url.replace(f"@{host}:", f"@[{host}]:")
    for url in (bracketed, bracketed.replace(password, password[::-1]), bracketed[:-3] + "["):
        result = cli("--db", url, "export", "--output", "-")
        assert result.code in (2, 4)
        assert password not in result.out + result.err
        assert password[::-1] not in result.out + result.err
        assert len(result.err.strip().splitlines()) == 1


def test_a_server_asking_for_a_password_not_given_says_where_to_give_it(
    cli, postgres_url, monkeypatch, tmp_path
):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    bare, password = without_password(postgres_url)
    assert password
    result = cli("--db", bare, "check", "--offline")
    assert result.code == 4
    assert "the server asks for a password and none was given" in result.err
    assert "PGPASSWORD" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_the_server_password_is_masked_in_every_message(cli, postgres_url):
    password = without_password(postgres_url)[1]
    assert password
    result = cli("--db", postgres_url, "ack", "deadbeef", "--note", "x")
    assert result.code == 2  # no check has run yet
    assert password not in result.out + result.err
    assert masked(postgres_url).split("@")[1] in result.err


def test_a_server_that_cannot_be_reached_is_one_line_exit_4(cli, postgres_url, tmp_path):
    closed = postgres_url.replace(postgres_url.split("@")[1].split("/")[0], "127.0.0.1:9")
    result = cli("--db", closed, "check", "--offline")
    assert result.code == 4
    assert "cannot connect to the server" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.db"))  # a URL is never taken for a file's name


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (lambda url: url.replace(url.split("@")[1].split("/")[0], "127.0.0.1:99999"), "'99999'"),
        (lambda url: url.replace(url.split("@")[1].split("/")[0], "127.0.0.1:five"), "'five'"),
        (lambda url: url.rsplit("/", 1)[0] + "/month end", "unexpected spaces"),
        # Values the driver refuses before it asks any server.
        (lambda url: url + "?sslmode=bogus", 'invalid sslmode value: "bogus"'),
        (lambda url: url + "?connect_timeout=soon", "bad value for connect_timeout: 'soon'"),
        (lambda url: url + "?keepalives=yes", 'invalid integer value "yes"'),
    ],
    ids=[
        "port-out-of-range",
        "port-not-a-number",
        "database-name-with-a-space",
        "sslmode-unknown",
        "connect-timeout-not-a-number",
        "keepalives-not-a-number",
    ],
)
def test_a_url_no_server_could_answer_is_bad_usage_exit_2(cli, postgres_url, tmp_path, spoil, said):
    good = tmp_path / "good.csv"
    good.write_text(
        f"{DEFAULT_HEADER}\nR-1,2024-10-01T00:00:00Z,ETH,{WALLET_A},deposit,1.5,0,completed,\n"
    )
    password = postgres_url.split("@")[0].rsplit(":", 1)[1]
    for arguments in (["import", good], ["db", "copy", "{url}", tmp_path / "copy.db"]):
        url = spoil(postgres_url)
        result = cli("--db", url, *[url if a == "{url}" else a for a in arguments])
        assert result.code == 2, result.err
        assert said in result.err
        assert len(result.err.strip().splitlines()) == 1
        assert password not in result.err
    assert not list(tmp_path.glob("*.db"))  # a URL is never taken for a file's name


@pytest.mark.parametrize("statement", ["COPY", "INSERT INTO records"])
def test_a_server_gone_mid_import_leaves_nothing_half_written(
    cli, postgres_url, tmp_path, statement
):
    # The database exists and is migrated before the import starts.
    Store(postgres_url).close()
    source = big_file(tmp_path / "big.csv", 60_000)
    with terminated_when_running(postgres_url, statement) as cut:
        result = cli("--db", postgres_url, "import", source)
    assert cut.cut, f"no {statement} was seen running"
    assert result.code == 4
    assert "connection to the server was lost" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert rows_of(postgres_url, "SELECT count(*) FROM records") == [(0,)]
    assert rows_of(postgres_url, "SELECT count(*) FROM imports") == [(0,)]
    # The next import of the same file goes through whole.
    again = cli("--db", postgres_url, "import", source)
    assert again.code == 0, again.err
    assert rows_of(postgres_url, "SELECT count(*) FROM records") == [(60_000,)]


def test_a_connection_lost_while_committing_says_the_change_may_have_been_kept(cli, postgres_url):
    # The server may make a commit durable and lose the connection before it answers:
    # the store cannot say "not kept" then. Here the commit's own deferred trigger ends
    # the session, so the connection goes exactly at COMMIT (and, the trigger failing
    # first, nothing was kept: a look shows it).
    cause = _document(scenario_check(cli, postgres_url, "--format", "json"))["causes"][0]["id"]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION gone_at_commit() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5);"
            " RETURN NULL; END $$"
        )
        conn.execute(
            "CREATE CONSTRAINT TRIGGER gone AFTER INSERT ON acknowledgements"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION gone_at_commit()"
        )
    result = cli("--db", postgres_url, "ack", cause, "--note", "seen", "--by", "ana")
    assert result.code == 4
    shown = masked(postgres_url).replace(":***@", ":********@")
    assert result.err.strip().splitlines() == [
        f"error: database {shown}: the connection to the server was lost while committing;"
        " the change may or may not have been kept: look before doing it again (an import"
        " run again says whether it was)"
    ]
    assert rows_of(postgres_url, "SELECT count(*) FROM acknowledgements") == [(0,)]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP TRIGGER gone ON acknowledgements")
    again = cli("--db", postgres_url, "ack", cause, "--note", "seen", "--by", "ana")
    assert again.code == 0, again.err
    assert rows_of(postgres_url, "SELECT count(*) FROM acknowledgements") == [(1,)]


def test_a_statement_the_server_cancels_is_one_line_exit_4_and_nothing_written(
    cli, postgres_url, tmp_path
):
    # An administrator's statement_timeout (here the URL's own, 1 ms) stops the import's
    # staging or merge: one line that says so, not "locked by another writer".
    Store(postgres_url).close()
    source = big_file(tmp_path / "big.csv", 20_000)
    hurried = f"{postgres_url}?options=-cstatement_timeout%3D1"
    result = cli("--db", hurried, "import", source)
    assert result.code == 4
    assert "the server cancelled the statement" in result.err
    assert "statement timeout" in result.err
    assert "locked" not in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert rows_of(postgres_url, "SELECT count(*) FROM records") == [(0,)]
    assert rows_of(postgres_url, "SELECT count(*) FROM imports") == [(0,)]


def test_a_writer_waits_for_another_and_gives_up_past_the_timeout(postgres_url):
    Store(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK,))
        with Store(postgres_url, busy_timeout=0.5) as store:
            with (
                pytest.raises(DatabaseError, match="locked by another writer") as caught,
                store.write() as conn,
            ):
                conn.execute("INSERT INTO meta VALUES ('a', 'b')")
            assert caught.value.exit_code == 4
            # A short wait is no failure: the write goes through once the lock is free.
            threading.Timer(0.3, other.execute, ("SELECT pg_advisory_unlock_all()",)).start()
            with Store(postgres_url, busy_timeout=10) as patient, patient.write() as conn:
                conn.execute("INSERT INTO meta VALUES ('a', 'b')")
    assert rows_of(postgres_url, "SELECT key FROM meta") == [("a",)]


def test_a_writer_waits_through_a_queue_of_writers_that_each_finish_in_time(postgres_url):
    # Three others write one after another, each for less than the timeout and all
    # together for more: a queue that moves is waited through, as a team importing at
    # once needs; only one writer holding on for a whole timeout is given up on.
    Store(postgres_url).close()
    holding = [threading.Event() for _ in range(3)]

    def write_for_a_while(index: int) -> None:
        with psycopg.connect(postgres_url, autocommit=True) as other:
            other.execute("BEGIN")
            other.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            holding[index].set()
            time.sleep(0.7)
            other.execute("INSERT INTO meta VALUES (%s, 'x')", (f"other{index}",))
            other.execute("COMMIT")

    others = [threading.Thread(target=write_for_a_while, args=(n,)) for n in range(3)]
    others[0].start()
    assert holding[0].wait(10)
    for thread in others[1:]:
        thread.start()
    # The two others queue behind the first, and this writer behind them.
    queued = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    while rows_of(postgres_url, queued) != [(2,)]:
        time.sleep(0.01)
    started = time.monotonic()
    with Store(postgres_url, busy_timeout=1.0) as store, store.write() as conn:
        conn.execute("INSERT INTO meta VALUES ('mine', 'x')")
    waited = time.monotonic() - started
    for thread in others:
        thread.join()
    assert all(event.is_set() for event in holding)
    # Behind two writers of 0.7 s each: longer than its timeout, waited through because
    # the queue moved.
    assert waited > 1.0
    keys = rows_of(postgres_url, "SELECT key FROM meta ORDER BY key")
    assert keys == [("mine",), ("other0",), ("other1",), ("other2",)]


# -- several people at once -------------------------------------------------------------


def _run_cli(url: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    bare, password = without_password(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILE_", "CRYPTOFUSE_"))}
    if password:
        env["PGPASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "reconcile_tui", "--db", bare, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )


def test_several_processes_acknowledging_importing_closing_and_checking_at_once_lose_nothing(
    cli, shared_url, tmp_path
):
    postgres_url = shared_url
    first = scenario_check(cli, postgres_url, "--format", "json")
    assert first.code == 1, first.err
    causes = [cause["id"] for cause in json.loads(first.out)["causes"]]
    assert len(causes) >= 4
    files = [big_file(tmp_path / f"part{n}.csv", 20_000) for n in range(2)]
    # Two files of distinct references: each must land whole.
    text = files[1].read_text(encoding="utf-8").replace("B-", "C-")
    files[1].write_text(text, encoding="utf-8")

    with_threads: list[subprocess.CompletedProcess[str]] = []
    lock = threading.Lock()

    def run(*args: str | Path) -> None:
        done = _run_cli(postgres_url, *args)
        with lock:
            with_threads.append(done)

    jobs = [
        ("ack", cause, "--note", f"checked {n}", "--by", f"person{n}")
        for n, cause in enumerate(causes)
    ]
    jobs += [("import", path) for path in files]
    # Two people sign the same week off, and two check it, meanwhile.
    week = "2025-01-09..2025-01-14"  # the 15th had not ended at the gateway's clock
    jobs += [
        ("close", week, "--note", f"signed {n}", "--accept-open", "--by", f"signer{n}")
        for n in range(2)
    ]
    checking = ("--config", SCENARIO / "reconcile.toml", "check", "--offline", "--format", "json")
    jobs += [checking, checking]
    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    checks = [done for done in with_threads if "check" in done.args]
    assert len(checks) == 2
    for done in with_threads:
        # A check exits 0 once every cause it finds is acknowledged, else 1.
        assert done.returncode in ((0, 1) if done in checks else (0,)), done.stderr
    # A check saw each import whole or not at all: never part of one.
    base = json.loads(first.out)["records"]["count"]
    for done in checks:
        counted_then = json.loads(done.stdout)["records"]["count"]
        assert counted_then in {base, base + 20_000, base + 40_000}
    acknowledged = rows_of(
        postgres_url, "SELECT discrepancy_id, acknowledged_by FROM acknowledgements"
    )
    assert sorted(acknowledged) == sorted((cause, f"person{n}") for n, cause in enumerate(causes))
    signed = rows_of(postgres_url, "SELECT signed_by, period_from, period_to FROM closes")
    assert sorted(signed) == [
        ("signer0", "2025-01-09", "2025-01-14"),
        ("signer1", "2025-01-09", "2025-01-14"),
    ]
    # The first check and the two checks each stored a run; a close stores one too when
    # records were imported after the latest check (it checks what it signs).
    [(stored_runs,)] = rows_of(postgres_url, "SELECT count(*) FROM runs")
    assert 3 <= stored_runs <= 5
    counted = dict(
        rows_of(postgres_url, "SELECT left(reference, 2), count(*) FROM records GROUP BY 1")
    )
    assert counted["B-"] == counted["C-"] == 20_000
    imports = rows_of(postgres_url, "SELECT inserted FROM imports ORDER BY id")
    assert sorted(imports)[-2:] == [(20_000,), (20_000,)]


def test_an_acknowledgement_racing_a_newer_check_says_so(cli, postgres_url, tmp_path):
    assert scenario_check(cli, postgres_url).code == 1
    with Store(postgres_url) as store:
        (run_id,) = store.query_one("SELECT max(id) FROM runs")
        cause = store.query_one(
            "SELECT id, amount FROM run_causes WHERE run_id = ? AND amount IS NOT NULL"
            " ORDER BY position LIMIT 1",
            (run_id,),
        )
    # Another person's check lands meanwhile, with the same findings: the acknowledgement
    # still holds what was looked at, and is recorded.
    assert scenario_check(cli, postgres_url).code == 1
    same = Acknowledgement(cause["id"], "ann", "2025-01-15T10:00:00Z", "ok", cause["amount"])
    with Store(postgres_url) as store:
        record_acknowledgement(store, same, kind="k", currency=None, message="m", run_id=run_id)
    # Accepting an amount the newest run no longer holds is refused, and nothing recorded.
    stale = Acknowledgement(cause["id"], "bob", "2025-01-15T10:00:00Z", "ok", "123.456")
    with Store(postgres_url) as store:
        with pytest.raises(NewerCheck, match="a newer check") as caught:
            record_acknowledgement(
                store, stale, kind="k", currency=None, message="m", run_id=run_id
            )
        assert caught.value.exit_code == 4
        assert [row[0] for row in store.query("SELECT acknowledged_by FROM acknowledgements")] == [
            "ann"
        ]


# -- db copy --------------------------------------------------------------------------


def _document(result: Result) -> dict:
    document = json.loads(result.out)
    document.pop("generated_at")
    return document


def test_db_copy_moves_a_whole_store_to_a_server_and_back(cli, postgres_url, tmp_path):
    mine = tmp_path / "mine.db"
    assert scenario_check(cli, mine).code == 1
    exported = tmp_path / "findings.json"
    assert cli("--db", mine, "export", "--output", exported, "--format", "json").code == 0
    cause = json.loads(exported.read_text(encoding="utf-8"))["causes"][0]["id"]
    assert cli("--db", mine, "ack", cause, "--note", "bank statement agrees").code == 0
    before = cli("--db", mine, "check", "--offline", "--format", "json")

    copied = cli("db", "copy", mine, postgres_url)
    assert copied.code == 0, copied.err
    assert "1 acknowledgements" in copied.out
    on_server = cli("--db", postgres_url, "check", "--offline", "--format", "json")
    assert _document(on_server) == _document(before)
    # The server numbers new rows after the copied ones.
    assert cli("--db", postgres_url, "ack", cause, "--note", "again").code == 0
    ids = rows_of(postgres_url, "SELECT id FROM acknowledgements ORDER BY id")
    assert [row[0] for row in ids] == [1, 2]

    back = tmp_path / "back.db"
    assert cli("db", "copy", postgres_url, back).code == 0
    assert _document(cli("--db", back, "check", "--offline", "--format", "json")) == _document(
        cli("--db", postgres_url, "check", "--offline", "--format", "json")
    )


def test_db_copy_never_mixes_into_a_store_that_holds_data(cli, postgres_url, tmp_path):
    mine = tmp_path / "mine.db"
    assert scenario_check(cli, mine).code == 1
    assert cli("db", "copy", mine, postgres_url).code == 0
    again = cli("db", "copy", mine, postgres_url)
    assert again.code == 2
    assert "already holds data" in again.err
    assert cli("db", "copy", tmp_path / "missing.db", postgres_url).code == 2
    assert not (tmp_path / "missing.db").exists()


def _copy(source: Path | str, destination: Path | str) -> subprocess.CompletedProcess[str]:
    """`db copy` as its own process, bounded in time: a copy that hangs fails the test."""
    return subprocess.run(
        [sys.executable, "-m", "reconcile_tui", "db", "copy", str(source), str(destination)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_server_refusing_a_copied_row_is_the_servers_failure_and_keeps_nothing(
    postgres_url, tmp_path
):
    # The server's failure went to the file's handler: exit 70, an AssertionError.
    mine = tmp_path / "mine.db"
    with Store(mine) as store:
        import_file(store, big_file(tmp_path / "big.csv", 12_000), now=PAGE_CLOCK)
    with Store(postgres_url) as server, server.write() as conn:
        conn.execute(
            """CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
               $$ BEGIN RAISE EXCEPTION 'refused by the server'; END $$"""
        )
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON records FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
    copied = _copy(mine, postgres_url)
    assert copied.returncode == 4, copied.stderr
    [line] = copied.stderr.splitlines()
    assert line.startswith(f"error: database {display_url(postgres_url)}")
    assert "refused by the server" in line
    assert rows_of(postgres_url, "SELECT count(*) FROM imports") == [(0,)]


def test_a_file_refusing_a_row_copied_from_a_server_ends_in_one_line_naming_the_file(
    postgres_url, tmp_path
):
    # The copy waited forever: the server's read was still streaming when its handler
    # rolled it back. More rows than one read takes, so the stream is mid-table.
    with Store(postgres_url) as server:
        import_file(server, big_file(tmp_path / "big.csv", 12_000), now=PAGE_CLOCK)
    target = tmp_path / "copy.db"
    with Store(target) as store, store.write() as conn:
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON records"
            " WHEN NEW.reference = 'B-0000500' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    copied = _copy(postgres_url, target)
    assert copied.returncode == 4, copied.stderr
    assert copied.stderr.startswith(f"error: database {target}")
    with Store(target) as store:
        assert store.query_one("SELECT count(*) FROM records")[0] == 0


def test_a_copy_failing_on_its_source_leaves_no_new_file_behind(postgres_url, tmp_path):
    # The new file stayed, migrated and empty, after the server failed mid-read.
    with Store(postgres_url) as server:
        import_file(server, big_file(tmp_path / "big.csv", 12_000), now=PAGE_CLOCK)
    with Store(postgres_url) as server, server.write() as conn:
        conn.execute("ALTER TABLE records RENAME TO records_kept")
        conn.execute(
            """CREATE VIEW records AS SELECT * FROM records_kept
               WHERE (CASE WHEN reference = 'B-0000500' THEN 1 / 0 ELSE 1 END) = 1"""
        )
    target = tmp_path / "new" / "copy.db"
    copied = _copy(postgres_url, target)
    assert copied.returncode == 4, copied.stderr
    [line] = copied.stderr.splitlines()
    assert "division by zero" in line
    assert list(tmp_path.iterdir()) == [tmp_path / "big.csv"]


# -- the same records on both stores --------------------------------------------------

EXPORTS = Path(__file__).parent.parent / "data" / "exports"


def _records(store: Store) -> list[tuple]:
    return [
        tuple(row)
        for row in store.query(
            "SELECT reference, occurred_at, currency, wallet_id, wallet_name, type, amount,"
            " fee, status, tx_hash, line FROM records ORDER BY reference"
        )
    ]


def _imported_on_both(cli, source: Path, file: Path, url: str, *options: str | Path):
    """`import` of one file into a SQLite file and a server: (the file's records, the
    server's), each as `_records` reads them."""
    for db in (file, url):
        result = cli("--db", db, "import", source, *options)
        assert result.code == 0, result.err
    with Store(file) as on_file, Store(url) as on_server:
        return _records(on_file), _records(on_server)


@pytest.mark.parametrize(
    "files",
    [
        [SCENARIO / "records.csv"],
        *(
            [EXPORTS / f"{name}.csv", EXPORTS / f"{name}.toml"]
            for name in ("kraken-ledgers", "bank-statement", "btcpay-payments")
        ),
    ],
    ids=lambda files: files[0].stem,
)
def test_an_import_stores_the_same_records_on_a_file_and_on_a_server(
    cli, postgres_url, tmp_path, files
):
    source, *mapping = files
    options = ["--mapping", mapping[0]] if mapping else []
    stored, on_server = _imported_on_both(
        cli, source, tmp_path / "books.db", postgres_url, *options
    )
    assert stored
    assert on_server == stored


def test_a_big_file_takes_the_same_path_to_the_same_records_on_both(cli, postgres_url, tmp_path):
    # Statuses, empty hashes and 18 places: what the fast path stages as one CSV stream on
    # a server and row by row in a file.
    lines = [
        f"R-{n:06d},2025-01-{1 + n % 28:02d}T{n % 24:02d}:00:00Z,ETH,{WALLET_A},"
        f"{'deposit' if n % 2 else 'withdrawal'},{n}.{n:018d},0.{n % 7:018d},"
        f"{('confirmed', 'pending', 'failed')[n % 3]},{'0x' + format(n, '064x') if n % 5 else ''}\n"
        for n in range(1, 3001)
    ]
    source = tmp_path / "big.csv"
    source.write_text(DEFAULT_HEADER + "".join(lines), encoding="utf-8")
    stored, on_server = _imported_on_both(cli, source, tmp_path / "books.db", postgres_url)
    assert len(stored) == 3000
    assert any(row[9] is None for row in stored)  # an empty hash is no hash on both
    assert on_server == stored


@pytest.mark.parametrize("trouble", ["rows the parser reads", "a bad row in the last block"])
def test_a_file_of_many_blocks_is_one_copy_on_a_server_and_stores_what_a_file_does(
    postgres_url, tmp_path, monkeypatch, trouble
):
    # A server stages every block of the fast path through one COPY, the parser's rows
    # among them; a bad row in a later block makes the fast path give up after blocks
    # were sent, and the careful reader redoes the file. Either way: a file's records.
    monkeypatch.setattr(fast, "BLOCK_BYTES", 512)
    plain = [
        f"R-{n:03d},2025-01-{1 + n % 14:02d}T10:00:00Z,ETH,{WALLET_A},deposit,{n}.25,0,"
        f"{('confirmed', 'pending')[n % 2]},\n"
        for n in range(1, 81)
    ]
    plain[30] = f"P-030,2025-01-05T10:00:00Z,ETH,{WALLET_A},Deposit,3,0,confirmed,\n"
    plain[55] = f"P-055,2025-01-06 11:00:00,ETH,{WALLET_A},deposit,4,0,confirmed,0xab\n"
    plain[70] = f" P-070 ,2025-01-07T12:00:00Z,ETH,{WALLET_A},withdrawal,5,1,failed,\n"
    if trouble == "a bad row in the last block":
        plain.append(f"R-999,2025-01-08T10:00:00Z,ETH,{WALLET_A},deposit,.5,0,confirmed,\n")
    source = tmp_path / "blocks.csv"
    source.write_text(DEFAULT_HEADER + "".join(plain), encoding="utf-8")
    fast_ran: list[str] = []
    real = fast.stage_fast

    def watched(*args, **kwargs):
        try:
            done = real(*args, **kwargs)
        except fast.NotFast:
            fast_ran.append("gave up")
            raise
        fast_ran.append("staged")
        return done

    monkeypatch.setattr(fast, "stage_fast", watched)
    outcomes = []
    for db in (tmp_path / "books.db", postgres_url):
        with Store(db) as store:
            result = import_file(store, source, now=PAGE_CLOCK, quarantine=True)
            quarantined = [tuple(row) for row in store.query("SELECT line FROM quarantine")]
            outcomes.append((result.summary().split(": ", 1)[1], _records(store), quarantined))
    said = "gave up" if trouble == "a bad row in the last block" else "staged"
    assert fast_ran == [said, said]
    assert len(outcomes[0][1]) == 80
    assert outcomes[1] == outcomes[0]


def test_a_server_sorting_text_for_people_stores_and_reports_as_a_file_does(
    cli, en_us_postgres_url, tmp_path
):
    # en-US puts `a-10` before `A_9` and ignores punctuation first; a file sorts by bytes.
    # Every text column on a server is COLLATE "C", so both sort (and key) alike.
    references = ["b-2", "B_1", "a-10", "A_9", "_z", "Z", "ord-3", "ORD-20", "Ord_1"]
    lines = [
        f"{ref},2025-01-{1 + n:02d}T10:00:00Z,ETH,{WALLET_A},deposit,1.{n:018d},0,confirmed,\n"
        for n, ref in enumerate(references)
    ]
    source = tmp_path / "mixed.csv"
    source.write_text(DEFAULT_HEADER + "".join(lines), encoding="utf-8")
    file = tmp_path / "books.db"
    stored, on_server = _imported_on_both(cli, source, file, en_us_postgres_url)
    assert [row[0] for row in stored] == sorted(references)  # bytes
    assert on_server == stored
    on_file_check = scenario_check(cli, file, "--format", "json")
    on_server_check = scenario_check(cli, en_us_postgres_url, "--format", "json")
    assert on_server_check.code == on_file_check.code == 1
    assert _document(on_server_check) == _document(on_file_check)


def _reports_as_a_file_does_and_acknowledges(cli, url: str, tmp_path: Path) -> str:
    """The scenario's check through `url` gives a file's report, and its first cause can
    be acknowledged there: that cause's id."""
    on_file = scenario_check(cli, tmp_path / "books.db", "--format", "json")
    on_server = scenario_check(cli, url, "--format", "json")
    assert on_server.code == on_file.code == 1, on_server.err
    assert _document(on_server) == _document(on_file)
    cause: str = _document(on_server)["causes"][0]["id"]
    acknowledged = cli("--db", url, "ack", cause, "--note", "seen", "--by", "ana")
    assert acknowledged.code == 0, acknowledged.err
    return cause


def test_a_server_with_its_administrators_own_defaults_stores_and_reports_as_a_file_does(
    cli, shared_url, tmp_path
):
    cause = _reports_as_a_file_does_and_acknowledges(cli, shared_url, tmp_path)
    again = scenario_check(cli, shared_url, "--format", "json")
    assert [c["id"] for c in _document(again)["causes"] if c["acknowledged"]] == [cause]


def _names_file(path: Path) -> Path:
    """Records whose wallets are named in letters no single-byte encoding holds together."""
    names = ["Café € Ünïcode", "Marketplace ☕", "東京 wallet", "plain"]
    lines = [
        f"N-{n},2025-01-0{1 + n}T10:00:00Z,ETH,{WALLET_A},{name},deposit,1.{n:018d},0,confirmed,\n"
        for n, name in enumerate(names)
    ]
    header = DEFAULT_HEADER.replace("wallet_id,", "wallet_id,wallet_name,")
    path.write_text(header + "".join(lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("encoding", ["LATIN1", "SQL_ASCII"])
def test_a_database_that_cannot_keep_every_name_is_refused_and_left_as_it_was(
    cli, postgres_server, tmp_path, encoding
):
    # A LATIN1 database would refuse the first euro sign mid-import, or (before the store
    # asked for UTF-8 both ways) keep "CafÃ©"; SQL_ASCII keeps whatever bytes it is sent.
    source = _names_file(tmp_path / "names.csv")
    with fresh_database(postgres_server, encoding=encoding) as url:
        shown = masked(url).replace(":***@", ":********@")
        for args in (["import", source], ["db", "copy", tmp_path / "none.db", url]):
            if args[0] == "db":
                assert cli("--db", tmp_path / "none.db", "import", source).code == 0
            result = cli("--db", url, *args)
            assert result.code == 4, result.err
            assert result.err.strip().splitlines() == [
                f"error: database {shown} keeps its text as {encoding}; the store needs"
                " a UTF8 database: create one with CREATE DATABASE ... ENCODING 'UTF8'"
                " TEMPLATE template0"
            ]
            assert rows_of(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == []


def test_the_clients_encoding_is_utf8_whatever_the_environment_says(
    cli, postgres_url, tmp_path, monkeypatch
):
    # libpq reads PGCLIENTENCODING from the environment; LATIN1 there would make the
    # server turn every UTF-8 byte the store sends into a letter of its own.
    monkeypatch.setenv("PGCLIENTENCODING", "LATIN1")
    source = _names_file(tmp_path / "names.csv")
    stored, on_server = _imported_on_both(cli, source, tmp_path / "books.db", postgres_url)
    assert [row[4] for row in stored] == [
        "Café € Ünïcode",
        "Marketplace ☕",
        "東京 wallet",
        "plain",
    ]
    assert on_server == stored
    monkeypatch.delenv("PGCLIENTENCODING")
    names = rows_of(postgres_url, "SELECT wallet_name FROM records ORDER BY reference")
    assert [name for (name,) in names] == [row[4] for row in stored]


@pytest.fixture
def pooled_url(postgres_url: str):
    """`postgres_url`'s database through a PgBouncer pooling sessions."""
    try:
        with pooled(postgres_url) as url:
            yield url
    except NoPostgres as missing:
        pytest.fail(str(missing), pytrace=False)


def test_a_pooler_in_session_mode_stores_and_reports_as_a_direct_connection_does(
    cli, postgres_url, pooled_url, tmp_path
):
    # PgBouncer refuses the startup parameter `options`: the store's own settings are set
    # once connected, so a team's pooler passes them on (docs/postgresql.md, "Poolers").
    cause = _reports_as_a_file_does_and_acknowledges(cli, pooled_url, tmp_path)
    with Store(pooled_url) as store:
        assert store.query_one("SHOW lock_timeout")[0] == "10s"
        assert store.query_one("SHOW TimeZone")[0] == "UTC"
        assert store.query_one("SHOW default_transaction_isolation")[0] == "read committed"
    # What went through the pooler is on the server, for a direct connection to read.
    direct = scenario_check(cli, postgres_url, "--format", "json")
    assert [c["id"] for c in _document(direct)["causes"] if c["acknowledged"]] == [cause]


def test_a_pooler_refusing_the_urls_own_options_says_where_to_set_them(cli, pooled_url):
    result = scenario_check(cli, f"{pooled_url}?options=-csearch_path%3Dbooks")
    assert result.code == 4
    assert result.err.strip().splitlines() == [
        f"error: database {masked(pooled_url).replace(':***@', ':********@')}"
        "?options=-csearch_path%3Dbooks: the server or a pooler in front of it refuses the"
        " URL's options: a pooler such as PgBouncer takes none; set them on the role instead"
        " (ALTER ROLE ... SET search_path = ...)"
    ]


def test_a_password_in_reconcile_db_is_masked_as_soon_as_the_settings_load():
    from reconcile_tui import redaction
    from reconcile_tui.config import load_settings

    password = "pw-" + uuid.uuid4().hex
    assert redaction.mask(password) == password
    load_settings(environ={"RECONCILE_DB": f"postgresql://alice:{password}@db.example/books"})
    # Any line printed from here on, before or without a connection, is masked.
    assert redaction.mask(f"x {password} y") == f"x {redaction.MASK} y"


def test_the_urls_own_options_are_kept_a_schema_of_its_own_included(cli, postgres_url):
    # A team's database may hold the store in a schema of its own: the URL says so, and
    # the store's settings (lock timeout, UTC) are added beside it, not over it.
    in_books = f"{postgres_url}?options=-csearch_path%3Dbooks"
    missing = scenario_check(cli, in_books)
    assert missing.code == 4
    assert "no schema to keep the store in" in missing.err
    assert "create the schema the search_path names (the URL's options or the role's" in (
        missing.err
    )
    assert len(missing.err.strip().splitlines()) == 1
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA books")
    assert scenario_check(cli, in_books).code == 1
    tables = {
        row[0]
        for row in rows_of(
            postgres_url,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'books'",
        )
    }
    assert set(current_tables()) <= tables
    with Store(in_books) as store:
        assert store.query_one("SHOW lock_timeout")[0] == "10s"
        assert store.query_one("SHOW TimeZone")[0] == "UTC"


def test_a_libpq_connection_string_names_the_same_server_database(
    cli, postgres_url, tmp_path, monkeypatch
):
    # psql's other form, `host=... dbname=...`: the same store as the URL, never a file
    # of that name, and its password never printed.
    monkeypatch.chdir(tmp_path)
    parts = urlsplit(postgres_url)
    password = unquote(parts.password or "")
    assert password
    keywords = (
        f"host={parts.hostname} port={parts.port} dbname='{parts.path.lstrip('/')}'"
        f" user={parts.username} password='{password}'"
    )
    by_url = scenario_check(cli, postgres_url, "--format", "json")
    by_keywords = cli(
        "--db", keywords, "--config", SCENARIO / "reconcile.toml",
        "check", "--offline", "--format", "json",
    )  # fmt: skip
    assert (by_url.code, by_keywords.code) == (1, 1)
    first, second = json.loads(by_url.out), json.loads(by_keywords.out)
    assert second["discrepancies"] == first["discrepancies"]
    assert second["summary"] == first["summary"]
    wrong = cli("--db", keywords.replace(password, "not-the-password"), "check", "--offline")
    assert wrong.code == 4
    assert "refused the user or password" in wrong.err
    assert "not-the-password" not in wrong.err
    for result in (by_url, by_keywords, wrong):
        assert password not in result.out + result.err
    # One libpq refuses is bad usage, said in one line that quotes no value.
    refused = cli("--db", keywords.replace(" user=", " usr="), "check", "--offline")
    assert refused.code == 2
    assert refused.err.strip().splitlines() == [
        "error: Invalid value for '--db': the value is a connection string libpq does not"
        ' read (invalid connection option "usr"): give keyword=value pairs (host=...'
        " dbname=... user=...) or a postgresql:// URL"
    ]
    copied = cli("db", "copy", tmp_path / "none.db", keywords.replace(" user=", " usr="))
    assert copied.code == 2
    assert (
        copied.err.strip()
        .splitlines()[0]
        .startswith("error: db copy: DST is a connection string libpq does not read")
    )
    assert list(tmp_path.iterdir()) == []


def test_a_server_url_in_another_spelling_is_the_same_store_and_another_database_no_file(
    cli, postgres_url, tmp_path, monkeypatch
):
    # `POSTGRESQL://` and an application's `postgresql+psycopg://` used to become SQLite
    # files (in a folder named after the scheme), their error lines printing the password.
    monkeypatch.chdir(tmp_path)
    password = unquote(urlsplit(postgres_url).password or "")
    assert password
    scheme, rest = postgres_url.split("://", 1)
    by_url = scenario_check(cli, postgres_url, "--format", "json")
    for spelling in ("POSTGRESQL", f"{scheme}+psycopg"):
        other = cli(
            "--db", f"{spelling}://{rest}", "--config", SCENARIO / "reconcile.toml",
            "check", "--offline", "--format", "json",
        )  # fmt: skip
        assert other.code == by_url.code == 1
        assert json.loads(other.out)["discrepancies"] == json.loads(by_url.out)["discrepancies"]
        assert password not in other.out + other.err
    refused = cli("--db", f"mysql://{rest}", "check", "--offline")
    assert refused.code == 2
    assert refused.err.strip().splitlines() == [
        "error: Invalid value for '--db': the value is a mysql:// URL, which names no"
        " database this product keeps: give a SQLite file's path or a postgresql:// URL"
    ]
    assert list(tmp_path.iterdir()) == []


# -- each person a role of their own ------------------------------------------------------


def test_a_role_without_the_grants_is_told_which_the_owner_gives(cli, postgres_url, tmp_path):
    # A schema of the store's own, so the role starts with no right on it whatever the
    # server's version (PostgreSQL 14 lets everyone create in `public`).
    role, password = f"person_{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    in_books = f"{postgres_url}?options=-csearch_path%3Dbooks"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("CREATE SCHEMA books")
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        database = admin.execute("SELECT current_database()").fetchone()[0]
        admin.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
    try:
        second = f"{as_role(postgres_url, role, password)}?options=-csearch_path%3Dbooks"
        unseen = cli("--db", second, "closes")  # a schema the role may not even look in
        assert unseen.code == 4
        assert "or grant this role USAGE and CREATE on it" in unseen.err
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"GRANT USAGE ON SCHEMA books TO {role}")
        # Only reading, it creates nothing: there is no store yet.
        reading = cli("--db", second, "closes")
        assert reading.code == 2
        assert "holds no reconcile-tui store yet; run `reconcile-tui check` first" in reading.err
        first_run = cli("--db", second, "import", big_file(tmp_path / "few.csv", 3))
        assert first_run.code == 4
        assert "this role may not create the store's tables" in first_run.err
        assert "grants CREATE on the schema" in first_run.err
        assert password not in first_run.err
        assert len(first_run.err.strip().splitlines()) == 1
        assert rows_of(postgres_url, "SELECT 1 FROM pg_tables WHERE schemaname = 'books'") == []
        owner = cli("--db", in_books, "import", big_file(tmp_path / "own.csv", 2))
        assert owner.code == 0, owner.err  # the owner makes the store
        not_granted = cli("--db", second, "closes")
        assert not_granted.code == 4
        assert "this role may not use the store's tables" in not_granted.err
        assert "SELECT, INSERT, UPDATE, DELETE" in not_granted.err
        assert len(not_granted.err.strip().splitlines()) == 1
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"REVOKE USAGE ON SCHEMA books FROM {role}")
            admin.execute(f'REVOKE CONNECT ON DATABASE "{database}" FROM {role}')
            admin.execute(f"DROP ROLE {role}")


def test_a_role_refused_the_stores_function_is_told_the_grant(cli, postgres_url):
    # A common hardening revokes EXECUTE from everyone by default: the README's grants
    # let a second person import and check, but `export`, `ack` and `close` failed with
    # the server's bare "permission denied for function same_amount".
    role, password = f"person_{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC")
    assert scenario_check(cli, postgres_url).code == 1
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        database = admin.execute("SELECT current_database()").fetchone()[0]
        admin.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
        admin.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        admin.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    try:
        second = as_role(postgres_url, role, password)
        refused = cli("--db", second, "export", "--output", "-")
        assert refused.code == 4
        assert "this role may not use the store's functions" in refused.err
        assert "grants EXECUTE on all functions in the schema" in refused.err
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role}")
        assert cli("--db", second, "export", "--output", "-").code == 0
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC")
            for what in ("TABLES", "SEQUENCES", "FUNCTIONS"):
                admin.execute(f"REVOKE ALL ON ALL {what} IN SCHEMA public FROM {role}")
            admin.execute(f'REVOKE CONNECT ON DATABASE "{database}" FROM {role}')
            admin.execute(f"DROP ROLE {role}")


def test_a_second_person_with_a_role_of_their_own_imports_checks_and_acknowledges(
    cli, postgres_url, tmp_path
):
    # The first person's role made the store and owns its tables; the second is granted
    # the rows only (README, "Shared store"). A first import adds every record, which
    # rebuilds the indexes: only an owner may, so the second person's keeps them.
    assert scenario_check(cli, postgres_url).code == 1
    role, password = f"person_{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    grants = (
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    )
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        database = admin.execute("SELECT current_database()").fetchone()[0]
        admin.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
        for grant in grants:
            admin.execute(grant.format(role=role))
    try:
        second = as_role(postgres_url, role, password)
        before = rows_of(postgres_url, "SELECT indexdef FROM pg_indexes ORDER BY 1")
        rows = 2_000
        imported = cli("--db", second, "import", big_file(tmp_path / "more.csv", rows))
        assert imported.code == 0, imported.err
        assert f"{rows} new" in imported.out
        assert rows_of(postgres_url, "SELECT indexdef FROM pg_indexes ORDER BY 1") == before
        config = SCENARIO / "reconcile.toml"
        checked = cli("--db", second, "--config", config, "check", "--offline", "--format", "json")
        assert checked.code == 1, checked.err
        cause = json.loads(checked.out)["causes"][0]["id"]
        acked = cli("--db", second, "ack", cause, "--note", "seen", "--by", role)
        assert acked.code == 0, acked.err
        assert rows_of(postgres_url, "SELECT acknowledged_by FROM acknowledgements") == [(role,)]
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            for grant in grants:
                admin.execute(
                    grant.format(role=role).replace("GRANT", "REVOKE", 1).replace(" TO ", " FROM ")
                )
            admin.execute(f'REVOKE CONNECT ON DATABASE "{database}" FROM {role}')
            admin.execute(f"DROP ROLE {role}")
