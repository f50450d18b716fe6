"""Each listed item's own bytes, cut from the body as the gateway wrote it
(`api/raw_items.py`): whatever the spacing, escapes or characters."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile_tui.api.raw_items import raw_results

_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)


@given(
    items=st.lists(_JSON, max_size=6),
    indent=st.sampled_from([None, 0, 2, "\t"]),
    separators=st.sampled_from([(",", ":"), (", ", ": "), (" ,\r\n", " :\t")]),
    ensure_ascii=st.booleans(),
)
def test_each_item_is_its_own_bytes_in_the_body_in_order(
    items: list[Any], indent: Any, separators: tuple[str, str], ensure_ascii: bool
) -> None:
    document = {"count": len(items), "next": None, "results": items}
    text = json.dumps(document, indent=indent, separators=separators, ensure_ascii=ensure_ascii)
    body = text.encode("utf-8")
    cut = raw_results(body)
    assert [json.loads(raw) for raw in cut] == items
    position = body.index(b"results")
    for raw in cut:
        assert raw == raw.strip()  # no whitespace of the array's around an item
        position = body.index(raw, position) + len(raw)


def test_an_item_keeps_its_escapes_and_characters_byte_for_byte() -> None:
    body = '{"count": 2, "results": [{"a": "\\u00e9\\n"} , {"b":"é ✓"}]}'.encode()
    assert raw_results(body) == [b'{"a": "\\u00e9\\n"}', '{"b":"é ✓"}'.encode()]


def test_the_last_results_key_wins_as_when_parsing() -> None:
    body = b'{"results": [1], "count": 1, "results": [{"id": 2}]}'
    assert raw_results(body) == [b'{"id": 2}']


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"[1]", "not a JSON object"),
        (b'{"results": {"a": 1}}', "results is not an array"),
        (b'{"results": [1 2]}', "results is not a closed array"),
        (b'{"results": [1,]}', "no JSON value at character 15"),
    ],
)
def test_a_body_of_another_shape_is_a_value_error(body: bytes, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        raw_results(body)
