"""Matching's first pass in the database makes exactly the report Python alone makes.

A stored snapshot's transactions reach the check lazily (`StoredTransactions`), and the
certain pairs stay in the database (`store/pairs.py`); the same snapshot with its
transactions held in memory is matched in Python alone. Over many random ledgers, full
of what could tell the two apart (docs/causes.md, "The first pass in the database"),
both reports must be the same, cause by cause and discrepancy by discrepancy.
"""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from reconcile_tui.config import Settings
from reconcile_tui.reconcile.matching import GATEWAY_TYPE
from reconcile_tui.store.db import Store
from reconcile_tui.store.pairs import first_pass
from reconcile_tui.store.snapshots import DamagedSnapshot, StoredTransactions, load_snapshot
from reconcile_tui.vocabulary import STATUS_WORDS
from reconcile_tui.workspace import Workspace
from tests.unit.reconcile.world import random_world

FAILED = {"payment": "expired", "withdrawal": "rejected"}


@pytest.fixture(params=["sqlite", "postgresql", "postgresql-en-US"])
def db_path(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Each store, and a server database that sorts text as people do by default: the
    first pass compares texts it makes from numbers, which must keep byte order there."""
    if request.param == "sqlite":
        return tmp_path / "reconcile.db"
    url: str = request.getfixturevalue(
        "postgres_url" if request.param == "postgresql" else "en_us_postgres_url"
    )
    return url


def _respelled(text: str) -> str:
    """The same amount with one more trailing zero (1.5 -> 1.50), within 6 places."""
    places = len(text.split(".")[1]) if "." in text else 0
    if places >= 6:
        return text
    return text + ("0" if places else ".0")


def _hour_bound(text: str, rng: random.Random) -> str:
    """A time on an hour's bounds near `text`: its hour's first or last moment, or the
    next hour's first."""
    moment = datetime.fromisoformat(text).replace(minute=0, second=0, microsecond=0)
    choice = rng.choice(
        [moment, moment + timedelta(hours=1), moment + timedelta(hours=1, microseconds=-1)]
    )
    spec = "microseconds" if choice.microsecond else "seconds"
    return choice.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _tangle(api: Path, records: Path, rng: random.Random) -> None:
    """Mix into a world what only exact matching keeps apart: repeated references,
    order_ids naming other records, a reference reused by another type or currency,
    failed statuses, amounts spelled with more zeros, times on an hour's bounds."""
    body = json.loads((api / "transactions.json").read_text())
    items: list[dict[str, Any]] = body["results"]
    references = [i["reference"] or i["metadata"]["order_id"] for i in items]
    extra: list[dict[str, Any]] = []
    for n, item in enumerate(items):
        roll = rng.random()
        if roll < 0.08:  # the same reference listed twice
            extra.append(
                {**item, "id": f"R-{n}", "created_at": _hour_bound(item["created_at"], rng)}
            )
        elif roll < 0.16:  # an order_id naming another record
            item["metadata"] = {"order_id": rng.choice(references)}
            if item["reference"] is None:
                item["reference"] = references[n]
        elif roll < 0.20:  # the reference reused by the other type
            extra.append(
                {
                    **item,
                    "id": f"K-{n}",
                    "type": "withdrawal" if item["type"] == "payment" else "payment",
                }
            )
        elif roll < 0.23:  # ... and by a currency the records do not hold
            extra.append({**item, "id": f"C-{n}", "currency": "BTC"})
        elif roll < 0.26:  # an order_id equal to the reference
            item["metadata"] = {"order_id": references[n]}
            item["reference"] = references[n]
        if rng.random() < 0.1:
            item["status"] = FAILED[item["type"]]
        if rng.random() < 0.2:
            item["net_amount"] = _respelled(item["net_amount"])
        if rng.random() < 0.1:
            item["fee_amount"] = _respelled(item["fee_amount"])
        if rng.random() < 0.2:
            item["created_at"] = _hour_bound(item["created_at"], rng)
    items += extra
    rng.shuffle(items)
    body["count"] = len(items)
    (api / "transactions.json").write_text(json.dumps(body))

    lines = records.read_text().splitlines()
    tangled = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        if rng.random() < 0.2:
            cells[5] = _respelled(cells[5])
        if rng.random() < 0.1:
            cells[1] = _hour_bound(cells[1], rng)
        if rng.random() < 0.05:
            cells[7] = "failed"
        tangled.append(",".join(cells))
    records.write_text("\n".join(tangled) + "\n")


def _effects(report: Any) -> dict[str, Any]:
    return {c.id: (dict(c.effect.points), dict(c.effect.steps)) for c in report.causes}


def _document(report: Any) -> dict[str, Any]:
    document = report.to_dict()
    document.pop("generated_at")
    return document


@pytest.mark.parametrize("seed", range(12))
def test_the_first_pass_in_the_database_makes_the_report_python_alone_makes(
    seed, db_path, tmp_path
):
    rng = random.Random(seed)
    world = random_world(seed, plants=rng.randint(0, 6))
    records, api = world.write(tmp_path)
    _tangle(api, records, rng)
    with Workspace(Settings(), db_path=db_path) as workspace:
        workspace.import_files([records])
        snapshot_id, _saved = workspace.load_saved_responses(api)
        stored = load_snapshot(workspace.store, snapshot_id)
        assert isinstance(stored.transactions, StoredTransactions)
        in_database = workspace.check(snapshot_id, stored).report
        in_memory = dataclasses.replace(stored, transactions=tuple(stored.transactions))
        in_python = workspace.check(snapshot_id, in_memory).report
    assert _document(in_database) == _document(in_python)
    assert in_python.causes, "a tangled world has causes to compare"
    assert _effects(in_database) == _effects(in_python)


def test_identical_pairs_never_leave_the_database(db_path, tmp_path):
    """A clean world: every pair is certain and identical, so the first pass hands
    Python no record, no transaction and no pair."""
    world = random_world(3, plants=0)
    records, api = world.write(tmp_path)
    with Workspace(Settings(), db_path=db_path) as workspace:
        workspace.import_files([records])
        snapshot_id, _saved = workspace.load_saved_responses(api)
        found = first_pass(
            workspace.store,
            snapshot_id,
            kinds=GATEWAY_TYPE,
            statuses={word: status.value for word, status in STATUS_WORDS.items()},
            currencies=["USDTERC20"],
        )
        # Every amount of the world, asked for: the identical pairs come back only then.
        amounts = {Decimal(e.amount) for e in world.records}
        identical = found.identical_of_amounts({"USDTERC20"}, amounts)
    assert (found.differing, found.records, found.transactions) == ([], [], [])
    assert len(identical) == len(world.records)


def test_the_hour_of_a_moment_before_1970_is_exact():
    """The last fraction of a second before 1970 is in the hour before 1970's first, as
    its text says (the first pass compares hours as text: `YYYY-MM-DDTHH`)."""
    from reconcile_tui.reconcile.causes import _hour

    last = datetime.fromisoformat("1969-12-31T23:59:59.500000+00:00")
    first = datetime.fromisoformat("1969-12-31T23:00:00.500000+00:00")
    assert _hour(last) == _hour(first) == -1
    assert _hour(datetime.fromisoformat("1970-01-01T00:00:00+00:00")) == 0


def _temporary_tables(store: Store) -> list[str]:
    """The first pass's tables in this connection's temporary schema, on either store
    (an import stages its rows in temporary tables of its own)."""
    if store.server:
        rows = store.query(
            "SELECT relname FROM pg_class WHERE relnamespace = pg_my_temp_schema()"
            " AND relkind = 'r'"
        )
    else:
        rows = store.query("SELECT name FROM sqlite_temp_master WHERE type = 'table'")
    return sorted(str(row[0]) for row in rows if str(row[0]).startswith("first_pass"))


def test_a_second_check_on_one_connection_decides_its_own_pairs(db_path, tmp_path):
    """The terminal app checks again on the connection it keeps: between two checks a
    newer export changes records, and the second check's report is the one Python alone
    makes of the books as they are then, with no table of the first left behind."""
    rng = random.Random(7)
    world = random_world(7, plants=4)
    records, api = world.write(tmp_path)
    _tangle(api, records, rng)
    lines = records.read_text().splitlines()
    newer = tmp_path / "newer.csv"
    # The same references, every third one's amount a unit more: certain pairs of the
    # first check now differ.
    changed = [lines[0]]
    for n, line in enumerate(lines[1:]):
        cells = line.split(",")
        if n % 3 == 0:
            cells[5] = str(Decimal(cells[5]) + 1)
        changed.append(",".join(cells))
    newer.write_text("\n".join(changed) + "\n")
    with Workspace(Settings(), db_path=db_path) as workspace:
        workspace.import_files([records])
        snapshot_id, _saved = workspace.load_saved_responses(api)
        before = workspace.check(snapshot_id, load_snapshot(workspace.store, snapshot_id))
        assert _temporary_tables(workspace.store) == []
        workspace.import_files([newer])
        stored = load_snapshot(workspace.store, snapshot_id)
        in_database = workspace.check(snapshot_id, stored).report
        assert _temporary_tables(workspace.store) == []
        in_memory = dataclasses.replace(stored, transactions=tuple(stored.transactions))
        in_python = workspace.check(snapshot_id, in_memory).report
    assert _document(in_database) == _document(in_python)
    assert _effects(in_database) == _effects(in_python)
    assert _document(in_database) != _document(before.report), "the newer export shows"


def test_a_first_pass_that_fails_leaves_no_table_behind(db_file, tmp_path):
    """A stored transaction this version cannot read stops the check with the store's
    one line (exit 4), and the certain pairs' table goes with it."""
    world = random_world(4, plants=0)
    records, api = world.write(tmp_path)
    with Workspace(Settings(), db_path=db_file) as workspace:
        workspace.import_files([records])
        snapshot_id, _saved = workspace.load_saved_responses(api)
        # A pair that differs, so the first pass reads its transaction back.
        workspace.store.conn.execute(
            "UPDATE records SET amount = '1000000' WHERE id = (SELECT min(id) FROM records)"
        )
        workspace.store.conn.execute(
            """UPDATE snapshot_transactions SET created_at = 'not a time'
               WHERE (SELECT reference FROM records WHERE id = (SELECT min(id) FROM records))
                     IN (reference, order_id)"""
        )
        with pytest.raises(DamagedSnapshot, match="fetch --refresh"):
            first_pass(
                workspace.store,
                snapshot_id,
                kinds=GATEWAY_TYPE,
                statuses={word: status.value for word, status in STATUS_WORDS.items()},
                currencies=["USDTERC20"],
            )
        assert _temporary_tables(workspace.store) == []


def test_a_closed_first_pass_has_no_identical_pairs_left(db_path, tmp_path):
    """Once its check is done, the first pass's table is gone: nothing reads it again."""
    world = random_world(3, plants=0)
    records, api = world.write(tmp_path)
    with Workspace(Settings(), db_path=db_path) as workspace:
        workspace.import_files([records])
        snapshot_id, _saved = workspace.load_saved_responses(api)
        with first_pass(
            workspace.store,
            snapshot_id,
            kinds=GATEWAY_TYPE,
            statuses={word: status.value for word, status in STATUS_WORDS.items()},
            currencies=["USDTERC20"],
        ) as found:
            assert len(_temporary_tables(workspace.store)) == 1
        amounts = {Decimal(e.amount) for e in world.records}
        assert found.identical_of_amounts({"USDTERC20"}, amounts) == []
        assert _temporary_tables(workspace.store) == []
