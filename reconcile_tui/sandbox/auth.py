"""Who may read the sandbox: client-credentials tokens, the static token, and scopes.

Tokens are random, live `token_ttl` seconds by the server's wall clock (not the ledger's
fixed clock, so a client really has to renew them), and carry the scopes granted when
issued. The static token never expires and has the read scope, like a token pasted into
CRYPTOFUSE_TOKEN. No refresh tokens: the gateway issues none either.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote_plus

__all__ = ["KNOWN_SCOPES", "AuthFailure", "ClientCredentials", "Grant", "TokenBook"]

KNOWN_SCOPES: Final = ("read", "write")


class AuthFailure(Exception):
    """A request's credentials are missing, wrong or not enough; says which, and why."""

    def __init__(self, status: int, code: str, message: str, **details: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


@dataclass(frozen=True, slots=True)
class Grant:
    """An issued token: its scopes and when (wall-clock seconds) it stops working."""

    scopes: frozenset[str]
    expires_at: float | None


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    client_id: str
    client_secret: str


def basic_credentials(header: str | None) -> ClientCredentials | None:
    """`Authorization: Basic base64(id:secret)` (each part form-encoded, RFC 6749 2.3.1)."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthFailure(401, "authentication_failed", "Malformed Basic credentials.") from None
    client_id, colon, client_secret = decoded.partition(":")
    if not colon:
        raise AuthFailure(401, "authentication_failed", "Malformed Basic credentials.")
    return ClientCredentials(unquote_plus(client_id), unquote_plus(client_secret))


class TokenBook:
    """The tokens this sandbox has issued, and the one static token it accepts."""

    def __init__(
        self,
        client: ClientCredentials,
        *,
        static_token: str | None,
        ttl: int,
        now: Callable[[], float],
    ) -> None:
        self._client = client
        self._static = static_token
        self._ttl = ttl
        self._now = now
        self._issued: dict[str, Grant] = {}

    @property
    def ttl(self) -> int:
        return self._ttl

    def check_client(self, offered: ClientCredentials | None) -> None:
        """Accept the configured client, or raise AuthFailure (compared in constant time)."""
        if offered is None:
            raise AuthFailure(
                401,
                "authentication_failed",
                "Client authentication is required (HTTP Basic, or client_id and"
                " client_secret in the form body).",
            )
        same_id = secrets.compare_digest(offered.client_id, self._client.client_id)
        same_secret = secrets.compare_digest(offered.client_secret, self._client.client_secret)
        if not (same_id and same_secret):
            raise AuthFailure(401, "authentication_failed", "Invalid client credentials.")

    def issue(self, scopes: frozenset[str]) -> str:
        """A new bearer token with `scopes`, valid for the configured lifetime."""
        now = self._now()
        # Forget expired tokens so a long-running sandbox does not grow without end.
        for token in [t for t, g in self._issued.items() if g.expires_at and g.expires_at <= now]:
            del self._issued[token]
        token = secrets.token_urlsafe(32)
        self._issued[token] = Grant(scopes, now + self._ttl)
        return token

    def authorize(self, authorization: str | None, api_key: str | None, scope: str) -> None:
        """Let a data request through, or raise AuthFailure (401 or 403).

        `authorization` is the Authorization header (a Bearer token), `api_key` the
        X-API-Key header, which some of the gateway's pages accept for the static token.
        """
        if not authorization and api_key is None:
            raise AuthFailure(
                401, "authentication_failed", "Authentication credentials were not provided."
            )
        bearer = bearer_token(authorization)
        if authorization and bearer is None:
            raise AuthFailure(
                401, "authentication_failed", "Use an `Authorization: Bearer <token>` header."
            )
        if bearer is None:
            assert api_key is not None
            if self._static is not None and secrets.compare_digest(api_key, self._static):
                return
            raise AuthFailure(401, "authentication_failed", "Invalid API key.")
        if self._static is not None and secrets.compare_digest(bearer, self._static):
            return
        grant = self._issued.get(bearer)
        if grant is None:
            raise AuthFailure(401, "authentication_failed", "Invalid token.", reason="invalid")
        if grant.expires_at is not None and grant.expires_at <= self._now():
            raise AuthFailure(401, "authentication_failed", "Token has expired.", reason="expired")
        if scope not in grant.scopes:
            raise AuthFailure(
                403,
                "permission_denied",
                f"This token lacks the {scope!r} scope.",
                required_scope=scope,
                granted_scope=" ".join(sorted(grant.scopes)),
            )


def bearer_token(header: str | None) -> str | None:
    """The token of `Authorization: Bearer <token>`; None when absent or another scheme."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
