"""An import killed with SIGKILL leaves the database exactly as it was, and healthy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reconcile_tui.store.db import Store
from tests.conftest import DEFAULT_HEADER, WALLET_A

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals"),
]

ROWS = 60_000

# The child imports the file; it reports progress so the parent can kill it halfway, or
# (given a SQL fragment) kills itself the moment the merge transaction runs that statement.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from reconcile_tui.ingest.importer import import_file
    from reconcile_tui.store.db import Store

    db, csv_path, kill_at = sys.argv[1], sys.argv[2], sys.argv[3]
    store = Store(db)
    if kill_at != "-":
        def trace(sql):
            if kill_at in sql:
                os.kill(os.getpid(), signal.SIGKILL)
        store.conn.set_trace_callback(trace)

    def progress(p):
        print(f"progress {p.rows_read}", flush=True)

    import_file(store, Path(csv_path), now=datetime(2025, 1, 15, tzinfo=UTC), on_progress=progress)
    print("finished", flush=True)
    """
)


@pytest.fixture
def big_csv(tmp_path: Path) -> Path:
    path = tmp_path / "big.csv"
    with path.open("w") as out:
        out.write(DEFAULT_HEADER)
        for i in range(ROWS):
            day = 1 + i % 9
            out.write(
                f"K-{i},2025-01-0{day}T10:00,ETH,{WALLET_A},deposit,1.{i:018d},0,confirmed,\n"
            )
    return path


@pytest.fixture
def earlier_state(db_file: Path, tmp_path: Path) -> list[str]:
    """A database that already holds one import, and its full dump."""
    first = tmp_path / "first.csv"
    first.write_text(
        DEFAULT_HEADER + f"K-1,2025-01-02T10:00:00Z,ETH,{WALLET_A},deposit,5,0,pending,\n"
    )
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    subprocess.run(
        [sys.executable, str(child), str(db_file), str(first), "-"], check=True, capture_output=True
    )
    with Store(db_file) as store:
        return list(store.conn.iterdump())


def assert_untouched(db_file: Path, before: list[str]) -> None:
    with Store(db_file) as store:
        assert store.integrity_problems() == []
        assert list(store.conn.iterdump()) == before


def test_killed_while_reading_the_file(db_file, tmp_path, big_csv, earlier_state):
    child = tmp_path / "child.py"
    with subprocess.Popen(
        [sys.executable, str(child), str(db_file), str(big_csv), "-"],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("progress") and int(line.split()[1]) >= ROWS // 2:
                os.kill(process.pid, signal.SIGKILL)
                break
        assert process.wait(timeout=60) == -signal.SIGKILL
    assert_untouched(db_file, earlier_state)


@pytest.mark.parametrize(
    "statement",
    ["INSERT INTO record_changes", "INSERT INTO records", "UPDATE imports SET"],
)
def test_killed_inside_the_merge_transaction(db_file, tmp_path, big_csv, earlier_state, statement):
    child = tmp_path / "child.py"
    result = subprocess.run(
        [sys.executable, str(child), str(db_file), str(big_csv), statement],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == -signal.SIGKILL
    assert "finished" not in result.stdout
    assert_untouched(db_file, earlier_state)


def test_an_import_after_a_crash_goes_through(db_file, tmp_path, big_csv, earlier_state):
    child = tmp_path / "child.py"
    subprocess.run(
        [sys.executable, str(child), str(db_file), str(big_csv), "INSERT INTO records"],
        capture_output=True,
        timeout=120,
    )
    done = subprocess.run(
        [sys.executable, str(child), str(db_file), str(big_csv), "-"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "finished" in done.stdout, done.stderr
    with Store(db_file) as store:
        assert store.query_one("SELECT count(*) FROM records")[0] == ROWS
        assert (
            store.query_one("SELECT status FROM records WHERE reference = 'K-1'")[0] == "confirmed"
        )
        assert store.integrity_problems() == []
