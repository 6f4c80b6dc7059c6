"""The Redis broker: publications go through one Redis pub/sub channel per deployment (`<prefix>:publications`).

Every process subscribes to the channel and feeds what arrives, its own publications included, to the engine's
one fan-out path, so the in-memory broker and this one deliver the same way. A publication is encoded once
(JSON) and queued to a single writer task that pipelines it to Redis, so one process's publications keep their
order. While Redis is unreachable, `publish` drops (mutations still commit and answer), the reader reconnects
with backoff, `connected` is False (so /readyz says so), and the log says what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from chatserver.realtime.broker import Publication, PublicationHandler

log = logging.getLogger("chatserver.broker")

QUEUE_LIMIT = 10_000  # publications waiting for the writer; past it they are dropped and counted
BATCH_LIMIT = 256
BACKOFF_INITIAL = 0.1
BACKOFF_MAX = 5.0
SOCKET_TIMEOUT = 5.0
HEALTH_CHECK_INTERVAL = 10  # an idle subscription pings Redis, so a dead peer is noticed
FLUSH_AT_STOP_SECONDS = 2.0  # stop() first lets the writer send what is queued (a CLI's one control message)

SignoutHandler = Callable[[str, int], None]


class RedisBroker:
    """Broker over Redis pub/sub (see chatserver.realtime.broker.Broker for the contract)."""

    def __init__(self, url: str, *, prefix: str = "chatserver") -> None:
        self.url = url
        self.channel = f"{prefix}:publications"
        self.origin = uuid.uuid4().hex  # this process, to tell its own sign-out notices apart
        self.connected = False
        self.dropped = 0  # publications lost while Redis was unreachable
        self.current_published_at: float | None = None  # while the handler runs: when it was published
        self._handler: PublicationHandler | None = None
        self._signout_handler: SignoutHandler | None = None
        self._client: redis.Redis | None = None
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_LIMIT)
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed = asyncio.Event()
        self._writer_down = False
        self._flushed = asyncio.Event()  # set while nothing is queued or on its way to Redis
        self._flushed.set()
        self._drop_logged = False  # one warning per outage

    # --- Broker

    async def start(self, handler: PublicationHandler) -> None:
        """Begin delivery; waits briefly for the first subscription, but starts even when Redis is down."""
        self._handler = handler
        self._client = redis.Redis.from_url(
            self.url,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
            health_check_interval=HEALTH_CHECK_INTERVAL,
            # No hidden retries inside redis-py: the first failure reaches the loops below at once, so
            # `connected` (and /readyz) turns false at once, and reconnecting follows our own backoff.
            retry=Retry(NoBackoff(), 0),
        )
        self._tasks = [
            asyncio.create_task(self._read_forever(), name="redis-broker-reader"),
            asyncio.create_task(self._write_forever(), name="redis-broker-writer"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), SOCKET_TIMEOUT)

    async def publish(self, publication: Publication) -> None:
        envelope = {"k": "pub", "f": publication.mutation_field, "p": publication.payload, "t": time.time()}
        self._enqueue(json.dumps(envelope, separators=(",", ":")).encode())

    async def stop(self) -> None:
        if self.connected and self._tasks:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FLUSH_AT_STOP_SECONDS):
                    await self._flushed.wait()
        self._handler = None
        self._signout_handler = None
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self.connected = False
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- sign-out notices (global sign-out on every replica)

    def set_signout_handler(self, handler: SignoutHandler | None) -> None:
        """Call `handler(sub, valid_after)` for each global sign-out announced by another process."""
        self._signout_handler = handler

    async def announce_signout(self, sub: str, valid_after: int) -> None:
        envelope = {"k": "signout", "s": sub, "v": valid_after, "o": self.origin}
        self._enqueue(json.dumps(envelope, separators=(",", ":")).encode())

    # --- internals

    def _enqueue(self, data: bytes) -> None:
        if not self.connected and self._writer_down:
            self._drop("Redis is unreachable")
            return
        try:
            self._queue.put_nowait(data)
            self._flushed.clear()
        except asyncio.QueueFull:
            self._drop("the publish queue is full")

    def _drop(self, why: str) -> None:
        self.dropped += 1
        if not self._drop_logged or self.dropped % 1000 == 0:
            self._drop_logged = True
            log.warning("dropping publications: %s (%d dropped so far)", why, self.dropped)

    async def _write_forever(self) -> None:
        assert self._client is not None
        queue = self._queue
        while True:
            batch = [await queue.get()]
            while len(batch) < BATCH_LIMIT and not queue.empty():
                batch.append(queue.get_nowait())
            for attempt in (1, 2):  # a pooled connection may be stale after Redis restarted: retry once
                try:
                    pipe = self._client.pipeline(transaction=False)
                    for data in batch:
                        pipe.publish(self.channel, data)
                    await pipe.execute()
                    if self._writer_down:
                        self._writer_down = False
                        log.info("publishing to Redis again")
                    break
                except (RedisError, OSError) as error:
                    if attempt == 2 or not self.connected:
                        self.dropped += len(batch)
                        if not self._writer_down:
                            log.warning(
                                "publishing to Redis failed (%s): %d publications dropped", error, len(batch)
                            )
                        self._writer_down = True
                        break
            if queue.empty():
                self._flushed.set()

    async def _read_forever(self) -> None:
        assert self._client is not None
        delay = BACKOFF_INITIAL
        was_connected = False
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.connected = True
                self._writer_down = False
                self._drop_logged = False
                self._subscribed.set()
                log.info(
                    "%s Redis broker channel %s",
                    "reconnected to" if was_connected else "subscribed to",
                    self.channel,
                )
                was_connected = True
                delay = BACKOFF_INITIAL
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "message":
                        self._dispatch(message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                if self.connected or not was_connected:
                    log.warning("Redis broker unreachable (%s): realtime delivery paused, retrying", error)
                self.connected = False
                self._writer_down = True
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.shield(pubsub.aclose())
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    def _dispatch(self, data: bytes) -> None:
        try:
            envelope: dict[str, Any] = json.loads(data)
            kind = envelope.get("k")
            if kind == "pub":
                handler = self._handler
                if handler is not None:
                    self.current_published_at = envelope.get("t")
                    try:
                        handler(Publication(envelope["f"], envelope["p"]))
                    finally:
                        self.current_published_at = None
            elif kind == "signout" and envelope.get("o") != self.origin:
                signout = self._signout_handler
                if signout is not None:
                    signout(str(envelope["s"]), int(envelope["v"]))
        except Exception:
            log.exception("an unreadable message on %s was skipped", self.channel)
