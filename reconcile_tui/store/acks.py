"""Acknowledgements: who accepted which discrepancy's difference, when, and why.

The table is append-only (an audit trail); the newest acknowledgement of a discrepancy is
the one in force, and it lapses by itself when the discrepancy's difference changes. A
withdrawal is one more row, of kind `WITHDRAWN`: while it is the newest, nothing is in
force, and the history keeps both (docs/tui.md, "Acknowledging").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from reconcile_tui.errors import DatabaseError
from reconcile_tui.money import same_amount
from reconcile_tui.store.db import Store

__all__ = [
    "WITHDRAWN",
    "Acknowledgement",
    "NewerCheck",
    "acknowledgement_in_force",
    "acknowledgements",
    "history_of",
    "record_acknowledgement",
    "withdraw_acknowledgement",
]

#: The kind of a row that withdraws the acknowledgement before it.
WITHDRAWN = "withdrawn"


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


class NewerCheck(DatabaseError):
    """A check stored a newer run while an acknowledgement was being made, and that run
    no longer holds what was accepted: nothing is recorded (exit 4; docs/postgresql.md)."""


def record_acknowledgement(
    store: Store,
    acknowledgement: Acknowledgement,
    *,
    kind: str,
    currency: str | None,
    message: str,
    run_id: int | None = None,
) -> None:
    """Append an acknowledgement (with what it was about, for the audit trail).

    `run_id` is the run it was read from: when a newer check landed in between, it is
    recorded only if the newest run still holds that id at the accepted amount, so a
    race with another person's `check` never accepts what nobody looked at."""
    with store.write() as conn:
        if run_id is not None:
            _still_holds(store, acknowledgement, run_id)
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


def _still_holds(store: Store, acknowledgement: Acknowledgement, run_id: int) -> None:
    newest = store.conn.execute("SELECT max(id) FROM runs").fetchone()[0]
    if newest is None or int(newest) == run_id:
        return
    item = acknowledgement.discrepancy_id
    rows = store.conn.execute(
        """SELECT amount FROM run_causes WHERE run_id = ? AND id = ?
           UNION ALL SELECT difference FROM run_discrepancies WHERE run_id = ? AND id = ?""",
        (newest, item, newest, item),
    ).fetchall()
    if not rows:
        why = "which no longer finds it"
    elif not acknowledgement.covers(None if rows[0][0] is None else Decimal(rows[0][0])):
        why = f"where its amount is now {rows[0][0]}"
    else:
        return
    raise NewerCheck(
        f"a newer check (run #{newest}) was stored while {item} was being acknowledged, {why}:"
        " nothing was recorded; look at the new findings and acknowledge again"
    )


# The newest acknowledgement of each id, unless it is a withdrawal.
_IN_FORCE = """SELECT discrepancy_id, acknowledged_by, acknowledged_at, note, difference
   FROM acknowledgements a WHERE id = (
       SELECT max(id) FROM acknowledgements b WHERE b.discrepancy_id = a.discrepancy_id)
     AND kind != ?"""


def acknowledgements(store: Store) -> dict[str, Acknowledgement]:
    """The acknowledgement in force for each discrepancy id (the newest one)."""
    rows = store.query(_IN_FORCE, (WITHDRAWN,))
    return {row[0]: Acknowledgement(*row) for row in rows}


def acknowledgement_in_force(store: Store, discrepancy_id: str) -> Acknowledgement | None:
    """The acknowledgement in force for one id, as `acknowledgements` has it, read alone."""
    row = store.query_one(f"{_IN_FORCE} AND a.discrepancy_id = ?", (WITHDRAWN, discrepancy_id))
    return Acknowledgement(*row) if row else None


def history_of(store: Store, discrepancy_id: str) -> list[Acknowledgement]:
    """Every acknowledgement ever made of one discrepancy, oldest first."""
    rows = store.query(
        """SELECT discrepancy_id, acknowledged_by, acknowledged_at, note, difference
           FROM acknowledgements WHERE discrepancy_id = ? ORDER BY id""",
        (discrepancy_id,),
    )
    return [Acknowledgement(*row) for row in rows]


def withdraw_acknowledgement(store: Store, withdrawal: Acknowledgement) -> None:
    """Withdraw the acknowledgement in force of `withdrawal.discrepancy_id` (a cause's or
    a discrepancy's id): a row of kind `WITHDRAWN` saying who, when and why, after which
    that acknowledgement no longer covers anything; the history keeps both rows."""
    with store.write() as conn:
        conn.execute(
            """INSERT INTO acknowledgements (discrepancy_id, acknowledged_by, acknowledged_at,
                   note, difference, kind, currency, message)
               VALUES (?, ?, ?, ?, NULL, ?, NULL, ?)""",
            (
                withdrawal.discrepancy_id,
                withdrawal.acknowledged_by,
                withdrawal.acknowledged_at,
                withdrawal.note,
                WITHDRAWN,
                "acknowledgement withdrawn",
            ),
        )
