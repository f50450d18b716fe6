"""Cuts each item of a listing's `results` out of its body, byte for byte.

A saved `transactions.json` and a stored snapshot keep every transaction exactly as the
gateway wrote it (docs/api-client.md, "Transactions"): re-encoding parsed JSON would
change how numbers and escapes are written, so the items' own bytes are kept instead.
The body must already have been validated (`parse_transactions`); this only finds spans.
"""

from __future__ import annotations

import json
import re

__all__ = ["raw_results"]

_DECODER = json.JSONDecoder()
#: JSON's whitespace (RFC 8259), as the decoder skips it.
_SPACE = re.compile(r"[ \t\n\r]*")


def _skip(text: str, index: int) -> int:
    return _SPACE.match(text, index).end()  # type: ignore[union-attr]  # `*` always matches


def raw_results(body: bytes) -> list[bytes]:
    """The bytes of each item of the top-level `results` array, in order.

    As when parsing, the last `results` key of the object wins. Raises ValueError for a
    body that is not a JSON object."""
    text = body.decode("utf-8")
    index = _skip(text, 0)
    if text[index : index + 1] != "{":
        raise ValueError("not a JSON object")
    index = _skip(text, index + 1)
    found: list[bytes] = []
    while index < len(text) and text[index] != "}":
        key, index = _DECODER.raw_decode(text, index)
        index = _skip(text, _skip(text, index) + 1)  # past the colon
        if key == "results":
            # The array is walked once: its items' spans are its decoding.
            found, index = _array_items(text, index)
        else:
            _, index = _DECODER.raw_decode(text, index)
        index = _skip(text, index)
        if text[index : index + 1] == ",":
            index = _skip(text, index + 1)
    return found


def _array_items(text: str, index: int) -> tuple[list[bytes], int]:
    """The array's items' bytes, and the index just past its closing bracket."""
    if text[index : index + 1] != "[":
        raise ValueError("results is not an array")
    items: list[bytes] = []
    index = _skip(text, index + 1)
    while index < len(text) and text[index] != "]":
        _, end = _DECODER.raw_decode(text, index)
        items.append(text[index:end].encode("utf-8"))
        index = _skip(text, end)
        if text[index : index + 1] == ",":
            index = _skip(text, index + 1)
    if text[index : index + 1] != "]":
        raise ValueError("results is not a closed array")
    return items, index + 1
