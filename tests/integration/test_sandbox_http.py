"""The sandbox over real HTTP, and the reconciliation engine against generated scenarios.

The end-to-end tests generate a scenario, serve its ledger on loopback, fetch the gateway's
documents with plain httpx and the client-credentials flow, import the merchant's file,
run `check`, and compare the report with expected.json field for field (all but
`message`): the engine and the scenario generator's independent model must agree.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile_tui.api.models import parse_balances, parse_history, parse_transactions
from reconcile_tui.api.snapshot import GatewaySnapshot, save
from reconcile_tui.config import load_settings
from reconcile_tui.errors import BadInput
from reconcile_tui.sandbox import (
    RunningSandbox,
    SandboxConfig,
    compute_views,
    generate_scenario,
    start_sandbox,
)
from reconcile_tui.workspace import Workspace

SAMPLE = Path(__file__).parents[2] / "sample_data"
Factory = Callable[[SandboxConfig], RunningSandbox]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- the server --------------------------------------------------------------------------


def test_the_static_token_reads_balances(sandbox_server: RunningSandbox) -> None:
    response = httpx.get(
        f"{sandbox_server.url}/user/balances/", headers=bearer(sandbox_server.token)
    )
    assert response.status_code == 200
    balances = parse_balances(response.content)
    assert balances.summary.total_currencies == 5
    assert sandbox_server.url.startswith("http://127.0.0.1:")


def test_the_client_credentials_flow(sandbox_server: RunningSandbox) -> None:
    with httpx.Client(base_url=sandbox_server.url) as client:
        token = client.post(
            "/o/token/",
            data={"grant_type": "client_credentials", "scope": "read"},
            auth=(sandbox_server.client_id, sandbox_server.client_secret),
        )
        assert token.status_code == 200
        history = client.get(
            "/user/balances/history/",
            params={"currency": "ETH", "period": "24h", "interval": "hourly"},
            headers=bearer(token.json()["access_token"]),
        )
        refused = client.post(
            "/o/token/",
            data={"grant_type": "client_credentials"},
            auth=(sandbox_server.client_id, "not-the-secret"),
        )
    assert history.status_code == 200
    assert len(parse_history(history.content).history) == 24
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "authentication_failed"


def test_it_starts_and_stops_cleanly_many_times() -> None:
    config = SandboxConfig(records=200)
    for _ in range(8):
        with start_sandbox(config) as running:
            url = running.url
            assert (
                httpx.get(f"{url}/user/balances/", headers=bearer(running.token)).status_code == 200
            )
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/user/balances/", headers=bearer(running.token))


def test_two_sandboxes_serve_side_by_side(sandbox_factory: Factory) -> None:
    first = sandbox_factory(SandboxConfig(seed=1, records=300))
    second = sandbox_factory(SandboxConfig(seed=2, records=300))
    assert first.url != second.url
    one = httpx.get(f"{first.url}/user/balances/", headers=bearer(first.token))
    two = httpx.get(f"{second.url}/user/balances/", headers=bearer(second.token))
    assert one.content != two.content


def test_the_rate_limit_over_http(sandbox_factory: Factory) -> None:
    running = sandbox_factory(SandboxConfig(records=200, rate_limit=2))
    with httpx.Client(base_url=running.url, headers=bearer(running.token)) as client:
        statuses = [client.get("/user/balances/") for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert 1 <= int(statuses[2].headers["retry-after"]) <= 60


def test_the_transaction_listing_pages_over_http(sandbox_factory: Factory) -> None:
    """Following `next` as served (absolute URLs on the real host and port) lists every
    transaction once; the product's parser accepts every page."""
    running = sandbox_factory(SandboxConfig(records=450))
    seen: list[str] = []
    with httpx.Client(headers=bearer(running.token)) as client:
        url: str | None = f"{running.url}/transactions/transactions/?page_size=100"
        while url is not None:
            response = client.get(url)
            assert response.status_code == 200, response.text
            page = parse_transactions(response.content)
            assert page.count == 450
            seen += [item.id for item in page.results]
            url = page.next
            assert url is None or url.startswith(running.url)
        past = client.get(f"{running.url}/transactions/transactions/?page=6&page_size=100")
    assert len(seen) == len(set(seen)) == 450
    assert past.status_code == 404
    assert past.json()["error"]["code"] == "not_found"


def test_only_loopback_is_served() -> None:
    with pytest.raises(BadInput, match="loopback"):
        start_sandbox(SandboxConfig(records=10), host="0.0.0.0")


# -- the engine against generated scenarios ---------------------------------------------------


def fetch(running: RunningSandbox, period: str, interval: str) -> GatewaySnapshot:
    """What a client fetches: a token by client credentials, balances, every history."""
    with httpx.Client(base_url=running.url) as client:
        issued = client.post(
            "/o/token/",
            data={"grant_type": "client_credentials", "scope": "read"},
            auth=(running.client_id, running.client_secret),
        )
        client.headers.update(bearer(issued.json()["access_token"]))
        balances_raw = client.get("/user/balances/").content
        balances = parse_balances(balances_raw)
        histories_raw = {
            entry.currency: client.get(
                "/user/balances/history/",
                params={"currency": entry.currency, "period": period, "interval": interval},
            ).content
            for entry in balances.balances
        }
        listing: list = []
        url: str | None = "/transactions/transactions/?page_size=100"
        while url is not None:
            page = parse_transactions(client.get(url).content)
            listing += page.results
            url = page.next
    return GatewaySnapshot(
        balances=balances,
        histories={code: parse_history(raw) for code, raw in histories_raw.items()},
        fetched_at=balances.summary.last_update,
        base_url=running.url,
        period=period,
        interval=interval,
        balances_raw=balances_raw,
        histories_raw=histories_raw,
        transactions=tuple(listing),
    )


def without_message(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Without `message` (free text, not the model's to predict)."""
    return [{k: v for k, v in item.items() if k != "message"} for item in items]


def assert_report_matches(document: dict[str, Any], expected: dict[str, Any]) -> None:
    """Field for field but `message` (and what depends on where the check ran)."""
    found, wanted = (
        without_message(document["discrepancies"]),
        without_message(expected["discrepancies"]),
    )
    only_found = [d for d in found if d not in wanted]
    only_wanted = [d for d in wanted if d not in found]
    assert (only_found, only_wanted) == ([], []), "the engine and expected.json disagree"
    assert found == wanted, "same discrepancies, different order"
    # Schema 2: the same causes, each explaining the same discrepancies (docs/causes.md).
    assert sorted(without_message(document["causes"]), key=lambda c: c["id"]) == sorted(
        without_message(expected["causes"]), key=lambda c: c["id"]
    ), "the engine and expected.json disagree on the causes"
    assert document["summary"] == expected["summary"]
    assert document["tolerances"] == expected["tolerances"]
    assert document["records"]["count"] == expected["records"]["count"]
    for key in ("period", "interval"):
        assert document["api"][key] == expected["api"][key]
    assert without_message(document["notes"]) == without_message(expected["notes"])


def check(
    directory: Path, snapshot: GatewaySnapshot, db: Path | str, *, bank: bool = False
) -> dict[str, Any]:
    clock = snapshot.as_of
    rules = directory / "reconcile.toml"  # the scenario's tolerances and thresholds, if any
    settings = load_settings(rules if rules.exists() else None, environ={})
    with Workspace(settings, db_path=db, clock=lambda: clock) as workspace:
        snapshot_id = workspace.store_snapshot(snapshot)
        if bank:
            workspace.import_files(
                [directory / "bank-export.csv"], mapping=directory / "bank-export.toml"
            )
        else:
            workspace.import_files([directory / "merchant.csv"])
        return workspace.check(snapshot_id, snapshot).document()


SCENARIOS = [
    pytest.param(SandboxConfig(seed=1, records=700), 12, "7d", "daily", id="seed1-7d-daily"),
    pytest.param(SandboxConfig(seed=2, records=700), 12, "7d", "daily", id="seed2-7d-daily"),
    pytest.param(SandboxConfig(seed=3, records=1_200), 18, "7d", "daily", id="seed3-7d-daily"),
    pytest.param(SandboxConfig(seed=4, records=1_500), 20, "24h", "hourly", id="seed4-24h-hourly"),
    pytest.param(SandboxConfig(seed=5, records=800), 9, "24h", "daily", id="seed5-24h-daily"),
    pytest.param(
        SandboxConfig(seed=6, records=1_500, currencies=8), 27, "30d", "daily", id="seed6-30d-daily"
    ),
    pytest.param(
        SandboxConfig(seed=7, records=2_000, currencies=20),
        30,
        "30d",
        "hourly",
        id="seed7-30d-hourly-20",
    ),
    pytest.param(
        SandboxConfig(seed=8, records=800, break_invariant="wallet_balance"),
        9,
        "7d",
        "hourly",
        id="seed8-broken-wallet",
    ),
    pytest.param(
        SandboxConfig(seed=9, records=800, break_invariant="history_balance"),
        9,
        "7d",
        "daily",
        id="seed9-broken-history",
    ),
    pytest.param(
        SandboxConfig(seed=10, records=800, break_invariant="total_usd_value"),
        9,
        "7d",
        "daily",
        id="seed10-broken-usd",
    ),
]


@pytest.mark.parametrize(("config", "plants", "period", "interval"), SCENARIOS)
def test_the_engine_reports_exactly_the_expected_discrepancies(
    tmp_path: Path,
    db_path: Path | str,
    sandbox_factory: Factory,
    config: SandboxConfig,
    plants: int,
    period: str,
    interval: str,
) -> None:
    written = generate_scenario(
        tmp_path / "scenario", config, discrepancies=plants, period=period, interval=interval
    )
    served = SandboxConfig.from_scenario(tmp_path / "scenario" / "scenario.json")
    snapshot = fetch(sandbox_factory(served), period, interval)
    document = check(tmp_path / "scenario", snapshot, db_path)  # a file, then a server
    assert_report_matches(document, written.expected)
    assert written.expected["summary"]["errors"] > 0
    if config.break_invariant:
        assert written.expected["summary"]["by_kind"]["api_inconsistency"] >= 1


def test_saved_responses_and_the_bank_layout_reconcile_the_same(
    tmp_path: Path, sandbox_factory: Factory
) -> None:
    scenario = tmp_path / "scenario"
    written = generate_scenario(
        scenario, SandboxConfig(seed=11, records=900), discrepancies=10, bank_export=True
    )
    snapshot = fetch(
        sandbox_factory(SandboxConfig.from_scenario(scenario / "scenario.json")), "7d", "daily"
    )
    save(snapshot, tmp_path / "api")
    with Workspace(
        load_settings(environ={}), db_path=tmp_path / "check.db", clock=lambda: snapshot.as_of
    ) as workspace:
        snapshot_id, saved = workspace.load_saved_responses(tmp_path / "api")
        workspace.import_files(
            [scenario / "bank-export.csv"], mapping=scenario / "bank-export.toml"
        )
        document = workspace.check(snapshot_id, saved).document()
    assert_report_matches(document, written.expected)


def test_the_sample_data_reconciles_to_its_expected_report(
    tmp_path: Path, sandbox_factory: Factory
) -> None:
    scenario = json.loads((SAMPLE / "scenario.json").read_text(encoding="utf-8"))
    expected = json.loads((SAMPLE / "expected.json").read_text(encoding="utf-8"))
    running = sandbox_factory(SandboxConfig.from_scenario(SAMPLE / "scenario.json"))
    snapshot = fetch(running, scenario["period"], scenario["interval"])
    document = check(SAMPLE, snapshot, tmp_path / "check.db")
    assert_report_matches(document, expected)


def test_a_warm_start_computes_the_views_before_the_first_request() -> None:
    config = SandboxConfig(seed=424_242, records=300)
    with start_sandbox(config, warm=True) as running:
        before = compute_views.cache_info()
        httpx.get(f"{running.url}/user/balances/", headers=bearer(running.token))
        after = compute_views.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
