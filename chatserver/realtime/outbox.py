"""A connection's outgoing frames: bounded in bytes, drained by the connection's one writer task.

Fast path: when nothing is queued and the writer is idle, `push` steps the send coroutine itself. An ASGI
WebSocket send with room in the transport buffer finishes without suspending, so most frames are written
straight from the fan-out loop with no task switch (a task wake-up per subscriber halves fan-out throughput).
If the send does suspend (the transport is paused: a slow reader), the half-done send is handed to the
writer task, and later frames queue behind it, so order is kept.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

Send = Callable[[str], Awaitable[None]]


class Outbox:
    """FIFO of text frames. `push` never blocks: past `limit` queued characters the outbox drops everything,
    marks itself `overflowed` and calls `on_overflow` once (the owner then disconnects the slow consumer).

    Sizes are counted in characters; frames are JSON, so for ASCII payloads (base64 audio, ids) that is bytes.
    """

    __slots__ = (
        "_closed",
        "_direct",
        "_frames",
        "_limit",
        "_on_overflow",
        "_pending",
        "_size",
        "_waiter",
        "failed",
        "overflowed",
    )

    def __init__(self, limit: int, on_overflow: Callable[[], None]) -> None:
        self._frames: deque[str] = deque()
        self._size = 0
        self._limit = limit
        self._on_overflow = on_overflow
        self._waiter: asyncio.Future[None] | None = None
        self._direct: Send | None = None  # set while the writer is idle and nothing is queued
        self._pending: tuple[Coroutine[Any, Any, None], Any] | None = None
        self._closed = False
        self.overflowed = False
        self.failed = False  # a send raised: the peer is gone

    @property
    def queued_bytes(self) -> int:
        return self._size

    def push(self, frame: str) -> bool:
        """Send or queue `frame`; False when the outbox is closed or has just overflowed."""
        if self._closed:
            return False
        direct = self._direct
        if direct is not None:
            coroutine = direct(frame)  # type: ignore[assignment]
            try:
                blocker = coroutine.send(None)  # type: ignore[attr-defined]
            except StopIteration:
                return True
            except Exception:
                self._fail()
                return False
            # The send suspended: the writer finishes it; later frames wait behind it.
            self._direct = None
            self._pending = (coroutine, blocker)  # type: ignore[assignment]
            self._wake()
            return True
        size = self._size + len(frame)
        if size > self._limit:
            self._frames.clear()
            self._size = 0
            self._closed = True
            self.overflowed = True
            self._direct = None
            self._wake()
            self._on_overflow()
            return False
        self._frames.append(frame)
        self._size = size
        return True

    def close(self) -> None:
        """Accept no more frames; the writer sends what is queued, then returns."""
        self._closed = True
        self._direct = None
        self._wake()

    def _fail(self) -> None:
        self.failed = True
        self._closed = True
        self._direct = None
        self._frames.clear()
        self._size = 0
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def drain(self, send: Send) -> None:
        """The writer loop: send frames in order until closed and empty (or overflowed)."""
        frames = self._frames
        loop = asyncio.get_running_loop()
        try:
            while True:
                pending = self._pending
                if pending is not None:
                    self._pending = None
                    await _Resume(*pending)
                    continue
                while frames:
                    if self.overflowed:
                        return
                    frame = frames.popleft()
                    self._size -= len(frame)
                    await send(frame)
                    if self._pending is not None:
                        break
                if self._pending is not None:
                    continue
                if self._closed:
                    return
                self._waiter = loop.create_future()
                self._direct = send
                try:
                    await self._waiter
                finally:
                    self._direct = None
                    self._waiter = None
        finally:
            pending = self._pending
            if pending is not None:
                self._pending = None
                pending[0].close()


class _Resume:
    """Awaitable that finishes a coroutine already stepped once (its first yield is `blocker`)."""

    __slots__ = ("blocker", "coroutine")

    def __init__(self, coroutine: Coroutine[Any, Any, None], blocker: Any) -> None:
        self.coroutine = coroutine
        self.blocker = blocker

    def __await__(self) -> Generator[Any, Any, None]:
        coroutine, value = self.coroutine, self.blocker
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as error:
                try:
                    value = coroutine.throw(error)
                except StopIteration:
                    return
                continue
            try:
                value = coroutine.send(sent)
            except StopIteration:
                return
