"""Causes end to end: generate, serve on loopback, import, check; exactly the expected causes.

For several seeds and every period and interval, `sandbox generate` writes a merchant file
with every kind of planted mistake and expected.json (schema 2), the sandbox serves the
same ledger on a real loopback socket (balances, history and the transaction listing),
and `import` + `check --format json` must report exactly the expected causes: the same
ids, kinds, severities, currencies, wallets, references, gateway ids, amounts and
explained discrepancies (messages are free text), each discrepancy listing exactly its
causes, nothing unexplained; and exit 1. The faithful export of the same ledger (the
repaired books) exits 0. The same holds offline, through `check --api-dir` on what
`fetch --save` wrote, `transactions.json` included.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reconcile_tui import cli as cli_module
from reconcile_tui.cli import main
from reconcile_tui.logs import remove_handlers
from reconcile_tui.sandbox import RunningSandbox, SandboxConfig
from reconcile_tui.times import INTERVALS, PERIODS

pytestmark = pytest.mark.slow

Factory = Callable[[SandboxConfig], RunningSandbox]

SEEDS = (3, 41, 2025)
RECORDS = 600
#: Every kind of plant once, then a second missing payment and payout (docs/sandbox.md).
PLANTS = 14

#: What a cause is, messages aside: compared field for field.
CAUSE_FIELDS = (
    "id", "kind", "severity", "currency", "wallet_id", "references", "gateway_ids", "amount",
    "explains", "acknowledged",
)  # fmt: skip


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys, caplog, monkeypatch, tmp_path):
    """Run the command in-process with exactly the given environment variables."""
    for name in (
        "CRYPTOFUSE_API_URL",
        "CRYPTOFUSE_TOKEN",
        "CRYPTOFUSE_CLIENT_ID",
        "CRYPTOFUSE_CLIENT_SECRET",
        "RECONCILE_DB",
    ):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        remove_handlers()
        monkeypatch.setattr(cli_module, "configure_logging", lambda _: None)
        with caplog.at_level(logging.DEBUG), pytest.raises(SystemExit) as exited:
            main([str(arg) for arg in args])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return Result(int(exited.value.code or 0), out, err)

    return run


def causes_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        cause["id"]: {name: cause[name] for name in CAUSE_FIELDS} for cause in document["causes"]
    }


def explained_by(document: dict[str, Any]) -> dict[str, list[str]]:
    return {d["id"]: sorted(d["causes"]) for d in document["discrepancies"]}


def assert_same_causes(document: dict[str, Any], expected: dict[str, Any]) -> None:
    assert document["schema_version"] == 2
    reported, wanted = causes_of(document), causes_of(expected)
    assert sorted(reported) == sorted(wanted), "the same causes, by id"
    for cause_id, cause in wanted.items():
        assert reported[cause_id] == cause, cause_id
    assert explained_by(document) == explained_by(expected)
    assert document["summary"]["causes"] == expected["summary"]["causes"]
    assert document["summary"]["unexplained"] == expected["summary"]["unexplained"]
    assert set(expected["summary"]["unexplained"].values()) == {"0"}


def generate(cli, folder: Path, seed: int, period: str, interval: str, plants: int) -> None:
    result = cli(
        "sandbox", "generate", "--out", folder, "--seed", seed, "--records", RECORDS,
        "--discrepancies", plants, "--period", period, "--interval", interval,
    )  # fmt: skip
    assert result.code == 0, result.err


def serve(sandbox_factory: Factory, folder: Path) -> RunningSandbox:
    return sandbox_factory(SandboxConfig.from_scenario(folder / "scenario.json"))


def env_of(sandbox: RunningSandbox, db: Path) -> dict[str, str]:
    return {
        "CRYPTOFUSE_API_URL": sandbox.url,
        "CRYPTOFUSE_TOKEN": sandbox.token,
        "RECONCILE_DB": str(db),
    }


@pytest.mark.parametrize("interval", INTERVALS)
@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("seed", SEEDS)
def test_check_reports_exactly_the_planted_causes(
    cli, sandbox_factory, tmp_path, db_path, seed, period, interval
):
    folder = tmp_path / "scenario"
    generate(cli, folder, seed, period, interval, PLANTS)
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    plants = json.loads((folder / "scenario.json").read_text(encoding="utf-8"))["plants"]
    assert len(plants) == PLANTS
    sandbox = serve(sandbox_factory, folder)
    env = env_of(sandbox, db_path)
    window = ["--period", period, "--interval", interval]

    assert cli("import", folder / "merchant.csv", env=env).code == 0
    live = cli("check", *window, "--format", "json", env=env)
    assert live.code == 1, live.err
    document = json.loads(live.out)
    assert_same_causes(document, expected)
    # Each planted mistake is named by its reference.
    named = {reference for cause in document["causes"] for reference in cause["references"]}
    assert {plant["reference"] for plant in plants} <= named

    # Offline, from what fetch saved, the listing included: the same causes.
    saved = tmp_path / "saved"
    assert cli("fetch", *window, "--save", saved, env=env).code == 0
    listing = json.loads((saved / "transactions.json").read_text(encoding="utf-8"))
    assert listing["count"] == RECORDS == len(listing["results"])
    offline = cli("check", *window, "--api-dir", saved, "--format", "json", env=env)
    assert offline.code == 1, offline.err
    assert_same_causes(json.loads(offline.out), expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_repaired_books_exit_0(cli, sandbox_factory, tmp_path, db_path, seed):
    folder = tmp_path / "repaired"
    generate(cli, folder, seed, "7d", "daily", 0)
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    assert expected["summary"]["causes"]["errors"] == 0
    sandbox = serve(sandbox_factory, folder)
    env = env_of(sandbox, db_path)
    assert cli("import", folder / "merchant.csv", env=env).code == 0
    result = cli("check", "--format", "json", env=env)
    assert result.code == 0, result.err
    assert_same_causes(json.loads(result.out), expected)
