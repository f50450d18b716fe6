"""Which open causes belong to a period a close would sign (docs/close.md, "Open causes in
the period"): the same books give the same answer, whatever history the latest check
fetched."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile_tui.reconcile.close import CARRIED_FORWARD, open_causes_in, parse_period

PERIOD = parse_period("2025-02-10..2025-02-20")


def cause(kind: str, **fields: Any) -> dict[str, Any]:
    return {"id": kind, "kind": kind, "severity": "error", "acknowledged": False, **fields}


@pytest.mark.parametrize("kind", sorted(CARRIED_FORWARD))
def test_a_balance_moved_before_the_period_belongs_to_it_without_any_history_bucket(kind):
    # A deposit the gateway never had, booked on 01-25: a 30d check placed it in the
    # period by the buckets it explained, a 24h check (one bucket on 03-01) did not, and
    # the same books were signed off.
    early = {kind: ["2025-01-25T10:00:00Z", "2025-03-01T00:00:00Z"]}
    assert [c["kind"] for c in open_causes_in(PERIOD, [cause(kind)], early)] == [kind]
    after = {kind: ["2025-02-21T00:00:00Z"]}
    assert open_causes_in(PERIOD, [cause(kind)], after) == []


@pytest.mark.parametrize("kind", ["time_differs", "duplicate_record", "unexplained"])
def test_a_cause_that_leaves_later_balances_alone_belongs_only_where_it_happened(kind):
    early = {kind: ["2025-01-25T10:00:00Z"]}
    assert open_causes_in(PERIOD, [cause(kind)], early) == []
    inside = {kind: ["2025-02-12T10:00:00Z"]}
    assert len(open_causes_in(PERIOD, [cause(kind)], inside)) == 1


def test_acknowledged_causes_and_warnings_never_block():
    early = {"missing_at_gateway": ["2025-01-25T10:00:00Z"]}
    accepted = cause("missing_at_gateway", acknowledged=True)
    warning = cause("missing_at_gateway", severity="warning")
    assert open_causes_in(PERIOD, [accepted, warning], early) == []
