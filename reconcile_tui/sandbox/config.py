"""What a sandbox serves and how it misbehaves: `SandboxConfig` and the ledger it implies.

The ledger is a pure function of `LedgerSpec` (seed, records, currencies, days, clock);
everything else in `SandboxConfig` shapes the HTTP behaviour: credentials, token lifetime
and the injected faults. Bad values raise `BadInput`, which the CLI turns into exit 2.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from reconcile_tui.errors import BadInput
from reconcile_tui.sandbox.catalog import MAX_CURRENCIES, Currency, currencies
from reconcile_tui.times import TimeError, format_utc, parse_api_time

__all__ = [
    "BREAKERS",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_CLOCK",
    "DEFAULT_STATIC_TOKEN",
    "LISTING_MODES",
    "LedgerSpec",
    "SandboxConfig",
]

#: The sandbox's fixed "now" (docs/sandbox.md): the gateway's published example's
#: `last_update`, so generated figures line up with it.
DEFAULT_CLOCK: Final = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)

DEFAULT_CLIENT_ID: Final = "sandbox-client"
DEFAULT_CLIENT_SECRET: Final = "sandbox-secret"  # noqa: S105 (a published demo credential)
DEFAULT_STATIC_TOKEN: Final = "sandbox-token"  # noqa: S105 (a published demo credential)

#: Invariants the sandbox can be told to break, each by the smallest visible amount.
BREAKERS: Final = {
    "wallet_balance": "the first currency's first wallet balance is one unit too high, so"
    " available_balance = sum(wallets.balance) fails",
    "total_usd_value": "summary total_usd_value is one cent too high, so"
    " total_usd_value = sum(usd_value) fails",
    "history_balance": "the first currency's last history bucket balance is one unit too"
    " high, so balance = previous + deposits - withdrawals fails",
}

#: How the transaction listing answers: served, absent (404) or refused (403), the last
#: two for a client's fallback to balance-level causes.
LISTING_MODES: Final = ("served", "absent", "refused")

MAX_RECORDS: Final = 10_000_000
MAX_DAYS: Final = 3_650


@dataclass(frozen=True, slots=True)
class LedgerSpec:
    """Everything the synthetic ledger depends on; equal specs give identical ledgers."""

    seed: int
    records: int
    currencies: int
    days: int
    clock: datetime

    @property
    def currency_table(self) -> tuple[Currency, ...]:
        return currencies(self.currencies)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(currency.code for currency in self.currency_table)


@dataclass(frozen=True)
class SandboxConfig:
    """A sandbox: its ledger, its credentials and the faults it injects."""

    #: The ledger: a pure function of these five.
    seed: int = 1
    records: int = 3_000
    currencies: int = 5
    days: int = 90
    clock: datetime = DEFAULT_CLOCK
    #: Client credentials accepted by POST /o/token/.
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    #: A pre-issued bearer token with the read scope that never expires (None: none).
    static_token: str | None = DEFAULT_STATIC_TOKEN
    #: Lifetime of issued tokens in seconds (short ones exercise a client's renewal).
    token_ttl: int = 3_600
    #: Delay added to every data request.
    latency_ms: int = 0
    #: Fraction of data requests answered 503 (deterministic in request order).
    error_rate: float = 0.0
    #: Data requests allowed per minute (sliding window); beyond it, 429 + Retry-After.
    rate_limit: int | None = None
    #: The first `fail_first` data requests fail with `fail_status`.
    fail_first: int = 0
    fail_status: int = 503
    #: Every data request fails with this status (a permanent outage), when set.
    fail_always: int | None = None
    #: Retry-After (seconds) on injected 429 and 503 answers; None: no header on those.
    retry_after: int | None = 1
    #: Write Retry-After as an HTTP-date instead of seconds.
    retry_after_http_date: bool = False
    #: Break one invariant of the API (a key of BREAKERS), for the "API is wrong" scenario.
    break_invariant: str | None = None
    #: How GET /transactions/transactions/ answers (one of LISTING_MODES).
    transactions: str = "served"

    def __post_init__(self) -> None:
        _check_range("--records", self.records, 0, MAX_RECORDS)
        _check_range("--currencies", self.currencies, 1, MAX_CURRENCIES)
        _check_range("--days", self.days, 1, MAX_DAYS)
        if self.clock.tzinfo is None:
            raise BadInput("the sandbox clock needs a UTC offset")
        if self.clock.microsecond:
            raise BadInput("the sandbox clock is whole seconds")
        if not self.client_id or not self.client_secret:
            raise BadInput("the sandbox needs a client id and a client secret")
        if self.static_token is not None and not self.static_token.strip():
            raise BadInput("the static token cannot be empty")
        _check_range("--token-ttl", self.token_ttl, 1, 10 * 365 * 86_400)
        _check_range("--latency-ms", self.latency_ms, 0, 60_000)
        if not 0.0 <= self.error_rate <= 1.0:
            raise BadInput(f"--error-rate must be between 0 and 1, not {self.error_rate}")
        if self.rate_limit is not None:
            _check_range("--rate-limit", self.rate_limit, 1, 1_000_000)
        _check_range("--fail-first", self.fail_first, 0, 1_000_000)
        _check_range("--fail-status", self.fail_status, 400, 599)
        if self.fail_always is not None:
            _check_range("--fail-always", self.fail_always, 400, 599)
        if self.retry_after is not None:
            _check_range("--retry-after", self.retry_after, 0, 86_400)
        if self.break_invariant is not None and self.break_invariant not in BREAKERS:
            raise BadInput(
                f"--break-invariant {self.break_invariant!r} is not one of "
                + ", ".join(sorted(BREAKERS))
            )

        if self.transactions not in LISTING_MODES:
            raise BadInput(
                f"--transactions {self.transactions!r} is not one of {', '.join(LISTING_MODES)}"
            )

    @property
    def ledger(self) -> LedgerSpec:
        """The part of the configuration that decides the ledger."""
        return LedgerSpec(
            seed=self.seed,
            records=self.records,
            currencies=self.currencies,
            days=self.days,
            clock=self.clock.astimezone(UTC),
        )

    def with_changes(self, **changes: Any) -> SandboxConfig:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @classmethod
    def from_scenario(cls, path: Path, **overrides: Any) -> SandboxConfig:
        """The sandbox that serves the ledger of a generated `scenario.json`."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BadInput(f"{path}: no such scenario file") from None
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise BadInput(f"{path}: not a readable scenario file ({error})") from None
        if not isinstance(data, dict):
            raise BadInput(f"{path}: a scenario file is a JSON object")
        try:
            ledger = data["ledger"]
            codes = ledger["currencies"]
            settings: dict[str, Any] = {
                "seed": int(ledger["seed"]),
                "records": int(ledger["records"]),
                "currencies": len(codes),
                "days": int(ledger["days"]),
                "clock": parse_api_time(ledger["clock"]),
                "break_invariant": data.get("break_invariant"),
            }
        except (KeyError, TypeError, ValueError, TimeError) as error:
            raise BadInput(f"{path}: not a sandbox scenario ({error})") from None
        config = cls(**(settings | overrides))
        if list(config.ledger.codes) != list(codes):
            raise BadInput(f"{path}: currencies {codes} are not ones this sandbox can serve")
        return config

    def describe(self) -> dict[str, Any]:
        """The ledger's defining facts, as scenario.json records them."""
        spec = self.ledger
        return {
            "seed": spec.seed,
            "records": spec.records,
            "currencies": list(spec.codes),
            "days": spec.days,
            "clock": format_utc(spec.clock),
        }


def _check_range(option: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{option} must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise BadInput(f"{option} must be between {low} and {high}, not {value}")
