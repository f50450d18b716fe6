"""The `reconcile-tui` command: parses options, calls the workspace, maps errors to exit codes.

Exit codes (README.md, "Exit codes"): 0 success / clean; 1 discrepancies at or above
--fail-on (check only); 2 bad usage, input file or configuration; 3 the gateway could not be
reached or refused the credentials; 4 the database is unusable. Every non-zero exit prints
one clear line on stderr (a refused CSV first lists its bad rows as file:line: reason); a
traceback only with --debug. 130 after Ctrl-C; 70 for a bug (please report it)."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.table import Table

from reconcile_tui import report as reports
from reconcile_tui.api.snapshot import GatewaySnapshot
from reconcile_tui.config import Settings, database_location, load_settings
from reconcile_tui.errors import BadFile, BadInput, ReconcileError
from reconcile_tui.files import check_readable, forget_kept, keep, refuse_kept, write_atomically
from reconcile_tui.logs import configure_logging
from reconcile_tui.reconcile.document import CauseCounts
from reconcile_tui.redaction import mask
from reconcile_tui.report.visible import visible
from reconcile_tui.store.db import note_interrupts
from reconcile_tui.store.postgres import is_server_url
from reconcile_tui.times import INTERVALS, PERIODS, age_text
from reconcile_tui.workspace import Workspace

if TYPE_CHECKING:
    # The import's modules load only for the commands that import (docs/performance.md).
    from reconcile_tui.ingest.importer import ImportResult
    from reconcile_tui.ingest.mapping import Layout

__all__ = ["cli", "main"]

EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
#: Bad rows listed on stderr before the summary line; all are counted.
ROWS_LISTED = 100

_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass
class Invocation:
    """What the group-level options say, shared by every command."""

    db: Path | str | None
    config: Path | None
    debug: bool

    def settings(self) -> Settings:
        # Loading registers every secret with the one mask (reconcile_tui.redaction).
        return load_settings(self.config)

    def workspace(self, settings: Settings | None = None, *, create: bool = True) -> Workspace:
        """The workspace on the chosen database; `create=False` for commands that only
        work on an earlier check's findings and must not leave an empty database behind."""
        return Workspace(
            settings or self.settings(), db_path=self.db, create=create, one_command=True
        )


def _who(by: str | None) -> str | None:
    """`--by` as given; an empty one is refused, not taken for the user's name: an unset
    `$NAME` in a script would otherwise sign for whoever runs it."""
    if by is not None and not by.strip():
        raise click.UsageError("--by is empty: give a name, or leave --by out for your user name")
    return by


def _print_whole(
    names: Sequence[str], rows: Sequence[Sequence[str]], *, left: Collection[str]
) -> None:
    """A table of short cells (`left` columns aligned left, the rest right), every column
    whole whatever the terminal's width: a narrow one wraps the lines, but Rich would cut
    or drop a column that does not fit (`closes` lost its state at 40 columns, so a lapsed
    sign-off read like a signed one). What may be long (notes, files) follows the table,
    a line each."""
    table = Table(box=None, highlight=False)
    for name in names:
        table.add_column(name, justify="left" if name in left else "right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    Console(highlight=False, width=_UNBOUNDED).print(table)


#: A width no table of this program reaches: columns are never dropped to fit.
_UNBOUNDED = 10_000


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


#: A file argument, and a folder argument (the commands that write one create it).
_FILE = click.Path(dir_okay=False, path_type=Path)


class _OutputPath(click.Path):
    """A file to write; `-` is standard output, as for most command-line tools (written
    into, never replaced: docs/report.md, writing files)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value == "-":
            return Path("/dev/stdout")
        if isinstance(value, str) and not value.strip():
            self.fail("is empty: give a file to write, or - for standard output", param, ctx)
        return super().convert(value, param, ctx)


_OUTPUT = _OutputPath(dir_okay=False, path_type=Path)
_FOLDER = click.Path(file_okay=False, path_type=Path)


def _history_options(function: _F) -> _F:
    function = click.option(
        "--interval",
        type=click.Choice(INTERVALS),
        default=None,
        help="History bucket size (default: daily, or the config's).",
    )(function)
    return click.option(
        "--period",
        type=click.Choice(PERIODS),
        default=None,
        help="History period (default: 7d, or the config's).",
    )(function)


_full_listing_option = click.option(
    "--full-listing",
    is_flag=True,
    help="List every gateway transaction, not only those that may have changed since the"
    " last fetch.",
)


def _database_path(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> Path | str | None:
    """`--db` as a file's path or a server's URL; an empty value (an unset variable in a
    script) says what to give."""
    if value is None:
        return None
    if not value.strip():
        raise click.BadParameter(
            "is empty: give the database file's path (e.g. --db books.db),"
            " or leave --db out for the default"
        )
    try:
        return database_location(value)
    except ValueError as refused:
        # `refused` names no subject ("is a connection string ..."), for each caller's own.
        raise click.BadParameter(f"the value {refused}") from None


def _need_a_terminal(what: str) -> None:
    """The app draws on a terminal and reads keys from it: without one (a CI job, a pipe,
    a cron entry) it would wait for keys forever, so it is bad usage at once."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise click.UsageError(
            f"{what} needs a terminal (standard input and output are not one): give a"
            " command, e.g. `reconcile-tui check` (`reconcile-tui --help` lists them)"
        )


class _Commands(click.Group):
    """The command group, loading `sandbox` (a web server and a scenario generator) only
    when it is the command run: every other command starts faster."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), "sandbox"])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "sandbox":
            from reconcile_tui.sandbox.commands import sandbox

            return sandbox
        return super().get_command(ctx, name)


@click.group(
    cls=_Commands,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    callback=_database_path,
    default=None,
    help=(
        "Database file, or a shared server's postgresql:// URL (env RECONCILE_DB;"
        " default a file in your data directory)."
    ),
)
@click.option(
    "--config",
    type=_FILE,
    default=None,
    help="TOML configuration file.",
)
@click.option("-v", "--verbose", count=True, help="-v for progress, -vv for debugging detail.")
@click.option("--debug", is_flag=True, help="Show tracebacks (implies -vv).")
@click.version_option(package_name="reconcile-tui", prog_name="reconcile-tui")
@click.pass_context
def cli(
    ctx: click.Context, db: Path | str | None, config: Path | None, verbose: int, debug: bool
) -> int:
    """Reconcile Cryptofuse gateway balances against your own transaction records.

    Without a command, opens the terminal app on your database.
    """
    configure_logging(2 if debug else verbose)
    ctx.obj = Invocation(db=db, config=config, debug=debug)
    if ctx.invoked_subcommand is None:
        from reconcile_tui.tui.launch import run_app

        _need_a_terminal("the app")
        settings = ctx.obj.settings()
        return run_app(settings, db_path=db or settings.db_path)
    return 0


@cli.command()
@click.option("--seed", type=int, default=None, help="Scenario seed (default: the sample data's).")
@click.pass_obj
def demo(invocation: Invocation, seed: int | None) -> int:
    """Open the app on the built-in sandbox and sample data (no credentials, no network).

    The data goes into a temporary file, or into the empty server database `--db` names."""
    from reconcile_tui.config import SERVER_SCHEMES
    from reconcile_tui.tui.launch import run_demo

    _need_a_terminal("the demo")
    server = invocation.db if str(invocation.db).startswith(SERVER_SCHEMES) else None
    return run_demo(seed=seed, database=server)


@cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--mapping", type=_FILE, help="TOML file describing a CSV layout (not the default).")
@click.option(
    "--quarantine", is_flag=True, help="Import the good rows; keep bad ones aside with reasons."
)
@click.option("--dry-run", is_flag=True, help="Validate and report without writing anything.")
@click.pass_obj
def import_(
    invocation: Invocation,
    files: tuple[Path, ...],
    mapping: Path | None,
    quarantine: bool,
    dry_run: bool,
) -> int:
    """Import merchant records from CSV FILES (each file all-or-nothing)."""
    settings = invocation.settings()
    layout = _inputs_first(files, mapping)
    db = invocation.db or settings.db_path
    if dry_run and _would_be_created(db):
        # A dry run writes nothing, a new database file included: it validates against
        # an empty store in memory, where every row is new (docs/mapping.md).
        db = ":memory:"
    with Workspace(settings, db_path=db, one_command=True) as workspace:
        _import_each(
            workspace,
            files,
            _print_import,
            mapping=layout,
            quarantine=quarantine,
            dry_run=dry_run,
        )
    return 0


def _inputs_first(files: Sequence[Path], mapping: Path | None) -> Layout | None:
    """Every file to import opened, and the mapping read, before a database is opened:
    a mistyped path or a refused mapping leaves no new database behind (docs/mapping.md)."""
    for path in files:
        check_readable(path, "CSV file")
    if mapping is None:
        return None
    from reconcile_tui.ingest.mapping import load_mapping

    return load_mapping(mapping)


def _would_be_created(location: Path | str) -> bool:
    return not is_server_url(location) and not Path(location).exists()


def _import_each(
    workspace: Workspace,
    files: Sequence[Path],
    say: Callable[[ImportResult], None],
    **options: Any,
) -> None:
    """Import FILES in order, saying each result as it lands: a file refused stops the
    rest, and the files after it are named as not read (the ones before stay imported,
    each already said)."""
    done: list[ImportResult] = []

    def landed(result: ImportResult) -> None:
        done.append(result)
        say(result)

    try:
        workspace.import_files(files, on_result=landed, **options)
    except ReconcileError:
        if len(done) + 1 < len(files):
            stopped_at = files[len(done)]
            err = _stderr()
            for path in files[len(done) + 1 :]:
                err.print(
                    visible(f"{path}: not read: the import stopped at {stopped_at}"),
                    markup=False,
                )
        raise


def _print_import(result: ImportResult) -> None:
    click.echo(result.summary())
    if result.problem_count:
        err = _stderr()
        for problem in result.problems[:ROWS_LISTED]:
            err.print(f"  quarantined {problem}", markup=False)
        if result.problem_count > ROWS_LISTED:
            err.print(f"  … and {result.problem_count - ROWS_LISTED} more quarantined rows")


@cli.group(invoke_without_command=True)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_context
def imports(ctx: click.Context, fmt: str) -> int:
    """List the imports, newest first: each file's counts, and which were undone."""
    if ctx.invoked_subcommand is not None:
        return 0
    invocation: Invocation = ctx.obj
    with invocation.workspace(create=False) as workspace:
        logged = workspace.import_log(limit=1_000_000)
    if fmt == "json":
        click.echo(json.dumps({"imports": logged}, indent=2))
        return 0
    if not logged:
        click.echo("nothing has been imported yet")
        return 0
    console = Console(highlight=False, soft_wrap=True)
    names = ("#", "imported at", "read", "new", "updated", "unchanged", "state")
    rows = [
        (
            str(entry["id"]),
            str(entry["imported_at"]),
            str(entry["rows_read"]),
            str(entry["inserted"]),
            str(entry["updated"]),
            str(entry["unchanged"]),
            "undone" if entry["undone_at"] else "in force",
        )
        for entry in logged
    ]
    _print_whole(names, rows, left=("imported at", "state"))
    for entry in logged:
        console.print(f"#{entry['id']} file: {visible(str(entry['path']))}", markup=False)
    for entry in logged:
        if entry["undone_at"]:
            console.print(
                f"#{entry['id']} undone at {entry['undone_at']} by"
                f" {visible(str(entry['undone_by']))}: {visible(str(entry['undo_note']))}",
                markup=False,
            )
    return 0


@imports.command("undo")
@click.argument("import_id", metavar="ID", type=click.IntRange(min=1))
@click.option("--note", required=True, help="Why the import is taken back.")
@click.option("--by", default=None, help="Who takes it back (default: your user name).")
@click.pass_obj
def undo_import(invocation: Invocation, import_id: int, note: str, by: str | None) -> int:
    """Take the latest import ID back: its records go, its row stays in the list, undone.

    Only an import that added records alone can be undone (docs/mapping.md)."""
    with invocation.workspace(create=False) as workspace:
        path, removed = workspace.undo_import(import_id, note, by=_who(by))
    click.echo(
        f"import #{import_id} of {visible(path)} undone: {removed} record"
        f"{'s' if removed != 1 else ''} removed; `reconcile-tui check` shows the books"
        " without them"
    )
    return 0


@cli.group()
def db() -> None:
    """The database itself: copy a whole store between a file and a server."""


@db.command("copy")
@click.argument("source", metavar="SRC")
@click.argument("destination", metavar="DST")
@click.pass_obj
def copy_database(invocation: Invocation, source: str, destination: str) -> int:
    """Copy every import, snapshot, run, acknowledgement and sign-off from SRC into the
    empty DST (each a SQLite file or a postgresql:// URL), in one transaction."""
    from reconcile_tui.store.copy import copy_store
    from reconcile_tui.store.db import NoDatabase, Store

    settings = invocation.settings()
    timeout = settings.store.busy_timeout
    for value in (source, destination):
        if not value.strip():
            raise BadInput("db copy: give SRC and DST (a database file or a postgresql:// URL)")
    locations = []
    for name, value in (("SRC", source), ("DST", destination)):
        try:
            locations.append(database_location(value))
        except ValueError as refused:
            raise BadInput(f"db copy: {name} {refused}") from None
    try:
        origin = Store(locations[0], busy_timeout=timeout, create=False)
    except NoDatabase as missing:
        raise BadInput(f"{missing}: nothing to copy") from None
    with origin:
        target = Store(locations[1], busy_timeout=timeout)
        try:
            if origin.path == target.path:
                raise BadInput(f"db copy: SRC and DST are the same database ({origin.path})")
            counts = copy_store(origin, target)
        except BaseException:
            # The copy is one transaction: a failed one leaves DST empty, and a DST file
            # this command made is removed rather than left behind empty.
            target.close_unused()
            raise
        target.close()
        click.echo(f"copied {counts.summary()} from {origin.path} to {target.path}")
    return 0


@cli.group()
def mapping() -> None:
    """Mapping files: how a CSV layout other than the default is read."""


@mapping.command("draft")
@click.argument("file", type=_FILE)
@click.option(
    "--output",
    type=_OUTPUT,
    help="Write the drafted mapping to this file instead of printing it.",
)
def draft_mapping(file: Path, output: Path | None) -> int:
    """Propose a mapping for FILE, as commented TOML to review before importing."""
    from reconcile_tui.ingest.draft import draft_mapping as draft

    text = draft(file)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomically(output, text.encode("utf-8"))
        _stderr().print(
            f"{output}: mapping drafted from {file}; review it, then import with "
            f"--mapping {output}",
            markup=False,
        )
    return 0


@cli.command()
@_history_options
@click.option("--currency", "currencies", multiple=True, help="Only this currency (repeatable).")
@click.option(
    "--save",
    type=_FOLDER,
    help="Also write the responses to DIR.",
)
@click.option("--refresh", is_flag=True, help="Ignore the cache and fetch now.")
@_full_listing_option
@click.pass_obj
def fetch(
    invocation: Invocation,
    period: str | None,
    interval: str | None,
    currencies: tuple[str, ...],
    save: Path | None,
    refresh: bool,
    full_listing: bool,
) -> int:
    """Fetch balances, balance history and transactions from the gateway into the database."""
    with invocation.workspace() as workspace:
        outcome = workspace.fetch(
            period=period,
            interval=interval,
            currencies=list(currencies) or None,
            refresh=refresh,
            full_listing=full_listing,
            save_to=save,
        )
        snapshot = outcome.snapshot
        age = age_text(workspace.clock() - snapshot.fetched_at)
        source = f"cached, {age} old" if outcome.from_cache else "fetched now"
        codes = ", ".join(balance.currency for balance in snapshot.balances.balances) or "none"
        click.echo(
            f"snapshot #{outcome.snapshot_id} from {snapshot.base_url} ({source}):"
            f" {len(snapshot.balances.balances)} currencies ({codes}),"
            f" history {snapshot.period} {snapshot.interval} for {len(snapshot.histories)},"
            f" {_transactions_text(snapshot)}"
        )
        if snapshot.transactions_note:
            # Not a failure: causes fall back to the balance level (docs/api-client.md).
            click.echo(f"note: {snapshot.transactions_note}")
        if save is not None:
            click.echo(f"saved {len(outcome.saved)} files to {save}")
    return 0


def _history_as_asked(
    snapshot: GatewaySnapshot,
    period: str | None,
    interval: str | None,
    *,
    held_by: str,
    remedy: str,
) -> None:
    """`check --offline` or `--api-dir` with `--period/--interval` checks what is stored or
    saved only if its history is the one asked for: both used to check whatever they had,
    without a word. `remedy` is what to run instead, `{option} {asked}` filled in."""
    for option, asked, stored in (
        ("--period", period, snapshot.period),
        ("--interval", interval, snapshot.interval),
    ):
        if asked is not None and asked != stored:
            raise BadInput(
                f"{option} {asked}: {held_by} a {snapshot.period} {snapshot.interval} history;"
                f" {remedy.replace('{option}', option).replace('{asked}', asked)}, or leave"
                f" {option} out to check it"
            )


def _transactions_text(snapshot: GatewaySnapshot) -> str:
    listed = snapshot.transactions
    if listed is None:
        return "transactions not fetched"
    if snapshot.listing_from is not None:
        since = snapshot.listing_from.isoformat()
        return f"{len(listed)} transactions (those created from {since} on fetched again)"
    return f"{len(listed)} transactions"


@cli.command()
@click.option(
    "--records",
    "record_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Import this CSV first (repeatable).",
)
@click.option("--mapping", type=_FILE, help="Layout of --records files.")
@click.option(
    "--quarantine", is_flag=True, help="With --records: keep bad rows aside instead of refusing."
)
@click.option(
    "--api-dir",
    type=_FOLDER,
    help="Use saved responses (balances.json + history/) instead of the gateway.",
)
@click.option(
    "--offline", is_flag=True, help="Use the last stored snapshot instead of the gateway."
)
@_history_options
@click.option(
    "--currency", "currencies", multiple=True, help="Only fetch this currency (repeatable)."
)
@click.option("--refresh", is_flag=True, help="Ignore the cache and fetch now.")
@_full_listing_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(reports.FORMATS),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option("--output", type=_OUTPUT, help="Write the report here (- for standard output).")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "never"]),
    default="error",
    show_default=True,
    help="Exit 1 when open discrepancies reach this severity.",
)
@click.pass_obj
def check(
    invocation: Invocation,
    record_files: tuple[Path, ...],
    mapping: Path | None,
    quarantine: bool,
    api_dir: Path | None,
    offline: bool,
    period: str | None,
    interval: str | None,
    currencies: tuple[str, ...],
    refresh: bool,
    full_listing: bool,
    fmt: str,
    output: Path | None,
    fail_on: str,
) -> int:
    """Reconcile the records against the gateway and report every discrepancy."""
    if api_dir is not None and offline:
        raise click.UsageError("--api-dir and --offline are alternatives; give one")
    # Options that only a fetch reads were ignored without a word by a check that does not
    # fetch (README, "In CI").
    not_fetching = "--offline" if offline else "--api-dir" if api_dir is not None else None
    for given, option in ((refresh, "--refresh"), (currencies, "--currency"),
                          (full_listing, "--full-listing")):  # fmt: skip
        if given and not_fetching:
            raise click.UsageError(
                f"{option} is for fetching from the gateway; {not_fetching} does not fetch:"
                f" give one"
            )
    if mapping is not None and not record_files:
        raise click.UsageError("--mapping is the layout of --records files: give --records FILE")
    # Offline, with nothing to import, the check reads what is stored: a mistyped path
    # must not leave an empty database (and its folders) behind; nor may a file to import
    # that cannot be read, or a mapping refused.
    layout = _inputs_first(record_files, mapping)
    # So are gateway answers that cannot be used: the store stays as it was, the records'
    # file not imported.
    saved = Workspace.read_saved_responses(api_dir) if api_dir is not None else None
    if saved is not None:
        _history_as_asked(
            saved, period, interval,
            held_by=f"the answers saved in {api_dir} hold",
            remedy="save them again with `reconcile-tui fetch {option} {asked}"
            f" --save {api_dir}`",
        )  # fmt: skip
    with invocation.workspace(create=not offline or bool(record_files)) as workspace:
        # The report's file is checked before any work: never over the database or a
        # file read, and nothing stored when it is refused.
        for record_file in record_files:
            keep(record_file, "the CSV file this command reads")
        if output is not None:
            refuse_kept(output)
        if offline:
            snapshot_id, snapshot = workspace.latest_snapshot()
            _history_as_asked(
                snapshot, period, interval,
                held_by=f"the stored snapshot #{snapshot_id} holds",
                remedy="run `reconcile-tui fetch {option} {asked}` first",
            )  # fmt: skip
        # The gateway is asked before any import, and what it answered stored after it:
        # a gateway that cannot be reached (exit 3) leaves the records' file unimported.
        fetched = (
            workspace.fetch_first(
                period=period,
                interval=interval,
                currencies=list(currencies) or None,
                refresh=refresh,
                full_listing=full_listing,
            )
            if saved is None and not offline
            else None
        )
        if record_files:
            _import_each(
                workspace,
                record_files,
                lambda imported: _stderr().print(imported.summary(), markup=False),
                mapping=layout,
                quarantine=quarantine,
            )
        if saved is not None:
            snapshot_id, snapshot = workspace.store_saved_responses(saved)
        elif fetched is not None:
            outcome = fetched()
            snapshot_id, snapshot = outcome.snapshot_id, outcome.snapshot
        result = workspace.check(snapshot_id, snapshot)
        document = result.document()
        if output is not None:
            write_atomically(output, reports.render_bytes(document, fmt))
            _stderr().print(f"report written to {output}", markup=False)
        elif fmt == "text":
            reports.render_text(document, Console(highlight=False))
        else:
            sys.stdout.write(reports.render_bytes(document, fmt).decode("utf-8"))
        if result.report.fails(fail_on):
            _stderr().print(_open_causes(result.report.cause_counts(), fail_on), markup=False)
            return 1
        return 0


@cli.command()
@click.option(
    "--output",
    required=True,
    type=_OUTPUT,
    help="File to write (- for standard output).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--discrepancies",
    is_flag=True,
    help="Also list every discrepancy, one row each, after the causes (csv).",
)
@click.pass_obj
def export(invocation: Invocation, output: Path, fmt: str, discrepancies: bool) -> int:
    """Export the latest check's causes (and discrepancies) for auditors."""
    with invocation.workspace(create=False) as workspace:
        count = workspace.export(output, fmt, discrepancies=discrepancies)
    what = "rows" if fmt == "csv" else "discrepancies and their causes"
    # On stderr: the export itself may be going to standard output.
    _stderr().print(f"{count} {what} written to {output}", markup=False)
    return 0


@cli.command()
@click.argument("discrepancy_id", metavar="ID")
@click.option("--note", default=None, help="Why the difference is accepted (or withdrawn).")
@click.option("--by", default=None, help="Who accepts it (default: your user name).")
@click.option(
    "--withdraw",
    is_flag=True,
    help="Withdraw its acknowledgement instead: it counts as open again (history keeps both).",
)
@click.pass_obj
def ack(
    invocation: Invocation, discrepancy_id: str, note: str | None, by: str | None, withdraw: bool
) -> int:
    """Acknowledge a cause or a discrepancy of the latest check (by id or unique id
    prefix); a cause covers every discrepancy it explains."""
    if withdraw:
        with invocation.workspace(create=False) as workspace:
            found = workspace.withdraw_acknowledgement(discrepancy_id, note or "", by=_who(by))
        state = "still acknowledged" if found["acknowledged"] else "open again"
        click.echo(
            f"withdrew the acknowledgement of {found['id']} ({visible(found['withdrawn'].note)!r}"
            f" by {visible(found['withdrawn'].acknowledged_by)}): {state}"
        )
        return 0
    if note is None:
        raise BadInput("ack needs --note saying why the difference is accepted")
    with invocation.workspace(create=False) as workspace:
        found = workspace.acknowledge(discrepancy_id, note, by=_who(by))
    amount = found["accepted"]
    if found["what"] == "cause":
        explains = len(found["explains"])
        accepted = f" (amount {amount} accepted" if amount is not None else " ("
        accepted += f"{', ' if amount is not None else ''}covers {explains} discrepanc"
        accepted += "y)" if explains == 1 else "ies)"
    else:
        accepted = f" (difference {amount} accepted)" if amount is not None else ""
    click.echo(f"acknowledged {found['id']}: {visible(found['message'])}{accepted}")
    return 0


@cli.command()
@click.argument("period", metavar="PERIOD")
@click.option("--note", required=True, help="What was checked before signing off.")
@click.option(
    "--accept-open", is_flag=True, help="Sign off even while causes in the period are open."
)
@click.option("--by", default=None, help="Who signs off (default: your user name).")
@click.pass_obj
def close(invocation: Invocation, period: str, note: str, accept_open: bool, by: str | None) -> int:
    """Sign a period off (YYYY-MM or YYYY-MM-DD..YYYY-MM-DD, UTC days): its balances at
    the end and movements on both sides; refused while causes in it are open."""
    with invocation.workspace(create=False) as workspace:
        review, sign_off = workspace.close_period(
            period, note, accept_open=accept_open, by=_who(by)
        )
    for code, figures in review.figures.items():
        if figures.gateway_balance is None:
            click.echo(
                f"{code}: no gateway history; records {figures.records_deposit_count}"
                f" deposits of {figures.records_deposits}, {figures.records_withdrawal_count}"
                f" withdrawals of {figures.records_withdrawals} in {review.period.label}"
            )
            continue
        records = "unknown" if figures.records_balance is None else figures.records_balance
        click.echo(
            f"{code}: gateway {figures.gateway_balance}, records {records} at"
            f" {review.period.last.isoformat()}"
        )
    if short := review.short_history():
        click.echo(short)
    accepted = f", accepting {sign_off.open_causes} open" if sign_off.open_causes else ""
    click.echo(f"closed {review.period.label} by {visible(sign_off.signed_by)}{accepted}")
    return 0


@cli.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_obj
def closes(invocation: Invocation, fmt: str) -> int:
    """List every sign-off, and which have lapsed since and why."""
    with invocation.workspace(create=False) as workspace:
        listed = workspace.sign_offs()
    if fmt == "json":
        click.echo(json.dumps({"closes": listed}, indent=2))
        return 0
    if not listed:
        click.echo("no period has been closed yet")
        return 0
    rows = [
        (
            f"{entry['from']}..{entry['to']}",
            entry["state"],
            visible(entry["by"]),
            entry["at"],
            str(entry["open_causes"]),
        )
        for entry in listed
    ]
    _print_whole(
        ("period", "state", "by", "at", "open"), rows, left=("period", "state", "by", "at")
    )
    console = Console(highlight=False, soft_wrap=True)
    for entry in listed:
        console.print(
            f"{entry['from']}..{entry['to']} note: {visible(entry['note'])}", markup=False
        )
    for entry in listed:
        if entry["lapsed_because"]:
            console.print(
                f"{entry['from']}..{entry['to']} lapsed: {entry['lapsed_because']}", markup=False
            )
    return 0


def _open_causes(causes: CauseCounts, fail_on: str) -> str:
    """The one line `check` prints on stderr when it exits 1: how many open causes."""
    errors, warnings = causes["errors"], causes["warnings"]

    def many(count: int, what: str) -> str:
        return f"{count:,} {what}{'s' if count != 1 else ''}"

    # The total first, as the report's headline counts; then which of them fail.
    count = errors + warnings if fail_on == "warning" else errors
    failing = f"{count:,}" if fail_on == "warning" else f"the {many(errors, 'error')}"
    verb = "fails" if count == 1 else "fail"
    return (
        f"{many(errors + warnings, 'open cause')} ({many(errors, 'error')},"
        f" {many(warnings, 'warning')}); {failing} {verb} at --fail-on {fail_on};"
        " acknowledge with `reconcile-tui ack ID --note ...`"
    )


def _fail(message: str, code: int) -> NoReturn:
    # Whatever the message quotes (a gateway's error body, a library's complaint about a
    # header), no secret is shown: docs/configuration.md, "Secrets".
    _stderr().print(f"error: {visible(mask(message))}", markup=False)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point: run the command and exit with the codes README.md documents, never a
    traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if threading.current_thread() is threading.main_thread():
        note_interrupts()  # Ctrl-C inside the store's SQL functions stays Ctrl-C
    forget_kept()
    try:
        code = cli.main(args=args, prog_name="reconcile-tui", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("interrupted", EXIT_INTERRUPTED)
    except click.ClickException as error:
        _fail(error.format_message(), 2)
    except BadFile as error:
        err = _stderr()
        for problem in error.problems[:ROWS_LISTED]:
            err.print(visible(mask(str(problem))), markup=False)
        hidden = len(error.problems) - ROWS_LISTED
        if hidden > 0:
            err.print(f"… and {hidden} more listed rows", markup=False)
        _fail(str(error), error.exit_code)
    except ReconcileError as error:
        if debug:
            logging.getLogger(__name__).exception("failed")
        _fail(str(error), error.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_INTERRUPTED)
    except Exception as error:  # a bug: say so in one line, traceback only on request
        if debug:
            raise
        _fail(
            f"internal error: {type(error).__name__}: {error} (rerun with --debug)", EXIT_INTERNAL
        )
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
