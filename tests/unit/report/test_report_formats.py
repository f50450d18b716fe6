"""The report package: its formats, `render_bytes`, and writers fed by a real `Report`."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from reconcile_tui.errors import BadInput
from reconcile_tui.reconcile.model import Discrepancy, Kind, Note, Report
from reconcile_tui.report import (
    FORMATS,
    read_csv,
    render_bytes,
    to_csv,
    to_json,
    to_junit,
    to_markdown,
    to_text,
)


@pytest.fixture
def report_document():
    """What the engine hands over: `Report.to_dict()` of real discrepancies."""
    report = Report(
        generated_at=datetime(2025, 1, 15, 9, 35, tzinfo=UTC),
        base_url="http://127.0.0.1:8765",
        fetched_at=datetime(2025, 1, 15, 9, 30, tzinfo=UTC),
        period="7d",
        interval="daily",
        record_count=3,
        record_files=("sample.csv",),
        tolerances={"ETH": Decimal("0"), "USDTERC20": Decimal("0.01")},
        discrepancies=(
            Discrepancy(
                kind=Kind.AVAILABLE_MISMATCH,
                message="USDTERC20 wallet Main: 100.000000 vs 105.000000",
                currency="USDTERC20",
                wallet_id="0b9d8c7e-6f5a-4b3c-8d2e-1f0a9b8c7d6e",
                api_value=Decimal("100.000000"),
                merchant_value=Decimal("105.000000"),
                usd_difference=Decimal("-5.00"),
                scale=6,
            ),
            Discrepancy(
                kind=Kind.HISTORY_MISMATCH,
                message="ETH 2025-01-10: balances differ",
                currency="ETH",
                bucket=datetime(2025, 1, 10, tzinfo=UTC),
                field="balance",
                api_value=Decimal("1.000000000000000001"),
                merchant_value=Decimal("1"),
                scale=18,
                acknowledged=True,
            ),
        ),
        notes=(Note("ETH: no balance history was fetched", "ETH"),),
    )
    return report.to_dict()


def test_formats():
    assert FORMATS == ("text", "json", "csv", "junit", "markdown")


@pytest.mark.parametrize(
    ("fmt", "writer"),
    [
        ("text", lambda d: to_text(d).encode()),
        ("json", lambda d: to_json(d).encode()),
        ("csv", to_csv),
        ("junit", lambda d: to_junit(d).encode()),
        ("markdown", lambda d: to_markdown(d).encode()),
    ],
)
def test_render_bytes_is_the_writer_in_utf8(document, fmt, writer):
    before = copy.deepcopy(document)
    data = render_bytes(document, fmt)
    assert data == writer(document)
    data.decode("utf-8")
    assert document == before  # no writer changes what it is given


def test_every_format_is_rendered(document):
    for fmt in FORMATS:
        assert render_bytes(document, fmt)


def test_unknown_format_is_bad_input(document):
    with pytest.raises(BadInput, match="unknown report format 'xlsx'") as caught:
        render_bytes(document, "xlsx")
    assert caught.value.exit_code == 2


def test_writers_read_what_report_to_dict_gives(report_document):
    assert json.loads(to_json(report_document)) == report_document
    assert read_csv(to_csv(report_document)) == report_document["discrepancies"]
    usdt = report_document["discrepancies"][0]
    assert usdt["difference"] == "-5.000000"

    root = ET.fromstring(to_junit(report_document).encode())
    assert root.get("tests") == str(1 + 2 * len(Kind))
    assert root.get("failures") == "1"

    markdown = to_markdown(report_document)
    assert markdown.startswith("## ❌ Reconciliation: 1 error, 0 warnings (1 acknowledged)\n")

    text = to_text(report_document, width=80)
    assert "available_mismatch" in text
    assert "history_mismatch" in text
    assert "1.000000000000000001" in text
    assert text.rstrip().endswith("✗ Totals: 1 error, 0 warnings, 1 acknowledged.")
