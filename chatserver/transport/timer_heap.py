"""One loop timer for many connections' periodic timers (keep-alive): a heap of deadlines.

A uvloop timer costs ~0.5 KB (its handle, the libuv timer, the callback's context); every subscribed connection
re-arms one keep-alive timer per `ka_interval`. Here each armed deadline is one small list in a heap, and only
the earliest one has a loop timer: callbacks still run at their own times, in deadline order.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import weakref
from collections.abc import Callable

log = logging.getLogger("chatserver.websocket")


class Deadline:
    """An armed callback; `cancel()` keeps it from running (its heap entry goes when its time comes)."""

    __slots__ = ("callback",)

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback: Callable[[], None] | None = callback

    def cancel(self) -> None:
        self.callback = None


class TimerHeap:
    """`call_later(delay, callback) -> Deadline`, like the loop's, with one loop timer for all of them."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._heap: list[tuple[float, int, Deadline]] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def call_later(self, delay: float, callback: Callable[[], None]) -> Deadline:
        deadline = Deadline(callback)
        when = self._loop.time() + delay
        heapq.heappush(self._heap, (when, next(self._seq), deadline))
        if self._timer is None or when < self._timer_at:
            self._arm(when)
        return deadline

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(when, self._fire)
        self._timer_at = when

    def _fire(self) -> None:
        self._timer = None
        heap = self._heap
        now = self._loop.time() + 0.001  # the loop's timers may fire a hair early
        while heap and heap[0][0] <= now:
            callback = heapq.heappop(heap)[2].callback
            if callback is None:
                continue
            try:
                callback()
            except Exception:
                log.exception("timer callback failed")
        # A callback may have armed the timer for its own next time, later than the earliest left.
        if heap and (self._timer is None or heap[0][0] < self._timer_at):
            self._arm(heap[0][0])


_heaps: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TimerHeap] = weakref.WeakKeyDictionary()


def timer_heap() -> TimerHeap:
    """The running loop's TimerHeap."""
    loop = asyncio.get_running_loop()
    heap = _heaps.get(loop)
    if heap is None:
        heap = _heaps[loop] = TimerHeap(loop)
    return heap
