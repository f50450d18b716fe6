"""Writing a run's results: docs/performance.md for people, results.json for tools."""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks import api_speed, books, fetch_speed, import_speed, reconcile_speed, tui_speed
from benchmarks.figures import Figure
from benchmarks.machine import Machine
from benchmarks.notes import LIMITS

__all__ = ["SECTIONS", "Report", "render_markdown", "write_report"]

#: Section title -> the modules that measure it (their docstrings explain how).
SECTIONS: dict[str, tuple[ModuleType, ...]] = {
    "Import": (import_speed,),
    "Reconcile": (reconcile_speed,),
    "API": (api_speed, fetch_speed),
    "TUI": (tui_speed, books),
}


@dataclass
class Report:
    """Everything one run found."""

    machine: Machine
    command: str
    started_at: str
    seconds: float
    repeat: int
    sizes: list[int]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    figures: list[Figure]
    #: Figure key -> markdown lines of profile evidence gathered by this run.
    evidence: dict[str, list[str]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "machine": self.machine.to_dict(),
            "command": self.command,
            "started_at": self.started_at,
            "seconds": self.seconds,
            "repeat": self.repeat,
            "sizes": self.sizes,
            "load_before": self.load_before,
            "load_after": self.load_after,
            "figures": [figure.to_dict() for figure in self.figures],
            "evidence": self.evidence,
            **self.extra,
        }


def _amount(figure: Figure, value: float | None) -> str:
    if value is None:
        return "—"
    if figure.unit == "rows/s" and figure.per:
        return f"{figure.per / value:,.0f} rows/s ({value:.2f} s)"
    if figure.unit == "s":
        return f"{value:.2f} s"
    if figure.unit == "ms":
        return f"{value:.1f} ms"
    if figure.unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:g} {figure.unit}"


def _verdict(figure: Figure) -> str:
    if figure.met is None:
        return "—"
    return "**met**" if figure.met else "**not met**"


def _size(figure: Figure) -> str:
    return f"{figure.size:,}" if figure.size is not None else "—"


def _ratio(figure: Figure) -> str:
    return f"{figure.ratio:.2f}×" if figure.ratio is not None else "—"


def _how(module: ModuleType) -> str:
    text = inspect.cleandoc(module.__doc__ or "")
    return text.split("\n", 1)[1].strip() if "\n" in text else ""


def _table(figures: Sequence[Figure]) -> list[str]:
    lines = [
        "| Records | Figure | Median | Baseline | Baseline median | Ratio | Target | Result |",
        "|---:|---|---:|---|---:|---:|---|---|",
    ]
    for figure in figures:
        target = figure.target.text if figure.target else "—"
        lines.append(
            f"| {_size(figure)} | {figure.name} | {_amount(figure, figure.value)}"
            f" | {figure.baseline_name or '—'} | {_amount(figure, figure.baseline)}"
            f" | {_ratio(figure)} | {target} | {_verdict(figure)} |"
        )
    notes = [f"- {_size(figure)}: {figure.note}" for figure in figures if figure.note]
    if notes:
        lines += ["", *notes]
    return lines


def _browsed(report: Report) -> list[str]:
    """What the app's databases held in this run."""
    lines = []
    for fact in report.extra.get("scenarios", []):
        browsed = fact.get("browsed")
        if browsed:
            lines.append(
                f"- {fact['records']:,} records: the scenario's own check finds"
                f" {fact['first_check_discrepancies']:,} discrepancies (its expected.json:"
                f" {fact['expected_discrepancies']:,}); {browsed['re_exported_pending']:,}"
                f" payments re-exported as pending and {browsed['repeated']:,} records"
                f" repeated bring it to {browsed['discrepancies']:,}."
            )
    return [*lines, ""] if lines else []


def _load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{value:.2f}" for value in load)


def render_markdown(report: Report) -> str:
    machine = report.machine
    sizes = ", ".join(f"{size:,}" for size in report.sizes)
    lines = [
        "# Performance",
        "",
        "Written by the benchmark suite (`benchmarks/`): do not edit by hand, run it again.",
        "Every figure is the median of its repetitions, measured in the same run as its",
        "baseline (the two interleaved, so that a busy moment on a shared machine falls on",
        "both). Ratios are cost over baseline cost: above 1 the product is slower.",
        "",
        "## Machine",
        "",
        f"- CPU: {machine.cpu}, {machine.cores} cores; memory {machine.memory_gib:.1f} GiB",
        f"- System: {machine.system}",
        f"- {machine.python}; SQLite {machine.sqlite} (Python's sqlite3)"
        + (f", sqlite3 shell {machine.sqlite_shell}" if machine.sqlite_shell else "")
        + f"; Textual {machine.textual}",
        f"- Run: {report.started_at}, {report.seconds / 60:.1f} minutes; sizes {sizes};"
        f" {report.repeat} repetitions; load average (1/5/15 min) {_load(report.load_before)}"
        f" before, {_load(report.load_after)} after",
        "",
        "## Command",
        "",
        "```sh",
        report.command,
        "```",
        "",
        "`make bench` runs the same; `make bench-smoke` (`python -m benchmarks --smoke`) runs",
        "the smallest size once, to show that the suite works (CI runs it, without timing",
        "assertions). Options: `--repeat N`, `--sizes N ...`, `--sections import reconcile api",
        "tui`, `--out FILE`, `--no-profile`, `--keep` (leave the scratch databases). Scenarios",
        "are generated by the engine of `reconcile-tui sandbox generate` and cached in",
        "`benchmarks/.data/` (git-ignored).",
        "",
        "## Targets",
        "",
    ]
    for figure in report.figures:
        if figure.target is not None:
            mark = "met" if figure.met else "NOT MET"
            detail = (
                f"{_ratio(figure)} ({_amount(figure, figure.value)} against"
                f" {_amount(figure, figure.baseline)})"
                if figure.target.on == "ratio"
                else _amount(figure, figure.value)
            )
            lines.append(
                f"- {mark}: {figure.section}, {figure.name}"
                + (f" at {figure.size:,} records" if figure.size else "")
                + f": {detail}; target {figure.target.text}"
            )
    for title, modules in SECTIONS.items():
        figures = [figure for figure in report.figures if figure.section == title]
        lines += ["", f"## {title}", ""]
        for module in modules:
            lines += [_how(module), ""]
        if title == "TUI":
            lines += _browsed(report)
        lines += _table(figures) if figures else ["Not measured in this run."]
    lines += ["", "## What limits the targets not met", ""]
    missed: dict[str, list[Figure]] = {}
    for figure in report.figures:
        if figure.met is False:
            missed.setdefault(figure.key, []).append(figure)
    if not missed:
        lines.append("Every target was met in this run.")
    for key, figures in missed.items():
        lines += _limits(report, key, figures)
    return "\n".join(lines).rstrip() + "\n"


def _limits(report: Report, key: str, figures: list[Figure]) -> list[str]:
    """One missed target: where, the profile evidence of its largest size, the analysis."""
    first = figures[0]
    sizes = [f"{figure.size:,} records" for figure in figures if figure.size]
    where = f" (missed at {', '.join(sizes)})" if sizes else ""
    lines = [f"### {first.section}: {first.name}{where}", ""]
    for figure in reversed(figures):
        evidence = report.evidence.get(f"{key}@{figure.size}")
        if evidence:
            lines += [*evidence, ""]
            break
    analysis = LIMITS.get(key)
    if analysis:
        lines += [inspect.cleandoc(analysis), ""]
    return lines


def write_report(report: Report, markdown: Path, results: Path) -> None:
    markdown.parent.mkdir(parents=True, exist_ok=True)
    markdown.write_text(render_markdown(report), encoding="utf-8")
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
