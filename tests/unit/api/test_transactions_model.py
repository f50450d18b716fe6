"""The transaction listing's shape: documented fields, ids as text, bounds like every response."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from reconcile_tui.api.models import ResponseShapeError, parse_transactions

ITEM = {
    "id": 5,
    "type": "payment",
    "transaction_id": "tx-1",
    "amount": "100.00",
    "currency": "USDTERC20",
    "status": "completed",
    "created_at": "2025-01-09T10:00:00Z",
    "updated_at": "2025-01-09T10:05:00+00:00",
    "reference": "ORD-1",
    "blockchain_address": "0xabc",
    "transaction_hash": "0xdef",
    "fee_amount": "0.50",
    "net_amount": "99.50",
    "metadata": {"order_id": "ORD-1", "confirmations": 12},
}


def page(*items, **links):
    return json.dumps({"count": len(items), "next": None, "previous": None, **links,
                       "results": list(items)})  # fmt: skip


def test_a_documented_page_parses_with_ids_as_text_and_exact_amounts():
    parsed = parse_transactions(page(ITEM, next="https://x/transactions/transactions/?page=2"))
    (item,) = parsed.results
    assert item.id == "5"
    assert item.net_amount == Decimal("99.50")
    assert item.fee_amount == Decimal("0.50")
    assert (item.order_id, item.confirmations) == ("ORD-1", 12)
    assert parsed.next == "https://x/transactions/transactions/?page=2"


@pytest.mark.parametrize("metadata", [None, {}, {"order_id": None, "confirmations": None}])
def test_empty_metadata_reads_as_none_however_the_gateway_writes_it(metadata):
    (item,) = parse_transactions(page({**ITEM, "metadata": metadata})).results
    assert (item.order_id, item.confirmations) == (None, None)
    (item,) = parse_transactions(page({k: v for k, v in ITEM.items() if k != "metadata"})).results
    assert (item.order_id, item.confirmations) == (None, None)


@pytest.mark.parametrize(
    ("metadata", "said"),
    [
        ("ORD-1", "results[0].metadata: must be an object or null, got str"),
        (["ORD-1"], "results[0].metadata: must be an object or null, got list"),
        ({"order_id": True}, "results[0].metadata.order_id: must be text or an integer"),
        ({"confirmations": -1}, "results[0].metadata.confirmations"),
    ],
)
def test_metadata_of_another_shape_is_a_bad_response_naming_it(metadata, said):
    with pytest.raises(ResponseShapeError, match=rf"transactions response: {re.escape(said)}"):
        parse_transactions(page({**ITEM, "metadata": metadata}))


def test_a_listed_transaction_is_two_objects_for_the_garbage_collector():
    """A million are held at once when a check loads a stored listing; each object the
    cyclic collector tracks is walked again at its next run (docs/performance.md)."""
    import gc

    items = [{**ITEM, "id": n} for n in range(1000)]
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        parsed = parse_transactions(page(*items))
        tracked = len(gc.get_objects()) - before
    finally:
        gc.enable()
    assert len(parsed.results) == 1000
    assert tracked <= 2 * 1000 + 10  # the model and its set of fields; the page's few


def test_a_saved_listing_without_links_parses():
    saved = json.dumps({"count": 1, "results": [ITEM]})
    assert parse_transactions(saved).results[0].reference == "ORD-1"


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("type", "refund", "results[0].type"),
        ("net_amount", 99.5, "results[0].net_amount"),
        ("net_amount", "9" * 31, "results[0].net_amount"),
        ("created_at", "0001-01-01T00:00:00+05:00", "results[0].created_at"),
        ("currency", "../x", "results[0].currency"),
        ("id", True, "results[0].id"),
        ("reference", "R" * 257, "results[0].reference"),
    ],
)
def test_an_item_the_product_cannot_hold_is_a_bad_response_naming_the_field(field, value, said):
    with pytest.raises(ResponseShapeError, match=rf"transactions response: {re.escape(said)}"):
        parse_transactions(page({**ITEM, field: value}))


def test_a_transaction_rebuilt_from_its_fields_is_the_one_pydantic_would_build():
    """The store rebuilds every stored transaction with `model_construct` and every field
    (docs/performance.md): the quick way must give the very instance pydantic's does."""
    from pydantic import BaseModel

    from reconcile_tui.api.models import GatewayErrorDetail, GatewayTransaction

    (parsed,) = parse_transactions(page(ITEM)).results
    fields = {name: getattr(parsed, name) for name in reversed(GatewayTransaction.model_fields)}
    quick = GatewayTransaction.model_construct(**fields)
    general = BaseModel.model_construct.__func__(GatewayTransaction, **fields)  # type: ignore[attr-defined]
    assert quick == general == parsed
    assert list(quick.__dict__) == list(general.__dict__) == list(GatewayTransaction.model_fields)
    assert quick.model_fields_set == general.model_fields_set
    assert quick.model_dump_json() == general.model_dump_json() == parsed.model_dump_json()
    assert (
        quick.model_fields_set is not GatewayTransaction.model_construct(**fields).model_fields_set
    )
    # As many values as fields but one of them no field, or fewer: pydantic's own way,
    # extras dropped, defaults filled.
    assert GatewayErrorDetail.model_construct(message="m").code == "error"
    partial = GatewayErrorDetail.model_construct(message="m", note="x")
    assert partial == GatewayErrorDetail(code="error", message="m", details={})
    assert partial.model_fields_set == {"message"}
    assert "note" not in partial.__dict__


def test_a_transaction_written_back_is_in_the_listings_shape_and_reads_as_itself():
    """A snapshot built in code (no bytes as served) writes its items from the models."""
    (parsed,) = parse_transactions(page(ITEM)).results
    written = json.loads(parsed.model_dump_json())
    assert written["metadata"] == {"order_id": "ORD-1", "confirmations": 12}
    assert "order_id" not in written
    (again,) = parse_transactions(page(written)).results
    assert again == parsed
