"""Random JSON shapes and hostile values at the response parser, live and saved, carried on
through storing and reconciling: only the product's own errors (exit 2 for saved files,
3 for the gateway), each one line, never anything else, and never a secret."""

from __future__ import annotations

import asyncio
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from reconcile_tui.api.client import fetch_snapshot
from reconcile_tui.config import ApiSettings, load_settings
from reconcile_tui.errors import ApiError, BadInput, ReconcileError
from reconcile_tui.redaction import register_secret
from reconcile_tui.workspace import Workspace
from tests.conftest import API_PAGE, PAGE_CLOCK

SECRET = "tok-FUZZ-secret-value-8812"

BALANCES = json.loads((API_PAGE / "balances.json").read_text())
HISTORY = json.loads((API_PAGE / "history_USDTERC20.json").read_text())

hostile_values = st.sampled_from(
    [
        "9" * 75,
        "-" + "9" * 31,
        "0." + "1" * 30,
        "1e5",
        "NaN",
        10**25,
        -1,
        2**64,
        1.5,
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:00:00-05:00",
        "2025-01-15T10:00:00",
        "../x",
        "a/b",
        "",
        SECRET,
        f"Bearer {SECRET}",
        "1y",
        "weekly",
    ]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10) | hostile_values,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


def _slots(document) -> list[tuple[object, object]]:
    found: list[tuple[object, object]] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            items = list(node.items())
        elif isinstance(node, list):
            items = list(enumerate(node))
        else:
            return
        for key, child in items:
            found.append((node, key))
            walk(child)

    walk(document)
    return found


@st.composite
def mutated(draw, document):
    """The page's example with a few values replaced by generated or hostile ones."""
    copy = json.loads(json.dumps(document))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        slots = _slots(copy)
        node, key = slots[draw(st.integers(min_value=0, max_value=len(slots) - 1))]
        node[key] = draw(json_values)  # type: ignore[index]
    return copy


metas = st.none() | st.dictionaries(
    st.sampled_from(["period", "interval", "fetched_at", "base_url"]),
    json_values | st.sampled_from(["7d", "daily", "2025-01-15T10:00:00Z"]),
    max_size=4,
)


def assert_one_clean_line(error: BaseException) -> None:
    text = str(error)
    assert "\n" not in text
    assert SECRET not in text


def reconcile_saved(directory: Path) -> None:
    with (
        tempfile.TemporaryDirectory() as scratch,
        Workspace(
            load_settings(environ={}), db_path=Path(scratch) / "r.db", clock=lambda: PAGE_CLOCK
        ) as workspace,
    ):
        snapshot_id, snapshot = workspace.load_saved_responses(directory)
        workspace.check(snapshot_id, snapshot)
        workspace.latest_snapshot()  # stored, it reads back


@pytest.fixture(scope="module", autouse=True)
def secret_known():
    register_secret(SECRET)


@pytest.mark.parametrize("where", ["currency", "wallet_id"])
def test_a_saved_response_quoting_a_secret_is_refused_without_showing_it(tmp_path, where):
    # Found by the test below: a saved body is masked as it is read, like a live one.
    balances = json.loads(json.dumps(BALANCES))
    if where == "currency":
        balances["balances"][0]["currency"] = SECRET
    else:
        balances["balances"][0]["wallets"][0]["wallet_id"] = SECRET
    (tmp_path / "history").mkdir()
    (tmp_path / "balances.json").write_text(json.dumps(balances))
    (tmp_path / "history" / "USDTERC20.json").write_text(json.dumps(HISTORY))
    try:
        reconcile_saved(tmp_path)
    except BadInput as error:
        assert_one_clean_line(error)
    with Workspace(load_settings(environ={}), db_path=tmp_path / "r.db") as workspace:
        try:
            workspace.load_saved_responses(tmp_path)
        except BadInput as error:
            assert SECRET not in str(error)
    assert SECRET.encode() not in (tmp_path / "r.db").read_bytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(balances=mutated(BALANCES), history=mutated(HISTORY), meta=metas)
def test_saved_responses_load_and_reconcile_or_fail_with_one_line_exit_2(balances, history, meta):
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        (directory / "history").mkdir()
        (directory / "balances.json").write_text(json.dumps(balances))
        (directory / "history" / "USDTERC20.json").write_text(json.dumps(history))
        if meta is not None:
            (directory / "meta.json").write_text(json.dumps(meta))
        try:
            reconcile_saved(directory)
        except BadInput as error:
            assert error.exit_code == 2
            assert_one_clean_line(error)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(balances=mutated(BALANCES), history=mutated(HISTORY))
def test_live_responses_fetch_store_and_reconcile_or_fail_with_one_line_exit_3(balances, history):
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/user/balances/":
            return httpx.Response(200, json=balances)
        asked = dict(history, currency=request.url.params.get("currency"))
        return httpx.Response(200, json=history if history.get("currency") is None else asked)

    api = ApiSettings(url="https://gw.test", token=SecretStr(SECRET), max_attempts=1)
    try:
        snapshot = asyncio.run(
            fetch_snapshot(
                api,
                period="7d",
                interval="daily",
                transport=httpx.MockTransport(answer),
                clock=lambda: datetime(2025, 1, 15, 10, tzinfo=UTC),
            )
        )
    except ApiError as error:
        assert error.exit_code == 3
        assert_one_clean_line(error)
        return
    with (
        tempfile.TemporaryDirectory() as scratch,
        Workspace(
            load_settings(environ={}), db_path=Path(scratch) / "r.db", clock=lambda: PAGE_CLOCK
        ) as workspace,
    ):
        try:
            snapshot_id = workspace.store_snapshot(snapshot)
            workspace.check(snapshot_id, snapshot)
            workspace.latest_snapshot()
        except ReconcileError as error:  # pragma: no cover - a finding, not an expectation
            pytest.fail(f"an accepted response failed later: {error}")
