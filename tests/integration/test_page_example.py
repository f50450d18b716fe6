"""The API page's own example, reconciled against records that explain it exactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reconcile_tui.workspace import Workspace
from tests.conftest import API_PAGE, DEFAULT_HEADER, WALLET_A, WALLET_B

# Records that add up to every figure of the page's balances example.
RECORDS = DEFAULT_HEADER + "".join(
    f"{ref},{when},{currency},{wallet},{kind},{amount},{fee},{status},\n"
    for ref, when, currency, wallet, kind, amount, fee, status in (
        (
            "T-1",
            "2025-01-02T10:00:00Z",
            "USDTERC20",
            WALLET_A,
            "deposit",
            "6000",
            "30",
            "confirmed",
        ),
        (
            "T-2",
            "2025-01-05T10:00:00Z",
            "USDTERC20",
            WALLET_A,
            "withdrawal",
            "3000",
            "0",
            "confirmed",
        ),
        ("T-3", "2025-01-15T09:30:00Z", "USDTERC20", WALLET_A, "deposit", "300", "0", "pending"),
        (
            "T-4",
            "2025-01-03T10:00:00Z",
            "USDTERC20",
            WALLET_B,
            "deposit",
            "3500",
            "20",
            "confirmed",
        ),
        (
            "T-5",
            "2025-01-06T10:00:00Z",
            "USDTERC20",
            WALLET_B,
            "withdrawal",
            "2000",
            "0",
            "confirmed",
        ),
        ("T-6", "2025-01-15T09:00:00Z", "USDTERC20", WALLET_B, "deposit", "200", "0", "pending"),
        (
            "C-1",
            "2025-01-02T10:00:00Z",
            "USDCERC20",
            WALLET_A,
            "deposit",
            "5000",
            "25",
            "confirmed",
        ),
        (
            "C-2",
            "2025-01-14T15:20:00Z",
            "USDCERC20",
            WALLET_A,
            "withdrawal",
            "2500",
            "0",
            "confirmed",
        ),
        ("E-1", "2025-01-02T10:00:00Z", "ETH", WALLET_A, "deposit", "10", "0.05", "confirmed"),
        (
            "E-2",
            "2025-01-13T10:00:00Z",
            "ETH",
            WALLET_A,
            "withdrawal",
            "4.876543211",
            "0",
            "confirmed",
        ),
    )
)


@pytest.fixture
def page_dir(tmp_path: Path) -> Path:
    target = tmp_path / "page"
    target.mkdir()
    shutil.copy(API_PAGE / "balances.json", target / "balances.json")
    return target


def reconcile(workspace: Workspace, tmp_path: Path, api: Path) -> list[dict]:
    records = tmp_path / "records.csv"
    records.write_text(RECORDS)
    workspace.import_files([records])
    snapshot_id, snapshot = workspace.load_saved_responses(api)
    return workspace.check(snapshot_id, snapshot).document()["discrepancies"]


def test_records_that_explain_the_page_example_reconcile_clean(workspace, tmp_path, page_dir):
    assert reconcile(workspace, tmp_path, page_dir) == []


def test_one_wallet_off_by_one_unit_is_one_inconsistency_plus_that_wallets_mismatch(
    workspace, tmp_path, page_dir
):
    data = json.loads((page_dir / "balances.json").read_text())
    data["balances"][0]["wallets"][1]["balance"] = "1500.000001"
    (page_dir / "balances.json").write_text(json.dumps(data))
    found = reconcile(workspace, tmp_path, page_dir)
    assert [(d["kind"], d["field"], d["wallet_id"], d["difference"]) for d in found] == [
        ("api_inconsistency", "available_balance=sum(wallets.balance)", None, "-0.000001"),
        ("available_mismatch", None, WALLET_B, "0.000001"),
    ]
