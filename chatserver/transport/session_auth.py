"""A session's authentication: the connection's identity, and its end when the credentials expire."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chatserver.auth.identity import Identity
from chatserver.auth.modes import connection_key, header_value
from chatserver.errors import UnauthorizedException
from chatserver.transport.session_state import CLOSE_UNAUTHORIZED, EXPIRED_REASON, State

if TYPE_CHECKING:
    import asyncio

    from chatserver.realtime.engine import RealtimeEngine
    from chatserver.transport.codec import Codec, RealtimeContext


class SessionAuth:
    """Part of `transport.session.Session`: connection_init accepted, tokens verified and watched."""

    __slots__ = ()

    context: RealtimeContext
    engine: RealtimeEngine
    codec: Codec
    state: State
    identity: Identity | None
    _init_timer: asyncio.TimerHandle | None

    def acknowledge(self, identity: Identity | None, *frames: Mapping[str, Any]) -> None:
        """connection_init accepted: send the ack frames, then keep-alives if the protocol has them."""
        self.state = State.READY
        self.identity = identity
        if self._init_timer is not None:  # its callback would do nothing now: free it
            self._init_timer.cancel()
            self._init_timer = None
        if identity is not None:
            self.engine.set_user(self, connection_key(identity))
        for frame in frames:
            self.send(frame)
        if self.codec.keepalive is not None:
            self._keepalive()

    def authenticate(self, authorization: str | None) -> Identity:
        """Verify a token (raw or `Bearer `); raises UnauthorizedException."""
        if not authorization:
            raise UnauthorizedException(UnauthorizedException.MISSING)
        identity = self.context.verifier.verify(authorization)
        self.engine.set_user(self, identity.sub)
        self.engine.watch_expiry(self, identity.expires_at, self._credentials_expired)
        return identity

    async def authenticate_headers(self, header: Mapping[str, Any] | None) -> Identity:
        """Credentials in any enabled mode (`Authorization`, `x-api-key`, whatever their case) -> Identity;
        raises UnauthorizedException. The connection is indexed by the credential, to be closed when it dies."""
        resolver = self.context.credentials
        if resolver is None:
            return self.authenticate(header_value(header, "authorization"))
        identity = await resolver.resolve_headers(header)
        self.engine.set_user(self, connection_key(identity))
        self.engine.watch_expiry(self, identity.expires_at, self._credentials_expired)
        return identity

    def _credentials_expired(self) -> None:
        """Called by the engine's expiry sweep: the token this connection relies on has expired."""
        if self.state is State.CLOSING or self.state is State.CLOSED:
            return
        expired = getattr(self.codec, "expired", None)
        if expired is not None:
            expired(self)
        else:
            self.disconnect(CLOSE_UNAUTHORIZED, EXPIRED_REASON)
