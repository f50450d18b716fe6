"""What each screen shows, read from the workspace in one call that a worker thread runs.

Nothing here imports textual: these functions take an open `Workspace`, read the store
(re-checking first when the stored run is out of date) and return plain frozen data that
a screen renders. Open counts are read live, so an acknowledgement shows at once without
a new check. Fetching and checking on the user's request is `checking.py`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reconcile_tui import money
from reconcile_tui.errors import NotFound
from reconcile_tui.reconcile.figures import CurrencyFigures, WalletFigures
from reconcile_tui.store.ledger import DuplicateRow, RecordFilter
from reconcile_tui.store.runs import CauseFilter, DiscrepancyFilter, FindingCounts, RunSummary
from reconcile_tui.times import parse_api_time, sql_bound

if TYPE_CHECKING:  # workers pass this in: nothing here loads the core's heavy parts
    from reconcile_tui.workspace import Workspace

__all__ = [
    "CurrencyView",
    "DataOrigin",
    "Overview",
    "WalletLists",
    "WalletView",
    "difference",
    "load_currency",
    "load_overview",
    "load_wallet",
    "open_counts",
    "wallet_duplicates",
    "wallet_lists",
]

#: Enough to hold every history finding of a 30-day hourly period (720 buckets x 5 fields).
HISTORY_FINDINGS_LIMIT = 5_000
#: Summary-level gateway inconsistencies are a handful; more would be listed on Discrepancies.
SUMMARY_FINDINGS_LIMIT = 20


@dataclass(frozen=True)
class DataOrigin:
    """Where the gateway figures on screen came from, and when."""

    base_url: str
    fetched_at: datetime
    period: str | None = None
    interval: str | None = None


@dataclass(frozen=True)
class Overview:
    """Everything the overview shows. `origin` None: no gateway data in the database yet."""

    origin: DataOrigin | None
    record_count: int
    record_files: tuple[str, ...]
    #: Open error and warning causes, and acknowledged ones, as they stand now: every
    #: screen counts causes, as `check` does, so one mistake counts once (docs/tui.md).
    status: FindingCounts | None = None
    currencies: tuple[CurrencyFigures, ...] = ()
    open_by_currency: dict[str, FindingCounts] = field(default_factory=dict)
    summary_findings: tuple[dict[str, Any], ...] = ()
    gateway_clock: datetime | None = None
    rechecked: bool = False
    run_id: int | None = None

    def usd_totals(self) -> tuple[Decimal | None, Decimal | None]:
        """(gateway USD value, USD difference) summed over the currencies that have one."""
        values = [Decimal(c.usd_value) for c in self.currencies if c.usd_value is not None]
        gaps = [Decimal(c.usd_difference) for c in self.currencies if c.usd_difference]
        return (money.total(values) if values else None, money.total(gaps) if gaps else None)


@dataclass(frozen=True)
class CurrencyView:
    """One currency: its figures, open counts per wallet, and which history cells disagree."""

    figures: CurrencyFigures
    origin: DataOrigin
    open_counts: FindingCounts
    open_by_wallet: dict[str, FindingCounts]
    #: (bucket timestamp, field) -> whether that finding is acknowledged.
    history_findings: dict[tuple[str, str], bool]
    tolerance: str | None = None


@dataclass(frozen=True)
class WalletView:
    """One wallet: both sides, the pending items' sum and gap, and its repeated references."""

    currency: CurrencyFigures
    wallet: WalletFigures
    gateway_clock: datetime | None
    stale_after: timedelta
    pending_sum: str | None
    pending_count: int
    pending_gap: str | None
    duplicate_count: int
    #: The wallet's causes (docs/causes.md), and what no cause explains of its gap.
    #: The first page of the wallet's causes, and how many there are in all.
    causes: tuple[dict[str, Any], ...] = ()
    cause_total: int = 0
    #: How many of them are `unexplained` remainders, and what they add up to.
    unexplained_count: int = 0
    unexplained: str | None = None

    def explanation(self) -> str:
        """`gap explained by 3 causes`, or the remainder no cause explains."""
        count = self.cause_total - self.unexplained_count
        named = f"{count:,} cause{'s' if count != 1 else ''}"
        if self.unexplained is not None:
            return f"unexplained {self.unexplained}" + (f" beyond {named}" if count else "")
        if count:
            return f"gap explained by {named}"
        return "no cause"

    @property
    def raw_wallets(self) -> tuple[tuple[str | None, str | None], ...]:
        return tuple(self.wallet.raw_wallets)


@dataclass(frozen=True)
class WalletLists:
    """The record filters behind a wallet's lists (pages are fetched by the tables)."""

    pending_items: RecordFilter
    since_divergence: RecordFilter | None
    pending_any: RecordFilter
    every_record: RecordFilter


def _latest_run(workspace: Workspace) -> RunSummary | None:
    try:
        return workspace.latest_run()
    except NotFound:
        return None


def difference(api: str | None, mine: str | None) -> str | None:
    """api - mine, exactly, as text (None when either side is unknown)."""
    if api is None or mine is None:
        return None
    return money.canonical(money.sub(Decimal(api), Decimal(mine)))


def open_counts(
    workspace: Workspace,
    currency: str | None = None,
    wallet_id: str | None = None,
    *,
    counts: dict[tuple[str | None, str | None], FindingCounts] | None = None,
) -> FindingCounts:
    """Open error and warning causes and acknowledged causes of the latest run: all of
    it, one currency, or one wallet of it. Pass `counts` to reuse one grouped query."""
    found = counts if counts is not None else workspace.cause_counts()
    return found.get((currency, wallet_id), FindingCounts())


def _origin(run: RunSummary) -> DataOrigin:
    api = run.header["api"]
    return DataOrigin(
        base_url=api["base_url"],
        fetched_at=parse_api_time(api["fetched_at"]),
        period=api.get("period"),
        interval=api.get("interval"),
    )


def load_overview(workspace: Workspace, *, recheck_when_stale: bool = True) -> Overview:
    """The overview, re-running the check first when the stored run is out of date.

    A run is out of date when a newer snapshot was stored or records were imported after
    it (say by the CLI); the check then runs here, in the worker, before anything shows.
    """
    newest = workspace.data_age()
    if newest is None:
        record_count, _ = workspace.records(RecordFilter(), limit=0)
        files = tuple(
            dict.fromkeys(
                str(row["path"]) for row in workspace.import_log() if row["undone_at"] is None
            )
        )
        return Overview(origin=None, record_count=record_count, record_files=files)

    # Out of date only when something arrived after the run: a snapshot fetched later, or
    # an import. A run on an older snapshot made after the newest was fetched (a period or
    # interval switch that reused a cached snapshot) is the one the user chose, and every
    # screen shows it; records imported since are checked on its snapshot (docs/tui.md,
    # "One state").
    rechecked = recheck_when_stale and workspace.check_again_if_out_of_date()
    run = _latest_run(workspace)
    assert run is not None  # a snapshot exists, so a check has just run if none had
    currencies = tuple(workspace.overview())
    counts = workspace.cause_counts()
    summary_level = workspace.discrepancy_page(
        DiscrepancyFilter(kind="api_inconsistency"), limit=SUMMARY_FINDINGS_LIMIT
    )[1]
    return Overview(
        origin=_origin(run),
        record_count=int(run.header["records"]["count"]),
        record_files=tuple(run.header["records"]["files"]),
        status=open_counts(workspace, counts=counts),
        currencies=currencies,
        open_by_currency={
            c.currency: open_counts(workspace, c.currency, counts=counts) for c in currencies
        },
        summary_findings=tuple(d for d in summary_level if d["currency"] is None),
        gateway_clock=workspace.snapshot_as_of(run.snapshot_id) if run.snapshot_id else None,
        rechecked=rechecked,
        run_id=run.id,
    )


def _figures(workspace: Workspace, code: str) -> CurrencyFigures:
    for figures in workspace.overview():
        if figures.currency == code:
            return figures
    raise NotFound(f"{code} is not in the latest check")


def load_currency(workspace: Workspace, code: str) -> CurrencyView:
    """One currency of the latest run, with live open counts and its history findings."""
    figures = _figures(workspace, code)
    run = workspace.latest_run()
    _, history = workspace.discrepancy_page(
        DiscrepancyFilter(kind="history_mismatch", currency=code), limit=HISTORY_FINDINGS_LIMIT
    )
    counts = workspace.cause_counts()
    return CurrencyView(
        figures=figures,
        origin=_origin(run),
        open_counts=open_counts(workspace, code, counts=counts),
        open_by_wallet={
            w.wallet_id: open_counts(workspace, code, w.wallet_id, counts=counts)
            for w in figures.wallets
        },
        history_findings={(d["bucket"], d["field"]): d["acknowledged"] for d in history},
        tolerance=run.header.get("tolerances", {}).get(code),
    )


def _gap(api: str | None, records: str | None, scale: int) -> str | None:
    if api is None:
        return None
    return money.show(money.sub(Decimal(api), Decimal(records or "0")), scale)


def wallet_lists(figures: CurrencyFigures, wallet: WalletFigures) -> WalletLists:
    """The record filters of a wallet's lists: pending items, since divergence, all."""
    raw = tuple(wallet.raw_wallets)
    base = RecordFilter(currency=figures.currency, raw_wallets=raw)
    since = None
    if figures.first_divergence:
        bound = sql_bound(parse_api_time(figures.first_divergence))
        since = RecordFilter(currency=figures.currency, raw_wallets=raw, since=bound)
    return WalletLists(
        pending_items=RecordFilter(
            currency=figures.currency, raw_wallets=raw, status="pending", type="deposit"
        ),
        since_divergence=since,
        pending_any=RecordFilter(currency=figures.currency, raw_wallets=raw, status="pending"),
        every_record=base,
    )


def wallet_duplicates(
    workspace: Workspace, currency: str, raw_wallets: tuple[tuple[str | None, str | None], ...]
) -> list[DuplicateRow]:
    """Repeated references of one wallet (matched on the wallet's raw id/name pairs)."""
    pairs = set(raw_wallets)
    return [
        row for row in workspace.duplicates(currency) if (row.wallet_id, row.wallet_name) in pairs
    ]


def load_wallet(workspace: Workspace, code: str, wallet_id: str) -> WalletView:
    """One wallet: pending items' sum against the gateway's pending, and what else to read."""
    figures = _figures(workspace, code)
    wallet = next((w for w in figures.wallets if w.wallet_id == wallet_id), None)
    if wallet is None:
        raise NotFound(f"wallet {wallet_id} of {code} is not in the latest check")
    lists = wallet_lists(figures, wallet)
    pending_count, _ = workspace.records(lists.pending_items, limit=0)
    pending_sum = workspace.records_total(lists.pending_items) if pending_count else None
    run = workspace.latest_run()
    gateway_clock = workspace.snapshot_as_of(run.snapshot_id) if run.snapshot_id else None
    cause_total, causes = workspace.cause_page(
        CauseFilter(currency=code, wallet_id=wallet_id), limit=200
    )
    # Counted and summed apart from the page: a wallet with more causes than a page still
    # says how many explain its gap and what is left (one `unexplained` per wallet).
    unexplained_count, left = workspace.cause_page(
        CauseFilter(kind="unexplained", currency=code, wallet_id=wallet_id), limit=10
    )
    remainders = [Decimal(c["amount"]) for c in left if c["amount"]]
    unexplained = (
        money.format_amount(money.total(remainders), figures.scale, grouping=True)
        if remainders
        else None
    )
    return WalletView(
        currency=figures,
        wallet=wallet,
        gateway_clock=gateway_clock,
        stale_after=workspace.rules().stale_threshold(code),
        pending_sum=pending_sum,
        pending_count=pending_count,
        pending_gap=_gap(wallet.api_pending, pending_sum, figures.scale),
        duplicate_count=len(wallet_duplicates(workspace, code, tuple(wallet.raw_wallets))),
        causes=tuple(causes),
        cause_total=cause_total,
        unexplained_count=unexplained_count,
        unexplained=unexplained,
    )
