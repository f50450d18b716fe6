"""API: the history of 20 currencies from a sandbox answering each request after 100 ms.

The sandbox serves on loopback from this process (a background thread); the client runs
in `benchmarks.api_probe`, a subprocess, with the product's default settings. The figure
is a whole snapshot (balances plus 20 histories: 21 requests) against one history request
to the same sandbox with the same settings; sequential requests would take about 21 times
as long. A second line repeats it with `api.concurrency` raised to 20, to show what the
default of 4 requests in flight costs.
"""

from __future__ import annotations

import json
import subprocess

from benchmarks import REPO
from benchmarks.context import RunContext
from benchmarks.figures import Figure, Target
from benchmarks.measure import clean_environment
from reconcile_tui.config import ApiSettings
from reconcile_tui.sandbox import SandboxConfig, start_sandbox

__all__ = ["CURRENCIES", "LATENCY_MS", "measure_api"]

CURRENCIES = 20
LATENCY_MS = 100
TARGET = Target(3.0, "ratio", "≤ 3× one request")
#: A narrower setting, measured beside the default to show what the concurrency buys.
NARROW = 4


def _probe(
    ctx: RunContext, url: str, token: str, concurrency: int | None
) -> dict[str, list[float]]:
    command = [ctx.python, "-m", "benchmarks.api_probe", url, token, str(ctx.repeat)]
    if concurrency is not None:
        command.append(str(concurrency))
    finished = subprocess.run(
        command,
        cwd=REPO,
        env=clean_environment(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"the API probe failed: {finished.stderr.strip()}")
    result: dict[str, list[float]] = json.loads(finished.stdout.strip().splitlines()[-1])
    return result


def measure_api(ctx: RunContext) -> list[Figure]:
    config = SandboxConfig(currencies=CURRENCIES, latency_ms=LATENCY_MS)
    figures = []
    with start_sandbox(config, warm=True) as running:
        for concurrency in (None, NARROW):
            seconds = _probe(ctx, running.url, running.token, concurrency)
            shown = (
                f"default settings ({ApiSettings().concurrency} in flight)"
                if concurrency is None
                else (f"`api.concurrency = {concurrency}`")
            )
            ctx.log(f"api {shown}: snapshot {seconds['snapshot']}, single {seconds['single']}")
            figures.append(
                Figure(
                    section="API",
                    key="api.snapshot" if concurrency is None else "api.snapshot_narrow",
                    name=f"balances + {CURRENCIES} histories, {LATENCY_MS} ms latency, {shown}",
                    size=None,
                    unit="s",
                    samples=seconds["snapshot"],
                    baseline_name="one history request, same sandbox and settings",
                    baseline_samples=seconds["single"],
                    target=TARGET if concurrency is None else None,
                )
            )
    return figures
