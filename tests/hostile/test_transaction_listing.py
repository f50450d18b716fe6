"""The transaction listing through the CLI on loopback: paged in full and stored with the
snapshot, saved as transactions.json and read back; a page failing for good is exit 3 with
nothing stored; a refused listing is a note, never a failure; a bad saved listing is exit 2."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from reconcile_tui.api.snapshot import load_saved
from tests.conftest import API_PAGE
from tests.hostile.scripted_gateway import Headers, Query, scripted_gateway

pytestmark = pytest.mark.slow

TOKEN = "tok-listing-7731-abcdef"
LISTING = "/transactions/transactions/"


def run(tmp_path: Path, *args: str, url: str = "http://127.0.0.1:9"):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CRYPTOFUSE_")}
    env = {**clean, "CRYPTOFUSE_API_URL": url, "CRYPTOFUSE_TOKEN": TOKEN}
    command = [sys.executable, "-m", "reconcile_tui", "--db", str(tmp_path / "r.db"), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def stored(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    db = tmp_path / "r.db"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def one_line(result, code: int) -> None:
    assert result.returncode == code, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr


def item_text(number: int) -> str:
    # Spaced as a gateway might write it, with an undocumented number, so a re-encoded
    # item would differ from what was served.
    return (
        f'{{ "id": {number}, "type": "payment", "amount": "{number}.50",'
        f' "currency": "USDTERC20", "status": "completed",'
        f' "created_at": "2025-01-14T0{number % 10}:00:00Z", "reference": "ORD-{number}",'
        f' "fee_amount": "0.50", "net_amount": "{number}.00", "rate": 1.10,'
        f' "metadata": {{"order_id": "ORD-{number}", "confirmations": 3}} }}'
    )


def pages(total: int, fail_page: int | None = None, status: int = 500):
    """A listing of `total` items, 100 a page, linking relatively; `fail_page` answers
    `status` every time."""

    def answer(headers: Headers, query: Query) -> tuple[int, bytes]:
        number = int(query.get("page", ["1"])[0])
        if number == fail_page:
            return status, b'{"error": {"code": "server_error", "message": "boom"}}'
        items = range((number - 1) * 100 + 1, min(number * 100, total) + 1)
        last = number * 100 >= total
        next_link = "null" if last else f'"{LISTING}?page={number + 1}&page_size=100"'
        body = (
            f'{{"count": {total}, "next": {next_link}, "previous": null, "results": ['
            + ", ".join(item_text(n) for n in items)
            + "]}"
        )
        return 200, body.encode()

    return answer


def test_fetch_pages_the_whole_listing_stores_it_and_saves_it_as_served(tmp_path):
    saved = tmp_path / "saved"
    with scripted_gateway({LISTING: pages(250)}) as url:
        result = run(tmp_path, "fetch", "--save", str(saved), url=url)
    assert result.returncode == 0, result.stderr
    assert "250 transactions" in result.stdout
    rows = stored(tmp_path, "SELECT id FROM snapshot_transactions ORDER BY position")
    assert [row[0] for row in rows] == [str(n) for n in range(1, 251)]
    document = (saved / "transactions.json").read_text()
    assert json.loads(document)["count"] == 250
    assert item_text(1) in document  # byte for byte, "1.10" and spacing kept
    assert [t.id for t in load_saved(saved).transactions or ()] == [str(n) for n in range(1, 251)]


def test_check_api_dir_reads_transactions_json_back_into_the_snapshot(tmp_path):
    saved = tmp_path / "saved"
    with scripted_gateway({LISTING: pages(120)}) as url:
        assert run(tmp_path, "fetch", "--save", str(saved), url=url).returncode == 0
    other = tmp_path / "other"
    other.mkdir()
    result = run(other, "check", "--api-dir", str(saved), "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    assert stored(other, "SELECT transactions_count, transactions_note FROM snapshots") == [
        (120, None)
    ]


def test_a_page_failing_for_good_is_exit_3_naming_it_and_nothing_is_stored_or_saved(tmp_path):
    saved = tmp_path / "saved"
    with scripted_gateway({LISTING: pages(500, fail_page=3)}) as url:
        result = run(tmp_path, "fetch", "--save", str(saved), url=url)
    one_line(result, 3)
    assert "page=3" in result.stderr
    assert stored(tmp_path, "SELECT count(*) FROM snapshots") in ([], [(0,)])
    assert not (saved / "transactions.json").exists()
    assert not (saved / "balances.json").exists()


def test_a_listing_that_never_ends_is_exit_3_with_one_line(tmp_path):
    def loop(headers: Headers, query: Query) -> tuple[int, bytes]:
        body = f'{{"count": 1, "next": "{LISTING}?page=1", "results": [{item_text(1)}]}}'
        return 200, body.encode()

    with scripted_gateway({LISTING: loop}) as url:
        result = run(tmp_path, "fetch", url=url)
    one_line(result, 3)
    assert "the transaction listing never ends" in result.stderr


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_refused_listing_stores_a_balance_level_snapshot_with_a_note(tmp_path, status):
    refusal = (status, b'{"error": {"code": "permission_denied", "message": "no"}}')
    with scripted_gateway({LISTING: refusal}) as url:
        result = run(tmp_path, "fetch", "--save", str(tmp_path / "saved"), url=url)
    assert result.returncode == 0, result.stderr
    assert "transactions not fetched" in result.stdout
    assert "note: transactions not fetched: " in result.stdout
    ((count, note),) = stored(
        tmp_path, "SELECT transactions_count, transactions_note FROM snapshots"
    )
    assert count is None
    assert f"({status} from " in note
    assert not (tmp_path / "saved" / "transactions.json").exists()


def saved_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "saved"
    shutil.copytree(API_PAGE, directory)
    return directory


@pytest.mark.parametrize(
    ("document", "said"),
    [
        ('{"count": 1, "results": [{"id": 1}]}', "results[0].type: missing"),
        ('{"count": 2, "results": []}', "count: 2, but results holds 0"),
        ('{"count": 1, "results": [', "not valid JSON"),
        (
            f'{{"count": 2, "results": [{item_text(4)}, {item_text(4)}]}}',
            "results[1].id: '4' is listed twice",
        ),
    ],
)
def test_a_bad_transactions_json_is_exit_2_naming_the_file(tmp_path, document, said):
    directory = saved_copy(tmp_path)
    (directory / "transactions.json").write_text(document)
    result = run(tmp_path, "check", "--api-dir", str(directory))
    one_line(result, 2)
    assert f"{directory / 'transactions.json'}" in result.stderr
    assert said in result.stderr
    assert stored(tmp_path, "SELECT count(*) FROM snapshots") in ([], [(0,)])


def test_saved_responses_without_transactions_json_say_so(tmp_path):
    directory = saved_copy(tmp_path)
    result = run(tmp_path, "check", "--api-dir", str(directory))
    assert result.returncode in (0, 1), result.stderr
    ((count, note),) = stored(
        tmp_path, "SELECT transactions_count, transactions_note FROM snapshots"
    )
    assert count is None
    assert note == f"transactions not fetched: no transactions.json in {directory}"
