"""The documents that promise behaviour point at tests that exist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from reconcile_tui.cli import cli

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


def _quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL)]


def test_the_quick_start_has_two_commands_that_name_what_the_project_provides():
    demo, tests = _quick_start_commands()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    # The demo command installs the package and runs a command the CLI really has.
    assert demo.startswith("python3 -m venv .venv && .venv/bin/pip install -e . && ")
    script, command = demo.rsplit("&& ", 1)[1].split()
    assert Path(script).name in project["scripts"]
    assert command in cli.commands
    # The test command installs an extra that exists and holds the test runner.
    extra = re.search(r'install -e "\.\[(\w+)\]"', tests)
    assert extra is not None, tests
    assert any(dep.startswith("pytest") for dep in project["optional-dependencies"][extra[1]])
    assert tests.endswith("-m pytest")


def test_ci_runs_the_readmes_test_command_verbatim():
    _, tests = _quick_start_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests in [line.strip() for line in ci]


def test_the_keymap_ids_docs_list_are_every_binding_id_the_app_has():
    from reconcile_tui.tui.app import binding_ids

    text = (ROOT / "docs" / "tui.md").read_text(encoding="utf-8")
    listed = text.split("said nothing. The ids:\n", 1)[1].split(".\n", 1)[0]
    assert set(re.findall(r"`([\w.-]+)`", listed)) == binding_ids()
    assert "app.refresh" in binding_ids()
