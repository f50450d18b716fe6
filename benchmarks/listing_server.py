"""A transaction listing served from its own process, each answer after a fixed latency.

`python -m benchmarks.listing_server TOTAL LATENCY_MS` prints its port on one line and
serves `GET /transactions/transactions/?page=N` (100 items a page, `next` numbered) until
its standard input closes. It runs in its own process so that the client being measured
never shares a core, or an interpreter, with the server answering it: on a machine of two
cores, a server thread in the client's process took the client's CPU and the measure was
of both. The server is one asyncio loop with the pages encoded in advance, so that its own
cost per request is small beside the latency it simulates.
"""

from __future__ import annotations

import asyncio
import json
import sys
from urllib.parse import parse_qs, urlsplit

__all__ = ["PAGE", "pages"]

PAGE = 100


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


def pages(total: int) -> dict[int, bytes]:
    """Each page's body, by page number."""
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


def _response(body: bytes, status: str = "200 OK") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


#: What a page past the last answers (the gateway does not document it; here a plain 404).
_NOT_FOUND = _response(b'{"detail": "Invalid page."}', "404 Not Found")


async def _serve(total: int, latency: float) -> None:
    answers = {number: _response(body) for number, body in pages(total).items()}

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode()
                number = int(parse_qs(urlsplit(target).query).get("page", ["1"])[0])
                await asyncio.sleep(latency)
                writer.write(answers.get(number, _NOT_FOUND))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, backlog=256)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    # Serve until whoever started us closes our standard input.
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


def main() -> int:
    total, latency_ms = int(sys.argv[1]), int(sys.argv[2])
    asyncio.run(_serve(total, latency_ms / 1000))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
