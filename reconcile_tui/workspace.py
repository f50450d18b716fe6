"""A workspace: one database plus the settings, and every action a user can take on it.

The CLI and the TUI are its only callers; it is the only place that strings the core
together (import -> store, fetch -> store, store -> reconcile -> runs). It is synchronous
and thread-safe enough for one workspace per thread: the TUI opens one per worker.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from reconcile_tui import report as reports
from reconcile_tui.api.snapshot import GatewaySnapshot, check_savable, load_saved, requested_codes
from reconcile_tui.api.snapshot import save as save_responses
from reconcile_tui.config import DEFAULT_KEY, Settings
from reconcile_tui.errors import BadInput, NotFound
from reconcile_tui.files import write_atomically
from reconcile_tui.money import ZERO
from reconcile_tui.reconcile.close import (
    OpenCausesInPeriod,
    Period,
    PeriodReview,
    changes,
    newest_covered,
    open_causes_in,
    parse_period,
    period_figures,
)
from reconcile_tui.reconcile.document import (
    CauseDocument,
    DiscrepancyDocument,
    ReportDocument,
    ReportHeader,
    with_findings,
)
from reconcile_tui.reconcile.engine import reconcile
from reconcile_tui.reconcile.figures import CurrencyFigures
from reconcile_tui.reconcile.model import Report, summarise, tally, tally_causes
from reconcile_tui.reconcile.rules import DEFAULT_STALE_AFTER, Rules
from reconcile_tui.redaction import mask_document
from reconcile_tui.store import acks, closes, ledger, runs, snapshots
from reconcile_tui.store import imports as staging
from reconcile_tui.store.db import NoDatabase, Store
from reconcile_tui.store.ledger import RecordFilter, RecordRow
from reconcile_tui.store.runs import DiscrepancyFilter, FindingCounts, RunSummary
from reconcile_tui.times import format_utc, parse_api_time, utc_now

if TYPE_CHECKING:
    from reconcile_tui.api.incremental import ListingSince
    from reconcile_tui.ingest.importer import ImportProgress, ImportResult
    from reconcile_tui.ingest.mapping import Layout
    from reconcile_tui.ingest.preview import Preview

__all__ = ["MIN_ID_PREFIX", "CheckOutcome", "FetchOutcome", "FetchRequest", "Workspace"]

log = logging.getLogger(__name__)

#: The fewest characters of a discrepancy id that `ack` accepts (docs/report.md).
MIN_ID_PREFIX = 6
#: Candidates an ambiguous id prefix lists.
_CANDIDATES_SHOWN = 5


@dataclass(frozen=True)
class FetchRequest:
    """What one fetch asks the gateway for, as the cache matches it."""

    period: str
    interval: str
    currencies: list[str] | None


@dataclass(frozen=True)
class FetchOutcome:
    """A snapshot ready to reconcile, and whether it came from the cache."""

    snapshot_id: int
    snapshot: GatewaySnapshot
    from_cache: bool
    saved: tuple[Path, ...] = ()
    """The files `save_to` wrote (the `check --api-dir` layout)."""


@dataclass(frozen=True)
class CheckOutcome:
    """A finished reconciliation: the report, and where it is stored."""

    report: Report
    run_id: int
    snapshot_id: int

    def document(self) -> ReportDocument:
        """The report document, with any known secret masked (docs/configuration.md)."""
        document: ReportDocument = mask_document(self.report.to_dict())
        return document


class Workspace:
    """The actions of reconcile-tui on one database."""

    def __init__(
        self,
        settings: Settings,
        *,
        db_path: Path | str | None = None,
        clock: Callable[[], datetime] = utc_now,
        create: bool = True,
        one_command: bool = False,
    ) -> None:
        """Open the workspace's database; `create=False` for the actions that only work on
        the findings of an earlier `check` (ack, export), which must not create one.
        `one_command`: the workspace is a command's whole use of the database (the command
        line), so a database it made is removed again when the command is refused before
        storing anything. The terminal app's workers share one database and never do."""
        self.settings = settings
        self.one_command = one_command
        self.db_path = db_path or settings.db_path
        self.clock = clock
        try:
            self.store = Store(
                self.db_path, busy_timeout=settings.store.busy_timeout, create=create
            )
        except NoDatabase as missing:
            # The store's own words name the database (a server's URL masked).
            raise NotFound(
                f"no check has run yet: {missing}; run `reconcile-tui check` first"
            ) from None

    def close(self) -> None:
        self.store.close()

    def holds_anything(self) -> bool:
        """Whether the database holds anything at all (the demo needs an empty one)."""
        return self.store.first_filled_table() is not None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is not None and self.one_command:
            # A refused or interrupted command (a file refused for its content, a gateway
            # out of reach) leaves no new, empty database behind (docs/reliability.md).
            self.store.close_unused()
        else:
            self.close()

    # -- rules -----------------------------------------------------------------------

    def rules(self) -> Rules:
        """The reconciliation thresholds from the settings."""
        configured = self.settings.reconcile
        tolerances = dict(configured.tolerance)
        stale = dict(configured.stale_pending_after)
        return Rules(
            tolerances={k: v for k, v in tolerances.items() if k != DEFAULT_KEY},
            default_tolerance=tolerances.get(DEFAULT_KEY, ZERO),
            stale_after={k: v for k, v in stale.items() if k != DEFAULT_KEY},
            default_stale_after=stale.get(DEFAULT_KEY, DEFAULT_STALE_AFTER),
            low_balance={k: v for k, v in configured.low_balance.items() if k != DEFAULT_KEY},
            default_low_balance=configured.low_balance.get(DEFAULT_KEY),
            match_window=configured.match_window,
        )

    # -- import ----------------------------------------------------------------------

    def import_files(
        self,
        paths: Sequence[Path],
        *,
        mapping: Path | Layout | None = None,
        quarantine: bool = False,
        dry_run: bool = False,
        on_progress: Callable[[ImportProgress], None] | None = None,
        is_cancelled: Callable[[], bool] | None = None,
        on_result: Callable[[ImportResult], None] | None = None,
    ) -> list[ImportResult]:
        """Import each file in its own all-or-nothing transaction, in order.

        Stops at the first refused file (BadFile): the files before it stay imported, and
        `on_result` has been told of each of them as it finished.
        """
        # Imported here: building the mapping's models is a tenth of a second that a check
        # without files never needs (docs/performance.md, "PostgreSQL").
        from reconcile_tui.ingest.importer import import_file
        from reconcile_tui.ingest.mapping import load_mapping

        layout = load_mapping(mapping) if isinstance(mapping, Path) else mapping
        scales = self.printed_scales()
        results = []
        for path in paths:
            result = import_file(
                self.store,
                path,
                layout,
                validation_scales=scales,
                quarantine=quarantine,
                dry_run=dry_run,
                now=self.clock(),
                on_progress=on_progress,
                is_cancelled=is_cancelled,
            )
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results

    def printed_scales(self) -> dict[str, int]:
        """Decimal places the gateway prints per currency, from the latest snapshot."""
        return snapshots.latest_printed_scales(self.store)

    # -- gateway snapshots -----------------------------------------------------------

    def load_saved_responses(self, directory: Path) -> tuple[int, GatewaySnapshot]:
        """Read `fetch --save`'s directory layout and store it as a snapshot."""
        return self.store_saved_responses(load_saved(directory))

    def store_saved_responses(self, snapshot: GatewaySnapshot) -> tuple[int, GatewaySnapshot]:
        """Store answers read by `read_saved_responses` as a snapshot."""
        return snapshots.save_snapshot(self.store, snapshot, source="saved"), snapshot

    @staticmethod
    def read_saved_responses(directory: Path) -> GatewaySnapshot:
        """Read `fetch --save`'s directory layout without storing it (BadInput if it
        cannot be used)."""
        return load_saved(directory)

    def store_snapshot(
        self, snapshot: GatewaySnapshot, currencies: Sequence[str] | None = None
    ) -> int:
        """Keep a freshly fetched snapshot."""
        return snapshots.save_snapshot(self.store, snapshot, source="api", currencies=currencies)

    def fetch(
        self,
        *,
        period: str | None = None,
        interval: str | None = None,
        currencies: Sequence[str] | None = None,
        refresh: bool = False,
        full_listing: bool = False,
        transport: Any = None,
        save_to: Path | None = None,
    ) -> FetchOutcome:
        """The gateway's balances and history: from the cache while fresh, else fetched.

        For synchronous callers (the CLI); the app awaits the same steps on its own event
        loop (`tui/checking.py`). With `save_to`, the responses are also written there,
        once everything is known to be writable: nothing is stored or written before that.
        The transaction listing is asked for only where it may have changed since the
        previous one, unless `full_listing` (or `api.full_listing`) says otherwise.
        """
        return self.fetch_first(
            period=period,
            interval=interval,
            currencies=currencies,
            refresh=refresh,
            full_listing=full_listing,
            transport=transport,
            save_to=save_to,
        )()

    def fetch_first(
        self,
        *,
        period: str | None = None,
        interval: str | None = None,
        currencies: Sequence[str] | None = None,
        refresh: bool = False,
        full_listing: bool = False,
        transport: Any = None,
        save_to: Path | None = None,
    ) -> Callable[[], FetchOutcome]:
        """`fetch`'s asking of the gateway now, and its storing when the returned function
        is called: `check --records` asks first, so a gateway that cannot be reached leaves
        the records' file unimported, and stores after the import (docs/api-client.md)."""
        from reconcile_tui.api.client import fetch_snapshot_sync

        request = self.fetch_request(period=period, interval=interval, currencies=currencies)
        cached = self.cached_fetch(request, refresh=refresh, save_to=save_to)
        if cached is not None:
            return lambda: cached
        snapshot = fetch_snapshot_sync(
            self.settings.api,
            period=request.period,
            interval=request.interval,
            currencies=request.currencies,
            listing_since=self.listing_since(full_listing=full_listing),
            transport=transport,
            clock=self.clock,
        )
        if save_to is not None:
            check_savable(snapshot)  # refused before anything is imported or stored
        return lambda: self.keep_fetched(request, snapshot, save_to=save_to)

    def fetch_request(
        self,
        *,
        period: str | None = None,
        interval: str | None = None,
        currencies: Sequence[str] | None = None,
    ) -> FetchRequest:
        """What a fetch asks the gateway for: the settings fill in what is not given."""
        api = self.settings.api
        return FetchRequest(
            period=period or api.period,
            interval=interval or api.interval,
            # The client asks for upper-case codes; the cache must match what it stored.
            currencies=sorted(requested_codes(currencies)) if currencies else None,
        )

    def listing_since(self, *, full_listing: bool = False) -> ListingSince | None:
        """Where the next fetch asks for the transaction listing from, given the newest
        listing stored from the same gateway; None for the whole listing: when asked,
        set, or when there is none to refresh (docs/api-client.md, "Incremental fetches")."""
        from reconcile_tui.api.incremental import listing_since

        if full_listing or self.settings.api.full_listing:
            return None
        previous = snapshots.previous_listing(self.store, self.settings.api.shown_url)
        if previous is None:
            return None
        try:
            transactions, raw = previous.load()
        except snapshots.DamagedSnapshot as damaged:
            log.info("listing the gateway in full: %s", damaged)
            return None
        return listing_since(previous.snapshot_id, transactions, raw)

    def cached_fetch(
        self, request: FetchRequest, *, refresh: bool = False, save_to: Path | None = None
    ) -> FetchOutcome | None:
        """A snapshot fetched less than `api.cache_ttl` seconds ago for the same gateway,
        period, interval and currencies (docs/configuration.md), or None: `refresh`
        bypasses the cache."""
        api = self.settings.api
        if refresh or api.cache_ttl <= 0:
            return None
        cached = snapshots.cached_snapshot(
            self.store,
            base_url=api.shown_url,
            period=request.period,
            interval=request.interval,
            currencies=request.currencies,
            fetched_since=self.clock() - timedelta(seconds=api.cache_ttl),
        )
        if cached is None:
            return None
        return FetchOutcome(cached[0], cached[1], from_cache=True, saved=_save(cached[1], save_to))

    def keep_fetched(
        self, request: FetchRequest, snapshot: GatewaySnapshot, *, save_to: Path | None = None
    ) -> FetchOutcome:
        """Store a snapshot just fetched for `request` (and write it to `save_to`)."""
        if save_to is not None:
            check_savable(snapshot)
        snapshot_id = self.store_snapshot(snapshot, request.currencies)
        return FetchOutcome(snapshot_id, snapshot, from_cache=False, saved=_save(snapshot, save_to))

    def latest_snapshot_id(self) -> int | None:
        """The id of the newest stored snapshot (cheap: nothing is parsed), or None."""
        origin = snapshots.latest_origin(self.store)
        return origin[0] if origin else None

    def latest_snapshot(self) -> tuple[int, GatewaySnapshot]:
        """The newest stored snapshot, or NotFound when nothing was ever fetched."""
        latest = snapshots.latest_snapshot(self.store)
        if latest is None:
            raise NotFound(
                f"database {self.store.path} holds no gateway data yet: run `reconcile-tui fetch`"
                " or `check --api-dir DIR` first"
            )
        return latest

    def snapshot_to_check(self) -> tuple[int, GatewaySnapshot] | None:
        """The snapshot a check run again reads: the newest, when it was fetched after the
        latest check or no check has run; else the latest check's own, so that records
        imported since are checked against the period and interval it chose (docs/tui.md,
        "One state"). None: nothing was ever fetched."""
        fetched = self._fetched_since_latest_check()
        if fetched is None:
            return None
        newer, run = fetched
        if newer or run is None or run.snapshot_id is None:
            return self.latest_snapshot()
        return run.snapshot_id, snapshots.load_snapshot(self.store, run.snapshot_id)

    def latest_check_is_out_of_date(self) -> bool:
        """Whether something arrived after the latest check: a snapshot fetched, or records
        imported (say by another person, or the CLI). False when nothing was fetched."""
        fetched = self._fetched_since_latest_check()
        if fetched is None:
            return False
        newer, run = fetched
        if newer or run is None:
            return True
        if run.checked is not None:
            # By what was stored, not by the clocks: another person's machine running
            # ahead made every check look out of date, and the app checked again on
            # every screen it opened.
            now = runs.store_state(self.store)
            return (now.latest_import, now.undone_imports) != (
                run.checked.latest_import,
                run.checked.undone_imports,
            )
        latest_import = self.import_log(limit=1)  # a run stored by an earlier release
        return bool(
            latest_import and str(latest_import[0]["imported_at"]) > run.header["generated_at"]
        )

    def _fetched_since_latest_check(self) -> tuple[bool, runs.RunSummary | None] | None:
        """Whether the newest snapshot was fetched after the latest check, and that check
        (None: no check yet, then every snapshot counts as newer); None when nothing was
        ever fetched. The one comparison both questions above ask."""
        newest = snapshots.latest_origin(self.store)
        if newest is None:
            return None
        run = runs.latest_run(self.store)
        if run is None:
            return True, None
        if run.checked is not None:
            stored = runs.store_state(self.store).latest_snapshot
            return stored > run.checked.latest_snapshot, run
        return newest[2] > parse_api_time(run.header["generated_at"]), run

    def check_again_if_out_of_date(self) -> bool:
        """Run the check again (on `snapshot_to_check`) when the latest is out of date;
        whether it ran."""
        if not self.latest_check_is_out_of_date():
            return False
        chosen = self.snapshot_to_check()
        if chosen is None:
            return False
        self.check(*chosen)
        return True

    # -- reconcile -------------------------------------------------------------------

    def check(self, snapshot_id: int, snapshot: GatewaySnapshot) -> CheckOutcome:
        """Reconcile the records against a stored snapshot and store the run."""
        # Read before the check: an import landing meanwhile makes the run look out of
        # date once more, never up to date with records it did not see.
        state = runs.store_state(self.store)
        report = reconcile(
            self.store,
            snapshot,
            self.rules(),
            acks.acknowledgements(self.store),
            generated_at=self.clock(),
            snapshot_id=snapshot_id,
        )
        document: ReportDocument = mask_document(report.to_dict())
        run_id = runs.save_run(
            self.store,
            report.header(),
            document["discrepancies"],
            snapshot_id=snapshot_id,
            overview=report.overview,
            causes=document["causes"],
            checked=state,
        )
        log.info("run #%s: %s", run_id, document["summary"])
        return CheckOutcome(report=report, run_id=run_id, snapshot_id=snapshot_id)

    def latest_run(self) -> RunSummary:
        run = runs.latest_run(self.store)
        if run is None:
            raise NotFound(
                f"no check has run yet on database {self.store.path}:"
                " run `reconcile-tui check` first"
            )
        return run

    def latest_document(self) -> ReportDocument:
        """The latest run as a report document, with acknowledgements as they stand now."""
        run = self.latest_run()
        # The store gives back what `Report.header` and the findings' `to_dict` wrote.
        header = cast(ReportHeader, run.header)
        found = cast(list[DiscrepancyDocument], runs.discrepancy_page(self.store, run.id))
        causes = cast(list[CauseDocument], runs.cause_page(self.store, run.id))
        # Acknowledgements made since the run change its counts, never its findings.
        stored = header["summary"]
        summary = summarise(
            tally((d["kind"], d["severity"], d["acknowledged"]) for d in found),
            tally_causes((c["kind"], c["severity"], c["acknowledged"]) for c in causes),
            stored.get("first_divergence", {}),
            stored.get("unexplained", {}),
        )
        return with_findings(header, summary, found, causes)

    def discrepancy_page(
        self, where: DiscrepancyFilter | None = None, *, offset: int = 0, limit: int = 100
    ) -> tuple[int, list[dict[str, Any]]]:
        """(total matching, one page) of the latest run's discrepancies."""
        run = self.latest_run()
        total = runs.count_discrepancies(self.store, run.id, where)
        return total, runs.discrepancy_page(self.store, run.id, where, offset=offset, limit=limit)

    def discrepancy_counts(self) -> dict[tuple[str | None, str | None], FindingCounts]:
        """Open errors, open warnings and acknowledged of the latest run, per (currency,
        wallet_id): (None, None) is the whole run, (currency, None) a currency's total."""
        return runs.counts_by_scope(self.store, self.latest_run().id)

    def snapshot_as_of(self, snapshot_id: int) -> datetime | None:
        """The gateway's own clock when a stored snapshot was taken (ages are measured on it)."""
        row = self.store.query_one("SELECT as_of FROM snapshots WHERE id = ?", (snapshot_id,))
        return parse_api_time(row[0]) if row else None

    def overview(self) -> list[CurrencyFigures]:
        """Both sides of each currency, wallet and bucket of the latest run, most material first."""
        run = self.latest_run()
        return [CurrencyFigures.from_dict(data) for data in runs.run_overview(self.store, run.id)]

    def records(
        self, where: RecordFilter, *, offset: int = 0, limit: int = 100
    ) -> tuple[int, list[RecordRow]]:
        """(total matching, one page) of stored records, oldest first."""
        return (
            ledger.records_count(self.store, where),
            ledger.records_page(self.store, where, offset=offset, limit=limit),
        )

    def records_total(self, where: RecordFilter) -> str | None:
        """The exact sum of the matching records' amounts."""
        return ledger.records_sum(self.store, where)

    def record_history(self, reference: str) -> list[tuple[str, str, str | None, str | None]]:
        """Every change newer exports made to one record."""
        return ledger.record_history(self.store, reference)

    def duplicates(self, currency: str | None = None) -> list[ledger.DuplicateRow]:
        """Repeated references still current (optionally of one currency)."""
        found = ledger.duplicates(self.store)
        return [row for row in found if currency is None or row.currency == currency]

    def preview(self, path: Path, mapping: Path | Layout | None = None, rows: int = 20) -> Preview:
        """The first rows of a CSV file as the import would read them."""
        from reconcile_tui.ingest.mapping import load_mapping  # as in import_files
        from reconcile_tui.ingest.preview import preview_file

        layout = load_mapping(mapping) if isinstance(mapping, Path) else mapping
        return preview_file(
            path, layout, rows=rows, validation_scales=self.printed_scales(), now=self.clock()
        )

    def data_age(self) -> tuple[str, datetime] | None:
        """Where and when the latest snapshot was fetched (for "data is N minutes old")."""
        origin = snapshots.latest_origin(self.store)
        return (origin[1], origin[2]) if origin else None

    def import_log(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest imports, newest first (the undone ones too: `undone_at` says)."""
        rows = self.store.query(
            "SELECT * FROM imports ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [dict(row) for row in rows]

    def undo_import(self, import_id: int, note: str, *, by: str | None = None) -> tuple[str, int]:
        """Take the latest import back (docs/mapping.md, "Taking an import back"): (its
        file, the records removed)."""
        if not note.strip():
            raise BadInput("undoing an import needs a note saying why (--note)")
        with self.store.write():
            return staging.undo_import(
                self.store,
                import_id,
                undone_at=format_utc(self.clock()),
                undone_by=by or _user(),
                note=note.strip(),
            )

    # -- acknowledge and export ------------------------------------------------------

    def acknowledge(self, id_or_prefix: str, note: str, *, by: str | None = None) -> dict[str, Any]:
        """Accept a cause or a discrepancy of the latest run (by id or unique id prefix),
        with a note. Accepting a cause covers every discrepancy it explains, while its
        amount stays the one accepted (docs/causes.md).

        The prefix is taken literally, must be `MIN_ID_PREFIX` characters or more and must
        name one cause or discrepancy: an empty `$ID` in a script must never accept
        anything (docs/reliability.md, acknowledgements)."""
        if not note.strip():
            raise BadInput("an acknowledgement needs a note saying why the difference is accepted")
        found = self._one_of_latest(id_or_prefix)
        accepted = found["amount"] if found["what"] == "cause" else found["difference"]
        acknowledgement = acks.Acknowledgement(
            discrepancy_id=found["id"],
            acknowledged_by=by or _user(),
            acknowledged_at=format_utc(self.clock()),
            note=note.strip(),
            difference=accepted,
        )
        acks.record_acknowledgement(
            self.store,
            acknowledgement,
            kind=found["kind"],
            currency=found["currency"],
            message=found["message"],
            run_id=found["run_id"],
        )
        return {**found, "acknowledged": True, "accepted": accepted}

    def withdraw_acknowledgement(
        self, id_or_prefix: str, note: str = "", *, by: str | None = None
    ) -> dict[str, Any]:
        """Withdraw the acknowledgement in force of a cause or a discrepancy of the latest
        run (the id resolved as `acknowledge` does). It no longer covers anything; the
        audit trail keeps it and the withdrawal (docs/tui.md, "Acknowledging")."""
        found = self._one_of_latest(id_or_prefix)
        held = acks.acknowledgement_in_force(self.store, found["id"])
        if held is None:
            raise BadInput(
                f"{found['what']} {found['id']} has no acknowledgement of its own to withdraw"
            )
        acks.withdraw_acknowledgement(
            self.store,
            acks.Acknowledgement(
                discrepancy_id=found["id"],
                acknowledged_by=by or _user(),
                acknowledged_at=format_utc(self.clock()),
                note=note.strip() or "withdrawn",
                difference=None,
            ),
        )
        refreshed = (runs.find_cause if found["what"] == "cause" else runs.find_discrepancy)(
            self.store, self.latest_run().id, found["id"], limit=1
        )
        return {**found, **refreshed[0], "withdrawn": held}

    def acknowledgement_of(self, item_id: str) -> acks.Acknowledgement | None:
        """The acknowledgement in force of one cause or discrepancy id (its own), if any,
        whether or not it still covers the current amount."""
        return acks.acknowledgement_in_force(self.store, item_id)

    def cause_page(
        self, where: runs.CauseFilter | None = None, *, offset: int = 0, limit: int = 100
    ) -> tuple[int, list[dict[str, Any]]]:
        """(total matching, one page) of the latest run's causes."""
        run = self.latest_run()
        total = runs.count_causes(self.store, run.id, where)
        return total, runs.cause_page(self.store, run.id, where, offset=offset, limit=limit)

    def cause_counts(self) -> dict[tuple[str | None, str | None], FindingCounts]:
        """Open errors, open warnings and acknowledged CAUSES of the latest run, per
        (currency, wallet_id) as `discrepancy_counts`: what `check` counts."""
        return runs.cause_counts_by_scope(self.store, self.latest_run().id)

    def record_by_reference(self, reference: str) -> RecordRow | None:
        """The stored record with this reference (with its file and line), if any."""
        row = self.store.query_one(
            """SELECT r.reference, r.occurred_at, r.currency, r.wallet_id, r.wallet_name,
                      r.type, r.amount, r.fee, r.status, r.tx_hash, i.path, r.line
               FROM records r JOIN imports i ON i.id = r.import_id WHERE r.reference = ?""",
            (reference,),
        )
        return RecordRow(*row) if row else None

    def gateway_transactions(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The latest run's snapshot's gateway transactions with these ids, as stored."""
        run = self.latest_run()
        if run.snapshot_id is None or not ids:
            return []
        marks = ", ".join("?" * len(ids))
        rows = self.store.query(
            f"""SELECT id, type, currency, status, amount, fee_amount, net_amount, created_at,
                       updated_at, reference, order_id, transaction_hash, blockchain_address
                FROM snapshot_transactions WHERE snapshot_id = ? AND id IN ({marks})
                ORDER BY position""",
            (run.snapshot_id, *ids),
        )
        return [dict(row) for row in rows]

    def _one_of_latest(self, id_or_prefix: str) -> dict[str, Any]:
        """The one cause or discrepancy of the latest run an id or prefix names, with
        `what` ("cause" or "discrepancy"); refused when too short, absent or ambiguous."""
        prefix = id_or_prefix.strip()
        if len(prefix) < MIN_ID_PREFIX:
            shown = f"{prefix!r} is too short" if prefix else "the id is empty"
            raise BadInput(
                f"{shown}: give at least {MIN_ID_PREFIX} characters of a discrepancy id or a"
                " cause id (the ids are in the report and the export)"
            )
        run = self.latest_run()
        wanted = _CANDIDATES_SHOWN + 1
        causes = runs.find_cause(self.store, run.id, prefix, limit=wanted)
        discrepancies = runs.find_discrepancy(self.store, run.id, prefix, limit=wanted)
        matches = [{**c, "what": "cause"} for c in causes] + [
            {**d, "what": "discrepancy"} for d in discrepancies
        ]
        exact = [found for found in matches if found["id"] == prefix]
        if not matches:
            raise NotFound(
                f"no discrepancy or cause {prefix!r} in the latest check (run #{run.id})"
            )
        if len(matches) > 1 and len(exact) != 1:
            candidates = ", ".join(
                f"{found['id']} ({found['kind']} {found['currency'] or 'summary'})"
                for found in matches[:_CANDIDATES_SHOWN]
            )
            more = " and more" if len(matches) > _CANDIDATES_SHOWN else ""
            raise BadInput(
                f"{prefix!r} matches several discrepancies or causes: {candidates}{more};"
                " give more of the id"
            )
        return {**(exact or matches)[0], "run_id": run.id}

    def export(self, path: Path, fmt: str = "csv", *, discrepancies: bool = False) -> int:
        """Write the latest run's causes (and, asked, its discrepancies) to `path`
        atomically, with each acknowledgement's note, who and when. Returns the rows of a
        CSV file, or the discrepancies of a JSON one (which holds every cause too)."""
        document = self.latest_document()
        in_force = acks.acknowledgements(self.store)
        for row in (*document["causes"], *document["discrepancies"]):
            # Its own acknowledgement, whether it still holds or lapsed when the amount
            # changed: an auditor sees who accepted what, and that it no longer covers it
            # (docs/report.md, "Export").
            held = in_force.get(row["id"])
            row["acknowledgement"] = (
                None
                if held is None
                else {
                    "by": held.acknowledged_by,
                    "at": held.acknowledged_at,
                    "note": held.note,
                    "accepted": held.difference,
                    "in_force": bool(row["acknowledged"]),
                }
            )
        if fmt == "csv":
            write_atomically(path, reports.export_csv(document, discrepancies=discrepancies))
            return len(document["causes"]) + (
                len(document["discrepancies"]) if discrepancies else 0
            )
        # JSON is the whole document, discrepancies always included (docs/report.md).
        write_atomically(path, reports.render_bytes(document, fmt))
        return len(document["discrepancies"])

    # -- month-end close (docs/close.md) ---------------------------------------------

    def newest_covered_period(self) -> Period | None:
        """The newest whole month (else the whole days) the newest stored history covers:
        where a close screen opens (docs/close.md)."""
        return newest_covered(closes.newest_history_span(self.store))

    def review_period(self, period: str | Period) -> PeriodReview:
        """A period's figures on both sides and its open causes (the latest check's)."""
        chosen = period if isinstance(period, Period) else parse_period(period)
        figures = period_figures(self.store, chosen, self.rules())
        run = self.latest_run()
        found = open_causes_in(
            chosen,
            runs.cause_page(self.store, run.id),
            closes.cause_times(self.store, run.id, run.snapshot_id),
        )
        return PeriodReview(chosen, figures, found)

    def close_period(
        self,
        period: str | Period,
        note: str,
        *,
        accept_open: bool = False,
        by: str | None = None,
    ) -> tuple[PeriodReview, closes.SignOff]:
        """Sign a period off with a note, keeping the figures it accepts. Refused (exit 1,
        nothing signed) while causes in it are open, unless `accept_open`."""
        if not note.strip():
            raise BadInput("a close needs a note saying what was checked")
        # A sign-off counts the open causes of a check of what is stored now: records
        # imported after the latest check would otherwise be signed unseen.
        self.check_again_if_out_of_date()
        review = self.review_period(period)
        if review.open_causes and not accept_open:
            count = len(review.open_causes)
            shown = ", ".join(c["id"] for c in review.open_causes[:_CANDIDATES_SHOWN])
            more = " and more" if count > _CANDIDATES_SHOWN else ""
            raise OpenCausesInPeriod(
                f"{count} open cause{'s' if count != 1 else ''} in {review.period.label}"
                f" ({shown}{more}); nothing signed: acknowledge them with `reconcile-tui ack"
                " ID --note ...`, or close with --accept-open",
                count=count,
                period=review.period.label,
            )
        sign_off = closes.SignOff(
            first=review.period.first.isoformat(),
            last=review.period.last.isoformat(),
            signed_by=by or _user(),
            signed_at=format_utc(self.clock()),
            note=note.strip(),
            figures=review.accepted(),
            open_causes=len(review.open_causes),
        )
        closes.record_sign_off(self.store, sign_off)
        return review, sign_off

    def sign_offs(self) -> list[dict[str, Any]]:
        """Every sign-off, oldest first, with whether it still stands: `lapsed` when
        today's figures for its period differ from the ones it accepted, or when the latest
        check has more open causes in it than it accepted, saying how."""
        listed = []
        today: dict[tuple[str, str], dict[str, Any] | str] = {}
        open_now: dict[tuple[str, str], int] = {}
        signed = closes.sign_offs(self.store)
        run = runs.latest_run(self.store)
        # The latest check's causes and their times, read once for every period.
        found = (
            (
                runs.cause_page(self.store, run.id),
                closes.cause_times(self.store, run.id, run.snapshot_id),
            )
            if run is not None and signed
            else None
        )
        for sign_off in signed:
            period = Period(date.fromisoformat(sign_off.first), date.fromisoformat(sign_off.last))
            key = (sign_off.first, sign_off.last)
            if key not in today:
                try:
                    now = period_figures(self.store, period, self.rules())
                    today[key] = {code: figures.to_dict() for code, figures in now.items()}
                except NotFound:
                    today[key] = f"no stored gateway history covers {period.label} any more"
                open_now[key] = len(open_causes_in(period, *found)) if found else 0
            current = today[key]
            said = (
                [current]
                if isinstance(current, str)
                else changes(period, sign_off.figures, current)
            )
            if open_now[key] > sign_off.open_causes:
                # A fee corrected, a transaction changed at the gateway, an acknowledgement
                # withdrawn: the balances may stand, but a mistake in the period is open
                # that the sign-off neither saw nor accepted (docs/close.md, "Lapsing").
                said.append(
                    f"{open_now[key]} open cause{'s' if open_now[key] != 1 else ''} in"
                    f" {period.label} at the latest check, {sign_off.open_causes} accepted"
                    " when it was signed"
                )
            listed.append(
                {
                    "from": sign_off.first,
                    "to": sign_off.last,
                    "state": "lapsed" if said else "signed",
                    "by": sign_off.signed_by,
                    "at": sign_off.signed_at,
                    "note": sign_off.note,
                    "figures": sign_off.figures,
                    "open_causes": sign_off.open_causes,
                    "lapsed_because": "; ".join(said) if said else None,
                }
            )
        return listed


def _save(snapshot: GatewaySnapshot, directory: Path | None) -> tuple[Path, ...]:
    return tuple(save_responses(snapshot, directory)) if directory is not None else ()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
