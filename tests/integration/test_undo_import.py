"""Taking an import back (`reconcile-tui imports undo`): a file imported with the wrong
mapping added hundreds of wrong records, and the only way out was a new database, which
lost every acknowledgement and sign-off (docs/mapping.md, "Taking an import back")."""

from __future__ import annotations

import json
from pathlib import Path

from reconcile_tui.store.db import Store
from reconcile_tui.store.schema import current_tables
from tests.conftest import DEFAULT_HEADER, SCENARIO, WALLET_A
from tests.integration.test_cli import cli, scenario_check

__all__ = ["cli"]

#: Inside the scenario's stored history (daily buckets 2025-01-09 .. 2025-01-15).
PERIOD = "2025-01-10..2025-01-14"


def _new_records(tmp_path: Path, name: str = "wrong.csv") -> Path:
    """Records of references no other file has: an import that only adds."""
    path = tmp_path / name
    path.write_text(
        DEFAULT_HEADER
        + f"UNDO-1,2025-01-11T09:00:00Z,USDTERC20,{WALLET_A},deposit,5,0,confirmed,0x0d\n"
        + f"UNDO-2,2025-01-12T09:00:00Z,ETH,{WALLET_A},deposit,0.5,0,confirmed,0x0e\n"
        + f"UNDO-2,2025-01-12T09:00:00Z,ETH,{WALLET_A},deposit,0.6,0,confirmed,0x0e\n"
        + f"UNDO-3,2025-01-32T09:00:00Z,ETH,{WALLET_A},deposit,0.5,0,confirmed,0x0f\n",
        encoding="utf-8",
    )
    return path


def _dump(db: Path | str) -> dict[str, list[tuple]]:
    """Every table but the ones an undo and a check write to, row by row."""
    kept = [t for t in current_tables() if t not in ("imports", "runs", "run_discrepancies",
                                                      "run_causes")]  # fmt: skip
    with Store(db) as store:
        return {
            t: sorted((tuple(r) for r in store.query(f"SELECT * FROM {t}")), key=repr) for t in kept
        }


def test_undoing_the_latest_import_leaves_the_store_as_it_was_before_it(cli, db_path, tmp_path):
    assert (
        scenario_check(cli, db_path, records="records_repaired.csv", api="api_repaired").code == 0
    )
    before = _dump(db_path)
    checked_before = cli("--db", db_path, "check", "--offline", "--format", "json")
    wrong = _new_records(tmp_path)
    imported = cli("--db", db_path, "import", "--quarantine", wrong)
    assert imported.code == 0, imported.err
    assert "2 new" in imported.out
    assert _dump(db_path) != before

    undone = cli("--db", db_path, "imports", "undo", "2", "--note", "wrong mapping", "--by", "ana")
    assert undone.code == 0, undone.err
    assert undone.out.startswith(f"import #2 of {wrong} undone: 2 records removed;")
    # Records, day sums, repeats and set-aside rows: all as before the import.
    assert _dump(db_path) == before
    again = cli("--db", db_path, "check", "--offline", "--format", "json")
    assert again.code == 0
    assert json.loads(again.out)["summary"] == json.loads(checked_before.out)["summary"]
    # The row stays for the audit trail, and says who took it back and why.
    listed = json.loads(cli("--db", db_path, "imports", "--format", "json").out)["imports"]
    assert [(i["id"], i["undone_by"], i["undo_note"]) for i in listed] == [
        (2, "ana", "wrong mapping"),
        (1, None, None),
    ]
    text = cli("--db", db_path, "imports").out
    assert f"#2 file: {wrong}" in text
    assert "#2 undone at " in text
    assert "by ana: wrong mapping" in text
    # The same file may be imported again: it is not "already imported".
    assert "2 new" in cli("--db", db_path, "import", "--quarantine", wrong).out


def test_a_sign_off_the_undone_import_touched_lapses_and_the_app_checks_again(
    cli, db_path, tmp_path
):
    from reconcile_tui.config import Settings
    from reconcile_tui.workspace import Workspace

    assert (
        scenario_check(cli, db_path, records="records_repaired.csv", api="api_repaired").code == 0
    )
    assert cli("--db", db_path, "import", "--quarantine", _new_records(tmp_path)).code == 0
    assert cli("--db", db_path, "check", "--offline").code in (0, 1)
    assert cli("--db", db_path, "close", PERIOD, "--note", "x", "--accept-open").code == 0
    assert cli("--db", db_path, "imports", "undo", "2", "--note", "wrong file").code == 0
    with Workspace(Settings(), db_path=db_path) as workspace:
        assert workspace.latest_check_is_out_of_date()
    [signed] = json.loads(cli("--db", db_path, "closes", "--format", "json").out)["closes"]
    assert signed["state"] == "lapsed"
    assert "USDTERC20 records' deposit count in 2025-01-10..2025-01-14" in signed["lapsed_because"]


def test_only_the_latest_import_that_only_added_records_can_be_undone(cli, db_path, tmp_path):
    assert scenario_check(cli, db_path).code == 1
    # The scenario's own import met no earlier records, but a later one came after it.
    assert cli("--db", db_path, "import", _new_records(tmp_path)).code == 2  # a bad row
    assert cli("--db", db_path, "import", "--quarantine", _new_records(tmp_path)).code == 0
    refused = cli("--db", db_path, "imports", "undo", "1", "--note", "x")
    assert refused.code == 2
    assert refused.err.strip() == (
        f"error: import #1 of {SCENARIO / 'records.csv'} is not the latest: import #2 came"
        " after it; only the latest import can be undone (undo the later ones first)"
    )
    # An import that met earlier records cannot give back what they were.
    again = tmp_path / "again.csv"
    again.write_text((SCENARIO / "records.csv").read_text(encoding="utf-8"), encoding="utf-8")
    with again.open("a", encoding="utf-8") as more:
        more.write(f"N-1,2025-01-11T00:00:00Z,ETH,{WALLET_A},deposit,1,0,completed,\n")
    assert cli("--db", db_path, "import", again).code == 0
    met = cli("--db", db_path, "imports", "undo", "3", "--note", "x")
    assert met.code == 2
    assert "met 13 records an earlier import stored (0 changed, 13 unchanged)" in met.err
    for args, said in (
        (("imports", "undo", "9", "--note", "x"), "error: no import #9: `reconcile-tui imports`"),
        (("imports", "undo", "3", "--note", " "), "error: undoing an import needs a note"),
        (("imports", "undo", "0", "--note", "x"), "0 is not in the range x>=1"),
    ):
        result = cli("--db", db_path, *args)
        assert result.code == 2
        assert said in result.err
        assert len(result.err.strip().splitlines()) == 1
    assert cli("--db", db_path, "imports", "undo", "2", "--note", "x").code == 2  # not latest
    with Store(db_path) as store:
        assert store.query_one("SELECT count(*) FROM imports WHERE undone_at IS NOT NULL")[0] == 0


def test_imports_on_a_database_that_does_not_exist_creates_nothing(cli, tmp_path):
    missing = tmp_path / "none.db"
    for args in (("imports",), ("imports", "undo", "1", "--note", "x")):
        result = cli("--db", missing, *args)
        assert result.code == 2
        assert "no check has run yet" in result.err
    assert not missing.exists()


def test_a_check_is_out_of_date_by_what_was_stored_since_not_by_the_clocks(db_path, tmp_path):
    # Another person's machine, its clock a day ahead, imported: every later check looked
    # out of date, and the app checked again on every screen (the Periods screen in a
    # loop). A machine a day behind made an import look checked when it was not.
    from datetime import timedelta

    from reconcile_tui.config import load_settings
    from reconcile_tui.workspace import Workspace
    from tests.conftest import PAGE_CLOCK

    settings = load_settings(SCENARIO / "reconcile.toml", environ={})
    saved = Workspace.read_saved_responses(SCENARIO / "api")
    for skew in (timedelta(days=1), -timedelta(days=1)):
        db = tmp_path / f"skew-{skew.days}.db" if isinstance(db_path, Path) else db_path
        with Workspace(settings, db_path=db, clock=lambda: PAGE_CLOCK) as mine:
            if mine.holds_anything():
                continue  # the server's database: one skew is enough
            mine.import_files([SCENARIO / "records.csv"])
            mine.check(*mine.store_saved_responses(saved))
            assert not mine.latest_check_is_out_of_date()
        with Workspace(settings, db_path=db, clock=lambda skew=skew: PAGE_CLOCK + skew) as theirs:
            theirs.import_files([_new_records(tmp_path, f"theirs{skew.days}.csv")], quarantine=True)
        with Workspace(settings, db_path=db, clock=lambda: PAGE_CLOCK) as mine:
            assert mine.latest_check_is_out_of_date()
            assert mine.check_again_if_out_of_date()
            assert not mine.latest_check_is_out_of_date()
            # A fetch stored since (by anyone, at any clock) makes it out of date too.
            mine.store_saved_responses(saved)
            assert mine.latest_check_is_out_of_date()


def test_imports_keeps_every_column_at_any_width(cli, db_path, monkeypatch):
    assert scenario_check(cli, db_path).code == 1
    monkeypatch.setenv("COLUMNS", "40")
    header, row = cli("--db", db_path, "imports").out.splitlines()[:2]
    assert header.split() == ["#", "imported", "at", "read", "new", "updated", "unchanged", "state"]
    assert row.split()[0] == "1"
    assert row.split()[-2:] == ["in", "force"]
