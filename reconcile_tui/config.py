"""Settings: environment variables over an optional TOML file over defaults.

Environment (what CI needs, nothing else):
    RECONCILE_DB               the database file
    CRYPTOFUSE_API_URL         the gateway (default https://api.cryptofuse.io)
    CRYPTOFUSE_TOKEN           a pre-issued bearer token, or
    CRYPTOFUSE_CLIENT_ID       client credentials for POST /o/token/ (scope read)
    CRYPTOFUSE_CLIENT_SECRET

The TOML file (`--config FILE`) has `[api]`, `[reconcile]` and `[store]` sections; see
docs/configuration.md. Amounts in it are strings ("0.01"): a TOML float is refused, because
a float has already lost the exact value.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from reconcile_tui import money, redaction
from reconcile_tui.errors import BadInput, ConfigError
from reconcile_tui.files import read_input
from reconcile_tui.times import DEFAULT_INTERVAL, DEFAULT_PERIOD, Interval, Period
from reconcile_tui.vocabulary import CURRENCY_CODE

__all__ = [
    "SERVER_SCHEMES",
    "ApiSettings",
    "RuleSettings",
    "Settings",
    "StoreSettings",
    "TuiSettings",
    "ValidationProblem",
    "database_location",
    "default_db_path",
    "first_problem",
    "load_settings",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ValidationProblem:
    """The first thing pydantic found wrong, in the parts a one-line error is made of: the
    one home of that reading for the settings, a mapping file and a gateway response."""

    location: tuple[int | str, ...]
    type: str
    #: pydantic's words, without the "Value error, " its validators' messages carry.
    message: str
    #: How many more problems it found.
    others: int

    @property
    def dotted(self) -> str:
        """`api.url`: the location as the keys of a file."""
        return ".".join(str(part) for part in self.location)

    @property
    def indexed(self) -> str:
        """`result[0].amount`: the location as a JSON path, list positions in brackets."""
        path = ""
        for part in self.location:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        return path


def first_problem(error: ValidationError) -> ValidationProblem:
    """The first problem of a pydantic `ValidationError`, for a one-line message."""
    problems = error.errors(include_url=False)
    first = problems[0]
    return ValidationProblem(
        location=tuple(first["loc"]),
        type=first["type"],
        message=first["msg"].removeprefix("Value error, "),
        others=len(problems) - 1,
    )


DEFAULT_API_URL = "https://api.cryptofuse.io"

#: The key of a per-currency table that holds the value of every currency not listed.
DEFAULT_KEY = "default"

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d)")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}

#: The longest duration a threshold may name: ten years is already no threshold at all, and
#: a bound keeps every time computed from one inside what a time can hold.
LONGEST_DURATION = timedelta(days=3650)


#: What `--db` / RECONCILE_DB start with to name a PostgreSQL server rather than a file.
SERVER_SCHEMES = ("postgresql://", "postgres://")


#: The start of libpq's keyword/value connection string (`host=db.example dbname=books`), as
#: psql takes it: a value that starts with one of its keywords and `=` names a server too.
_CONNECTION_STRING = re.compile(
    r"\s*(host|hostaddr|port|dbname|user|password|passfile|service|sslmode|sslrootcert"
    r"|options|application_name|connect_timeout|target_session_attrs)\s*=\s*\S"
)


#: A URL's scheme and `//` (RFC 3986): a value that starts so is a URL, never a file name.
_URL_START = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def database_location(value: str | Path) -> Path | str:
    """A `--db` value as the store opens it: a server URL stays text (a path would fold
    its `//`), a libpq connection string becomes the URL that says the same, anything else
    is a SQLite file's path (docs/postgresql.md). ValueError: a connection string libpq
    does not read, or a URL that names no PostgreSQL server."""
    text = str(value)
    if text.startswith(SERVER_SCHEMES):
        if text != text.rstrip():
            # `$(cat url.txt)` keeps no newline, but a settings file or a variable set
            # from one can: libpq read it as part of the database's name or password.
            redaction.register_url_password(text)
            raise ValueError(
                "ends in a space or a line break: give the URL without it"
                f" ({redaction.mask(text.rstrip())})"
            )
        return text
    if isinstance(value, str) and (url := _URL_START.match(text)):
        return _server_url(text, url.group(1))
    if isinstance(value, str) and _CONNECTION_STRING.match(text):
        return _connection_string_url(text)
    return _home_expanded(Path(text))


def _home_expanded(path: Path) -> Path:
    """`~/books.db` from a settings file or the environment, where no shell expands it,
    as in the user's home (not a folder named `~`); a `~user` unknown here stays as
    written."""
    try:
        return path.expanduser()
    except RuntimeError:
        return path


def _server_url(text: str, scheme: str) -> str:
    """A URL in another spelling of a server's: the scheme in capitals (`POSTGRESQL://`),
    or with a driver as application settings name one (`postgresql+psycopg://`), is the
    same server's URL. Any other scheme is refused: it was meant for a database, and a
    file named after it would take the data and print the URL's password in its name."""
    redaction.register_url_password(text)
    name = scheme.lower()
    server = name.split("+", 1)[0]
    if f"{server}://" in SERVER_SCHEMES:
        return f"{server}://{text[len(scheme) + 3 :]}"
    if server == "sqlite":
        raise ValueError(
            f"is a {name}:// URL: give the SQLite file's own path (e.g. books.db)"
            " or a postgresql:// URL"
        )
    raise ValueError(
        f"is a {name}:// URL, which names no database this product keeps: give a SQLite"
        " file's path or a postgresql:// URL"
    )


def _connection_string_url(text: str) -> str:
    """`host=h port=5432 dbname=books` as `postgresql://?host=h&port=5432&dbname=books`:
    libpq reads every keyword from a URL's query, so the store, its messages and the mask
    (which knows a URL's `password=`) need only the one form."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        pairs = conninfo_to_dict(text)
    except psycopg.ProgrammingError as error:
        # libpq names a keyword it does not know, never a value; other refusals quote
        # the text near the fault, which may be part of a password.
        said = str(error).strip()
        detail = f" ({said})" if said.startswith("invalid connection option") else ""
        raise ValueError(
            f"is a connection string libpq does not read{detail}: give keyword=value"
            " pairs (host=... dbname=... user=...) or a postgresql:// URL"
        ) from None
    url = "postgresql://?" + "&".join(
        f"{quote(name, safe='')}={quote(str(setting), safe='')}" for name, setting in pairs.items()
    )
    redaction.register_url_password(url)
    return url


def default_db_path() -> Path:
    """Where the database lives unless told otherwise: the user's data directory."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "reconcile-tui" / "reconcile.db"


def parse_duration(text: str) -> timedelta:
    """`90m`, `24h`, `3d`: a duration for thresholds."""
    match = _DURATION.fullmatch(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration like 90m, 24h or 3d")
    number, unit = match.groups()
    seconds = Decimal(number) * Decimal(int(timedelta(**{_UNITS[unit]: 1}).total_seconds()))
    if seconds > Decimal(int(LONGEST_DURATION.total_seconds())):
        raise ValueError(f"{text!r} is longer than the longest duration allowed, 3650d")
    return timedelta(seconds=float(seconds))


def location_problem(value: str) -> str | None:
    """Why a database value cannot be used (a connection string libpq refuses), or None."""
    try:
        database_location(value)
    except ValueError as refused:
        return str(refused)
    return None


def secret_problem(value: str) -> str | None:
    """Why `value` cannot be a secret (a control character, such as a trailing newline from
    a file, which no header can carry), or None. Never quotes the value."""
    bad = next((char for char in value if ord(char) < 0x20 or ord(char) == 0x7F), None)
    if bad is None:
        return None
    what = "a newline" if bad in "\r\n" else f"the control character U+{ord(bad):04X}"
    return f"holds {what}; set it without one (the value is not shown)"


def token_problem(value: str) -> str | None:
    """Why `value` cannot be a bearer token (RFC 6750: printable ASCII, no spaces), or None."""
    problem = secret_problem(value)
    if problem is None and not all(0x21 <= ord(char) <= 0x7E for char in value):
        problem = (
            "holds a space or a non-ASCII character, which a bearer token never has"
            " (the value is not shown)"
        )
    return problem


def _exact(value: Any, what: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        raise ValueError(f'{what} {value!r} is a TOML float; write it as a string, e.g. "{value}"')
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string amount")
    try:
        amount = money.parse_amount(value)
    except money.AmountError as error:
        raise ValueError(f"{what}: {error}") from None
    return amount


def _held(value: Any, what: str) -> Decimal:
    try:
        return money.check_held(_exact(value, what))
    except money.AmountError as error:
        raise ValueError(f"{what}: {error}") from None


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApiSettings(_Section):
    """How to reach the gateway."""

    url: str = DEFAULT_API_URL
    """Base URL of the Cryptofuse API."""
    token: SecretStr | None = None
    """A pre-issued bearer token (prefer the CRYPTOFUSE_TOKEN variable)."""
    client_id: str | None = None
    """OAuth client id for the client-credentials grant."""
    client_secret: SecretStr | None = None
    """OAuth client secret (prefer the CRYPTOFUSE_CLIENT_SECRET variable)."""
    connect_timeout: float = Field(default=5.0, gt=0, le=600, allow_inf_nan=False)
    """Seconds to wait for a connection."""
    read_timeout: float = Field(default=20.0, gt=0, le=3600, allow_inf_nan=False)
    """Seconds to wait for each response."""
    deadline: float = Field(default=120.0, gt=0, le=604800, allow_inf_nan=False)
    """Seconds a whole command may spend on the network, retries included."""
    max_attempts: int = Field(default=5, ge=1, le=20)
    """Attempts per request for retryable failures (connection errors, 429, 502-504)."""
    retry_after_cap: float = Field(default=30.0, gt=0, le=3600, allow_inf_nan=False)
    """The longest Retry-After the client honours, in seconds."""
    concurrency: int = Field(default=20, ge=1, le=32)
    """History requests in flight at once. A full fetch of 20 currencies is 21 requests, well
    inside the gateway's 100 a minute, and a 429 is waited out anyway."""
    cache_ttl: float = Field(default=300.0, ge=0, le=86400, allow_inf_nan=False)
    """Seconds a fetched snapshot is reused before fetching again (docs/configuration.md)."""
    full_listing: bool = False
    """List every transaction on each fetch, instead of only those that may have changed
    since the previous fetch's listing (docs/api-client.md, "Incremental fetches")."""
    period: Period = DEFAULT_PERIOD
    """History period fetched by default."""
    interval: Interval = DEFAULT_INTERVAL
    """History bucket size fetched by default."""

    @property
    def shown_url(self) -> str:
        """The URL as every output and stored snapshot names the gateway: a password in
        it (`https://user:pw@host`) masked, so it is neither printed nor stored."""
        redaction.register_url_password(self.url)
        return redaction.mask(self.url)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("token", "client_id", "client_secret", mode="before")
    @classmethod
    def _secret_text(cls, value: Any, info: ValidationInfo) -> Any:
        # A bearer token has stricter rules than the other secrets (docs/configuration.md).
        problem_of = token_problem if info.field_name == "token" else secret_problem
        problem = problem_of(value) if isinstance(value, str) else None
        if problem:
            raise ValueError(problem)
        return value


class RuleSettings(_Section):
    """Thresholds of the reconciliation, per currency (`default` for the rest)."""

    tolerance: dict[str, Decimal] = Field(default_factory=dict)
    """Largest difference still counted as equal, e.g. {default = "0", USDTERC20 = "0.01"}."""
    stale_pending_after: dict[str, timedelta] = Field(default_factory=dict)
    """Age after which a pending record is stale, e.g. {default = "24h", BTC = "6h"}."""
    low_balance: dict[str, Decimal] = Field(default_factory=dict)
    """Available balance below which a wallet is flagged, e.g. {USDTERC20 = "100"}."""
    match_window: timedelta = timedelta(hours=24)
    """How far apart a record and a gateway transaction of the same amount may be dated
    and still be matched, e.g. "24h" (docs/causes.md)."""

    @field_validator("match_window", mode="before")
    @classmethod
    def _window(cls, value: Any) -> timedelta:
        return value if isinstance(value, timedelta) else parse_duration(value)

    @field_validator("tolerance", "low_balance", mode="before")
    @classmethod
    def _amounts(cls, value: Any) -> dict[str, Decimal]:
        if not isinstance(value, dict):
            raise ValueError('expected a table of currency = "amount"')
        return {code: _held(amount, f"{code}") for code, amount in _by_currency(value).items()}

    @field_validator("stale_pending_after", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> dict[str, timedelta]:
        if not isinstance(value, dict):
            raise ValueError('expected a table of currency = "24h"')
        return {
            code: duration if isinstance(duration, timedelta) else parse_duration(duration)
            for code, duration in _by_currency(value).items()
        }


def _by_currency(table: dict[Any, Any]) -> dict[str, Any]:
    """A per-currency table keyed as the gateway and the records write codes (upper case),
    `default` for the rest. A key that is no currency code was ignored without a word,
    and `usdterc20` never matched USDTERC20 (docs/configuration.md)."""
    keyed: dict[str, Any] = {}
    for key, value in table.items():
        written = str(key).strip()
        code = DEFAULT_KEY if written.lower() == DEFAULT_KEY else written.upper()
        if code != DEFAULT_KEY and not CURRENCY_CODE.fullmatch(code):
            raise ValueError(
                f"{written!r} is not a currency code (A-Z, 0-9, _ and -, at most 32) or default"
            )
        if code in keyed:
            raise ValueError(f"{code} is given twice (case is ignored); keep one")
        keyed[code] = value
    return keyed


class StoreSettings(_Section):
    path: Path | str | None = None
    """The database file or `postgresql://` server URL (RECONCILE_DB; default a file in the
    user's data directory)."""
    busy_timeout: float = Field(default=10.0, gt=0, le=3600, allow_inf_nan=False)
    """Seconds to wait for another process's write before giving up (on a server, for
    one writer: a queue that moves is waited through; docs/postgresql.md)."""

    @field_validator("path")
    @classmethod
    def _location(cls, value: Path | str | None) -> Path | str | None:
        # A connection string is read (and its password masked) as soon as it is given.
        return database_location(value) if isinstance(value, str) and value else value


class TuiSettings(_Section):
    keymap: dict[str, str] = Field(default_factory=dict)
    """Keys by binding id, e.g. {"app.refresh" = "f5", "app.discrepancies" = "f2"} (the
    help screen and docs/tui.md list the ids)."""


class Settings(BaseSettings):
    """Everything configurable, from the environment and an optional TOML file."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    api: ApiSettings = ApiSettings()
    reconcile: RuleSettings = RuleSettings()
    store: StoreSettings = StoreSettings()
    tui: TuiSettings = TuiSettings()

    @property
    def db_path(self) -> Path | str:
        return database_location(self.store.path) if self.store.path else default_db_path()


#: The documented environment variables (docs/configuration.md): fixed names, each onto a
#: section's key, with the check that names the variable when its value cannot be used.
ENVIRONMENT: dict[str, tuple[str, str, Callable[[str], str | None] | None]] = {
    "RECONCILE_DB": ("store", "path", location_problem),
    "CRYPTOFUSE_API_URL": ("api", "url", None),
    "CRYPTOFUSE_TOKEN": ("api", "token", token_problem),
    "CRYPTOFUSE_CLIENT_ID": ("api", "client_id", secret_problem),
    "CRYPTOFUSE_CLIENT_SECRET": ("api", "client_secret", secret_problem),
}


class EnvironmentSource(PydanticBaseSettingsSource):
    """The documented environment variables, each placed into its section."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._sections: dict[str, dict[str, str]] = {}
        for name, (section, key, problem_of) in ENVIRONMENT.items():
            value = environ.get(name)
            if name == "RECONCILE_DB" and value is not None and not value.strip():
                # An unset variable in a script (RECONCILE_DB=$DB) must not silently pick
                # the default database: docs/configuration.md.
                raise ConfigError(
                    "environment: RECONCILE_DB is set but empty: give the database file's"
                    " path, or unset it for the default"
                )
            if not value:
                continue
            # Checked here, so the error names the variable the user set.
            problem = problem_of(value) if problem_of else None
            if problem:
                raise ConfigError(f"environment: {name} {problem}")
            self._sections.setdefault(section, {})[key] = value

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._sections.get(field_name), field_name, True

    def __call__(self) -> dict[str, Any]:
        return dict(self._sections)


class ConfigFileSource(PydanticBaseSettingsSource):
    """`--config FILE`: its TOML tables as the sections. Unknown tables are kept, so the
    settings refuse them by name."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._tables = _read_config(path) if path is not None else {}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._tables.get(field_name), field_name, True

    def __call__(self) -> dict[str, Any]:
        return dict(self._tables)


def _read_config(path: Path) -> dict[str, Any]:
    try:
        raw = read_input(path, "configuration file")
    except BadInput as error:
        raise ConfigError(str(error)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    api = data.get("api") if isinstance(data.get("api"), dict) else {}
    if api and ({"token", "client_secret"} & set(api)):
        mode = path.stat().st_mode
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            log.warning(
                "%s holds a secret and can be read by other users; run: chmod 600 %s",
                path,
                path,
            )
    return data


def load_settings(
    config_file: Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from the environment over `config_file` over defaults, or ConfigError."""
    sources = (
        EnvironmentSource(Settings, os.environ if environ is None else environ),
        ConfigFileSource(Settings, config_file),
    )
    where = str(config_file) if config_file else "environment"
    try:
        loaded = Settings(_build_sources=(sources, {}))
    except ValidationError as error:
        problem = first_problem(error)
        message = "unknown setting" if problem.type == "extra_forbidden" else problem.message
        raise ConfigError(f"{where}: {problem.dotted}: {message}") from None
    _register_secrets(loaded.api, loaded.store)
    return loaded


def _register_secrets(api: ApiSettings, store: StoreSettings) -> None:
    """Tell the one mask (reconcile_tui.redaction) every secret these settings hold: the
    API's, and a database server URL's password (docs/postgresql.md)."""
    if store.path is not None:
        redaction.register_url_password(str(store.path))
    if api.token is not None:
        redaction.register_secret(api.token.get_secret_value())
    if api.client_secret is not None:
        redaction.register_client_credentials(
            api.client_id or "", api.client_secret.get_secret_value()
        )
    redaction.register_url_password(api.url)
