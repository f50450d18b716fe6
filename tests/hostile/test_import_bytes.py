"""Random bytes and random CSV-ish text thrown at `reconcile-tui import`, through the
command's own entry point (and a few through a real subprocess): only the documented exit
codes 0 or 2, never a traceback or exit 70, the database unchanged when refused, and each
refusal one line (`file:line: reason` for each bad row, then one `error:` line)."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reconcile_tui.cli import main
from reconcile_tui.store.db import Store
from tests.conftest import DEFAULT_HEADER, WALLET_A

SCRIPT = Path(sys.executable).parent / "reconcile-tui"

GOOD_ROW = f"ORD-1,2025-01-09T10:00:00Z,USDTERC20,{WALLET_A},deposit,100.50,0.50,confirmed,0xabc\n"

# Pieces a CSV file is made of, hostile ones included: delimiters, quotes, line breaks of
# every kind, control characters, bidi overrides, a BOM, a NUL, numbers of every shape.
_PIECES = st.sampled_from(
    [",", ";", '"', '""', "\n", "\r\n", "\r", "\x00", "\x1b[2J", "\u202e", "\u2028", "\ufeff",
     "\x85", "deposit", "withdrawal", "opening", "confirmed", "pending", "USDTERC20", "ETH",
     WALLET_A, "2025-01-09T10:00:00Z", "2025-02-30", "1e5", "-1", "0", "1,5", "NaN",
     "9" * 90, "0." + "1" * 30, "ORD-1", " ", "\t"]
)  # fmt: skip
_CSV_TEXT = st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=60).map("".join)

FILES = st.one_of(
    st.binary(max_size=400),
    st.tuples(st.just(DEFAULT_HEADER.encode()), st.binary(max_size=300)).map(b"".join),
    _CSV_TEXT.map(lambda text: text.encode("utf-8", "surrogatepass")),
    _CSV_TEXT.map(lambda text: (DEFAULT_HEADER + GOOD_ROW + text).encode("utf-8", "surrogatepass")),
    _CSV_TEXT.map(lambda text: (DEFAULT_HEADER + text).encode("cp1252", "replace")),
)

_ROW_LINE = re.compile(r"^(?P<path>.+):(?P<line>\d+): \S")


def _dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def _check_outcome(code: int, out: str, err: str, path: Path, before: list[str], db: Path):
    assert code in (0, 2), (code, err)
    event(f"exit {code}")
    assert "Traceback" not in err
    assert "internal error" not in err
    if code == 0:
        assert out.strip()  # says what was imported
        return
    assert _dump(db) == before, "a refused import changed the database"
    lines = err.rstrip("\n").split("\n")
    assert lines[-1].startswith("error: "), lines
    for line in lines[:-1]:
        if line.startswith("… and "):
            continue  # "… and N more listed rows"
        row = _ROW_LINE.match(line)
        assert row is not None, line
        assert row["path"] == str(path)
        assert int(row["line"]) >= 1


@pytest.fixture
def fresh_db(tmp_path_factory):
    """A new, migrated database per example, and its contents before the import."""

    def make() -> tuple[Path, list[str]]:
        folder = tmp_path_factory.mktemp("bytes")
        db = folder / "books.db"
        Store(db).close()
        return db, _dump(db)

    return make


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(content=FILES, quarantine=st.booleans())
def test_random_bytes_at_import_exit_0_or_2_and_a_refusal_changes_nothing(
    capsys, monkeypatch, fresh_db, content, quarantine
):
    monkeypatch.delenv("RECONCILE_DB", raising=False)
    db, before = fresh_db()
    path = db.parent / "records.csv"
    path.write_bytes(content)
    args = ["--db", str(db), "import", str(path)] + (["--quarantine"] if quarantine else [])
    with pytest.raises(SystemExit) as exited:
        main(args)
    out, err = capsys.readouterr()
    _check_outcome(int(exited.value.code or 0), out, err, path, before, db)


@settings(max_examples=4, deadline=None, database=None)
@given(content=FILES)
def test_random_bytes_at_the_real_command(tmp_path_factory, content):
    folder = tmp_path_factory.mktemp("subprocess")
    db = folder / "books.db"
    Store(db).close()
    before = _dump(db)
    path = folder / "records.csv"
    path.write_bytes(content)
    finished = subprocess.run(
        [SCRIPT, "--db", db, "import", path], capture_output=True, check=False
    )
    err = finished.stderr.decode("utf-8", "replace")
    _check_outcome(
        finished.returncode, finished.stdout.decode("utf-8", "replace"), err, path, before, db
    )
