"""A WebSocket session's states and the close codes it ends with (shared by every protocol)."""

from __future__ import annotations

from enum import Enum

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001  # graceful shutdown, and the end of a connection's maximum age
CLOSE_SLOW_CONSUMER = 1013  # "try again later": the outgoing buffer overflowed
CLOSE_INTERNAL_ERROR = 1011
CLOSE_UNAUTHORIZED = 4401  # global sign-out, and credentials that expired while the socket was open
EXPIRED_REASON = "Unauthorized: token expired"
MAX_CLOSE_REASON_BYTES = 123  # RFC 6455 5.5: a control frame's 125 bytes, less the 2-byte code


class State(Enum):
    CONNECTING = "connecting"  # socket accepted, waiting for connection_init
    READY = "ready"  # acknowledged
    CLOSING = "closing"  # close requested: draining the outbox
    CLOSED = "closed"


def close_reason(text: str) -> str:
    """`text` cut to fit a close frame: at most 123 bytes of UTF-8, never splitting a character."""
    encoded = text.encode("utf-8")
    if len(encoded) <= MAX_CLOSE_REASON_BYTES:
        return text
    return encoded[:MAX_CLOSE_REASON_BYTES].decode("utf-8", errors="ignore")
