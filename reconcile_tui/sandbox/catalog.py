"""The sandbox account's fixed facts: its currencies, wallets, USD rates and typical sizes.

The first five currencies are the ones every sandbox serves (the three of the gateway's
published example plus DAIERC20 and USDTTRC20; docs/sandbox.md); up to twenty can be
switched on for large benchmarks. Each currency lists the wallets the gateway reports for
it, and reports them even when empty."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from reconcile_tui import money
from reconcile_tui.sandbox.spec import known_places

__all__ = [
    "CATALOG",
    "DEFAULT_WALLET",
    "FOREIGN_CURRENCIES",
    "FOREIGN_CURRENCY",
    "MARKETPLACE",
    "MAX_CURRENCIES",
    "ONLINE_STORE",
    "RETIRED_WALLET",
    "TREASURY",
    "WALLETS",
    "Currency",
    "Wallet",
    "currencies",
    "written_places",
]


@dataclass(frozen=True, slots=True)
class Wallet:
    """One of the account's wallets: a stable UUID and the name the gateway shows."""

    wallet_id: str
    name: str


DEFAULT_WALLET: Final = Wallet("550e8400-e29b-41d4-a716-446655440000", "Default Wallet")
ONLINE_STORE: Final = Wallet("660e8400-e29b-41d4-a716-446655440001", "Online Store")
MARKETPLACE: Final = Wallet("770e8400-e29b-41d4-a716-446655440002", "Marketplace")
TREASURY: Final = Wallet("880e8400-e29b-41d4-a716-446655440003", "Treasury")

#: Every wallet the account has today, in the order the gateway lists them.
WALLETS: Final = (DEFAULT_WALLET, ONLINE_STORE, MARKETPLACE, TREASURY)

#: A wallet the merchant closed long ago: the gateway reports it for no currency, but an
#: old habit can still put it into the merchant's books.
RETIRED_WALLET: Final = Wallet("990e8400-e29b-41d4-a716-446655440099", "Old Store")

#: A currency the account does not hold: records in it are a planted `unknown_currency`.
FOREIGN_CURRENCY: Final = "USDTTON"
#: Currencies the account does not hold, with the places the merchant writes them with:
#: USDTTON has a known scale by its name, TON none (a report shows it with 18 places).
FOREIGN_CURRENCIES: Final = {FOREIGN_CURRENCY: 6, "TON": 9}


@dataclass(frozen=True, slots=True)
class Currency:
    """A currency the sandbox account holds, with what its traffic looks like."""

    code: str
    name: str
    network: str
    #: USD per whole unit, for `usd_value` (text, so it stays exact).
    usd_rate_text: str
    wallets: tuple[Wallet, ...]
    #: Relative share of the account's transactions.
    traffic: int
    #: Typical payment size in US cents: (smallest, largest).
    payment_cents: tuple[int, int]
    #: The gateway's fee on a payment, in basis points of the amount.
    fee_bps: int
    #: Network fee of a payout in minor units: (smallest, largest).
    network_fee: tuple[int, int]

    #: Decimal places: the product's fixed table (every catalog code is in it).
    scale: int = field(init=False)

    def __post_init__(self) -> None:
        scale = known_places(self.code)
        assert scale is not None, f"{self.code} needs a known scale"
        object.__setattr__(self, "scale", scale)  # frozen: set once, here

    @property
    def usd_rate(self) -> Decimal:
        return money.parse_amount(self.usd_rate_text)

    @property
    def rate_cents(self) -> int:
        """USD cents per whole unit (to the cent), for turning a USD size into units."""
        return money.to_minor_units(money.round_to(self.usd_rate, 2), 2)

    @property
    def stable(self) -> bool:
        """A dollar stablecoin: amounts are written like dollars and cents."""
        return self.code.startswith(("USDT", "USDC", "DAI"))

    @property
    def evm(self) -> bool:
        """Transaction hashes on this network are written 0x + 64 hex digits."""
        return self.network not in {"TRX", "BTC", "SOL"}


_EVERY_SHOP = (DEFAULT_WALLET, ONLINE_STORE, MARKETPLACE)
_STORE = (DEFAULT_WALLET, ONLINE_STORE)
_MARKET = (DEFAULT_WALLET, MARKETPLACE)
_ALONE = (DEFAULT_WALLET,)
_VAULT = (DEFAULT_WALLET, TREASURY)

_STABLE_PAYMENTS = (500, 250_000)
_L2_FEE = (100_000, 800_000)

#: Every currency the sandbox can serve, in the order /user/balances/ lists them.
CATALOG: Final[tuple[Currency, ...]] = (
    Currency(
        "USDTERC20",
        "Tether USD",
        "ETH",
        "0.9999",
        _EVERY_SHOP,
        30,
        _STABLE_PAYMENTS,
        80,
        (1_500_000, 4_500_000),
    ),
    Currency(
        "USDCERC20",
        "USD Coin",
        "ETH",
        "1.0001",
        _MARKET,
        15,
        _STABLE_PAYMENTS,
        80,
        (1_500_000, 4_500_000),
    ),
    Currency(
        "DAIERC20", "Dai", "ETH", "0.9998", _STORE, 6, _STABLE_PAYMENTS, 80, (1_500_000, 4_500_000)
    ),
    Currency(
        "ETH",
        "Ethereum",
        "ETH",
        "3301.42",
        _ALONE,
        10,
        (2_000, 800_000),
        100,
        (300_000_000_000_000, 2_100_000_000_000_000),
    ),
    Currency(
        "USDTTRC20",
        "Tether USD",
        "TRX",
        "0.9999",
        _EVERY_SHOP,
        25,
        _STABLE_PAYMENTS,
        50,
        (1_000_000, 1_000_000),
    ),
    Currency(
        "USDTPOLYGON", "Tether USD", "POLYGON", "0.9999", _STORE, 6, _STABLE_PAYMENTS, 50, _L2_FEE
    ),
    Currency("USDTBSC", "Tether USD", "BSC", "0.9999", _MARKET, 6, _STABLE_PAYMENTS, 50, _L2_FEE),
    Currency("USDTARB", "Tether USD", "ARB", "0.9999", _ALONE, 4, _STABLE_PAYMENTS, 50, _L2_FEE),
    Currency(
        "USDCPOLYGON", "USD Coin", "POLYGON", "1.0001", _STORE, 4, _STABLE_PAYMENTS, 50, _L2_FEE
    ),
    Currency(
        "WETH",
        "Wrapped Ether",
        "ETH",
        "3299.87",
        _VAULT,
        3,
        (2_000, 800_000),
        100,
        (300_000_000_000_000, 2_100_000_000_000_000),
    ),
    Currency(
        "BTC", "Bitcoin", "BTC", "97250.00", _VAULT, 5, (5_000, 2_000_000), 100, (5_000, 30_000)
    ),
    Currency("USDCARB", "USD Coin", "ARB", "1.0001", _ALONE, 3, _STABLE_PAYMENTS, 50, _L2_FEE),
    Currency("USDCBSC", "USD Coin", "BSC", "1.0001", _MARKET, 3, _STABLE_PAYMENTS, 50, _L2_FEE),
    Currency(
        "USDTSOL", "Tether USD", "SOL", "0.9999", _STORE, 4, _STABLE_PAYMENTS, 50, (10_000, 50_000)
    ),
    Currency(
        "USDCSOL", "USD Coin", "SOL", "1.0001", _ALONE, 3, _STABLE_PAYMENTS, 50, (10_000, 50_000)
    ),
    Currency("USDTAVAX", "Tether USD", "AVAX", "0.9999", _ALONE, 2, _STABLE_PAYMENTS, 50, _L2_FEE),
    Currency("USDCAVAX", "USD Coin", "AVAX", "1.0001", _MARKET, 2, _STABLE_PAYMENTS, 50, _L2_FEE),
    Currency("DAIPOLYGON", "Dai", "POLYGON", "0.9998", _ALONE, 2, _STABLE_PAYMENTS, 50, _L2_FEE),
    Currency("USDCBASE", "USD Coin", "BASE", "1.0001", _STORE, 3, _STABLE_PAYMENTS, 50, _L2_FEE),
    Currency("DAIARB", "Dai", "ARB", "0.9998", _ALONE, 2, _STABLE_PAYMENTS, 50, _L2_FEE),
)

MAX_CURRENCIES: Final = len(CATALOG)


def currencies(count: int) -> tuple[Currency, ...]:
    """The first `count` currencies of the catalog: what a sandbox of that size holds."""
    return CATALOG[:count]


def written_places(code: str) -> int:
    """The places the sandbox writes a currency's amounts with (the gateway's or the
    merchant's: a currency the account does not hold has places of its own)."""
    if code in FOREIGN_CURRENCIES:
        return FOREIGN_CURRENCIES[code]
    places = known_places(code)
    assert places is not None, f"{code} is not in the catalog"
    return places
