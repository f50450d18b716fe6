"""The JUnit XML report, so CI shows one test per currency and check family.

Every currency in scope (the document's `tolerances`) gets one testcase per kind of the
closed vocabulary, so a CI dashboard tracks the same tests run after run and a check that
found nothing shows as passed rather than missing. Checks of the gateway's summary, which
belong to no currency, are the testcase `reconcile.summary` / `api_inconsistency`.

Each open discrepancy is one `<failure>` of its testcase; an acknowledged one is written
to the testcase's `<system-out>`, visible but not failing. `failures` counts failing
testcases (as JUnit consumers expect, so that `tests - failures` passed); the number of
open discrepancies is the property `open_discrepancies`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from typing import Final, TypeVar

from reconcile_tui.reconcile.document import (
    CauseDocument,
    DiscrepancyDocument,
    FindingDocument,
    ReportDocument,
)
from reconcile_tui.reconcile.model import Kind
from reconcile_tui.report.visible import visible_document

__all__ = ["CAUSES_CASE", "SUITE_NAME", "SUMMARY_SCOPE", "to_junit"]

SUITE_NAME: Final = "reconcile-tui"

#: The testcase of each currency whose failures are its open causes.
CAUSES_CASE: Final = "causes"

#: The classname suffix of checks that belong to no currency.
SUMMARY_SCOPE: Final = "summary"

_Finding = TypeVar("_Finding", bound=FindingDocument)

_DECLARATION: Final = '<?xml version="1.0" encoding="UTF-8"?>\n'

# XML 1.0 cannot carry most control characters, not even escaped; a stray one in a
# merchant's reference must not make the whole report unreadable.
_NOT_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_DETAILS: Final = (
    ("id", "id"),
    ("currency", "currency"),
    ("wallet", "wallet_id"),
    ("bucket", "bucket"),
    ("field", "field"),
    ("gateway", "api_value"),
    ("records", "merchant_value"),
    ("difference", "difference"),
    ("usd", "usd_difference"),
)


def to_junit(document: ReportDocument) -> str:
    """The report as JUnit XML text, with its XML declaration, indented; control
    characters from the data escaped as in every report a person reads."""
    document = visible_document(document)
    cases = _cases(document)
    failing = sum(1 for found in cases.values() if any(not d["acknowledged"] for d in found))
    causes = _cause_cases(document)
    failing += sum(1 for listed in causes.values() if any(not c["acknowledged"] for c in listed))
    open_count = sum(1 for d in document["discrepancies"] if not d["acknowledged"])
    tests = len(cases) + len(causes)
    counts = {"tests": str(tests), "failures": str(failing), "errors": "0", "skipped": "0"}

    root = ET.Element("testsuites", {"name": SUITE_NAME, **counts, "time": "0"})
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": SUITE_NAME,
            **counts,
            "time": "0",
            "timestamp": _xml(document["generated_at"]),
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(document, open_count):
        ET.SubElement(properties, "property", {"name": name, "value": _xml(value)})

    for (scope, kind), found in cases.items():
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"reconcile.{_xml(scope)}", "name": kind, "time": "0"},
        )
        _add_findings(case, found, _details)

    for scope, listed in causes.items():
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"reconcile.{_xml(scope)}", "name": CAUSES_CASE, "time": "0"},
        )
        _add_findings(case, listed, _cause_details)

    ET.indent(root, space="  ")
    return _DECLARATION + ET.tostring(root, encoding="unicode") + "\n"


def _add_findings(
    case: ET.Element,
    findings: Sequence[_Finding],
    details: Callable[[_Finding], str],
) -> None:
    """Each open finding (discrepancy or cause) one `<failure>` of `case`; the
    acknowledged ones together in its `<system-out>`, visible but not failing."""
    accepted: list[str] = []
    for finding in findings:
        if finding["acknowledged"]:
            accepted.append(f"acknowledged: {finding['message']}\n{details(finding)}")
            continue
        failure = ET.SubElement(
            case,
            "failure",
            {"message": _xml(finding["message"]), "type": finding["severity"]},
        )
        failure.text = _xml(details(finding))
    if accepted:
        ET.SubElement(case, "system-out").text = _xml("\n\n".join(accepted))


def _cases(document: ReportDocument) -> dict[tuple[str, str], list[DiscrepancyDocument]]:
    """(scope, kind) -> its discrepancies, in testcase order: summary, then each currency."""
    cases: dict[tuple[str, str], list[DiscrepancyDocument]] = {
        (SUMMARY_SCOPE, Kind.API_INCONSISTENCY.value): []
    }
    for currency in document["tolerances"]:
        for kind in Kind:
            cases[(currency, kind.value)] = []
    for discrepancy in document["discrepancies"]:
        scope = discrepancy["currency"] or SUMMARY_SCOPE
        # A currency or kind outside the expected grid still gets its testcase: a
        # discrepancy must never drop out of the report.
        cases.setdefault((scope, discrepancy["kind"]), []).append(discrepancy)
    return cases


def _cause_cases(document: ReportDocument) -> dict[str, list[CauseDocument]]:
    """scope -> its causes: one `causes` testcase per currency in scope (schema 2 only),
    each open cause one failure, so CI counts mistakes rather than their echoes."""
    if not document.get("causes"):
        return {}
    cases: dict[str, list[CauseDocument]] = {code: [] for code in document["tolerances"]}
    for cause in document.get("causes", []):
        cases.setdefault(cause["currency"] or SUMMARY_SCOPE, []).append(cause)
    return cases


def _cause_details(cause: CauseDocument) -> str:
    lines = [f"id: {cause['id']}", f"kind: {cause['kind']}"]
    for label, value in (
        ("currency", cause["currency"]),
        ("wallet", cause["wallet_id"]),
        ("amount", cause["amount"]),
    ):
        if value is not None:
            lines.append(f"{label}: {value}")
    if cause["references"]:
        lines.append(f"references: {', '.join(cause['references'])}")
    if cause["gateway_ids"]:
        lines.append(f"gateway ids: {', '.join(cause['gateway_ids'])}")
    if cause["explains"]:
        lines.append(f"explains: {', '.join(cause['explains'])}")
    return "\n".join(lines)


def _properties(document: ReportDocument, open_count: int) -> list[tuple[str, str]]:
    api = document["api"]
    records = document["records"]
    summary = document["summary"]
    properties = [
        ("schema_version", str(document["schema_version"])),
        ("generated_at", document["generated_at"]),
        ("base_url", api["base_url"]),
        ("fetched_at", api["fetched_at"]),
        ("period", api["period"]),
        ("interval", api["interval"]),
        ("record_count", str(records["count"])),
        ("record_files", ", ".join(records["files"])),
        ("status", summary["status"]),
        ("open_discrepancies", str(open_count)),
        *(
            [("open_causes", str(summary["causes"]["errors"] + summary["causes"]["warnings"]))]
            if document.get("causes")
            else []
        ),
        ("acknowledged", str(summary["acknowledged"])),
    ]
    properties += [(f"tolerance.{code}", value) for code, value in document["tolerances"].items()]
    properties += [
        (f"first_divergence.{code}", bucket) for code, bucket in summary["first_divergence"].items()
    ]
    return properties


def _details(discrepancy: DiscrepancyDocument) -> str:
    by_name: Mapping[str, object] = discrepancy  # the keys `_DETAILS` names
    lines = [f"{label}: {by_name[key]}" for label, key in _DETAILS if by_name.get(key) is not None]
    if discrepancy.get("references"):
        lines.append(f"references: {', '.join(discrepancy['references'])}")
    return "\n".join(lines)


def _xml(text: str) -> str:
    """`text` with what XML 1.0 cannot hold shown as `\\xNN`; ElementTree escapes the rest."""
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
