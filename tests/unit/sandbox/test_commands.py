"""`sandbox serve` and `sandbox generate` from the command line: options, output, refusals."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconcile_tui.errors import BadInput
from reconcile_tui.sandbox.commands import sandbox


def run(*arguments: str) -> Result:
    return CliRunner().invoke(sandbox, list(arguments), catch_exceptions=False)


def test_generate_writes_a_scenario_and_says_what_a_check_must_find(tmp_path: Path) -> None:
    result = run(
        "generate", "--out", str(tmp_path), "--seed", "9", "--records", "300",
        "--discrepancies", "9", "--period", "24h", "--interval", "hourly", "--bank-export",
    )  # fmt: skip
    assert result.exit_code == 0
    assert "errors" in result.output
    scenario = json.loads((tmp_path / "scenario.json").read_text())
    # 300 - 1 missing + 3 added, less the transactions before the opening, plus its rows.
    opening = scenario["opening"]
    rows = 302 - opening["transactions_left_out"] + len(opening["references"])
    assert f"{rows} rows with 9 planted mistakes" in result.output
    assert scenario["ledger"]["seed"] == 9
    assert (scenario["period"], scenario["interval"]) == ("24h", "hourly")
    assert (tmp_path / "bank-export.toml").exists()


def test_generate_defaults_to_500_records_and_ten_plants(tmp_path: Path) -> None:
    run("generate", "--out", str(tmp_path))
    scenario = json.loads((tmp_path / "scenario.json").read_text())
    assert scenario["ledger"]["records"] == 500
    assert len(scenario["plants"]) == 10
    assert not (tmp_path / "bank-export.csv").exists()


def test_generate_writes_the_rules_a_check_is_to_be_given(tmp_path: Path) -> None:
    result = run(
        "generate", "--out", str(tmp_path), "--records", "300", "--discrepancies", "9",
        "--tolerance", "USDTERC20=0.5", "--low-balance", "ETH=2", "--low-balance", "DAIERC20=10",
    )  # fmt: skip
    assert result.exit_code == 0
    assert (tmp_path / "reconcile.toml").read_text() == (
        "# The rules expected.json assumes: reconcile-tui --config reconcile.toml check\n"
        "[reconcile]\n"
        'tolerance = { USDTERC20 = "0.5" }\n'
        'low_balance = { DAIERC20 = "10", ETH = "2" }\n'
    )
    expected = json.loads((tmp_path / "expected.json").read_text())
    assert expected["tolerances"]["USDTERC20"] == "0.5"
    assert expected["tolerances"]["ETH"] == "0"
    scenario = json.loads((tmp_path / "scenario.json").read_text())
    assert scenario["rules"]["low_balance"] == {"DAIERC20": "10", "ETH": "2"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--tolerance", "USDTERC20"], "--tolerance takes CODE=AMOUNT"),
        (["--tolerance", "USDTERC20=-1"], "not a plain amount"),
        (["--low-balance", "ETH=1e3"], "not a plain amount"),
        (["--records", "-1"], "--records"),
        (["--currencies", "21"], "--currencies"),
        (["--days", "0"], "--days"),
        (["--clock", "yesterday"], "--clock"),
        (["--discrepancies", "-2"], "--discrepancies"),
    ],
)
def test_generate_refuses_bad_options_as_bad_input(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    with pytest.raises(BadInput, match=message):
        run("generate", "--out", str(tmp_path), *arguments)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--host", "0.0.0.0"], "loopback"),
        (["--host", "192.168.1.10"], "loopback"),
        (["--error-rate", "1.5"], "--error-rate"),
        (["--rate-limit", "0"], "--rate-limit"),
        (["--latency-ms", "-1"], "--latency-ms"),
        (["--token-ttl", "0"], "--token-ttl"),
        (["--fail-status", "200"], "--fail-status"),
        (["--scenario", "nowhere/scenario.json"], "no such scenario"),
    ],
)
def test_serve_refuses_bad_options_before_listening(arguments: list[str], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        run("serve", "--port", "0", *arguments)


def test_serve_refuses_ledger_options_beside_a_scenario(tmp_path: Path) -> None:
    run("generate", "--out", str(tmp_path), "--records", "200", "--discrepancies", "0")
    with pytest.raises(BadInput, match="--seed cannot be combined with --scenario"):
        run("serve", "--port", "0", "--scenario", str(tmp_path), "--seed", "3")


def test_serve_says_so_when_the_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(BadInput, match=f"cannot listen on 127.0.0.1:{port}"):
            run("serve", "--port", str(port))


def test_the_module_runs_the_commands_on_their_own(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "reconcile_tui.sandbox", "generate", "--out", str(tmp_path)]
    done = subprocess.run(
        [*command, "--records", "120"], capture_output=True, text=True, check=False
    )
    refused = subprocess.run(
        [*command, "--records", "x"], capture_output=True, text=True, check=False
    )
    wrong = subprocess.run([*command, "--days", "0"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "expected.json").exists()
    assert refused.returncode == 2
    assert "'x' is not a valid integer" in refused.stderr
    assert (wrong.returncode, wrong.stderr.strip()) == (
        2,
        "error: --days must be between 1 and 3650, not 0",
    )
