"""The one place that parses, quantizes, compares, sums and formats amounts of money.

Rules (see docs/money.md):

* An amount is a `decimal.Decimal` made from a string, never from a float. Any float that
  reaches this module raises `FloatInMoneyError` at once: it is a bug, not an input.
* All arithmetic runs in `MONEY`, a context of 80 significant digits that traps
  `Inexact`, `Rounded` and `FloatOperation`, so a sum either is exact or raises.
* Each currency has a scale (decimal places). An amount with more significant places than
  its currency allows is refused, never rounded; trailing zeros past the scale are fine
  because dropping them changes nothing.
* Rounding happens in one place, for display and explicit: `round_to` (USD values,
  the gateway's averages), and nothing else (docs/money.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import (
    ROUND_HALF_EVEN,
    Clamped,
    Context,
    Decimal,
    DivisionByZero,
    FloatOperation,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
)
from typing import Final

__all__ = [
    "HELD_PLAIN_PATTERN",
    "MAX_PLACES",
    "MAX_SCALE",
    "MAX_WHOLE_DIGITS",
    "MONEY",
    "ZERO",
    "AmountError",
    "DecimalSum",
    "ExactTally",
    "FloatInMoneyError",
    "NumberStyle",
    "add",
    "canonical",
    "check_held",
    "display_scale",
    "format_amount",
    "is_rounded_quotient",
    "is_within",
    "known_scale",
    "magnitude",
    "neg",
    "parse_amount",
    "parse_held",
    "places",
    "product",
    "quantize",
    "ratio",
    "round_to",
    "same_amount",
    "scale_for",
    "scale_of_text",
    "show",
    "storage_scale",
    "sub",
    "tally_of_parts",
    "to_minor_units",
    "total",
    "trimmed",
]

#: Exact arithmetic: 80 digits hold the largest amount (MAX_WHOLE_DIGITS before the point,
#: MAX_PLACES after it) with twenty digits to spare for sums of many of them.
MONEY: Final = Context(
    prec=80,
    rounding=ROUND_HALF_EVEN,
    traps=[Inexact, Rounded, FloatOperation, InvalidOperation, DivisionByZero, Overflow, Clamped],
)

#: Quantizing may drop trailing zeros (Rounded) but never a significant digit (Inexact).
_EXACT_QUANTIZE: Final = Context(
    prec=80, rounding=ROUND_HALF_EVEN, traps=[Inexact, FloatOperation, InvalidOperation, Overflow]
)

#: Explicit, documented rounding for display values only (USD, the API's averages).
_ROUNDING: Final = Context(
    prec=80,
    rounding=ROUND_HALF_EVEN,
    traps=[FloatOperation, InvalidOperation, DivisionByZero, Overflow],
)

ZERO: Final = Decimal(0)

#: The scale of a currency nobody knows (no table entry, no scale printed by the gateway),
#: and the fewest places an unknown currency is stored with (docs/money.md).
MAX_SCALE: Final = 18

#: The most decimal places any amount may carry: a scale printed above it counts as this.
MAX_PLACES: Final = 30

#: The most digits before the point an amount from outside may have: 10**30 of any unit is
#: more than any ledger holds, and far below what could make a sum of many amounts round in
#: MONEY's 80 digits; a longer amount is a broken export or response (docs/money.md).
MAX_WHOLE_DIGITS: Final = 30

#: A signed plain amount (the gateway's form) that `parse_held` accepts exactly as it is
#: written: ASCII digits, at most MAX_WHOLE_DIGITS significant before the point and
#: MAX_PLACES after it. A faster reader may take what matches as `Decimal(text)` and must
#: hand anything else to `parse_held`, whose rule and errors stay the only ones
#: (docs/api-client.md, "Bounds: what a response may hold").
HELD_PLAIN_PATTERN: Final = rf"[-+]?0*[0-9]{{1,{MAX_WHOLE_DIGITS}}}(?:\.[0-9]{{1,{MAX_PLACES}}})?"

_KNOWN_PREFIX_SCALES: Final = (("USDT", 6), ("USDC", 6), ("DAI", 6))
_KNOWN_EXACT_SCALES: Final = {"ETH": 18, "WETH": 18, "BTC": 8}


class FloatInMoneyError(TypeError):
    """A float reached money code. Always a bug: amounts travel as strings."""


class AmountError(ValueError):
    """A text is not an acceptable amount; the message says why, in the user's words."""


def known_scale(currency: str) -> int | None:
    """The fixed scale of a currency this product knows, or None for any other."""
    code = currency.upper()
    if code in _KNOWN_EXACT_SCALES:
        return _KNOWN_EXACT_SCALES[code]
    for prefix, scale in _KNOWN_PREFIX_SCALES:
        if code.startswith(prefix):
            return scale
    return None


def display_scale(currency: str, printed_by_api: Mapping[str, int] | None = None) -> int | None:
    """Places to show a currency's amounts with: known, else printed by the API, else None
    (show each amount with just the places it needs)."""
    scale = known_scale(currency)
    if scale is None and printed_by_api:
        scale = printed_by_api.get(currency)
    return scale


def trimmed(amount: Decimal) -> Decimal:
    """The same amount without trailing zeros after the point (12.500 -> 12.5)."""
    _refuse_float(amount)
    if amount == amount.to_integral_value(context=MONEY):
        return amount.quantize(Decimal(1), context=_EXACT_QUANTIZE)
    return amount.normalize(context=MONEY)


def scale_for(currency: str, printed_by_api: Mapping[str, int] | None = None) -> int:
    """The scale of `currency`: known table first, then what the API prints (at most
    MAX_PLACES), else 18. An amount with more significant places is refused."""
    scale = known_scale(currency)
    if scale is not None:
        return scale
    if printed_by_api and currency in printed_by_api:
        return min(printed_by_api[currency], MAX_PLACES)
    return MAX_SCALE


def storage_scale(currency: str, printed_by_api: Mapping[str, int] | None = None) -> int:
    """The places a record's amounts are stored with: the known scale, else 18, or the
    places the gateway prints when it prints more. Never below `scale_for`, so storing
    an accepted amount never cuts a digit (docs/money.md)."""
    scale = known_scale(currency)
    if scale is not None:
        return scale
    return max(MAX_SCALE, scale_for(currency, printed_by_api))


def _refuse_float(value: object) -> None:
    if isinstance(value, float):
        raise FloatInMoneyError(f"a float ({value!r}) reached money code; amounts must be text")


def places(amount: Decimal) -> int:
    """How many decimal places `amount` is written with (trailing zeros included)."""
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # finite by construction
    return -exponent if exponent < 0 else 0


def scale_of_text(text: str) -> int:
    """Decimal places of an amount as printed, e.g. the API's "5.123456789000000000" -> 18."""
    _, dot, fraction = text.strip().partition(".")
    return len(fraction) if dot else 0


class NumberStyle:
    """How amounts are written in one input: decimal mark, grouping, sign.

    The default accepts only plain `123.45`: a comma anywhere is ambiguous (decimal or
    thousands?) until a mapping file declares which it is.
    """

    __slots__ = ("_pattern", "accounting", "decimal_comma", "exponent", "signed", "thousands")

    def __init__(
        self,
        *,
        decimal_comma: bool = False,
        thousands: str | None = None,
        signed: bool = False,
        exponent: bool = False,
        accounting: bool = False,
    ) -> None:
        if thousands is not None and thousands not in {",", ".", " ", "'", "\u00a0", "\u202f"}:
            raise AmountError(f"unsupported thousands separator {thousands!r}")
        point = "," if decimal_comma else "."
        if thousands == point:
            raise AmountError("the thousands separator cannot be the decimal mark")
        self.decimal_comma = decimal_comma
        self.thousands = thousands
        self.signed = signed
        # Opt-in only (docs/mapping.md): `-3.605E-05` is exact as a Decimal, but a bare
        # `1e5` in a plain export is more likely a spreadsheet's damage than a real amount.
        # Two exponent digits at most: nothing that is money needs more.
        self.exponent = exponent
        # A merchant's file may write a negative amount as an accounting tool prints it:
        # `(12.50)`, or with the minus sign U+2212. Never a gateway's (its numbers are
        # plain), so only a signed layout's reader asks for it (docs/money.md).
        self.accounting = accounting and signed
        sign = r"[-+]?" if signed else ""
        if thousands is None:
            integer = r"\d+"
        else:
            # A grouped number's first group has no leading zero: `0.500` with `.` for
            # thousands is not five hundred but an amount written with the other mark.
            integer = r"(?:[1-9]\d{0,2}(?:" + re.escape(thousands) + r"\d{3})+|\d+)"
        power = r"(?:[eE][-+]?\d{1,2})?" if exponent else ""
        self._pattern = re.compile(sign + integer + r"(?:" + re.escape(point) + r"\d+)?" + power)

    def normalise(self, text: str) -> str:
        """Turn `text` into plain `-123.45` form, or explain why it is not an amount."""
        stripped = text.strip()
        if self.accounting:
            stripped = _with_minus(stripped)
        if self._pattern.fullmatch(stripped) is None:
            raise AmountError(self._explain(stripped))
        if self.thousands is not None:
            stripped = stripped.replace(self.thousands, "")
        if self.decimal_comma:
            stripped = stripped.replace(",", ".")
        return stripped

    def _explain(self, text: str) -> str:
        if not text:
            return "amount is empty"
        lowered = text.lower()
        if lowered.lstrip("+-") in {"nan", "inf", "infinity", "snan"}:
            return f"{text!r} is not a number"
        if re.fullmatch(r"[-+]?[\d.,]*\d[eE][-+]?\d+", text):
            return (
                f"{text!r} uses exponent notation; write the amount out in full "
                "(or, in a mapping file, exponent = true under [amount])"
            )
        if (text[0] in "+-\u2212" or _IN_PARENTHESES.fullmatch(text)) and not self.signed:
            return (
                f"{text!r} has a sign; amounts here are positive "
                "(in a mapping file, signed = true under [amount])"
            )
        if not re.fullmatch(r"[-+]?[\d.,' \u00a0\u202f]+", text):
            return f"{text!r} is not an amount"
        mark = "," if self.decimal_comma else "."
        other = "." if mark == "," else ","
        if self.thousands is None and other in text:
            return (
                f"{text!r} is ambiguous: declare in the mapping whether "
                "',' and '.' are decimal or thousands separators"
            )
        if self.thousands is not None and self.thousands in text:
            return f"{text!r} has malformed digit grouping"
        return f"{text!r} is not an amount"


#: An accounting tool's negative amount: `(12.50)` (spreadsheets and QuickBooks print
#: them so).
_IN_PARENTHESES: Final = re.compile(r"\(\s*([^()\s+\-\u2212][^()]*?)\s*\)")


def _with_minus(text: str) -> str:
    """A signed amount's negative forms as `-`: the minus sign U+2212 a word processor or
    a report writes, and an accounting tool's parentheses (docs/money.md)."""
    if text.startswith("\u2212"):
        return "-" + text[1:]
    enclosed = _IN_PARENTHESES.fullmatch(text)
    return "-" + enclosed[1] if enclosed else text


_PLAIN: Final = NumberStyle()
_SIGNED: Final = NumberStyle(signed=True)


def parse_amount(
    text: str,
    scale: int | None = None,
    *,
    currency: str | None = None,
    style: NumberStyle | None = None,
) -> Decimal:
    """Parse `text` into an exact Decimal at `scale` places (if given).

    Raises AmountError with a reason a user can act on; FloatInMoneyError for a float.
    """
    amount, _ = _read(text, style or _PLAIN)
    if scale is not None:
        amount = _fit_scale(amount, scale, _shown(text), currency)
    return amount


def parse_held(text: str, *, style: NumberStyle | None = None) -> Decimal:
    """`check_held(parse_amount(text, style=style))` in fewer steps, for amounts read by
    the thousand (a listing's pages: docs/performance.md, "Fetch: the transaction
    listing"). The same rules and the same errors: `parse_amount` already bounds the
    digits before the point as `check_held` does, so only the places are left, and
    without an exponent they are the digits after the point as written."""
    style = style or _PLAIN
    amount, plain = _read(text, style)
    if style.exponent:
        return check_held(amount)
    point = plain.find(".")
    _check_places(len(plain) - point - 1 if point >= 0 else 0)
    return amount


def _read(text: str, style: NumberStyle) -> tuple[Decimal, str]:
    """`text` as an exact Decimal, and its plain form (`-123.45`), within the digits
    before the point a ledger holds."""
    _refuse_float(text)
    if not isinstance(text, str):
        raise TypeError(f"amounts are parsed from text, not {type(text).__name__}")
    plain = style.normalise(text)
    amount = Decimal(plain)
    if not amount.is_zero() and amount.adjusted() >= MAX_WHOLE_DIGITS:
        raise AmountError(
            f"{_shown(text)} is too large to be money"
            f" (more than {MAX_WHOLE_DIGITS} digits before the point)"
        )
    return amount, plain


def check_held(amount: Decimal) -> Decimal:
    """`amount` if the product can hold it (MAX_WHOLE_DIGITS before the point, MAX_PLACES
    places after, trailing zeros included), else AmountError: a value from outside larger
    or finer than any ledger."""
    _refuse_float(amount)
    _, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite by construction
    whole = len(digits) + exponent if amount else 0
    if whole > MAX_WHOLE_DIGITS:
        raise AmountError(
            f"amount has {whole} digits before the point; at most {MAX_WHOLE_DIGITS} are held"
        )
    _check_places(-exponent if exponent < 0 else 0)
    return amount


def _check_places(count: int) -> None:
    if count > MAX_PLACES:
        raise AmountError(f"amount has {count} decimal places; at most {MAX_PLACES} are held")


def _shown(text: str) -> str:
    """An amount as written, cut short for a message (a field may be 128 KiB long)."""
    stripped = text.strip()
    return stripped if len(stripped) <= 48 else f"{stripped[:40]}...({len(stripped)} characters)"


def _fit_scale(amount: Decimal, scale: int, shown: str, currency: str | None) -> Decimal:
    if places(amount) == scale:
        return amount
    try:
        return amount.quantize(Decimal(1).scaleb(-scale), context=_EXACT_QUANTIZE)
    except Inexact:
        whose = f"{currency} allows" if currency else "the currency allows"
        raise AmountError(
            f"{shown} has more decimal places than {whose} ({scale}); it would need rounding"
        ) from None


def quantize(amount: Decimal, scale: int) -> Decimal:
    """`amount` written with exactly `scale` places; raises AmountError if that would round."""
    _refuse_float(amount)
    return _fit_scale(amount, scale, format(amount, "f"), None)


def canonical(amount: Decimal, scale: int | None = None) -> str:
    """The stored text form: plain digits, no exponent, `scale` places if given."""
    _refuse_float(amount)
    if scale is not None:
        amount = quantize(amount, scale)
    text = format(amount, "f")
    return text[1:] if text.startswith("-") and amount.is_zero() else text


def show(amount: Decimal, scale: int | None) -> str:
    """Canonical text at `scale` places when that drops only zeros; with the fewest places
    that keep it exact when the scale is unknown (None); else exactly as it is."""
    exact = trimmed(amount)
    if scale is None:
        return canonical(exact)
    if places(exact) <= scale:
        return canonical(amount, scale)
    return canonical(amount)


def format_amount(
    amount: Decimal, scale: int | None = None, *, grouping: bool = False, compact: bool = False
) -> str:
    """Text for a person: at `scale` places (as `show`; as written when None), or with
    `compact` without trailing zeros; optionally with thousands grouping by commas."""
    if compact:
        text = canonical(trimmed(amount))
    else:
        text = canonical(amount) if scale is None else show(amount, scale)
    if not grouping:
        return text
    sign = "-" if text.startswith("-") else ""
    integer, dot, fraction = text.lstrip("-").partition(".")
    return f"{sign}{int(integer):,}{dot}{fraction}"


def to_minor_units(amount: Decimal, scale: int) -> int:
    """The amount as an integer count of the currency's smallest unit (exact)."""
    return int(quantize(amount, scale).scaleb(scale, context=MONEY))


def add(a: Decimal, b: Decimal) -> Decimal:
    """a + b, exactly."""
    _refuse_float(a)
    _refuse_float(b)
    return MONEY.add(a, b)


def sub(a: Decimal, b: Decimal) -> Decimal:
    """a - b, exactly."""
    _refuse_float(a)
    _refuse_float(b)
    return MONEY.subtract(a, b)


def neg(a: Decimal) -> Decimal:
    """-a, exactly."""
    _refuse_float(a)
    return MONEY.minus(a)


def same_amount(a: Decimal | str | None, b: Decimal | str | None) -> bool:
    """Whether two amounts, each a Decimal, stored text or absent, are equal by value (two
    absent ones are). The store registers it for SQL, so that an acknowledgement holds by
    the same rule in the engine and in a stored run (docs/causes.md)."""
    if a is None or b is None:
        return a is None and b is None
    _refuse_float(a)
    _refuse_float(b)
    return Decimal(a) == Decimal(b)


def magnitude(a: Decimal) -> Decimal:
    """|a|, exactly (the built-in abs() would round to the thread's 28-digit context)."""
    _refuse_float(a)
    return MONEY.abs(a)


def total(amounts: Iterable[Decimal]) -> Decimal:
    """The exact sum of `amounts` (0 for none)."""
    result = ZERO
    for amount in amounts:
        _refuse_float(amount)
        result = MONEY.add(result, amount)
    return result


def is_within(difference: Decimal, tolerance: Decimal) -> bool:
    """Whether a difference is small enough to count as equal (|difference| <= tolerance)."""
    _refuse_float(difference)
    _refuse_float(tolerance)
    return MONEY.abs(difference) <= tolerance


def round_to(value: Decimal, places_: int) -> Decimal:
    """Round half-even to `places_` decimals. For display values only, never for balances."""
    _refuse_float(value)
    return value.quantize(Decimal(1).scaleb(-places_), context=_ROUNDING)


def ratio(numerator: Decimal, denominator: Decimal, places_: int) -> Decimal | None:
    """numerator / denominator rounded to `places_` (display only); None when dividing by 0."""
    _refuse_float(numerator)
    _refuse_float(denominator)
    if denominator.is_zero():
        return None
    return round_to(_ROUNDING.divide(numerator, denominator), places_)


def is_rounded_quotient(value: Decimal, numerator: Decimal, denominator: Decimal) -> bool:
    """Whether `value` is numerator / denominator rounded to value's own places (either way
    at a tie), as an API computes an average: |value - quotient| <= half a unit."""
    _refuse_float(value)
    if denominator.is_zero():
        return False
    quotient = _ROUNDING.divide(numerator, denominator)
    half_unit = Decimal(5).scaleb(-places(value) - 1)
    return _ROUNDING.abs(_ROUNDING.subtract(value, quotient)) <= half_unit


def product(a: Decimal, b: Decimal) -> Decimal:
    """a * b, exactly."""
    _refuse_float(a)
    _refuse_float(b)
    return MONEY.multiply(a, b)


class ExactTally:
    """An exact running sum of amounts written as decimal text.

    Stored amounts of one currency all carry its scale, so each is added as an integer
    count of minor units (a Python int: no overflow, no rounding); a text with other
    places is added as a Decimal instead. Either way the total is exact.
    """

    __slots__ = ("_places", "_rest", "_units", "count")

    def __init__(self) -> None:
        self._units = 0
        self._places = -1
        self._rest = ZERO
        self.count = 0

    def add_text(self, text: str) -> None:
        if not isinstance(text, str):
            raise FloatInMoneyError(f"exact sums read decimal text, got {type(text).__name__}")
        self.count += 1
        dot = text.find(".")
        shown = len(text) - dot - 1 if dot >= 0 else 0
        if self._places < 0:
            self._places = shown
        if shown == self._places and _PLAIN_TEXT.fullmatch(text):
            self._units += int(text.replace(".", "", 1))
        else:
            self._rest = MONEY.add(self._rest, parse_amount(text, style=_SIGNED))

    def total(self) -> Decimal:
        units = Decimal(self._units).scaleb(-max(self._places, 0), context=MONEY)
        return MONEY.add(units, self._rest)


_PLAIN_TEXT: Final = re.compile(r"-?\d+(?:\.\d+)?")


def tally_of_parts(whole: int, first_nine: int, last_nine: int, most_places: int) -> Decimal:
    """What `ExactTally.total` gives for texts a database took apart instead of adding
    them (store/exact_sums.py; docs/performance.md, "Check with transactions").

    For amounts in the plain shape `-?D+(.D{1,18})?` (at most 18 digits before the point)
    the database sums, each signed like its text, the integer parts and the first nine and
    last nine digits of the fractions padded to 18, and keeps the most places any text
    shows. The sums are whole numbers, so they are exact; this puts them back together with
    that many places, the exponent `ExactTally`'s total has (the most places it added).
    """
    attounits = (whole * 10**9 + first_nine) * 10**9 + last_nine
    exact = Decimal(attounits).scaleb(-MAX_SCALE, context=MONEY)
    # Every text had at most `most_places` places, so this drops only zeros: quantize
    # refuses (AmountError) rather than round, should that ever be false.
    return quantize(exact, most_places)


class DecimalSum:
    """An exact SUM for SQLite (`create_aggregate`): sums canonical decimal TEXT.

    SQLite's own SUM() turns TEXT into floating point, which is forbidden for money.
    Returns the sum as canonical text, or NULL over no rows, like SUM().
    """

    __slots__ = ("_tally",)

    def __init__(self) -> None:
        self._tally = ExactTally()

    def step(self, value: str | None) -> None:
        if value is not None:
            self._tally.add_text(value)

    def finalize(self) -> str | None:
        return canonical(self._tally.total()) if self._tally.count else None
