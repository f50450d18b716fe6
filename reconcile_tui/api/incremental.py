"""A fetch after the first asks only for the part of the listing that may have changed.

The rules (docs/api-client.md, "Incremental fetches"):
- the previous listing (the newest stored one from the same gateway) says where change may
  start: the earliest `created_at` of a transaction not yet final, or, when all are
  final, the latest `created_at` of any;
- the listing is asked for with `date_from` the UTC day before that, as a date: the
  gateway says neither whether it reads a date or a time nor in which zone, and in any
  zone that day has begun before the moment change may start;
- of the previous listing only what was created before the day after `date_from` is
  kept (wherever the gateway's day begins, the new listing starts before then), and only
  where the new listing does not serve the same id: the gateway's new copy wins;
- the result is the new listing as served, then the kept transactions in their order.
The gateway documents no `updated_at` filter, which is why the bound is a creation date.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from reconcile_tui.api.listing import Listing
from reconcile_tui.api.models import GatewayTransaction

__all__ = ["FINAL_STATUSES", "ListingSince", "listing_since", "merged"]

log = logging.getLogger(__name__)

#: The statuses after which the gateway changes a transaction no more (reference notes):
#: a payment `waiting` -> `confirming` -> `completed` | `partially_completed` | `failed`,
#: or `waiting` -> `expired`; a withdrawal ends `completed`, `rejected`, `failed` or
#: `cancelled`. Any other status, one the notes do not name included, may still change.
FINAL_STATUSES: dict[str, frozenset[str]] = {
    "payment": frozenset({"completed", "partially_completed", "failed", "expired"}),
    "withdrawal": frozenset({"completed", "rejected", "failed", "cancelled"}),
}


@dataclass(frozen=True)
class ListingSince:
    """Where a listing is asked for from, and what of the previous one may be kept."""

    date_from: date
    """The `date_from` asked for."""
    snapshot_id: int
    """The stored snapshot whose listing is refreshed."""
    previous: Sequence[GatewayTransaction]
    previous_raw: Sequence[bytes]

    @property
    def kept_before(self) -> datetime:
        """Previous transactions created before this are kept unless served again: the
        day after `date_from`, by when that day has begun in every zone (UTC-12 the
        latest, at noon UTC)."""
        return datetime.combine(self.date_from + timedelta(days=1), time(), tzinfo=UTC)


def _final(transaction: GatewayTransaction) -> bool:
    return transaction.status in FINAL_STATUSES.get(transaction.type, frozenset())


def listing_since(
    snapshot_id: int, previous: Sequence[GatewayTransaction], previous_raw: Sequence[bytes]
) -> ListingSince | None:
    """Where to ask from, given the previous listing; None when it is empty (ask for all)."""
    if not previous:
        return None
    unfinished = [t.created_at for t in previous if not _final(t)]
    start = min(unfinished) if unfinished else max(t.created_at for t in previous)
    date_from = start.astimezone(UTC).date() - timedelta(days=1)
    return ListingSince(date_from, snapshot_id, previous, previous_raw)


def merged(since: ListingSince, fetched: Listing) -> Listing:
    """The new listing as served, then what is kept of the previous one (module docstring)."""
    served = {transaction.id for transaction in fetched.transactions}
    bound = since.kept_before
    kept = [
        (transaction, raw)
        for transaction, raw in zip(since.previous, since.previous_raw, strict=True)
        if transaction.created_at < bound and transaction.id not in served
    ]
    log.info(
        "fetched %d transactions created from %s on; kept %d of snapshot #%d's %d",
        len(fetched.transactions),
        since.date_from.isoformat(),
        len(kept),
        since.snapshot_id,
        len(since.previous),
    )
    return Listing(
        transactions=(*fetched.transactions, *(transaction for transaction, _ in kept)),
        raw_items=(*fetched.raw_items, *(raw for _, raw in kept)),
        pages=fetched.pages,
        repeated=fetched.repeated,
    )
