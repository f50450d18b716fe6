"""Serving the sandbox over real HTTP on loopback: in a background thread, or in the foreground.

`start_sandbox` binds the socket itself before uvicorn starts, so the real port (of port
0) is known at once and a client connecting early simply waits in the listen backlog.
Only loopback addresses are accepted unless `allow_remote=True`: the sandbox publishes
its credentials and is meant for one machine.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from types import TracebackType
from typing import Final

import uvicorn

from reconcile_tui.errors import BadInput
from reconcile_tui.sandbox.app import create_app
from reconcile_tui.sandbox.config import SandboxConfig
from reconcile_tui.sandbox.views import compute_views

__all__ = ["RunningSandbox", "bind", "serve_forever", "start_sandbox", "url_of"]

#: How long start and stop may take before they give up (they normally take < 0.5 s).
STARTUP_TIMEOUT: Final = 10.0
SHUTDOWN_TIMEOUT: Final = 10.0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int, *, allow_remote: bool = False) -> socket.socket:
    """A listening TCP socket on host:port (port 0: any free one), or BadInput."""
    if not allow_remote and not _is_loopback(host):
        raise BadInput(
            f"--host {host} is not a loopback address; the sandbox serves only this machine"
            " (127.0.0.1 or ::1)"
        )
    if host == "localhost":
        host = "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise BadInput(f"cannot listen on {host}:{port} ({error.strerror or error})") from None
    return sock


def url_of(sock: socket.socket) -> str:
    """The base URL a bound socket serves."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _server(config: SandboxConfig) -> uvicorn.Server:
    settings = uvicorn.Config(
        create_app(config),
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        http="h11",
        loop="asyncio",
        timeout_graceful_shutdown=1,
    )
    return uvicorn.Server(settings)


class RunningSandbox:
    """A sandbox serving on loopback in a background thread. A context manager."""

    def __init__(self, config: SandboxConfig, sock: socket.socket) -> None:
        self.config = config
        self.url = url_of(sock)
        self._socket = sock
        self._server = _server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"sandbox {self.url}",
            daemon=True,
        )

    @property
    def client_id(self) -> str:
        return self.config.client_id

    @property
    def client_secret(self) -> str:
        return self.config.client_secret

    @property
    def token(self) -> str:
        """The static bearer token (read scope, never expires): CRYPTOFUSE_TOKEN's value."""
        if self.config.static_token is None:
            raise BadInput("this sandbox was started without a static token")
        return self.config.static_token

    def _start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive():
                self._socket.close()
                raise RuntimeError(f"the sandbox at {self.url} did not start")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the sandbox at {self.url} took too long to start")
            time.sleep(0.005)

    def stop(self) -> None:
        """Stop serving and wait for the thread (idempotent)."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(SHUTDOWN_TIMEOUT)
        self._socket.close()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<RunningSandbox {self.url} seed={self.config.seed}>"


def start_sandbox(
    config: SandboxConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    allow_remote: bool = False,
    warm: bool = False,
) -> RunningSandbox:
    """Serve `config` on host:port (0: a free port) in a background thread; returns once
    it accepts requests. Stop it with `.stop()` or by leaving the `with` block.

    `warm=True` computes the ledger's views before returning, so that the first request
    of a big ledger (a million records take seconds) is as fast as the rest.
    """
    config = config or SandboxConfig()
    if warm:
        compute_views(config.ledger)
    running = RunningSandbox(config, bind(host, port, allow_remote=allow_remote))
    running._start()
    return running


def serve_forever(sock: socket.socket, config: SandboxConfig) -> None:
    """Serve in the foreground on an already bound socket until Ctrl-C (or SIGTERM)."""
    try:
        _server(config).run(sockets=[sock])
    finally:
        sock.close()
