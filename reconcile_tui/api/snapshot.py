"""A gateway snapshot: one balances response and the history of each currency, as fetched.

The raw bodies travel with the parsed models so that what was stored, saved or reported
can always be traced back to exactly what the gateway said. `load_saved` and `save` read
and write the directory layout `check --api-dir` takes and `fetch --save` writes:

    DIR/balances.json
    DIR/history/<CURRENCY>.json
    DIR/meta.json            (optional: where and when it was fetched)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from reconcile_tui.api.models import (
    BalancesResponse,
    HistoryResponse,
    ResponseShapeError,
    parse_balances,
    parse_history,
)
from reconcile_tui.errors import BadInput
from reconcile_tui.files import read_input, write_atomically
from reconcile_tui.times import TimeError, format_utc, parse_api_time

__all__ = ["GatewaySnapshot", "load_saved", "save"]

_SAFE_CODE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


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

    @property
    def as_of(self) -> datetime:
        """The gateway's own clock for this data (`summary.last_update`)."""
        return self.balances.summary.last_update


def _read(path: Path) -> bytes:
    return read_input(path, "saved response")


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
            code = history.currency or path.stem
            if history.currency is None:
                history = history.model_copy(update={"currency": code})
            histories[code] = history
            histories_raw[code] = raw

    meta = _read_meta(directory / "meta.json")
    first = next(iter(histories.values()), None)
    period = meta.get("period") or (first.period if first else "7d")
    interval = meta.get("interval") or (first.interval if first else "daily")
    fetched_at = balances.summary.last_update
    if meta.get("fetched_at"):
        try:
            fetched_at = parse_api_time(meta["fetched_at"])
        except TimeError as error:
            raise BadInput(f"{directory / 'meta.json'}: fetched_at: {error}") from None
    return GatewaySnapshot(
        balances=balances,
        histories=histories,
        fetched_at=fetched_at,
        base_url=meta.get("base_url") or directory.resolve().as_uri(),
        period=period,
        interval=interval,
        balances_raw=balances_raw,
        histories_raw=histories_raw,
    )


def _read_meta(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        data = json.loads(_read(path))
    except ValueError:
        raise BadInput(f"{path}: not valid JSON") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a JSON object")
    return {key: str(value) for key, value in data.items() if isinstance(value, str)}


def save(snapshot: GatewaySnapshot, directory: Path) -> list[Path]:
    """Write the snapshot in the `check --api-dir` layout; returns the files written."""
    written = [directory / "balances.json"]
    write_atomically(written[0], snapshot.balances_raw)
    for code, raw in sorted(snapshot.histories_raw.items()):
        if not set(code) <= _SAFE_CODE:
            raise BadInput(f"refusing to save history for currency code {code!r}")
        path = directory / "history" / f"{code}.json"
        write_atomically(path, raw)
        written.append(path)
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
