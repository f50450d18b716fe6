"""Text a user types to find something (a search box, an id prefix) is matched literally:
`%`, `_` and `\\` are characters, never LIKE wildcards."""

from __future__ import annotations

import pytest

from reconcile_tui.errors import BadInput, NotFound
from reconcile_tui.store import runs
from reconcile_tui.store.db import literal_pattern
from reconcile_tui.store.ledger import RecordFilter, records_page
from reconcile_tui.workspace import MIN_ID_PREFIX
from tests.conftest import DEFAULT_HEADER, WALLET_A


def _discrepancy(id_: str, message: str, references: list[str] | None = None) -> dict:
    return {
        "id": id_,
        "kind": "available_mismatch",
        "severity": "error",
        "currency": "USDTERC20",
        "wallet_id": WALLET_A,
        "bucket": None,
        "field": None,
        "api_value": "1.000000",
        "merchant_value": "2.000000",
        "difference": "-1.000000",
        "usd_difference": "-1.00",
        "references": references or [],
        "message": message,
        "acknowledged": False,
    }


def _save(store, discrepancies: list[dict]) -> int:
    header = {
        "generated_at": "2025-01-15T10:00:00Z",
        "summary": {"status": "discrepancies", "errors": 3, "warnings": 0, "acknowledged": 0},
    }
    return runs.save_run(store, header, discrepancies, snapshot_id=None)


FOUND = [
    _discrepancy("abcdef0011112222", "wallet off by 50% of a deposit", ["ORD_1"]),
    _discrepancy("abcdef9933334444", "wallet off by 5 units", ["ORDX1"]),
    _discrepancy("0123456789abcdef", "a back\\slash in the message"),
]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("%", ["abcdef0011112222"]),
        ("50%", ["abcdef0011112222"]),
        ("ORD_1", ["abcdef0011112222"]),
        ("_", ["abcdef0011112222"]),
        ("\\", ["0123456789abcdef"]),
        ("off by", ["abcdef0011112222", "abcdef9933334444"]),
        ("OFF BY", ["abcdef0011112222", "abcdef9933334444"]),  # still case-blind
    ],
)
def test_a_discrepancy_search_matches_its_text_literally(store, search, expected):
    run_id = _save(store, FOUND)
    page = runs.discrepancy_page(store, run_id, runs.DiscrepancyFilter(search=search))
    assert [found["id"] for found in page] == expected
    assert runs.count_discrepancies(store, run_id, runs.DiscrepancyFilter(search=search)) == len(
        expected
    )


@pytest.mark.parametrize("prefix", ["%", "_", "______", "%_%", "abcde_", "abcdef%"])
def test_an_id_prefix_with_wildcards_finds_nothing(store, prefix):
    run_id = _save(store, FOUND)
    assert runs.find_discrepancy(store, run_id, prefix) == []


def test_a_record_search_matches_references_literally(write_csv, workspace):
    records = write_csv(
        DEFAULT_HEADER
        + f"ORD_1,2025-01-09T10:00:00Z,USDTERC20,{WALLET_A},deposit,1,0,confirmed,\n"
        + f"ORDX1,2025-01-09T11:00:00Z,USDTERC20,{WALLET_A},deposit,1,0,confirmed,\n"
        + f"100%,2025-01-09T12:00:00Z,USDTERC20,{WALLET_A},deposit,1,0,confirmed,\n"
    )
    workspace.import_files([records])
    shown = [row.reference for row in records_page(workspace.store, RecordFilter(search="_"))]
    assert shown == ["ORD_1"]
    shown = [row.reference for row in records_page(workspace.store, RecordFilter(search="%"))]
    assert shown == ["100%"]


def test_the_pattern_escapes_exactly_the_wildcards_and_the_escape():
    assert literal_pattern("a%b_c\\d") == "%a\\%b\\_c\\\\d%"
    assert literal_pattern("3f9c2a", prefix=True) == "3f9c2a%"


class TestAcknowledgingByPrefix:
    """`ack ID`: literal, at least MIN_ID_PREFIX characters, and naming one discrepancy."""

    @pytest.mark.parametrize("given", ["", "   ", "%", "_%_", "abcde"])
    def test_an_empty_short_or_wildcard_id_acknowledges_nothing(self, workspace, given):
        _save(workspace.store, FOUND)
        with pytest.raises(BadInput, match=f"at least {MIN_ID_PREFIX} characters"):
            workspace.acknowledge(given, "why")
        assert workspace.store.query("SELECT * FROM acknowledgements") == []

    @pytest.mark.parametrize("given", ["%%%%%%", "______", "abcde%", "abcde_"])
    def test_wildcards_long_enough_match_nothing(self, workspace, given):
        _save(workspace.store, FOUND)
        with pytest.raises(NotFound, match="no discrepancy"):
            workspace.acknowledge(given, "why")
        assert workspace.store.query("SELECT * FROM acknowledgements") == []

    def test_an_ambiguous_prefix_lists_the_candidates(self, workspace):
        _save(workspace.store, FOUND)
        with pytest.raises(BadInput) as refused:
            workspace.acknowledge("abcdef", "why")
        message = str(refused.value)
        assert "matches several discrepancies" in message
        assert "abcdef0011112222 (available_mismatch USDTERC20)" in message
        assert "abcdef9933334444" in message
        assert "\n" not in message
        assert workspace.store.query("SELECT * FROM acknowledgements") == []

    def test_a_unique_prefix_acknowledges_that_one(self, workspace):
        _save(workspace.store, FOUND)
        found = workspace.acknowledge("ABCDEF99", "agreed")  # ids read case-blind
        assert found["id"] == "abcdef9933334444"
        stored = workspace.store.query("SELECT discrepancy_id FROM acknowledgements")
        assert [row[0] for row in stored] == ["abcdef9933334444"]
