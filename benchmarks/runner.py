"""Running the suite: the API once, then per size import, reconcile and the app, in order.

The import's last database carries on: the reconciliation runs on it, and the app's
database is built from it. Profiles are taken for the targets a size missed (the report
shows those of the largest size that missed each), then the size's scratch databases are
removed before the next size.
"""

from __future__ import annotations

import shutil
from typing import Any

from benchmarks.api_speed import measure_api
from benchmarks.books import attach_snapshot, browsed_books
from benchmarks.context import RunContext
from benchmarks.fetch_speed import measure_listing
from benchmarks.figures import Figure
from benchmarks.import_speed import import_once, measure_import
from benchmarks.profiles import explain_api, profile_missed
from benchmarks.reconcile_speed import measure_reconcile
from benchmarks.scenarios import load_scenario
from benchmarks.tui_speed import measure_tui

__all__ = ["run_suite"]


def run_suite(
    ctx: RunContext, sizes: list[int], sections: set[str], *, profile: bool, keep: bool = False
) -> tuple[list[Figure], dict[str, list[str]], dict[str, Any]]:
    """(figures, profile evidence by figure@size, facts about the scenarios)."""
    figures: list[Figure] = []
    evidence: dict[str, list[str]] = {}
    facts: dict[str, Any] = {"scenarios": []}
    if "api" in sections:
        found = measure_api(ctx)
        figures += found + measure_listing(ctx)
        if any(figure.met is False for figure in found):
            evidence["api.snapshot@None"] = explain_api(found)
    for size in sizes:
        scenario = load_scenario(size, ctx.data_dir, log=ctx.log)
        fact: dict[str, Any] = {"records": size, "rows": scenario.rows}
        facts["scenarios"].append(fact)
        if not sections & {"import", "reconcile", "tui"}:
            continue
        sized: list[Figure] = []
        if "import" in sections:
            found, books = measure_import(ctx, scenario)
            sized += found
        else:
            books = import_once(ctx, scenario)
        fact["first_check_discrepancies"] = attach_snapshot(ctx, scenario, books)
        fact["expected_discrepancies"] = scenario.expected_discrepancies
        if "reconcile" in sections:
            sized += measure_reconcile(ctx, scenario, books)
        browsed = None
        if "tui" in sections:
            browsed = browsed_books(ctx, scenario, books, ctx.log)
            fact["browsed"] = {
                "discrepancies": browsed.discrepancies,
                "re_exported_pending": browsed.stale,
                "repeated": browsed.repeated,
            }
            sized += measure_tui(ctx, browsed)
        figures += sized
        if profile:
            evidence |= profile_missed(ctx, scenario, books, browsed, sized)
        if not keep:
            shutil.rmtree(books.parent, ignore_errors=True)
    return figures, evidence, facts
