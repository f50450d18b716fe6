"""Causes through the command line: what `check` counts and says, `ack` by cause id, and
the auditors' export (docs/causes.md, docs/report.md)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.integration.test_cli import cli, scenario_check

__all__ = ["cli"]


def _json(result) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(result.out)


def test_check_exits_1_with_one_line_counting_open_causes(cli, db_path):
    result = scenario_check(cli, db_path, "--format", "json")
    assert result.code == 1
    document = _json(result)
    causes = document["summary"]["causes"]
    lines = [line for line in result.err.splitlines() if "open cause" in line]
    assert len(lines) == 1
    # Every open cause, as the report's headline counts them, then which of them fail
    # (it used to start with the errors alone beside the warnings: "8 open causes (8
    # errors, 3 warnings)").
    total = causes["errors"] + causes["warnings"]
    assert causes["warnings"] > 0
    assert lines[0].startswith(
        f"{total} open causes ({causes['errors']} errors, {causes['warnings']} warnings);"
        f" the {causes['errors']} errors fail at --fail-on error;"
    )
    # Each discrepancy lists its causes, and each cause the discrepancies it explains.
    by_id = {c["id"]: c for c in document["causes"]}
    for d in document["discrepancies"]:
        assert d["causes"], d
        for cause in d["causes"]:
            assert d["id"] in by_id[cause]["explains"]


@pytest.mark.parametrize(
    ("errors", "warnings", "fail_on", "said"),
    [
        # It said "the 1 error fail".
        (
            1,
            2,
            "error",
            "3 open causes (1 error, 2 warnings); the 1 error fails at --fail-on error;",
        ),
        (
            2,
            0,
            "error",
            "2 open causes (2 errors, 0 warnings); the 2 errors fail at --fail-on error;",
        ),
        (0, 1, "warning", "1 open cause (0 errors, 1 warning); 1 fails at --fail-on warning;"),
        (1, 1, "warning", "2 open causes (1 error, 1 warning); 2 fail at --fail-on warning;"),
    ],
)
def test_the_exit_1_line_counts_in_words_that_agree(errors, warnings, fail_on, said):
    from reconcile_tui.cli import _open_causes

    assert _open_causes({"errors": errors, "warnings": warnings}, fail_on).startswith(said)


def test_acknowledging_a_cause_closes_its_echoes(cli, db_path, tmp_path):
    document = _json(scenario_check(cli, db_path, "--format", "json"))
    # Without transactions the 18.00 typo is one cause: the bucket where it appears, its
    # deposits, the balances carried forward and total_deposited.
    carried = max(document["causes"], key=lambda c: len(c["explains"]))
    assert len(carried["explains"]) == 6
    acked = cli("--db", db_path, "ack", carried["id"][:8], "--note", "typo, fixed next month")
    assert acked.code == 0
    assert "covers 6 discrepancies" in acked.out

    again = _json(cli("--db", db_path, "check", "--offline", "--format", "json"))
    closed = {d["id"]: d["acknowledged"] for d in again["discrepancies"]}
    assert all(closed[found] for found in carried["explains"])
    assert again["summary"]["causes"]["acknowledged"] == 1
    assert again["summary"]["acknowledged"] == 6
    # The stored run reads the same (the store applies the engine's rule).
    exported = tmp_path / "findings.json"
    assert cli("--db", db_path, "export", "--output", exported, "--format", "json").code == 0
    stored = json.loads(exported.read_text())
    assert stored["summary"] == again["summary"]
    # The export adds who accepted what, when and why.
    assert [{k: v for k, v in c.items() if k != "acknowledgement"} for c in stored["causes"]] == (
        again["causes"]
    )
    assert next(c for c in stored["causes"] if c["id"] == carried["id"])["acknowledgement"][
        "note"
    ] == ("typo, fixed next month")


def test_fail_on_error_goes_green_when_every_cause_is_acknowledged(cli, db_path):
    document = _json(scenario_check(cli, db_path, "--format", "json"))
    for cause in document["causes"]:
        if cause["severity"] == "error":
            assert cli("--db", db_path, "ack", cause["id"], "--note", "accepted").code == 0
    result = cli("--db", db_path, "check", "--offline", "--format", "json")
    assert result.code == 0
    assert "open cause" not in result.err
    assert _json(result)["summary"]["causes"]["errors"] == 0
    # Warnings are still open: at --fail-on warning it still fails.
    assert cli("--db", db_path, "check", "--offline", "--fail-on", "warning").code == 1


def test_an_acknowledged_cause_lapses_when_its_amount_changes(cli, db_path, tmp_path):
    document = _json(scenario_check(cli, db_path, "--format", "json"))
    wallet = next(
        c for c in document["causes"] if c["kind"] == "unexplained" and c["amount"] == "32.000000"
    )
    assert cli("--db", db_path, "ack", wallet["id"], "--note", "known").code == 0
    records = tmp_path / "v2.csv"
    records.write_text(
        (Path(__file__).parents[1] / "fixtures/scenario/records.csv")
        .read_text()
        .replace("deposit,120,0.51,confirmed", "deposit,110,0.51,confirmed")
    )
    again = _json(scenario_check(cli, db_path, "--format", "json"))
    assert next(c for c in again["causes"] if c["id"] == wallet["id"])["acknowledged"] is True
    changed = _json(
        cli(
            "--db",
            db_path,
            "--config",
            Path(__file__).parents[1] / "fixtures/scenario/reconcile.toml",
            "check",
            "--records",
            records,
            "--offline",
            "--format",
            "json",
        )
    )
    lapsed = next(c for c in changed["causes"] if c["id"] == wallet["id"])
    assert lapsed["amount"] == "42.000000"
    assert lapsed["acknowledged"] is False
    # The auditors' export keeps who accepted what: it vanished once it lapsed.
    out = tmp_path / "lapsed.json"
    assert cli("--db", db_path, "export", "--format", "json", "--output", out).code == 0
    exported = json.loads(out.read_text(encoding="utf-8"))
    held = next(c for c in exported["causes"] if c["id"] == wallet["id"])["acknowledgement"]
    assert (held["note"], held["accepted"], held["in_force"]) == ("known", "32.000000", False)
    table = tmp_path / "lapsed.csv"
    assert cli("--db", db_path, "export", "--output", table).code == 0
    rows = csv.DictReader(io.StringIO(table.read_text(encoding="utf-8-sig")))
    row = next(row for row in rows if row["id"] == wallet["id"])
    assert (row["acknowledged"], row["note"], row["accepted_amount"], row["amount"]) == (
        "false",
        "known",
        "32.000000",
        "42.000000",
    )


def test_the_auditors_export_lists_causes_with_who_when_and_why(cli, db_path, tmp_path):
    document = _json(scenario_check(cli, db_path, "--format", "json"))
    fees = next(c for c in document["causes"] if c["amount"] == "-0.400000")
    assert (
        cli("--db", db_path, "ack", fees["id"], "--note", "=refund agreed", "--by", "ana").code == 0
    )
    out = tmp_path / "causes.csv"
    result = cli("--db", db_path, "export", "--output", out)
    assert result.code == 0
    text = out.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["row"] for row in rows} == {"cause"}
    assert len(rows) == len(document["causes"])
    row = next(row for row in rows if row["id"] == fees["id"])
    # A negative amount is a number a spreadsheet adds; a note starting with = is inert.
    assert row["amount"] == "-0.400000"
    assert (row["acknowledged"], row["acknowledged_by"], row["note"]) == (
        "true",
        "ana",
        "'=refund agreed",
    )
    assert row["acknowledged_at"].endswith("Z")
    with_discrepancies = tmp_path / "all.csv"
    assert (
        cli("--db", db_path, "export", "--output", with_discrepancies, "--discrepancies").code == 0
    )
    rows = list(csv.DictReader(io.StringIO(with_discrepancies.read_text(encoding="utf-8-sig"))))
    assert sum(1 for row in rows if row["row"] == "discrepancy") == len(document["discrepancies"])
