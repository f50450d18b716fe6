"""Reads a response body within a size limit and turns it into a model or a clear error.

Bodies are read chunk by chunk, so an enormous (or endless) answer is refused once it
passes the limit instead of filling memory. The limit applies to the decoded bytes, so a
small compressed body cannot unpack into gigabytes either. A body that echoes a secret
(a gateway quoting the Authorization header back) has it masked as it is read, so no
message, stored snapshot or saved file built from it can show it
(docs/configuration.md, "Secrets").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

import httpx

from reconcile_tui.api.failures import looks_like_html
from reconcile_tui.api.models import ResponseShapeError
from reconcile_tui.errors import ApiError
from reconcile_tui.redaction import mask_bytes

__all__ = ["ERROR_BODY_BYTES", "MAX_BODY_BYTES", "parse_data", "read_body", "read_error_body"]

MAX_BODY_BYTES = 50 * 1024 * 1024
"""The largest data body accepted: far above a 30-day hourly history, far below harm."""

ERROR_BODY_BYTES = 64 * 1024
"""How much of an error body is read for its message; the rest is not needed."""

_ModelT = TypeVar("_ModelT")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"


async def read_body(response: httpx.Response, url: str, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, or ApiError once it is larger than `limit` bytes."""
    too_large = ApiError(
        f"{url} answered more than {_megabytes(limit)}; refusing to read it",
        status=response.status_code,
        url=url,
    )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            raise too_large
    return mask_bytes(bytes(body))


async def read_error_body(response: httpx.Response, limit: int = ERROR_BODY_BYTES) -> bytes:
    """The start of an error body: enough for the gateway's message, never more."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= limit:
            break
    return mask_bytes(bytes(body[:limit]))


def parse_data(
    parse: Callable[[bytes, str], _ModelT],
    body: bytes,
    response: httpx.Response,
    url: str,
) -> _ModelT:
    """The model `parse` builds from a 2xx body, or ApiError saying what is wrong with it."""
    status = response.status_code
    if not body.strip():
        raise ApiError(
            f"{url} answered an empty body instead of JSON ({status})", status=status, url=url
        )
    if looks_like_html(body, response.headers.get("content-type", "")):
        raise ApiError(
            f"{url} answered an HTML page instead of JSON "
            f"({status}; is CRYPTOFUSE_API_URL the API's address?)",
            status=status,
            url=url,
        )
    try:
        return parse(body, url)
    except ResponseShapeError as error:
        shape_problem = str(error)
    # Only on failure: tell a body that is not JSON at all (cut off by a proxy, a dropped
    # connection without Content-Length) from valid JSON of the wrong shape.
    try:
        json.loads(body)
    except ValueError as error:
        where = (
            f"{error.msg} at line {error.lineno} column {error.colno}"
            if isinstance(error, json.JSONDecodeError)
            else "not UTF-8"
        )
        raise ApiError(
            f"{url}: truncated or invalid JSON ({where})", status=status, url=url
        ) from None
    raise ApiError(shape_problem, status=status, url=url)
