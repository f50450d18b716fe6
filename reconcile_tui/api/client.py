"""The gateway client: fetches balances, each currency's history and the transaction
listing within one deadline.

`fetch_snapshot` is what the rest of the product calls; `GatewayClient` is the same work
one request at a time, for callers that need finer control (and for tests, which inject a
transport and a wall clock). Every failure leaves here as an `ApiError` (exit 3).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import date, datetime
from types import TracebackType
from typing import Self, TypedDict, Unpack

import httpx

from reconcile_tui import __version__
from reconcile_tui.api.auth import credentials_from_settings
from reconcile_tui.api.failures import (
    RETRYABLE_STATUSES,
    RetryableError,
    display_url,
    first_failure,
    status_error,
    transport_error,
)
from reconcile_tui.api.incremental import ListingSince, merged
from reconcile_tui.api.listing import (
    PAGE_SIZE,
    TRANSACTIONS_PATH,
    ListedPage,
    Listing,
    ListingRefused,
    list_transactions,
)
from reconcile_tui.api.models import (
    BalancesResponse,
    HistoryResponse,
    parse_balances,
    parse_history,
    parse_transactions,
)
from reconcile_tui.api.raw_items import raw_results
from reconcile_tui.api.responses import (
    MAX_BODY_BYTES,
    parse_data,
    read_body,
    read_error_body,
)
from reconcile_tui.api.retry import (
    Deadline,
    RetryPolicy,
    call_with_retries,
    loop_time,
    parse_retry_after,
)
from reconcile_tui.api.snapshot import GatewaySnapshot, requested_codes
from reconcile_tui.bulk import collection_paused
from reconcile_tui.config import ApiSettings
from reconcile_tui.errors import ApiError, BadInput
from reconcile_tui.times import INTERVALS, PERIODS, utc_now

__all__ = [
    "FetchOptions",
    "GatewayClient",
    "fetch_snapshot",
    "fetch_snapshot_sync",
    "timeouts",
]

log = logging.getLogger(__name__)

BALANCES_PATH = "/user/balances/"
HISTORY_PATH = "/user/balances/history/"
#: The gateway's documented rate limit, requests a minute (docs/api-client.md, "Requests in
#: flight"): the most requests ever in flight at once, whatever else bounds them.
REQUESTS_PER_MINUTE = 100


def timeouts(api: ApiSettings) -> httpx.Timeout:
    """The per-request limits: connect and read as configured.

    Writing a GET (or the small token POST) and waiting for a pooled connection are both
    short, so they share the connect limit instead of growing settings of their own.
    """
    return httpx.Timeout(
        connect=api.connect_timeout,
        read=api.read_timeout,
        write=api.connect_timeout,
        pool=api.connect_timeout,
    )


def _check_choice(value: str, choices: Sequence[str], name: str) -> None:
    if value not in choices:
        raise BadInput(f"{name} must be one of {', '.join(choices)}, not {value!r}")


def _currencies_to_fetch(balances: BalancesResponse, requested: Sequence[str] | None) -> list[str]:
    """The requested codes (even those the balances omit), else every code reported."""
    if requested is not None:
        return requested_codes(requested)
    return list(dict.fromkeys(balance.currency for balance in balances.balances))


class GatewayClient:
    """One connection pool to the gateway, with credentials, retries and one deadline.

    Use as `async with GatewayClient(api) as gateway:`; the deadline (`api.deadline`)
    starts on entry and covers every request made inside. At most `api.concurrency`
    balances and history requests are in flight at once, and at most REQUESTS_PER_MINUTE
    requests of any kind, the listing's pages included. `balances()` and `history()`
    return the parsed model and the exact bytes the gateway sent.
    """

    def __init__(
        self,
        api: ApiSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] = utc_now,
        auth: httpx.Auth | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.api = api
        self._transport = transport
        self._clock = clock
        # Checked here, before any connection, so missing credentials fail at once.
        self.auth = auth or credentials_from_settings(api, monotonic=loop_time, clock=clock)
        self._max_body_bytes = max_body_bytes
        self._timeout = timeouts(api)
        self._policy = RetryPolicy(
            max_attempts=api.max_attempts, retry_after_cap=api.retry_after_cap
        )
        self._http: httpx.AsyncClient | None = None
        self._deadline: Deadline | None = None
        self._slots: asyncio.Semaphore | None = None
        self._in_flight: asyncio.Semaphore | None = None

    def __repr__(self) -> str:
        return f"GatewayClient(url={self.api.url!r}, auth={self.auth!r})"

    async def __aenter__(self) -> Self:
        self._http = httpx.AsyncClient(
            base_url=self.api.shown_url,
            auth=self.auth,
            timeout=self._timeout,
            transport=self._transport,
            limits=httpx.Limits(
                # one more than the requests in flight, for a token request among them
                max_connections=REQUESTS_PER_MINUTE + 1,
                # Enough to reuse for the balances and histories; the listing's burst of
                # connections is closed as each goes idle, because the pool's work each
                # time a request starts or ends grows with the idle ones it keeps
                # (docs/performance.md, "Fetch: the transaction listing").
                max_keepalive_connections=self.api.concurrency,
            ),
            headers={"Accept": "application/json", "User-Agent": f"reconcile-tui/{__version__}"},
            # A redirect would carry the request (and, same-origin, its token) somewhere
            # the user did not configure; say so instead.
            follow_redirects=False,
        )
        self._deadline = Deadline(self.api.deadline)
        self._slots = asyncio.Semaphore(self.api.concurrency)
        self._in_flight = asyncio.Semaphore(REQUESTS_PER_MINUTE)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.aclose()
        self._http = None

    async def balances(self) -> tuple[BalancesResponse, bytes]:
        """GET /user/balances/: every currency's balances, and the raw body."""
        response, body, url = await self._get(BALANCES_PATH)
        balances = parse_data(parse_balances, body, response, url)
        log.info("fetched balances of %d currencies from %s", len(balances.balances), url)
        return balances, body

    async def history(
        self, currency: str, period: str, interval: str
    ) -> tuple[HistoryResponse, bytes]:
        """GET /user/balances/history/ for one currency, and the raw body."""
        _check_choice(period, PERIODS, "period")
        _check_choice(interval, INTERVALS, "interval")
        params = {"currency": currency, "period": period, "interval": interval}
        response, body, url = await self._get(HISTORY_PATH, params)
        history = parse_data(parse_history, body, response, url)
        answered = (history.currency or currency, history.period, history.interval)
        if answered != (currency, period, interval):
            raise ApiError(
                f"{url}: asked for {currency} {period} {interval}, the gateway answered "
                f"{' '.join(answered)}",
                status=response.status_code,
                url=url,
            )
        if history.currency is None:  # as when loading a saved snapshot: name it
            history = history.model_copy(update={"currency": currency})
        log.info("fetched %d %s history buckets from %s", len(history.history), currency, url)
        return history, body

    async def transactions(self, date_from: date | None = None) -> Listing:
        """GET /transactions/transactions/, every page (docs/api-client.md, "Transactions"),
        or only those created from `date_from` on.

        Raises ListingRefused when the gateway refuses or lacks the listing (401, 403 or
        404 on its first page), ApiError for anything else that goes wrong on any page."""
        http, _, _ = self._opened()
        params = {"page_size": str(PAGE_SIZE)}
        if date_from is not None:
            params["date_from"] = date_from.isoformat()
        first = http.build_request("GET", TRANSACTIONS_PATH, params=params)
        # Ten thousand transactions make five times as many small objects, all kept: the
        # collector would walk the whole heap again meanwhile (docs/performance.md,
        # "Fetch: the transaction listing").
        with collection_paused():
            listing = await list_transactions(first.url, self._transactions_page)
        log.info("fetched %d transactions in %d pages", len(listing.transactions), listing.pages)
        return listing

    async def _transactions_page(self, url: httpx.URL) -> ListedPage:
        # Bounded by the rate limit alone, not by `concurrency`: a listing's pages are
        # asked for at once (docs/api-client.md, "Requests in flight").
        response, body, shown = await self._get(url, listing_page=True)
        page = parse_data(parse_transactions, body, response, shown)
        return ListedPage(url=url, page=page, items=raw_results(body))

    async def _transactions_or_note(
        self, since: ListingSince | None
    ) -> tuple[Listing | None, str | None, date | None]:
        """The listing (only what may have changed `since` a previous one, merged with
        it, and the date it was asked from), or None and why when the gateway does not
        offer it to us."""
        try:
            if since is not None:
                changed = await self._changed_listing(since)
                if changed is not None:
                    return changed, None, since.date_from
            return await self.transactions(), None, None
        except ListingRefused as refused:
            log.info("no transaction listing: %s", refused.error)
            return None, f"transactions not fetched: {refused.error}", None

    async def _changed_listing(self, since: ListingSince) -> Listing | None:
        """The listing from `since.date_from` merged with the previous one, or None (ask
        for all) when the gateway refuses the filter or counts another number of
        transactions than the merge holds (docs/api-client.md, "Incremental fetches")."""
        try:
            listing = merged(since, await self.transactions(since.date_from))
        except ApiError as error:
            if error.status != 400:
                raise
            # A gateway that does not take the documented filter.
            log.warning(
                "the gateway refused the transaction listing from %s (%s); listing every"
                " transaction",
                since.date_from.isoformat(),
                error,
            )
            return None
        # One item of the whole listing, for its count: a transaction removed before the
        # range asked for, or added there since, shows as a difference.
        http, _, _ = self._opened()
        whole = http.build_request("GET", TRANSACTIONS_PATH, params={"page_size": "1"})
        count = (await self._transactions_page(whole.url)).page.count
        if count != len(listing.transactions):
            log.warning(
                "the gateway lists %d transactions; the previous listing and those created"
                " from %s on make %d: listing every transaction",
                count,
                since.date_from.isoformat(),
                len(listing.transactions),
            )
            return None
        return listing

    async def snapshot(
        self,
        *,
        period: str,
        interval: str,
        currencies: Sequence[str] | None = None,
        listing_since: ListingSince | None = None,
    ) -> GatewaySnapshot:
        """The balances, then every currency's history and the transaction listing
        concurrently, as one snapshot; with `listing_since`, the listing is asked for only
        from its date and merged with the previous one (`api/incremental.py`)."""
        _check_choice(period, PERIODS, "period")
        _check_choice(interval, INTERVALS, "interval")
        fetched_at = self._clock()
        balances, balances_raw = await self.balances()
        codes = _currencies_to_fetch(balances, currencies)
        histories: dict[str, HistoryResponse] = {}
        histories_raw: dict[str, bytes] = {}
        try:
            async with asyncio.TaskGroup() as group:
                tasks = {
                    code: group.create_task(self.history(code, period, interval)) for code in codes
                }
                listing_task = group.create_task(self._transactions_or_note(listing_since))
        except ExceptionGroup as failures:
            # One currency failing stops the others; the user needs its one line, not
            # a group of them.
            first = first_failure(failures)
            if first is None:
                raise
            raise first from None
        for code, task in tasks.items():
            histories[code], histories_raw[code] = task.result()
        listing, note, listed_from = listing_task.result()
        return GatewaySnapshot(
            balances=balances,
            histories=histories,
            fetched_at=fetched_at,
            base_url=self.api.shown_url,
            period=period,
            interval=interval,
            balances_raw=balances_raw,
            histories_raw=histories_raw,
            transactions=listing.transactions if listing else None,
            transactions_raw=listing.raw_items if listing else None,
            transactions_note=note,
            listing_from=listed_from,
        )

    def _opened(self) -> tuple[httpx.AsyncClient, Deadline, asyncio.Semaphore]:
        if self._http is None or self._deadline is None or self._slots is None:
            raise RuntimeError("use GatewayClient inside `async with`")
        return self._http, self._deadline, self._slots

    async def _get(
        self,
        path: str | httpx.URL,
        params: dict[str, str] | None = None,
        *,
        listing_page: bool = False,
    ) -> tuple[httpx.Response, bytes, str]:
        http, deadline, slots = self._opened()
        assert self._in_flight is not None  # set with the others on entry
        request = http.build_request("GET", path, params=params)
        url = display_url(request.url)

        async def attempt() -> tuple[httpx.Response, bytes]:
            return await self._send(http, request, url)

        # The slots are held across retries and waits, so a struggling gateway never sees
        # more requests from us than the bounds, retries included. Always taken in this
        # order (`concurrency`, then the rate limit), so no two requests wait on each other.
        bound: AbstractAsyncContextManager[object] = nullcontext() if listing_page else slots
        async with bound, self._in_flight:
            response, body = await call_with_retries(
                attempt, what=f"fetching {url}", policy=self._policy, deadline=deadline
            )
        return response, body, url

    async def _send(
        self, http: httpx.AsyncClient, request: httpx.Request, url: str
    ) -> tuple[httpx.Response, bytes]:
        """One attempt: the 2xx body, or the error (`RetryableError` when worth another try)."""
        try:
            response = await http.send(request, stream=True)
            try:
                log.debug("%s answered %d", url, response.status_code)
                if response.is_success:
                    return response, await read_body(response, url, self._max_body_bytes)
                body = await read_error_body(response)
            finally:
                await response.aclose()
        except httpx.TransportError as error:
            raise transport_error(error, url, self._timeout) from error
        except httpx.DecodingError as error:
            raise ApiError(f"{url}: the body could not be decoded ({error})", url=url) from error
        failure = status_error(response, body, url)
        if response.status_code in RETRYABLE_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
            raise RetryableError(failure, retry_after)
        raise failure


class FetchOptions(TypedDict, total=False):
    """What a snapshot fetch may be told besides the settings, period and interval: which
    currencies (all by default), and for tests a transport and a wall clock."""

    currencies: Sequence[str] | None
    listing_since: ListingSince | None
    transport: httpx.AsyncBaseTransport | None
    clock: Callable[[], datetime]


async def fetch_snapshot(
    api: ApiSettings, *, period: str, interval: str, **options: Unpack[FetchOptions]
) -> GatewaySnapshot:
    """Fetch the balances and every currency's history (or only `currencies`) as a snapshot.

    At most `api.concurrency` balances and history requests are in flight, and at most
    REQUESTS_PER_MINUTE requests in all (the listing's pages); the whole call gives up after
    `api.deadline` seconds. Raises ApiError (exit 3) for anything the gateway or the
    network did wrong, BadInput for a period or interval the API does not know.
    """
    transport = options.get("transport")
    clock = options.get("clock", utc_now)
    async with GatewayClient(api, transport=transport, clock=clock) as gateway:
        return await gateway.snapshot(
            period=period,
            interval=interval,
            currencies=options.get("currencies"),
            listing_since=options.get("listing_since"),
        )


def fetch_snapshot_sync(
    api: ApiSettings, *, period: str, interval: str, **options: Unpack[FetchOptions]
) -> GatewaySnapshot:
    """`fetch_snapshot` for synchronous callers (the CLI): runs it on a new event loop."""
    return asyncio.run(fetch_snapshot(api, period=period, interval=interval, **options))
