"""Hostile gateway shapes, saved responses and settings, through the CLI on loopback:
a documented exit code with one line, never 70, and nothing stored or written on refusal."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from reconcile_tui.api.snapshot import load_saved
from reconcile_tui.config import load_settings
from reconcile_tui.store.snapshots import save_snapshot
from reconcile_tui.workspace import Workspace
from tests.conftest import API_PAGE, WALLET_B
from tests.hostile.scripted_gateway import BALANCES, history_for, scripted_gateway
from tests.integration.test_page_example import RECORDS

pytestmark = pytest.mark.slow

TOKEN = "tok-hostile-4412-abcdef"


def run(tmp_path: Path, *args: str, url: str = "http://127.0.0.1:9"):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTOFUSE_")}
    env = {**clean, "CRYPTOFUSE_API_URL": url, "CRYPTOFUSE_TOKEN": TOKEN}
    command = [sys.executable, "-m", "reconcile_tui", "--db", str(tmp_path / "r.db"), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def snapshots(tmp_path: Path) -> int:
    db = tmp_path / "r.db"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM snapshots").fetchone()[0])


def one_line(result, code: int) -> None:
    assert result.returncode == code, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr


def balances_with(change) -> bytes:
    data = json.loads(BALANCES)
    change(data)
    return json.dumps(data).encode()


def history_with(change, currency: str = "USDTERC20") -> bytes:
    data = json.loads(history_for(currency))
    change(data)
    return json.dumps(data).encode()


# -- listed twice -------------------------------------------------------------------------


def split_wallet_b(data) -> None:
    """Wallet B of USDTERC20 listed twice, its figures split so every sum still holds."""
    wallets = data["balances"][0]["wallets"]
    wallets[1].update(balance="1000.000000", pending="100.000000")
    wallets.append({**wallets[1], "balance": "500.000000", "pending": "100.000000"})


def usdc_twice(data) -> None:
    data["balances"].insert(2, json.loads(json.dumps(data["balances"][1])))


def test_a_wallet_or_currency_listed_twice_is_the_gateways_inconsistency_not_the_books(
    tmp_path,
):
    records = tmp_path / "records.csv"
    records.write_text(RECORDS)
    body = balances_with(lambda data: (split_wallet_b(data), usdc_twice(data)))
    with scripted_gateway({"/user/balances/": (200, body)}) as url:
        result = run(
            tmp_path, "check", "--records", str(records), "--format", "json", "--fail-on",
            "never", url=url,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)["discrepancies"]
    inconsistencies = {
        (d["field"], d["currency"], d["wallet_id"])
        for d in found
        if d["kind"] == "api_inconsistency"
    }
    assert ("wallet_id=unique", "USDTERC20", WALLET_B) in inconsistencies
    assert ("currency=unique", "USDCERC20", None) in inconsistencies
    blamed = [d for d in found if d["kind"] in {"available_mismatch", "pending_mismatch"}]
    assert blamed == []
    assert not [d for d in found if d["kind"] == "total_mismatch"]
    assert len({d["id"] for d in found}) == len(found)


# -- values the product cannot hold --------------------------------------------------------


def set_balances(path: tuple, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


UNHOLDABLE_BALANCES = {
    "year 1 last_update": set_balances(("summary", "last_update"), "0001-01-01T00:00:00+05:00"),
    "year 9999 last_transaction": set_balances(
        ("balances", 0, "last_transaction"), "9999-12-31T23:00:00-05:00"
    ),
    "75-digit balance": set_balances(("balances", 0, "wallets", 0, "balance"), "9" * 75),
    "31 decimal places": set_balances(("balances", 0, "pending_balance"), "0." + "1" * 31),
    "count of 10^25": set_balances(("summary", "total_wallets"), 10**25),
    "path-like currency code": set_balances(("balances", 0, "currency"), "../x"),
}


@pytest.mark.parametrize("change", UNHOLDABLE_BALANCES.values(), ids=UNHOLDABLE_BALANCES)
def test_a_balances_response_the_product_cannot_hold_is_a_bad_response(tmp_path, change):
    with scripted_gateway({"/user/balances/": (200, balances_with(change))}) as url:
        result = run(tmp_path, "fetch", "--save", str(tmp_path / "saved"), url=url)
    one_line(result, 3)
    assert snapshots(tmp_path) == 0
    assert not (tmp_path / "saved").exists()


def bucket(field: str, value):
    def change(data):
        data["history"][1][field] = value

    return change


UNHOLDABLE_HISTORY = {
    "bucket in year 1": bucket("timestamp", "0001-01-01T00:00:00+05:00"),
    "bucket in year 9999": bucket("timestamp", "9999-12-31T23:30:00-01:00"),
    "count of 10^25": bucket("deposit_count", 10**25),
    "75-digit deposits": bucket("deposits", "1" * 75),
}


@pytest.mark.parametrize("change", UNHOLDABLE_HISTORY.values(), ids=UNHOLDABLE_HISTORY)
def test_a_history_the_product_cannot_hold_is_a_bad_response_even_among_concurrent_ones(
    tmp_path, change
):
    # Three currencies' histories are fetched at once; only USDCERC20's is unholdable.
    def history(headers, query):
        currency = query["currency"][0]
        if currency != "USDCERC20":
            return 200, history_for(currency)
        return 200, history_with(change, currency)

    script = {"/user/balances/history/": history}
    with scripted_gateway(script) as url:
        result = run(tmp_path, "fetch", url=url)
    one_line(result, 3)
    assert "ExceptionGroup" not in result.stderr
    assert snapshots(tmp_path) == 0


def test_a_stored_snapshot_this_version_cannot_hold_is_exit_4_offline_and_refetched_online(
    tmp_path,
):
    # An older version stored a 75-digit balance; it is in the database as it was.
    saved = tmp_path / "old"
    (saved / "history").mkdir(parents=True)
    (saved / "balances.json").write_bytes(BALANCES)
    old = load_saved(saved)
    huge = balances_with(set_balances(("balances", 0, "wallets", 0, "balance"), "9" * 75))
    with Workspace(load_settings(environ={}), db_path=tmp_path / "r.db") as workspace:
        snapshot_id = save_snapshot(workspace.store, old, source="api")
        workspace.store.conn.execute(
            "UPDATE snapshots SET balances_raw = ?, base_url = 'http://127.0.0.1:9' WHERE id = ?",
            (huge, snapshot_id),
        )
        workspace.store.conn.commit()

    offline = run(tmp_path, "check", "--offline")
    one_line(offline, 4)
    assert "fetch --refresh" in offline.stderr

    with scripted_gateway({}) as url:
        fresh = run(tmp_path, "check", "--fail-on", "never", "--format", "json", url=url)
    assert fresh.returncode == 0, fresh.stderr
    assert snapshots(tmp_path) == 2


# -- saved responses and fetch --save -------------------------------------------------------


@pytest.mark.parametrize(("key", "value"), [("period", "1y"), ("interval", "weekly")])
def test_saved_responses_naming_a_period_or_interval_the_api_does_not_know_are_refused(
    tmp_path, key, value
):
    saved = tmp_path / "api"
    (saved / "history").mkdir(parents=True)
    (saved / "balances.json").write_bytes(BALANCES)
    (saved / "history" / "USDTERC20.json").write_bytes(history_for("USDTERC20"))
    (saved / "meta.json").write_text(json.dumps({key: value}))
    result = run(tmp_path, "check", "--api-dir", str(saved))
    one_line(result, 2)
    assert f"{saved / 'meta.json'}: {key}: '{value}'" in result.stderr
    assert snapshots(tmp_path) == 0


@pytest.mark.parametrize("code", ["../x", "a/b", ".."])
def test_fetch_save_with_a_path_like_currency_refuses_before_writing_or_storing(tmp_path, code):
    with scripted_gateway({}) as url:
        result = run(
            tmp_path, "fetch", "--currency", code, "--save", str(tmp_path / "saved"), url=url
        )
    one_line(result, 2)
    assert "is not a currency code" in result.stderr
    assert not (tmp_path / "saved").exists()
    assert snapshots(tmp_path) == 0


# -- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ('[reconcile]\nstale_pending_after = { default = "99999999999d" }', "stale_pending_after"),
        ("[api]\ncache_ttl = 1e300", "api.cache_ttl"),
        ("[api]\ndeadline = inf", "api.deadline"),
        ("[api]\nread_timeout = nan", "api.read_timeout"),
        ("[store]\nbusy_timeout = 1e300", "store.busy_timeout"),
        ('[reconcile]\ntolerance = { default = "1' + "0" * 40 + '" }', "reconcile.tolerance"),
    ],
)
def test_a_setting_out_of_bounds_is_refused_at_load_naming_the_key(tmp_path, setting, key):
    config = tmp_path / "settings.toml"
    config.write_text(setting + "\n")
    result = run(tmp_path, "--config", str(config), "check", "--offline")
    one_line(result, 2)
    assert key in result.stderr


def test_the_api_page_examples_stay_within_every_bound():
    assert load_saved(API_PAGE.parent / "scenario" / "api").balances.balances
