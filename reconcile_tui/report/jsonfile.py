"""The JSON report: the document as it stands, in schema order, amounts as strings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconcile_tui.money import FloatInMoneyError
from reconcile_tui.report.visible import json_escaped

__all__ = ["to_json"]


def to_json(document: Mapping[str, Any]) -> str:
    """The report as indented JSON text, keys in the order the schema lists them.

    Keys are not sorted: the document is built in schema order and readers (people and
    diffs) rely on it. Non-ASCII stays readable, but control and bidi characters are
    `\\uXXXX` escapes, so the values are exact and the bytes harmless on a terminal. A
    float anywhere is refused, because the schema has none and a float amount would be a
    silent loss of digits.
    """
    _refuse_floats(document, "report")
    return json_escaped(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


def _refuse_floats(value: Any, where: str) -> None:
    if isinstance(value, float):
        raise FloatInMoneyError(f"{where} is a float; report values travel as text")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _refuse_floats(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for position, item in enumerate(value):
            _refuse_floats(item, f"{where}[{position}]")
