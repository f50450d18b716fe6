"""Month-end close through the command line: `close` refuses while causes in the period
are open, signs with --accept-open or when clean, and `closes` says which sign-offs have
lapsed since and why (docs/close.md)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconcile_tui.reconcile.close import newest_covered, parse_period
from tests.conftest import SCENARIO
from tests.integration.test_cli import cli, scenario_check

__all__ = ["cli"]

#: Inside the scenario's stored history (daily buckets 2025-01-09 .. 2025-01-15).
PERIOD = "2025-01-10..2025-01-14"


def _closes(cli, db_path) -> list[dict]:  # type: ignore[no-untyped-def]
    result = cli("--db", db_path, "closes", "--format", "json")
    assert result.code == 0, result.err
    listed: list[dict] = json.loads(result.out)["closes"]
    return listed


def _clean(cli, db_path):  # type: ignore[no-untyped-def]
    result = scenario_check(cli, db_path, records="records_repaired.csv", api="api_repaired")
    assert result.code == 0, result.err
    return result


def _late_deposit(tmp_path: Path, amount: str) -> Path:
    """The repaired records and one more USDTERC20 deposit inside PERIOD."""
    late = tmp_path / "late.csv"
    late.write_text(
        (SCENARIO / "records_repaired.csv").read_text()
        + "D-9,2025-01-11T09:00:00Z,USDTERC20,550e8400-e29b-41d4-a716-446655440000,"
        f"deposit,{amount},0,confirmed,0x0d\n"
    )
    return late


def test_close_refuses_while_causes_in_the_period_are_open(cli, db_path):
    assert scenario_check(cli, db_path).code == 1
    result = cli("--db", db_path, "close", PERIOD, "--note", "January, first half")
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert "8 open causes in 2025-01-10..2025-01-14" in lines[0]
    assert "--accept-open" in lines[0]
    assert _closes(cli, db_path) == []


def test_close_signs_with_accept_open_and_keeps_what_it_accepted(cli, db_path):
    assert scenario_check(cli, db_path).code == 1
    result = cli(
        "--db", db_path, "close", PERIOD, "--note", "known typo", "--accept-open", "--by", "ana"
    )
    assert result.code == 0, result.err
    assert "closed 2025-01-10..2025-01-14 by ana, accepting 8 open" in result.out
    [signed] = _closes(cli, db_path)
    assert signed["state"] == "signed"
    assert signed["open_causes"] == 8
    assert signed["note"] == "known typo"
    usdt = signed["figures"]["USDTERC20"]
    # The typo (120 recorded as 102 at the gateway) shows at the period's end.
    assert usdt["gateway_balance"] == "1517.000000"
    assert usdt["records_balance"] == "1535.000000"
    assert (usdt["gateway_deposit_count"], usdt["records_deposit_count"]) == (3, 3)


def test_a_clean_period_signs_and_closes_lists_it_with_the_exact_shape(cli, db_path):
    _clean(cli, db_path)
    result = cli("--db", db_path, "close", PERIOD, "--note", "checked with bank", "--by", "ana")
    assert result.code == 0, result.err
    [signed] = _closes(cli, db_path)
    assert list(signed) == [
        "from", "to", "state", "by", "at", "note", "figures", "open_causes", "lapsed_because",
    ]  # fmt: skip
    assert signed["from"] == "2025-01-10"
    assert signed["to"] == "2025-01-14"
    assert (signed["state"], signed["by"], signed["open_causes"]) == ("signed", "ana", 0)
    assert signed["lapsed_because"] is None
    assert signed["at"].endswith("Z")
    usdt = signed["figures"]["USDTERC20"]
    assert usdt["gateway_balance"] == usdt["records_balance"] == "1517.000000"
    assert usdt["gateway_deposits"] == "187.000000"
    assert usdt["records_withdrawals"] == "300.000000"
    assert usdt["movements_from"] == "2025-01-10T00:00:00Z"
    text = cli("--db", db_path, "closes")
    assert text.code == 0
    assert "2025-01-10..2025-01-14" in text.out
    assert "signed" in text.out


def test_a_later_import_into_a_signed_period_makes_it_lapse_and_says_why(cli, db_path, tmp_path):
    _clean(cli, db_path)
    assert cli("--db", db_path, "close", PERIOD, "--note", "done").code == 0
    assert cli("--db", db_path, "import", _late_deposit(tmp_path, "5")).code == 0
    [lapsed] = _closes(cli, db_path)
    assert lapsed["state"] == "lapsed"
    because = lapsed["lapsed_because"]
    assert "USDTERC20 records' balance at 2025-01-14 was 1517.000000, now 1522.000000" in because
    assert "USDTERC20 records' deposit count in 2025-01-10..2025-01-14 was 3, now 4" in because
    # The figures shown are still the ones accepted.
    assert lapsed["figures"]["USDTERC20"]["records_balance"] == "1517.000000"
    text = cli("--db", db_path, "closes")
    assert "lapsed" in text.out
    assert "was 1517.000000, now 1522.000000" in text.out


def test_records_in_a_currency_no_history_covers_are_in_the_figures_and_make_it_lapse(
    cli, db_path, tmp_path
):
    # A sign-off kept the figures of the currencies the gateway's history covers only:
    # records imported later in any other currency left it signed.
    _clean(cli, db_path)
    assert cli("--db", db_path, "close", PERIOD, "--note", "done").code == 0
    doge = tmp_path / "doge.csv"
    doge.write_text(
        (SCENARIO / "records_repaired.csv").read_text()
        + "Z-1,2025-01-11T09:00:00Z,DOGE,550e8400-e29b-41d4-a716-446655440000,"
        "deposit,5,0,confirmed,0x0e\n"
        # Outside the period, and failed: neither counts.
         + "Z-2,2025-01-15T09:00:00Z,DOGE,550e8400-e29b-41d4-a716-446655440000,"
        "deposit,7,0,confirmed,0x0f\n"
        + "Z-3,2025-01-12T09:00:00Z,DOGE,550e8400-e29b-41d4-a716-446655440000,"
        "withdrawal,9,0,failed,0x10\n"
    )
    assert cli("--db", db_path, "import", doge).code == 0
    [lapsed] = _closes(cli, db_path)
    assert lapsed["state"] == "lapsed"
    assert lapsed["lapsed_because"] == "DOGE was not in the figures accepted, now is"

    result = cli("--db", db_path, "close", PERIOD, "--note", "again", "--accept-open")
    assert result.code == 0, result.err
    assert result.out.startswith(
        "DOGE: no gateway history; records 1 deposits of 5.000000000000000000,"
        " 0 withdrawals of 0 in 2025-01-10..2025-01-14\n"
    )
    signed = _closes(cli, db_path)[-1]
    assert signed["state"] == "signed"
    assert signed["figures"]["DOGE"] == {
        "gateway_balance": None,
        "gateway_deposit_count": None,
        "gateway_deposits": None,
        "gateway_withdrawal_count": None,
        "gateway_withdrawals": None,
        "movements_from": "2025-01-10T00:00:00Z",
        "records_balance": None,
        "records_deposit_count": 1,
        "records_deposits": "5.000000000000000000",
        "records_withdrawal_count": 0,
        "records_withdrawals": "0",
    }
    # A second deposit in the period makes the new sign-off lapse too.
    more = tmp_path / "more.csv"
    more.write_text(
        doge.read_text() + "Z-4,2025-01-13T09:00:00Z,DOGE,550e8400-e29b-41d4-a716-446655440000,"
        "deposit,1,0,pending,0x11\n"
    )
    assert cli("--db", db_path, "import", more).code == 0
    because = _closes(cli, db_path)[-1]["lapsed_because"]
    assert "DOGE records' deposit count in 2025-01-10..2025-01-14 was 1, now 2" in because


def test_a_close_after_an_import_counts_the_causes_of_what_is_stored_now(cli, db_path, tmp_path):
    # It used to count the open causes of the check made before the import, and sign a
    # period whose records no longer matched the gateway without --accept-open.
    _clean(cli, db_path)
    assert cli("--db", db_path, "import", _late_deposit(tmp_path, "5000")).code == 0
    result = cli("--db", db_path, "close", PERIOD, "--note", "done")
    assert result.code == 1, result.out
    assert "open cause" in result.err
    assert "nothing signed" in result.err
    assert _closes(cli, db_path) == []
    # The check it ran is the one every command reads now: it holds the new deposit.
    exported = tmp_path / "causes.json"
    assert cli("--db", db_path, "export", "--output", exported, "--format", "json").code == 0
    causes = json.loads(exported.read_text())["causes"]
    # (Without the gateway's listing the new deposit is a gap no cause names.)
    assert "-5000.000000" in {cause["amount"] for cause in causes}


def test_a_later_fetch_that_changes_the_gateways_figures_makes_it_lapse(cli, db_path, tmp_path):
    _clean(cli, db_path)
    assert cli("--db", db_path, "close", PERIOD, "--note", "done").code == 0
    api = tmp_path / "api"
    shutil.copytree(SCENARIO / "api_repaired", api)
    history = api / "history" / "USDTERC20.json"
    history.write_text(
        history.read_text().replace('"balance": "1517.000000"', '"balance": "1516.000000"')
    )
    scenario_check(cli, db_path, records="records_repaired.csv", api=str(api))
    [lapsed] = _closes(cli, db_path)
    assert lapsed["state"] == "lapsed"
    assert (
        "USDTERC20 gateway's balance at 2025-01-14 was 1517.000000, now 1516.000000"
        in (lapsed["lapsed_because"])
    )


def test_a_signed_period_stays_signed_after_fetches_that_do_not_touch_it(cli, db_path):
    _clean(cli, db_path)
    assert cli("--db", db_path, "close", PERIOD, "--note", "done").code == 0
    # The same gateway data stored again (a newer snapshot) changes no figure.
    _clean(cli, db_path)
    [signed] = _closes(cli, db_path)
    assert signed["state"] == "signed"


def test_a_bad_period_is_exit_2_with_one_line(cli, db_path):
    _clean(cli, db_path)
    # The last year's last day ended in an internal error (no day after it to end at).
    edges = ("9999-12", "9999-12-01..9999-12-31", "0001-01", "1899-12-31..1900-01-01")
    # Digits of another script were read as digits: full-width `２０２５-01` was January.
    digits = ("\uff12\uff10\uff12\uff15-01", "2025-01-1\u0661..2025-01-14")
    for bad in ("2025-13", "January", "2025-01-15..2025-01-10", "2025-02-30..2025-03-01",
                *edges, *digits):  # fmt: skip
        result = cli("--db", db_path, "close", bad, "--note", "x")
        assert result.code == 2, bad
        lines = result.err.strip().splitlines()
        assert len(lines) == 1, lines
        assert "YYYY-MM" in lines[0], lines
    assert _closes(cli, db_path) == []


def test_a_period_no_stored_history_covers_is_exit_2_saying_to_fetch(cli, db_path):
    _clean(cli, db_path)
    result = cli("--db", db_path, "close", "2024-12", "--note", "x", "--accept-open")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1
    assert "no stored gateway history covers 2024-12" in lines[0]
    assert "fetch" in lines[0]
    assert _closes(cli, db_path) == []


@pytest.mark.parametrize("period", ["2025-01-15..2025-01-15", "2025-01"])
def test_a_period_not_over_when_the_gateway_was_asked_is_not_signed(cli, db_path, period):
    # The history's last daily bucket, 2025-01-15, held the day up to the gateway's clock
    # (10:00): it was signed off as that day's end-of-day balance.
    _clean(cli, db_path)
    result = cli("--db", db_path, "close", period, "--note", "x", "--accept-open")
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        f"error: {period} had not ended when the gateway's figures were fetched (its clock"
        " read 2025-01-15T10:00:00Z): close it after a fetch made once"
        f" {parse_period(period).last.isoformat()} has ended"
    ]
    assert _closes(cli, db_path) == []
    # The day before had ended: it is signed.
    assert cli("--db", db_path, "close", "2025-01-14..2025-01-14", "--note", "x").code == 0


def test_close_before_any_check_creates_no_database(cli, tmp_path):
    missing = tmp_path / "none.db"
    result = cli("--db", missing, "close", PERIOD, "--note", "x")
    assert result.code == 2
    assert not Path(missing).exists()


def test_the_period_a_close_screen_opens_on_is_what_the_newest_history_covers():
    # A 30-day daily history ending at midnight covers its last whole month...
    span = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC))
    assert newest_covered(span) == parse_period("2025-01")
    # ...a 7-day hourly one mid-month only its whole days...
    span = (datetime(2025, 1, 8, 11, tzinfo=UTC), datetime(2025, 1, 15, 11, tzinfo=UTC))
    assert newest_covered(span) == parse_period("2025-01-09..2025-01-14")
    # ...a history spanning two months opens on the whole one...
    span = (datetime(2024, 12, 20, tzinfo=UTC), datetime(2025, 1, 20, tzinfo=UTC))
    assert newest_covered(span) == parse_period("2024-12-20..2025-01-19")
    span = (datetime(2024, 11, 30, tzinfo=UTC), datetime(2025, 1, 20, tzinfo=UTC))
    assert newest_covered(span) == parse_period("2024-12")
    # ...and less than a whole day, or nothing stored, opens on nothing.
    assert newest_covered((datetime(2025, 1, 8, 11, tzinfo=UTC),
                           datetime(2025, 1, 9, 10, tzinfo=UTC))) is None  # fmt: skip
    assert newest_covered(None) is None


def test_the_list_keeps_every_field_whole_in_a_pipe_and_shows_no_control_characters(cli, db_path):
    # At a pipe's 80 columns the period was cut to `2025-01-10..2025-01` and the state to
    # `sign`, the note dropped; a name given with terminal escapes was printed raw.
    _clean(cli, db_path)
    note = "reconciled against the bank statement, the exchange export and the ledger"
    signed = cli("--db", db_path, "close", PERIOD, "--note", note, "--by", "ana\x1b]0;x\x07")
    assert signed.code == 0
    assert "\x1b" not in signed.out
    assert f"closed {PERIOD} by ana\\x1b]0;x\\x07" in signed.out
    listed = cli("--db", db_path, "closes")
    assert listed.code == 0
    assert "\x1b" not in listed.out
    assert PERIOD in listed.out
    assert " signed " in listed.out
    assert f"{PERIOD} note: {note}" in listed.out


def test_a_period_longer_than_the_stored_history_says_where_its_movements_are_counted_from(
    cli, db_path
):
    # Signed as the whole of it, with nothing saying the first eight days were not counted.
    _clean(cli, db_path)
    result = cli("--db", db_path, "close", "2025-01-01..2025-01-14", "--note", "n")
    assert result.code == 0, result.err
    assert (
        "movements counted from 2025-01-09 (ETH, USDCERC20, USDTERC20), where the stored"
        " history starts\n"
    ) in result.out
    whole = cli("--db", db_path, "close", PERIOD, "--note", "n")
    assert "movements counted" not in whole.out


def test_closes_keeps_every_column_at_any_width(cli, db_path, monkeypatch):
    # At 40 columns Rich dropped the state column: a lapsed sign-off read like a signed one.
    _clean(cli, db_path)
    assert cli("--db", db_path, "close", PERIOD, "--note", "done").code == 0
    for width in ("40", "50", "200"):
        monkeypatch.setenv("COLUMNS", width)
        header, row = cli("--db", db_path, "closes").out.splitlines()[:2]
        assert header.split() == ["period", "state", "by", "at", "open"]
        assert row.split()[:2] == [PERIOD, "signed"]
        assert row.split()[-1] == "0"


def test_a_cause_opened_in_a_signed_period_makes_it_lapse_though_its_balances_stand(cli, db_path):
    # Withdrawing an acknowledgement the sign-off relied on left it `signed`: its
    # balances had not changed, but a mistake in the period was open again.
    from reconcile_tui.config import load_settings
    from reconcile_tui.workspace import Workspace

    assert scenario_check(cli, db_path).code == 1
    with Workspace(load_settings(SCENARIO / "reconcile.toml", environ={}), db_path=db_path) as ws:
        found = ws.review_period(PERIOD).open_causes
        for cause in found:
            ws.acknowledge(cause["id"], "known")
    assert cli("--db", db_path, "close", PERIOD, "--note", "all known").code == 0
    [signed] = _closes(cli, db_path)
    assert (signed["state"], signed["open_causes"]) == ("signed", 0)
    withdrawn = cli("--db", db_path, "ack", found[0]["id"], "--withdraw", "--note", "not known")
    assert withdrawn.code == 0, withdrawn.err
    [lapsed] = _closes(cli, db_path)
    assert lapsed["state"] == "lapsed"
    assert lapsed["lapsed_because"] == (
        f"1 open cause in {PERIOD} at the latest check, 0 accepted when it was signed"
    )


@pytest.mark.parametrize("by", ["", "  "])
def test_an_empty_by_is_refused_not_taken_for_the_user(cli, db_path, by):
    # An unset `$NAME` in a script signed and acknowledged as whoever ran it.
    assert scenario_check(cli, db_path).code == 1
    for args in (("close", PERIOD, "--note", "x", "--accept-open", "--by", by),
                 ("ack", "abcdef", "--note", "x", "--by", by)):  # fmt: skip
        result = cli("--db", db_path, *args)
        assert result.code == 2
        assert result.err.strip() == (
            "error: --by is empty: give a name, or leave --by out for your user name"
        )
    assert _closes(cli, db_path) == []
