"""Credentials expiry for every connection, whatever its protocol: one heap of deadlines and one periodic sweep
(not a task or a timer per connection)."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import Callable, Hashable

log = logging.getLogger("chatserver.realtime")

SWEEP_SECONDS = 1.0  # how often expired connections are closed: within this long after `exp`


class ExpirySweep:
    """`watch(key, expires_at, on_expiry)` arms a deadline (the earliest one wins); `forget(key)` drops it.

    The heap may hold stale entries (a connection closed, or re-armed earlier): the dict holds each key's one
    live deadline, and the sweep skips entries that do not match it. The heap is rebuilt when stale entries
    outnumber the live ones, so it stays proportional to the open connections.
    """

    def __init__(self, interval: float = SWEEP_SECONDS) -> None:
        self.interval = interval
        self._heap: list[tuple[float, int, Hashable]] = []
        self._live: dict[Hashable, tuple[float, Callable[[], None]]] = {}
        self._seq = itertools.count()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._forever(), name="realtime-expiry-sweep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def watch(self, key: Hashable, expires_at: float, on_expiry: Callable[[], None]) -> None:
        """Call `on_expiry()` within `interval` after `expires_at` (epoch seconds), unless forgotten first."""
        if expires_at <= 0:
            return
        current = self._live.get(key)
        if current is not None and current[0] <= expires_at:
            return
        self._live[key] = (expires_at, on_expiry)
        heapq.heappush(self._heap, (expires_at, next(self._seq), key))
        if len(self._heap) > 2 * len(self._live) + 1024:
            self._heap = [(at, next(self._seq), k) for k, (at, _) in self._live.items()]
            heapq.heapify(self._heap)

    def forget(self, key: Hashable) -> None:
        self._live.pop(key, None)

    def sweep(self, now: float | None = None) -> int:
        """Call back every key whose deadline has passed; returns how many."""
        now = time.time() if now is None else now
        heap, fired = self._heap, 0
        while heap and heap[0][0] <= now:
            deadline, _, key = heapq.heappop(heap)
            current = self._live.get(key)
            if current is None or current[0] != deadline:
                continue
            del self._live[key]
            fired += 1
            try:
                current[1]()
            except Exception:
                log.exception("closing an expired connection failed")
        return fired

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.sweep()
