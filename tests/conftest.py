"""Fixtures shared by every test: a fresh database file, a workspace, the fixture files,
and the sandbox gateway on a real loopback socket.

`sandbox_server` is one sandbox for the whole session (default ledger: seed 1, 3000
records, the API page's clock), with `.url`, `.client_id`, `.client_secret` and `.token`
(the static bearer token, read scope). `sandbox_factory(config)` starts more, each on its
own free port, all stopped when the test ends.

`postgres_server` is one PostgreSQL server for the session (a URL: `RECONCILE_TEST_POSTGRES`
when set, else a throwaway cluster of our own); `postgres_url` is a new, empty database on
it for one test, dropped afterwards. The fault helpers are in `tests/postgres.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconcile_tui.config import load_settings
from reconcile_tui.sandbox import RunningSandbox, SandboxConfig, start_sandbox
from reconcile_tui.store.db import Store
from reconcile_tui.workspace import Workspace
from tests import postgres

FIXTURES = Path(__file__).parent / "fixtures"
API_PAGE = FIXTURES / "api_page"
SCENARIO = FIXTURES / "scenario"

#: The gateway's clock in the API page's examples; imports run "now" relative to it.
PAGE_CLOCK = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)

DEFAULT_HEADER = "reference,occurred_at,currency,wallet_id,type,amount,fee,status,tx_hash\n"
WALLET_A = "550e8400-e29b-41d4-a716-446655440000"
WALLET_B = "660e8400-e29b-41d4-a716-446655440001"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_path(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """The test's database, on each store: a SQLite file, then (the same test again) a new
    database on the PostgreSQL server (docs/postgresql.md)."""
    if request.param == "sqlite":
        return tmp_path / "reconcile.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    """A SQLite database file, for what only a file has (permissions, locks, damage)."""
    return tmp_path / "reconcile.db"


@pytest.fixture
def store(db_path: Path | str) -> Iterator[Store]:
    with Store(db_path) as opened:
        yield opened


@pytest.fixture
def workspace(db_path: Path | str) -> Iterator[Workspace]:
    with Workspace(load_settings(environ={}), db_path=db_path, clock=lambda: PAGE_CLOCK) as opened:
        yield opened


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write text (str, or bytes taken as-is) to a CSV file in tmp_path; returns its path."""

    def write(text: str | bytes, name: str = "records.csv") -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", newline="")
        return path

    return write


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[RunningSandbox]:
    with start_sandbox(SandboxConfig()) as running:
        yield running


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[[SandboxConfig], RunningSandbox]]:
    started: list[RunningSandbox] = []

    def start(config: SandboxConfig) -> RunningSandbox:
        running = start_sandbox(config)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    try:
        with postgres.server_for_tests() as url:
            yield url
    except postgres.NoPostgres as missing:
        pytest.fail(str(missing), pytrace=False)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    with postgres.fresh_database(postgres_server) as url:
        yield url


@pytest.fixture
def en_us_postgres_url(postgres_server: str) -> Iterator[str]:
    """A server database whose default collation is ICU's en-US, as many servers set up
    for people are (the test cluster's own is C)."""
    with postgres.fresh_database(postgres_server, icu_locale="en-US") as url:
        yield url
