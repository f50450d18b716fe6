"""An acknowledgement holds by one rule, in the engine and in a stored run: while the
accepted difference equals the current one by value (docs/causes.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reconcile_tui.store import acks, runs
from tests.unit.store.test_literal_search import _discrepancy, _save


@pytest.mark.parametrize(
    ("accepted", "current", "holds"),
    [
        ("-1.000000", "-1.000000", True),
        ("-1.0", "-1.000000", True),  # the same value written with fewer places
        ("-1.000001", "-1.000000", False),
        ("1.000000", "-1.000000", False),
    ],
)
def test_a_stored_run_and_the_engine_agree_on_whether_it_holds(store, accepted, current, holds):
    found = _discrepancy("abcdef0011112222", "wallet off")
    found["difference"] = current
    run_id = _save(store, [found])
    acknowledgement = acks.Acknowledgement(
        "abcdef0011112222", "ana", "2025-01-15T11:00:00Z", "accepted", accepted
    )
    acks.record_acknowledgement(
        store, acknowledgement, kind="available_mismatch", currency="USDTERC20", message=""
    )

    stored = runs.discrepancy_page(store, run_id)[0]["acknowledged"]

    assert acknowledgement.covers(Decimal(current)) is holds
    assert stored is holds


def test_an_acknowledgement_without_a_difference_holds_only_for_one_without(store):
    acknowledgement = acks.Acknowledgement("x", "ana", "2025-01-15T11:00:00Z", "n", None)
    assert acknowledgement.covers(None)
    assert not acknowledgement.covers(Decimal(0))


def test_one_id_read_alone_is_what_the_whole_list_says(store):
    def ack(item_id: str, note: str, difference: str | None = "-1.0") -> acks.Acknowledgement:
        return acks.Acknowledgement(item_id, "ana", "2025-01-15T11:00:00Z", note, difference)

    for item_id in ("kept000000", "withdrawn0", "replaced00"):
        acks.record_acknowledgement(
            store, ack(item_id, "first"), kind="available_mismatch", currency=None, message=""
        )
    acks.record_acknowledgement(
        store, ack("replaced00", "second"), kind="available_mismatch", currency=None, message=""
    )
    acks.withdraw_acknowledgement(store, ack("withdrawn0", "gone", None))

    every = acks.acknowledgements(store)
    for item_id in ("kept000000", "withdrawn0", "replaced00", "never00000"):
        assert acks.acknowledgement_in_force(store, item_id) == every.get(item_id)
    assert every["replaced00"].note == "second"
    assert "withdrawn0" not in every
