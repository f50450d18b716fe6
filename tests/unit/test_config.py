"""Settings: the documented environment variables over the TOML file over the defaults,
each problem one line naming the variable or key (docs/configuration.md)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from reconcile_tui import redaction
from reconcile_tui.config import DEFAULT_API_URL, ENVIRONMENT, load_settings
from reconcile_tui.errors import ConfigError


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_every_documented_variable_lands_in_its_section(tmp_path):
    environ = {
        "RECONCILE_DB": str(tmp_path / "books.db"),
        "CRYPTOFUSE_API_URL": "https://gateway.example/",
        "CRYPTOFUSE_TOKEN": "tok-1",
        "CRYPTOFUSE_CLIENT_ID": "client-1",
        "CRYPTOFUSE_CLIENT_SECRET": "secret-1",
    }
    settings = load_settings(environ=environ)
    assert settings.db_path == tmp_path / "books.db"
    assert settings.api.url == "https://gateway.example"
    assert settings.api.token is not None
    assert settings.api.token.get_secret_value() == "tok-1"
    assert settings.api.client_id == "client-1"
    assert settings.api.client_secret is not None
    assert settings.api.client_secret.get_secret_value() == "secret-1"
    assert set(ENVIRONMENT) == set(environ)


def test_other_variables_are_not_settings(tmp_path):
    settings = load_settings(environ={"CRYPTOFUSE_URL": "https://x.example", "API_URL": "x"})
    assert settings.api.url == DEFAULT_API_URL


def test_the_environment_wins_over_the_file_key_by_key(tmp_path):
    config = _toml(
        tmp_path,
        '[api]\nurl = "https://file.example"\nread_timeout = 3\n[reconcile]\nmatch_window = "6h"\n',
    )
    settings = load_settings(config, environ={"CRYPTOFUSE_API_URL": "https://env.example"})
    assert settings.api.url == "https://env.example"
    assert settings.api.read_timeout == 3  # the rest of the file's section still applies
    assert settings.reconcile.match_window == timedelta(hours=6)


def test_the_file_wins_over_the_defaults(tmp_path):
    config = _toml(tmp_path, '[reconcile]\nlow_balance = { default = "10", BTC = "0.5" }\n')
    settings = load_settings(config, environ={})
    assert settings.reconcile.low_balance == {"default": Decimal("10"), "BTC": Decimal("0.5")}
    assert settings.api.url == DEFAULT_API_URL


def test_per_currency_keys_are_codes_as_the_gateway_writes_them(tmp_path):
    # `usdterc20` never matched the gateway's USDTERC20: its tolerance was silently 0.
    config = _toml(tmp_path, '[reconcile]\ntolerance = { usdterc20 = "0.5", Default = "0" }\n')
    settings = load_settings(config, environ={})
    assert settings.reconcile.tolerance == {"USDTERC20": Decimal("0.5"), "default": Decimal("0")}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[api]\nurll = 1\n", "settings.toml: api.urll: unknown setting"),
        ("[apii]\nurl = 1\n", "settings.toml: apii: unknown setting"),
        ("[api]\nconcurrency = 99\n", "settings.toml: api.concurrency: Input should be less"),
        ('[api]\nurl = "ftp://x"\n', "settings.toml: api.url: must start with http://"),
        # A per-currency key that is no code was kept and matched nothing, without a word.
        (
            '[reconcile]\ntolerance = { "USDT ERC20" = "1" }\n',
            "settings.toml: reconcile.tolerance: 'USDT ERC20' is not a currency code",
        ),
        (
            '[reconcile]\nstale_pending_after = { eth = "1h", ETH = "2h" }\n',
            "settings.toml: reconcile.stale_pending_after: ETH is given twice (case is ignored)",
        ),
    ],
)
def test_a_bad_key_is_one_line_naming_it(tmp_path, text, line):
    config = _toml(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_settings(config, environ={})
    message = str(raised.value)
    assert message.startswith(f"{config.parent}/{line}")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CRYPTOFUSE_TOKEN", "tok\n"),
        ("CRYPTOFUSE_TOKEN", "has space"),
        ("CRYPTOFUSE_CLIENT_ID", "id\x1b"),
        ("CRYPTOFUSE_CLIENT_SECRET", "secret\r\n"),
    ],
)
def test_a_bad_secret_names_the_variable_not_the_value(name, value):
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={name: value})
    message = str(raised.value)
    assert message.startswith(f"environment: {name} holds ")
    assert value.strip() not in message


def test_a_bad_secret_in_the_file_names_the_key(tmp_path):
    config = _toml(tmp_path, '[api]\ntoken = "tok\\n"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(config, environ={})
    assert str(raised.value).startswith(f"{config}: api.token: holds a newline")


def test_an_empty_database_variable_is_refused():
    with pytest.raises(ConfigError, match="RECONCILE_DB is set but empty"):
        load_settings(environ={"RECONCILE_DB": "  "})


def test_a_libpq_connection_string_is_the_url_that_says_the_same():
    settings = load_settings(
        environ={
            "RECONCILE_DB": "host=db.example port=6432 dbname='month end' user=ana"
            " password='s3cret pass' sslmode=require"
        }
    )
    url = settings.db_path
    assert isinstance(url, str)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("postgresql", "")
    assert dict(parse_qsl(parts.query)) == {
        "host": "db.example",
        "port": "6432",
        "dbname": "month end",
        "user": "ana",
        "password": "s3cret pass",
        "sslmode": "require",
    }
    # Its password is masked from the moment it is read, as a URL's is.
    assert "s3cret" not in redaction.mask(f"{url} and s3cret pass")


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("host=db.example dbnme=books", 'invalid connection option "dbnme"'),
        # libpq's own words would quote the text after the fault: part of the password.
        ("host=db.example password=two words", "libpq does not read: give"),
    ],
)
def test_a_connection_string_libpq_refuses_is_one_line_without_the_value(value, said):
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"RECONCILE_DB": value})
    message = str(raised.value)
    assert message.startswith("environment: RECONCILE_DB is a connection string")
    assert said in message
    assert "words" not in message
    assert len(message.splitlines()) == 1


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("POSTGRESQL://ana:pw@db.example/books", "postgresql://ana:pw@db.example/books"),
        ("Postgres://db.example:6432/books", "postgres://db.example:6432/books"),
        # An application's settings name the driver too (SQLAlchemy's spelling).
        ("postgresql+psycopg://ana@db.example/books", "postgresql://ana@db.example/books"),
        ("postgresql+psycopg2://ana@db.example/books", "postgresql://ana@db.example/books"),
    ],
)
def test_another_spelling_of_a_server_url_names_the_same_server(value, url):
    assert load_settings(environ={"RECONCILE_DB": value}).db_path == url


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("mysql://ana:s3cret-pass@db.example/books", "is a mysql:// URL, which names no"),
        ("mariadb+pymysql://ana:s3cret-pass@db.example/books", "is a mariadb+pymysql:// URL"),
        ("sqlite:///books.db", "is a sqlite:// URL: give the SQLite file's own path"),
        ("file://ana:s3cret-pass@host/books.db", "is a file:// URL, which names no"),
    ],
)
def test_a_url_of_another_kind_of_database_is_refused_never_made_a_file(value, said):
    # It used to become a SQLite file named after the URL (a folder `mysql:` holding it),
    # and every message naming the database printed its password.
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"RECONCILE_DB": value})
    message = str(raised.value)
    assert message.startswith(f"environment: RECONCILE_DB {said}")
    assert "s3cret" not in message
    assert len(message.splitlines()) == 1
    assert "s3cret" not in redaction.mask(f"later: {value}")


@pytest.mark.parametrize("end", ["\n", "\r\n", " "])
def test_a_server_url_ending_in_a_line_break_is_refused_in_one_line_masked(end):
    # libpq read the newline as part of the database's name (or the password's), and
    # the server's "refused the user or password" followed, on two lines.
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"RECONCILE_DB": f"postgresql://ana:s3cret-pass@db/books{end}"})
    assert str(raised.value) == (
        "environment: RECONCILE_DB ends in a space or a line break: give the URL without it"
        f" (postgresql://ana:{redaction.MASK}@db/books)"
    )


def test_a_path_from_the_home_folder_is_in_the_home_folder(tmp_path, monkeypatch):
    # No shell expands `~` in a settings file or a variable set by a service manager: it
    # used to make a folder named `~` in the working directory.
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_settings(environ={"RECONCILE_DB": "~/books.db"}).db_path == tmp_path / "books.db"
    config = _toml(tmp_path, '[store]\npath = "~/month-end/books.db"\n')
    assert load_settings(config, environ={}).db_path == tmp_path / "month-end" / "books.db"
    unknown = "~no-such-user-here/books.db"
    assert load_settings(environ={"RECONCILE_DB": unknown}).db_path == Path(unknown)


@pytest.mark.parametrize("name", ["books=2026.db", "hosts=old.db", "./host=x.db", "host="])
def test_a_file_whose_name_holds_an_equals_sign_stays_a_file(name):
    assert load_settings(environ={"RECONCILE_DB": name}).db_path == Path(name)
