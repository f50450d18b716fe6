"""Timing the gateway client inside one process: a whole snapshot against one request.

    python -m benchmarks.api_probe URL TOKEN REPEAT [CONCURRENCY]

prints one JSON line: the seconds of each `fetch_snapshot_sync` (balances, then every
currency's history) and of each single history request, both with the same settings and
each on a new client and event loop, as the CLI makes them. One untimed run of each
comes first (imports, the first connection).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable

from pydantic import SecretStr

from reconcile_tui.api.client import GatewayClient, fetch_snapshot_sync
from reconcile_tui.config import ApiSettings

__all__ = ["main"]

PERIOD, INTERVAL = "7d", "daily"


async def _one_history(api: ApiSettings, currency: str) -> None:
    async with GatewayClient(api) as gateway:
        await gateway.history(currency, PERIOD, INTERVAL)


def main(argv: list[str]) -> int:
    url, token, repeat = argv[0], argv[1], int(argv[2])
    settings: dict[str, object] = {"url": url, "token": SecretStr(token)}
    if len(argv) > 3:
        settings["concurrency"] = int(argv[3])
    api = ApiSettings.model_validate(settings)
    currencies: list[str] = []

    def snapshot() -> None:
        fetched = fetch_snapshot_sync(api, period=PERIOD, interval=INTERVAL)
        currencies[:] = sorted(fetched.histories)

    def single() -> None:
        asyncio.run(_one_history(api, currencies[0]))

    def timed(work: Callable[[], None]) -> float:
        start = time.perf_counter()
        work()
        return time.perf_counter() - start

    snapshot()
    single()
    seconds: dict[str, list[float]] = {"snapshot": [], "single": []}
    for repetition in range(repeat):
        order = ("snapshot", "single") if repetition % 2 == 0 else ("single", "snapshot")
        for name in order:
            seconds[name].append(timed(snapshot if name == "snapshot" else single))
    print(json.dumps({**seconds, "currencies": len(currencies), "concurrency": api.concurrency}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
