"""Secrets never reach what the product prints: the one mask (docs/configuration.md, "Secrets")."""

from __future__ import annotations

import secrets

from reconcile_tui import redaction
from reconcile_tui.store.postgres import display_url


def short_password() -> str:
    # Fresh each time: the mask remembers every secret it is told of.
    return secrets.token_hex(2)  # 4 characters, under the length masked everywhere


def test_a_short_password_is_masked_where_the_url_puts_it():
    password = short_password()
    url = f"postgresql://alice:{password}@db.example:5432/books"
    assert display_url(url) == f"postgresql://alice:{redaction.MASK}@db.example:5432/books"
    # The same URL in any later line, as a driver or a library might echo it.
    said = redaction.mask(f"could not reach {url} (timeout)")
    assert password not in said
    # Alone, a word that short is left as it is: it could be any word.
    assert redaction.mask(f"page {password}") == f"page {password}"


def test_a_password_given_as_the_urls_parameter_is_masked():
    password = short_password()
    url = f"postgresql://alice@db.example/books?sslmode=disable&password={password}&x=1"
    assert display_url(url) == (
        f"postgresql://alice@db.example/books?sslmode=disable&password={redaction.MASK}&x=1"
    )


def test_an_escaped_password_is_masked_as_written_and_as_meant():
    url = "postgresql://alice:p%40ss%2Fw@db.example/books"
    assert display_url(url) == f"postgresql://alice:{redaction.MASK}@db.example/books"
    assert redaction.mask("refused p@ss/w for alice") == f"refused {redaction.MASK} for alice"
    assert redaction.mask("alice:p@ss/w@db.example") == f"alice:{redaction.MASK}@db.example"


def test_a_long_password_is_masked_wherever_it_appears():
    password = "pw-" + secrets.token_hex(8)
    display_url(f"postgresql://alice:{password}@db.example/books")
    assert redaction.mask(f"x {password} y") == f"x {redaction.MASK} y"


def test_a_password_is_masked_in_urls_pythons_parser_refuses():
    # libpq takes `[localhost]` and `[127.0.0.1]` hosts; `urlsplit` raises on them (and
    # on an unclosed `[::1`), and the password used to be printed in every message.
    for host in ("[localhost]:5432", "[127.0.0.1]:5432", "[::1", "[]:5432"):
        password = short_password()
        url = f"postgresql://alice:{password}@{host}/books"
        assert display_url(url) == f"postgresql://alice:{redaction.MASK}@{host}/books"
        assert password not in redaction.mask(f'invalid URI: "{url}"')
