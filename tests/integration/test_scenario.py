"""The hand-built scenario: every discrepancy kind, found exactly, no more and no fewer.

The gateway side (tests/fixtures/scenario/api) is what the gateway's true ledger prints;
records.csv holds the merchant's export with one planted error per kind. Each expected
discrepancy below was worked out by hand from those two files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile_tui.config import load_settings
from reconcile_tui.workspace import Workspace
from tests.conftest import PAGE_CLOCK, SCENARIO, WALLET_A, WALLET_B

WALLET_C = "770e8400-e29b-41d4-a716-446655440002"
USDT = "USDTERC20"

# (kind, currency, wallet, bucket, field, api_value, merchant_value, difference, usd, references)
EXPECTED = {
    (
        "api_inconsistency",
        None,
        None,
        None,
        "total_usd_value=sum(usd_value)",
        "3306.87",
        "3306.86",
        "0.01",
        None,
        (),
    ),
    # DOGE has no scale of its own and the gateway prints none for it: 18 places
    # (docs/money.md), as for any amount of a currency nobody knows.
    (
        "currency_not_in_api",
        "DOGE",
        None,
        None,
        None,
        None,
        "12.500000000000000000",
        None,
        None,
        ("X-1",),
    ),
    ("currency_not_in_records", "USDCERC20", None, None, None, "250.000000", None, None, None, ()),
    ("wallet_not_in_api", USDT, WALLET_C, None, None, None, "50.000000", None, None, ("D-2",)),
    # Wallet A: the gateway also holds D-2 (50, recorded under wallet C) and D-3 is 102,
    # not the recorded 120: 852 - 820 = 32.
    (
        "available_mismatch",
        USDT,
        WALLET_A,
        None,
        None,
        "852.000000",
        "820.000000",
        "32.000000",
        "32.00",
        (),
    ),
    # Wallet B: D-8 is completed at the gateway but still pending in the records.
    (
        "available_mismatch",
        USDT,
        WALLET_B,
        None,
        None,
        "680.000000",
        "640.000000",
        "40.000000",
        "40.00",
        (),
    ),
    (
        "pending_mismatch",
        USDT,
        WALLET_B,
        None,
        None,
        "0.000000",
        "40.000000",
        "-40.000000",
        "-40.00",
        (),
    ),
    (
        "total_mismatch",
        USDT,
        None,
        None,
        "total_deposited",
        "1857.000000",
        "1875.000000",
        "-18.000000",
        "-18.00",
        (),
    ),
    # D-6's fee is 0.40 at the gateway, 0.80 in the records.
    (
        "total_mismatch",
        USDT,
        None,
        None,
        "total_fees_paid",
        "9.410000",
        "9.810000",
        "-0.400000",
        "-0.40",
        (),
    ),
    # The amount typo (120 for 102) lands in the 2025-01-12 bucket and stays in the balance.
    (
        "history_mismatch",
        USDT,
        None,
        "2025-01-12T00:00:00Z",
        "deposits",
        "127.000000",
        "145.000000",
        "-18.000000",
        "-18.00",
        (),
    ),
    *(
        (
            "history_mismatch",
            USDT,
            None,
            f"2025-01-{day}T00:00:00Z",
            "balance",
            api,
            merchant,
            "-18.000000",
            "-18.00",
            (),
        )
        for day, api, merchant in (
            ("12", "1517.000000", "1535.000000"),
            ("13", "1517.000000", "1535.000000"),
            ("14", "1517.000000", "1535.000000"),
            ("15", "1557.000000", "1575.000000"),
        )
    ),
    ("duplicate_record", USDT, WALLET_B, None, None, None, None, None, None, ("D-7",)),
    ("stale_pending", USDT, WALLET_A, None, None, None, "25.000000", None, None, ("D-4",)),
    ("low_balance", "ETH", WALLET_A, None, None, "0.499999999999999999", None, None, None, ()),
}

WARNINGS = {"currency_not_in_records", "stale_pending", "low_balance"}


def as_tuple(d: dict) -> tuple:
    return (
        d["kind"],
        d["currency"],
        d["wallet_id"],
        d["bucket"],
        d["field"],
        d["api_value"],
        d["merchant_value"],
        d["difference"],
        d["usd_difference"],
        tuple(d["references"]),
    )


@pytest.fixture
def scenario_workspace(db_path: Path):
    settings = load_settings(SCENARIO / "reconcile.toml", environ={})
    with Workspace(settings, db_path=db_path, clock=lambda: PAGE_CLOCK) as workspace:
        yield workspace


def check(workspace: Workspace, records: str, api: str) -> dict:
    workspace.import_files([SCENARIO / records])
    snapshot_id, snapshot = workspace.load_saved_responses(SCENARIO / api)
    return workspace.check(snapshot_id, snapshot).document()


def test_every_planted_discrepancy_is_found_exactly(scenario_workspace):
    document = check(scenario_workspace, "records.csv", "api")
    found = [as_tuple(d) for d in document["discrepancies"]]
    assert len(found) == len(set(found)), "a discrepancy was reported twice"
    assert set(found) - EXPECTED == set(), "reported but not expected"
    assert EXPECTED - set(found) == set(), "expected but not reported"
    assert {d["kind"] for d in document["discrepancies"]} == {
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
    }
    for d in document["discrepancies"]:
        assert d["severity"] == ("warning" if d["kind"] in WARNINGS else "error")
        assert len(d["id"]) == 16
        assert d["message"]
    summary = document["summary"]
    assert (summary["status"], summary["errors"], summary["warnings"]) == ("discrepancies", 14, 3)
    assert summary["first_divergence"] == {USDT: "2025-01-12T00:00:00Z"}
    assert document["tolerances"] == {"DOGE": "0", "ETH": "0", "USDCERC20": "0", USDT: "0"}
    assert document["records"]["count"] == 13
    # Errors come before warnings, and the list is stable run to run.
    severities = [d["severity"] for d in document["discrepancies"]]
    assert severities == sorted(severities)


def test_ids_are_stable_across_runs_and_databases(tmp_path, scenario_workspace):
    first = check(scenario_workspace, "records.csv", "api")
    settings = load_settings(SCENARIO / "reconcile.toml", environ={})
    with Workspace(settings, db_path=tmp_path / "other.db", clock=lambda: PAGE_CLOCK) as other:
        second = check(other, "records.csv", "api")
    assert [d["id"] for d in first["discrepancies"]] == [d["id"] for d in second["discrepancies"]]


def test_the_repaired_scenario_leaves_only_the_real_warnings(scenario_workspace):
    document = check(scenario_workspace, "records_repaired.csv", "api_repaired")
    found = {(d["kind"], d["currency"]) for d in document["discrepancies"]}
    # D-4 really is stuck at the gateway, and the ETH wallet really is low.
    assert found == {("stale_pending", USDT), ("low_balance", "ETH")}
    assert document["summary"]["errors"] == 0


def test_an_acknowledgement_holds_until_the_difference_changes(scenario_workspace, tmp_path):
    document = check(scenario_workspace, "records.csv", "api")
    fees = next(d for d in document["discrepancies"] if d["field"] == "total_fees_paid")
    scenario_workspace.acknowledge(fees["id"][:8], "fee schedule changed mid-month", by="auditor")

    again = check(scenario_workspace, "records.csv", "api")
    fees_again = next(d for d in again["discrepancies"] if d["id"] == fees["id"])
    assert fees_again["acknowledged"] is True
    assert again["summary"]["acknowledged"] == 1
    assert again["summary"]["errors"] == 13
    assert "total_mismatch" in again["summary"]["by_kind"]  # total_deposited is still open

    # A newer export changes D-6's fee again: the accepted difference no longer holds.
    newer = (
        (SCENARIO / "records.csv")
        .read_text()
        .replace("deposit,80,0.8,confirmed", "deposit,80,0.9,confirmed")
    )
    path = tmp_path / "records-v2.csv"
    path.write_text(newer)
    scenario_workspace.import_files([path])
    snapshot_id, snapshot = scenario_workspace.load_saved_responses(SCENARIO / "api")
    lapsed = scenario_workspace.check(snapshot_id, snapshot).document()
    fees_lapsed = next(d for d in lapsed["discrepancies"] if d["id"] == fees["id"])
    assert fees_lapsed["difference"] == "-0.500000"
    assert fees_lapsed["acknowledged"] is False


def test_a_tolerance_absorbs_small_differences_and_is_printed(db_path, tmp_path):
    config = tmp_path / "rules.toml"
    config.write_text('[reconcile]\ntolerance = { default = "0", USDTERC20 = "0.5" }\n')
    with Workspace(
        load_settings(config, environ={}), db_path=db_path, clock=lambda: PAGE_CLOCK
    ) as workspace:
        document = check(workspace, "records.csv", "api")
    fields = {(d["kind"], d["field"]) for d in document["discrepancies"] if d["currency"] == USDT}
    assert ("total_mismatch", "total_fees_paid") not in fields  # 0.40 is within 0.5
    assert ("total_mismatch", "total_deposited") in fields  # 18 is not
    assert document["tolerances"][USDT] == "0.5"


def test_a_default_low_balance_applies_to_every_currency_without_its_own(db_path, tmp_path):
    # `default` once loaded and was silently ignored: each wallet under 300 is flagged,
    # except ETH's, which has its own (lower) threshold.
    config = tmp_path / "rules.toml"
    config.write_text('[reconcile]\nlow_balance = { default = "300", ETH = "0.1" }\n')
    with Workspace(
        load_settings(config, environ={}), db_path=db_path, clock=lambda: PAGE_CLOCK
    ) as workspace:
        document = check(workspace, "records.csv", "api")
    low = {(d["currency"], d["api_value"]) for d in document["discrepancies"]
           if d["kind"] == "low_balance"}  # fmt: skip
    assert low == {("USDCERC20", "250.000000")}
