"""An export of dates (`dates_only`): records stored at their day's midnight, checked
against a gateway that knows every time (docs/causes.md, "Dates only").

The sandbox's faithful books, written as a bank statement would print them (the day in
the statement's zone, no time), must check clean: every record is in another hour than
its transaction, which is no mistake, so the `time_differs` of each becomes one
`times_unknown` warning per wallet that still explains every gap. A record dated a day
off stays an error, and says the records give only a date.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.integration.test_causes_scenario import cli, env_of, generate, serve

__all__ = ["cli"]

pytestmark = pytest.mark.slow


def as_statement(source: Path, target: Path, zone: str, *, shift: str | None = None) -> None:
    """`source` with each time replaced by its day in `zone`; the record `shift` names is
    dated on another day."""
    with source.open(encoding="utf-8", newline="") as given:
        rows = list(csv.DictReader(given))
    for row in rows:
        moment = datetime.fromisoformat(row["occurred_at"]).astimezone(ZoneInfo(zone))
        day = moment.date()
        if row["reference"] == shift:
            day = day.replace(day=day.day + 1) if day.day < 28 else day.replace(day=1)
        row["occurred_at"] = day.isoformat()
    with target.open("w", encoding="utf-8", newline="") as written:
        writer = csv.DictWriter(written, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def mapping(folder: Path, zone: str) -> Path:
    path = folder / f"dates-{zone.replace('/', '-')}.toml"
    path.write_text(
        f'[csv]\ndate_format = "%Y-%m-%d"\ndates_only = true\ntimezone = "{zone}"\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("interval", ["daily", "hourly"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_faithful_books_as_an_export_of_dates_check_clean_with_one_warning_per_wallet(
    cli, sandbox_factory, tmp_path, db_path, zone, interval
):
    folder = tmp_path / "books"
    generate(cli, folder, 41, "7d", interval, 0)
    env = env_of(serve(sandbox_factory, folder), db_path)
    statement = tmp_path / "statement.csv"
    as_statement(folder / "merchant.csv", statement, zone)
    imported = cli("import", statement, "--mapping", mapping(tmp_path, zone), env=env)
    assert imported.code == 0, imported.err
    assert "times unknown (the export has dates only)" in imported.out

    result = cli("check", "--interval", interval, "--format", "json", env=env)
    assert result.code == 0, result.err
    document = json.loads(result.out)
    kinds = Counter((cause["kind"], cause["severity"]) for cause in document["causes"])
    assert not [kind for kind, severity in kinds if severity == "error"]
    assert "time_differs" not in {kind for kind, _ in kinds}
    unknown = [c for c in document["causes"] if c["kind"] == "times_unknown"]
    # One per wallet, naming every record of it that the gateway lists (all of them).
    assert len({(c["currency"], c["wallet_id"]) for c in unknown}) == len(unknown)
    named = sum(len(c["references"]) for c in unknown)
    listed = {t for c in unknown for t in c["gateway_ids"]}
    assert named == len(listed) > 100
    assert all(f"an export of dates ({zone})" in c["message"] for c in unknown)
    # Every gap the midnight bookings make is explained by them, nothing left over.
    assert set(document["summary"]["unexplained"].values()) <= {"0"}
    explaining = {c["id"] for c in unknown}
    for discrepancy in document["discrepancies"]:
        if discrepancy["kind"] == "history_mismatch":
            assert set(discrepancy["causes"]) & explaining, discrepancy


def test_a_record_dated_a_day_off_stays_an_error_that_says_the_records_give_a_date(
    cli, sandbox_factory, tmp_path, db_path
):
    folder = tmp_path / "books"
    generate(cli, folder, 41, "7d", "daily", 0)
    env = env_of(serve(sandbox_factory, folder), db_path)
    with (folder / "merchant.csv").open(encoding="utf-8") as given:
        reference = next(
            row["reference"] for row in csv.DictReader(given) if row["status"] == "completed"
        )
    statement = tmp_path / "statement.csv"
    as_statement(folder / "merchant.csv", statement, "UTC", shift=reference)
    assert cli("import", statement, "--mapping", mapping(tmp_path, "UTC"), env=env).code == 0

    result = cli("check", "--format", "json", env=env)
    assert result.code == 1
    errors = [c for c in json.loads(result.out)["causes"] if c["severity"] == "error"]
    assert [(c["kind"], c["references"]) for c in errors] == [("time_differs", [reference])]
    assert "(the records give only its date: " in errors[0]["message"]
