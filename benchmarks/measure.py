"""Timing one command: a tiny wrapper process that reports wall time and peak memory.

`python -m benchmarks.measure -- CMD...` runs CMD, then prints one JSON line with its
wall-clock seconds and `ru_maxrss` of its process tree (RUSAGE_CHILDREN: the wrapper has
no other children, so the figure is the command's own peak resident set). Product and
baseline commands go through the same wrapper, so they carry the same overhead.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import REPO

__all__ = ["CommandFailed", "Measured", "clean_environment", "run_measured"]

#: No single measured command may take longer than this (the 1M import takes ~20 s).
TIMEOUT_SECONDS = 900


class CommandFailed(RuntimeError):
    """A measured command exited with a failure; the message holds its stderr."""


@dataclass(frozen=True)
class Measured:
    """One run of a command: wall-clock seconds and peak resident set size."""

    seconds: float
    max_rss_mb: float


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without the product's own variables (a user's token or database
    must not leak into a measurement), plus `extra`."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("RECONCILE_", "CRYPTOFUSE_"))
    }
    environment.update(extra or {})
    return environment


def run_measured(
    command: Sequence[str | Path],
    *,
    environment: Mapping[str, str] | None = None,
    cwd: Path = REPO,
) -> Measured:
    """Run `command` through the wrapper; raise CommandFailed when it fails."""
    wrapper = [sys.executable, "-m", "benchmarks.measure", "--", *map(str, command)]
    finished = subprocess.run(
        wrapper,
        cwd=cwd,
        env=dict(environment) if environment is not None else clean_environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    lines = finished.stdout.strip().splitlines()
    if finished.returncode != 0 or not lines:
        shown = " ".join(map(str, command))
        raise CommandFailed(f"{shown} failed ({finished.returncode}): {finished.stderr.strip()}")
    result = json.loads(lines[-1])
    return Measured(seconds=result["seconds"], max_rss_mb=result["max_rss_kb"] / 1024)


def main(argv: Sequence[str]) -> int:
    command = list(argv[1:] if argv[:1] == ["--"] else argv)
    start = time.perf_counter()
    finished = subprocess.run(command, stdout=subprocess.DEVNULL, check=False)
    seconds = time.perf_counter() - start
    if finished.returncode != 0:
        return finished.returncode
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "max_rss_kb": peak_kb}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
