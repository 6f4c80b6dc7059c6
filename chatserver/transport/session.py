"""The connection state machine every WebSocket protocol shares; each protocol is a thin codec over it.

A session owns: one reader loop (the ASGI task itself), one writer task draining the connection's bounded
outbox, loop timers (connection_init deadline, keep-alive, maximum age), the connection's subscriptions and its
running queries/mutations. Codecs decode frames, call `prepare`/`subscribe`/`execute`/`stop`, and encode.
This module is the lifecycle; the send path, authentication and operations are in session_send.py,
session_auth.py and session_operations.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.websockets import WebSocket

from chatserver.auth.identity import Identity
from chatserver.realtime.hub import Subscriber
from chatserver.realtime.outbox import Outbox
from chatserver.transport.codec import Codec, RealtimeContext, frame_sender, frame_write_now
from chatserver.transport.json_codec import loads_strict
from chatserver.transport.session_auth import SessionAuth
from chatserver.transport.session_operations import START_BURST, SessionOperations, StartRefused
from chatserver.transport.session_send import SessionSend
from chatserver.transport.session_state import (
    CLOSE_INTERNAL_ERROR,
    CLOSE_NORMAL,
    CLOSE_SLOW_CONSUMER,
    State,
    close_reason,
)
from chatserver.transport.timer_heap import Deadline

log = logging.getLogger("chatserver.websocket")

CLOSE_GRACE_SECONDS = 5.0  # after a close request, how long the queue may take to drain before an abort
SLOW_CLOSE_SECONDS = 1.0  # how long a close frame to a stalled reader is attempted

# transport/mqtt still imports these three from here; the other protocols import them from where they live.
__all__ = ["RealtimeContext", "Session", "StartRefused", "State"]


class Session(SessionSend, SessionAuth, SessionOperations):
    """One WebSocket connection, whatever its protocol. Implements realtime.engine.Connection."""

    __slots__ = (
        "__weakref__",
        "_aborted",
        "_close",
        "_closed",
        "_closer",
        "_idle",
        "_idle_timer",
        "_init_timer",
        "_ka_timer",
        "_last_frame",
        "_main",
        "_tasks",
        "_timers",
        "_tokens",
        "_tokens_at",
        "_writer",
        "codec",
        "context",
        "engine",
        "identity",
        "operations",
        "outbox",
        "settings",
        "state",
        "subscriptions",
        "websocket",
    )

    def __init__(self, websocket: WebSocket, context: RealtimeContext, codec: Codec) -> None:
        self.websocket = websocket
        self.context = context
        self.engine = context.engine
        self.settings = context.settings
        self.codec = codec
        self.state = State.CONNECTING
        self.identity: Identity | None = None
        self.outbox = Outbox(
            self.settings.max_outgoing_bytes,
            self._overflowed,
            send=frame_sender(websocket, codec),
            spawn=self._spawn_writer,
            write_now=frame_write_now(websocket),
        )
        self.subscriptions: dict[str, Subscriber] = {}
        self.operations: dict[str, asyncio.Task[None]] = {}  # running, result still wanted, by id
        self._tasks: dict[asyncio.Task[None], str] = {}  # every operation task not done yet -> its kind
        self._close: tuple[int, str] = (CLOSE_NORMAL, "")
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._main: asyncio.Task[Any] | None = None
        self._aborted = False
        self._timers: list[asyncio.TimerHandle] | None = None  # made by the first close
        self._ka_timer: Deadline | None = None
        self._init_timer: asyncio.TimerHandle | None = None  # cancelled once acknowledged
        self._idle: tuple[float, Callable[[], None]] | None = None  # see watch_idle
        self._idle_timer: asyncio.TimerHandle | None = None
        self._last_frame = 0.0
        self._closed: asyncio.Future[None] | bool = False  # True once closed; a future while awaited
        self._tokens = START_BURST
        self._tokens_at = time.monotonic()

    # --- engine.Connection

    @property
    def user_sub(self) -> str | None:
        return self.identity.sub if self.identity else None

    async def wait_closed(self) -> None:
        if self._closed is True:
            return
        if self._closed is False:
            self._closed = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._closed)

    def disconnect(self, code: int, reason: str) -> None:
        """Close after the queued frames are sent (aborted after CLOSE_GRACE_SECONDS if they cannot be).

        `reason` may carry client input: it is cut to the 123 bytes a close frame holds.
        """
        if self.state in (State.CLOSING, State.CLOSED):
            return
        self.state = State.CLOSING
        self._close = (code, close_reason(reason))
        self._stop_everything()
        self.outbox.close()
        self._closer = asyncio.create_task(self._close_when_drained())
        loop = asyncio.get_running_loop()
        if self._timers is None:
            self._timers = []
        self._timers.append(loop.call_later(CLOSE_GRACE_SECONDS, self._abort))

    # --- lifecycle

    async def run(self) -> None:
        """Accept, then read until the socket closes. Runs in the ASGI task of the connection."""
        await self.websocket.accept(subprotocol=self.codec.subprotocol)
        # The codec has read the handshake's query string (Amplify's header: a token, ~1 KB): not kept.
        self.websocket.scope["query_string"] = b""
        loop = asyncio.get_running_loop()
        self._main = asyncio.current_task()
        self.engine.add_connection(self, self.settings.max_connection_age)  # the engine closes it at that age
        self._init_timer = loop.call_later(self.settings.connection_init_timeout, self._init_expired)
        try:
            await self._read()
        except asyncio.CancelledError:
            if not self._aborted:
                raise
            if self._main is not None:
                self._main.uncancel()
        finally:
            await self._finish()

    async def _read(self) -> None:
        receive = self.websocket.receive
        while True:
            # No local keeps the last frame alive while waiting (a start frame carries a ~1 KB token).
            if await self._on_message(await receive()):
                return

    async def _on_message(self, message: Mapping[str, Any]) -> bool:
        """Handle one ASGI message; True when the socket is gone."""
        if self._idle is not None:
            self._last_frame = time.monotonic()
        if message["type"] == "websocket.disconnect":
            return True
        if self.state is not State.READY and self.state is not State.CONNECTING:
            return False
        codec = self.codec
        if getattr(codec, "binary", False):  # the codec reads raw frames itself (MQTT packets span frames)
            return await self._handle(codec, dict(message))
        text = message.get("text")
        if text is None:
            codec.invalid(self, "Binary frames are not supported")
            return False
        try:
            data = loads_strict(text)
        except ValueError:
            codec.invalid(self, "Invalid JSON")
            return False
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            codec.invalid(self, "Invalid message")
            return False
        return await self._handle(codec, data)

    async def _handle(self, codec: Codec, data: dict[str, Any]) -> bool:
        try:
            await codec.handle(self, data)
        except Exception:
            log.exception("%s message failed", type(codec).__name__)
            self.disconnect(CLOSE_INTERNAL_ERROR, "Internal error")
        return False

    async def _close_when_drained(self) -> None:
        try:
            writer = self._writer
            if writer is not None and not writer.done():
                await writer
            if self.outbox.overflowed or self.outbox.failed:
                return
            code, reason = self._close
            await self.websocket.close(code, reason)
        except Exception as error:
            log.debug("close failed: %r", error)

    async def _finish(self) -> None:
        self.state = State.CLOSED
        self._stop_everything()
        self.outbox.close()
        for timer in self._timers or ():
            timer.cancel()
        if self._init_timer is not None:
            self._init_timer.cancel()
        if self._ka_timer is not None:
            self._ka_timer.cancel()
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        closer = self._closer
        if closer is not None and not closer.done() and not self._aborted:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(closer), SLOW_CLOSE_SECONDS)
        for task in (self._closer, self._writer):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        try:
            await self._await_operations()
        finally:
            self.engine.remove_connection(self)
            waiter, self._closed = self._closed, True
            if isinstance(waiter, asyncio.Future) and not waiter.done():
                waiter.set_result(None)

    def _abort(self) -> None:
        """Stop reading now: the socket could not be closed politely."""
        if self.state is State.CLOSED or self._main is None or self._main.done():
            return
        self._aborted = True
        self._main.cancel()

    def _overflowed(self) -> None:
        # Called from inside the engine's fan-out loop: touch no hub state here.
        if self.state is State.CLOSED:
            return
        self.engine.note_slow_consumer()
        self.state = State.CLOSING
        self._close = (CLOSE_SLOW_CONSUMER, "Slow consumer")
        asyncio.get_running_loop().call_soon(self._drop_slow)

    def _drop_slow(self) -> None:
        self._stop_everything()
        if self._writer is not None:
            self._writer.cancel()
        self._closer = asyncio.create_task(self._close_slow())

    async def _close_slow(self) -> None:
        try:
            await asyncio.wait_for(
                self.websocket.close(CLOSE_SLOW_CONSUMER, "Slow consumer"), SLOW_CLOSE_SECONDS
            )
        except Exception:
            self._abort()

    def _init_expired(self) -> None:
        if self.state is State.CONNECTING:
            self.codec.init_timeout(self)

    # --- what codecs call

    def watch_idle(self, seconds: float, on_idle: Callable[[], None]) -> None:
        """Call `on_idle` once no frame has arrived for `seconds` (MQTT's keep-alive); 0 turns it off."""
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        self._idle = (seconds, on_idle) if seconds > 0 else None
        if self._idle is not None:
            self._last_frame = time.monotonic()
            self._idle_timer = asyncio.get_running_loop().call_later(seconds, self._idle_check)

    def _idle_check(self) -> None:
        self._idle_timer = None
        if self._idle is None or self.state is State.CLOSED:
            return
        seconds, on_idle = self._idle
        left = self._last_frame + seconds - time.monotonic()
        if left > 0:
            self._idle_timer = asyncio.get_running_loop().call_later(left, self._idle_check)
            return
        self._idle = None
        on_idle()
