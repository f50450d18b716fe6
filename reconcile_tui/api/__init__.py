"""The Cryptofuse gateway: response models and saved snapshots.

The HTTP client lives in `reconcile_tui.api.client` (with `auth` and `retry`); it is not
re-exported here so that reading stored data never loads the network stack.
"""

from reconcile_tui.api.models import (
    BalancesResponse,
    CurrencyBalance,
    HistoryBucket,
    HistoryResponse,
    ResponseShapeError,
    WalletBalance,
)
from reconcile_tui.api.snapshot import GatewaySnapshot, load_saved, save

__all__ = [
    "BalancesResponse",
    "CurrencyBalance",
    "GatewaySnapshot",
    "HistoryBucket",
    "HistoryResponse",
    "ResponseShapeError",
    "WalletBalance",
    "load_saved",
    "save",
]
