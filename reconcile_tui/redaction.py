"""Every secret the product knows, in every form it can travel in, and the one mask for them.

A secret reaches text in more shapes than its own: a `Bearer` header, the base64 of a
Basic header (`id:secret`), URL- or JSON-escaped, a Python repr. Whatever the product
prints (the CLI's error line, logs, the terminal app's notifications) or writes (reports)
passes through `mask`, so a gateway or a library that echoes a header cannot show one
(docs/configuration.md, "Secrets").
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus, unquote, urlsplit

__all__ = [
    "MASK",
    "mask",
    "mask_bytes",
    "mask_document",
    "register_client_credentials",
    "register_secret",
    "register_url_password",
]

MASK = "********"

#: Shorter values would mask ordinary words; real secrets are long.
MIN_SECRET_LENGTH = 6

_lock = threading.Lock()
#: (form, what replaces it), longest form first, so a longer form is masked whole.
_forms: list[tuple[str, str]] = []


def _escaped(secret: str) -> Iterable[str]:
    """The ways one value is written in URLs, JSON, reprs and logs."""
    for value in {secret, secret.strip()}:
        yield value
        yield quote(value, safe="")
        yield quote_plus(value)
        yield json.dumps(value)[1:-1]
        yield json.dumps(value, ensure_ascii=False)[1:-1]
        yield repr(value)[1:-1]


def _base64(text: str) -> Iterable[str]:
    raw = text.encode("utf-8")
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        yield encoded.decode("ascii")
        yield encoded.decode("ascii").rstrip("=")


def _add(forms: Iterable[str]) -> None:
    _add_replacements((form, MASK) for form in forms if len(form) >= MIN_SECRET_LENGTH)


def _add_replacements(pairs: Iterable[tuple[str, str]]) -> None:
    with _lock:
        known = dict(_forms)
        known.update(pairs)
        _forms[:] = sorted(known.items(), key=lambda pair: len(pair[0]), reverse=True)


def register_secret(secret: str) -> None:
    """Mask `secret` (a token, a password) in every form from now on."""
    if secret:
        _add(_escaped(secret))


def register_client_credentials(client_id: str, client_secret: str) -> None:
    """Mask the client secret, and the Basic header built from the pair (both encodings
    a client may use: form-encoded parts, as the product sends, and plain ones)."""
    register_secret(client_secret)
    pairs = {
        f"{quote_plus(client_id)}:{quote_plus(client_secret)}",
        f"{client_id}:{client_secret}",
    }
    _add(form for pair in pairs for form in _base64(pair))


def register_url_password(url: str) -> None:
    """Mask the password of a database URL, `scheme://user:password@host/...` or its
    `?password=` parameter: the value wherever it appears (when long enough to be told
    from a word) and, whatever its length, where the URL puts it (`:pw@` and
    `password=pw`), so a short password never shows in the URL it came in."""
    given = [password] if (password := _libpq_password(url)) else []
    with contextlib.suppress(ValueError):  # its reading too: the last `@` ends the user
        given += [password] if (password := urlsplit(url).password) else []
    query = url.partition("?")[2].partition("#")[0]
    given += [value for name, value in _query_pairs(query) if name == "password" and value]
    for written in given:
        register_secret(unquote(written))
        register_secret(written)
        forms = {written, *_escaped(unquote(written))}
        _add_replacements(
            (f"{before}{form}{after}", f"{before}{MASK}{after}")
            for form in forms
            if form
            for before, after in ((":", "@"), ("password=", ""))
        )


def _libpq_password(url: str) -> str | None:
    """The password as libpq reads it from `scheme://user:password@host...`: the user
    part ends at the first `@` before any `/`. Read by hand, not by `urlsplit`, which
    refuses hosts libpq takes (`[localhost]`, an unclosed `[::1`) and left their URLs
    unmasked."""
    rest = url.partition("://")[2]
    for position, character in enumerate(rest):
        if character == "/":
            return None
        if character == "@":
            _user, colon, password = rest[:position].partition(":")
            return password if colon and password else None
    return None


def _query_pairs(query: str) -> Iterable[tuple[str, str]]:
    """A URL query's (name, value) pairs as written (values not unquoted)."""
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        yield unquote(name), value


def mask(text: str) -> str:
    """`text` with every known secret, in every known form, replaced by MASK."""
    for form, replacement in _forms:
        if form in text:
            text = text.replace(form, replacement)
    return text


def mask_bytes(data: bytes) -> bytes:
    """`mask` for UTF-8 bytes (a report about to be written); other bytes pass unchanged."""
    if not _forms:
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    masked = mask(text)
    return data if masked == text else masked.encode("utf-8")


def mask_document(value: Any) -> Any:
    """A report document (dicts, lists, strings) with `mask` applied to every string."""
    if not _forms:
        return value
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {key: mask_document(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_document(item) for item in value]
    return value
