"""Fetch: the gateway's transaction listing, 10,000 transactions in 100 pages, 100 ms a request.

A loopback HTTP server in a process of its own (`benchmarks.listing_server`: requests
wait their 100 ms together, and its CPU is not the client's) serves the listing; the
product's client fetches it with the default settings (pages 2 to 100 in flight at once,
within the gateway's rate limit), against the same run's baseline: a listing of one page
from the same server. Fetched one page after another, 100 pages would take about 100
times as long; the target is 3 times.
Part of `python -m benchmarks` (the API section); `python -m benchmarks.fetch_speed
[REPEAT]` runs it alone.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import SecretStr

from benchmarks import REPO
from benchmarks.context import RunContext
from benchmarks.figures import Figure, Target
from benchmarks.listing_server import PAGE
from benchmarks.measure import clean_environment
from reconcile_tui.api.client import REQUESTS_PER_MINUTE, GatewayClient
from reconcile_tui.config import ApiSettings

__all__ = ["LATENCY_MS", "TRANSACTIONS", "measure_fetch", "measure_listing"]

TRANSACTIONS = 10_000
LATENCY_MS = 100
TARGET = 3.0


@contextmanager
def _listing_server(total: int) -> Iterator[str]:
    """The listing served by `benchmarks.listing_server`, in a process of its own."""
    command = [sys.executable, "-m", "benchmarks.listing_server", str(total), str(LATENCY_MS)]
    server = subprocess.Popen(
        command,
        cwd=REPO,
        env=clean_environment(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)


async def _fetch(url: str) -> tuple[float, int]:
    settings = {"url": url, "token": SecretStr("tok-benchmark-123456")}
    started = time.perf_counter()
    async with GatewayClient(ApiSettings.model_validate(settings)) as gateway:
        listing = await gateway.transactions()
    return time.perf_counter() - started, len(listing.transactions)


def measure_fetch(repeat: int = 3) -> dict[str, list[float]]:
    """Seconds per fetch of the whole listing and of a one-page listing, `repeat` times."""
    seconds: dict[str, list[float]] = {"listing": [], "one_page": []}
    for key, total in (("one_page", PAGE), ("listing", TRANSACTIONS)):
        with _listing_server(total) as url:
            for _ in range(repeat):
                elapsed, fetched = asyncio.run(_fetch(url))
                if fetched != total:
                    raise RuntimeError(f"fetched {fetched} of {total} transactions")
                seconds[key].append(elapsed)
    return seconds


def measure_listing(ctx: RunContext) -> list[Figure]:
    """The listing's figure for the suite's API section."""
    seconds = measure_fetch(ctx.repeat)
    ctx.log(f"api listing: {seconds['listing']}, one page {seconds['one_page']}")
    in_flight = min(TRANSACTIONS // PAGE - 1, REQUESTS_PER_MINUTE)
    return [
        Figure(
            section="API",
            key="api.listing",
            name=(
                f"{TRANSACTIONS:,} transactions in {TRANSACTIONS // PAGE} pages,"
                f" {LATENCY_MS} ms latency, default settings ({in_flight} pages in flight)"
            ),
            size=None,
            unit="s",
            samples=seconds["listing"],
            baseline_name="a one-page listing, same server and settings",
            baseline_samples=seconds["one_page"],
            target=Target(TARGET, "ratio", "≤ 3× one page"),
        )
    ]


def main() -> int:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    seconds = measure_fetch(repeat)
    listing = statistics.median(seconds["listing"])
    one_page = statistics.median(seconds["one_page"])
    print(
        f"{TRANSACTIONS:,} transactions in {TRANSACTIONS // PAGE} pages at {LATENCY_MS} ms:"
        f" {listing:.2f} s; one page {one_page:.2f} s;"
        f" {listing / one_page:.1f}x (target {TARGET:g}x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
