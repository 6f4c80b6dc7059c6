"""Pre-framed subscription writes: a delivery's body is encoded once per publish, each subscriber gets a
WebSocket frame header of its own plus the shared bytes, handed to the socket with `writelines` (no copy).

Through ASGI a text frame is copied four times per subscriber (prefix + body, `str.encode`, websockets'
framing, uvicorn's `b"".join`). `chatserver serve` and the tests run uvicorn with `ws=FramingWebSocketProtocol`,
which offers the ASGI extension `chatserver.frames`: a `FrameWriter` whose `send` writes a pre-framed frame (a
tuple of bytes: text, or MQTT's binary PUBLISH) straight to the transport and any other frame the usual way; its
`write_now` does the same without a coroutine when the transport takes the frame at once (the outbox's fast
path). Servers without the extension (another ASGI server, `--ws wsproto`) and connections that negotiated an
extension (permessage-deflate, which chatserver never offers) keep the plain ASGI path.
"""

from __future__ import annotations

import struct
from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import State

EXTENSION = "chatserver.frames"
_SUFFIX = b"}"
_FINAL_TEXT, _FINAL_BINARY = 0x81, 0x82


def frame_header(length: int, first_byte: int) -> bytes:
    """The header of an unmasked frame (server to client) carrying `length` bytes."""
    if length < 126:
        return bytes((first_byte, length))
    if length < 65536:
        return struct.pack("!BBH", first_byte, 126, length)
    return struct.pack("!BBQ", first_byte, 127, length)


def text_header(length: int) -> bytes:
    """The header of a final text frame carrying `length` bytes."""
    return frame_header(length, _FINAL_TEXT)


class TextFrames:
    """The engine's frame builder for one text-protocol subscriber: `prefix + body + "}"`, pre-framed as a
    tuple of parts (header + prefix, the shared body bytes, the closing brace) for `writelines`."""

    __slots__ = ("prefix",)

    # The engine frames one body for every subscriber of a plan group in a row (on the event loop): the last
    # body's UTF-8 is kept, so a publish to N subscribers encodes it once, not N times, and so are the frame
    # headers by frame length (prefixes of one length share one). Holding the string keeps its identity from
    # being reused by another body.
    _last: tuple[str | None, bytes, dict[int, bytes]] = (None, b"", {})

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.encode()

    def frame(self, body: str) -> tuple[bytes, ...]:
        last_body, encoded, headers = TextFrames._last
        if body is not last_body:
            encoded = body.encode()
            headers = {}
            TextFrames._last = (body, encoded, headers)
        prefix = self.prefix
        size = len(prefix) + len(encoded) + 1
        header = headers.get(size)
        if header is None:
            header = headers[size] = text_header(size)
        return (header + prefix, encoded, _SUFFIX)


class BinaryFrames:
    """The engine's frame builder for one binary-protocol subscriber (MQTT), pre-framed: `frames.parts(body)`
    gives the subscriber's own head and the body bytes every subscriber shares."""

    __slots__ = ("frames",)

    def __init__(self, frames: Any) -> None:
        self.frames = frames

    def frame(self, body: str) -> tuple[bytes, ...]:
        head, shared = self.frames.parts(body)
        return (frame_header(len(head) + len(shared), _FINAL_BINARY) + head, shared)


class FrameWriter:
    """A connection's frame sink: pre-framed frames (tuples of bytes) straight to the transport, text or
    bytes through ASGI."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: FramingWebSocketProtocol) -> None:
        self._protocol = protocol

    def write_now(self, frame: Any) -> bool:
        """Write a pre-framed frame at once if the transport takes it (open, not paused); False otherwise
        (any other frame, or one that must wait: `send` does that)."""
        protocol = self._protocol
        if (
            type(frame) is tuple
            and not protocol.write_paused
            and not protocol.disconnected
            and not protocol.close_sent
            and protocol.conn.state is State.OPEN
        ):
            protocol.transport.writelines(frame)
            return True
        return False

    async def send(self, frame: Any) -> None:
        """Write one frame; waits while the transport is paused, like uvicorn's own send."""
        protocol = self._protocol
        if type(frame) is not tuple:
            message = {"type": "websocket.send", "bytes" if type(frame) is bytes else "text": frame}
            await protocol.send(message)  # type: ignore[arg-type]
            return
        writable = protocol.writable
        if not writable.is_set():
            await writable.wait()
        # What uvicorn's send and websockets' send_text check before framing.
        if protocol.disconnected or protocol.conn.state is not State.OPEN:
            raise ClientDisconnected()
        if protocol.close_sent:
            raise RuntimeError("Unexpected ASGI message 'websocket.send', after sending 'websocket.close'.")
        protocol.transport.writelines(frame)


class FramingWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's default WebSocket protocol, plus the `chatserver.frames` ASGI extension."""

    write_paused = False  # `writable` cleared, as a plain attribute (the fan-out checks it per frame)

    def pause_writing(self) -> None:
        super().pause_writing()
        self.write_paused = True

    def resume_writing(self) -> None:
        super().resume_writing()
        self.write_paused = False

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The handshake request's path holds Amplify's header (a ~1 KB token) in its query string, which the
        # scope now has: websockets' parser keeps the request for the connection's life, so keep it short.
        self.request = None  # type: ignore[assignment]
        event.path = event.path.partition("?")[0]
        scope = getattr(self, "scope", None)
        if scope is not None and not self.conn.extensions:  # a deflated frame cannot be pre-framed
            scope["extensions"][EXTENSION] = FrameWriter(self)  # type: ignore[index]


def frame_writer(scope: Any) -> FrameWriter | None:
    """The connection's FrameWriter, when the server offers one."""
    extensions = scope.get("extensions") or {}
    return extensions.get(EXTENSION)
