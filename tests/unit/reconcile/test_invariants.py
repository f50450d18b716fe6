"""The gateway against its own invariants: the page's examples, and what breaks them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from reconcile_tui.api.models import parse_balances, parse_history
from reconcile_tui.api.snapshot import GatewaySnapshot
from reconcile_tui.reconcile.invariants import check_api_consistency
from reconcile_tui.reconcile.model import Kind
from tests.conftest import API_PAGE


def snapshot(balances: bytes, histories: dict[str, bytes] | None = None) -> GatewaySnapshot:
    histories = histories or {}
    return GatewaySnapshot(
        balances=parse_balances(balances),
        histories={code: parse_history(raw) for code, raw in histories.items()},
        fetched_at=datetime(2025, 1, 15, 10, tzinfo=UTC),
        base_url="https://api.example",
        period="7d",
        interval="daily",
        balances_raw=balances,
        histories_raw=histories,
    )


def test_the_pages_balances_example_passes_every_invariant():
    body = (API_PAGE / "balances.json").read_bytes()
    assert list(check_api_consistency(snapshot(body))) == []


def test_one_wallet_balance_off_by_one_unit_breaks_exactly_one_invariant():
    data = json.loads((API_PAGE / "balances.json").read_bytes())
    data["balances"][0]["wallets"][1]["balance"] = "1500.000001"
    found = list(check_api_consistency(snapshot(json.dumps(data).encode())))
    assert len(found) == 1
    (finding,) = found
    assert finding.kind == Kind.API_INCONSISTENCY
    assert finding.field == "available_balance=sum(wallets.balance)"
    assert finding.to_dict()["api_value"] == "4500.000000"
    assert finding.to_dict()["merchant_value"] == "4500.000001"
    assert finding.difference == Decimal("-0.000001")


def test_the_abridged_history_example_is_flagged_in_its_summary_as_the_notes_say():
    balances = (API_PAGE / "balances.json").read_bytes()
    history = (API_PAGE / "history_USDTERC20.json").read_bytes()
    found = list(check_api_consistency(snapshot(balances, {"USDTERC20": history})))
    fields = sorted(d.field for d in found if d.field)
    assert fields == [
        "ending_balance=last(balance)",
        "total_deposit_count=sum(deposit_count)",
        "total_deposits=sum(deposits)",
        "total_withdrawal_count=sum(withdrawal_count)",
        "total_withdrawals=sum(withdrawals)",
    ]
    # The visible buckets themselves follow balance[i] = balance[i-1] + deposits - withdrawals,
    # and the summary's averages and net change are right: none of those is flagged.
    assert all(d.bucket is None for d in found)


def test_summary_counts_and_usd_total_are_checked():
    data = json.loads((API_PAGE / "balances.json").read_bytes())
    data["summary"]["total_usd_value"] = "19515.59"
    data["summary"]["total_currencies"] = 4
    data["summary"]["total_wallets"] = 3
    found = {
        d.field: d.to_dict() for d in check_api_consistency(snapshot(json.dumps(data).encode()))
    }
    assert found["total_usd_value=sum(usd_value)"]["difference"] == "0.01"
    assert found["total_currencies=count(balances)"]["difference"] == "1"
    assert found["total_wallets=count(distinct wallet_id)"]["difference"] == "1"
    assert all(d["currency"] is None for d in found.values())


def test_a_gap_in_the_history_is_named_and_not_misread_as_a_running_balance_break():
    balances = (API_PAGE / "balances.json").read_bytes()
    data = json.loads((API_PAGE / "history_USDTERC20.json").read_bytes())
    data["history"][2]["timestamp"] = "2025-01-13T00:00:00Z"
    found = list(
        check_api_consistency(snapshot(balances, {"USDTERC20": json.dumps(data).encode()}))
    )
    bucket_findings = [d for d in found if d.bucket is not None]
    assert [d.field for d in bucket_findings] == ["timestamp=previous+interval"]
    assert "2 buckets missing" in bucket_findings[0].message


def test_unordered_buckets_are_read_in_time_order():
    balances = (API_PAGE / "balances.json").read_bytes()
    data = json.loads((API_PAGE / "history_USDTERC20.json").read_bytes())
    data["history"].reverse()
    found = list(
        check_api_consistency(snapshot(balances, {"USDTERC20": json.dumps(data).encode()}))
    )
    assert all(d.bucket is None for d in found)
