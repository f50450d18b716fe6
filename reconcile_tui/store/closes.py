"""Sign-offs of closed periods, and the stored facts a close reads (docs/close.md).

The table is append-only: each sign-off keeps who, when, the note and the figures it
accepted (JSON, amounts as exact text). Whether it still stands is never stored: it is
worked out each time by comparing those figures with today's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reconcile_tui.store.db import Store, stored_json
from reconcile_tui.times import bucket_end, format_utc, interval_length, parse_api_time

__all__ = ["SignOff", "cause_times", "covering_snapshots", "record_sign_off", "sign_offs"]


@dataclass(frozen=True)
class SignOff:
    """Someone closed a period, accepting its figures, with a note."""

    first: str
    last: str
    signed_by: str
    signed_at: str
    note: str
    figures: dict[str, Any]
    open_causes: int


def record_sign_off(store: Store, sign_off: SignOff) -> None:
    """Append a sign-off, in one transaction."""
    with store.write() as conn:
        conn.execute(
            """INSERT INTO closes (period_from, period_to, signed_by, signed_at, note,
                   figures_json, open_causes) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (
                sign_off.first,
                sign_off.last,
                sign_off.signed_by,
                sign_off.signed_at,
                sign_off.note,
                json.dumps(sign_off.figures, sort_keys=True),
                sign_off.open_causes,
            ),
        )


def sign_offs(store: Store) -> list[SignOff]:
    """Every sign-off, oldest first."""
    rows = store.query(
        """SELECT period_from, period_to, signed_by, signed_at, note, figures_json, open_causes
           FROM closes ORDER BY id"""
    )
    return [
        SignOff(
            row[0], row[1], row[2], row[3], row[4], stored_json(row[5], "sign-off"), int(row[6])
        )
        for row in rows
    ]


def covering_snapshots(store: Store, starts_at: datetime, ends_at: datetime) -> dict[str, int]:
    """Per currency, the snapshot whose history a period's figures come from.

    It must hold a bucket ending exactly at `ends_at`, and have been taken once that
    bucket had ended by the gateway's clock (before, the bucket held part of its day);
    among those, one whose buckets start by `starts_at` (covering the whole period) wins,
    then the newest fetched."""
    rows = store.query(
        """SELECT s.id, s.fetched_at, s.interval, b.currency, min(b.timestamp), max(b.timestamp),
                  s.as_of
           FROM snapshots s JOIN snapshot_buckets b ON b.snapshot_id = s.id
           GROUP BY s.id, b.currency, s.fetched_at, s.interval, s.as_of"""
    )
    best: dict[str, tuple[tuple[bool, str, int], int]] = {}
    for snapshot_id, fetched_at, interval, currency, first, last, as_of in rows:
        if bucket_end(parse_api_time(last), interval) < ends_at or parse_api_time(as_of) < ends_at:
            continue
        closing = store.query_one(
            "SELECT 1 FROM snapshot_buckets WHERE snapshot_id = ? AND currency = ?"
            " AND timestamp = ?",
            (snapshot_id, currency, format_utc(ends_at - interval_length(interval))),
        )
        if closing is None or bucket_end(parse_api_time(first), interval) > ends_at:
            continue
        rank = (parse_api_time(first) <= starts_at, fetched_at, int(snapshot_id))
        if currency not in best or rank > best[currency][0]:
            best[currency] = (rank, int(snapshot_id))
    return {currency: snapshot_id for currency, (_rank, snapshot_id) in best.items()}


def newest_history_span(store: Store) -> tuple[datetime, datetime] | None:
    """Where the newest stored snapshot's history begins and ends (the end excluded), over
    all its currencies; None when nothing with a history was stored."""
    row = store.query_one(
        """SELECT s.interval, min(b.timestamp), max(b.timestamp), s.as_of
           FROM snapshots s JOIN snapshot_buckets b ON b.snapshot_id = s.id
           WHERE s.id = (SELECT max(snapshot_id) FROM snapshot_buckets)
           GROUP BY s.id, s.interval, s.as_of"""
    )
    if row is None:
        return None
    interval, first, last, as_of = row
    # The last bucket is still open at the gateway's clock: it covers up to that moment.
    return parse_api_time(first), min(
        bucket_end(parse_api_time(last), interval), parse_api_time(as_of)
    )


def newest_gateway_clock(store: Store) -> datetime | None:
    """The gateway's clock when the newest snapshot was taken, or None."""
    row = store.query_one("SELECT max(as_of) FROM snapshots")
    return parse_api_time(row[0]) if row and row[0] else None


def cause_times(store: Store, run_id: int, snapshot_id: int | None) -> dict[str, list[str]]:
    """Per cause of a run, the times it touches: its records' times, its gateway
    transactions' creation times, and the history buckets of the discrepancies it explains."""
    times: dict[str, list[str]] = {}
    for cause_id, time in store.query(
        """SELECT c.id, r.occurred_at FROM run_causes c CROSS JOIN json_each(c.refs) ref
               JOIN records r ON r.reference = ref.value
           WHERE c.run_id = ?
           UNION ALL
           SELECT c.id, t.created_at FROM run_causes c CROSS JOIN json_each(c.gateway_ids) g
               JOIN snapshot_transactions t ON t.snapshot_id = ? AND t.id = g.value
           WHERE c.run_id = ?
           UNION ALL
           SELECT c.id, d.bucket FROM run_causes c CROSS JOIN json_each(c.explains) e
               JOIN run_discrepancies d ON d.run_id = c.run_id AND d.id = e.value
           WHERE c.run_id = ? AND d.bucket IS NOT NULL""",
        (run_id, snapshot_id, run_id, run_id),
    ):
        times.setdefault(cause_id, []).append(time)
    return times
