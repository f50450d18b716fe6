"""The product's written rules, restated for the sandbox from the documents, not imported.

The sandbox plays the gateway and writes what a correct reconciliation must report, so
the rules it is meant to check must not come from the code under test: a wrong status
word, severity, scale or id there would then hide in both. Each rule below is written
from docs/ (docs/sandbox.md, "The rules the sandbox restates", quotes them):

- gateway status words onto confirmed / pending / failed (docs/mapping.md);
- the kinds of discrepancy in report order, and which are warnings (docs/report.md);
- each currency's decimal places (docs/money.md): 6 for USDT*, USDC* and DAI* stable
  tokens, 18 for ETH and WETH, 8 for BTC, any other the places the gateway prints, and
  18 when the gateway prints none;
- the discrepancy id (docs/report.md, docs/sandbox.md): the first 16 hex digits of the
  sha256 of kind, currency, wallet, bucket, field and reference, joined by the unit
  separator U+001F, an absent part written empty;
- the cause kinds and the cause id (docs/causes.md): the same hash of `cause`, kind,
  currency, wallet, the references joined by `,` and the gateway ids joined by `,`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Final

__all__ = [
    "CAUSE_KINDS",
    "CONFIRMED",
    "FAILED",
    "KINDS",
    "MOST_PLACES",
    "PENDING",
    "REPORT_SCHEMA",
    "WARNING_KINDS",
    "cause_id",
    "cause_kind_position",
    "discrepancy_id",
    "kind_position",
    "known_places",
    "places_of",
    "severity",
    "status_of",
]

#: The report document's schema version the expectation is written in.
REPORT_SCHEMA: Final = 2

CONFIRMED: Final = "confirmed"
PENDING: Final = "pending"
FAILED: Final = "failed"

#: Every status word a record or the gateway may use, onto the three states.
_STATUS: Final[Mapping[str, str]] = {
    **dict.fromkeys(("confirmed", "completed", "partially_completed"), CONFIRMED),
    **dict.fromkeys(("pending", "waiting", "confirming", "processing", "submitted", "approved"),
                    PENDING),
    **dict.fromkeys(("failed", "expired", "rejected", "cancelled"), FAILED),
}  # fmt: skip

#: The closed vocabulary of discrepancy kinds, in the order reports list them.
KINDS: Final = (
    "api_inconsistency",
    "currency_not_in_api",
    "currency_not_in_records",
    "wallet_not_in_api",
    "available_mismatch",
    "pending_mismatch",
    "total_mismatch",
    "history_mismatch",
    "duplicate_record",
    "stale_pending",
    "low_balance",
)
#: The kinds reported as warnings; every other kind is an error.
WARNING_KINDS: Final = frozenset({"currency_not_in_records", "stale_pending", "low_balance"})

_POSITION: Final = {kind: position for position, kind in enumerate(KINDS)}

#: Every kind of cause (docs/causes.md), in the order the expected report lists them.
CAUSE_KINDS: Final = (
    "missing_in_records",
    "missing_at_gateway",
    "amount_differs",
    "fee_differs",
    "status_differs",
    "time_differs",
    "wrong_wallet",
    "duplicate_record",
    "currency_not_in_api",
    "wallet_not_in_api",
    "api_inconsistency",
    "unexplained",
    "stale_pending",
    "low_balance",
    "currency_not_in_records",
)
_CAUSE_POSITION: Final = {kind: position for position, kind in enumerate(CAUSE_KINDS)}

#: The most places any currency carries, and the places of one the gateway does not print.
MOST_PLACES: Final = 18
_PREFIX_PLACES: Final = (("USDT", 6), ("USDC", 6), ("DAI", 6))
_EXACT_PLACES: Final = {"ETH": 18, "WETH": 18, "BTC": 8}


def status_of(word: str) -> str:
    """confirmed, pending or failed for a status word (any case); KeyError for others."""
    return _STATUS[word.strip().lower()]


def severity(kind: str) -> str:
    return "warning" if kind in WARNING_KINDS else "error"


def kind_position(kind: str) -> int:
    return _POSITION[kind]


def cause_kind_position(kind: str) -> int:
    return _CAUSE_POSITION[kind]


def known_places(code: str) -> int | None:
    """The fixed places of a currency the product knows by name, or None."""
    upper = code.upper()
    if upper in _EXACT_PLACES:
        return _EXACT_PLACES[upper]
    return next((places for prefix, places in _PREFIX_PLACES if upper.startswith(prefix)), None)


def places_of(code: str, printed: Mapping[str, int]) -> int:
    """The places a report writes a currency's amounts with: known, printed, else 18."""
    known = known_places(code)
    if known is not None:
        return known
    return printed.get(code, MOST_PLACES)


def _digest(parts: Iterable[str | None]) -> str:
    """16 hex digits of a sha256 over the parts joined by the unit separator (None as '')."""
    text = "\x1f".join(part or "" for part in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def discrepancy_id(kind: str, *about: str | None) -> str:
    """The stable id of what a discrepancy is about, never of its values: its kind, then
    currency, wallet, bucket, field and reference (docs/report.md)."""
    return _digest((kind, *about))


def cause_id(
    kind: str,
    currency: str | None,
    wallet_id: str | None,
    references: tuple[str, ...],
    gateway_ids: tuple[str, ...],
    told_apart_by: str | None = None,
) -> str:
    """The stable id of a cause (never of its effect). `told_apart_by` is the seventh part
    some causes need (docs/causes.md, "Cause ids"): a cause standing for one discrepancy
    gives that discrepancy's id."""
    parts = ["cause", kind, currency, wallet_id, ",".join(references), ",".join(gateway_ids)]
    if told_apart_by is not None:
        parts.append(told_apart_by)
    return _digest(parts)
