"""`reconcile-tui sandbox serve|generate`: the simulated gateway and its scenarios, from the shell.

Bad option values raise `BadInput` (exit 2, one line). The commands return their exit
code, as every command of the CLI does.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import click

from reconcile_tui.errors import BadInput
from reconcile_tui.sandbox.config import BREAKERS, LISTING_MODES, SandboxConfig
from reconcile_tui.sandbox.generate import SCENARIO, generate_scenario
from reconcile_tui.sandbox.server import bind, serve_forever, url_of
from reconcile_tui.times import (
    DEFAULT_INTERVAL,
    DEFAULT_PERIOD,
    INTERVALS,
    PERIODS,
    TimeError,
    format_utc,
    parse_api_time,
)

__all__ = ["sandbox"]


def _clock(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_api_time(text)
    except TimeError as error:
        raise BadInput(f"--clock: {error}") from None


def _ledger_options(
    seed: int | None,
    records: int | None,
    currencies: int | None,
    days: int | None,
    clock: str | None,
) -> dict[str, Any]:
    given = {
        "seed": seed,
        "records": records,
        "currencies": currencies,
        "days": days,
        "clock": _clock(clock),
    }
    return {name: value for name, value in given.items() if value is not None}


def _per_currency(option: str, given: tuple[str, ...]) -> dict[str, str]:
    """CODE=AMOUNT pairs of a repeatable option, as a table (the amounts checked later)."""
    table: dict[str, str] = {}
    for pair in given:
        code, equals, text = pair.partition("=")
        if not equals or not code.strip() or code.strip() in table:
            raise BadInput(f"{option} takes CODE=AMOUNT once per currency, not {pair!r}")
        table[code.strip()] = text.strip()
    return table


#: A folder (the command creates it if missing).
_FOLDER: Final = click.Path(file_okay=False, path_type=Path)


def _report_history(function: Any) -> Any:
    """--period and --interval: the history the expected report is for."""
    for name, choices, default, what in (
        ("--interval", INTERVALS, DEFAULT_INTERVAL, "History bucket size"),
        ("--period", PERIODS, DEFAULT_PERIOD, "History period"),
    ):
        option = click.option(
            name,
            type=click.Choice(choices),
            default=default,
            show_default=True,
            help=f"{what} the expected report is for.",
        )
        function = option(function)
    return function


def _ledger(function: Any) -> Any:
    """The options that decide the synthetic ledger (shared by serve and generate)."""
    for option in reversed(
        (
            click.option("--seed", type=int, default=None, help="Ledger seed [default: 1]."),
            click.option(
                "--records",
                type=int,
                default=None,
                help="Transactions in the ledger [default: 3000 to serve, 500 to generate].",
            ),
            click.option(
                "--currencies",
                type=int,
                default=None,
                help="How many currencies the account holds, 1-20 [default: 5].",
            ),
            click.option("--days", type=int, default=None, help="Days of history [default: 90]."),
            click.option(
                "--clock",
                default=None,
                help="The gateway's fixed 'now' [default: 2025-01-15T10:00:00Z].",
            ),
        )
    ):
        function = option(function)
    return function


@click.group()
def sandbox() -> None:
    """The built-in Cryptofuse API simulator and its scenario generator."""


@sandbox.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port (0: any free one).",
)
@_ledger
@click.option(
    "--scenario",
    type=click.Path(path_type=Path),
    default=None,
    help="Serve the ledger of a generated scenario (its scenario.json, or its directory).",
)
@click.option("--latency-ms", type=int, default=0, show_default=True, help="Delay per request.")
@click.option(
    "--error-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Fraction of data requests answered 503.",
)
@click.option(
    "--rate-limit", type=int, default=None, help="Data requests per minute; then 429 + Retry-After."
)
@click.option(
    "--token-ttl", type=int, default=3600, show_default=True, help="Issued tokens' lifetime (s)."
)
@click.option("--fail-first", type=int, default=0, help="Fail the first N data requests.")
@click.option(
    "--fail-status", type=int, default=503, show_default=True, help="Status of --fail-first."
)
@click.option("--fail-always", type=int, default=None, help="Fail every data request with STATUS.")
@click.option(
    "--break-invariant",
    type=click.Choice(sorted(BREAKERS)),
    default=None,
    help="Make the API contradict itself in one invariant.",
)
@click.option(
    "--transactions",
    type=click.Choice(LISTING_MODES),
    default="served",
    show_default=True,
    help="How the transaction listing answers: served, absent (404) or refused (403).",
)
@click.option(
    "--allow-remote", is_flag=True, help="Allow a non-loopback --host (the credentials are public)."
)
def serve(
    host: str,
    port: int,
    seed: int | None,
    records: int | None,
    currencies: int | None,
    days: int | None,
    clock: str | None,
    scenario: Path | None,
    latency_ms: int,
    error_rate: float,
    rate_limit: int | None,
    token_ttl: int,
    fail_first: int,
    fail_status: int,
    fail_always: int | None,
    break_invariant: str | None,
    transactions: str,
    allow_remote: bool,
) -> int:
    """Serve the simulated gateway over HTTP until Ctrl-C."""
    ledger = _ledger_options(seed, records, currencies, days, clock)
    behaviour: dict[str, Any] = {
        "latency_ms": latency_ms,
        "error_rate": error_rate,
        "rate_limit": rate_limit,
        "token_ttl": token_ttl,
        "fail_first": fail_first,
        "fail_status": fail_status,
        "fail_always": fail_always,
        "transactions": transactions,
    }
    if break_invariant is not None:
        behaviour["break_invariant"] = break_invariant
    if scenario is not None:
        if ledger:
            raise BadInput(f"--{next(iter(ledger))} cannot be combined with --scenario")
        path = scenario / SCENARIO if scenario.is_dir() else scenario
        config = SandboxConfig.from_scenario(path, **behaviour)
    else:
        config = SandboxConfig(**(ledger | behaviour))
    sock = bind(host, port, allow_remote=allow_remote)
    url = url_of(sock)
    spec = config.ledger
    click.echo(
        f"Cryptofuse sandbox at {url} (seed {spec.seed}, {spec.records} records,"
        f" {len(spec.codes)} currencies, clock {format_utc(spec.clock)})"
    )
    click.echo(f"  client id      {config.client_id}")
    click.echo(f"  client secret  {config.client_secret}")
    if config.static_token:
        click.echo(f"  static token   {config.static_token}")
        click.echo(f"Try: CRYPTOFUSE_API_URL={url} CRYPTOFUSE_TOKEN={config.static_token}")
    click.echo("Press Ctrl-C to stop.")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a sandbox ends
        serve_forever(sock, config)
    click.echo("sandbox stopped")
    return 0


@sandbox.command()
@click.option(
    "--out", required=True, type=_FOLDER, help="Folder for the scenario (created if missing)."
)
@_ledger
@click.option(
    "--discrepancies",
    type=int,
    default=10,
    show_default=True,
    help="Merchant-side mistakes to plant, cycling through every kind.",
)
@_report_history
@click.option(
    "--bank-export",
    is_flag=True,
    help="Also write the records in a bank layout (bank-export.csv + bank-export.toml).",
)
@click.option(
    "--break-invariant",
    type=click.Choice(sorted(BREAKERS)),
    default=None,
    help="The scenario's API contradicts itself in one invariant.",
)
@click.option(
    "--tolerance",
    "tolerances",
    multiple=True,
    metavar="CODE=AMOUNT",
    help="A tolerance the check is given (reconcile.toml), e.g. USDTERC20=0.5; repeatable.",
)
@click.option(
    "--low-balance",
    "low_balance",
    multiple=True,
    metavar="CODE=AMOUNT",
    help="A low-balance threshold the check is given (reconcile.toml); repeatable.",
)
def generate(
    out: Path,
    seed: int | None,
    records: int | None,
    currencies: int | None,
    days: int | None,
    clock: str | None,
    discrepancies: int,
    period: str,
    interval: str,
    bank_export: bool,
    break_invariant: str | None,
    tolerances: tuple[str, ...],
    low_balance: tuple[str, ...],
) -> int:
    """Write a merchant CSV with planted mistakes and the report a check must give."""
    options = {"records": 500} | _ledger_options(seed, records, currencies, days, clock)
    config = SandboxConfig(**options, break_invariant=break_invariant)
    written = generate_scenario(
        out,
        config,
        discrepancies=discrepancies,
        period=period,
        interval=interval,
        bank_export=bank_export,
        tolerances=_per_currency("--tolerance", tolerances),
        low_balance=_per_currency("--low-balance", low_balance),
    )
    summary = written.expected["summary"]
    click.echo(
        f"{written.rows} rows with {len(written.plants)} planted mistakes written to"
        f" {written.directory}; a check ({period}, {interval}) must report"
        f" {summary['errors']} errors and {summary['warnings']} warnings"
    )
    for path in written.files:
        click.echo(f"  {path}")
    return 0
