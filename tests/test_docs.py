"""The documents that promise behaviour point at tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_every_test_named_in_the_reliability_table_exists():
    text = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    named = re.findall(r"`((?:unit|integration|hostile|tui)/[\w/]+\.py)(?:::(test_\w+))?`", text)
    assert len(named) > 40
    for path, test in named:
        source = ROOT / "tests" / path
        assert source.exists(), path
        if test:
            assert re.search(rf"def {test}\(", source.read_text(encoding="utf-8")), (
                f"{path}::{test}"
            )


def test_the_readme_gives_the_two_quick_start_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    demo = "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/reconcile-tui demo"
    tests = (
        'python3 -m venv .venv && .venv/bin/pip install -e ".[test]" && .venv/bin/python -m pytest'
    )
    assert demo in readme
    assert tests in readme
    assert tests in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
