"""What a wire protocol is to the shared session: a codec, and the server parts a session reaches."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from chatserver.config import Settings
from chatserver.realtime.engine import RealtimeEngine
from chatserver.transport.ws_frames import BinaryFrames, TextFrames, frame_writer

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

    from chatserver.transport.session import Session

GroupRules = Callable[[str, str], "list[str] | None"]


@dataclass(frozen=True, slots=True)
class RealtimeContext:
    """What sessions need from the server, picked out of `Services` once per app."""

    settings: Settings
    engine: RealtimeEngine
    verifier: Any  # .verify(authorization) -> Identity, raises UnauthorizedException
    executor: Any = None  # .compile(query) and async .execute(...); None: subscriptions only
    group_rules: GroupRules | None = None  # (type, field) -> cognito groups, None = no rule
    credentials: Any = None  # auth.modes.CredentialResolver: async .resolve_headers(header) -> Identity
    auth_rules: Any = None  # schema.permissions.AuthRules: the fields each auth mode may not use


class Codec(Protocol):
    """One wire protocol. Frames in: `handle`; frames out: through `session.send`."""

    subprotocol: str | None
    keepalive: str | None  # frame sent every ka_interval once acknowledged, or None

    def data_prefix(self, op_id: str) -> str: ...

    async def handle(self, session: Session, message: dict[str, Any]) -> None: ...

    def invalid(self, session: Session, reason: str) -> None: ...

    def init_timeout(self, session: Session) -> None: ...

    # Optional (looked up with getattr, so a codec without them still works):
    #   complete_frame(op_id) -> frame   the server ended a subscription (room deleted, group removed)
    #   subscription_ended(session)      after such an end, for protocols with no frame to say it (MQTT)
    #   expired(session) -> None         the connection's credentials expired: close it the protocol's way


def frame_sender(websocket: WebSocket, codec: Codec) -> Callable[[Any], Awaitable[None]]:
    """How a codec's frames go out: through the server's FrameWriter when it has one (pre-framed deliveries,
    see transport.ws_frames), else as text, or binary for codecs with `binary = True` (MQTT)."""
    writer = frame_writer(websocket.scope)
    if writer is not None:
        return writer.send
    return websocket.send_bytes if getattr(codec, "binary", False) else websocket.send_text


def frame_write_now(websocket: WebSocket) -> Callable[[Any], bool] | None:
    """The server's synchronous pre-framed write (the outbox's fast path), when it has a FrameWriter."""
    writer = frame_writer(websocket.scope)
    return writer.write_now if writer is not None else None


def subscriber_prefix(websocket: WebSocket, codec: Codec, op_id: str) -> Any:
    """What the engine frames a subscription's events with: the codec's, pre-framed when the server can."""
    prefix = codec.data_prefix(op_id)
    if frame_writer(websocket.scope) is None:
        return prefix
    return TextFrames(prefix) if type(prefix) is str else BinaryFrames(prefix)
