"""The benchmark suite runs end to end on a tiny scenario: a smoke test, no timing asserted.

Timings on a shared CI machine mean nothing; what CI can hold is that every section still
runs against the product as it is now and that the report is written whole.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SECTIONS = ("Import", "Reconcile", "API", "TUI")


@pytest.mark.slow
def test_the_smallest_run_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "performance.md"
    command = [sys.executable, "-m", "benchmarks", "--smoke", "--sizes", "2000"]
    command += ["--repeat", "1", "--quiet", "--out", str(out), "--data", str(tmp_path / "data")]
    finished = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )
    assert finished.returncode == 0, finished.stderr[-3000:]

    report = out.read_text(encoding="utf-8")
    for heading in ("Machine", "Command", "Targets", *SECTIONS, "What limits the targets not met"):
        assert f"\n## {heading}\n" in report
    assert "Not measured in this run." not in report

    results = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    figures = results["figures"]
    assert {figure["section"] for figure in figures} == set(SECTIONS)
    for figure in figures:
        assert figure["samples"], figure["key"]
        assert figure["value"] > 0, figure["key"]
    targeted = {figure["key"] for figure in figures if figure["target"]}
    assert targeted >= {"import.speed", "reconcile.check", "api.snapshot", "tui.launch", "tui.keys"}
