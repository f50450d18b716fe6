"""The built-in Cryptofuse sandbox: a simulated gateway over a synthetic ledger, and scenarios.

    config = SandboxConfig(seed=7, records=5_000)
    app = create_app(config)                      # ASGI: mount with httpx.ASGITransport
    with start_sandbox(config) as running:        # real HTTP on loopback, any free port
        running.url, running.client_id, running.client_secret, running.token
    generate_scenario(Path("out"), config, discrepancies=10, bank_export=True)

See docs/sandbox.md.
"""

from __future__ import annotations

from reconcile_tui.sandbox.app import create_app
from reconcile_tui.sandbox.config import DEFAULT_CLOCK, LedgerSpec, SandboxConfig
from reconcile_tui.sandbox.generate import GeneratedScenario, generate_scenario
from reconcile_tui.sandbox.ledger import Transaction, transactions
from reconcile_tui.sandbox.plants import PlantKind
from reconcile_tui.sandbox.server import RunningSandbox, start_sandbox
from reconcile_tui.sandbox.views import GatewayViews, compute_views

__all__ = [
    "DEFAULT_CLOCK",
    "GatewayViews",
    "GeneratedScenario",
    "LedgerSpec",
    "PlantKind",
    "RunningSandbox",
    "SandboxConfig",
    "Transaction",
    "compute_views",
    "create_app",
    "generate_scenario",
    "start_sandbox",
    "transactions",
]
