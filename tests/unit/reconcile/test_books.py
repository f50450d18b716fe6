"""The records' side: opening balances, wallet names, failed and pending records."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reconcile_tui.config import load_settings
from reconcile_tui.workspace import Workspace
from tests.conftest import DEFAULT_HEADER, PAGE_CLOCK, SCENARIO, WALLET_A, WALLET_B

USDT = "USDTERC20"


@pytest.fixture
def api_dir(tmp_path: Path) -> Path:
    """The scenario's gateway responses, without USDC (so it does not add warnings)."""
    target = tmp_path / "api"
    shutil.copytree(SCENARIO / "api_repaired", target)
    data = json.loads((target / "balances.json").read_text())
    data["balances"] = [b for b in data["balances"] if b["currency"] != "USDCERC20"]
    data["summary"]["total_usd_value"] = "3056.84"
    data["summary"]["total_currencies"] = 2
    (target / "balances.json").write_text(json.dumps(data))
    (target / "history" / "USDCERC20.json").unlink()
    return target


def run_check(db_path: Path, api_dir: Path, csv_text: str, tmp_path: Path) -> dict:
    path = tmp_path / "records.csv"
    path.write_text(csv_text)
    with Workspace(
        load_settings(environ={}), db_path=db_path, clock=lambda: PAGE_CLOCK
    ) as workspace:
        workspace.import_files([path])
        snapshot_id, snapshot = workspace.load_saved_responses(api_dir)
        return workspace.check(snapshot_id, snapshot).document()


REPAIRED_ETH = (
    f"E-1,2024-12-01T00:00:00Z,ETH,{WALLET_A},deposit,1.5,0.001,confirmed,\n"
    f"E-2,2025-01-14T20:00:00Z,ETH,{WALLET_A},withdrawal,1.000000000000000001,0.00021,confirmed,\n"
)
REPAIRED_USDT_B = (
    f"D-5,2025-01-02T11:00:00Z,{USDT},{WALLET_B},deposit,500,2.5,confirmed,\n"
    f"D-6,2025-01-09T13:00:00Z,{USDT},{WALLET_B},deposit,80,0.4,confirmed,\n"
    f"D-7,2025-01-11T10:00:00Z,{USDT},{WALLET_B},deposit,60,0,confirmed,\n"
    f"D-8,2025-01-15T06:00:00Z,{USDT},{WALLET_B},deposit,40,0,confirmed,\n"
    f"W-2,2025-01-13T09:00:00Z,{USDT},{WALLET_B},withdrawal,100,0.5,failed,\n"
)


def test_an_opening_balance_replaces_the_history_before_it(db_path, api_dir, tmp_path):
    # Wallet A's export starts on 2025-01-06 with an opening balance of 1050 (D-1 + D-2),
    # and still contains an old row from before it, which the opening already covers.
    text = (
        DEFAULT_HEADER
        + REPAIRED_ETH
        + REPAIRED_USDT_B
        + (
            f"OPEN-A,2025-01-06T00:00:00Z,{USDT},{WALLET_A},opening,1050,0,,\n"
            f"D-1,2024-12-20T09:00:00Z,{USDT},{WALLET_A},deposit,1000,5,confirmed,\n"
            f"W-1,2025-01-10T12:00:00Z,{USDT},{WALLET_A},withdrawal,300,1,confirmed,\n"
            f"D-3,2025-01-12T15:30:00Z,{USDT},{WALLET_A},deposit,102,0.51,confirmed,\n"
            f"D-4,2025-01-12T08:00:00Z,{USDT},{WALLET_A},deposit,25,0,pending,\n"
        )
    )
    document = run_check(db_path, api_dir, text, tmp_path)
    kinds = [(d["kind"], d["currency"]) for d in document["discrepancies"]]
    # Balances agree; the all-time totals are not compared (D-2 is missing from the export
    # but inside the opening), and the report says so instead of inventing a mismatch.
    assert kinds == [("stale_pending", USDT)]
    notes = [n["message"] for n in document["notes"] if n["currency"] == USDT]
    assert any("opening balance" in n and "not compared" in n for n in notes)


def test_history_buckets_ending_before_an_opening_are_not_compared(db_path, api_dir, tmp_path):
    text = (
        DEFAULT_HEADER
        + REPAIRED_ETH
        + REPAIRED_USDT_B
        + (
            f"OPEN-A,2025-01-12T00:00:00Z,{USDT},{WALLET_A},opening,750,0,,\n"
            f"D-3,2025-01-12T15:30:00Z,{USDT},{WALLET_A},deposit,102,0.51,confirmed,\n"
            f"D-4,2025-01-12T08:00:00Z,{USDT},{WALLET_A},deposit,25,0,pending,\n"
            f"W-1,2025-01-10T12:00:00Z,{USDT},{WALLET_A},withdrawal,300,1,confirmed,\n"
        )
    )
    document = run_check(db_path, api_dir, text, tmp_path)
    history = [d for d in document["discrepancies"] if d["kind"] == "history_mismatch"]
    # W-1 sits before the opening: it is still a withdrawal of the 01-10 bucket ...
    assert history == []
    # ... while the balances of the two buckets that end before 2025-01-12 are unknowable
    # (the one ending at the opening itself is the opening balance).
    assert any("2 history buckets end before an opening" in n["message"] for n in document["notes"])


def test_wallet_names_resolve_through_the_names_the_gateway_reports(db_path, api_dir, tmp_path):
    text = (
        "reference,occurred_at,currency,wallet_id,wallet_name,type,amount,fee,status,tx_hash\n"
        + "".join(
            line.replace(f",{WALLET_B},", ",,online store,")
            for line in REPAIRED_USDT_B.splitlines(keepends=True)
        )
        + REPAIRED_ETH.replace(f",{WALLET_A},", f",{WALLET_A},,")
        + f"D-1,2024-12-20T09:00:00Z,{USDT},,Default Wallet,deposit,1000,5,confirmed,\n"
        + f"D-2,2025-01-05T10:00:00Z,{USDT},{WALLET_A},,deposit,50,0,confirmed,\n"
        + f"W-1,2025-01-10T12:00:00Z,{USDT},{WALLET_A},,withdrawal,300,1,confirmed,\n"
        + f"D-3,2025-01-12T15:30:00Z,{USDT},{WALLET_A},,deposit,102,0.51,confirmed,\n"
        + f"D-4,2025-01-12T08:00:00Z,{USDT},,Default Wallet,deposit,25,0,pending,\n"
        + f"Z-1,2025-01-12T08:00:00Z,{USDT},,Petty Cash,deposit,5,0,confirmed,\n"
    )
    document = run_check(db_path, api_dir, text, tmp_path)
    by_kind = {d["kind"]: d for d in document["discrepancies"]}
    # Every named wallet resolved but one, which the gateway does not know.
    assert by_kind["wallet_not_in_api"]["wallet_id"] == "Petty Cash"
    assert by_kind["wallet_not_in_api"]["references"] == ["Z-1"]
    assert by_kind["stale_pending"]["wallet_id"] == WALLET_A
    assert "available_mismatch" not in by_kind
    assert "pending_mismatch" not in by_kind
