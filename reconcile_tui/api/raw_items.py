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
#: One JSON value from an index: the decoder's own scanner, without `raw_decode`'s checks.
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]  # set by JSONDecoder.__init__
#: JSON's whitespace (RFC 8259), as the decoder skips it.
_SPACE = re.compile(r"[ \t\n\r]*")
_BETWEEN = frozenset(" \t\n\r")


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
            found, index = _array_items(text, index, body)
        else:
            _, index = _DECODER.raw_decode(text, index)
        index = _skip(text, index)
        if text[index : index + 1] == ",":
            index = _skip(text, index + 1)
    return found


def _array_items(text: str, index: int, body: bytes) -> tuple[list[bytes], int]:
    """The array's items' bytes, and the index just past its closing bracket."""
    if text[index : index + 1] != "[":
        raise ValueError("results is not an array")
    spans: list[tuple[int, int]] = []
    index = _skip(text, index + 1)
    end = index
    while text[end : end + 1] != "]":
        try:
            _, end = _SCAN(text, index)
        except StopIteration:
            raise ValueError(f"no JSON value at character {index}") from None
        spans.append((index, end))
        if text[end : end + 1] in _BETWEEN:
            end = _skip(text, end)
        if text[end : end + 1] == ",":
            index = _skip(text, end + 1)
        elif text[end : end + 1] != "]":
            raise ValueError("results is not a closed array")
    if body.isascii():
        # A character's index is its byte's: cut the body itself instead of encoding each
        # item again (a gateway's bodies are ASCII, escapes and all).
        return [body[start:stop] for start, stop in spans], end + 1
    return [text[start:stop].encode("utf-8") for start, stop in spans], end + 1
