"""The gateway's response shapes, exactly as the Account Balances page prints them.

Amounts arrive as JSON strings and become exact Decimals; a number where an amount belongs
is refused (the gateway never sends one, so a number means something upstream rounded).
Fields the page documents are required; fields it does not are ignored. A problem is
reported by the field's path: `balances[0].wallets[1].balance: ...`.

Values the product cannot hold are refused here, for live and saved responses alike
(docs/api-client.md, "Bounds"): amounts beyond `money.check_held`, counts above
MAX_COUNT, times outside the years 1900 to 2999, currency codes that are not
CURRENCY_CODE.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Literal, Self, TypeVar

from pydantic import (
    AliasPath,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
)
from pydantic_core import CoreSchema, core_schema

from reconcile_tui import money
from reconcile_tui.config import first_problem
from reconcile_tui.money import AmountError, NumberStyle
from reconcile_tui.times import (
    UTC_PLAIN_PATTERN,
    Interval,
    Period,
    TimeError,
    format_utc,
    parse_api_time,
)
from reconcile_tui.vocabulary import CURRENCY_CODE, MAX_KEY

__all__ = [
    "CURRENCY_CODE",
    "MAX_COUNT",
    "BalancesResponse",
    "BalancesSummary",
    "CurrencyBalance",
    "GatewayErrorBody",
    "GatewayTransaction",
    "HistoryBucket",
    "HistoryResponse",
    "HistorySummary",
    "ResponseShapeError",
    "TransactionsPage",
    "WalletBalance",
    "parse_balances",
    "parse_error_body",
    "parse_history",
    "parse_transactions",
]

_API_NUMBERS = NumberStyle(signed=True)

#: The most transactions a count may say: far above any merchant's, far below SQLite's
#: INTEGER (2^63 - 1) even summed over every bucket of a 30-day hourly history.
MAX_COUNT = 10**15


class ResponseShapeError(ValueError):
    """A response body is not the shape docs/api-client.md describes; the message names
    the field."""


def _amount_from_text(value: Any) -> Decimal:
    if isinstance(value, str):  # what the gateway sends, so asked first
        try:
            return money.parse_held(value, style=_API_NUMBERS)
        except AmountError as error:
            raise ValueError(str(error)) from None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool | int | float):
        raise ValueError(f"amount must be a JSON string, got number {value!r}")
    raise ValueError(f"amount must be a JSON string, got {type(value).__name__}")


def _currency_code(value: Any) -> Any:
    if isinstance(value, str) and not CURRENCY_CODE.fullmatch(value):
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise ValueError(
            f"{shown!r} is not a currency code (A-Z, 0-9, _ and -, at most 32 characters)"
        )
    return value


def _time_from_text(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    try:
        return parse_api_time(value)
    except TimeError as error:
        raise ValueError(str(error)) from None


class _FastPath:
    """A field whose common case pydantic's core can take without calling Python (a page
    of the listing holds 300 amounts and 300 ids: docs/performance.md, "Fetch: the
    transaction listing").

    `fast` accepts only values the field's own validators accept, and alike (tests prove
    it); anything else goes to those validators. In strict mode only those validators
    run: `_parse` validates again that way when a body fails, so every error is theirs."""

    def __init__(self, fast: CoreSchema) -> None:
        self.fast = fast

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        exact = handler(source)
        return core_schema.lax_or_strict_schema(
            lax_schema=core_schema.union_schema([self.fast, exact], mode="left_to_right"),
            strict_schema=exact,
        )


def _matching(pattern: str, **constraints: Any) -> CoreSchema:
    """A JSON string matching the whole of `pattern`, as it is."""
    return core_schema.str_schema(pattern=f"^(?:{pattern})$", strict=True, **constraints)


Amount = Annotated[
    Decimal,
    BeforeValidator(_amount_from_text),
    _FastPath(
        core_schema.chain_schema(
            [_matching(money.HELD_PLAIN_PATTERN), core_schema.decimal_schema()]
        )
    ),
    PlainSerializer(lambda amount: money.canonical(amount), return_type=str),
]
ApiTime = Annotated[
    datetime,
    BeforeValidator(_time_from_text),
    _FastPath(
        core_schema.no_info_after_validator_function(
            datetime.fromisoformat, _matching(UTC_PLAIN_PATTERN)
        )
    ),
    PlainSerializer(format_utc, return_type=str),
]
Count = Annotated[int, Field(strict=True, ge=0, le=MAX_COUNT)]
CurrencyCode = Annotated[
    str, BeforeValidator(_currency_code), _FastPath(_matching(CURRENCY_CODE.pattern))
]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    @classmethod
    def model_construct(  # type: ignore[override]  # pydantic's plugin renames the arguments
        cls, _fields_set: set[str] | None = None, **values: Any
    ) -> Self:
        """pydantic's `model_construct`, made directly when every field is given and
        nothing else: that is how a stored snapshot's transactions are rebuilt, a million
        at a time, and pydantic's general loop (aliases, defaults, extras) took twice as
        long (docs/performance.md). Nothing is validated either way, and the instance is
        the same; any other call goes to pydantic."""
        names = cls.__pydantic_fields__
        if _fields_set is not None or len(values) != len(names):
            return super().model_construct(_fields_set, **values)
        try:
            fields = {name: values[name] for name in names}
        except KeyError:  # as many values as fields, but not every field
            return super().model_construct(_fields_set, **values)
        made = cls.__new__(cls)
        _set = object.__setattr__  # frozen: pydantic sets these the same way
        _set(made, "__dict__", fields)
        _set(made, "__pydantic_fields_set__", set(fields))
        _set(made, "__pydantic_extra__", None)
        _set(made, "__pydantic_private__", None)
        return made


class WalletBalance(_Shape):
    """One wallet's share of a currency: confirmed `balance` and `pending`."""

    wallet_id: str
    wallet_name: str = ""
    balance: Amount
    pending: Amount


class CurrencyBalance(_Shape):
    """One currency's aggregate across wallets, with its all-time totals."""

    currency: CurrencyCode
    currency_name: str | None = None
    network: str | None = None
    total_balance: Amount
    available_balance: Amount
    pending_balance: Amount
    total_deposited: Amount
    total_withdrawn: Amount
    total_fees_paid: Amount
    usd_value: Amount
    last_transaction: ApiTime | None = None
    wallets: list[WalletBalance]

    def printed_scale(self) -> int:
        """The decimal places this currency's amounts are printed with (the widest seen)."""
        amounts = [self.total_balance, self.available_balance, self.pending_balance]
        amounts += [self.total_deposited, self.total_withdrawn, self.total_fees_paid]
        for wallet in self.wallets:
            amounts += [wallet.balance, wallet.pending]
        return max(money.places(amount) for amount in amounts)

    def repeated_wallets(self) -> dict[str, int]:
        """Wallet ids listed more than once in this currency, with how often: the gateway
        contradicting itself, so none of those entries can be compared with the books."""
        return _repeated(wallet.wallet_id for wallet in self.wallets)


def _repeated(keys: Iterable[str]) -> dict[str, int]:
    counts = Counter(keys)
    return {key: count for key, count in counts.items() if count > 1}


class BalancesSummary(_Shape):
    """The `summary` block of GET /user/balances/."""

    total_usd_value: Amount
    total_currencies: Count
    total_wallets: Count
    last_update: ApiTime


class BalancesResponse(_Shape):
    """GET /user/balances/."""

    balances: list[CurrencyBalance]
    summary: BalancesSummary

    def currency(self, code: str) -> CurrencyBalance | None:
        """The balance of `code` (its first listing), or None when the gateway does not
        report it."""
        for balance in self.balances:
            if balance.currency == code:
                return balance
        return None

    def listed(self) -> list[CurrencyBalance]:
        """Each currency once, at its first listing: the one every comparison uses
        (docs/reconciliation.md, "Listed twice")."""
        first: dict[str, CurrencyBalance] = {}
        for balance in self.balances:
            first.setdefault(balance.currency, balance)
        return list(first.values())

    def repeated_currencies(self) -> dict[str, int]:
        """Currency codes listed more than once, with how often."""
        return _repeated(balance.currency for balance in self.balances)

    def printed_scales(self) -> dict[str, int]:
        """Each currency's printed scale: the scale of currencies not known in advance."""
        return {balance.currency: balance.printed_scale() for balance in self.balances}


class HistoryBucket(_Shape):
    """One bucket [timestamp, timestamp + interval); `balance` is the total at its end."""

    timestamp: ApiTime
    balance: Amount
    deposits: Amount
    withdrawals: Amount
    deposit_count: Count
    withdrawal_count: Count
    usd_value: Amount


class HistorySummary(_Shape):
    """The `summary` block of GET /user/balances/history/."""

    starting_balance: Amount
    ending_balance: Amount
    total_deposits: Amount
    total_withdrawals: Amount
    net_change: Amount
    total_deposit_count: Count
    total_withdrawal_count: Count
    average_daily_deposits: Amount
    average_daily_withdrawals: Amount


class HistoryResponse(_Shape):
    """GET /user/balances/history/ for one currency."""

    currency: CurrencyCode | None = None
    period: Period
    interval: Interval
    history: list[HistoryBucket]
    summary: HistorySummary


def _identifier(value: Any) -> Any:
    """Ids and references arrive as text or as JSON integers; both are kept as text."""
    if isinstance(value, bool):
        raise ValueError("must be text or an integer, got a boolean")
    if isinstance(value, int):
        if abs(value) > MAX_COUNT:
            raise ValueError("is an integer too large to be an id")
        return str(value)
    if isinstance(value, str) and len(value) > MAX_IDENTIFIER:
        raise ValueError(f"is longer than {MAX_IDENTIFIER} characters")
    return value


#: The longest id, reference or hash the product keeps from a gateway transaction.
MAX_IDENTIFIER: Final = MAX_KEY

Identifier = Annotated[
    str,
    BeforeValidator(_identifier),
    _FastPath(
        core_schema.union_schema(
            [
                core_schema.str_schema(max_length=MAX_IDENTIFIER, strict=True),
                # A listing's ids are JSON integers: written as text, as `_identifier` does.
                core_schema.no_info_after_validator_function(
                    str, core_schema.int_schema(strict=True, ge=-MAX_COUNT, le=MAX_COUNT)
                ),
            ],
            mode="left_to_right",
        )
    ),
]


def _metadata_shape(value: Any) -> None:
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"must be an object or null, got {type(value).__name__}")


class GatewayTransaction(_Shape):
    """One item of GET /transactions/transactions/ (docs/api-client.md, "Transactions").

    Its effect on its wallet's balance is `net_amount` (the fee is inside it): credited by
    a `payment`, debited by a `withdrawal`. The listing documents no wallet."""

    id: Identifier
    type: Literal["payment", "withdrawal"]
    transaction_id: Identifier | None = None
    withdrawal_id: Identifier | None = None
    amount: Amount
    currency: CurrencyCode
    status: str
    created_at: ApiTime
    updated_at: ApiTime | None = None
    reference: Identifier | None = None
    blockchain_address: Identifier | None = None
    transaction_hash: Identifier | None = None
    fee_amount: Amount
    net_amount: Amount
    #: What the gateway keeps beside the transaction, read where it stands
    #: (`metadata.order_id`, `metadata.confirmations`): a model of its own for them made
    #: two more objects per transaction for the collector to walk, a million at a time
    #: (docs/performance.md, "Fetch: the transaction listing").
    order_id: Identifier | None = Field(None, validation_alias=AliasPath("metadata", "order_id"))
    confirmations: Count | None = Field(
        None, validation_alias=AliasPath("metadata", "confirmations")
    )
    #: Only checked, never kept: an object, `{}`, `null` or absent (all but an object
    #: with those two fields read as none of them; a gateway's empty field is written
    #: either way).
    metadata: Annotated[None, BeforeValidator(_metadata_shape)] = Field(
        None, exclude=True, repr=False
    )

    @model_serializer(mode="wrap")
    def _as_listed(self, written: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Written back in the listing's own shape, the two fields inside `metadata`."""
        fields: dict[str, Any] = written(self)
        fields["metadata"] = {
            "order_id": fields.pop("order_id", None),
            "confirmations": fields.pop("confirmations", None),
        }
        return fields


class TransactionsPage(_Shape):
    """A page of the listing (`next`/`previous` are URLs or null), or a saved listing
    (`transactions.json`: every page's items in the order served, no links)."""

    count: Count
    next: str | None = None
    previous: str | None = None
    results: list[GatewayTransaction]


class GatewayErrorDetail(_Shape):
    code: str = "error"
    message: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


class GatewayErrorBody(_Shape):
    """An error body: `{"error": {"code", "message", "details"}}` or `{"detail": "..."}`."""

    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


_ShapeT = TypeVar("_ShapeT", bound=BaseModel)


def describe(error: ValidationError, what: str) -> str:
    """One line naming the first bad field of a response and why it is bad."""
    problem = first_problem(error)
    if problem.type == "json_invalid":
        return f"{what} is not valid JSON ({problem.message.removeprefix('Invalid JSON: ')})"
    if problem.type in {"model_type", "model_attributes_type"} and not problem.location:
        return f"{what} is not a JSON object"
    message = "missing" if problem.type == "missing" else problem.message
    more = problem.others
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{what}: {problem.indexed or 'body'}: {message}{suffix}"


def _parse(model: type[_ShapeT], body: bytes | str, what: str) -> _ShapeT:
    try:
        return model.model_validate_json(body)
    except ValidationError:
        pass
    # Strict: the fields' own validators alone (`_FastPath`), so the problem named is
    # theirs, never a fast path's.
    try:
        return model.model_validate_json(body, strict=True)
    except ValidationError as error:
        raise ResponseShapeError(describe(error, what)) from None


def parse_balances(body: bytes | str, what: str = "balances response") -> BalancesResponse:
    """Parse a GET /user/balances/ body, or raise ResponseShapeError naming the bad field."""
    return _parse(BalancesResponse, body, what)


def parse_history(body: bytes | str, what: str = "history response") -> HistoryResponse:
    """Parse a GET /user/balances/history/ body, or raise ResponseShapeError."""
    return _parse(HistoryResponse, body, what)


def parse_transactions(body: bytes | str, what: str = "transactions response") -> TransactionsPage:
    """Parse a GET /transactions/transactions/ page (or a saved `transactions.json`), or
    raise ResponseShapeError naming the bad field."""
    return _parse(TransactionsPage, body, what)


def parse_error_body(body: bytes | str) -> GatewayErrorBody | None:
    """The gateway's error code and message, from either documented shape; None otherwise."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    inner = data.get("error")
    if isinstance(inner, dict):
        try:
            detail = GatewayErrorDetail.model_validate(inner)
        except ValidationError:
            return None
        return GatewayErrorBody(code=detail.code, message=detail.message, details=detail.details)
    if isinstance(inner, str):
        message = data.get("message") or data.get("error_description") or inner
        return GatewayErrorBody(code=inner, message=str(message))
    if isinstance(data.get("detail"), str):
        return GatewayErrorBody(code="error", message=data["detail"])
    return None
