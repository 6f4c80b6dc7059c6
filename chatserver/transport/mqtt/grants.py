"""The signed, short-lived MQTT URL: which client id may connect, as whom, to which topics, until when.

Everything the `/mqtt` endpoint needs travels in the URL's `token` (compressed JSON and an HMAC-SHA256 of it),
so any replica sharing the data directory's secret can accept the connection and nothing is stored per
handshake. A topic is an HMAC of the caller's session and the subscription request: unguessable, bound to the
caller, and the same for the same subscription of the same session, so a client that already listens on it
(aws-appsync 1.x keys its observers by topic) shares the MQTT connection it has.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chatserver.auth.identity import Identity

TOKEN_PARAMETER = "token"
MAX_TOKEN_CHARS = 8192  # the URL goes in an HTTP request line: keep it well under servers' 16 KB limits
MAX_CLAIMS_BYTES = 64 * 1024  # decompressed, after the MAC was checked
CLIENT_ID_BYTES = 16  # 22 URL-safe characters: fits MQTT 3.1's 23-character client id limit


class GrantRefused(Exception):
    """The URL cannot be used: `reason` says why (for the log and the close reason)."""

    INVALID = "invalid"
    EXPIRED = "expired"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenTooLarge(Exception):
    """The subscription request does not fit in a URL."""


@dataclass(frozen=True, slots=True)
class GrantedSubscription:
    topic: str
    request: Mapping[str, Any]  # {"query", "variables", "operationName"}, checked again at SUBSCRIBE


@dataclass(frozen=True, slots=True)
class MqttGrant:
    """What one handshake handed out."""

    client_id: str
    expires_at: int  # epoch seconds: CONNECT after this is refused
    sub: str
    username: str
    groups: tuple[str, ...]
    token_use: str
    issued_at: int
    token_expires_at: int
    auth_time: int | None  # of the user-pool session that asked: a global sign-out after it voids the URL
    origin_jti: str | None
    mode: str | None
    subscriptions: tuple[GrantedSubscription, ...]

    def topic_requests(self) -> dict[str, Mapping[str, Any]]:
        return {s.topic: s.request for s in self.subscriptions}

    def identity(self) -> Identity:
        """The caller, as the handshake saw them (the subscription rules run on it at SUBSCRIBE)."""
        claims: dict[str, Any] = {"sub": self.sub}
        if self.auth_time is not None:
            claims["auth_time"] = self.auth_time
        if self.origin_jti is not None:
            claims["origin_jti"] = self.origin_jti
        extra: dict[str, Any] = {"mode": self.mode} if self.mode is not None else {}
        return Identity(
            sub=self.sub,
            username=self.username,
            groups=frozenset(self.groups),
            token_use=self.token_use,
            issued_at=self.issued_at,
            expires_at=self.token_expires_at,
            claims=claims,
            **extra,
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class GrantSigner:
    """Issues and opens MQTT URL tokens with one derived key (never the key of another purpose)."""

    def __init__(self, key: bytes, ttl_seconds: int) -> None:
        self._key = key
        self.ttl_seconds = ttl_seconds

    def topic(self, identity: Identity, field_name: str, request: Mapping[str, Any]) -> str:
        """The topic of one subscription request of this caller's session."""
        session = [identity.sub, identity.claims.get("auth_time"), identity.claims.get("origin_jti")]
        material = json.dumps(
            [session, request.get("query"), request.get("variables"), request.get("operationName")],
            sort_keys=True,
            separators=(",", ":"),
        )
        digest = hmac.new(self._key, b"topic:" + material.encode(), hashlib.sha256).hexdigest()[:32]
        return f"chatserver/{field_name}/{digest}"

    def issue(
        self,
        identity: Identity,
        subscriptions: tuple[GrantedSubscription, ...],
        now: float | None = None,
    ) -> tuple[MqttGrant, str]:
        """A fresh client id and its signed token; raises TokenTooLarge when the request does not fit a URL."""
        now = time.time() if now is None else now
        auth_time = identity.claims.get("auth_time")
        origin_jti = identity.claims.get("origin_jti")
        grant = MqttGrant(
            client_id=secrets.token_urlsafe(CLIENT_ID_BYTES),
            expires_at=int(now) + self.ttl_seconds,
            sub=identity.sub,
            username=identity.username,
            groups=tuple(sorted(identity.groups)),
            token_use=identity.token_use,
            issued_at=identity.issued_at,
            token_expires_at=identity.expires_at,
            auth_time=auth_time if isinstance(auth_time, int) and auth_time > 0 else None,
            origin_jti=origin_jti if isinstance(origin_jti, str) else None,
            mode=getattr(identity, "mode", None),
            subscriptions=subscriptions,
        )
        token = self._seal(grant)
        if len(token) > MAX_TOKEN_CHARS:
            raise TokenTooLarge(
                f"the subscription request is too large for an MQTT URL ({len(token)} characters)"
            )
        return grant, token

    def open(self, token: str, now: float | None = None) -> MqttGrant:
        """The grant a token carries; raises GrantRefused when it is forged, malformed or expired."""
        now = time.time() if now is None else now
        if len(token) > MAX_TOKEN_CHARS:
            raise GrantRefused(GrantRefused.INVALID)
        body, _, mac = token.partition(".")
        try:
            expected = hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()
            if not hmac.compare_digest(_unb64(mac), expected):
                raise GrantRefused(GrantRefused.INVALID)
            inflater = zlib.decompressobj()
            raw = inflater.decompress(_unb64(body), MAX_CLAIMS_BYTES)
            if inflater.unconsumed_tail:
                raise GrantRefused(GrantRefused.INVALID)
            grant = _grant_of(json.loads(raw))
        except (ValueError, binascii.Error, zlib.error, UnicodeEncodeError, KeyError, TypeError):
            raise GrantRefused(GrantRefused.INVALID) from None
        if now >= grant.expires_at:
            raise GrantRefused(GrantRefused.EXPIRED)
        return grant

    def _seal(self, grant: MqttGrant) -> str:
        claims = {
            "c": grant.client_id,
            "x": grant.expires_at,
            "s": grant.sub,
            "n": grant.username,
            "g": list(grant.groups),
            "u": grant.token_use,
            "i": grant.issued_at,
            "e": grant.token_expires_at,
            "a": grant.auth_time,
            "o": grant.origin_jti,
            "m": grant.mode,
            "t": [[s.topic, dict(s.request)] for s in grant.subscriptions],
        }
        raw = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
        body = _b64(zlib.compress(raw, 6))
        mac = hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()
        return f"{body}.{_b64(mac)}"


def _grant_of(claims: Any) -> MqttGrant:
    """Rebuild a grant from claims whose MAC was already checked (so only our own shapes arrive here)."""
    if not isinstance(claims, dict):
        raise ValueError("claims")
    subscriptions = tuple(GrantedSubscription(str(topic), dict(request)) for topic, request in claims["t"])
    return MqttGrant(
        client_id=str(claims["c"]),
        expires_at=int(claims["x"]),
        sub=str(claims["s"]),
        username=str(claims["n"]),
        groups=tuple(str(g) for g in claims["g"]),
        token_use=str(claims["u"]),
        issued_at=int(claims["i"]),
        token_expires_at=int(claims["e"]),
        auth_time=claims["a"],
        origin_jti=claims["o"],
        mode=claims["m"],
        subscriptions=subscriptions,
    )
