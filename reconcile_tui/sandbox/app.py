"""The simulated gateway as an ASGI app: `create_app(config)` serves the gateway's endpoints
(docs/sandbox.md lists them).

    POST /o/token/                 client credentials -> bearer token (scope read/write)
    GET  /user/balances/           balances of every currency, with wallets and summary
    GET  /user/balances/history/   ?currency=&period=24h|7d|30d&interval=hourly|daily
    GET  /transactions/transactions/  ?page=&page_size=&type=&status=&currency=&date_from=&date_to=

Every error answers `{"error": {"code", "message", "details"}}` (the documented shape),
the token endpoint's included. A data request goes through, in order: the configured
latency (which every request gets), the rate limit, the injected failures, then
authentication (401 `authentication_failed`, 403 `permission_denied` without the read
scope). `history` without `currency` answers the account's first currency (the one
/user/balances/ lists first), naming it in the response; a currency the account does not
hold is 404 `not_found`. The transaction listing pages with `page`/`page_size` (docs/sandbox.md,
"The transaction listing"); a page past the last is 404 `not_found`, a bad parameter 400.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reconcile_tui.sandbox.auth import (
    KNOWN_SCOPES,
    AuthFailure,
    ClientCredentials,
    TokenBook,
    basic_credentials,
)
from reconcile_tui.sandbox.config import LedgerSpec, SandboxConfig
from reconcile_tui.sandbox.faults import Fault, FaultInjector
from reconcile_tui.sandbox.listing import Listing, ListingQuery, QueryError, compute_listing
from reconcile_tui.sandbox.views import GatewayViews, compute_views
from reconcile_tui.times import DEFAULT_INTERVAL, DEFAULT_PERIOD, INTERVALS, PERIODS, format_utc
from reconcile_tui.times import utc_now as wall_clock

__all__ = ["create_app", "error_response"]

_Built = TypeVar("_Built")

#: The `code` of an error answer, by HTTP status, for statuses the docs do not pin down.
_CODES = {
    400: "invalid_request",
    401: "authentication_failed",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    429: "rate_limit_exceeded",
}

Sleep = Callable[[float], Awaitable[None]]


def _invalid_query(problems: dict[str, str]) -> Response:
    """400 naming every bad query parameter, each with what is wrong with it."""
    return error_response(
        400,
        "invalid_request",
        f"Invalid query parameter{'s' if len(problems) > 1 else ''}: {', '.join(problems)}.",
        problems,
    )


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The gateway's documented error body."""
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return Response(_json(body), status_code=status, headers=headers, media_type="application/json")


def _json(document: object) -> bytes:
    return json.dumps(document, indent=2, ensure_ascii=False).encode() + b"\n"


def _error_code(status: int) -> str:
    return "server_error" if status >= 500 else _CODES.get(status, "bad_request")


class _Gateway:
    """One sandbox's state: its views, issued tokens, and fault counters."""

    def __init__(self, config: SandboxConfig, now: Callable[[], float], sleep: Sleep) -> None:
        self.config = config
        self.tokens = TokenBook(
            ClientCredentials(config.client_id, config.client_secret),
            static_token=config.static_token,
            ttl=config.token_ttl,
            now=now,
        )
        self.faults = FaultInjector(config, now)
        self._sleep = sleep
        self._views: GatewayViews | None = None
        self._views_lock = threading.Lock()
        self._listing: Listing | None = None
        self._rendered: dict[tuple[str, ...], bytes] = {}

    # -- shared steps ------------------------------------------------------------------

    async def _delay(self) -> None:
        if self.config.latency_ms:
            await self._sleep(self.config.latency_ms / 1000)

    def _fault_response(self, fault: Fault) -> Response:
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = self.faults.retry_after_header(fault.retry_after)
        if fault.reason == "rate_limit":
            message = f"Request was throttled. Expected available in {fault.retry_after} seconds."
        else:
            message = f"{HTTPStatus(fault.status).phrase} (injected by the sandbox)."
        return error_response(
            fault.status,
            _error_code(fault.status),
            message,
            {"injected": fault.reason},
            headers,
        )

    async def _admit(self, request: Request) -> Response | None:
        """Latency, faults and auth for a data request; an answer to give instead, or None."""
        await self._delay()
        fault = self.faults.check()
        if fault is not None:
            return self._fault_response(fault)
        try:
            self.tokens.authorize(
                request.headers.get("authorization"), request.headers.get("x-api-key"), "read"
            )
        except AuthFailure as failure:
            headers = {"WWW-Authenticate": 'Bearer realm="cryptofuse-sandbox"'}
            if failure.status == 403:
                headers = {}
            return error_response(
                failure.status, failure.code, failure.message, dict(failure.details), headers
            )
        return None

    async def views(self) -> GatewayViews:
        """The ledger's views, computed once (see `_off_the_loop`)."""
        if self._views is None:
            self._views = await self._off_the_loop(compute_views)
        return self._views

    async def listing(self) -> Listing:
        """The ledger's transaction listing, built once (see `_off_the_loop`)."""
        if self._listing is None:
            self._listing = await self._off_the_loop(compute_listing)
        return self._listing

    async def _off_the_loop(self, compute: Callable[[LedgerSpec], _Built]) -> _Built:
        """`compute(ledger)` in a worker thread, one at a time: a big ledger takes time,
        and the event loop keeps answering meanwhile."""

        def run() -> _Built:
            with self._views_lock:
                return compute(self.config.ledger)

        return await anyio.to_thread.run_sync(run)

    def _cached(self, key: tuple[str, ...], render: Callable[[], dict[str, Any]]) -> bytes:
        body = self._rendered.get(key)
        if body is None:
            body = self._rendered[key] = _json(render())
        return body

    # -- endpoints ---------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        await self._delay()
        try:
            form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return error_response(400, "invalid_request", "The form body is not UTF-8 text.")
        try:
            offered = basic_credentials(request.headers.get("authorization"))
            if offered is None and "client_id" in form:
                offered = ClientCredentials(form["client_id"], form.get("client_secret", ""))
            self.tokens.check_client(offered)
        except AuthFailure as failure:
            return error_response(
                failure.status,
                failure.code,
                failure.message,
                dict(failure.details),
                {"WWW-Authenticate": 'Basic realm="cryptofuse-sandbox"'},
            )
        grant_type = form.get("grant_type")
        if grant_type != "client_credentials":
            return error_response(
                400,
                "invalid_request",
                "Only the client_credentials grant is supported.",
                {"grant_type": f"must be client_credentials, not {grant_type!r}"},
            )
        requested = (form.get("scope") or "read").split()
        unknown = [scope for scope in requested if scope not in KNOWN_SCOPES]
        if unknown:
            return error_response(
                400,
                "invalid_request",
                f"Unknown scope {unknown[0]!r}.",
                {"scope": f"must be among {', '.join(KNOWN_SCOPES)}"},
            )
        scopes = frozenset(requested)
        token = self.tokens.issue(scopes)
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.tokens.ttl,
            "scope": " ".join(scope for scope in KNOWN_SCOPES if scope in scopes),
            "issued_at": format_utc(wall_clock().replace(microsecond=0)),
        }
        return Response(
            _json(body),
            media_type="application/json",
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    async def balances(self, request: Request) -> Response:
        refused = await self._admit(request)
        if refused is not None:
            return refused
        views = await self.views()
        breaker = self.config.break_invariant
        body = self._cached(("balances",), lambda: views.balances_document(breaker))
        return Response(body, media_type="application/json")

    async def history(self, request: Request) -> Response:
        refused = await self._admit(request)
        if refused is not None:
            return refused
        views = await self.views()
        query = request.query_params
        period = query.get("period", DEFAULT_PERIOD)
        interval = query.get("interval", DEFAULT_INTERVAL)
        problems = {}
        if period not in PERIODS:
            problems["period"] = f"{period!r} is not one of {', '.join(PERIODS)}"
        if interval not in INTERVALS:
            problems["interval"] = f"{interval!r} is not one of {', '.join(INTERVALS)}"
        if problems:
            return _invalid_query(problems)
        code = query.get("currency") or views.codes[0]
        if not views.holds(code):
            return error_response(
                404,
                "not_found",
                f"No balance history for currency {code!r}.",
                {"currency": code, "available": list(views.codes)},
            )
        breaker = self.config.break_invariant
        body = self._cached(
            ("history", code, period, interval),
            lambda: views.history_document(code, period, interval, breaker),
        )
        return Response(body, media_type="application/json")

    async def transactions(self, request: Request) -> Response:
        mode = self.config.transactions
        if mode == "absent":
            # As if this gateway had no such endpoint: the router's own 404.
            raise HTTPException(404)
        refused = await self._admit(request)
        if refused is not None:
            return refused
        if mode == "refused":
            return error_response(
                403,
                "permission_denied",
                "You do not have permission to list transactions.",
                {"path": request.url.path},
            )
        try:
            query = ListingQuery.parse(request.query_params)
        except QueryError as error:
            return _invalid_query(error.details)
        listing = await self.listing()

        def url_of_page(number: int) -> str:
            return str(request.url.include_query_params(page=number))

        page = listing.page(query, url_of_page)
        if page is None:
            return error_response(
                404,
                "not_found",
                "Invalid page.",
                {"page": query.page, "last_page": listing.last_page(query)},
            )
        return Response(_json(page), media_type="application/json")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: "Not found.", 405: f"Method {request.method} not allowed."}.get(
        exc.status_code, HTTPStatus(exc.status_code).phrase + "."
    )
    return error_response(
        exc.status_code,
        _error_code(exc.status_code),
        message,
        {"path": request.url.path},
        dict(exc.headers or {}),
    )


async def _server_error(request: Request, exc: Exception) -> Response:
    return error_response(500, "server_error", "Internal server error.", {"path": request.url.path})


def create_app(
    config: SandboxConfig | None = None,
    *,
    now: Callable[[], float] = time.time,
    sleep: Sleep = anyio.sleep,
) -> Starlette:
    """The sandbox gateway for `config` (defaults: seed 1, the clock docs/sandbox.md gives).

    `now` (wall-clock seconds: token expiry, rate-limit window, HTTP-dates) and `sleep`
    (the injected latency) are seams for tests; the ledger's clock is `config.clock`.
    """
    gateway = _Gateway(config or SandboxConfig(), now, sleep)
    app = Starlette(
        routes=[
            Route("/o/token/", gateway.token, methods=["POST"]),
            Route("/user/balances/", gateway.balances, methods=["GET"]),
            Route("/user/balances/history/", gateway.history, methods=["GET"]),
            Route("/transactions/transactions/", gateway.transactions, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.gateway = gateway
    return app
