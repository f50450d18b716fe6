"""What a reconciliation finds: `Discrepancy`, and the `Report` that gathers them.

The vocabulary of kinds is closed (docs/reconciliation.md, "What is compared where"). Every
discrepancy has a stable `id`, a hash of what it is about (kind, currency, wallet, bucket,
field, reference) and not of its values, so an acknowledgement made today still finds it
tomorrow; the acknowledgement lapses when the difference it accepted changes."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as default
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from reconcile_tui import money
from reconcile_tui.reconcile.document import (
    CauseCounts,
    CauseDocument,
    DiscrepancyCounts,
    DiscrepancyDocument,
    FindingHead,
    NoteDocument,
    ReportDocument,
    ReportHeader,
    Summary,
    with_findings,
)
from reconcile_tui.reconcile.effects import Effect
from reconcile_tui.store.acks import Acknowledgement
from reconcile_tui.times import format_utc

__all__ = [
    "SCHEMA_VERSION",
    "Acknowledgement",
    "Cause",
    "CauseKind",
    "Discrepancy",
    "Kind",
    "Note",
    "Report",
    "Severity",
    "cause_id",
    "discrepancy_id",
    "tally",
    "tally_causes",
]

SCHEMA_VERSION = 2


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


#: Every kind is an error but for the three docs/reconciliation.md marks as warnings.
SEVERITY: dict[Kind, Severity] = dict.fromkeys(Kind, Severity.ERROR) | {
    Kind.CURRENCY_NOT_IN_RECORDS: Severity.WARNING,
    Kind.STALE_PENDING: Severity.WARNING,
    Kind.LOW_BALANCE: Severity.WARNING,
}

_KIND_ORDER = {kind: position for position, kind in enumerate(Kind)}


class CauseKind(StrEnum):
    """The closed vocabulary of cause kinds (docs/causes.md), in the order reports list them."""

    MISSING_IN_RECORDS = "missing_in_records"
    MISSING_AT_GATEWAY = "missing_at_gateway"
    AMOUNT_DIFFERS = "amount_differs"
    FEE_DIFFERS = "fee_differs"
    STATUS_DIFFERS = "status_differs"
    TIME_DIFFERS = "time_differs"
    TIMES_UNKNOWN = "times_unknown"
    WRONG_WALLET = "wrong_wallet"
    DUPLICATE_RECORD = "duplicate_record"
    CURRENCY_NOT_IN_API = "currency_not_in_api"
    WALLET_NOT_IN_API = "wallet_not_in_api"
    API_INCONSISTENCY = "api_inconsistency"
    UNEXPLAINED = "unexplained"
    STALE_PENDING = "stale_pending"
    LOW_BALANCE = "low_balance"
    CURRENCY_NOT_IN_RECORDS = "currency_not_in_records"


_CAUSE_ORDER = {kind: position for position, kind in enumerate(CauseKind)}

_Finding = TypeVar("_Finding", "Discrepancy", "Cause")


def _marked(finding: _Finding, covered: bool) -> _Finding:
    """The finding acknowledged or not as `covered` says (itself when that is unchanged)."""
    return replace(finding, acknowledged=covered) if covered != finding.acknowledged else finding


def _report_order(finding: Discrepancy | Cause, rank: int, *rest: Any) -> tuple[Any, ...]:
    """Where a finding stands in a report: errors first, then by currency, kind (`rank`),
    wallet and what tells findings of one kind apart (docs/report.md)."""
    errors_first = 0 if finding.severity == Severity.ERROR else 1
    return (errors_first, finding.currency or "", rank, finding.wallet_id or "", *rest)


def _head(finding: Discrepancy | Cause) -> FindingHead:
    """The first keys of a finding's report object, the same for both kinds."""
    return {
        "id": finding.id,
        "kind": finding.kind.value,
        "severity": finding.severity.value,
        "currency": finding.currency,
        "wallet_id": finding.wallet_id,
    }


def cause_id(
    kind: str,
    currency: str | None,
    wallet_id: str | None,
    references: Iterable[str],
    gateway_ids: Iterable[str],
    where: str | None = None,
) -> str:
    """The stable id of a cause (docs/causes.md, "Cause ids"): never of its effect."""
    parts = ["cause", kind, currency or "", wallet_id or "", ",".join(references)]
    parts.append(",".join(gateway_ids))
    if where:  # only causes that need it carry a seventh part
        parts.append(where)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


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
        return _marked(self, covered)

    def sort_key(self) -> tuple[Any, ...]:
        return _report_order(
            self,
            _KIND_ORDER[self.kind],
            self.bucket_text or "",
            self.field or "",
            self.reference or "",
        )

    def _text(self, value: Decimal | None, scale: int | None = None) -> str | None:
        if value is None:
            return None
        return money.show(value, self.scale if scale is None else scale)

    def to_dict(self, causes: Iterable[str] = ()) -> DiscrepancyDocument:
        """The report schema's discrepancy object, with the ids of the causes that explain
        it: every amount as a string."""
        return {
            **_head(self),
            "bucket": self.bucket_text,
            "field": self.field,
            "api_value": self._text(self.api_value),
            "merchant_value": self._text(self.merchant_value),
            "difference": self._text(self.difference),
            "usd_difference": self._text(self.usd_difference, 2),
            "references": list(self.references),
            "message": self.message,
            "acknowledged": self.acknowledged,
            "causes": list(causes),
        }


@dataclass(frozen=True)
class Cause:
    """One thing that went wrong, with the discrepancies its effects explain."""

    kind: CauseKind
    severity: Severity
    message: str
    currency: str | None = None
    wallet_id: str | None = None
    references: tuple[str, ...] = ()
    gateway_ids: tuple[str, ...] = ()
    #: Gateway minus records on the gap the cause is named for (docs/causes.md).
    amount: Decimal | None = None
    explains: tuple[str, ...] = ()
    acknowledged: bool = False
    #: What tells two causes of one kind and place apart when nothing else does (the
    #: discrepancy a per-discrepancy cause stands for, the bucket a balance-level one
    #: starts in); part of the id.
    where: str | None = None
    scale: int | None = None
    #: Its effect on every figure (gateway minus records); not part of the report.
    effect: Effect | None = default(default=None, compare=False, repr=False)

    @property
    def id(self) -> str:
        return cause_id(
            self.kind, self.currency, self.wallet_id, self.references, self.gateway_ids, self.where
        )

    @property
    def amount_text(self) -> str | None:
        return None if self.amount is None else money.show(self.amount, self.scale)

    def acknowledge(
        self, acknowledgement: Acknowledgement | None, explained_all_acknowledged: bool
    ) -> Cause:
        """Acknowledged by its own acknowledgement while its amount is the one accepted, or
        when every discrepancy it explains is acknowledged (docs/causes.md)."""
        own = acknowledgement is not None and acknowledgement.covers(self.amount)
        covered = own or (bool(self.explains) and explained_all_acknowledged)
        return _marked(self, covered)

    def sort_key(self) -> tuple[Any, ...]:
        return _report_order(
            self,
            _CAUSE_ORDER[self.kind],
            self.references,
            self.gateway_ids,
            self.where or "",
        )

    def to_dict(self) -> CauseDocument:
        """The report schema's cause object (schema_version 2)."""
        return {
            **_head(self),
            "references": list(self.references),
            "gateway_ids": list(self.gateway_ids),
            "amount": self.amount_text,
            "explains": list(self.explains),
            "message": self.message,
            "acknowledged": self.acknowledged,
        }


def tally_causes(found: Iterable[tuple[str, str, bool]]) -> CauseCounts:
    """`summary.causes`: open errors, open warnings, acknowledged, open ones by kind, from
    (kind, severity, acknowledged) of each cause."""
    return _tally_open(found, CauseKind)


def tally(found: Iterable[tuple[str, str, bool]]) -> DiscrepancyCounts:
    """The report summary's counts from (kind, severity, acknowledged) of each discrepancy:
    status, open errors, open warnings, acknowledged, and open ones by kind."""
    counts = _tally_open(found, Kind)
    status = "discrepancies" if counts["errors"] or counts["warnings"] else "clean"
    return {"status": status, **counts}


def _tally_open(
    found: Iterable[tuple[str, str, bool]], kinds: type[Kind] | type[CauseKind]
) -> CauseCounts:
    """The counts of open and acknowledged findings, the open ones by kind in the order
    `kinds` lists them."""
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
        "errors": errors,
        "warnings": warnings,
        "acknowledged": acknowledged,
        "by_kind": {kind.value: by_kind[kind.value] for kind in kinds if by_kind[kind.value]},
    }


def summarise(
    discrepancies: DiscrepancyCounts,
    causes: CauseCounts,
    first_divergence: Mapping[str, str],
    unexplained: Mapping[str, str],
) -> Summary:
    """The report's `summary`: the discrepancy counts of schema 1, plus `causes` and
    `unexplained`; `status` is clean only when no cause and no discrepancy is open."""
    open_causes = causes["errors"] + causes["warnings"]
    status = "discrepancies" if open_causes or discrepancies["status"] != "clean" else "clean"
    return {
        **discrepancies,
        "status": status,
        "first_divergence": dict(first_divergence),
        "causes": causes,
        "unexplained": dict(unexplained),
    }


def fails(summary: Summary, fail_on: str) -> bool:
    """Whether a summary's open causes reach the `--fail-on` level (error, warning, never)."""
    if fail_on == "never":
        return False
    causes = summary["causes"]
    if fail_on == "warning":
        return bool(causes["errors"] or causes["warnings"])
    return bool(causes["errors"])


@dataclass(frozen=True)
class Note:
    """Something a report must say that is not a discrepancy (what was not compared)."""

    message: str
    currency: str | None = None

    def to_dict(self) -> NoteDocument:
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
    #: Every cause found, in report order (docs/causes.md).
    causes: tuple[Cause, ...] = ()
    #: Per currency in scope, what no cause explains (zero when all is explained).
    unexplained: Mapping[str, str] = default(default_factory=dict)
    #: Each discrepancy's causes, by discrepancy id.
    causes_of: Mapping[str, tuple[str, ...]] = default(default_factory=dict)

    def _counts(self) -> DiscrepancyCounts:
        return tally((d.kind.value, d.severity.value, d.acknowledged) for d in self.discrepancies)

    def cause_counts(self) -> CauseCounts:
        """`summary.causes`: open error and warning causes, acknowledged ones, by kind."""
        return tally_causes((c.kind.value, c.severity.value, c.acknowledged) for c in self.causes)

    @property
    def errors(self) -> int:
        """Open (not acknowledged) error causes: what users count (docs/causes.md)."""
        return int(self.cause_counts()["errors"])

    @property
    def warnings(self) -> int:
        """Open (not acknowledged) warning causes."""
        return int(self.cause_counts()["warnings"])

    @property
    def status(self) -> str:
        return str(self.summary()["status"])

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
        """Whether open causes reach the `--fail-on` level (error, warning, never)."""
        return fails(self.summary(), fail_on)

    def summary(self) -> Summary:
        return summarise(
            self._counts(),
            self.cause_counts(),
            self.first_divergence(),
            dict(self.unexplained),
        )

    def header(self) -> ReportHeader:
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

    def to_dict(self) -> ReportDocument:
        """The whole report in the JSON schema (schema_version 2: docs/report.md)."""
        header = self.header()
        return with_findings(
            header,
            header["summary"],
            [d.to_dict(self.causes_of.get(d.id, ())) for d in self.discrepancies],
            [c.to_dict() for c in self.causes],
        )
