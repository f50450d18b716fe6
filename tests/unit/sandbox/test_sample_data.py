"""sample_data/ is exactly what its README's command generates, in both layouts."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconcile_tui.config import load_settings
from reconcile_tui.sandbox.commands import sandbox
from reconcile_tui.sandbox.plants import PlantKind
from reconcile_tui.store.db import Store
from reconcile_tui.workspace import Workspace
from tests.conftest import PAGE_CLOCK

SAMPLE = Path(__file__).parents[3] / "sample_data"
GENERATED = [
    "merchant.csv",
    "expected.json",
    "scenario.json",
    "bank-export.csv",
    "bank-export.toml",
]


def readme_command() -> list[str]:
    """The regenerate command exactly as sample_data/README.md prints it."""
    lines = (SAMPLE / "README.md").read_text(encoding="utf-8").splitlines()
    [line] = [
        line.strip() for line in lines if line.strip().startswith("reconcile-tui sandbox generate")
    ]
    return shlex.split(line)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    words = readme_command()
    assert words[:3] == ["reconcile-tui", "sandbox", "generate"]
    arguments = words[3:]
    arguments[arguments.index("--out") + 1] = str(out)
    result = CliRunner().invoke(sandbox, ["generate", *arguments], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("name", GENERATED)
def test_the_committed_file_is_what_the_generator_writes(regenerated: Path, name: str) -> None:
    assert (SAMPLE / name).read_bytes() == (regenerated / name).read_bytes(), (
        f"sample_data/{name} is stale: regenerate it with the command in sample_data/README.md"
    )


def test_every_kind_of_mistake_is_planted_in_about_ten_plants() -> None:
    scenario = json.loads((SAMPLE / "scenario.json").read_text(encoding="utf-8"))
    kinds = [plant["kind"] for plant in scenario["plants"]]
    assert set(kinds) == {kind.value for kind in PlantKind}
    assert 9 <= len(kinds) <= 12
    assert 200 <= scenario["ledger"]["records"] <= 1_000


def records_of(db_path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with Store(db_path) as store:
        records = store.query(
            """SELECT reference, occurred_at, currency, wallet_id, wallet_name, type, amount,
                      fee, status, tx_hash, line FROM records ORDER BY reference"""
        )
        repeats = store.query(
            "SELECT reference, first_line, line, differences FROM duplicates ORDER BY reference"
        )
    return [tuple(row) for row in records], [tuple(row) for row in repeats]


def test_the_bank_layout_describes_the_same_records(tmp_path: Path, workspace: Workspace) -> None:
    [plain] = workspace.import_files([SAMPLE / "merchant.csv"])
    assert plain.problem_count == 0
    other = tmp_path / "bank.db"
    with Workspace(load_settings(environ={}), db_path=other, clock=lambda: PAGE_CLOCK) as bank:
        [imported] = bank.import_files(
            [SAMPLE / "bank-export.csv"], mapping=SAMPLE / "bank-export.toml"
        )
    assert imported.problem_count == 0
    assert imported.rows_read == plain.rows_read
    plain_records, plain_repeats = records_of(workspace.db_path)
    bank_records, bank_repeats = records_of(other)
    assert (
        len(plain_records) == json.loads((SAMPLE / "expected.json").read_text())["records"]["count"]
    )
    assert bank_records == plain_records
    assert bank_repeats == plain_repeats
    assert plain_repeats, "the duplicated row is remembered in both"
