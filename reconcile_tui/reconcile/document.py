"""The report document's shape (docs/report.md, schema_version 2), key by key.

`Report.to_dict` builds one and the store gives one back; every writer in `report/` reads
one. Typed here so that mypy checks each key a writer reads against the schema: a key
renamed or misspelt on either side is a type error, not an empty cell in a report.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

__all__ = [
    "AcknowledgementDocument",
    "ApiOrigin",
    "CauseCounts",
    "CauseDocument",
    "DiscrepancyCounts",
    "DiscrepancyDocument",
    "FindingDocument",
    "FindingHead",
    "NoteDocument",
    "RecordsSeen",
    "ReportDocument",
    "ReportHeader",
    "Summary",
    "with_findings",
]


class ApiOrigin(TypedDict):
    """Where the gateway's figures came from."""

    base_url: str
    fetched_at: str
    period: str
    interval: str


class RecordsSeen(TypedDict):
    count: int
    files: list[str]


class CauseCounts(TypedDict):
    """Open errors, open warnings, acknowledged, and the open ones by kind."""

    errors: int
    warnings: int
    acknowledged: int
    by_kind: dict[str, int]


class DiscrepancyCounts(CauseCounts):
    """The same for discrepancies, with the status they give on their own (schema 1)."""

    status: str


class Summary(DiscrepancyCounts):
    """`summary`: the discrepancy counts, then the causes' and what no cause explains
    (both added by schema 2: a writer still reads a schema 1 document without them)."""

    first_divergence: dict[str, str]
    causes: NotRequired[CauseCounts]
    unexplained: NotRequired[dict[str, str]]


class NoteDocument(TypedDict):
    currency: str | None
    message: str


class AcknowledgementDocument(TypedDict):
    """Who acknowledged a finding, when, and why (added by `export`); the amount it
    accepted, and whether it still covers the finding (false: it lapsed when the amount
    changed)."""

    by: str
    at: str
    note: str
    accepted: str | None
    in_force: bool


class FindingHead(TypedDict):
    """What a discrepancy and a cause both begin with: which one, and where (and, in an
    export only, the acknowledgement in force)."""

    id: str
    kind: str
    severity: str
    currency: str | None
    wallet_id: str | None
    #: Only in an export: the acknowledgement in force, if any.
    acknowledgement: NotRequired[AcknowledgementDocument | None]


class FindingDocument(FindingHead):
    """What a discrepancy and a cause both hold."""

    references: list[str]
    message: str
    acknowledged: bool


class DiscrepancyDocument(FindingDocument):
    bucket: str | None
    field: str | None
    api_value: str | None
    merchant_value: str | None
    difference: str | None
    usd_difference: str | None
    #: The causes that explain it (schema 2).
    causes: NotRequired[list[str]]


class CauseDocument(FindingDocument):
    gateway_ids: list[str]
    amount: str | None
    explains: list[str]


class ReportHeader(TypedDict):
    """The report without its findings: what the store keeps per run."""

    schema_version: int
    generated_at: str
    api: ApiOrigin
    records: RecordsSeen
    tolerances: dict[str, str]
    summary: Summary
    notes: list[NoteDocument]


class ReportDocument(ReportHeader):
    discrepancies: list[DiscrepancyDocument]
    #: Schema 2; a schema 1 document has none.
    causes: NotRequired[list[CauseDocument]]


def with_findings(
    header: ReportHeader,
    summary: Summary,
    discrepancies: list[DiscrepancyDocument],
    causes: list[CauseDocument],
) -> ReportDocument:
    """The whole document from a run's header, its summary and its findings, keys in the
    order the JSON report prints them (the notes last)."""
    return {
        "schema_version": header["schema_version"],
        "generated_at": header["generated_at"],
        "api": header["api"],
        "records": header["records"],
        "tolerances": header["tolerances"],
        "summary": summary,
        "discrepancies": discrepancies,
        "causes": causes,
        "notes": header.get("notes", []),
    }
