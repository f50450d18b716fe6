"""The fields pydantic's core reads without calling Python (amounts, ids, currency codes):
the same values as the fields' own rules, and those rules' errors."""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from reconcile_tui import money
from reconcile_tui.api.models import (
    Amount,
    ApiTime,
    CurrencyCode,
    Identifier,
    ResponseShapeError,
    _Shape,
    parse_transactions,
)

from .test_transactions_model import ITEM, page


class Probe(_Shape):
    amount: Amount | None = None
    code: CurrencyCode | None = None
    ref: Identifier | None = None
    when: ApiTime | None = None


def _read(field: str, value: Any, *, strict: bool) -> tuple[str, str]:
    """What a field makes of `value`: its value and type, or "refused"."""
    # As `_parse` asks: strict, or no say at all (an explicit strict=False would loosen
    # the fast paths' own strictness, which production never does).
    try:
        body = json.dumps({field: value})
        made = getattr(Probe.model_validate_json(body, strict=True if strict else None), field)
    except ValidationError:
        return "refused", ""
    return repr(made), type(made).__name__


def _same_either_way(field: str, value: Any) -> None:
    # Strict mode runs the field's own validators alone; the default tries the fast path
    # first. Whatever the input, both must make the same of it.
    assert _read(field, value, strict=False) == _read(field, value, strict=True)


_DIGITS = st.text("0123456789", max_size=40)
_AMOUNT_TEXT = st.one_of(
    st.text(" +-.,e0123456789\u0661\n", max_size=24),
    st.builds(
        lambda sign, zeros, whole, fraction: f"{sign}{'0' * zeros}{whole}.{fraction}",
        st.sampled_from(["", "-", "+"]),
        st.integers(0, 40),
        _DIGITS,
        _DIGITS,
    ),
)


@given(_AMOUNT_TEXT | st.integers() | st.floats() | st.booleans() | st.none())
def test_amounts_read_alike_by_the_fast_path_and_the_money_rules(value: Any) -> None:
    _same_either_way("amount", value)


@given(_AMOUNT_TEXT)
def test_what_the_fast_pattern_takes_the_money_rules_take_as_written(text: str) -> None:
    if re.fullmatch(money.HELD_PLAIN_PATTERN, text):
        held = money.parse_held(text, style=money.NumberStyle(signed=True))
        assert repr(held) == repr(Decimal(text))


@pytest.mark.parametrize(
    "text",
    [
        "9" * money.MAX_WHOLE_DIGITS,
        "0" * 50 + "9" * money.MAX_WHOLE_DIGITS,
        "9" * (money.MAX_WHOLE_DIGITS + 1),
        "-1." + "0" * money.MAX_PLACES,
        "1." + "0" * (money.MAX_PLACES + 1),
        "0" * 80,
        " 1.5",
        "1.5\n",
        "\u0661.5",
        "1.",
        ".5",
    ],
)
def test_amounts_at_the_bounds_read_alike(text: str) -> None:
    _same_either_way("amount", text)


@given(
    st.text(min_size=250, max_size=260)
    | st.text(max_size=8)
    | st.integers(-(10**16), 10**16)
    | st.booleans()
    | st.floats()
)
def test_ids_read_alike_by_the_fast_path_and_their_rule(value: Any) -> None:
    _same_either_way("ref", value)


@given(st.text("AZaz09_-./ \u00c9", max_size=34) | st.integers())
def test_currency_codes_read_alike_by_the_fast_path_and_their_rule(value: Any) -> None:
    _same_either_way("code", value)


_TIME_TEXT = st.one_of(
    st.datetimes(min_value=datetime(1890, 1, 1), max_value=datetime(3010, 1, 1)).flatmap(
        lambda moment: st.builds(
            lambda separator, fraction, offset: (
                moment.strftime(f"%Y-%m-%d{separator}%H:%M:%S") + fraction + offset
            ),
            st.sampled_from(["T", " ", "t"]),
            st.sampled_from(["", ".5", f".{moment.microsecond:06d}", ".1234567", "."]),
            st.sampled_from(["Z", "+00:00", "-00:00", "+01:00", "z", ""]),
        )
    ),
    st.text("0123456789-:TZ.+ ", max_size=30),
)


@given(_TIME_TEXT | st.integers() | st.none())
def test_times_read_alike_by_the_fast_path_and_their_rule(value: Any) -> None:
    _same_either_way("when", value)


@pytest.mark.parametrize(
    "text",
    [
        "1899-12-31T23:59:59.999999Z",
        "1900-01-01T00:00:00Z",
        "2999-12-31T23:59:59.999999+00:00",
        "3000-01-01T00:00:00Z",
        "2025-02-29T10:00:00Z",
        "2024-02-29T10:00:00Z",
        "2025-01-14T24:00:00Z",
        "2025-01-14T10:00:60Z",
        "2025-13-01T10:00:00Z",
    ],
)
def test_times_at_the_bounds_read_alike(text: str) -> None:
    _same_either_way("when", text)


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        (
            "net_amount",
            "9" * 31,
            f"results[0].net_amount: {'9' * 31} is too large to be money"
            " (more than 30 digits before the point)",
        ),
        ("amount", "abc", "results[0].amount: 'abc' is not an amount"),
        ("fee_amount", 0.5, "results[0].fee_amount: amount must be a JSON string, got number 0.5"),
        (
            "currency",
            "usdt",
            "results[0].currency: 'usdt' is not a currency code (A-Z, 0-9, _ and -,"
            " at most 32 characters)",
        ),
        ("reference", "R" * 257, "results[0].reference: is longer than 256 characters"),
    ],
)
def test_a_bad_field_is_named_with_its_own_rules_words(field: str, value: Any, said: str) -> None:
    with pytest.raises(ResponseShapeError) as raised:
        parse_transactions(page({**ITEM, field: value}))
    assert str(raised.value) == f"transactions response: {said}"
