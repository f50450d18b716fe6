"""Acknowledgements: who accepted which discrepancy's difference, when, and why.

The table is append-only (an audit trail); the newest acknowledgement of a discrepancy is
the one in force, and it lapses by itself when the discrepancy's difference changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from reconcile_tui.money import same_amount
from reconcile_tui.store.db import Store

__all__ = ["Acknowledgement", "acknowledgements", "history_of", "record_acknowledgement"]


@dataclass(frozen=True)
class Acknowledgement:
    """Someone accepted a discrepancy's difference, with a note."""

    discrepancy_id: str
    acknowledged_by: str
    acknowledged_at: str
    note: str
    difference: str | None

    def covers(self, difference: Decimal | None) -> bool:
        """Whether it still applies: only while the difference is the one accepted (the
        same rule decides it for a stored run, in `store.runs`)."""
        return same_amount(self.difference, difference)


def record_acknowledgement(
    store: Store,
    acknowledgement: Acknowledgement,
    *,
    kind: str,
    currency: str | None,
    message: str,
) -> None:
    """Append an acknowledgement (with what it was about, for the audit trail)."""
    with store.write() as conn:
        conn.execute(
            """INSERT INTO acknowledgements (discrepancy_id, acknowledged_by, acknowledged_at,
                   note, difference, kind, currency, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                acknowledgement.discrepancy_id,
                acknowledgement.acknowledged_by,
                acknowledgement.acknowledged_at,
                acknowledgement.note,
                acknowledgement.difference,
                kind,
                currency,
                message,
            ),
        )


def acknowledgements(store: Store) -> dict[str, Acknowledgement]:
    """The acknowledgement in force for each discrepancy id (the newest one)."""
    rows = store.query(
        """SELECT discrepancy_id, acknowledged_by, acknowledged_at, note, difference
           FROM acknowledgements a WHERE id = (
               SELECT max(id) FROM acknowledgements b WHERE b.discrepancy_id = a.discrepancy_id)"""
    )
    return {row[0]: Acknowledgement(*row) for row in rows}


def history_of(store: Store, discrepancy_id: str) -> list[Acknowledgement]:
    """Every acknowledgement ever made of one discrepancy, oldest first."""
    rows = store.query(
        """SELECT discrepancy_id, acknowledged_by, acknowledged_at, note, difference
           FROM acknowledgements WHERE discrepancy_id = ? ORDER BY id""",
        (discrepancy_id,),
    )
    return [Acknowledgement(*row) for row in rows]
