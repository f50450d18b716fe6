"""Side-by-side figures for people: per currency, per wallet and per history bucket.

Plain data, stored with each run as JSON (amounts as canonical text, like the report) and
read back by the TUI; `overview.build_overview` computes them during a reconciliation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["BucketFigures", "CurrencyFigures", "VolumeFigures", "WalletFigures"]


@dataclass(frozen=True)
class WalletFigures:
    """One wallet of a currency, both sides (None where a side knows nothing of it)."""

    wallet_id: str
    wallet_name: str | None
    api_available: str | None
    api_pending: str | None
    records_available: str | None
    records_pending: str | None
    record_count: int
    raw_wallets: list[tuple[str | None, str | None]]
    opening: str | None = None


@dataclass(frozen=True)
class BucketFigures:
    """One history bucket, both sides; `records_balance` None when not knowable."""

    timestamp: str
    api_balance: str
    api_deposits: str
    api_withdrawals: str
    api_deposit_count: int
    api_withdrawal_count: int
    records_balance: str | None
    records_deposits: str
    records_withdrawals: str
    records_deposit_count: int
    records_withdrawal_count: int


@dataclass(frozen=True)
class VolumeFigures:
    """The gateway's history summary and analysis figures (docs/reconciliation.md),
    computed exactly from one history response."""

    total_volume: str
    average_daily_deposits: str
    average_daily_withdrawals: str
    peak_day: str | None
    peak_day_deposits: str | None
    deposit_withdrawal_ratio: str | None


@dataclass(frozen=True)
class CurrencyFigures:
    """One currency, both sides, with its open discrepancy counts."""

    currency: str
    #: Places the currency's amounts are shown with (for a currency of unknown scale, the
    #: fewest that show all of its figures exactly).
    scale: int
    api_total: str | None
    api_available: str | None
    api_pending: str | None
    usd_value: str | None
    records_total: str | None
    records_available: str | None
    records_pending: str | None
    record_count: int
    difference: str | None
    usd_difference: str | None
    open_errors: int
    open_warnings: int
    acknowledged: int
    wallets: list[WalletFigures] = field(default_factory=list)
    buckets: list[BucketFigures] = field(default_factory=list)
    volume: VolumeFigures | None = None
    first_divergence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CurrencyFigures:
        """Rebuild from `to_dict` (as stored with a run)."""
        volume = data.get("volume")
        return cls(
            **{
                **data,
                "wallets": [
                    WalletFigures(**{**w, "raw_wallets": [tuple(raw) for raw in w["raw_wallets"]]})
                    for w in data["wallets"]
                ],
                "buckets": [BucketFigures(**b) for b in data["buckets"]],
                "volume": VolumeFigures(**volume) if volume else None,
            }
        )
