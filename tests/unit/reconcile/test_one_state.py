"""A check reads one state of the store, whoever writes meanwhile.

A check reads the records' sums, then the history, then the pending records, the
duplicates, the matches, each with a statement of its own. Someone else's import that
commits between two of them must be seen by none (or, had it come first, by all): a check
that added one state's per-wallet sums to another state's history would report a gap
that is in neither. Here another person's import commits while the check is between its
sums and its history, on both stores; the check must report what a check before the
import reports, and the next check what the import changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

from reconcile_tui.config import load_settings
from reconcile_tui.store import ledger
from reconcile_tui.workspace import Workspace
from tests.conftest import DEFAULT_HEADER, PAGE_CLOCK, SCENARIO, WALLET_A

#: A deposit inside the snapshot's 7-day history, on a wallet the gateway knows.
LATE_DEPOSIT = f"LATE-1,2025-01-13T10:00:00Z,USDTERC20,{WALLET_A},deposit,5,0,confirmed,0xff\n"


def _workspace(db_path: Path | str) -> Workspace:
    return Workspace(load_settings(environ={}), db_path=db_path, clock=lambda: PAGE_CLOCK)


def _figures(workspace: Workspace) -> list[Any]:
    snapshot_id, snapshot = workspace.latest_snapshot()
    document = workspace.check(snapshot_id, snapshot).report.to_dict()
    return [document["summary"], document["discrepancies"], document["causes"]]


def test_an_import_committed_during_a_check_is_not_half_seen(db_path, tmp_path):
    late = tmp_path / "late.csv"
    late.write_text(DEFAULT_HEADER + LATE_DEPOSIT, encoding="utf-8")
    with _workspace(db_path) as work:
        work.import_files([SCENARIO / "records.csv"])
        work.load_saved_responses(SCENARIO / "api")
        before = _figures(work)

        history = ledger.movements_between
        imported: list[int] = []

        def meanwhile(*arguments: Any, **keywords: Any) -> Any:
            if not imported:  # another person, on a connection of their own
                with _workspace(db_path) as other:
                    (result,) = other.import_files([late])
                    imported.append(result.inserted)
            return history(*arguments, **keywords)

        with mock.patch.object(ledger, "movements_between", meanwhile):
            during = _figures(work)
        after = _figures(work)

    assert imported == [1]
    assert during == before
    assert after != before  # the late deposit does change what a check reports
