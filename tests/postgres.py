"""A PostgreSQL server for the tests: the one named by the environment, or a throwaway cluster.

`RECONCILE_TEST_POSTGRES=postgresql://USER:PASS@HOST:PORT/DB` names a server the tests may
use (the role needs CREATEDB: every test gets its own database; and CREATEROLE: a test
plays a second person with a role of their own). Without it, the tests start their own
cluster on loopback in a temporary directory with the server binaries of Debian's
`postgresql` package (as the `postgres` user when run as root: `initdb` refuses root), and
stop it at the end. See docs/postgresql.md.

    python -m tests.postgres start DIR    start a cluster in DIR (new or empty), print its URL
    python -m tests.postgres stop DIR     stop that cluster and remove DIR

The cluster management needs only the standard library, so `.ci/run` can call it before
anything else is installed; the database helpers import psycopg when they are called.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit, urlunsplit

__all__ = [
    "ENVIRONMENT",
    "Cluster",
    "NoPostgres",
    "create_database",
    "drop_database",
    "find_server_binaries",
    "fresh_database",
    "masked",
    "pooled",
    "server_for_tests",
    "start_cluster",
    "terminate_backends",
    "terminated_when_running",
    "with_database",
    "without_password",
    "wrong_password",
]

ENVIRONMENT: Final = "RECONCILE_TEST_POSTGRES"
#: The oldest server the product supports (docs/postgresql.md).
OLDEST_VERSION: Final = 14
#: Where Debian's packages put each major version's server binaries.
DEBIAN_ROOT: Final = Path("/usr/lib/postgresql")
INSTALL_HINT: Final = (
    f"no PostgreSQL server for the tests: install Debian's postgresql package"
    f" (apt-get install postgresql, version {OLDEST_VERSION} or newer) or set {ENVIRONMENT}"
    f"=postgresql://USER:PASS@HOST:PORT/DB"
)
#: The role and database the throwaway cluster creates for the tests.
ROLE: Final = "reconcile"
DATABASE: Final = "reconcile"
#: A throwaway cluster need not survive a crash: no fsync keeps CREATE DATABASE and every
#: commit cheap. Only loopback TCP is served; the Unix socket lives in the cluster's own
#: directory so it never meets a system server's.
SERVER_SETTINGS: Final = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
_STATE: Final = "cluster.json"


class NoPostgres(RuntimeError):
    """Neither a server named by the environment nor the binaries to start one."""


def masked(url: str) -> str:
    """`url` with its password replaced by `***`, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def wrong_password(url: str) -> str:
    """`url` with a password the server will refuse (the user and everything else kept)."""
    parts = urlsplit(url)
    user, _, host = parts.netloc.rpartition("@")
    name = user.split(":", 1)[0] or ROLE
    refused = "wrong-" + secrets.token_hex(8)
    return urlunsplit(parts._replace(netloc=f"{name}:{refused}@{host}"))


def without_password(url: str) -> tuple[str, str | None]:
    """(`url` without its password, the password): for a child process, which then reads
    the password from PGPASSWORD rather than from a command line anyone may list."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, None
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.split(':', 1)[0]}@{host}")), unquote(
        parts.password
    )


def with_database(url: str, database: str) -> str:
    """`url` naming `database` instead of its own."""
    return urlunsplit(urlsplit(url)._replace(path="/" + quote(database)))


def as_role(url: str, role: str, password: str) -> str:
    """`url` logging in as `role` with `password` instead of its own."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{quote(role)}:{quote(password)}@{host}"))


# -- the server binaries ------------------------------------------------------------------


def _major_version(bindir: Path) -> int:
    finished = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=False
    )
    found = re.search(r"(\d+)(?:\.\d+)?", finished.stdout)
    return int(found[1]) if found else 0


def find_server_binaries(
    debian_root: Path = DEBIAN_ROOT, path: str | None = None, oldest: int = OLDEST_VERSION
) -> Path:
    """The directory of the newest `initdb`/`pg_ctl`/`postgres`: Debian's layout first, then
    PATH (other systems put them there); NoPostgres when none is recent enough."""
    candidates = sorted(
        (d / "bin" for d in debian_root.glob("*") if d.name.isdigit()),
        key=lambda bindir: int(bindir.parent.name),
        reverse=True,
    )
    on_path = shutil.which("initdb", path=path if path is not None else os.environ.get("PATH"))
    if on_path:
        candidates.append(Path(on_path).parent)
    tools = ("initdb", "pg_ctl", "postgres", "psql")
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in tools) and _major_version(bindir) >= oldest:
            return bindir
    raise NoPostgres(INSTALL_HINT)


# -- a throwaway cluster ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user() -> list[str]:
    """The prefix that runs a server binary: as `postgres` under root, which initdb refuses."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        runuser = None
    if runuser is None:
        raise NoPostgres(
            "running the tests as root needs the postgres user and runuser to start a"
            " PostgreSQL server: " + INSTALL_HINT
        )
    return [runuser, "-u", "postgres", "--"]


def _run(command: Sequence[str | Path], what: str) -> None:
    finished = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False
    )
    if finished.returncode != 0:
        detail = (finished.stderr or finished.stdout).strip().splitlines()
        raise NoPostgres(f"{what} failed: {detail[-1] if detail else finished.returncode}")


@dataclass
class Cluster:
    """A PostgreSQL cluster of our own in `directory`, serving loopback on `port`."""

    directory: Path
    bindir: Path
    port: int
    password: str

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    @property
    def url(self) -> str:
        """The tests' role and database, over loopback TCP with its password."""
        return f"postgresql://{ROLE}:{self.password}@127.0.0.1:{self.port}/{DATABASE}"

    def _pg_ctl(self, *arguments: str) -> list[str | Path]:
        return [*_as_server_user(), self.bindir / "pg_ctl", "-D", self.data, *arguments]

    def start(self) -> None:
        """Start the server (again) on its port; waits until it accepts connections."""
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-c port={self.port}",
            f"-c unix_socket_directories={self.directory}",
            *(f"-c {setting}" for setting in SERVER_SETTINGS),
        ]
        _run(
            self._pg_ctl("-l", str(self.log), "-w", "-o", " ".join(options), "start"),
            f"starting PostgreSQL on 127.0.0.1:{self.port} (log: {self.log})",
        )

    def stop(self) -> None:
        """Stop the server at once (connections are cut); the data directory stays."""
        _run(self._pg_ctl("-w", "-m", "fast", "stop"), "stopping PostgreSQL")

    def remove(self) -> None:
        """Stop the server if it runs, then delete its directory."""
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def save(self) -> None:
        state = {"bindir": str(self.bindir), "port": self.port, "password": self.password}
        (self.directory / _STATE).write_text(json.dumps(state), encoding="utf-8")
        (self.directory / _STATE).chmod(0o600)

    @classmethod
    def load(cls, directory: Path) -> Cluster:
        state = json.loads((directory / _STATE).read_text(encoding="utf-8"))
        return cls(directory, Path(state["bindir"]), int(state["port"]), state["password"])


def start_cluster(directory: Path | None = None) -> Cluster:
    """Initialise and start a cluster with a password role `reconcile` (CREATEDB,
    CREATEROLE) that owns a database `reconcile`; host connections must give the password
    (scram-sha-256)."""
    bindir = find_server_binaries()
    prefix = _as_server_user()
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="reconcile-postgres-"))
    else:
        directory.mkdir(parents=True, exist_ok=True)
        if any(directory.iterdir()):
            raise NoPostgres(f"{directory} is not empty: a new cluster needs an empty directory")
    cluster = Cluster(directory, bindir, _free_port(), secrets.token_hex(12))
    if prefix:
        owner = pwd.getpwnam("postgres")
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    try:
        _run(
            [
                *prefix,
                bindir / "initdb",
                "-D",
                cluster.data,
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ],
            "initdb",
        )
        for attempt in range(3):
            try:
                cluster.start()
                break
            except NoPostgres:
                if attempt == 2:
                    raise
                cluster.port = _free_port()  # taken between the probe and the start
        # Two commands: psql runs one -c's statements in one transaction, which CREATE
        # DATABASE refuses.
        statements = (
            f"CREATE ROLE {ROLE} LOGIN CREATEDB CREATEROLE PASSWORD '{cluster.password}'",
            f"CREATE DATABASE {DATABASE} OWNER {ROLE}",
        )
        _run(
            [
                *prefix,
                bindir / "psql",
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                directory,
                "-p",
                str(cluster.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                *(part for statement in statements for part in ("-c", statement)),
            ],
            "creating the tests' role and database",
        )
        cluster.save()
    except BaseException:
        cluster.remove()
        raise
    return cluster


@contextmanager
def server_for_tests(environ: dict[str, str] | None = None) -> Iterator[str]:
    """The URL of the server the tests use: the environment's, else a throwaway cluster
    stopped and removed when the block ends. NoPostgres says how to get one."""
    named = (os.environ if environ is None else environ).get(ENVIRONMENT, "").strip()
    if named:
        yield named
        return
    cluster = start_cluster()
    try:
        yield cluster.url
    finally:
        cluster.remove()


# -- databases and faults (psycopg) -------------------------------------------------------


def _connect(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=True)


def _sorting_for_people(admin: Any, icu_locale: str) -> Any:
    """The clause that makes a new database sort text as people do, by the server's means:
    an ICU default from PostgreSQL 15 on; before, the libc locale of the same language
    if the server's system has one (PostgreSQL 14 takes ICU for columns only)."""
    from psycopg import sql

    (version,) = admin.execute("SELECT current_setting('server_version_num')::int").fetchone()
    if version >= 150000:
        return sql.SQL(" LOCALE_PROVIDER icu ICU_LOCALE {} LOCALE 'C'").format(
            sql.Literal(icu_locale)
        )
    prefix = icu_locale.replace("-", "_") + ".%"
    found = admin.execute(
        "SELECT collcollate FROM pg_collation WHERE collprovider = 'c'"
        " AND collcollate ILIKE %s AND collencoding IN (-1, 6) ORDER BY collname LIMIT 1",
        (prefix,),
    ).fetchone()
    if found is None:
        raise NoPostgres(
            f"PostgreSQL {version // 10000} sorts a database's text by its system's locales"
            f" only, and this server's system has no {icu_locale} locale (locale-gen it,"
            " then initdb)"
        )
    return sql.SQL(" LOCALE {}").format(sql.Literal(found[0]))


def _encoded(admin: Any, encoding: str) -> Any:
    """The clause that makes a new database keep its text in `encoding`: with libc's C
    locale, which takes every encoding (a cluster whose default is ICU would refuse
    SQL_ASCII; the provider is named from PostgreSQL 15 on, before which it was libc)."""
    from psycopg import sql

    (version,) = admin.execute("SELECT current_setting('server_version_num')::int").fetchone()
    provider = sql.SQL(" LOCALE_PROVIDER libc" if version >= 150000 else "")
    return sql.SQL(" ENCODING {} LOCALE 'C'{}").format(sql.Literal(encoding), provider)


def create_database(
    server_url: str, *, icu_locale: str | None = None, encoding: str | None = None
) -> str:
    """A new, empty database (a copy of template0) on the server; its URL. `icu_locale`
    makes it sort text in that language by default (as a server set up for people does);
    `encoding` keeps its text in another encoding than the cluster's (with the C locale,
    which every encoding accepts)."""
    from psycopg import sql

    name = f"reconcile_test_{uuid.uuid4().hex[:16]}"
    create = sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
    with _connect(server_url) as admin:
        (cluster_encoding,) = admin.execute(
            "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'template0'"
        ).fetchone()
        if icu_locale is not None:
            create += _sorting_for_people(admin, icu_locale) + sql.SQL(" ENCODING 'UTF8'")
        elif encoding is None and cluster_encoding != "UTF8":
            # A server the environment names may be an old SQL_ASCII or LATIN1 cluster:
            # the store refuses such databases (docs/postgresql.md, "Text").
            encoding = "UTF8"
        if encoding is not None:
            create += _encoded(admin, encoding)
        admin.execute(create)
    return with_database(server_url, name)


def drop_database(server_url: str, database_url: str) -> None:
    """Drop the database `database_url` names, whoever is still connected to it.

    The role's own connections are cut first; a server process of another role (an
    autovacuum worker that just started on the database) is one DROP DATABASE stops by
    itself, which FORCE would instead refuse to cut without privileges."""
    from psycopg import errors, sql

    name = unquote(urlsplit(database_url).path.lstrip("/"))
    drop = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
    with _connect(server_url) as admin:
        for attempt in range(100):
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
                " AND pid <> pg_backend_pid() AND usename = current_user",
                (name,),
            )
            try:
                admin.execute(drop)
                return
            except errors.ObjectInUse:
                if attempt == 99:
                    raise
                time.sleep(0.1)


@contextmanager
def fresh_database(
    server_url: str, *, icu_locale: str | None = None, encoding: str | None = None
) -> Iterator[str]:
    """A new, empty database on the server, dropped when the block ends."""
    database_url = create_database(server_url, icu_locale=icu_locale, encoding=encoding)
    try:
        yield database_url
    finally:
        drop_database(server_url, database_url)


_OTHER_BACKENDS: Final = (
    "SELECT pid FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def terminate_backends(url: str) -> int:
    """Cut every other connection to `url`'s database, as a server going away would;
    the server itself stays up. Returns how many were cut."""
    with _connect(url) as second:
        rows = second.execute(
            f"SELECT pg_terminate_backend(pid) FROM ({_OTHER_BACKENDS}) AS others"
        ).fetchall()
    return sum(1 for (done,) in rows if done)


@dataclass
class Termination:
    """What `terminated_when_running` did: the statements it cut, as the server saw them."""

    cut: list[str]


@contextmanager
def terminated_when_running(url: str, statement: str) -> Iterator[Termination]:
    """While the block runs, watch `url`'s database from a second connection and cut the
    first connection seen running a statement that contains `statement` (e.g. "COPY"):
    the server going away in the middle of that work."""
    done = Termination(cut=[])
    leaving = threading.Event()
    watching = (
        "SELECT pid, query FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND state = 'active' AND position(upper(%s) in upper(query)) > 0"
    )

    def watch() -> None:
        with _connect(url) as second:
            while not leaving.is_set() and not done.cut:
                for pid, query in second.execute(watching, (statement,)).fetchall():
                    (cut,) = second.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
                    if cut:
                        done.cut.append(query)
                leaving.wait(0.005)

    watcher = threading.Thread(target=watch, name="postgres-fault", daemon=True)
    watcher.start()
    try:
        yield done
    finally:
        leaving.set()
        watcher.join()


# -- a connection pooler in front of the server -----------------------------------------

POOLER_HINT: Final = "no PgBouncer for the tests: install Debian's pgbouncer package"


@contextmanager
def pooled(url: str, *, mode: str = "session") -> Iterator[str]:
    """A PgBouncer on loopback in front of `url`'s server, pooling by `mode`, as a team's
    administrator puts one; the URL that reaches `url`'s database through it. It logs in
    to the server as `url`'s role, with its password (NoPostgres when not installed)."""
    binary = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if binary is None:
        raise NoPostgres(POOLER_HINT)
    parts = urlsplit(url)
    role, password = unquote(parts.username or ROLE), unquote(parts.password or "")
    prefix = _as_server_user()
    directory = Path(tempfile.mkdtemp(prefix="reconcile-pooler-"))
    port = _free_port()
    settings = {
        "listen_addr": "127.0.0.1",
        "listen_port": port,
        "unix_socket_dir": "",
        "auth_type": "plain",
        "auth_file": directory / "users.txt",
        "pool_mode": mode,
        # A server the environment names may take only encrypted connections.
        "server_tls_sslmode": "prefer",
        "logfile": directory / "pooler.log",
    }
    (directory / "users.txt").write_text(f'"{role}" "{password}"\n', encoding="utf-8")
    (directory / "pooler.ini").write_text(
        f"[databases]\n* = host={parts.hostname} port={parts.port or 5432}\n[pgbouncer]\n"
        + "".join(f"{key} = {value}\n" for key, value in settings.items()),
        encoding="utf-8",
    )
    if prefix:
        owner = pwd.getpwnam("postgres")
        for path in (directory, *directory.iterdir()):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    process = subprocess.Popen(
        [*prefix, binary, str(directory / "pooler.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(500):
            if process.poll() is not None:
                log = directory / "pooler.log"
                said = log.read_text(encoding="utf-8").strip().splitlines() if log.exists() else []
                raise NoPostgres(
                    f"PgBouncer did not start: {said[-1] if said else process.returncode}"
                )
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.01)
        else:
            raise NoPostgres(f"PgBouncer did not listen on 127.0.0.1:{port}")
        netloc = parts.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{port}"
        yield urlunsplit(parts._replace(netloc=netloc))
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


def main(argv: Sequence[str]) -> int:
    try:
        match argv:
            case ["start", directory]:
                print(start_cluster(Path(directory)).url)
            case ["stop", directory]:
                if (Path(directory) / _STATE).exists():
                    Cluster.load(Path(directory)).remove()
                else:
                    shutil.rmtree(directory, ignore_errors=True)
            case _:
                print(__doc__, file=sys.stderr)
                return 2
    except NoPostgres as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
