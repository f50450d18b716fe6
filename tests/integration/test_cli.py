"""The `reconcile-tui` command as CI runs it: exit codes, one clear line, reports on disk."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconcile_tui.cli import main
from reconcile_tui.store.db import Store
from reconcile_tui.store.schema import SCHEMA_VERSION
from tests.conftest import DEFAULT_HEADER, SCENARIO, WALLET_A


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    """Run `reconcile-tui ARGS` in-process, with a clean environment."""
    for name in (
        "RECONCILE_DB",
        "CRYPTOFUSE_API_URL",
        "CRYPTOFUSE_TOKEN",
        "CRYPTOFUSE_CLIENT_ID",
        "CRYPTOFUSE_CLIENT_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))

    def run(*args: str | Path) -> Result:
        with pytest.raises(SystemExit) as exited:
            main([str(arg) for arg in args])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return Result(int(exited.value.code or 0), out, err)

    return run


def scenario_check(
    cli, db: Path, *extra: str | Path, records: str = "records.csv", api: str = "api"
):
    return cli(
        "--db", db, "--config", SCENARIO / "reconcile.toml",
        "check", "--records", SCENARIO / records, "--api-dir", SCENARIO / api, *extra,
    )  # fmt: skip


def test_check_reports_the_scenario_and_exits_1(cli, db_path):
    result = scenario_check(cli, db_path, "--format", "json")
    assert result.code == 1
    document = json.loads(result.out)
    assert document["schema_version"] == 2
    assert len(document["discrepancies"]) == 17
    assert document["summary"]["errors"] == 14
    assert "imported: 14 rows read" in result.err


def test_the_repaired_scenario_exits_0_unless_warnings_fail(cli, tmp_path):
    clean = scenario_check(
        cli, tmp_path / "a.db", records="records_repaired.csv", api="api_repaired"
    )
    assert clean.code == 0
    assert "stale_pending" in clean.out  # the text report still shows the warnings
    strict = scenario_check(
        cli,
        tmp_path / "b.db",
        "--fail-on",
        "warning",
        records="records_repaired.csv",
        api="api_repaired",
    )
    assert strict.code == 1


def test_fail_on_never_always_exits_0(cli, db_path):
    assert scenario_check(cli, db_path, "--fail-on", "never").code == 0


@pytest.mark.parametrize(
    ("fmt", "probe"), [("junit", "<testsuites"), ("markdown", "| "), ("csv", "id,kind")]
)
def test_reports_are_written_to_files(cli, db_path, tmp_path, fmt, probe):
    target = tmp_path / f"report.{fmt}"
    result = scenario_check(cli, db_path, "--format", fmt, "--output", target)
    assert result.code == 1
    assert result.out == ""
    assert probe in target.read_text(encoding="utf-8-sig")
    assert f"report written to {target}" in result.err


def test_export_and_acknowledge_round_trip(cli, db_path, tmp_path):
    scenario_check(cli, db_path)
    exported = tmp_path / "discrepancies.csv"
    result = cli("--db", db_path, "export", "--output", exported, "--discrepancies")
    assert result.code == 0
    assert result.err.strip().endswith(f"rows written to {exported}")
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8-sig"))))
    assert sum(1 for row in rows if row["row"] == "discrepancy") == 17
    fees = next(row for row in rows if row["field"] == "total_fees_paid")
    fees["difference"] = fees["amount"]
    # A plain number a spreadsheet adds up, not text behind a quote.
    assert fees["amount"] == "-0.400000"

    acked = cli(
        "--db", db_path, "ack", fees["id"][:10], "--note", "fee refund agreed", "--by", "ci"
    )
    assert acked.code == 0
    assert "difference -0.400000 accepted" in acked.out
    again = cli("--db", db_path, "check", "--offline", "--format", "json")
    document = json.loads(again.out)
    assert document["summary"]["acknowledged"] == 1
    assert document["summary"]["errors"] == 13

    as_json = tmp_path / "d.json"
    assert cli("--db", db_path, "export", "--output", as_json, "--format", "json").code == 0
    exported_document = json.loads(as_json.read_text())
    assert exported_document["summary"]["acknowledged"] == 1


def test_a_bad_csv_lists_every_bad_row_then_one_summary_line(cli, db_path, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        DEFAULT_HEADER
        + f"B-1,2025-01-09T10:00:00Z,USDTERC20,{WALLET_A},deposit,1e5,0,confirmed,\n"
        + f"B-2,2025-01-09T10:00:00Z,USDTERC20,{WALLET_A},deposit,5,0,settled,\n"
    )
    result = cli("--db", db_path, "import", bad)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert lines[0].startswith(f"{bad}:2: amount: '1e5' uses exponent notation")
    assert lines[1].startswith(f"{bad}:3: status 'settled' is not one of")
    assert lines[-1].startswith(f"error: {bad}: 2 bad rows; nothing was imported")
    assert cli("--db", db_path, "import", "--quarantine", bad).code == 0


def test_dry_run_writes_nothing(cli, db_path):
    result = cli("--db", db_path, "import", "--dry-run", SCENARIO / "records.csv")
    assert result.code == 0
    assert "would import: 14 rows read, 13 new" in result.out
    with Store(db_path) as store:
        assert store.query_one("SELECT count(*) FROM records")[0] == 0


def test_a_dry_run_into_a_database_not_made_yet_makes_none(cli, db_file):
    # It made an empty database, folders and all, beside the one line "would import".
    target = db_file.parent / "books" / "new.db"
    result = cli("--db", target, "import", "--dry-run", SCENARIO / "records.csv")
    assert result.code == 0
    assert "would import: 14 rows read, 13 new" in result.out
    assert not target.parent.exists()


def test_files_after_a_refused_one_are_named_and_the_ones_before_said_as_they_land(
    cli, db_path, write_csv
):
    # Before, the first file's line was never printed: it was imported without a word,
    # and nothing said the third file was never read.
    row = "{},2025-01-01T00:00:00Z,BTC," + WALLET_A + ",deposit,1,0,completed,\n"
    good = write_csv(DEFAULT_HEADER + row.format("G-1"), "good.csv")
    bad = write_csv("reference,occurred_at\nx,y\n", "bad.csv")
    later = write_csv(DEFAULT_HEADER + row.format("L-1"), "later.csv")
    result = cli("--db", db_path, "import", good, bad, later)
    assert result.code == 2
    assert f"{good}: imported: 1 row read, 1 new" in result.out
    assert result.err.splitlines() == [
        f"{later}: not read: the import stopped at {bad}",
        f"error: {bad}:1: missing column 'amount' (columns found: 'reference', 'occurred_at')",
    ]
    with Store(db_path) as store:
        assert [row[0] for row in store.query("SELECT reference FROM records")] == ["G-1"]


def test_offline_check_of_a_history_not_stored_is_refused_before_anything_is_imported(
    cli, db_path, write_csv
):
    # `--period 30d --offline` checked the stored 7d history without a word.
    assert scenario_check(cli, db_path).code == 1
    late = write_csv(
        DEFAULT_HEADER + f"N-1,2025-01-11T00:00:00Z,ETH,{WALLET_A},deposit,1,0,completed,\n"
    )
    for option, value in (("--period", "30d"), ("--interval", "hourly")):
        result = cli("--db", db_path, "check", "--offline", option, value, "--records", late)
        assert result.code == 2
        assert result.err == (
            f"error: {option} {value}: the stored snapshot #1 holds a 7d daily history; run"
            f" `reconcile-tui fetch {option} {value}` first, or leave {option} out to check it\n"
        )
    asked_as_stored = cli("--db", db_path, "check", "--offline", "--period", "7d")
    assert asked_as_stored.code == 1
    with Store(db_path) as store:
        assert store.query_one("SELECT count(*) FROM records WHERE reference = 'N-1'")[0] == 0


def test_a_check_of_saved_answers_with_another_history_asked_is_refused(cli, tmp_path):
    # `--api-dir api --period 30d --interval hourly` checked the saved 7d daily answers
    # without a word (only the report's Period line showed it), as `--offline` used to.
    db = tmp_path / "books.db"
    api = SCENARIO / "api"
    for option, value in (("--period", "30d"), ("--interval", "hourly")):
        result = scenario_check(cli, db, option, value)
        assert result.code == 2
        assert result.err == (
            f"error: {option} {value}: the answers saved in {api} hold a 7d daily history;"
            f" save them again with `reconcile-tui fetch {option} {value} --save {api}`, or"
            f" leave {option} out to check it\n"
        )
        assert not db.exists()
    assert scenario_check(cli, db, "--period", "7d", "--interval", "daily").code == 1


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("import", "missing.csv"), "error: missing.csv: no such CSV file"),
        (("import", "--mapping", "bad.toml", "{good}"), "error: bad.toml: csv.decimal_comma:"),
        (("check", "--records", "missing.csv", "--api-dir", "api"), "error: missing.csv: no such"),
        (("check", "--records", "{good}", "--api-dir", "empty"), "error: empty/balances.json: no"),
    ],
)
def test_refused_inputs_leave_no_new_database_behind(cli, tmp_path, monkeypatch, args, said):
    # Each made a new database (and its folders) before it refused.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.toml").write_text('[csv]\ndecimal_comma = "yes"\n')
    (tmp_path / "empty").mkdir()
    shutil.copytree(SCENARIO / "api", tmp_path / "api")
    given = [arg.format(good=SCENARIO / "records.csv") for arg in args]
    result = cli("--db", tmp_path / "new" / "books.db", *given)
    assert result.code == 2
    assert result.err.startswith(said)
    assert not (tmp_path / "new").exists()


def test_gateway_answers_that_cannot_be_read_leave_the_records_file_unimported(
    cli, db_path, tmp_path
):
    # The records were imported, then the folder refused: half a check's work stored.
    empty = tmp_path / "api"
    empty.mkdir()
    result = cli(
        "--db", db_path, "check", "--records", SCENARIO / "records.csv", "--api-dir", empty
    )
    assert result.code == 2
    assert "balances.json: no such saved response" in result.err
    with Store(db_path) as store:
        assert store.query_one("SELECT count(*) FROM records")[0] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # A file that does not exist is not made; a server's database is there, empty.
        (("check", "--offline"), "no check has run yet|holds no gateway data yet"),
        (("export", "--output", "x.csv"), "no check has run yet"),
        (("ack", "abcdef", "--note", "n"), "no check has run yet"),
        (("import", "missing.csv"), "missing.csv: no such CSV file"),
        (("check", "--offline", "--api-dir", "."), "--api-dir and --offline are alternatives"),
        # Options only a fetch reads were ignored by a check that does not fetch.
        (("check", "--offline", "--refresh"), "--refresh is for fetching from the gateway;"),
        (("check", "--offline", "--currency", "ETH"), "--currency is for fetching"),
        (("check", "--api-dir", ".", "--full-listing"), "--api-dir does not fetch: give one"),
        (("check", "--offline", "--mapping", "m.toml"), "--mapping is the layout of --records"),
        (("check", "--format", "pdf"), "Invalid value for '--format'"),
        (("frobnicate",), "No such command 'frobnicate'"),
        # An empty --output was `.: cannot write (Device or resource busy)`.
        (("export", "--output", ""), "Invalid value for '--output': is empty"),
        # A port no socket can have ended in an internal error.
        (("sandbox", "serve", "--port", "70000"), "Invalid value for '--port'"),
        (("sandbox", "serve", "--port", "-1"), "Invalid value for '--port'"),
    ],
)
def test_usage_and_input_problems_exit_2_with_one_line(cli, db_path, args, message):
    result = cli("--db", db_path, *args)
    assert result.code == 2
    assert re.search(message, result.err)
    assert len(result.err.strip().splitlines()) == 1


def test_a_float_in_the_configuration_is_refused(cli, db_path, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[reconcile]\ntolerance = { USDTERC20 = 0.01 }\n")
    result = cli("--db", db_path, "--config", config, "check", "--offline")
    assert result.code == 2
    assert "TOML float" in result.err


def test_a_database_from_a_newer_version_exits_4(cli, db_file):
    cli("--db", db_file, "import", SCENARIO / "records.csv")
    conn = sqlite3.connect(db_file)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    result = cli("--db", db_file, "check", "--offline")
    assert result.code == 4
    assert "upgrade reconcile-tui" in result.err


def test_a_locked_database_exits_4(cli, db_file, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[store]\nbusy_timeout = 0.2\n")
    cli("--db", db_file, "import", SCENARIO / "records.csv")
    holder = sqlite3.connect(db_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = cli(
            "--db", db_file, "--config", config, "import", SCENARIO / "records_repaired.csv"
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.code == 4
    assert "is locked by another process" in result.err


def test_the_module_and_the_script_both_run():
    version = subprocess.run(
        [sys.executable, "-m", "reconcile_tui", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert version.returncode == 0
    assert version.stdout.startswith("reconcile-tui, version ")
    script = Path(sys.executable).parent / "reconcile-tui"
    helped = subprocess.run([script, "--help"], capture_output=True, text=True, check=False)
    assert helped.returncode == 0
    for command in ("demo", "import", "fetch", "check", "export", "ack", "sandbox"):
        assert command in helped.stdout
