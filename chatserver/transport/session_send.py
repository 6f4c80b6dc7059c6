"""A session's send path: frames into the bounded outbox, one writer task while there is a backlog."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chatserver.transport.codec import frame_sender
from chatserver.transport.session_state import State
from chatserver.transport.timer_heap import Deadline, timer_heap

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

    from chatserver.config import Settings
    from chatserver.realtime.outbox import Outbox
    from chatserver.transport.codec import Codec

log = logging.getLogger("chatserver.websocket")


class SessionSend:
    """Part of `transport.session.Session`: what goes out, and the keep-alive frames."""

    __slots__ = ()

    websocket: WebSocket
    codec: Codec
    outbox: Outbox
    settings: Settings
    state: State
    _writer: asyncio.Task[None] | None
    _ka_timer: Deadline | None

    def _spawn_writer(self) -> None:
        self._writer = asyncio.create_task(self._write())

    async def _write(self) -> None:
        """The connection's one writer: runs only while there is a backlog (see Outbox)."""
        try:
            await self.outbox.drain(frame_sender(self.websocket, self.codec))
        except Exception as error:  # the peer went away mid-send: nothing left to tell it
            log.debug("writer stopped: %r", error)
            self.outbox.fail()

    def _keepalive(self) -> None:
        frame = self.codec.keepalive
        if self.state is State.READY and frame is not None:
            self.send_text(frame)
            # One loop timer for every connection's keep-alive (a loop timer each costs ~0.5 KB).
            self._ka_timer = timer_heap().call_later(self.settings.ka_interval, self._keepalive)

    def send(self, frame: Mapping[str, Any]) -> None:
        self.outbox.push(json.dumps(frame, separators=(",", ":"), ensure_ascii=False))

    def send_text(self, frame: str) -> None:
        self.outbox.push(frame)

    def send_bytes(self, frame: bytes) -> None:
        """Queue a binary frame (codecs with `binary = True`)."""
        self.outbox.push(frame)  # type: ignore[arg-type]
