"""Causes found from the records and the gateway's transactions (docs/causes.md).

The worlds are built by `world.py`, which computes the gateway's side with its own
arithmetic. The property that matters most: for every discrepancy, the effects of the
causes it lists add up to its difference exactly.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from reconcile_tui.api.models import parse_transactions
from reconcile_tui.config import Settings
from reconcile_tui.reconcile.model import Report
from reconcile_tui.workspace import Workspace
from tests.unit.reconcile.world import BUCKETS, CURRENCY, WALLETS, World, random_world

#: Kinds a world may show beside its planted mistakes (its own ledger's pending records
#: grow stale against its clock, and its usd rounding is not the gateway's concern).
_INCIDENTAL = {"stale_pending", "api_inconsistency"}


def run(
    world: World,
    tmp_path: Path,
    *,
    transactions: bool = True,
    period: str = "7d",
    interval: str = "daily",
) -> Report:
    records, api = world.write(tmp_path, period, interval)
    with Workspace(Settings(), db_path=tmp_path / f"{period}-{interval}.db") as workspace:
        workspace.import_files([records])
        snapshot_id, snapshot = workspace.load_saved_responses(api)
        listing = parse_transactions((api / "transactions.json").read_bytes())
        snapshot = dataclasses.replace(
            snapshot, transactions=tuple(listing.results) if transactions else None
        )
        return workspace.check(snapshot_id, snapshot).report


def figure_of(d: Any) -> tuple[Any, ...]:
    """The figure a discrepancy compares, keyed as effects are (bucket by position)."""
    if d.kind in {"available_mismatch", "pending_mismatch"}:
        return (d.kind.split("_")[0], d.currency, d.wallet_id)
    if d.kind == "total_mismatch":
        return (d.field, d.currency)
    return (d.field, d.currency, BUCKETS.index(d.bucket))


def assert_exact(report: Report) -> None:
    """Every comparing discrepancy: its causes' effects add up to its difference."""
    causes = {c.id: c for c in report.causes}
    for d in report.discrepancies:
        listed = report.causes_of[d.id]
        assert listed, f"{d.kind} {d.field} {d.bucket} explained by nothing"
        if d.kind not in {
            "available_mismatch",
            "pending_mismatch",
            "total_mismatch",
            "history_mismatch",
        }:
            continue
        figure = figure_of(d)
        total = sum((causes[c].effect.on(figure) for c in listed), Decimal(0))  # type: ignore[union-attr]
        assert total == d.difference, f"{d.kind} {figure}: {total} != {d.difference}"


@pytest.mark.parametrize("seed", range(24))
def test_each_planted_mistake_is_one_cause_and_explains_its_gap_exactly(seed, tmp_path):
    world = random_world(seed, plants=1)
    report = run(world, tmp_path)
    found = {
        (c.kind.value, c.references[0] if c.references else "")
        for c in report.causes
        if c.kind.value not in _INCIDENTAL
    }
    assert found == world.planted
    assert_exact(report)
    assert set(report.unexplained.values()) <= {"0"}
    # The cause's effect on each wallet is what the world says the mistake did to it.
    truth, records = world.wallet_figures(world.truth), world.wallet_figures(world.records)
    (cause,) = [c for c in report.causes if c.kind.value not in _INCIDENTAL]
    for (name, wallet), amount in truth.items():
        assert cause.effect.on((name, CURRENCY, wallet)) == amount - records[(name, wallet)]  # type: ignore[union-attr]


@pytest.mark.parametrize("seed", range(24))
def test_causes_add_up_to_every_difference_whatever_is_planted(seed, tmp_path):
    world = random_world(1000 + seed, plants=seed % 8)
    report = run(world, tmp_path)
    assert_exact(report)
    kinds = {(c.kind.value, c.references[0] if c.references else "") for c in report.causes}
    # Mistakes on one matched pair, and records the gateway never saw, are never ambiguous.
    for planted in world.planted:
        if planted[0] not in {"missing_in_records", "wrong_wallet"}:
            assert planted in kinds


@pytest.mark.parametrize("seed", range(8))
def test_without_transactions_a_gap_carried_forward_is_one_cause(seed, tmp_path):
    world = random_world(2000 + seed, plants=3)
    report = run(world, tmp_path, transactions=False)
    assert_exact(report)
    history = [c for c in report.causes if c.kind.value == "unexplained" and c.wallet_id is None]
    balance_gaps = [d for d in report.discrepancies if d.field == "balance"]
    # One cause per bucket where the gap changes, however many buckets it carries into.
    changes = {d.bucket for d in balance_gaps if d.bucket is not None}
    assert len(history) <= len(changes) + 2  # + deposits-only buckets and the totals' rest


def test_a_clean_world_has_no_causes(tmp_path):
    world = random_world(7, plants=0)
    report = run(world, tmp_path)
    assert [c for c in report.causes if c.kind.value not in _INCIDENTAL] == []
    assert not report.fails("error") or any(c.kind.value in _INCIDENTAL for c in report.causes)


def test_wallets_of_the_world_are_all_listed():
    assert len(set(WALLETS)) == 3


@pytest.mark.parametrize("seed", range(6))
def test_one_pair_differing_in_everything_is_a_chain_of_four_exact_causes(seed, tmp_path):
    world = random_world(3000 + seed, plants=0)
    n, entry = next((n, e) for n, e in enumerate(world.records) if e.status == "confirmed")
    world.records[n] = dataclasses.replace(
        entry,
        fee=entry.fee + Decimal("0.02"),
        amount=entry.amount + 5,
        status="pending",
        at=entry.at.replace(hour=0),
    )
    report = run(world, tmp_path)
    kinds = sorted(
        c.kind.value
        for c in report.causes
        if entry.reference in c.references and c.kind.value not in _INCIDENTAL
    )
    expected = ["amount_differs", "fee_differs", "status_differs"]
    if entry.at.hour != 0:
        expected.append("time_differs")
    assert kinds == sorted(expected)
    assert_exact(report)
    assert set(report.unexplained.values()) <= {"0"}


@pytest.mark.parametrize("seed", range(6))
def test_the_causes_do_not_change_with_the_period_or_the_interval(seed, tmp_path):
    world = random_world(4000 + seed, plants=2 + seed % 5)
    seen = []
    for period, interval in (("7d", "daily"), ("7d", "hourly"), ("24h", "hourly")):
        report = run(world, tmp_path, period=period, interval=interval)
        causes = {
            (c.id, c.kind.value, c.amount)
            for c in report.causes
            if c.kind.value not in _INCIDENTAL | {"unexplained"}
        }
        seen.append((causes, report.errors))
        assert all(c.explains or c.kind.value == "time_differs" for c in report.causes)
    assert seen[0] == seen[1] == seen[2]
