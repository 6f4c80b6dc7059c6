"""The per-connection outbox: direct writes, hand-over to one writer when a send blocks, order, bounds."""

from __future__ import annotations

import asyncio

from chatserver.realtime.outbox import Outbox


class Socket:
    """A send that completes at once unless `blocked` is set (then it waits like a paused transport)."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.blocked: asyncio.Event | None = None

    async def send(self, frame: str) -> None:
        if self.blocked is not None:
            await self.blocked.wait()
        self.sent.append(frame)


async def test_outbox_writes_directly_when_idle() -> None:
    socket = Socket()
    spawned: list[int] = []
    outbox = Outbox(100, lambda: None, send=socket.send, spawn=lambda: spawned.append(1))
    for n in range(5):
        assert outbox.push(str(n))
    assert socket.sent == ["0", "1", "2", "3", "4"]
    assert spawned == []


async def test_outbox_blocked_send_moves_to_one_writer_and_keeps_order() -> None:
    socket = Socket()
    writers: list[asyncio.Task[None]] = []
    outbox = Outbox(
        1000,
        lambda: None,
        send=socket.send,
        spawn=lambda: writers.append(asyncio.create_task(outbox.drain(socket.send))),
    )
    outbox.push("a")
    socket.blocked = asyncio.Event()
    outbox.push("b")  # suspends: handed to a writer
    outbox.push("c")
    outbox.push("d")
    assert len(writers) == 1 and outbox.writing
    assert outbox.queued_bytes == 2
    socket.blocked.set()
    await asyncio.wait_for(writers[0], 5)
    assert socket.sent == ["a", "b", "c", "d"]
    socket.blocked = None
    outbox.push("e")  # direct again
    assert socket.sent[-1] == "e" and len(writers) == 1


async def test_outbox_overflow_drops_everything_and_reports_once() -> None:
    socket = Socket()
    overflows: list[int] = []
    writers: list[asyncio.Task[None]] = []
    outbox = Outbox(
        10,
        lambda: overflows.append(1),
        send=socket.send,
        spawn=lambda: writers.append(asyncio.create_task(outbox.drain(socket.send))),
    )
    socket.blocked = asyncio.Event()
    outbox.push("x" * 5)  # suspended in the transport
    assert outbox.push("y" * 6)
    assert not outbox.push("z" * 6)  # 12 > 10
    assert not outbox.push("w")
    assert outbox.overflowed and overflows == [1] and outbox.queued_bytes == 0
    writers[0].cancel()
    await asyncio.gather(*writers, return_exceptions=True)


async def test_outbox_failed_send_closes_it() -> None:
    async def broken(frame: str) -> None:
        raise ConnectionError

    outbox = Outbox(100, lambda: None, send=broken, spawn=lambda: None)
    assert not outbox.push("a")
    assert outbox.failed and not outbox.push("b")
