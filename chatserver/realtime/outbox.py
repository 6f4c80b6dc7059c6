"""A connection's outgoing frames: bounded in bytes, drained by the connection's one writer task.

Fast path: when nothing is queued and the writer is idle, `push` first offers the frame to `write_now` (a plain
call that writes it if the transport takes it at once), else steps the send coroutine itself. An ASGI
WebSocket send with room in the transport buffer finishes without suspending, so most frames are written
straight from the fan-out loop with no task switch (a task wake-up per subscriber halves fan-out throughput).
If the send does suspend (the transport is paused: a slow reader), the half-done send is handed to the
writer task, and later frames queue behind it, so order is kept.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

Send = Callable[[str], Awaitable[None]]
WriteNow = Callable[[Any], bool]


def frame_size(frame: Any) -> int:
    """What a frame counts for in the outbox: its length, or for a pre-framed one (a tuple of bytes written in
    a row) the bytes of its parts."""
    if type(frame) is tuple:
        return sum(map(len, frame))
    return len(frame)


class Outbox:
    """FIFO of text frames. `push` never blocks: past `limit` queued characters the outbox drops everything,
    marks itself `overflowed` and calls `on_overflow` once (the owner then disconnects the slow consumer).

    With `send` and `spawn` given, frames go out directly while nothing is queued, and `spawn()` is called
    when a writer task is needed (a send suspended, or frames queued); the owner then runs `drain(send)` in
    one task, which returns when the backlog is gone. Without them, frames queue until `drain` is called.
    `write_now`, when given, is tried first on that direct path: True means the frame is written.
    Sizes are counted in characters; frames are JSON, so for ASCII payloads (base64 audio, ids) that is bytes.
    """

    __slots__ = (
        "_closed",
        "_direct",
        "_frames",
        "_limit",
        "_on_overflow",
        "_pending",
        "_send",
        "_size",
        "_spawn",
        "_write_now",
        "_writing",
        "failed",
        "overflowed",
    )

    def __init__(
        self,
        limit: int,
        on_overflow: Callable[[], None],
        send: Send | None = None,
        spawn: Callable[[], None] | None = None,
        write_now: WriteNow | None = None,
    ) -> None:
        self._frames: deque[Any] | None = None  # made when a frame first has to wait (most never do)
        self._size = 0
        self._limit = limit
        self._on_overflow = on_overflow
        self._send = send
        self._spawn = spawn
        self._write_now = write_now
        self._direct: Send | None = send if spawn is not None else None
        self._pending: tuple[Coroutine[Any, Any, None], Any] | None = None
        self._writing = False
        self._closed = False
        self.overflowed = False
        self.failed = False  # a send raised: the peer is gone

    @property
    def queued_bytes(self) -> int:
        return self._size

    @property
    def writing(self) -> bool:
        """True while a writer task is (or should be) draining a backlog."""
        return self._writing

    def push(self, frame: str) -> bool:
        """Send or queue `frame`; False when the outbox is closed or has just overflowed."""
        if self._closed:
            return False
        direct = self._direct
        if direct is not None:
            write_now = self._write_now
            if write_now is not None:
                try:
                    if write_now(frame):
                        return True
                except Exception:
                    self.fail()
                    return False
            coroutine = direct(frame)
            try:
                blocker = coroutine.send(None)  # type: ignore[attr-defined]
            except StopIteration:
                return True
            except Exception:
                self.fail()
                return False
            # The send suspended: a writer finishes it; later frames wait behind it.
            self._direct = None
            self._pending = (coroutine, blocker)  # type: ignore[assignment]
            self._need_writer()
            return True
        size = self._size + frame_size(frame)
        if size > self._limit:
            self._frames = None
            self._size = 0
            self._closed = True
            self.overflowed = True
            self._direct = None
            self._on_overflow()
            return False
        frames = self._frames
        if frames is None:
            frames = self._frames = deque()
        frames.append(frame)
        self._size = size
        self._need_writer()
        return True

    def close(self) -> None:
        """Accept no more frames; a running writer still sends what is queued."""
        self._closed = True
        self._direct = None

    def fail(self) -> None:
        """The peer is gone: drop everything."""
        self.failed = True
        self._closed = True
        self._direct = None
        self._frames = None
        self._size = 0

    def _need_writer(self) -> None:
        if self._spawn is not None and not self._writing:
            self._writing = True
            self._direct = None
            self._spawn()

    async def drain(self, send: Send) -> None:
        """Send the backlog in order (a suspended send first), then return to direct sending."""
        self._writing = True
        self._direct = None
        try:
            while True:
                pending = self._pending
                frames = self._frames
                if pending is not None:
                    self._pending = None
                    await _Resume(*pending)
                elif frames:
                    if self.overflowed:
                        return
                    frame = frames.popleft()
                    self._size -= frame_size(frame)
                    await send(frame)
                else:
                    break
            self._frames = None
            if not self._closed and self._spawn is not None:
                self._direct = self._send
        finally:
            self._writing = False
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
