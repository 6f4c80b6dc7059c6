"""A connection's outgoing frames: bounded in bytes, drained by the connection's one writer task."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable


class Outbox:
    """FIFO of text frames. `push` never blocks: past `limit` queued characters the outbox drops everything,
    marks itself `overflowed` and calls `on_overflow` once (the owner then disconnects the slow consumer).

    Sizes are counted in characters; frames are JSON, so for ASCII payloads (base64 audio, ids) that is bytes.
    """

    __slots__ = ("_closed", "_frames", "_limit", "_on_overflow", "_size", "_waiter", "overflowed")

    def __init__(self, limit: int, on_overflow: Callable[[], None]) -> None:
        self._frames: deque[str] = deque()
        self._size = 0
        self._limit = limit
        self._on_overflow = on_overflow
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self.overflowed = False

    @property
    def queued_bytes(self) -> int:
        return self._size

    def push(self, frame: str) -> bool:
        """Queue `frame`; False when the outbox is closed or has just overflowed."""
        if self._closed:
            return False
        size = self._size + len(frame)
        if size > self._limit:
            self._frames.clear()
            self._size = 0
            self._closed = True
            self.overflowed = True
            self._wake()
            self._on_overflow()
            return False
        self._frames.append(frame)
        self._size = size
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return True

    def close(self) -> None:
        """Accept no more frames; the writer sends what is queued, then returns."""
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def drain(self, send: Callable[[str], Awaitable[None]]) -> None:
        """The writer loop: send frames in order until closed and empty (or overflowed)."""
        frames = self._frames
        loop = asyncio.get_running_loop()
        while True:
            while frames:
                if self.overflowed:
                    return
                frame = frames.popleft()
                self._size -= len(frame)
                await send(frame)
            if self._closed:
                return
            self._waiter = loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
