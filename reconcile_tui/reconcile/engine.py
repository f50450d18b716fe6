"""Running a reconciliation: every check family over one snapshot and the records."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from reconcile_tui.api.snapshot import GatewaySnapshot
from reconcile_tui.reconcile import checks
from reconcile_tui.reconcile.books import Books, load_books
from reconcile_tui.reconcile.causes import FoundCauses, find_causes
from reconcile_tui.reconcile.context import CheckContext
from reconcile_tui.reconcile.invariants import check_api_consistency
from reconcile_tui.reconcile.model import Cause, Discrepancy, Report
from reconcile_tui.reconcile.overview import build_overview
from reconcile_tui.reconcile.rules import Rules
from reconcile_tui.store import ledger
from reconcile_tui.store.acks import Acknowledgement
from reconcile_tui.store.db import Store
from reconcile_tui.times import utc_now

__all__ = ["CHECKS", "acknowledge", "reconcile"]

#: Every check family, in report order. Each yields discrepancies of its own kinds.
CHECKS: tuple[Callable[[CheckContext], Iterator[Discrepancy]], ...] = (
    lambda ctx: check_api_consistency(ctx.snapshot),
    checks.check_coverage,
    checks.check_wallets,
    checks.check_totals,
    checks.check_history,
    checks.check_duplicates,
    checks.check_stale_pending,
    checks.check_low_balance,
)


def reconcile(
    store: Store,
    snapshot: GatewaySnapshot,
    rules: Rules,
    acknowledgements: Mapping[str, Acknowledgement],
    *,
    generated_at: datetime | None = None,
    snapshot_id: int | None = None,
    books: Books | None = None,
) -> Report:
    """Compare the snapshot with the stored records; acknowledgements mark what was accepted."""
    # A stored record an older version let in (an impossible date, an amount too large to
    # be money) is named in one line instead of crashing the checks (docs/money.md).
    # Every figure from one state of the store, whoever writes meanwhile.
    with ledger.readable_records(store), store.reading():
        return _reconcile(
            store, snapshot, rules, acknowledgements, generated_at, snapshot_id, books
        )


def _reconcile(
    store: Store,
    snapshot: GatewaySnapshot,
    rules: Rules,
    acknowledgements: Mapping[str, Acknowledgement],
    generated_at: datetime | None,
    snapshot_id: int | None,
    books: Books | None,
) -> Report:
    books = books or load_books(store, snapshot, rules)
    ctx = CheckContext(snapshot=snapshot, books=books, rules=rules, store=store)
    found: list[Discrepancy] = []
    for check in CHECKS:
        found.extend(check(ctx))
    found.sort(key=Discrepancy.sort_key)
    causes = find_causes(ctx, found, rules.match_window)
    found, acknowledged_causes = acknowledge(found, causes, acknowledgements)

    for path, count in books.quarantined:
        rows = f"1 row of {path} is" if count == 1 else f"{count} rows of {path} are"
        ctx.note(f"{rows} quarantined and not counted")

    in_scope = {balance.currency for balance in snapshot.balances.balances} | set(books.currencies)
    report = Report(
        generated_at=generated_at or utc_now(),
        base_url=snapshot.base_url,
        fetched_at=snapshot.fetched_at,
        period=snapshot.period,
        interval=snapshot.interval,
        record_count=books.record_count,
        record_files=tuple(books.record_files),
        tolerances={code: rules.tolerance(code) for code in sorted(in_scope)},
        discrepancies=tuple(found),
        notes=tuple(ctx.notes),
        snapshot_id=snapshot_id,
        causes=tuple(acknowledged_causes),
        causes_of=causes.causes_of,
        unexplained=causes.unexplained,
    )
    figures = build_overview(ctx, found, report.first_divergence())
    return replace(report, overview=tuple(f.to_dict() for f in figures))


def acknowledge(
    found: list[Discrepancy],
    causes: FoundCauses,
    acknowledgements: Mapping[str, Acknowledgement],
) -> tuple[list[Discrepancy], list[Cause]]:
    """Mark what is accepted (docs/causes.md, "Acknowledgements"): a discrepancy by its own
    acknowledgement or when every cause it lists is acknowledged; a cause by its own, or
    when every discrepancy it explains is acknowledged by its own. `store/runs.py` applies
    the same rule when it reads a stored run."""

    def own(key: str, value: Decimal | None) -> bool:
        held = acknowledgements.get(key)
        return held is not None and held.covers(value)

    own_discrepancy = {d.id: own(d.id, d.difference) for d in found}
    own_cause = {c.id: own(c.id, c.amount) for c in causes.causes}
    marked = []
    for d in found:
        listed = causes.causes_of.get(d.id, ())
        covered = own_discrepancy[d.id] or (bool(listed) and all(own_cause[c] for c in listed))
        marked.append(replace(d, acknowledged=covered) if covered != d.acknowledged else d)
    marked_causes = []
    for cause in causes.causes:
        covered = own_cause[cause.id] or (
            bool(cause.explains) and all(own_discrepancy[d] for d in cause.explains)
        )
        marked_causes.append(replace(cause, acknowledged=covered))
    return marked, marked_causes
