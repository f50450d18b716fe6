"""Fixtures for integration tests: the sandbox gateway on a real loopback socket.

`sandbox_server` is one sandbox for the whole session (default ledger: seed 1, 3000
records, the API page's clock), with `.url`, `.client_id`, `.client_secret` and `.token`
(the static bearer token, read scope). `sandbox_factory(config)` starts more, each on its
own free port, all stopped when the test ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from reconcile_tui.sandbox import RunningSandbox, SandboxConfig, start_sandbox


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
