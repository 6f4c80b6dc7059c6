"""OPENID_CONNECT: tokens from an external issuer (a real Cognito pool, Auth0, Keycloak...), verified by its JWKS.

The keys come from `<issuer>/.well-known/openid-configuration` -> `jwks_uri`, fetched with a short timeout off the
request path at start, cached, and fetched again when a token names an unknown `kid` (at most once a minute). A
failed fetch keeps the keys already known, so an issuer that goes away leaves its cached keys working; requests in
other modes never wait for it. Verified tokens are cached by their text, so a signature is checked once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import httpx
from jose import jwk
from jose.exceptions import JOSEError

from chatserver.auth.identity import Identity
from chatserver.auth.jws_parts import is_int, parse_compact_jws
from chatserver.auth.modes import AuthMode, strip_bearer
from chatserver.errors import UnauthorizedException

log = logging.getLogger("chatserver.auth.oidc")

ALGORITHMS = frozenset({"RS256", "ES256"})
DISCOVERY_PATH = "/.well-known/openid-configuration"
FETCH_TIMEOUT_SECONDS = 3.0
UNKNOWN_KID_REFETCH_SECONDS = 60.0  # an unknown kid fetches the JWKS again at most this often
NO_KEYS_RETRY_SECONDS = 5.0  # while no keys were ever loaded, how often a request may try again
MAX_DOCUMENT_BYTES = 512 * 1024
CACHE_SIZE = 10_000
USERNAME_CLAIMS = ("cognito:username", "username", "preferred_username")
_LOOPBACK_NAMES = {"localhost"}


def issuer_problem(issuer: str) -> str | None:
    """Why `issuer` cannot be used, or None: https:// always; plain http:// only on a loopback address."""
    parts = urlsplit(issuer)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname:
        if _is_loopback(parts.hostname):
            return None
        return "plain http:// is only allowed on a loopback address (127.0.0.1, ::1, localhost); use https://"
    return "must be an https:// URL, e.g. https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123"


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class _Key:
    algorithm: str
    key: Any  # a jose key: .verify(signing_input, signature)


class OidcVerifier:
    """Turns an OIDC issuer's JWT into an Identity (mode OPENID_CONNECT) or raises UnauthorizedException."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        *,
        groups_claim: str = "cognito:groups",
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self._client_id = client_id
        self._groups_claim = groups_claim
        self._keys: dict[str, _Key] | None = None  # None: never loaded
        self._fetch: asyncio.Task[None] | None = None
        self._last_attempt = float("-inf")
        self._last_unknown_kid_fetch = float("-inf")
        self._cache: OrderedDict[str, Identity] = OrderedDict()
        self._cache_size = cache_size
        self._client: httpx.AsyncClient | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[OidcVerifier]:
        """Start fetching the keys in the background; close the HTTP client at the end."""
        self._client = httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False)
        self._start_fetch()
        try:
            yield self
        finally:
            if self._fetch is not None and not self._fetch.done():
                self._fetch.cancel()
                with contextlib.suppress(BaseException):
                    await self._fetch
            await self._client.aclose()

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys or ())

    async def verify(self, authorization: str) -> Identity:
        token = strip_bearer(authorization)
        identity = self._cache.get(token)
        if identity is None:
            identity = await self._verify_signed(token)
            self._cache[token] = identity
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(token)
        now = time.time()
        if now >= identity.expires_at:
            raise UnauthorizedException(UnauthorizedException.EXPIRED)
        not_before = identity.claims.get("nbf")
        if is_int(not_before) and now < not_before:
            raise UnauthorizedException(UnauthorizedException.INVALID)
        return identity

    async def _verify_signed(self, token: str) -> Identity:
        header, claims, signing_input, signature = parse_compact_jws(token)
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALGORITHMS or not isinstance(kid, str):
            raise UnauthorizedException(UnauthorizedException.INVALID)
        key = await self._key(kid)
        if key is None or key.algorithm != algorithm:
            raise UnauthorizedException(UnauthorizedException.INVALID)
        try:
            valid = key.key.verify(signing_input, signature)
        except (JOSEError, ValueError, TypeError):
            valid = False
        if not valid:
            raise UnauthorizedException(UnauthorizedException.INVALID)
        return self._identity(claims)

    async def _key(self, kid: str) -> _Key | None:
        keys = self._keys
        if keys is not None and kid in keys:
            return keys[kid]
        now = time.monotonic()
        if keys is None:
            if self._fetch is None or self._fetch.done():
                if now - self._last_attempt < NO_KEYS_RETRY_SECONDS:
                    return None
                self._start_fetch()
        else:
            if now - self._last_unknown_kid_fetch < UNKNOWN_KID_REFETCH_SECONDS:
                return None
            self._last_unknown_kid_fetch = now
            if self._fetch is None or self._fetch.done():
                self._start_fetch()
        assert self._fetch is not None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(self._fetch), 2 * FETCH_TIMEOUT_SECONDS + 1)
        return (self._keys or {}).get(kid)

    def _identity(self, claims: dict[str, Any]) -> Identity:
        sub, exp, iat = claims.get("sub"), claims.get("exp"), claims.get("iat")
        token_use = claims.get("token_use")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        # `aud` (ID tokens), `client_id` (Cognito access tokens), `azp` (Auth0 and Keycloak access tokens)
        client_ok = self._client_id in audiences or self._client_id in (
            claims.get("client_id"),
            claims.get("azp"),
        )
        if not (
            claims.get("iss") == self.issuer
            and client_ok
            and isinstance(sub, str)
            and sub
            and is_int(exp)
            and token_use in (None, "id", "access")
        ):
            raise UnauthorizedException(UnauthorizedException.INVALID)
        username = next(
            (claims[c] for c in USERNAME_CLAIMS if isinstance(claims.get(c), str) and claims[c]), sub
        )
        groups = claims.get(self._groups_claim)
        if isinstance(groups, str):
            groups = groups.split()
        if not (isinstance(groups, list) and all(isinstance(g, str) for g in groups)):
            groups = []
        return Identity(
            sub=sub,
            username=username,
            groups=frozenset(groups),
            token_use=token_use if isinstance(token_use, str) else "id",
            issued_at=iat if is_int(iat) else 0,
            expires_at=exp,
            claims=MappingProxyType(claims),
            mode=AuthMode.OPENID_CONNECT.value,
        )

    # --- fetching the keys

    def _start_fetch(self) -> None:
        self._last_attempt = time.monotonic()
        self._fetch = asyncio.create_task(self._fetch_keys(), name="oidc-jwks-fetch")

    async def _fetch_keys(self) -> None:
        try:
            discovery = await self._get_json(self.issuer + DISCOVERY_PATH)
            if discovery.get("issuer", self.issuer).rstrip("/") != self.issuer:
                raise ValueError(f"the discovery document names issuer {discovery.get('issuer')!r}")
            jwks_uri = discovery.get("jwks_uri")
            if not isinstance(jwks_uri, str) or issuer_problem(jwks_uri):
                raise ValueError(f"unusable jwks_uri {jwks_uri!r}")
            keys = _parse_jwks(await self._get_json(jwks_uri))
        except Exception as error:  # the issuer is down or answers nonsense: keep what we have
            log.warning("fetching the OIDC keys of %s failed: %s", self.issuer, error)
            return
        self._keys = keys
        log.info("OIDC keys of %s loaded: %s", self.issuer, ", ".join(sorted(keys)) or "none")

    async def _get_json(self, url: str) -> dict[str, Any]:
        assert self._client is not None, "OidcVerifier.running() not entered"
        response = await self._client.get(url, headers={"accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > MAX_DOCUMENT_BYTES:
            raise ValueError(f"{url} is over {MAX_DOCUMENT_BYTES} bytes")
        document = json.loads(response.content)
        if not isinstance(document, dict):
            raise ValueError(f"{url} is not a JSON object")
        return document


def _parse_jwks(document: Mapping[str, Any]) -> dict[str, _Key]:
    """The signing keys of a JWKS that we can use (RS256, ES256), by kid; others are skipped."""
    keys: dict[str, _Key] = {}
    for entry in document.get("keys") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig":
            continue
        algorithm = entry.get("alg") or {"RSA": "RS256", "EC": "ES256"}.get(entry.get("kty"))
        if algorithm not in ALGORITHMS:
            continue
        if algorithm == "ES256" and entry.get("crv") != "P-256":
            continue
        try:
            keys[entry["kid"]] = _Key(algorithm, jwk.construct(entry, algorithm))
        except (JOSEError, ValueError, TypeError, KeyError) as error:
            log.warning("skipping OIDC key %s: %s", entry.get("kid"), error)
    return keys
