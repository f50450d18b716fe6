"""Pages through the gateway's transaction listing, concurrently where its count allows.

The rules (docs/api-client.md, "Transactions"):
- the first page is asked for with `page_size=100`; `next` is followed exactly as given,
  absolute or relative, and paging stops at null;
- when the first page's `count` and its size say how many pages there are and its `next`
  numbers pages (`page=2`), the other pages are fetched at once (the client bounds how
  many are in flight); otherwise, one after another;
- a `next` that names another origin (scheme, host or port: a gateway behind a proxy that
  writes its own inner address) is read as its query on the page's own URL, so the token
  never leaves the configured origin;
- a listing that never ends is refused: a `next` seen before, more pages than the
  largest count announced can fill, a count that more than doubles while it is read, or
  more than MAX_LISTED transactions;
- an id served twice (an item that slid onto the next page while the listing was read)
  is kept at its first appearance; the later copies are dropped and counted.
A refusal of the first page (401, 403, 404) is `ListingRefused`: the caller keeps a
balance-level snapshot. Any later failure fails the whole listing.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx

from reconcile_tui.api.failures import display_url, first_failure
from reconcile_tui.api.models import GatewayTransaction, TransactionsPage
from reconcile_tui.errors import ApiError

__all__ = [
    "MAX_LISTED",
    "PAGE_SIZE",
    "REFUSED_STATUSES",
    "TRANSACTIONS_PATH",
    "ListedPage",
    "Listing",
    "ListingRefused",
    "list_transactions",
]

log = logging.getLogger(__name__)

TRANSACTIONS_PATH = "/transactions/transactions/"
#: The most the gateway serves per page (reference notes): the fewest requests.
PAGE_SIZE = 100
#: The most transactions one listing may hold: far above a merchant's, far below harm.
MAX_LISTED = 5_000_000
#: How a gateway says it does not offer the listing to these credentials.
REFUSED_STATUSES = frozenset({401, 403, 404})


class ListingRefused(Exception):
    """The gateway refused or does not have the listing (its first page)."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class ListedPage:
    """One page as served: parsed, and each item's own bytes."""

    url: httpx.URL
    page: TransactionsPage
    items: list[bytes]

    def __post_init__(self) -> None:
        if len(self.items) != len(self.page.results):  # a bug in cutting, never input
            raise ValueError(f"{len(self.items)} items cut from {len(self.page.results)}")


@dataclass(frozen=True)
class Listing:
    """Every transaction listed, in the order served, each id once."""

    transactions: tuple[GatewayTransaction, ...]
    raw_items: tuple[bytes, ...]
    pages: int
    repeated: int
    """Items dropped because their id was served before."""


GetPage = Callable[[httpx.URL], Coroutine[Any, Any, ListedPage]]


def _same_origin(url: httpx.URL, origin: httpx.URL) -> bool:
    return (url.scheme, url.host, url.port) == (origin.scheme, origin.host, origin.port)


class _Pager:
    """The bounds one listing is held to while it is read."""

    def __init__(self, first: ListedPage) -> None:
        self.origin = first.url
        self.first_count = first.page.count
        self.largest_count = first.page.count
        self.page_size = max(len(first.page.results), 1)
        self.seen_urls = {str(first.url)}
        self.pages = 1
        self.items = len(first.page.results)
        #: Whether a `next` to another origin was read on this one (said once).
        self.rebased = False

    def follow(self, page: ListedPage) -> httpx.URL:
        """The URL `page.next` names, resolved against the page it came from; on another
        origin, its query on the page's own URL (docstring of this module)."""
        assert page.page.next is not None
        target = page.url.join(page.page.next)
        if _same_origin(target, self.origin):
            return target
        if not self.rebased:
            self.rebased = True
            configured = display_url(self.origin.copy_with(query=None))
            log.warning(
                "the transaction listing's next links name %s, not %s; each page is asked"
                " for at %s with the link's query",
                display_url(target.copy_with(query=None)),
                configured,
                configured,
            )
        return page.url.copy_with(query=target.query)

    def admit(self, url: httpx.URL) -> None:
        """ApiError when fetching `url` would mean the listing does not end."""
        shown = display_url(url)
        if str(url) in self.seen_urls:
            raise ApiError(
                f"the transaction listing never ends: {shown} is linked twice", url=shown
            )
        self.seen_urls.add(str(url))
        self.pages += 1
        fillable = math.ceil(self.largest_count / self.page_size) + 1
        if self.pages > fillable:
            raise ApiError(
                f"the transaction listing never ends: {shown} is page {self.pages}, more than"
                f" its count of {self.largest_count} fills at {self.page_size} a page",
                url=shown,
            )

    def record(self, page: ListedPage) -> None:
        """Count a page in, or ApiError when its count or the items run away."""
        shown = display_url(page.url)
        self.items += len(page.page.results)
        count = page.page.count
        if count > self.first_count * 2 + 1000:
            raise ApiError(
                f"the transaction listing keeps growing while it is read ({shown} counts"
                f" {count}, the first page {self.first_count}); try again later",
                url=shown,
            )
        if max(count, self.items) > MAX_LISTED:
            raise ApiError(
                f"{shown}: the transaction listing holds more than {MAX_LISTED:,}"
                " transactions; refusing to read it",
                url=shown,
            )
        self.largest_count = max(self.largest_count, count)


def _numbered_pages(first: ListedPage, pager: _Pager) -> list[httpx.URL] | None:
    """The URLs of pages 2..N when the first page says N and numbers its pages, else None."""
    if first.page.next is None:
        return None
    second = pager.follow(first)
    if second.params.get("page") != "2":
        return None
    total = math.ceil(first.page.count / pager.page_size)
    return [second.copy_set_param("page", str(number)) for number in range(2, total + 1)]


async def _gather(urls: list[httpx.URL], get_page: GetPage) -> list[ListedPage]:
    try:
        async with asyncio.TaskGroup() as group:
            tasks = []
            for url in urls:
                tasks.append(group.create_task(get_page(url)))
                # Let each page's request start before the next task is made: started all
                # at once, the first request left only once all 99 had opened connections,
                # and its answer came back that much later (docs/performance.md, "Fetch:
                # the transaction listing").
                await asyncio.sleep(0)
    except ExceptionGroup as failures:
        # One page failing stops the others; the user needs its one line.
        first = first_failure(failures)
        if first is None:
            raise
        raise first from None
    return [task.result() for task in tasks]


async def list_transactions(first_url: httpx.URL, get_page: GetPage) -> Listing:
    """Every page of the listing starting at `first_url` (docstring of this module)."""
    try:
        first = await get_page(first_url)
    except ApiError as error:
        if error.status in REFUSED_STATUSES:
            raise ListingRefused(error) from None
        raise
    pager = _Pager(first)
    pager.record(first)
    served = [first]
    numbered = _numbered_pages(first, pager)
    if numbered:
        for url in numbered:
            pager.admit(url)
        for page in await _gather(numbered, get_page):
            pager.record(page)
            served.append(page)
    # Sequentially from the last page served: the whole listing when its pages are not
    # numbered, or what was added while the numbered pages were read.
    last = served[-1]
    while last.page.next is not None:
        url = pager.follow(last)
        pager.admit(url)
        last = await get_page(url)
        pager.record(last)
        served.append(last)
    return _unique(served)


def _unique(served: list[ListedPage]) -> Listing:
    transactions = [item for page in served for item in page.page.results]
    raw = [item for page in served for item in page.items]
    if len({item.id for item in transactions}) == len(transactions):
        # The common case, each id once: nothing to drop (one set, not a loop of checks).
        return Listing(tuple(transactions), tuple(raw), len(served), 0)
    kept: list[GatewayTransaction] = []
    kept_raw: list[bytes] = []
    ids: set[str] = set()
    for item, item_raw in zip(transactions, raw, strict=True):  # aligned: ListedPage
        if item.id not in ids:
            ids.add(item.id)
            kept.append(item)
            kept_raw.append(item_raw)
    repeated = len(transactions) - len(kept)
    log.warning(
        "the transaction listing served %d ids more than once; the first copy of each is kept",
        repeated,
    )
    return Listing(tuple(kept), tuple(kept_raw), len(served), repeated)
