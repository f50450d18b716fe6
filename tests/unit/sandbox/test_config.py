"""SandboxConfig: validation, and reading back a generated scenario."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconcile_tui.errors import BadInput
from reconcile_tui.sandbox import DEFAULT_CLOCK, SandboxConfig, generate_scenario


def test_the_defaults_are_the_api_pages_world() -> None:
    config = SandboxConfig()
    assert config.clock == DEFAULT_CLOCK == datetime(2025, 1, 15, 10, 0, tzinfo=UTC)
    assert config.ledger.codes == ("USDTERC20", "USDCERC20", "DAIERC20", "ETH", "USDTTRC20")
    assert (config.client_id, config.client_secret, config.static_token) == (
        "sandbox-client",
        "sandbox-secret",
        "sandbox-token",
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"records": -1}, "--records"),
        ({"records": 1.5}, "whole number"),
        ({"currencies": 0}, "--currencies"),
        ({"days": 4000}, "--days"),
        ({"clock": datetime(2025, 1, 15)}, "UTC offset"),
        ({"clock": datetime(2025, 1, 15, 0, 0, 0, 5, tzinfo=UTC)}, "whole seconds"),
        ({"client_secret": ""}, "client secret"),
        ({"static_token": " "}, "static token"),
        ({"error_rate": -0.1}, "--error-rate"),
        ({"fail_always": 302}, "--fail-always"),
        ({"retry_after": -1}, "--retry-after"),
        ({"break_invariant": "everything"}, "--break-invariant"),
    ],
)
def test_bad_values_are_bad_input(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInput, match=message):
        SandboxConfig(**changes)


def test_the_ledger_spec_ignores_the_http_behaviour() -> None:
    plain = SandboxConfig(seed=3)
    noisy = plain.with_changes(latency_ms=50, error_rate=0.5, rate_limit=10, token_ttl=5)
    assert plain.ledger == noisy.ledger
    assert plain.ledger != plain.with_changes(seed=4).ledger


def test_a_scenario_brings_back_its_ledger_with_new_behaviour(tmp_path: Path) -> None:
    config = SandboxConfig(
        seed=12, records=300, currencies=6, days=40, break_invariant="total_usd_value"
    )
    generate_scenario(tmp_path, config, discrepancies=9)
    again = SandboxConfig.from_scenario(tmp_path / "scenario.json", latency_ms=20)
    assert again.ledger == config.ledger
    assert again.break_invariant == "total_usd_value"
    assert again.latency_ms == 20


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a readable scenario"),
        ("[1, 2]", "JSON object"),
        ('{"ledger": {}}', "not a sandbox scenario"),
        (
            json.dumps(
                {"ledger": {"seed": 1, "records": 5, "currencies": ["ETH"], "days": 9,
                            "clock": "2025-01-15T10:00:00Z"}}
            ),
            "currencies",
        ),
    ],
)  # fmt: skip
def test_a_broken_scenario_file_is_bad_input(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(content)
    with pytest.raises(BadInput, match=message):
        SandboxConfig.from_scenario(path)
