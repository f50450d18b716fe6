"""Reconciliation runs: each `check` stores its report, so the TUI, `ack` and `export`
can page through the latest findings without recomputing them.

A run's rows are the report's discrepancy and cause objects (amounts as canonical text).
Whether one is acknowledged is decided when it is read, against the acknowledgements in
force now, so an `ack` shows at once in the TUI and in `export`. The rule is the engine's
(`reconcile.engine.acknowledge`, docs/causes.md): a discrepancy is acknowledged by its own
acknowledgement or when every cause it lists is; a cause by its own, or when every
discrepancy it explains is acknowledged by its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from reconcile_tui.store.acks import WITHDRAWN
from reconcile_tui.store.db import LIKE_LITERAL, Store, literal_pattern, stored_json

__all__ = [
    "DISCREPANCY_FIGURES",
    "DISCREPANCY_KEYS",
    "DISCREPANCY_SCOPE",
    "CauseFilter",
    "DiscrepancyFilter",
    "FindingCounts",
    "RunSummary",
    "StoreState",
    "cause_counts_by_scope",
    "cause_page",
    "count_causes",
    "count_discrepancies",
    "counts_by_scope",
    "discrepancy_page",
    "find_cause",
    "find_discrepancy",
    "latest_run",
    "run_overview",
    "save_run",
    "store_state",
]

#: The report's discrepancy object (docs/report.md), the one list of its keys that every
#: writer and the stored run read: what it is and where, then the figures it compares
#: (each may be null), then `references`, `message`, `acknowledged` and `causes`.
DISCREPANCY_SCOPE = ("id", "kind", "severity", "currency", "wallet_id")
DISCREPANCY_FIGURES = (
    "bucket",
    "field",
    "api_value",
    "merchant_value",
    "difference",
    "usd_difference",
)
DISCREPANCY_KEYS = (
    *DISCREPANCY_SCOPE,
    *DISCREPANCY_FIGURES,
    "references",
    "message",
    "acknowledged",
    "causes",
)

#: LIMIT for "no limit", read the same by both databases.
_ALL = 2**62

#: The keys stored as plain columns of `run_discrepancies`; the rest are encoded.
_COLUMNS = (*DISCREPANCY_SCOPE, *DISCREPANCY_FIGURES)


def _own(alias: str, value: str) -> str:
    """SQL: the newest acknowledgement of `alias.id` accepted `alias.value` (by the rule
    `Acknowledgement.covers` applies: `money.same_amount`, registered by the store) and is
    not a withdrawal."""
    return f"""EXISTS (
    SELECT 1 FROM acknowledgements a
    WHERE a.discrepancy_id = {alias}.id AND same_amount(a.difference, {alias}.{value})
      AND a.kind != '{WITHDRAWN}'
      AND a.id = (SELECT max(b.id) FROM acknowledgements b WHERE b.discrepancy_id = {alias}.id))"""


_OWN_DISCREPANCY = _own("r", "difference")
_OWN_CAUSE = _own("c", "amount")

#: `CROSS JOIN`: SQLite then reads the list first and finds each id through the index on
#: (run, id); left to itself it scanned every finding of the run for each one listed
#: (18 s for a run of 10,000 discrepancies and 12,920 causes; docs/performance.md, "TUI").
_ACKNOWLEDGED = f"""({_OWN_DISCREPANCY} OR (r.causes != '[]' AND NOT EXISTS (
    SELECT 1 FROM json_each(r.causes) j CROSS JOIN run_causes c
    WHERE c.run_id = r.run_id AND c.id = j.value AND NOT {_OWN_CAUSE})))"""

#: A cause `c` explains a discrepancy of the wallet given as the parameter.
_EXPLAINS_IN_WALLET = """EXISTS (
    SELECT 1 FROM json_each(c.explains) j CROSS JOIN run_discrepancies r
    WHERE r.run_id = c.run_id AND r.id = j.value AND r.wallet_id = ?)"""

_CAUSE_ACKNOWLEDGED = f"""({_OWN_CAUSE} OR (c.explains != '[]' AND NOT EXISTS (
    SELECT 1 FROM json_each(c.explains) j CROSS JOIN run_discrepancies r
    WHERE r.run_id = c.run_id AND r.id = j.value AND NOT {_OWN_DISCREPANCY})))"""


class StoreState(NamedTuple):
    """What a check sees of the store: the latest import, how many imports were taken
    back, and the latest snapshot, by id. Every import, undo and fetch changes it."""

    latest_import: int
    undone_imports: int
    latest_snapshot: int

    def text(self) -> str:
        return f"{self.latest_import}/{self.undone_imports}/{self.latest_snapshot}"

    @classmethod
    def of(cls, text: str | None) -> StoreState | None:
        """As stored with a run; None for a run stored before, or for text not ours."""
        parts = (text or "").split("/")
        if len(parts) != 3 or not all(part.isdigit() for part in parts):
            return None
        return cls(*(int(part) for part in parts))


def store_state(store: Store) -> StoreState:
    """The store's state now (`StoreState`)."""
    imported = store.query_one("SELECT max(id), count(undone_at) FROM imports")
    fetched = store.query_one("SELECT max(id) FROM snapshots")
    return StoreState(
        int(imported[0] or 0) if imported else 0,
        int(imported[1] or 0) if imported else 0,
        int(fetched[0] or 0) if fetched else 0,
    )


@dataclass(frozen=True)
class RunSummary:
    """A stored run: its id, snapshot and the report without its discrepancies."""

    id: int
    snapshot_id: int | None
    header: dict[str, Any]
    #: What it checked (`StoreState`); None for a run stored by an earlier release.
    checked: StoreState | None = None


@dataclass(frozen=True)
class _Scope:
    """What both filters select on: a finding's kind, currency, wallet, severity, and
    whether it is acknowledged now; None means any."""

    kind: str | None = None
    currency: str | None = None
    wallet_id: str | None = None
    severity: str | None = None
    acknowledged: bool | None = None
    search: str | None = None

    def _scoped(self, alias: str, acknowledged: str) -> tuple[list[str], list[object]]:
        clauses: list[str] = []
        parameters: list[object] = []
        for column in ("kind", "currency", "wallet_id", "severity"):
            value = getattr(self, column)
            if value is not None:
                clauses.append(f"{alias}.{column} = ?")
                parameters.append(value)
        if self.acknowledged is not None:
            clauses.append(acknowledged if self.acknowledged else f"NOT {acknowledged}")
        return clauses, parameters


@dataclass(frozen=True)
class DiscrepancyFilter(_Scope):
    """Which discrepancies a page shows; None means any."""

    #: Only the discrepancies this cause (by id) explains.
    cause: str | None = None

    def where(self) -> tuple[str, list[object]]:
        clauses, parameters = self._scoped("r", _ACKNOWLEDGED)
        if self.cause is not None:
            clauses.append("EXISTS (SELECT 1 FROM json_each(r.causes) k WHERE k.value = ?)")
            parameters.append(self.cause)
        if self.search:
            # A balance-level discrepancy names no reference itself: its causes do, so a
            # search for the reference behind a gap finds it through them (docs/tui.md).
            clauses.append(
                f"""(r.message {LIKE_LITERAL} OR r.refs {LIKE_LITERAL} OR r.id {LIKE_LITERAL}
                    OR EXISTS (SELECT 1 FROM json_each(r.causes) j CROSS JOIN run_causes c
                        WHERE c.run_id = r.run_id AND c.id = j.value
                          AND (c.refs {LIKE_LITERAL} OR c.gateway_ids {LIKE_LITERAL})))"""
            )
            pattern = literal_pattern(self.search)
            parameters += [pattern, pattern, literal_pattern(self.search, prefix=True)]
            parameters += [pattern, pattern]
        return (" AND ".join(clauses) or "TRUE"), parameters


@dataclass(frozen=True)
class CauseFilter(_Scope):
    """Which causes a page shows; None means any. The search is literal, over messages,
    references, gateway ids and (as a prefix) cause ids."""

    def where(self) -> tuple[str, list[object]]:
        clauses, parameters = replace(self, wallet_id=None)._scoped("c", _CAUSE_ACKNOWLEDGED)
        if self.wallet_id is not None:
            # A wallet's causes are those booked to it and those that explain a gap of
            # it: a record booked to the wrong wallet explains the gap of the wallet the
            # gateway has it in too (docs/tui.md, "Wallet").
            clauses.append(f"(c.wallet_id = ? OR {_EXPLAINS_IN_WALLET})")
            parameters += [self.wallet_id, self.wallet_id]
        if self.search:
            clauses.append(
                f"""(c.message {LIKE_LITERAL} OR c.refs {LIKE_LITERAL}
                    OR c.gateway_ids {LIKE_LITERAL} OR c.id {LIKE_LITERAL})"""
            )
            pattern = literal_pattern(self.search)
            parameters += [pattern, pattern, pattern, literal_pattern(self.search, prefix=True)]
        return (" AND ".join(clauses) or "TRUE"), parameters


def save_run(
    store: Store,
    header: Mapping[str, Any],
    discrepancies: Iterable[Mapping[str, Any]],
    *,
    snapshot_id: int | None,
    overview: Sequence[Mapping[str, Any]] = (),
    causes: Iterable[Mapping[str, Any]] = (),
    checked: StoreState | None = None,
) -> int:
    """Store one run in one transaction; returns its id. `checked`: the store's state it
    checked (`StoreState`)."""
    summary = header["summary"]
    with store.write() as conn:
        run_id = conn.execute(
            """INSERT INTO runs (generated_at, snapshot_id, status, errors, warnings,
                   acknowledged, header_json, overview_json, store_state)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                header["generated_at"],
                snapshot_id,
                summary["status"],
                summary["errors"],
                summary["warnings"],
                summary["acknowledged"],
                json.dumps(header, sort_keys=True),
                json.dumps(list(overview)),
                checked.text() if checked is not None else None,
            ),
        ).lastrowid
        assert run_id is not None
        conn.executemany(
            f"""INSERT INTO run_discrepancies (run_id, position, {", ".join(_COLUMNS)}, refs,
                    message, acknowledged, causes)
                VALUES ({", ".join("?" * (len(_COLUMNS) + 6))})""",
            (
                (
                    run_id,
                    position,
                    *(d[column] for column in _COLUMNS),
                    json.dumps(d["references"]),
                    d["message"],
                    int(d["acknowledged"]),
                    json.dumps(d.get("causes", [])),
                )
                for position, d in enumerate(discrepancies)
            ),
        )
        conn.executemany(
            """INSERT INTO run_causes (run_id, position, id, kind, severity, currency, wallet_id,
                    refs, gateway_ids, amount, explains, message, acknowledged)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                (
                    run_id,
                    position,
                    c["id"],
                    c["kind"],
                    c["severity"],
                    c["currency"],
                    c["wallet_id"],
                    json.dumps(c["references"]),
                    json.dumps(c["gateway_ids"]),
                    c["amount"],
                    json.dumps(c["explains"]),
                    c["message"],
                    int(c["acknowledged"]),
                )
                for position, c in enumerate(causes)
            ),
        )
    return int(run_id)


def _cause_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "severity": row["severity"],
        "currency": row["currency"],
        "wallet_id": row["wallet_id"],
        "references": stored_json(row["refs"], "cause"),
        "gateway_ids": stored_json(row["gateway_ids"], "cause"),
        "amount": row["amount"],
        "explains": stored_json(row["explains"], "cause"),
        "message": row["message"],
        "acknowledged": bool(row["now_acknowledged"]),
    }


@dataclass(frozen=True)
class _Findings:
    """One kind of finding a run stores (its causes, or its discrepancies): where, and how
    each is read back, acknowledged as it stands now."""

    table: str
    alias: str
    acknowledged: str
    as_dict: Callable[[Any], dict[str, Any]]

    def select(
        self,
        store: Store,
        run_id: int,
        where: tuple[str, list[object]],
        limit: int | None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        clause, parameters = where
        a = self.alias
        rows = store.query(
            f"""SELECT {a}.*, {self.acknowledged} AS now_acknowledged FROM {self.table} {a}
                WHERE {a}.run_id = ? AND {clause} ORDER BY {a}.position LIMIT ? OFFSET ?""",
            (run_id, *parameters, _ALL if limit is None else limit, offset),
        )
        return [self.as_dict(row) for row in rows]

    def count(self, store: Store, run_id: int, where: tuple[str, list[object]]) -> int:
        clause, parameters = where
        row = store.query_one(
            f"SELECT count(*) FROM {self.table} {self.alias}"
            f" WHERE {self.alias}.run_id = ? AND {clause}",
            (run_id, *parameters),
        )
        return int(row[0])

    def find(
        self, store: Store, run_id: int, id_or_prefix: str, limit: int
    ) -> list[dict[str, Any]]:
        """Those whose id starts with `id_or_prefix`, taken literally."""
        pattern = literal_pattern(id_or_prefix, prefix=True)
        return self.select(store, run_id, (f"{self.alias}.id {LIKE_LITERAL}", [pattern]), limit)


_CAUSES = _Findings("run_causes", "c", _CAUSE_ACKNOWLEDGED, _cause_dict)


def cause_page(
    store: Store,
    run_id: int,
    where: CauseFilter | None = None,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Causes of a run in report order, filtered, acknowledged as they stand now."""
    return _CAUSES.select(store, run_id, (where or CauseFilter()).where(), limit, offset)


def count_causes(store: Store, run_id: int, where: CauseFilter | None = None) -> int:
    return _CAUSES.count(store, run_id, (where or CauseFilter()).where())


def find_cause(
    store: Store, run_id: int, id_or_prefix: str, *, limit: int = 10
) -> list[dict[str, Any]]:
    """Causes of a run whose id starts with `id_or_prefix`, taken literally."""
    return _CAUSES.find(store, run_id, id_or_prefix, limit)


def run_overview(store: Store, run_id: int) -> list[dict[str, Any]]:
    """The side-by-side figures stored with a run."""
    row = store.query_one("SELECT overview_json FROM runs WHERE id = ?", (run_id,))
    return list(stored_json(row[0], "check's figures")) if row else []


def latest_run(store: Store) -> RunSummary | None:
    row = store.query_one(
        "SELECT id, snapshot_id, header_json, store_state FROM runs ORDER BY id DESC LIMIT 1"
    )
    if row is None:
        return None
    header = stored_json(row[2], "check's header")
    return RunSummary(int(row[0]), row[1], header, StoreState.of(row[3]))


def _as_dict(row: Any) -> dict[str, Any]:
    document = {column: row[column] for column in _COLUMNS}
    document["references"] = stored_json(row["refs"], "discrepancy")
    document["message"] = row["message"]
    document["acknowledged"] = bool(row["now_acknowledged"])
    document["causes"] = stored_json(row["causes"], "discrepancy")
    return document


_DISCREPANCIES = _Findings("run_discrepancies", "r", _ACKNOWLEDGED, _as_dict)


def discrepancy_page(
    store: Store,
    run_id: int,
    where: DiscrepancyFilter | None = None,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Discrepancies of a run in report order, filtered, one page at a time."""
    return _DISCREPANCIES.select(
        store, run_id, (where or DiscrepancyFilter()).where(), limit, offset
    )


def count_discrepancies(store: Store, run_id: int, where: DiscrepancyFilter | None = None) -> int:
    return _DISCREPANCIES.count(store, run_id, (where or DiscrepancyFilter()).where())


@dataclass(frozen=True)
class FindingCounts:
    """Open errors, open warnings and acknowledged findings (causes or discrepancies, as
    the query counted them), as they stand now."""

    errors: int = 0
    warnings: int = 0
    acknowledged: int = 0

    @property
    def open(self) -> int:
        return self.errors + self.warnings

    def __add__(self, other: FindingCounts) -> FindingCounts:
        return FindingCounts(
            self.errors + other.errors,
            self.warnings + other.warnings,
            self.acknowledged + other.acknowledged,
        )


def counts_by_scope(
    store: Store, run_id: int
) -> dict[tuple[str | None, str | None], FindingCounts]:
    """Counts of a run in one query, for (None, None) the whole run, (currency, None) each
    currency, and (currency, wallet_id) each wallet."""
    rows = store.query(
        f"""SELECT r.currency, r.wallet_id, r.severity, {_ACKNOWLEDGED} AS acked, count(*)
            FROM run_discrepancies r WHERE r.run_id = ? GROUP BY 1, 2, 3, 4""",
        (run_id,),
    )
    return _by_scope(rows)


def _by_scope(rows: Iterable[Any]) -> dict[tuple[str | None, str | None], FindingCounts]:
    found: dict[tuple[str | None, str | None], FindingCounts] = {}
    for currency, wallet_id, severity, acknowledged, count in rows:
        these = _counted(severity, acknowledged, count)
        scopes = {(None, None), (currency, None), (currency, wallet_id)}
        for scope in scopes:
            found[scope] = found.get(scope, FindingCounts()) + these
    return found


def _counted(severity: str, acknowledged: object, count: int) -> FindingCounts:
    return FindingCounts(
        errors=count if not acknowledged and severity == "error" else 0,
        warnings=count if not acknowledged and severity == "warning" else 0,
        acknowledged=count if acknowledged else 0,
    )


def find_discrepancy(
    store: Store, run_id: int, id_or_prefix: str, *, limit: int = 10
) -> list[dict[str, Any]]:
    """Discrepancies of a run whose id starts with `id_or_prefix`, taken literally (at
    most `limit`; one when the prefix is unambiguous)."""
    return _DISCREPANCIES.find(store, run_id, id_or_prefix, limit)


def cause_counts_by_scope(
    store: Store, run_id: int
) -> dict[tuple[str | None, str | None], FindingCounts]:
    """Open and acknowledged causes of a run in one query, by scope as `counts_by_scope`:
    what `check` and `--fail-on` count, so every screen shows the CLI's number."""
    rows = store.query(
        f"""SELECT c.currency, c.wallet_id, c.severity, {_CAUSE_ACKNOWLEDGED} AS acked, count(*)
            FROM run_causes c WHERE c.run_id = ? GROUP BY 1, 2, 3, 4""",
        (run_id,),
    )
    found = _by_scope(rows)
    # Each cause counts once in the run and in its currency, and in every wallet whose
    # gap it explains besides its own (the filter's rule, `CauseFilter.where`).
    elsewhere = store.query(
        f"""SELECT w.currency, w.wallet_id, c.severity, {_CAUSE_ACKNOWLEDGED} AS acked, count(*)
            FROM run_causes c CROSS JOIN (
                SELECT DISTINCT e.id AS cause, r.currency AS currency, r.wallet_id AS wallet_id
                FROM run_causes e CROSS JOIN json_each(e.explains) j
                CROSS JOIN run_discrepancies r
                WHERE e.run_id = ? AND r.run_id = e.run_id AND r.id = j.value
                  AND r.wallet_id IS NOT NULL AND r.wallet_id IS NOT e.wallet_id) w
            WHERE c.run_id = ? AND c.id = w.cause
            GROUP BY 1, 2, 3, 4""",
        (run_id, run_id),
    )
    for currency, wallet_id, severity, acknowledged, count in elsewhere:
        scope = (currency, wallet_id)
        found[scope] = found.get(scope, FindingCounts()) + _counted(severity, acknowledged, count)
    return found
