"""The JSON report: the document itself, in schema order, amounts as strings."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from reconcile_tui.money import FloatInMoneyError
from reconcile_tui.report import to_json


def _key_orders(value: Any, path: str = "$") -> list[tuple[str, list[str]]]:
    """Every object's keys in order, with where it is, for comparing two documents."""
    orders: list[tuple[str, list[str]]] = []
    if isinstance(value, dict):
        orders.append((path, list(value)))
        for key, item in value.items():
            orders += _key_orders(item, f"{path}.{key}")
    elif isinstance(value, list):
        for position, item in enumerate(value):
            orders += _key_orders(item, f"{path}[{position}]")
    return orders


def test_parses_back_to_the_same_document(document):
    assert json.loads(to_json(document)) == document


def test_keeps_the_key_order_of_the_document_at_every_level(document):
    parsed = json.loads(to_json(document))
    assert _key_orders(parsed) == _key_orders(document)
    # Schema order is not alphabetical: sorting would have put "api" first.
    assert next(iter(parsed)) == "schema_version"
    assert list(parsed["discrepancies"][0])[:3] == ["id", "kind", "severity"]


def test_is_indented_readable_and_ends_with_a_newline(document):
    text = to_json(document)
    assert text.splitlines()[1] == '  "schema_version": 1,'
    assert text.endswith("}\n")
    assert "prüfen" in text
    assert "\\u00fc" not in text


def test_amounts_stay_strings_with_every_digit(document):
    parsed = json.loads(to_json(document))
    eth = next(d for d in parsed["discrepancies"] if d["currency"] == "ETH")
    assert eth["difference"] == "-0.500000000000000001"
    assert eth["api_value"] == "2.000000000000000000"


def test_leaves_the_document_alone(document):
    before = copy.deepcopy(document)
    to_json(document)
    assert document == before


def test_refuses_a_float_amount(document):
    document["discrepancies"][0]["difference"] = 0.01
    with pytest.raises(FloatInMoneyError, match=r"discrepancies\[0\]\.difference"):
        to_json(document)
