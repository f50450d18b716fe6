"""Fetch: the gateway's transaction listing, 10,000 transactions in 100 pages, 100 ms a request.

A loopback HTTP server in this process (threads, so concurrent requests wait their 100 ms
together) serves the listing; the product's client fetches it with the default settings,
against the same run's baseline: a listing of one page from the same server. Fetched one
page after another, 100 pages would take about 100 times as long; the target is 3 times.
Part of `python -m benchmarks` (the API section); `python -m benchmarks.fetch_speed
[REPEAT]` runs it alone.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from pydantic import SecretStr

from benchmarks.context import RunContext
from benchmarks.figures import Figure, Target
from reconcile_tui.api.client import GatewayClient
from reconcile_tui.config import ApiSettings

__all__ = ["LATENCY_MS", "TRANSACTIONS", "measure_fetch", "measure_listing"]

TRANSACTIONS = 10_000
LATENCY_MS = 100
PAGE = 100
TARGET = 3.0


def _item(number: int) -> dict[str, object]:
    return {
        "id": number,
        "type": "payment",
        "amount": f"{number}.50",
        "currency": "USDTERC20",
        "status": "completed",
        "created_at": "2025-01-14T10:00:00Z",
        "reference": f"ORD-{number}",
        "fee_amount": "0.50",
        "net_amount": f"{number}.00",
        "metadata": {"order_id": f"ORD-{number}", "confirmations": 12},
    }


def _pages(total: int) -> dict[int, bytes]:
    count = max(1, -(-total // PAGE))
    bodies = {}
    for number in range(1, count + 1):
        items = [_item(n) for n in range((number - 1) * PAGE + 1, min(number * PAGE, total) + 1)]
        link = f"/transactions/transactions/?page={number + 1}&page_size={PAGE}"
        body = {
            "count": total,
            "next": link if number < count else None,
            "previous": None,
            "results": items,
        }
        bodies[number] = json.dumps(body).encode()
    return bodies


@contextmanager
def _listing_server(total: int) -> Iterator[str]:
    bodies = _pages(total)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            time.sleep(LATENCY_MS / 1000)
            number = int(parse_qs(urlsplit(self.path).query).get("page", ["1"])[0])
            body = bodies[number]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def _fetch(url: str, concurrency: int | None) -> tuple[float, int]:
    settings: dict[str, object] = {"url": url, "token": SecretStr("tok-benchmark-123456")}
    if concurrency is not None:
        settings["concurrency"] = concurrency
    started = time.perf_counter()
    async with GatewayClient(ApiSettings.model_validate(settings)) as gateway:
        listing = await gateway.transactions()
    return time.perf_counter() - started, len(listing.transactions)


def measure_fetch(repeat: int = 3, concurrency: int | None = None) -> dict[str, list[float]]:
    """Seconds per fetch of the whole listing and of a one-page listing, `repeat` times."""
    seconds: dict[str, list[float]] = {"listing": [], "one_page": []}
    for key, total in (("one_page", PAGE), ("listing", TRANSACTIONS)):
        with _listing_server(total) as url:
            for _ in range(repeat):
                elapsed, fetched = asyncio.run(_fetch(url, concurrency))
                if fetched != total:
                    raise RuntimeError(f"fetched {fetched} of {total} transactions")
                seconds[key].append(elapsed)
    return seconds


def measure_listing(ctx: RunContext) -> list[Figure]:
    """The listing's figure for the suite's API section."""
    seconds = measure_fetch(ctx.repeat)
    ctx.log(f"api listing: {seconds['listing']}, one page {seconds['one_page']}")
    in_flight = ApiSettings().concurrency
    return [
        Figure(
            section="API",
            key="api.listing",
            name=(
                f"{TRANSACTIONS:,} transactions in {TRANSACTIONS // PAGE} pages,"
                f" {LATENCY_MS} ms latency, default settings ({in_flight} in flight)"
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
    for concurrency in (None, 32):
        seconds = measure_fetch(repeat, concurrency)
        listing = statistics.median(seconds["listing"])
        one_page = statistics.median(seconds["one_page"])
        shown = ApiSettings().concurrency if concurrency is None else concurrency
        print(
            f"{TRANSACTIONS:,} transactions in {TRANSACTIONS // PAGE} pages at {LATENCY_MS} ms,"
            f" {shown} in flight: {listing:.2f} s; one page {one_page:.2f} s;"
            f" {listing / one_page:.1f}x (target {TARGET:g}x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
