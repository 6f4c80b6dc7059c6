"""One load-client process: opens its share of subscriber connections and answers the orchestrator's commands.

Commands arrive on a multiprocessing Connection as (name, argument) tuples; every command gets one reply:
- ("reset", None)  -> "ok"            forget what was measured
- ("count", None)  -> int             deliveries since the reset
- ("report", None) -> dict            deliveries, latencies (bytes of array('q'), ns), per-connection counts, ...
- ("close", None)  -> "ok"            close every connection, then the process exits
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

from bench import rawmqtt
from bench.rawhttp import HttpConnection
from bench.rawws import Stats, Subscriber, subscribe

CONNECT_CONCURRENCY = 50


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    host: str
    port: int
    path: str
    token: str
    query: str
    rooms: tuple[str, ...]  # one room id per connection
    cpus: frozenset[int]
    first_id: int
    protocol: str = "appsync"  # or "mqtt": the aws-appsync 1.x handshake, then MQTT over WebSocket
    variables: tuple[dict[str, object] | None, ...] = ()  # per connection; empty: {"roomId": room}


def run(spec: WorkerSpec, pipe: Connection) -> None:
    """Process entry point."""
    if spec.cpus:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, spec.cpus)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_main(spec, pipe))


async def _main(spec: WorkerSpec, pipe: Connection) -> None:
    stats = Stats()
    subscribers: list[Subscriber] = []
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    handshakes: list[HttpConnection] = []

    async def open_one(index: int, room_id: str) -> Subscriber:
        async with gate:
            if spec.protocol == "mqtt":
                connection = (
                    handshakes.pop() if handshakes else await HttpConnection.open(spec.host, spec.port)
                )
                try:
                    return await rawmqtt.subscribe(
                        stats, spec.host, spec.port, spec.token, spec.query, room_id, connection
                    )
                finally:
                    handshakes.append(connection)
            return await subscribe(
                stats,
                spec.host,
                spec.port,
                spec.path,
                spec.token,
                spec.query,
                room_id,
                str(spec.first_id + index),
                spec.variables[index] if spec.variables else None,
            )

    try:
        subscribers = list(await asyncio.gather(*(open_one(i, r) for i, r in enumerate(spec.rooms))))
    except Exception as error:
        pipe.send(("failed", repr(error)))
        return
    for connection in handshakes:
        await connection.close()
    pipe.send(("ready", len(subscribers)))
    cpu_at_reset, wall_at_reset = time.process_time(), time.monotonic()

    loop = asyncio.get_running_loop()
    while True:
        # A blocking recv in a thread: the pipe stays blocking, so large reports are sent whole.
        name, _ = await loop.run_in_executor(None, pipe.recv)
        if name == "reset":
            stats.reset()
            cpu_at_reset, wall_at_reset = time.process_time(), time.monotonic()
            for subscriber in subscribers:
                subscriber.received = 0
                subscriber.last_seq = b""
            pipe.send("ok")
        elif name == "count":
            pipe.send(stats.deliveries)
        elif name == "report":
            pipe.send(
                {
                    "deliveries": stats.deliveries,
                    "latencies": stats.latencies.tobytes(),
                    "per_connection": [s.received for s in subscribers],
                    "rooms": list(spec.rooms),
                    "disorder": stats.disorder,
                    "first_ns": stats.first_ns,
                    "last_ns": stats.last_ns,
                    "closed_by_server": sum(1 for s in subscribers if s.closed.done()),
                    "cpu_seconds": time.process_time() - cpu_at_reset,
                    "wall_seconds": time.monotonic() - wall_at_reset,
                }
            )
        elif name == "close":
            for subscriber in subscribers:
                subscriber.close()
            pipe.send("ok")
            return
