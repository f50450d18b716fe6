"""A gateway snapshot: one balances response and the history of each currency, as fetched.

The raw bodies travel with the parsed models so that what was stored, saved or reported
can always be traced back to exactly what the gateway said. `load_saved` and `save` read
and write the directory layout `check --api-dir` takes and `fetch --save` writes:

    DIR/balances.json
    DIR/history/<CURRENCY>.json
    DIR/transactions.json    (optional: {"count": N, "results": [...]}, every item as served)
    DIR/meta.json            (optional: where and when it was fetched)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from reconcile_tui.api.models import (
    CURRENCY_CODE,
    BalancesResponse,
    GatewayTransaction,
    HistoryResponse,
    ResponseShapeError,
    parse_balances,
    parse_history,
    parse_transactions,
)
from reconcile_tui.api.raw_items import raw_results
from reconcile_tui.errors import BadInput
from reconcile_tui.files import read_input, write_atomically
from reconcile_tui.redaction import mask_bytes
from reconcile_tui.times import INTERVALS, PERIODS, TimeError, format_utc, parse_api_time

__all__ = ["GatewaySnapshot", "check_savable", "load_saved", "requested_codes", "save"]


def requested_codes(requested: Sequence[str]) -> list[str]:
    """The codes a user asked for, upper-cased, or BadInput for one that is no currency
    code (the rule the gateway's answers follow too: docs/api-client.md, "Bounds")."""
    codes = [code.strip().upper() for code in requested]
    for code in codes:
        if not CURRENCY_CODE.fullmatch(code):
            raise BadInput(
                f"--currency {code!r} is not a currency code (A-Z, 0-9, _ and -, at most 32)"
            )
    return list(dict.fromkeys(codes))


@dataclass(frozen=True)
class GatewaySnapshot:
    """What the gateway said at one moment: balances plus per-currency history."""

    balances: BalancesResponse
    histories: dict[str, HistoryResponse]
    fetched_at: datetime
    base_url: str
    period: str
    interval: str
    balances_raw: bytes = field(repr=False)
    histories_raw: dict[str, bytes] = field(repr=False)
    #: The gateway's transaction listing (GET /transactions/transactions/), every page's
    #: items in the order served; None when it was not fetched or the gateway refused it
    #: (then `transactions_note` says why, and causes fall back to the balance level:
    #: docs/reconciliation.md).
    transactions: Sequence[GatewayTransaction] | None = None
    transactions_note: str | None = None
    #: Each transaction's JSON exactly as the gateway wrote it, beside `transactions`.
    transactions_raw: Sequence[bytes] | None = field(default=None, repr=False)
    #: When the listing was asked for only from this date and merged with the previous
    #: one (docs/api-client.md, "Incremental fetches"); None for a whole listing. Said
    #: when fetched, not stored: the stored listing is whole either way.
    listing_from: date | None = field(default=None, compare=False)

    def transaction_items(self) -> Sequence[bytes] | None:
        """Each transaction's JSON: as the gateway wrote it, or (for a snapshot built in
        code, without raw items) as the model prints it; None when none were fetched."""
        if self.transactions is None:
            return None
        if self.transactions_raw is not None:
            return self.transactions_raw
        return tuple(item.model_dump_json().encode() for item in self.transactions)

    @property
    def as_of(self) -> datetime:
        """The gateway's own clock for this data (`summary.last_update`)."""
        return self.balances.summary.last_update


def _read(path: Path) -> bytes:
    # Masked as it is read, like a live body (docs/configuration.md, "Secrets"): a saved
    # response that quotes a secret cannot carry it into a message, the store or a report.
    return mask_bytes(read_input(path, "saved response"))


def load_saved(directory: Path) -> GatewaySnapshot:
    """Read a saved snapshot directory, refusing any file that is not a valid response."""
    if not directory.is_dir():
        raise BadInput(f"{directory}: not a directory of saved responses")
    balances_path = directory / "balances.json"
    balances_raw = _read(balances_path)
    try:
        balances = parse_balances(balances_raw, str(balances_path))
    except ResponseShapeError as error:
        raise BadInput(str(error)) from None

    meta_path = directory / "meta.json"
    meta = _read_meta(meta_path)
    histories: dict[str, HistoryResponse] = {}
    histories_raw: dict[str, bytes] = {}
    history_dir = directory / "history"
    if history_dir.is_dir():
        for path in sorted(history_dir.glob("*.json")):
            raw = _read(path)
            try:
                history = parse_history(raw, str(path))
            except ResponseShapeError as error:
                raise BadInput(str(error)) from None
            # As live: the answer must be for what was asked (the file's name), for the
            # period and interval the snapshot says it holds.
            code = history.currency or path.stem
            if code != path.stem:
                raise BadInput(f"{path}: currency: {code!r}, but the file is named {path.stem}")
            for key in ("period", "interval"):
                said = getattr(history, key)
                if meta.get(key, said) != said:
                    raise BadInput(f"{path}: {key}: {said!r}, but {meta_path} says {meta[key]!r}")
            if history.currency is None:
                history = history.model_copy(update={"currency": code})
            histories[code] = history
            histories_raw[code] = raw

    transactions, transactions_raw, note = _read_transactions(directory / "transactions.json")
    first = next(iter(histories.values()), None)
    period = meta.get("period") or (first.period if first else "7d")
    interval = meta.get("interval") or (first.interval if first else "daily")
    fetched_at = balances.summary.last_update
    if meta.get("fetched_at"):
        try:
            fetched_at = parse_api_time(meta["fetched_at"])
        except TimeError as error:
            raise BadInput(f"{meta_path}: fetched_at: {error}") from None
    return GatewaySnapshot(
        balances=balances,
        histories=histories,
        fetched_at=fetched_at,
        base_url=meta.get("base_url") or directory.resolve().as_uri(),
        period=period,
        interval=interval,
        balances_raw=balances_raw,
        histories_raw=histories_raw,
        transactions=transactions,
        transactions_raw=transactions_raw,
        transactions_note=note,
    )


def _read_transactions(
    path: Path,
) -> tuple[tuple[GatewayTransaction, ...] | None, tuple[bytes, ...] | None, str | None]:
    """A saved listing, validated like a live page; None and a note when there is none."""
    if not path.exists():
        return None, None, f"transactions not fetched: no {path.name} in {path.parent}"
    raw = _read(path)
    try:
        listing = parse_transactions(raw, str(path))
        items = raw_results(raw)
    except ValueError as error:  # ResponseShapeError names the file and the field
        raise BadInput(str(error)) from None
    if listing.count != len(listing.results):
        raise BadInput(f"{path}: count: {listing.count}, but results holds {len(listing.results)}")
    seen: set[str] = set()
    for position, transaction in enumerate(listing.results):
        if transaction.id in seen:
            raise BadInput(f"{path}: results[{position}].id: {transaction.id!r} is listed twice")
        seen.add(transaction.id)
    return tuple(listing.results), tuple(items), None


def _read_meta(path: Path) -> dict[str, str]:
    """meta.json's keys, each checked by the rules a live fetch follows."""
    if not path.exists():
        return {}
    try:
        data = json.loads(_read(path))
    except ValueError:
        raise BadInput(f"{path}: not valid JSON") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a JSON object")
    meta: dict[str, str] = {}
    for key in ("fetched_at", "base_url", "period", "interval"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadInput(f"{path}: {key}: expected a string")
        meta[key] = value
    for key, choices in (("period", PERIODS), ("interval", INTERVALS)):
        if key in meta and meta[key] not in choices:
            raise BadInput(f"{path}: {key}: {meta[key]!r} is not one of {', '.join(choices)}")
    return meta


def check_savable(snapshot: GatewaySnapshot) -> None:
    """BadInput unless every file `save` would write has a safe name: checked before any
    file is written or the snapshot stored (docs/api-client.md)."""
    for code in snapshot.histories_raw:
        if not CURRENCY_CODE.fullmatch(code):
            raise BadInput(f"refusing to save history for currency code {code!r}")


def save(snapshot: GatewaySnapshot, directory: Path) -> list[Path]:
    """Write the snapshot in the `check --api-dir` layout; returns the files written."""
    check_savable(snapshot)
    written = [directory / "balances.json"]
    write_atomically(written[0], snapshot.balances_raw)
    for code, raw in sorted(snapshot.histories_raw.items()):
        path = directory / "history" / f"{code}.json"
        write_atomically(path, raw)
        written.append(path)
    # An older save's history of a currency this snapshot has none of (a save of every
    # currency, then one of `--currency ETH`) must not be read back with its balances:
    # `check --api-dir` reads every history file there (docs/api-client.md).
    history = directory / "history"
    for older in history.glob("*.json") if history.is_dir() else ():
        if older.stem not in snapshot.histories_raw and CURRENCY_CODE.fullmatch(older.stem):
            older.unlink(missing_ok=True)
    listing = directory / "transactions.json"
    items = snapshot.transaction_items()
    if items is not None:
        write_atomically(listing, transactions_document(items))
        written.append(listing)
    else:
        # An older save's listing must not be read back with this snapshot's balances.
        listing.unlink(missing_ok=True)
    meta = {
        "fetched_at": format_utc(snapshot.fetched_at),
        "base_url": snapshot.base_url,
        "period": snapshot.period,
        "interval": snapshot.interval,
    }
    meta_path = directory / "meta.json"
    write_atomically(meta_path, json.dumps(meta, indent=2).encode() + b"\n")
    written.append(meta_path)
    return written


def transactions_document(items: Sequence[bytes]) -> bytes:
    """`{"count": N, "results": [...]}` with each item's bytes as the gateway wrote them."""
    head = b'{"count": %d, "results": [' % len(items)
    return head + b",\n".join(items) + b"]}\n"
