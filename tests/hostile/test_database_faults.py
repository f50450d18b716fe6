"""Database faults: a full disk, a read-only file, two processes writing at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reconcile_tui.errors import DatabaseError
from reconcile_tui.ingest.importer import import_file
from reconcile_tui.store.db import Store
from tests.conftest import DEFAULT_HEADER, PAGE_CLOCK, SCENARIO, WALLET_A


def many_rows(path: Path, count: int, prefix: str = "R") -> Path:
    with path.open("w") as out:
        out.write(DEFAULT_HEADER)
        for i in range(count):
            out.write(
                f"{prefix}-{i},2025-01-09T10:00:00Z,ETH,{WALLET_A},deposit,{i + 1}.5,0,confirmed,\n"
            )
    return path


def test_a_full_disk_during_import_is_one_clear_error_and_nothing_partial(db_file, tmp_path):
    with Store(db_file) as store:
        import_file(store, SCENARIO / "records_repaired.csv", now=PAGE_CLOCK)
        before = list(store.conn.iterdump())
        pages = store.query_one("PRAGMA page_count")[0]
        # Room for a few more pages only: the merge of 20,000 rows cannot fit.
        store.conn.execute(f"PRAGMA max_page_count = {pages + 8}")
        with pytest.raises(DatabaseError, match="the disk is full; nothing was written") as caught:
            import_file(store, many_rows(tmp_path / "big.csv", 20_000), now=PAGE_CLOCK)
        assert caught.value.exit_code == 4
        store.conn.execute("PRAGMA max_page_count = 1073741823")
        assert list(store.conn.iterdump()) == before
        assert store.integrity_problems() == []


def _without_root_powers(command: list[str]) -> list[str]:
    """File modes do not bind root: run as root without the capabilities that bypass them."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    assert setpriv, "running as root needs util-linux setpriv to honour file modes"
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", *command]


def test_a_read_only_database_file_is_a_clear_error_with_exit_4(tmp_path):
    db = tmp_path / "books.db"
    with Store(db) as store:
        import_file(store, SCENARIO / "records.csv", now=PAGE_CLOCK)
    db.chmod(0o444)
    tmp_path.chmod(0o555)  # no new -wal/-shm files either
    before = db.read_bytes()
    try:
        result = subprocess.run(
            _without_root_powers(
                [
                    sys.executable,
                    "-m",
                    "reconcile_tui",
                    "--db",
                    str(db),
                    "import",
                    str(SCENARIO / "records_repaired.csv"),
                ]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        tmp_path.chmod(0o755)
        db.chmod(0o644)
    assert result.returncode == 4, result.stderr
    assert (
        result.stderr.strip().splitlines()[-1]
        == f"error: database {db} is read-only; nothing was written"
    )
    assert db.read_bytes() == before


@pytest.mark.slow
def test_an_import_and_a_headless_check_at_once_both_succeed_and_lose_nothing(tmp_path):
    db = tmp_path / "books.db"
    command = [sys.executable, "-m", "reconcile_tui", "--db", str(db)]
    setup = subprocess.run(
        [*command, "check", "--records", str(SCENARIO / "records.csv"),
         "--api-dir", str(SCENARIO / "api"), "--format", "json"],
        capture_output=True, check=False,
    )  # fmt: skip
    assert setup.returncode == 1, setup.stderr
    big = many_rows(tmp_path / "big.csv", 150_000, prefix="BIG")

    checks = []
    with subprocess.Popen(
        [*command, "import", str(big)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as importer:
        while importer.poll() is None and len(checks) < 30:
            checks.append(
                subprocess.run(
                    [*command, "check", "--offline", "--format", "json"],
                    capture_output=True,
                    check=False,
                )
            )
        _, import_errors = importer.communicate(timeout=120)
    assert importer.returncode == 0, import_errors
    assert checks, "the import finished before any check could run beside it"
    assert [c.returncode for c in checks] == [1] * len(checks), [
        c.stderr for c in checks if c.returncode != 1
    ]
    with Store(db) as store:
        assert store.query_one("SELECT count(*) FROM records")[0] == 150_000 + 13
        assert store.query_one("SELECT count(*) FROM runs")[0] == 1 + len(checks)
        assert store.integrity_problems() == []


@pytest.mark.parametrize(
    ("damage", "args", "what"),
    [
        ("UPDATE runs SET header_json = '{'", ("export", "--output", "-"), "check's header"),
        ("UPDATE closes SET figures_json = 'x'", ("closes",), "sign-off"),
    ],
)
def test_a_stored_run_or_sign_off_damaged_by_hand_is_exit_4_naming_it(tmp_path, damage, args, what):
    # It was exit 70, "internal error: JSONDecodeError".
    db = tmp_path / "books.db"

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "reconcile_tui", "--db", str(db), *command],
            capture_output=True,
            text=True,
            check=False,
        )

    checked = run(
        "--config", str(SCENARIO / "reconcile.toml"), "check",
        "--records", str(SCENARIO / "records.csv"), "--api-dir", str(SCENARIO / "api"),
    )  # fmt: skip
    assert checked.returncode == 1, checked.stderr
    assert run("close", "2025-01-10..2025-01-14", "--note", "n", "--accept-open").returncode == 0
    with Store(db) as store, store.write():
        store.conn.execute(damage)
    result = run(*args)
    assert result.returncode == 4, result.stderr
    assert result.stderr.startswith(f"error: the database holds a damaged {what} (")
