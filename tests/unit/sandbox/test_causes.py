"""The expected causes (docs/causes.md): the model held to itself over many scenarios.

For each generated scenario, every period and interval: the causes' effects add up to
every discrepancy's difference exactly (nothing unexplained), each planted mistake is one
cause naming its reference and gateway transaction, and the number of causes does not
depend on the period or interval the expectation is written for.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from reconcile_tui.sandbox import SandboxConfig, generate_scenario
from reconcile_tui.sandbox.causes import Cause, Figured, explain
from reconcile_tui.sandbox.spec import cause_id
from reconcile_tui.times import INTERVALS, PERIODS

SEEDS = (3, 41, 2025)
#: Every plant kind once, then a second missing payment and payout.
PLANTS = 14

#: The one cause each plant kind is (the two that are two causes name both).
CAUSES_OF_PLANT = {
    "missing_deposit": ["missing_in_records"],
    "extra_withdrawal": ["missing_at_gateway"],
    "amount_off_by_one": ["amount_differs"],
    "wrong_wallet": ["wrong_wallet"],
    "status_lag": ["status_differs"],
    "duplicate_row": ["duplicate_record"],
    "unknown_currency": ["currency_not_in_api"],
    "fee_mismatch": ["fee_differs"],
    "stale_pending": ["stale_pending", "status_differs"],
    "status_ahead": ["status_differs"],
    "time_shift": ["time_differs"],
    "wallet_not_in_api": ["wallet_not_in_api", "wrong_wallet"],
}
SCALES = {"USDTERC20": 6, "USDCERC20": 6, "DAIERC20": 6, "ETH": 18, "USDTTRC20": 6}


def seconds(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def figured(discrepancy: dict[str, Any], interval: str) -> Figured:
    counted = discrepancy["field"] in {"deposit_count", "withdrawal_count"}
    scale = 0 if counted else SCALES[discrepancy["currency"]]
    start = None if discrepancy["bucket"] is None else seconds(discrepancy["bucket"])
    step = 3_600 if interval == "hourly" else 86_400
    exact = Fraction(discrepancy["difference"]) * 10**scale
    assert exact.denominator == 1
    return Figured(
        discrepancy["id"],
        discrepancy["kind"],
        discrepancy["currency"],
        discrepancy["wallet_id"],
        start,
        None if start is None else start + step,
        discrepancy["field"],
        int(exact),
    )


FIGURED_KINDS = {"available_mismatch", "pending_mismatch", "total_mismatch", "history_mismatch"}


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[int, str, str], Any]:
    written = {}
    for seed in SEEDS:
        for period in PERIODS:
            for interval in INTERVALS:
                out = tmp_path_factory.mktemp(f"s{seed}{period}{interval}")
                written[(seed, period, interval)] = generate_scenario(
                    out,
                    SandboxConfig(seed=seed, records=600),
                    discrepancies=PLANTS,
                    period=period,
                    interval=interval,
                )
    return written


def test_the_effects_add_up_to_every_difference_exactly(scenarios: dict) -> None:
    for (_, _, interval), written in scenarios.items():
        document = written.expected
        assert set(written.effects) == {cause["id"] for cause in document["causes"]}
        for discrepancy in document["discrepancies"]:
            if discrepancy["kind"] not in FIGURED_KINDS:
                continue
            figure = figured(discrepancy, interval)
            listed = [
                figure.share(written.effects[cid])
                for cid in discrepancy["causes"]
                if next(c for c in document["causes"] if c["id"] == cid)["currency"]
                == discrepancy["currency"]
            ]
            assert sum(listed) == figure.difference, discrepancy
            assert all(listed), "a cause listed with no effect on the figure"
            unlisted = [
                figure.share(effect)
                for cid, effect in written.effects.items()
                if cid not in discrepancy["causes"]
                and next(c for c in document["causes"] if c["id"] == cid)["currency"]
                == discrepancy["currency"]
            ]
            assert not any(unlisted), "a cause moves a figure it does not explain"


def test_every_error_is_explained_and_nothing_is_left_over(scenarios: dict) -> None:
    for written in scenarios.values():
        document = written.expected
        assert set(document["summary"]["unexplained"].values()) == {"0"}
        assert "unexplained" not in document["summary"]["causes"]["by_kind"]
        ids = {d["id"] for d in document["discrepancies"]}
        for discrepancy in document["discrepancies"]:
            assert discrepancy["causes"], discrepancy
        for cause in document["causes"]:
            assert set(cause["explains"]) <= ids
            for explained in cause["explains"]:
                [d] = [d for d in document["discrepancies"] if d["id"] == explained]
                assert cause["id"] in d["causes"]


def test_each_planted_mistake_is_its_cause_with_its_reference(scenarios: dict) -> None:
    for written in scenarios.values():
        causes = written.expected["causes"]
        named: Counter[str] = Counter()
        for plant in written.plants:
            for kind in CAUSES_OF_PLANT[plant["kind"]]:
                mine = [
                    c for c in causes if c["kind"] == kind and plant["reference"] in c["references"]
                ]
                assert len(mine) == 1, (plant, kind)
                named[mine[0]["id"]] += 1
                if kind not in {"duplicate_record", "currency_not_in_api", "wallet_not_in_api",
                                "stale_pending", "missing_at_gateway"}:  # fmt: skip
                    assert mine[0]["gateway_ids"] == [plant["gateway_id"]]
                if (
                    kind in {"missing_in_records", "wrong_wallet"}
                    and plant["kind"] != "wallet_not_in_api"
                ):
                    assert mine[0]["wallet_id"] is not None
        # Beyond the plants, only the gateway's own stuck payments.
        others = [c for c in causes if c["id"] not in named]
        assert {c["kind"] for c in others} <= {"stale_pending"}


def test_a_missing_payment_goes_to_its_own_wallet(scenarios: dict) -> None:
    for written in scenarios.values():
        for plant in written.plants:
            if plant["kind"] != "missing_deposit":
                continue
            [cause] = [c for c in written.expected["causes"] if c["kind"] == "missing_in_records"
                       and c["references"] == [plant["reference"]]]  # fmt: skip
            assert cause["wallet_id"] == plant["wallet_id"]
            assert not cause["amount"].startswith("-")


def test_the_cause_count_does_not_depend_on_period_or_interval(scenarios: dict) -> None:
    for seed in SEEDS:
        counts = {
            (period, interval): scenarios[(seed, period, interval)].expected["summary"]["causes"]
            for period in PERIODS
            for interval in INTERVALS
        }
        assert len({repr(count) for count in counts.values()}) == 1, counts


def test_cause_ids_follow_the_written_recipe(scenarios: dict) -> None:
    written = scenarios[(SEEDS[0], "7d", "daily")]
    kinds = {d["id"]: d["kind"] for d in written.expected["discrepancies"]}
    for cause in written.expected["causes"]:
        parts = ["cause", cause["kind"], cause["currency"] or "", cause["wallet_id"] or "",
                 ",".join(cause["references"]), ",".join(cause["gateway_ids"])]  # fmt: skip
        # A cause standing for one discrepancy of its own kind is told apart by its id.
        own = [d for d in cause["explains"] if kinds[d] == cause["kind"]]
        if own:
            parts.append(own[0])
        digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]
        assert cause["id"] == digest
        assert re.fullmatch(r"[0-9a-f]{16}", cause["id"])
    assert (
        cause_id("missing_in_records", "USDTERC20", None, ("ORD-000042",), ("g-1",))
        == hashlib.sha256(
            b"cause\x1fmissing_in_records\x1fUSDTERC20\x1f\x1fORD-000042\x1fg-1"
        ).hexdigest()[:16]
    )


def test_causes_are_written_at_the_currencys_places(scenarios: dict) -> None:
    for written in scenarios.values():
        for cause in written.expected["causes"]:
            if cause["amount"] is None or cause["currency"] not in SCALES:
                continue
            places = SCALES[cause["currency"]]
            assert re.fullmatch(rf"-?\d+\.\d{{{places}}}", cause["amount"]), cause


def test_a_remainder_no_cause_explains_is_an_unexplained_cause() -> None:
    gap = Figured("d1", "available_mismatch", "USDTERC20", "w1", None, None, None, 500)
    half = Cause(
        "missing_in_records", "USDTERC20", "w1", effect=Counter({("available", "w1"): 300})
    )
    elsewhere = Cause("fee_differs", "ETH", "w1", effect=Counter({("available", "w1"): 200}))
    [rest] = explain([gap], [half, elsewhere])
    assert rest.kind == "unexplained"
    assert (rest.currency, rest.wallet_id) == ("USDTERC20", "w1")
    assert rest.effect[("available", "w1")] == 200
    assert half.explains == ["d1"]
    assert elsewhere.explains == [], "another currency's cause explains nothing here"


def test_scenario_files_name_each_plants_gateway_transaction(tmp_path: Path) -> None:
    written = generate_scenario(tmp_path, SandboxConfig(seed=5, records=700), discrepancies=PLANTS)
    ids = [plant["gateway_id"] for plant in written.plants]
    assert all(re.fullmatch(r"[0-9a-f-]{36}", gid) for gid in ids)
    assert len(set(ids)) == len(ids)
