"""The scenarios every measurement reads: generated once by the sandbox, then cached.

A scenario is `generate_scenario`'s output (merchant.csv, expected.json, scenario.json)
plus the gateway's answers for its ledger saved in the `check --api-dir` layout. It is
cached under the data directory, keyed by its parameters and a fingerprint of the
sandbox's source, so a changed generator never hands out a stale file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydantic import SecretStr

from reconcile_tui.api.snapshot import save as save_responses
from reconcile_tui.config import ApiSettings
from reconcile_tui.sandbox import SandboxConfig, generate_scenario, start_sandbox

__all__ = ["SEED", "Scenario", "balances_only", "load_scenario", "sandbox_fingerprint"]

#: Every benchmark ledger uses this seed: the same scenario on every machine.
SEED: Final = 1
#: The scenario's planted mistakes (the generator's default).
PLANTS: Final = 10
_COMPLETE: Final = "complete.json"


@dataclass(frozen=True)
class Scenario:
    """A generated scenario on disk."""

    directory: Path
    records: int
    #: Data lines of merchant.csv (records plus the planted repeated row).
    rows: int
    #: How many discrepancies a correct check reports (from expected.json).
    expected_discrepancies: int
    #: References the generator planted a mistake on.
    planted: frozenset[str]
    config: SandboxConfig

    @property
    def merchant_csv(self) -> Path:
        return self.directory / "merchant.csv"

    @property
    def api_dir(self) -> Path:
        """The gateway's balances and history for this ledger, as `fetch --save` writes."""
        return self.directory / "api"


def balances_only(scenario: Scenario, work_dir: Path) -> Path:
    """The scenario's saved gateway answers without the transaction listing, in `work_dir`:
    the balance-level check the reconcile targets are about, whose sums the store makes;
    matching a million transactions is measured on its own (`benchmarks.check_speed`)."""
    folder = work_dir / f"api-balances-{scenario.records}"
    if not folder.exists():
        shutil.copytree(
            scenario.api_dir, folder, ignore=shutil.ignore_patterns("transactions.json")
        )
    return folder


def sandbox_fingerprint() -> str:
    """A short hash of the sandbox's source: scenarios are regenerated when it changes."""
    from reconcile_tui import sandbox

    digest = hashlib.sha256()
    for path in sorted(Path(sandbox.__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def load_scenario(records: int, data_dir: Path, *, log: Callable[[str], None] = print) -> Scenario:
    """The scenario of `records` records, generated (and its API answers fetched) if needed."""
    config = SandboxConfig(seed=SEED, records=records)
    directory = data_dir / "scenarios" / f"records-{records}-seed-{SEED}-{sandbox_fingerprint()}"
    if not (directory / _COMPLETE).exists():
        if directory.exists():
            shutil.rmtree(directory)
        started = time.perf_counter()
        log(f"generating the {records:,}-record scenario (cached in {directory.name}) ...")
        generate_scenario(directory, config, discrepancies=PLANTS)
        _save_gateway_answers(config, directory / "api")
        (directory / _COMPLETE).write_text(json.dumps({"seconds": time.perf_counter() - started}))
        log(f"  done in {time.perf_counter() - started:.1f} s")
    return _read(directory, config)


def _save_gateway_answers(config: SandboxConfig, directory: Path) -> None:
    """Serve the ledger on loopback and save what the real client fetches from it."""
    from reconcile_tui.api.client import fetch_snapshot_sync

    with start_sandbox(config, warm=True) as running:
        # A million transactions are 10,000 pages from one in-process server: more than the
        # default two minutes on a busy machine, and this is setup, not a measurement.
        api = ApiSettings(url=running.url, token=SecretStr(running.token), deadline=3600)
        snapshot = fetch_snapshot_sync(api, period="7d", interval="daily")
    save_responses(snapshot, directory)


def _read(directory: Path, config: SandboxConfig) -> Scenario:
    described = json.loads((directory / "scenario.json").read_text(encoding="utf-8"))
    expected = json.loads((directory / "expected.json").read_text(encoding="utf-8"))
    planted = frozenset(
        reference
        for plant in described["plants"]
        for reference in (plant.get("reference"), plant.get("gateway_reference"))
        if reference
    )
    return Scenario(
        directory=directory,
        records=config.records,
        rows=int(described["rows"]),
        expected_discrepancies=len(expected["discrepancies"]),
        planted=planted,
        config=config,
    )
