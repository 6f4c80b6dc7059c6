"""Cognito-shaped RS256 tokens: `TokenIssuer` mints ID and access tokens, `TokenVerifier` checks them.

The verifier runs on every HTTP request and WebSocket start, so a verified token is cached (bounded LRU keyed by the
token string): its RSA signature is checked once, while expiry and revocation are re-checked on every call.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from jose import jws

from chatserver.auth.identity import Identity
from chatserver.auth.jws_parts import is_int, parse_compact_jws
from chatserver.auth.keys import ALGORITHM, SigningKeys
from chatserver.auth.revocations import Revocations
from chatserver.errors import UnauthorizedException

ACCESS_SCOPE = "aws.cognito.signin.user.admin"
GROUPS_CLAIM = "cognito:groups"
DEFAULT_CACHE_SIZE = 10_000
EVENT_NAMESPACE = uuid.UUID("5a4c3a52-1d0e-4c52-9f0e-6368617473e7")


@dataclass(frozen=True, slots=True)
class TokenSubject:
    """What the tokens say about a user."""

    sub: str
    username: str
    email: str
    email_verified: bool
    given_name: str | None = None
    family_name: str | None = None
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    id_token: str
    access_token: str
    expires_in: int
    origin_jti: str
    auth_time: int


class TokenIssuer:
    """Signs ID and access tokens with the current key; `kid` in the header."""

    def __init__(
        self,
        keys: SigningKeys,
        *,
        issuer: str,
        client_id: str,
        id_token_ttl: int,
        access_token_ttl: int,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._client_id = client_id
        self._id_ttl = id_token_ttl
        self._access_ttl = access_token_ttl

    def issue(
        self, subject: TokenSubject, *, auth_time: int, origin_jti: str, now: int | None = None
    ) -> IssuedTokens:
        iat = int(time.time()) if now is None else now
        return IssuedTokens(
            id_token=self.sign(self.id_claims(subject, auth_time, origin_jti, iat)),
            access_token=self.access_token(subject, auth_time=auth_time, origin_jti=origin_jti, now=iat),
            expires_in=self._access_ttl,
            origin_jti=origin_jti,
            auth_time=auth_time,
        )

    def access_token(
        self, subject: TokenSubject, *, auth_time: int, origin_jti: str, now: int | None = None
    ) -> str:
        iat = int(time.time()) if now is None else now
        return self.sign(self.access_claims(subject, auth_time, origin_jti, iat))

    def id_claims(self, subject: TokenSubject, auth_time: int, origin_jti: str, iat: int) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "sub": subject.sub,
            "aud": self._client_id,
            "email_verified": subject.email_verified,
            "token_use": "id",
            "auth_time": auth_time,
            "iss": self._issuer,
            "cognito:username": subject.username,
            "exp": iat + self._id_ttl,
            "iat": iat,
            "email": subject.email,
            "jti": str(uuid.uuid4()),
            "origin_jti": origin_jti,
            "event_id": event_id(origin_jti),
        }
        if subject.given_name is not None:
            claims["given_name"] = subject.given_name
        if subject.family_name is not None:
            claims["family_name"] = subject.family_name
        if subject.groups:
            claims[GROUPS_CLAIM] = list(subject.groups)
        return claims

    def access_claims(
        self, subject: TokenSubject, auth_time: int, origin_jti: str, iat: int
    ) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "sub": subject.sub,
            "client_id": self._client_id,
            "token_use": "access",
            "scope": ACCESS_SCOPE,
            "auth_time": auth_time,
            "iss": self._issuer,
            "exp": iat + self._access_ttl,
            "iat": iat,
            "jti": str(uuid.uuid4()),
            "origin_jti": origin_jti,
            "event_id": event_id(origin_jti),
            "username": subject.username,
        }
        if subject.groups:
            claims[GROUPS_CLAIM] = list(subject.groups)
        return claims

    def sign(self, claims: Mapping[str, Any]) -> str:
        return jws.sign(
            dict(claims),
            self._keys.signing_key,
            headers={"kid": self._keys.kid},
            algorithm=ALGORITHM,
        )


@dataclass(frozen=True, slots=True)
class _Verified:
    identity: Identity
    expires_at: int
    auth_time: int


class TokenVerifier:
    """Turns an `Authorization` value into an Identity or raises UnauthorizedException. Synchronous and cheap."""

    def __init__(
        self,
        keys: SigningKeys,
        revocations: Revocations,
        *,
        issuer: str,
        client_id: str,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self._keys = keys
        self._revocations = revocations
        self._issuer = issuer
        self._client_id = client_id
        self._cache: OrderedDict[str, _Verified] = OrderedDict()
        self._cache_size = cache_size

    @property
    def revocations(self) -> Revocations:
        """Where sign-outs land; a scale-out feed calls `revocations.note_revoked` for other replicas."""
        return self._revocations

    def verify(self, authorization: str | None) -> Identity:
        token = _strip_scheme(authorization)
        verified = self._cache.get(token)
        if verified is None:
            verified = self._verify_signed(token)
            self._cache[token] = verified
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(token)
        if time.time() >= verified.expires_at:
            raise UnauthorizedException(UnauthorizedException.EXPIRED)
        if self._revocations.is_revoked(verified.identity.sub, verified.auth_time):
            raise UnauthorizedException(UnauthorizedException.INVALID)
        if self._revocations.is_session_revoked(verified.identity.claims.get("origin_jti")):
            raise UnauthorizedException(UnauthorizedException.INVALID)
        return verified.identity

    def _verify_signed(self, token: str) -> _Verified:
        header, claims, signing_input, signature = parse_compact_jws(token)
        if header.get("alg") != ALGORITHM:
            raise UnauthorizedException(UnauthorizedException.INVALID)
        kid = header.get("kid")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None or not key.public_key.verify(signing_input, signature):
            raise UnauthorizedException(UnauthorizedException.INVALID)
        return self._check_claims(claims)

    def _check_claims(self, claims: dict[str, Any]) -> _Verified:
        token_use = claims.get("token_use")
        if token_use == "id":
            username, client_ok = (
                claims.get("cognito:username"),
                claims.get("aud") == self._client_id,
            )
        elif token_use == "access":
            username, client_ok = claims.get("username"), claims.get("client_id") == self._client_id
        else:
            username, client_ok = None, False
        sub, exp, groups = claims.get("sub"), claims.get("exp"), claims.get(GROUPS_CLAIM, [])
        auth_time = claims.get("auth_time", claims.get("iat"))
        if not (
            client_ok
            and claims.get("iss") == self._issuer
            and isinstance(sub, str)
            and isinstance(username, str)
            and is_int(exp)
            and is_int(auth_time)
            and _is_strings(groups)
        ):
            raise UnauthorizedException(UnauthorizedException.INVALID)
        iat = claims.get("iat")
        identity = Identity(
            sub=sub,
            username=username,
            groups=frozenset(groups),
            token_use=token_use,
            issued_at=iat if is_int(iat) else 0,
            expires_at=exp,
            claims=MappingProxyType(claims),
        )
        return _Verified(identity=identity, expires_at=exp, auth_time=auth_time)


def event_id(origin_jti: str) -> str:
    """The sign-in event a token belongs to: one id per session, the same in refreshed tokens."""
    return str(uuid.uuid5(EVENT_NAMESPACE, origin_jti))


def _strip_scheme(authorization: str | None) -> str:
    if not authorization or not authorization.strip():
        raise UnauthorizedException(UnauthorizedException.MISSING)
    token = authorization.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    return token


def _is_strings(values: object) -> bool:
    return isinstance(values, list) and all(isinstance(v, str) for v in values)
