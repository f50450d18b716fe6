"""Values that used to get into the database through one import path and break `check`
later are refused on both paths, through the CLI, with file:line and the database as it was;
values at the very edge of what is allowed go in exactly."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from reconcile_tui.cli import main
from reconcile_tui.errors import BadFile
from reconcile_tui.ingest.importer import import_file
from reconcile_tui.store.db import Store
from tests.conftest import DEFAULT_HEADER, PAGE_CLOCK, SCENARIO, WALLET_A

GOOD_ROW = f"R-0,2024-06-01T10:00:00Z,ETH,{WALLET_A},deposit,1.5,0,confirmed,\n"


@dataclass
class Result:
    code: int
    err: str
    out: str


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    """Run `reconcile-tui ARGS` in-process, with a clean environment."""
    for name in ("RECONCILE_DB", "CRYPTOFUSE_API_URL", "CRYPTOFUSE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))

    def run(*args: str | Path) -> Result:
        with pytest.raises(SystemExit) as exited:
            main([str(arg) for arg in args])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return Result(int(exited.value.code or 0), err, out)

    return run


def row(when: str = "2024-06-01T10:00:00Z", amount: str = "1.5", fee: str = "0") -> str:
    return f"R-1,{when},ETH,{WALLET_A},deposit,{amount},{fee},confirmed,\n"


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


BAD_TIMES = [
    "2024-02-30T10:00:00Z",
    "2023-04-31T10:00:00Z",
    "2023-02-29T10:00:00Z",
    "1900-02-29T10:00:00Z",
    "2024-06-01T24:00:00Z",
    "2024-13-01T10:00:00Z",
    "2024-00-10T10:00:00Z",
    "2024-06-00T10:00:00Z",
    "1899-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "3000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "2024-06-01",  # a date alone: midnight is never invented silently
]
TOO_LARGE = ["1" + "0" * 69, "1" * 31, "0001" + "9" * 30 + ".5"]


@pytest.mark.parametrize(
    "bad_row",
    [pytest.param(row(when=when), id=when) for when in BAD_TIMES]
    + [pytest.param(row(amount=amount), id=f"{len(amount)}-digits") for amount in TOO_LARGE]
    + [pytest.param(row(amount="1" + "0" * 40, fee="1" + "0" * 40), id="amount-and-fee")],
)
def test_the_cli_refuses_wrong_data_with_its_line_and_leaves_the_database_as_it_was(
    cli, tmp_path, bad_row
):
    db = tmp_path / "books.db"
    first = tmp_path / "first.csv"
    first.write_text(DEFAULT_HEADER + GOOD_ROW, encoding="utf-8")
    assert cli("--db", db, "import", first).code == 0
    before = dump(db)
    bad = tmp_path / "bad.csv"
    bad.write_text(DEFAULT_HEADER + bad_row, encoding="utf-8")
    result = cli("--db", db, "import", bad)
    assert result.code == 2
    assert f"{bad}:2: " in result.err
    assert dump(db) == before


@pytest.mark.parametrize("careful", [False, True], ids=["fast", "careful"])
@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [pytest.param(row(when=when), "occurred_at", id=when) for when in BAD_TIMES]
    + [
        pytest.param(row(amount=amount), "too large to be money", id=f"{len(amount)}-digits")
        for amount in TOO_LARGE
    ],
)
def test_both_import_paths_refuse_the_same_wrong_data(tmp_path, careful, bad_row, reason):
    path = tmp_path / "bad.csv"
    path.write_text(DEFAULT_HEADER + bad_row, encoding="utf-8")
    with Store(tmp_path / "books.db") as store, pytest.raises(BadFile) as refused:
        import_file(store, path, now=PAGE_CLOCK, careful=careful)
    [problem] = refused.value.problems
    assert problem.line == 2
    assert reason in problem.reason


def stored(tmp_path: Path, body: str, careful: bool, **options: object) -> list[tuple]:
    path = tmp_path / f"records-{careful}.csv"
    path.write_text(DEFAULT_HEADER + body, encoding="utf-8")
    with Store(tmp_path / f"books-{careful}.db") as store:
        import_file(store, path, now=PAGE_CLOCK, careful=careful, **options)  # type: ignore[arg-type]
        return [
            tuple(r)
            for r in store.query(
                "SELECT reference, occurred_at, currency, amount, fee FROM records ORDER BY line"
            )
        ]


@pytest.mark.parametrize("careful", [False, True], ids=["fast", "careful"])
def test_edge_times_that_are_real_go_in_exactly_on_both_paths(tmp_path, careful):
    times = [
        "2024-02-29T23:59:59Z",
        "2000-02-29T00:00:00Z",
        "1900-01-01T00:00:00Z",
        "2023-12-31T23:59:59Z",
        "2024-04-30T00:00:00Z",
        "2025-01-16T10:00:00Z",  # the last second within a day of the import's clock
    ]
    body = "".join(
        f"R-{n},{when},ETH,{WALLET_A},deposit,1,0,confirmed,\n" for n, when in enumerate(times)
    )
    assert [r[1] for r in stored(tmp_path, body, careful)] == times


@pytest.mark.parametrize("careful", [False, True], ids=["fast", "careful"])
def test_amounts_with_more_than_eighteen_places_are_stored_exactly(tmp_path, careful):
    body = (
        f"T-1,2024-06-01T10:00:00Z,TOK,{WALLET_A},deposit,5.00000000000000000099,0,confirmed,\n"
        f"T-2,2024-06-01T10:00:00Z,TOK,{WALLET_A},deposit,7,0.000000000000000000000001,confirmed,\n"
        f"T-3,2024-06-01T10:00:00Z,DOGE,{WALLET_A},deposit,{'9' * 30}.5,0,confirmed,\n"
    )
    rows = stored(tmp_path, body, careful, validation_scales={"TOK": 24, "DOGE": 8})
    assert rows == [
        ("T-1", "2024-06-01T10:00:00Z", "TOK", "5.000000000000000000990000", "0." + "0" * 24),
        ("T-2", "2024-06-01T10:00:00Z", "TOK", "7." + "0" * 24, "0." + "0" * 23 + "1"),
        ("T-3", "2024-06-01T10:00:00Z", "DOGE", "9" * 30 + ".5" + "0" * 17, "0." + "0" * 18),
    ]
    assert Decimal(rows[0][3]) == Decimal("5.00000000000000000099")


@pytest.mark.parametrize("careful", [False, True], ids=["fast", "careful"])
def test_more_places_than_the_gateway_prints_are_refused_not_cut(tmp_path, careful):
    path = tmp_path / "records.csv"
    path.write_text(
        DEFAULT_HEADER
        + f"T-1,2024-06-01T10:00:00Z,TOK,{WALLET_A},deposit,5.000000000000000000001,0,confirmed,\n",
        encoding="utf-8",
    )
    with Store(tmp_path / "books.db") as store, pytest.raises(BadFile) as refused:
        import_file(store, path, now=PAGE_CLOCK, careful=careful, validation_scales={"TOK": 20})
    assert "more decimal places than TOK allows (20)" in refused.value.problems[0].reason


def plant(db: Path, assignment: str) -> None:
    """Make the file one an older version filled: a record it let in, and none of the
    day sums this version keeps (the upgrade builds them from the records)."""
    with sqlite3.connect(db) as conn:
        conn.execute(
            f"UPDATE records SET {assignment} WHERE id = "
            "(SELECT min(id) FROM records WHERE status = 'pending')"
        )
        conn.execute("DROP TABLE record_sums")
        conn.execute("ALTER TABLE imports DROP COLUMN dates_only_zone")  # 0008's
        conn.execute("ALTER TABLE quarantine DROP COLUMN reference")  # 0009's
        conn.execute("ALTER TABLE quarantine DROP COLUMN corrected_by")
        for column in ("undone_at", "undone_by", "undo_note"):  # 0010's
            conn.execute(f"ALTER TABLE imports DROP COLUMN {column}")
        conn.execute("ALTER TABLE runs DROP COLUMN store_state")  # 0011's
        conn.execute("PRAGMA user_version = 6")  # the release before migration 0007


@pytest.mark.parametrize(
    "assignment",
    [
        "occurred_at = '2024-02-30T10:00:00Z'",
        "occurred_at = '2025-01-10T24:00:00Z'",
        "occurred_at = '0001-01-01T00:00:00Z'",
        f"amount = '1{'0' * 69}.000000'",
        "amount = 'abc'",
    ],
)
def test_check_names_a_stored_record_it_cannot_read_instead_of_crashing(cli, tmp_path, assignment):
    """A database an older version filled: one line naming the record, exit 4."""
    db = tmp_path / "books.db"
    config = ("--db", db, "--config", SCENARIO / "reconcile.toml")
    records = SCENARIO / "records.csv"
    first = cli(*config, "check", "--records", records, "--api-dir", SCENARIO / "api")
    assert first.code == 1
    plant(db, assignment)
    result = cli(*config, "check", "--offline")
    assert result.code == 4
    assert "the database holds a record that cannot be read: reference D-4" in result.err
    assert f"{records}:6: " in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_a_record_an_older_version_let_in_is_corrected_by_importing_its_row_again(cli, tmp_path):
    """The upgrade that sums every day cannot sum the unreadable amount: it keeps the file
    open to the import that corrects it, and the check reads the corrected books."""
    db = tmp_path / "books.db"
    config = ("--db", db, "--config", SCENARIO / "reconcile.toml")
    records = SCENARIO / "records.csv"
    report = ("--format", "json", "--output")
    first = cli(*config, "check", "--records", records, "--api-dir", SCENARIO / "api",
                *report, tmp_path / "first.json")  # fmt: skip
    plant(db, "amount = 'abc'")
    refused = cli(*config, "check", "--offline")
    assert refused.code == 4
    assert "cannot be read: reference D-4" in refused.err

    header, *rows = records.read_text(encoding="utf-8").splitlines()
    corrected = tmp_path / "corrected.csv"
    corrected.write_text(
        "\n".join([header, *(row for row in rows if row.startswith("D-4,"))]) + "\n",
        encoding="utf-8",
    )
    imported = cli(*config, "import", corrected)
    assert imported.code == 0, imported.err
    assert "1 updated" in imported.out
    again = cli(*config, "check", "--offline", *report, tmp_path / "again.json")
    assert again.code == first.code == 1

    def figures(name: str) -> dict[str, object]:
        found = json.loads((tmp_path / name).read_text(encoding="utf-8"))
        return {key: found[key] for key in ("summary", "discrepancies", "causes")}

    assert figures("again.json") == figures("first.json")
