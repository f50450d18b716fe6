"""A gateway on a real loopback socket that answers what each test scripts, per path.

An answer is `(status, body)` or a function of the request's headers and query returning
one, so a test can echo the Authorization header back, as a hostile or careless gateway
might, or spoil the answer for one currency only.
Paths without a script answer the API page's examples (history for the currency asked).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.conftest import API_PAGE

Headers = Mapping[str, str]
Query = Mapping[str, list[str]]
Answer = tuple[int, bytes] | Callable[[Headers, Query], tuple[int, bytes]]

BALANCES = (API_PAGE / "balances.json").read_bytes()
HISTORY = (API_PAGE / "history_USDTERC20.json").read_bytes()


def history_for(currency: str) -> bytes:
    """The page's history example, answered for `currency`."""
    data = json.loads(HISTORY)
    data["currency"] = currency
    return json.dumps(data).encode()


def _default(path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
    if path == "/user/balances/":
        return 200, BALANCES
    if path == "/user/balances/history/":
        return 200, history_for(query.get("currency", ["USDTERC20"])[0])
    if path == "/o/token/":
        body = {"access_token": "issued-TOKEN-5521-abcdef", "token_type": "Bearer"}
        return 200, json.dumps(body).encode()
    return 404, b'{"detail": "Not found."}'


@contextmanager
def scripted_gateway(script: Mapping[str, Answer]) -> Iterator[str]:
    """Serve `script` on a free loopback port; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            parts = urlsplit(self.path)
            answer = script.get(parts.path)
            if answer is None:
                status, body = _default(parts.path, parse_qs(parts.query))
            elif callable(answer):
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, body = answer(headers, parse_qs(parts.query))
            else:
                status, body = answer
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _answer  # noqa: N815 (the name http.server calls)
        do_POST = _answer  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            pass  # the tests read the client's output, not the server's

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client that gave up mid-answer is what some tests provoke

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
