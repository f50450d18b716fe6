"""Hostile use of the commands a CI script runs: empty or wildcard ids, commands run in the
wrong order, odd `--output` targets, control characters in the records."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import stat
import string
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reconcile_tui.store.db import Store
from tests.conftest import SCENARIO, WALLET_A
from tests.integration import test_cli

# The `cli` fixture (in-process runs, a clean environment) and the scenario run, shared.
cli = test_cli.cli
scenario_check = test_cli.scenario_check

SCRIPT = Path(sys.executable).parent / "reconcile-tui"


def _acknowledgements(db: Path | str) -> list[tuple]:
    with Store(db) as store:
        return [tuple(row) for row in store.query("SELECT * FROM acknowledgements")]


@pytest.mark.parametrize("given", ["", "%", "_%_", "%%%%%%%%", "________", "  "])
def test_an_empty_or_wildcard_ack_accepts_nothing_and_fail_on_stays_red(cli, db_path, given):
    assert scenario_check(cli, db_path).code == 1
    result = cli("--db", db_path, "ack", given, "--note", "unset $ID in a script")
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert _acknowledgements(db_path) == []
    again = cli("--db", db_path, "check", "--offline", "--format", "json")
    assert again.code == 1
    assert json.loads(again.out)["summary"]["acknowledged"] == 0


def test_a_short_prefix_says_how_many_characters_to_give(cli, db_path):
    scenario_check(cli, db_path)
    some_id = json.loads(cli("--db", db_path, "check", "--offline", "--format", "json").out)[
        "discrepancies"
    ][0]["id"]
    result = cli("--db", db_path, "ack", some_id[:5], "--note", "n")
    assert result.code == 2
    assert "give at least 6 characters of a discrepancy id" in result.err
    assert cli("--db", db_path, "ack", some_id[:6], "--note", "n").code == 0
    assert [row[1] for row in _acknowledgements(db_path)] == [some_id]


@pytest.mark.parametrize(
    "args",
    [
        ("export", "--output", "out.csv"),
        ("ack", "3f9c2a1b", "--note", "agreed"),
        # It used to create the database and its folders, then say it held nothing.
        ("check", "--offline"),
    ],
    ids=["export", "ack", "check-offline"],
)
def test_export_and_ack_before_any_check_create_nothing_and_say_what_to_do(
    cli, tmp_path, monkeypatch, args
):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "not-yet" / "books.db"
    result = cli("--db", db, *args)
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        f"error: no check has run yet: database {db} does not exist;"
        " run `reconcile-tui check` first"
    ]
    assert not db.parent.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_file_refused_for_its_content_leaves_no_new_database_behind(cli, tmp_path, monkeypatch):
    # The CSV opens and its header is ours, so the database was made before the bad row
    # was found: it used to stay behind, empty, with the folders made for it.
    monkeypatch.chdir(tmp_path)
    lines = (SCENARIO / "records.csv").read_text(encoding="utf-8").splitlines()
    bad = lines[1].split(",")
    bad[1] = "2024-13-45T00:00:00Z"  # occurred_at
    (tmp_path / "bad.csv").write_text("\n".join([*lines[:3], ",".join(bad)]) + "\n")
    db = tmp_path / "not-yet" / "books.db"
    result = cli("--db", db, "import", "bad.csv")
    assert result.code == 2
    assert "is not a real date" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]
    # Stored or quarantined rows keep it, of course.
    assert cli("--db", db, "import", "--quarantine", "bad.csv").code == 0
    assert db.exists()


def test_a_gateway_out_of_reach_leaves_no_new_database_behind(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CRYPTOFUSE_API_URL", "http://127.0.0.1:9")  # discard: refused
    monkeypatch.setenv("CRYPTOFUSE_TOKEN", "t")
    db = tmp_path / "books.db"
    result = cli("--db", db, "check")
    assert result.code == 3
    assert list(tmp_path.iterdir()) == []


def test_an_existing_empty_database_is_kept_when_a_command_is_refused(cli, tmp_path):
    db = tmp_path / "books.db"
    Store(db).close()
    (tmp_path / "bad.csv").write_text("reference,amount\nX,1\n")
    assert cli("--db", db, "import", "bad.csv").code == 2
    assert db.exists()


def test_export_and_ack_on_the_default_database_create_nothing(cli, tmp_path):
    # The `cli` fixture points the default database into tmp_path/data-home.
    for args in (("export", "--output", tmp_path / "x.csv"), ("ack", "abcdef", "--note", "n")):
        result = cli(*args)
        assert result.code == 2
        assert "no check has run yet" in result.err
    assert not (tmp_path / "data-home").exists()
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("given", ["", " "])
def test_an_empty_db_option_says_to_give_a_path(cli, given, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("--db", given, "check", "--offline")
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "error: Invalid value for '--db': is empty: give the database file's path"
        " (e.g. --db books.db), or leave --db out for the default"
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("given", ["", " "])
def test_an_empty_reconcile_db_variable_is_refused_not_the_default(
    cli, given, tmp_path, monkeypatch
):
    # An unset variable in a CI script (RECONCILE_DB=$DB) must not fall back to the
    # default database in the user's home.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    monkeypatch.setenv("RECONCILE_DB", given)
    result = cli("check", "--offline")
    assert result.code == 2
    assert result.err.strip() == (
        "error: environment: RECONCILE_DB is set but empty: give the database file's path,"
        " or unset it for the default"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_directory_as_the_database_says_to_give_a_file(cli, tmp_path, monkeypatch):
    assert "is a directory" in cli("--db", tmp_path, "check", "--offline").err
    monkeypatch.setenv("RECONCILE_DB", str(tmp_path))
    result = cli("check", "--offline")
    assert result.code == 2
    assert result.err.strip() == (
        f"error: database {tmp_path} is a directory: give the database file's path"
    )


# -- --output -------------------------------------------------------------------------


def test_an_output_naming_the_database_or_an_input_is_refused_and_both_stay(cli, tmp_path):
    # `--output` onto the database (or a link to it) used to replace it with the report:
    # the next command found "database disk image is malformed".
    db = tmp_path / "books.db"
    assert test_cli.scenario_check(cli, db).code == 1
    (tmp_path / "link.db").symlink_to(db)
    before = db.read_bytes()
    for args in (
        ("export", "--output", db),
        ("export", "--output", tmp_path / "link.db"),
        ("check", "--offline", "--output", db),
    ):
        result = cli("--db", db, *args)
        assert result.code == 2, result
        assert result.err.strip().splitlines() == [
            f"error: {args[-1]}: is the database this command uses; write to another file"
        ]
    assert db.read_bytes() == before
    records = tmp_path / "records.csv"
    records.write_bytes((SCENARIO / "records.csv").read_bytes())
    drafted = cli("mapping", "draft", records, "--output", records)
    assert drafted.code == 2
    assert drafted.err.strip().splitlines() == [
        f"error: {records}: is the CSV file this command reads; write to another file"
    ]
    assert records.read_bytes() == (SCENARIO / "records.csv").read_bytes()
    # Another file is written as ever.
    assert cli("--db", db, "export", "--output", tmp_path / "causes.csv").code == 0


def test_a_report_written_over_a_private_file_stays_private(cli, db_path, tmp_path):
    report = tmp_path / "report.json"
    report.write_text("{}")
    report.chmod(0o600)
    result = scenario_check(cli, db_path, "--format", "json", "--output", report)
    assert result.code == 1
    assert json.loads(report.read_text())["schema_version"]
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    exported = cli("--db", db_path, "export", "--output", report, "--format", "json")
    assert exported.code == 0
    assert stat.S_IMODE(report.stat().st_mode) == 0o600


def test_a_report_into_a_fifo_reaches_its_reader(cli, db_path, tmp_path):
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with fifo.open("rb") as stream:
            received.append(stream.read())

    reader = threading.Thread(target=read)
    reader.start()
    result = scenario_check(cli, db_path, "--format", "json", "--output", fifo)
    reader.join()
    assert result.code == 1
    assert len(json.loads(received[0])["discrepancies"]) == 17
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert f"report written to {fifo}" in result.err


def _check_to_dev_stdout(db: Path, stdout) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CRYPTOFUSE")}
    return subprocess.run(
        [
            SCRIPT,
            "--db",
            db,
            "--config",
            SCENARIO / "reconcile.toml",
            "check",
            "--records",
            SCENARIO / "records.csv",
            "--api-dir",
            SCENARIO / "api",
            "--format",
            "markdown",
            "--output",
            "/dev/stdout",
        ],
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env,
        check=False,
    )


def test_a_report_to_dev_stdout_reaches_the_pipe(tmp_path):
    finished = _check_to_dev_stdout(tmp_path / "books.db", subprocess.PIPE)
    assert finished.returncode == 1
    assert finished.stdout.startswith(b"## ")
    assert b"report written to /dev/stdout" in finished.stderr


def test_a_report_to_dev_stdout_appends_to_a_job_summary(tmp_path):
    summary = tmp_path / "step_summary.md"
    summary.write_bytes(b"# earlier steps\n")
    with summary.open("ab") as appended:  # as `>> "$GITHUB_STEP_SUMMARY"` opens it
        finished = _check_to_dev_stdout(tmp_path / "books.db", appended)
    assert finished.returncode == 1
    written = summary.read_bytes()
    assert written.startswith(b"# earlier steps\n## ")
    assert written.count(b"# earlier steps") == 1


# -- control characters -----------------------------------------------------------------

HOSTILE_REFERENCE = "X-\x1b[2J\x07\u202eFDP.exe\u200b\x9b"


@pytest.mark.parametrize("fmt", ["text", "markdown", "csv", "junit", "json"])
def test_control_characters_in_references_never_reach_the_reader_raw(cli, db_path, tmp_path, fmt):
    records = tmp_path / "records.csv"
    twice = (
        f"{HOSTILE_REFERENCE},2025-01-10T10:00:00Z,USDTERC20,{WALLET_A},deposit,1,0,confirmed,\n"
    )
    records.write_text(
        (SCENARIO / "records.csv").read_text(encoding="utf-8") + twice + twice,
        encoding="utf-8",
        newline="",
    )
    result = cli(
        "--db", db_path, "--config", SCENARIO / "reconcile.toml", "check",
        "--records", records, "--api-dir", SCENARIO / "api", "--format", fmt,
    )  # fmt: skip
    assert result.code == 1
    for character in ("\x1b", "\x07", "\u202e", "\u200b", "\x9b"):
        assert character not in result.out, character
    if fmt == "json":
        found = json.loads(result.out)["discrepancies"]
        assert any(HOSTILE_REFERENCE in d["references"] for d in found)
    else:
        shown = result.out.replace("\\\\", "\\")  # Markdown doubles a backslash
        assert "X-\\x1b" in shown
        assert "2J\\x07\\u202eFDP.exe\\u200b\\x9b" in shown
    exported = tmp_path / "export.csv"
    assert cli("--db", db_path, "export", "--output", exported).code == 0
    assert "\x1b" not in exported.read_text(encoding="utf-8")


def test_a_dash_means_standard_output_and_leaves_no_file_named_dash(tmp_path):
    db = tmp_path / "books.db"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CRYPTOFUSE")}
    checked = subprocess.run(
        [
            SCRIPT, "--db", db, "--config", SCENARIO / "reconcile.toml", "check",
            "--records", SCENARIO / "records.csv", "--api-dir", SCENARIO / "api",
            "--format", "json", "--output", "-",
        ],
        capture_output=True, env=env, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert checked.returncode == 1
    assert json.loads(checked.stdout)["schema_version"] == 2
    exported = subprocess.run(
        [SCRIPT, "--db", db, "export", "--output", "-"],
        capture_output=True, env=env, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert exported.returncode == 0
    # Standard output holds the CSV and nothing else; the message is on stderr.
    rows = list(csv.reader(io.StringIO(exported.stdout.decode("utf-8"))))
    said = exported.stderr.decode("utf-8").strip()
    assert said.endswith("rows written to /dev/stdout")
    assert len(rows) - 1 == int(said.split()[0]) > 0
    assert all(len(row) == len(rows[0]) for row in rows)
    assert not (tmp_path / "-").exists()


def _records_with(tmp_path: Path, name: str, rows: list[str]) -> Path:
    header = "reference,occurred_at,currency,wallet_id,type,amount,fee,status,tx_hash"
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.mark.parametrize("field", ["reference", "wallet_id"])
def test_a_key_longer_than_a_store_keeps_is_a_bad_row_on_both_stores(cli, db_path, tmp_path, field):
    # A server's index takes an entry of at most 2704 bytes: a 5,000-character reference
    # of random letters was "the connection to the server was lost", while a file took it.
    long = "".join(random.Random(7).choices(string.ascii_letters + string.digits, k=5000))
    wallet = long if field == "wallet_id" else WALLET_A
    reference = long if field == "reference" else "K-1"
    at_the_limit = "R" * 256
    rows = [
        f"{reference},2025-01-10T10:00:00Z,ETH,{wallet},deposit,1,0,confirmed,",
        f"{at_the_limit},2025-01-10T11:00:00Z,ETH,{WALLET_A},deposit,2,0,confirmed,",
    ]
    export = _records_with(tmp_path, "keys.csv", rows)
    refused = cli("--db", db_path, "import", export)
    assert refused.code == 2
    assert f"keys.csv:2: {field} is 5,000 characters long; at most 256 are kept" in refused.err
    kept = cli("--db", db_path, "import", export, "--quarantine")
    assert kept.code == 0, kept.err
    assert "1 new" in kept.out
    with Store(db_path) as store:
        assert [row[0] for row in store.query("SELECT reference FROM records")] == [at_the_limit]


def test_a_field_longer_than_the_readers_limit_is_a_bad_row_in_a_plain_file(cli, db_path, tmp_path):
    # A plain file took the fast path, which let a 131,073-character hash through.
    rows = [
        f"F-1,2025-01-10T10:00:00Z,ETH,{WALLET_A},deposit,1,0,confirmed,0x{'a' * 131071}",
        f"F-2,2025-01-10T11:00:00Z,ETH,{WALLET_A},deposit,2,0,confirmed,0xb",
    ]
    result = cli("--db", db_path, "import", _records_with(tmp_path, "long.csv", rows))
    assert result.code == 2
    assert "long.csv:2: a field is longer than 131072 characters" in result.err


@pytest.mark.parametrize("offset", ["+05:99", "+22:99", "-0:75", "+24:00"])
def test_a_time_zone_offset_with_more_minutes_than_an_hour_is_a_bad_row(cli, tmp_path, offset):
    # `+05:99` was read as +06:39, moving the record to another hour (or day) unsaid.
    export = tmp_path / "zones.csv"
    export.write_text(
        "id,when,tz,currency,wallet,type,amount,status\n"
        f"Z-1,2025-01-10 10:00:00,+05:45,ETH,{WALLET_A},deposit,1,confirmed\n"
        f"Z-2,2025-01-10 10:00:00,{offset},ETH,{WALLET_A},deposit,1,confirmed\n"
    )
    mapping = tmp_path / "zones.toml"
    mapping.write_text(
        '[columns]\nreference = "id"\noccurred_at = "when"\ntime_zone = "tz"\n'
        'currency = "currency"\nwallet_id = "wallet"\ntype = "type"\namount = "amount"\n'
        'status = "status"\n'
    )
    db = tmp_path / "zones.db"
    refused = cli("--db", db, "import", export, "--mapping", mapping)
    assert refused.code == 2
    assert f"zones.csv:3: time zone '{offset}' is not an offset" in refused.err
    assert cli("--db", db, "import", export, "--mapping", mapping, "--quarantine").code == 0
    with Store(db) as store:
        assert [
            tuple(row) for row in store.query("SELECT reference, occurred_at FROM records")
        ] == [("Z-1", "2025-01-10T04:15:00Z")]


@pytest.mark.parametrize("args", [(), ("demo",)], ids=["app", "demo"])
def test_the_app_without_a_terminal_is_bad_usage_at_once(tmp_path, args):
    # A CI job that ran the bare command waited for keys forever.
    done = subprocess.run(
        [sys.executable, "-m", "reconcile_tui", "--db", str(tmp_path / "b.db"), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    what = "the demo" if args else "the app"
    assert done.stderr.strip().splitlines() == [
        f"error: {what} needs a terminal (standard input and output are not one): give a"
        " command, e.g. `reconcile-tui check` (`reconcile-tui --help` lists them)"
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("import", "/proc/self/mem"), "cannot read this CSV file (Input/output error); nothing"),
        (("check", "--offline", "--records", "/proc/self/mem"), "cannot read this CSV file"),
        (("mapping", "draft", "/proc/self/mem"), "cannot read this CSV file (Input/output error)"),
    ],
)
def test_a_file_that_fails_while_being_read_is_exit_2_in_one_line(cli, db_path, args, said):
    # Linux answers a read of the process's memory at offset 0 with EIO: the import was
    # exit 70, "internal error: OSError".
    assert scenario_check(cli, db_path).code == 1
    result = cli("--db", db_path, *args)
    assert result.code == 2
    assert result.err == f"error: /proc/self/mem: {said}" + result.err.split(said, 1)[1]
    assert "\n" not in result.err.rstrip("\n")
    with Store(db_path) as store:
        assert store.query_one("SELECT count(*) FROM imports")[0] == 1
