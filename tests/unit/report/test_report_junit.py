"""The JUnit XML report: one testcase per currency and check family, one failure per open
discrepancy, acknowledged ones visible but passing."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

from reconcile_tui.reconcile.model import Kind
from reconcile_tui.report import to_junit


def parse(document) -> ET.Element:
    text = to_junit(document)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def cases(root: ET.Element) -> dict[tuple[str | None, str | None], ET.Element]:
    found = {(case.get("classname"), case.get("name")): case for case in root.iter("testcase")}
    assert len(found) == len(list(root.iter("testcase"))), "a testcase appears twice"
    return found


def body(element: ET.Element) -> str:
    return element.text or ""


def case_of(root: ET.Element, discrepancy) -> ET.Element:
    scope = discrepancy["currency"] or "summary"
    return cases(root)[(f"reconcile.{scope}", discrepancy["kind"])]


def test_one_suite_inside_testsuites(document):
    root = parse(document)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "reconcile-tui"
    assert suite.get("timestamp") == document["generated_at"]


def test_a_testcase_per_currency_and_kind_plus_the_summary(document):
    expected = {("reconcile.summary", "api_inconsistency")} | {
        (f"reconcile.{currency}", kind.value)
        for currency in document["tolerances"]
        for kind in Kind
    }
    assert set(cases(parse(document))) == expected
    assert len(expected) == 1 + 5 * 11


def test_testcases_follow_the_kind_order(document):
    names = [
        case.get("name")
        for case in parse(document).iter("testcase")
        if case.get("classname") == "reconcile.ETH"
    ]
    assert names == [kind.value for kind in Kind]


def test_one_failure_per_open_discrepancy_with_its_severity(document):
    root = parse(document)
    open_ = [d for d in document["discrepancies"] if not d["acknowledged"]]
    failures = list(root.iter("failure"))
    assert len(failures) == len(open_) == 11
    assert Counter((f.get("message"), f.get("type")) for f in failures) == Counter(
        (d["message"], d["severity"]) for d in open_
    )
    for discrepancy in open_:
        (failure,) = [
            f for f in case_of(root, discrepancy).iter("failure") if discrepancy["id"] in body(f)
        ]
        for key in ("wallet_id", "bucket", "field", "api_value", "merchant_value", "difference"):
            if discrepancy[key] is not None:
                assert discrepancy[key] in body(failure)


def test_acknowledged_discrepancies_are_visible_but_do_not_fail(document):
    root = parse(document)
    acknowledged = [d for d in document["discrepancies"] if d["acknowledged"]]
    assert len(acknowledged) == 3
    for discrepancy in acknowledged:
        output = case_of(root, discrepancy).findtext("system-out", "")
        assert discrepancy["id"] in output
        assert discrepancy["difference"] is None or discrepancy["difference"] in output
        assert all(discrepancy["id"] not in body(f) for f in root.iter("failure"))
    # BTC low_balance is only acknowledged: that testcase passes.
    low = cases(root)[("reconcile.BTC", "low_balance")]
    assert low.find("failure") is None


def test_counts_on_suite_and_root_are_right(document):
    root = parse(document)
    (suite,) = root.findall("testsuite")
    testcases = list(root.iter("testcase"))
    failing = [case for case in testcases if case.find("failure") is not None]
    for element in (root, suite):
        assert element.get("tests") == str(len(testcases)) == "56"
        assert element.get("failures") == str(len(failing))
        assert element.get("errors") == "0"
    # Two open USDTERC20 history mismatches would be one failing testcase with two failures.
    assert len(failing) == 11


def test_two_open_in_one_family_are_two_failures_of_one_testcase(make_document, history_mismatches):
    root = parse(make_document(history_mismatches(2), tolerances={"USDTERC20": "0"}))
    case = cases(root)[("reconcile.USDTERC20", "history_mismatch")]
    assert len(case.findall("failure")) == 2
    assert root.get("failures") == "1"
    assert root.get("tests") == str(1 + len(Kind))
    properties = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert properties["open_discrepancies"] == "2"


def test_clean_report_passes_every_testcase(clean_document):
    root = parse(clean_document)
    assert root.get("tests") == str(1 + 2 * len(Kind))
    assert root.get("failures") == "0"
    assert list(root.iter("failure")) == []


def test_properties_name_the_source(document):
    properties = {p.get("name"): p.get("value") for p in parse(document).iter("property")}
    assert properties["base_url"] == document["api"]["base_url"]
    assert properties["fetched_at"] == document["api"]["fetched_at"]
    assert properties["generated_at"] == document["generated_at"]
    assert properties["tolerance.USDTERC20"] == "0.01"
    assert properties["first_divergence.ETH"] == "2025-01-10T00:00:00Z"


def test_markup_quotes_newlines_and_unicode_come_back_intact(document):
    root = parse(document)
    messages = {f.get("message") for f in root.iter("failure")}
    tricky = [d["message"] for d in document["discrepancies"] if set(d["message"]) & {"<", "\n"}]
    assert len(tricky) == 2
    assert set(tricky) <= messages


def test_control_characters_cannot_break_the_xml(make_document, make_discrepancy):
    message = "terminal junk \x1b[31m and a NUL \x00 and \ufffe"
    document = make_document(
        [make_discrepancy(Kind.DUPLICATE_RECORD, message, currency="BTC", references=["R\x07"])],
        tolerances={"BTC": "0"},
    )
    (failure,) = parse(document).iter("failure")
    assert failure.get("message") == "terminal junk \\x1b[31m and a NUL \\x00 and \\xfffe"
    assert "R\\x07" in body(failure)


def test_a_currency_outside_the_tolerances_still_gets_its_testcase(make_document, make_discrepancy):
    document = make_document(
        [make_discrepancy(Kind.CURRENCY_NOT_IN_API, "records in XYZ", currency="XYZ")],
        tolerances={},
    )
    root = parse(document)
    assert cases(root)[("reconcile.XYZ", "currency_not_in_api")].find("failure") is not None
    assert root.get("tests") == "2"
