"""The report document's declared shape (`reconcile/document.py`) is the one `Report.to_dict`
writes: every key the writers are type-checked against is there, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from reconcile_tui.reconcile.document import (
    ApiOrigin,
    CauseCounts,
    CauseDocument,
    DiscrepancyDocument,
    NoteDocument,
    RecordsSeen,
    ReportDocument,
    Summary,
)
from reconcile_tui.reconcile.model import (
    Cause,
    CauseKind,
    Discrepancy,
    Kind,
    Note,
    Report,
    Severity,
)

MOMENT = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)


def _report() -> Report:
    found = Discrepancy(
        kind=Kind.AVAILABLE_MISMATCH,
        message="USDTERC20 wallet W: 10 at the gateway, 9 in the records",
        currency="USDTERC20",
        wallet_id="W",
        api_value=Decimal("10"),
        merchant_value=Decimal("9"),
        scale=6,
    )
    cause = Cause(
        kind=CauseKind.MISSING_IN_RECORDS,
        severity=Severity.ERROR,
        message="payment ORD-1 of 1 USDTERC20 has no record",
        currency="USDTERC20",
        wallet_id="W",
        references=("ORD-1",),
        gateway_ids=("g-1",),
        amount=Decimal("1"),
        explains=(found.id,),
        scale=6,
    )
    return Report(
        generated_at=MOMENT,
        base_url="https://api.cryptofuse.io",
        fetched_at=MOMENT,
        period="7d",
        interval="daily",
        record_count=1,
        record_files=("jan.csv",),
        tolerances={"USDTERC20": Decimal("0")},
        discrepancies=(found,),
        notes=(Note("USDTERC20", "a note"),),
        causes=(cause,),
        unexplained={"USDTERC20": "0"},
        causes_of={found.id: (cause.id,)},
    )


def _declared(shape: Any) -> set[str]:
    return set(shape.__required_keys__) | set(shape.__optional_keys__)


def test_the_document_has_exactly_the_declared_keys():
    document = _report().to_dict()
    assert set(document) == _declared(ReportDocument)
    assert set(document["api"]) == _declared(ApiOrigin)
    assert set(document["records"]) == _declared(RecordsSeen)
    assert set(document["summary"]) == _declared(Summary)
    assert set(document["summary"]["causes"]) == _declared(CauseCounts)
    assert set(document["notes"][0]) == _declared(NoteDocument)
    # `acknowledgement` is added by an export only.
    assert set(document["discrepancies"][0]) == _declared(DiscrepancyDocument) - {"acknowledgement"}
    assert set(document["causes"][0]) == _declared(CauseDocument) - {"acknowledgement"}


def test_a_discrepancy_lists_the_causes_that_explain_it():
    document = _report().to_dict()
    assert document["discrepancies"][0]["causes"] == [document["causes"][0]["id"]]
    assert document["summary"]["causes"]["errors"] == 1
