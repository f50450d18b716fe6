"""A loopback HTTP server that misbehaves on purpose: resets mid-body, drips slowly.

Real sockets, because these faults live below what a mock transport can show: the client
must notice a half-sent body or a server that never finishes, and give up in bounded time.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

BODY = b'{"balances": [{"currency": "USDTERC20", "total_balance": "1.000000"'

# SO_LINGER on with a zero timeout: close() sends a TCP reset instead of a clean end.
_RESET = struct.pack("ii", 1, 0)


def _head(length: int) -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _answer(connection: socket.socket, behaviour: str, stop: threading.Event) -> None:
    connection.recv(65536)  # the request; its content does not matter here
    if behaviour == "reset":
        connection.sendall(_head(len(BODY) * 4) + BODY)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
    elif behaviour == "drip":
        connection.sendall(_head(100_000))
        for _ in range(600):  # at most a minute: a byte every 0.1 s
            if stop.is_set():
                break
            connection.sendall(b" ")
            time.sleep(0.1)


def _serve(listener: socket.socket, behaviour: str, stop: threading.Event) -> None:
    listener.settimeout(0.1)
    while not stop.is_set():
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        # OSError: the client hung up, which is exactly what these tests provoke.
        with connection, contextlib.suppress(OSError):
            connection.settimeout(5)
            _answer(connection, behaviour, stop)


@contextmanager
def misbehaving(behaviour: str) -> Iterator[str]:
    """A server on a free loopback port; yields its URL. `behaviour`: reset or drip."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()
    thread = threading.Thread(target=_serve, args=(listener, behaviour, stop), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()
