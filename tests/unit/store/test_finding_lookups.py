"""A run's findings are looked up through the causes they list, by id, never by scanning.

The acknowledged state of a cause depends on the discrepancies it explains, and the other
way round; a search for a reference reaches a discrepancy through its causes. With a
run of 10,000 discrepancies and 12,920 causes, SQLite left to order those joins itself
scanned every finding of the run for each one listed: 18 s before the overview appeared
(docs/performance.md, "TUI"). Each list must be read first and each finding found
through the index on (run, id); the plan says so, whatever the data.
"""

from __future__ import annotations

import pytest

from reconcile_tui.store.db import Store
from reconcile_tui.store.runs import CauseFilter, DiscrepancyFilter


def _plan(store: Store, table: str, alias: str, where: str, parameters: list[object]) -> str:
    rows = store.conn.execute(
        f"EXPLAIN QUERY PLAN SELECT count(*) FROM {table} {alias}"
        f" WHERE {alias}.run_id = 1 AND {where}",
        parameters,
    ).fetchall()
    return "\n".join(str(row[3]) for row in rows)


@pytest.mark.parametrize(
    ("table", "alias", "scope", "index"),
    [
        ("run_discrepancies", "r", DiscrepancyFilter(acknowledged=False), "run_causes_by_id"),
        ("run_discrepancies", "r", DiscrepancyFilter(search="ORD-1"), "run_causes_by_id"),
        ("run_causes", "c", CauseFilter(acknowledged=True), "run_discrepancies_by_id"),
        ("run_causes", "c", CauseFilter(wallet_id="550e8400"), "run_discrepancies_by_id"),
    ],
    ids=[
        "discrepancies-acknowledged",
        "discrepancies-search",
        "causes-acknowledged",
        "causes-of-a-wallet",
    ],
)
def test_the_findings_a_finding_lists_are_found_by_id(db_file, table, alias, scope, index):
    with Store(db_file) as store:
        where, parameters = scope.where()
        plan = _plan(store, table, alias, where, parameters)
    assert f"USING INDEX {index} (run_id=? AND id=?)" in plan, plan
