"""What a reconciliation finds: `Discrepancy`, and the `Report` that gathers them.

The vocabulary of kinds is closed (DESIGN's table). Every discrepancy has a stable `id`, a
hash of what it is about (kind, currency, wallet, bucket, field, reference) and not of its
values, so an acknowledgement made today still finds it tomorrow; the acknowledgement
lapses when the difference it accepted changes.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from reconcile_tui import money
from reconcile_tui.store.acks import Acknowledgement
from reconcile_tui.times import format_utc

__all__ = [
    "SCHEMA_VERSION",
    "Acknowledgement",
    "Discrepancy",
    "Kind",
    "Note",
    "Report",
    "Severity",
    "discrepancy_id",
    "tally",
]

SCHEMA_VERSION = 1


class Kind(StrEnum):
    """The closed vocabulary of discrepancy kinds, in the order reports list them."""

    API_INCONSISTENCY = "api_inconsistency"
    CURRENCY_NOT_IN_API = "currency_not_in_api"
    CURRENCY_NOT_IN_RECORDS = "currency_not_in_records"
    WALLET_NOT_IN_API = "wallet_not_in_api"
    AVAILABLE_MISMATCH = "available_mismatch"
    PENDING_MISMATCH = "pending_mismatch"
    TOTAL_MISMATCH = "total_mismatch"
    HISTORY_MISMATCH = "history_mismatch"
    DUPLICATE_RECORD = "duplicate_record"
    STALE_PENDING = "stale_pending"
    LOW_BALANCE = "low_balance"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


#: Every kind is an error but for the three DESIGN marks as warnings.
SEVERITY: dict[Kind, Severity] = dict.fromkeys(Kind, Severity.ERROR) | {
    Kind.CURRENCY_NOT_IN_RECORDS: Severity.WARNING,
    Kind.STALE_PENDING: Severity.WARNING,
    Kind.LOW_BALANCE: Severity.WARNING,
}

_KIND_ORDER = {kind: position for position, kind in enumerate(Kind)}


def discrepancy_id(
    kind: str,
    currency: str | None,
    wallet_id: str | None,
    bucket: str | None,
    field: str | None,
    reference: str | None,
) -> str:
    """The stable id: 16 hex digits of a sha256 over what the discrepancy is about."""
    parts = (kind, currency, wallet_id, bucket, field, reference)
    text = "\x1f".join("" if part is None else part for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Discrepancy:
    """One disagreement, with both sides' values and a message that explains it."""

    kind: Kind
    message: str
    currency: str | None = None
    wallet_id: str | None = None
    bucket: datetime | None = None
    field: str | None = None
    api_value: Decimal | None = None
    merchant_value: Decimal | None = None
    usd_difference: Decimal | None = None
    references: tuple[str, ...] = ()
    reference: str | None = None
    acknowledged: bool = False
    #: Decimal places to print this discrepancy's amounts with (None: as computed).
    scale: int | None = None

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.kind]

    @property
    def difference(self) -> Decimal | None:
        """api_value - merchant_value: positive when the gateway holds more."""
        if self.api_value is None or self.merchant_value is None:
            return None
        return money.sub(self.api_value, self.merchant_value)

    @property
    def bucket_text(self) -> str | None:
        return format_utc(self.bucket) if self.bucket else None

    @property
    def id(self) -> str:
        return discrepancy_id(
            self.kind, self.currency, self.wallet_id, self.bucket_text, self.field, self.reference
        )

    def acknowledge(self, acknowledgement: Acknowledgement | None) -> Discrepancy:
        covered = acknowledgement is not None and acknowledgement.covers(self.difference)
        return replace(self, acknowledged=covered) if covered != self.acknowledged else self

    def sort_key(self) -> tuple[Any, ...]:
        return (
            0 if self.severity == Severity.ERROR else 1,
            self.currency or "",
            _KIND_ORDER[self.kind],
            self.wallet_id or "",
            self.bucket_text or "",
            self.field or "",
            self.reference or "",
        )

    def _text(self, value: Decimal | None, scale: int | None = None) -> str | None:
        if value is None:
            return None
        return money.show(value, self.scale if scale is None else scale)

    def to_dict(self) -> dict[str, Any]:
        """The report schema's discrepancy object: every amount as a string."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "severity": self.severity.value,
            "currency": self.currency,
            "wallet_id": self.wallet_id,
            "bucket": self.bucket_text,
            "field": self.field,
            "api_value": self._text(self.api_value),
            "merchant_value": self._text(self.merchant_value),
            "difference": self._text(self.difference),
            "usd_difference": self._text(self.usd_difference, 2),
            "references": list(self.references),
            "message": self.message,
            "acknowledged": self.acknowledged,
        }


def tally(found: Iterable[tuple[str, str, bool]]) -> dict[str, Any]:
    """The report summary's counts from (kind, severity, acknowledged) of each discrepancy:
    status, open errors, open warnings, acknowledged, and open ones by kind (in kind order)."""
    errors = warnings = acknowledged = 0
    by_kind: Counter[str] = Counter()
    for kind, severity, is_acknowledged in found:
        if is_acknowledged:
            acknowledged += 1
            continue
        by_kind[kind] += 1
        if severity == Severity.ERROR:
            errors += 1
        else:
            warnings += 1
    return {
        "status": "discrepancies" if errors or warnings else "clean",
        "errors": errors,
        "warnings": warnings,
        "acknowledged": acknowledged,
        "by_kind": {kind.value: by_kind[kind.value] for kind in Kind if by_kind[kind.value]},
    }


@dataclass(frozen=True)
class Note:
    """Something a report must say that is not a discrepancy (what was not compared)."""

    message: str
    currency: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"currency": self.currency, "message": self.message}


@dataclass(frozen=True)
class Report:
    """A whole reconciliation: where the data came from, and everything found."""

    generated_at: datetime
    base_url: str
    fetched_at: datetime
    period: str
    interval: str
    record_count: int
    record_files: tuple[str, ...]
    tolerances: Mapping[str, Decimal]
    discrepancies: tuple[Discrepancy, ...]
    notes: tuple[Note, ...] = ()
    snapshot_id: int | None = None
    run_id: int | None = None
    #: Both sides of every currency, wallet and bucket (`overview.CurrencyFigures.to_dict`).
    overview: tuple[Mapping[str, Any], ...] = ()

    def _counts(self) -> dict[str, Any]:
        return tally((d.kind.value, d.severity.value, d.acknowledged) for d in self.discrepancies)

    @property
    def errors(self) -> int:
        """Open (not acknowledged) errors."""
        return int(self._counts()["errors"])

    @property
    def warnings(self) -> int:
        """Open (not acknowledged) warnings."""
        return int(self._counts()["warnings"])

    @property
    def status(self) -> str:
        return str(self._counts()["status"])

    def first_divergence(self) -> dict[str, str]:
        """Per currency, the earliest history bucket that disagrees: where drift began."""
        earliest: dict[str, datetime] = {}
        for d in self.discrepancies:
            if (
                d.kind == Kind.HISTORY_MISMATCH
                and d.currency
                and d.bucket
                and (d.currency not in earliest or d.bucket < earliest[d.currency])
            ):
                earliest[d.currency] = d.bucket
        return {currency: format_utc(moment) for currency, moment in sorted(earliest.items())}

    def fails(self, fail_on: str) -> bool:
        """Whether open discrepancies reach the `--fail-on` level (error, warning, never)."""
        if fail_on == "never":
            return False
        counts = self._counts()
        if fail_on == "warning":
            return bool(counts["errors"] or counts["warnings"])
        return bool(counts["errors"])

    def summary(self) -> dict[str, Any]:
        return {**self._counts(), "first_divergence": self.first_divergence()}

    def header(self) -> dict[str, Any]:
        """The report without its discrepancies (what the store keeps per run)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "generated_at": format_utc(self.generated_at),
            "api": {
                "base_url": self.base_url,
                "fetched_at": format_utc(self.fetched_at),
                "period": self.period,
                "interval": self.interval,
            },
            "records": {"count": self.record_count, "files": list(self.record_files)},
            "tolerances": {
                currency: money.canonical(tolerance)
                for currency, tolerance in sorted(self.tolerances.items())
            },
            "summary": self.summary(),
            "notes": [note.to_dict() for note in self.notes],
        }

    def to_dict(self) -> dict[str, Any]:
        """The whole report in DESIGN's JSON schema (schema_version 1)."""
        document = self.header()
        notes = document.pop("notes")
        document["discrepancies"] = [d.to_dict() for d in self.discrepancies]
        document["notes"] = notes
        return document
