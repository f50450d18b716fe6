"""Exact money: parsing, refusing floats and rounding, exact sums at 18 decimals."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconcile_tui import money
from reconcile_tui.money import AmountError, FloatInMoneyError, NumberStyle


@pytest.mark.parametrize(
    ("currency", "scale"),
    [
        ("USDTERC20", 6),
        ("USDTTRC20", 6),
        ("USDCERC20", 6),
        ("DAIERC20", 6),
        ("ETH", 18),
        ("WETH", 18),
        ("BTC", 8),
    ],
)
def test_known_currencies_have_their_design_scale(currency, scale):
    assert money.known_scale(currency) == scale
    assert money.scale_for(currency, {currency: 2}) == scale  # the table wins over printing


def test_unknown_currency_takes_the_scale_the_api_prints_else_eighteen():
    assert money.known_scale("DOGE") is None
    assert money.scale_for("DOGE", {"DOGE": 8}) == 8
    assert money.scale_for("DOGE") == 18


def test_parses_plain_amounts_exactly():
    assert money.parse_amount("100.5", 6) == Decimal("100.500000")
    assert str(money.parse_amount("100.5", 6)) == "100.500000"
    assert money.parse_amount("1.123456789012345678", 18) == Decimal("1.123456789012345678")
    assert money.parse_amount(" 7 ") == Decimal(7)


def test_trailing_zeros_beyond_the_scale_are_not_rounding():
    assert str(money.parse_amount("5.000000000", 6, currency="USDTERC20")) == "5.000000"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1e5", "exponent"),
        ("1E-3", "exponent"),
        ("2.5e+2", "exponent"),
        ("NaN", "not a number"),
        ("inf", "not a number"),
        ("", "empty"),
        ("   ", "empty"),
        ("1,234", "ambiguous"),
        ("1,234.50", "ambiguous"),
        ("-5", "sign"),
        ("+5", "sign"),
        ("12abc", "not an amount"),
        ("0x10", "not an amount"),
        ("1.", "not an amount"),
        (".5", "not an amount"),
        ("1 000", "not an amount"),
    ],
)
def test_refuses_what_is_not_a_plain_amount(text, reason):
    with pytest.raises(AmountError, match=reason):
        money.parse_amount(text)


def test_refuses_more_places_than_the_currency_allows_instead_of_rounding():
    with pytest.raises(AmountError, match=r"more decimal places than USDTERC20 allows \(6\)"):
        money.parse_amount("10.0000001", 6, currency="USDTERC20")
    with pytest.raises(AmountError, match="more decimal places"):
        money.parse_amount("0.0000000000000000001", 18, currency="ETH")


def test_declared_styles_accept_grouping_and_decimal_comma_only_when_well_formed():
    german = NumberStyle(decimal_comma=True, thousands=".", signed=True)
    assert money.parse_amount("-1.234,56", 2, style=german) == Decimal("-1234.56")
    assert money.parse_amount("12,5", 2, style=german) == Decimal("12.50")
    with pytest.raises(AmountError, match="grouping"):
        money.parse_amount("1.23,4", 2, style=german)
    english = NumberStyle(thousands=",")
    assert money.parse_amount("1,234,567.891", 3, style=english) == Decimal("1234567.891")
    with pytest.raises(AmountError, match="grouping"):
        money.parse_amount("12,34,567", 0, style=english)
    with pytest.raises(AmountError, match="ambiguous"):
        money.parse_amount("1.234,56", 2, style=NumberStyle())


@pytest.mark.parametrize(
    ("text", "style"),
    [
        # Written with the other decimal mark: they used to be read as 500 and 1.
        ("0.500", NumberStyle(decimal_comma=True, thousands=".")),
        ("0.001", NumberStyle(decimal_comma=True, thousands=".")),
        ("-0.500", NumberStyle(decimal_comma=True, thousands=".", signed=True)),
        ("0,001", NumberStyle(thousands=",")),
        ("012,345.5", NumberStyle(thousands=",")),
    ],
)
def test_a_first_group_of_zero_is_not_grouping(text, style):
    with pytest.raises(AmountError, match="malformed digit grouping"):
        money.parse_amount(text, style=style)
    plain = "0,5" if style.decimal_comma else "0.5"
    assert money.parse_amount(plain, style=style) == Decimal("0.5")


def test_a_float_anywhere_in_money_code_raises():
    with pytest.raises(FloatInMoneyError):
        money.parse_amount(1.5)  # type: ignore[arg-type]
    with pytest.raises(FloatInMoneyError):
        money.add(Decimal(1), 0.1)  # type: ignore[arg-type]
    with pytest.raises(FloatInMoneyError):
        money.sub(0.1, Decimal(1))  # type: ignore[arg-type]
    with pytest.raises(FloatInMoneyError):
        money.total([Decimal(1), 2.5])  # type: ignore[list-item]
    with pytest.raises(FloatInMoneyError):
        money.canonical(0.3)  # type: ignore[arg-type]
    with pytest.raises(FloatInMoneyError):
        money.DecimalSum().step(0.3)  # type: ignore[arg-type]


def test_quantize_refuses_to_round():
    assert str(money.quantize(Decimal("1.5"), 2)) == "1.50"
    with pytest.raises(AmountError):
        money.quantize(Decimal("1.005"), 2)


def test_canonical_and_display_forms():
    assert money.canonical(Decimal("1E+3"), 2) == "1000.00"
    assert money.canonical(Decimal("-0.000"), 3) == "0.000"
    assert money.format_amount(Decimal("-1234567.5"), 2, grouping=True) == "-1,234,567.50"
    assert money.to_minor_units(Decimal("1.000000000000000001"), 18) == 10**18 + 1


def test_average_check_accepts_either_rounding_at_a_tie_and_nothing_further():
    assert money.is_rounded_quotient(Decimal("385.714286"), Decimal(2700), Decimal(7))
    assert money.is_rounded_quotient(Decimal("0.13"), Decimal("0.25"), Decimal(2))  # 0.125
    assert money.is_rounded_quotient(Decimal("0.12"), Decimal("0.25"), Decimal(2))
    assert not money.is_rounded_quotient(Decimal("385.714287"), Decimal(2700), Decimal(7))


minor_units = st.integers(min_value=0, max_value=10**30)


def _from_units(units: int, scale: int = 18) -> Decimal:
    # Decimal's default context has 28 digits and would round here: use the exact one.
    return Decimal(units).scaleb(-scale, context=money.MONEY)


def _as_eth_text(units: int) -> str:
    return money.canonical(_from_units(units), 18)


@given(st.lists(minor_units, min_size=1, max_size=300))
def test_sums_of_many_eighteen_decimal_amounts_lose_nothing(units):
    amounts = [money.parse_amount(_as_eth_text(u), 18, currency="ETH") for u in units]
    exact = _from_units(sum(units))
    assert money.total(amounts) == exact
    assert money.to_minor_units(money.total(amounts), 18) == sum(units)


@given(st.lists(minor_units, min_size=1, max_size=200))
def test_the_sqlite_aggregate_sums_exactly_where_sum_would_not(units):
    conn = sqlite3.connect(":memory:")
    conn.create_aggregate("decimal_sum", 1, money.DecimalSum)
    conn.execute("CREATE TABLE t (amount TEXT) STRICT")
    conn.executemany("INSERT INTO t VALUES (?)", [(_as_eth_text(u),) for u in units])
    (text,) = conn.execute("SELECT decimal_sum(amount) FROM t").fetchone()
    assert Decimal(text) == _from_units(sum(units))
    conn.close()


def test_sqlite_sum_would_have_rounded_which_is_why_it_is_forbidden():
    conn = sqlite3.connect(":memory:")
    conn.create_aggregate("decimal_sum", 1, money.DecimalSum)
    conn.execute("CREATE TABLE t (amount TEXT) STRICT")
    conn.executemany("INSERT INTO t VALUES (?)", [("1.000000000000000001",)] * 3)
    (floating,) = conn.execute("SELECT sum(amount) FROM t").fetchone()
    (exact,) = conn.execute("SELECT decimal_sum(amount) FROM t").fetchone()
    assert exact == "3.000000000000000003"
    assert Decimal(repr(floating)) != Decimal(exact)
    assert conn.execute("SELECT decimal_sum(amount) FROM t WHERE 0").fetchone() == (None,)
    conn.close()


@given(
    units=st.integers(min_value=0, max_value=10**money.MAX_WHOLE_DIGITS - 1),
    scale=st.integers(min_value=0, max_value=money.MAX_PLACES),
    negative=st.booleans(),
)
def test_text_round_trips_through_parse_and_canonical(units, scale, negative):
    text = money.canonical(_from_units(-units if negative else units, scale), scale)
    style = NumberStyle(signed=True)
    assert money.canonical(money.parse_amount(text, scale, style=style), scale) == text


def test_amounts_are_shown_at_their_scale_or_with_the_places_they_need():
    assert money.show(Decimal("12.500000000000000000"), 6) == "12.500000"
    assert money.show(Decimal("12.500000000000000000"), None) == "12.5"
    assert money.show(Decimal("12.000000"), None) == "12"
    assert money.show(Decimal("0.1234567"), 6) == "0.1234567"  # never rounded to fit
    assert money.show(Decimal("-3"), 2) == "-3.00"
    assert money.trimmed(Decimal("1000.000")) == Decimal(1000)
    assert str(money.trimmed(Decimal("1000.000"))) == "1000"
    big = Decimal("123456789012345678901234567890.100000000000000000")
    assert money.show(big, None) == "123456789012345678901234567890.1"


def test_amounts_for_people():
    assert money.format_amount(Decimal("1234567.5"), 6, grouping=True) == "1,234,567.500000"
    assert money.format_amount(Decimal("0.1234567"), 6) == "0.1234567"  # never rounded to fit
    assert money.format_amount(Decimal("1234.500000"), 6, grouping=True, compact=True) == "1,234.5"
    assert money.format_amount(Decimal("-0.000000"), 6, compact=True) == "0"
    assert money.format_amount(Decimal("288.000000")) == "288.000000"  # no scale: as written


def _outcome(read, text: str) -> tuple[str, str]:
    try:
        amount = read(text)
    except AmountError as error:
        return "refused", str(error)
    return "read", repr(amount)  # the repr keeps the places: 1.50 is not 1.5


_STYLES = [
    NumberStyle(signed=True),
    NumberStyle(),
    NumberStyle(decimal_comma=True, thousands="."),
    NumberStyle(thousands=",", signed=True),
    NumberStyle(exponent=True, signed=True),
]
_DIGITS = st.text("0123456789", min_size=0, max_size=50)


@given(
    style=st.sampled_from(_STYLES),
    text=st.one_of(
        st.text(" +-.,e0123456789\u0661", max_size=24),
        st.builds(
            lambda sign, whole, fraction: f"{sign}{whole}.{fraction}",
            st.sampled_from(["", "-", "+"]),
            _DIGITS,
            _DIGITS,
        ),
    ),
)
def test_parse_held_is_parse_amount_then_check_held(style: NumberStyle, text: str) -> None:
    # The listing's one step must keep the two steps' rule and their messages exactly.
    def held_in_two_steps(text: str) -> Decimal:
        return money.check_held(money.parse_amount(text, style=style))

    def held_in_one(text: str) -> Decimal:
        return money.parse_held(text, style=style)

    assert _outcome(held_in_one, text) == _outcome(held_in_two_steps, text)


@pytest.mark.parametrize(
    "text",
    [
        "1" * money.MAX_WHOLE_DIGITS + ".5",
        "0" * 70 + "1" * money.MAX_WHOLE_DIGITS,
        "1" * (money.MAX_WHOLE_DIGITS + 1),
        "0." + "0" * money.MAX_PLACES,
        "0." + "0" * (money.MAX_PLACES + 1),
        "-1." + "0" * (money.MAX_PLACES + 1),
        " 12.50 ",
    ],
)
def test_parse_held_at_the_bounds(text: str) -> None:
    style = NumberStyle(signed=True)
    held_in_two_steps = _outcome(
        lambda t: money.check_held(money.parse_amount(t, style=style)), text
    )
    assert _outcome(lambda t: money.parse_held(t, style=style), text) == held_in_two_steps
