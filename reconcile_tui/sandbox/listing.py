"""The gateway's transaction listing: the ledger as `GET /transactions/transactions/` shows it.

Every transaction of the ledger is one item, in the order (`created_at`, `id`), with the
fields the reference notes document (docs/sandbox.md, "The transaction listing"). Its
`net_amount` is what moved its wallet's balance (the ledger's amount, the figure the
balances and history views sum), its `fee_amount` the fee inside it, and its `amount`
the two together, so `amount - fee_amount = net_amount` always. The listing names no
wallet, as the gateway's does not.

`gateway_id` is the one place a transaction's listing id is made: the listing and the
model that writes expected.json (its causes name gateway transactions by this id) both
call it.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from reconcile_tui.sandbox.catalog import Currency
from reconcile_tui.sandbox.config import LedgerSpec
from reconcile_tui.sandbox.ledger import Transaction, epoch, epoch_text, transactions
from reconcile_tui.sandbox.spec import PENDING
from reconcile_tui.sandbox.units import amount_text
from reconcile_tui.vocabulary import RecordType

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "PAYMENT_STATUSES",
    "WITHDRAWAL_STATUSES",
    "Listing",
    "ListingQuery",
    "QueryError",
    "compute_listing",
    "gateway_id",
    "listing_type",
]

DEFAULT_PAGE_SIZE: Final = 20
MAX_PAGE_SIZE: Final = 100

#: The status words the reference notes document, per type.
PAYMENT_STATUSES: Final = (
    "waiting", "confirming", "completed", "partially_completed", "failed", "expired",
)  # fmt: skip
WITHDRAWAL_STATUSES: Final = (
    "pending", "approved", "processing", "submitted", "confirmed", "completed", "rejected",
    "failed", "cancelled",
)  # fmt: skip

#: How long after its creation a finished transaction was last updated (its confirmations).
_SETTLED_AFTER: Final = 20 * 60
_CONFIRMATIONS: Final = 12


def listing_type(tx: Transaction) -> str:
    """`payment` or `withdrawal`: the listing's word for a ledger transaction's type."""
    return "payment" if tx.type is RecordType.DEPOSIT else "withdrawal"


def gateway_id(seed: int, tx: Transaction) -> str:
    """The listing's `id` of a ledger transaction: a UUID fixed by the seed and reference."""
    digest = hashlib.sha256(f"sandbox/{seed}/listing/{tx.reference}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _derived(seed: int, tx: Transaction, what: str) -> str:
    return hashlib.sha256(f"sandbox/{seed}/{what}/{tx.reference}".encode()).hexdigest()


class QueryError(ValueError):
    """A bad query parameter; `details` names each one, as the error body's details."""

    def __init__(self, details: Mapping[str, str]) -> None:
        super().__init__(", ".join(details))
        self.details = dict(details)


@dataclass(frozen=True, slots=True)
class ListingQuery:
    """The filters and the page a request asks for."""

    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    type: str | None = None
    status: str | None = None
    currency: str | None = None
    date_from: int | None = None
    #: Exclusive: a date alone means up to the end of that day.
    date_until: int | None = None

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> ListingQuery:
        """The query of a request, or QueryError naming every bad parameter."""
        problems: dict[str, str] = {}
        page = _whole(query, "page", 1, None, problems)
        page_size = _whole(query, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, problems)
        kind = query.get("type") or None
        if kind is not None and kind not in ("payment", "withdrawal"):
            problems["type"] = f"{kind!r} is not one of payment, withdrawal"
        status = query.get("status") or None
        known = PAYMENT_STATUSES + WITHDRAWAL_STATUSES
        if status is not None and status not in known:
            problems["status"] = f"{status!r} is not a transaction status"
        date_from = _moment(query, "date_from", problems, end_of_day=False)
        date_until = _moment(query, "date_to", problems, end_of_day=True)
        if problems:
            raise QueryError(problems)
        return cls(
            page=page,
            page_size=page_size,
            type=kind,
            status=status,
            currency=query.get("currency") or None,
            date_from=date_from,
            date_until=date_until,
        )

    def filters(self) -> tuple[Any, ...]:
        return (self.type, self.status, self.currency, self.date_from, self.date_until)

    def keeps(self, tx: Transaction) -> bool:
        return (
            (self.type is None or listing_type(tx) == self.type)
            and (self.status is None or tx.status == self.status)
            and (self.currency is None or tx.currency == self.currency)
            and (self.date_from is None or tx.at >= self.date_from)
            and (self.date_until is None or tx.at < self.date_until)
        )


def _whole(
    query: Mapping[str, str], name: str, default: int, most: int | None, problems: dict[str, str]
) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        problems[name] = f"{text!r} is not a whole number of 1 or more"
        return default
    value = int(text)
    if most is not None and value > most:
        problems[name] = f"{value} is more than the most allowed, {most}"
        return default
    return value


def _moment(
    query: Mapping[str, str], name: str, problems: dict[str, str], *, end_of_day: bool
) -> int | None:
    """Epoch seconds of an ISO 8601 date or time (a time without an offset is UTC); for
    `date_to` the first second after it (a date alone: after that whole day)."""
    text = query.get(name)
    if text is None or text == "":
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return epoch(moment + timedelta(days=1) if end_of_day else moment)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        problems[name] = f"{text!r} is not an ISO 8601 date or time"
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = moment.timestamp()
    return int(seconds) + 1 if end_of_day else -int(-seconds // 1)


class Listing:
    """Every transaction of one ledger, in listing order, rendered page by page."""

    def __init__(self, spec: LedgerSpec, items: Iterable[Transaction] | None = None) -> None:
        self.seed = spec.seed
        self.clock = epoch(spec.clock)
        self._currencies = {currency.code: currency for currency in spec.currency_table}
        keyed = [(tx.at, gateway_id(spec.seed, tx), tx) for tx in (items or transactions(spec))]
        keyed.sort(key=lambda entry: (entry[0], entry[1]))
        self._ids = [entry[1] for entry in keyed]
        self._all = [entry[2] for entry in keyed]
        self._filtered: dict[tuple[Any, ...], list[int]] = {}

    def __len__(self) -> int:
        return len(self._all)

    def matching(self, query: ListingQuery) -> list[int]:
        """Positions of the transactions a query's filters keep (cached per filter)."""
        key = query.filters()
        kept = self._filtered.get(key)
        if kept is None:
            kept = [index for index, tx in enumerate(self._all) if query.keeps(tx)]
            self._filtered[key] = kept
        return kept

    def last_page(self, query: ListingQuery) -> int:
        count = len(self.matching(query))
        return max(1, -(-count // query.page_size))

    def page(self, query: ListingQuery, url_of_page: Any) -> dict[str, Any] | None:
        """The page document, or None when the page is past the last one.

        `url_of_page(n)` is the absolute URL of page n with the same query."""
        kept = self.matching(query)
        last = self.last_page(query)
        if query.page > last:
            return None
        start = (query.page - 1) * query.page_size
        chosen = kept[start : start + query.page_size]
        return {
            "count": len(kept),
            "next": url_of_page(query.page + 1) if query.page < last else None,
            "previous": url_of_page(query.page - 1) if query.page > 1 else None,
            "results": [self.item(index) for index in chosen],
        }

    def item(self, index: int) -> dict[str, Any]:
        """One listing item, as the reference notes document its fields."""
        tx = self._all[index]
        currency: Currency = self._currencies[tx.currency]
        scale = currency.scale
        kind = listing_type(tx)
        settled = tx.state != PENDING
        updated = min(self.clock, tx.at + _SETTLED_AFTER) if settled else self.clock
        if tx.status in {"expired", "rejected", "cancelled"} or tx.tx_hash is None:
            confirmations = 0
        elif settled:
            confirmations = _CONFIRMATIONS
        else:
            confirmations = int(_derived(self.seed, tx, "confirmations")[:4], 16) % _CONFIRMATIONS
        own_id = _derived(self.seed, tx, "own-id")[:24]
        address = _derived(self.seed, tx, "address")[:40]
        return {
            "id": self._ids[index],
            "type": kind,
            **({"transaction_id": f"tx_{own_id}"} if kind == "payment" else {}),
            **({"withdrawal_id": f"wd_{own_id}"} if kind == "withdrawal" else {}),
            "amount": amount_text(tx.amount + tx.fee, scale),
            "currency": tx.currency,
            "status": tx.status,
            "created_at": epoch_text(tx.at),
            "updated_at": epoch_text(updated),
            "reference": tx.reference,
            "blockchain_address": f"0x{address}" if currency.evm else address,
            "transaction_hash": tx.tx_hash,
            "fee_amount": amount_text(tx.fee, scale),
            "net_amount": amount_text(tx.amount, scale),
            "metadata": {
                "order_id": tx.reference if kind == "payment" else None,
                "confirmations": confirmations,
            },
        }


@functools.lru_cache(maxsize=4)
def compute_listing(spec: LedgerSpec) -> Listing:
    """The listing of `spec`, built once per process (servers of one spec share it)."""
    return Listing(spec)
