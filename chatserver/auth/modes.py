"""Authorization modes (SPEC section 13): which one a request uses, and one resolver every transport calls.

AppSync decides the mode from the credentials: an `x-api-key` means API_KEY; a JWT means the mode of whoever issued
it (the built-in pool's issuer: USER_POOL; the configured OIDC issuer: OPENID_CONNECT). Only enabled modes count:
an `x-api-key` sent to a server without API_KEY is ignored, as it was before API keys existed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from chatserver.auth.identity import Identity
from chatserver.errors import UnauthorizedException

if TYPE_CHECKING:
    from chatserver.auth.api_keys import ApiKeyService
    from chatserver.auth.oidc import OidcVerifier
    from chatserver.auth.tokens import TokenVerifier

MAX_CREDENTIAL_CHARS = 16_384


class AuthMode(StrEnum):
    USER_POOL = "USER_POOL"  # the built-in user pool (AppSync: AMAZON_COGNITO_USER_POOLS)
    API_KEY = "API_KEY"
    OPENID_CONNECT = "OPENID_CONNECT"


# AppSync's own spellings are accepted in settings too.
MODE_ALIASES = {"AMAZON_COGNITO_USER_POOLS": AuthMode.USER_POOL, "OIDC": AuthMode.OPENID_CONNECT}


def parse_mode(raw: str) -> AuthMode:
    """A mode name from a setting (case-insensitive); ValueError names the accepted ones."""
    name = raw.strip().upper()
    if name in MODE_ALIASES:
        return MODE_ALIASES[name]
    try:
        return AuthMode(name)
    except ValueError:
        accepted = ", ".join(m.value for m in AuthMode)
        raise ValueError(f"{raw!r} is not an auth mode; use one of {accepted}") from None


def connection_key(identity: Identity) -> str:
    """The key a WebSocket is indexed by in the real-time engine, for closing it when the credential dies.

    Built-in users by their `sub` (as global sign-out closes them); other modes prefixed, so an OIDC `sub` can never
    collide with a built-in user's or with an API key's id.
    """
    if identity.mode == AuthMode.USER_POOL.value:
        return identity.sub
    return f"{identity.mode}:{identity.sub}"


def header_value(headers: Mapping[str, Any] | None, name: str) -> str | None:
    """A string entry of a header-like mapping, whatever its case."""
    if not headers:
        return None
    value = headers.get(name)
    if isinstance(value, str):
        return value
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            return value
    return None


class CredentialResolver:
    """Credentials (an `Authorization` value, an `x-api-key`) -> an Identity whose `mode` says how it was proven.

    Raises UnauthorizedException (the whole request is refused: HTTP 401, WebSocket connection_error) when no enabled
    mode accepts the credentials. Whether a field admits the mode is the schema's business (schema/permissions.py).
    """

    def __init__(
        self,
        *,
        default_mode: AuthMode,
        modes: frozenset[AuthMode],
        user_pool: TokenVerifier | None,
        user_pool_issuer: str,
        api_keys: ApiKeyService | None = None,
        oidc: OidcVerifier | None = None,
    ) -> None:
        self.default_mode = default_mode
        self.modes = modes
        self._user_pool = user_pool if AuthMode.USER_POOL in modes else None
        self._user_pool_issuer = user_pool_issuer
        self._api_keys = api_keys if AuthMode.API_KEY in modes else None
        self._oidc = oidc if AuthMode.OPENID_CONNECT in modes else None

    async def resolve_headers(self, headers: Mapping[str, Any] | None) -> Identity:
        """From a header object (HTTP headers, AppSync's real-time header, a connection_init payload)."""
        return await self.resolve(header_value(headers, "authorization"), header_value(headers, "x-api-key"))

    async def resolve(self, authorization: str | None, api_key: str | None = None) -> Identity:
        if api_key is not None and self._api_keys is not None:
            return await self._api_keys.verify(api_key)
        if not authorization or not authorization.strip():
            raise UnauthorizedException(UnauthorizedException.MISSING)
        if len(authorization) > MAX_CREDENTIAL_CHARS:
            raise UnauthorizedException(UnauthorizedException.UNPARSABLE)
        if self._oidc is None:
            if self._user_pool is None:
                raise UnauthorizedException(UnauthorizedException.INVALID)
            return self._user_pool.verify(authorization)
        if self._user_pool is not None and unverified_issuer(authorization) == self._user_pool_issuer:
            return self._user_pool.verify(authorization)
        return await self._oidc.verify(authorization)


def strip_bearer(authorization: str) -> str:
    token = authorization.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    return token


def unverified_issuer(authorization: str) -> str | None:
    """The `iss` claim of a JWT, read without checking anything: only to pick the verifier that will."""
    parts = strip_bearer(authorization).split(".")
    if len(parts) != 3 or not parts[1].isascii():
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None
