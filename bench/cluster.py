"""Scale-out bench (issue 5): 3 replicas on PostgreSQL and Redis next to one process on the embedded defaults.

    python -m bench.cluster                       # 1000 subscribers, 200 mutations at 20/s
    python -m bench.cluster --subscribers 300 --mutations 100 --rate 10
    python -m bench.cluster --json out.json

Needs PostgreSQL and Redis (CHATSERVER_TEST_DATABASE_URL / CHATSERVER_TEST_REDIS_URL, defaulting to the machine's
own on 127.0.0.1). For each setup a fresh database and Redis prefix are used; the subscribers (AppSync protocol,
`onCreateMessageByRoomId`) are spread round-robin over the replicas and over the rooms; mutations are sent
round-robin through the replicas at a fixed rate, each carrying its send time, and every delivery's
publish-to-receive latency is recorded. Everything runs on 127.0.0.1, bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import websockets

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.databases import TEST_DATABASE_ENV, fresh_database_url
from tests.replicas import Replica, replicas

PASSWORD = "Bench-Horse-9!"
PUBLIC_URL = "http://localhost:8000"
SUBSCRIPTION = (
    "subscription S($roomId: ID) { onCreateMessageByRoomId(roomId: $roomId) { id roomId content { text } } }"
)
BURST_IN_FLIGHT = 8
MUTATION = "mutation M($input: MessageInput!) { createMessage(input: $input) { id roomId content { text } } }"


@dataclass(slots=True)
class Row:
    setup: str
    replicas: int
    subscribers: int
    mutations: int
    expected: int
    received: int
    seconds: float
    deliveries_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float


async def _post(
    client: httpx.AsyncClient, url: str, token: str, query: str, variables: dict[str, Any]
) -> Any:
    response = await client.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, headers={"Authorization": token}
    )
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]


async def _subscribe(replica: Replica, token: str, room: str, latencies: list[float]) -> Any:
    header = base64.b64encode(
        json.dumps({"Authorization": token, "host": "localhost:8000"}).encode()
    ).decode()
    ws = await websockets.connect(
        f"{replica.ws_url}/graphql/realtime?header={header}&payload=e30=",
        subprotocols=["graphql-ws"],
        max_queue=None,
        open_timeout=60,
    )
    await ws.send(json.dumps({"type": "connection_init"}))
    while json.loads(await ws.recv())["type"] != "connection_ack":
        pass
    start = {
        "id": "1",
        "type": "start",
        "payload": {
            "data": json.dumps({"query": SUBSCRIPTION, "variables": {"roomId": room}}),
            "extensions": {"authorization": {"Authorization": token, "host": "localhost:8000"}},
        },
    }
    await ws.send(json.dumps(start))
    while json.loads(await ws.recv())["type"] != "start_ack":
        pass

    async def read() -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") == "data":
                text = frame["payload"]["data"]["onCreateMessageByRoomId"]["content"]["text"]
                latencies.append(time.time() - float(text.split(" ", 1)[0]))

    return ws, asyncio.create_task(read())


async def run_setup(
    name: str,
    nodes: Sequence[Replica],
    subscribers: int,
    rooms_count: int,
    mutations: int,
    rate: float,
) -> Row:
    async with httpx.AsyncClient(timeout=60) as client:
        entry = nodes[0]
        await client.post(
            f"{nodes[0].url}/auth/signup",
            json={
                "username": "bench",
                "password": PASSWORD,
                "email": "bench@example.com",
                "givenName": "Bench",
                "familyName": "Mark",
            },
        )
        signin = await client.post(
            f"{nodes[-1].url}/auth/signin", json={"username": "bench", "password": PASSWORD}
        )
        token = signin.json()["accessToken"]
        rooms = [
            (
                await _post(
                    client,
                    entry.url,
                    token,
                    "mutation($i: RoomInput!) { createRoom(input: $i) { id } }",
                    {"i": {"name": f"room-{i}"}},
                )
            )["createRoom"]["id"]
            for i in range(rooms_count)
        ]
        latencies: list[float] = []
        opened: list[Any] = []
        for start in range(0, subscribers, 50):  # open in batches, bounded
            batch = [
                _subscribe(nodes[i % len(nodes)], token, rooms[i % rooms_count], latencies)
                for i in range(start, min(subscribers, start + 50))
            ]
            opened.extend(await asyncio.gather(*batch))
        await asyncio.sleep(0.5)
        began = time.monotonic()
        in_flight: set[asyncio.Task[Any]] = set()
        slots = asyncio.Semaphore(BURST_IN_FLIGHT)

        async def send(node: Replica, room: str, seq: int) -> None:
            async with slots:
                text = f"{time.time():.6f} {seq}"
                await _post(
                    client, node.url, token, MUTATION, {"input": {"roomId": room, "content": {"text": text}}}
                )

        for seq in range(mutations):
            node, room = nodes[seq % len(nodes)], rooms[seq % rooms_count]
            if rate <= 0:  # burst: as fast as the servers answer, BURST_IN_FLIGHT at a time
                await slots.acquire()
                slots.release()
            task = asyncio.create_task(send(node, room, seq))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            if rate > 0:
                await asyncio.sleep(max(0.0, began + (seq + 1) / rate - time.monotonic()))
            else:
                await asyncio.sleep(0)
        await asyncio.gather(*in_flight)
        per_room = [
            subscribers // rooms_count + (1 if r < subscribers % rooms_count else 0)
            for r in range(rooms_count)
        ]
        expected = sum(per_room[seq % rooms_count] for seq in range(mutations))
        deadline = time.monotonic() + 30
        while len(latencies) < expected and time.monotonic() < deadline:  # noqa: ASYNC110 (1000 readers fill one list; polling it is cheaper than an Event per frame)
            await asyncio.sleep(0.05)
        seconds = time.monotonic() - began
        for ws, task in opened:
            task.cancel()
            await ws.close()
        ms = sorted(x * 1000 for x in latencies) or [0.0]
        return Row(
            setup=name,
            replicas=len(nodes),
            subscribers=subscribers,
            mutations=mutations,
            expected=expected,
            received=len(latencies),
            seconds=round(seconds, 2),
            deliveries_per_s=round(len(latencies) / seconds, 1),
            p50_ms=round(statistics.median(ms), 2),
            p99_ms=round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2),
            max_ms=round(ms[-1], 2),
        )


async def main_async(args: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    redis = os.environ.get("CHATSERVER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    setups = [("single process, SQLite + memory", 1, False), ("3 replicas, PostgreSQL + Redis", 3, True)]
    for name, count, scaled in setups:
        with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp, ExitStack() as stack:
            env = {"CHATSERVER_PUBLIC_URL": PUBLIC_URL, "CHATSERVER_LOG_LEVEL": "warning"}
            if scaled:
                env["CHATSERVER_DATABASE_URL"] = stack.enter_context(fresh_database_url())
                env["CHATSERVER_BROKER_URL"] = redis
                env["CHATSERVER_BROKER_PREFIX"] = f"bench-{os.getpid()}-{time.time_ns()}"
            nodes = stack.enter_context(replicas(count, Path(tmp) / "data", Path(tmp), env))
            for mode, rate in ((f"{args.rate:g}/s", args.rate), ("burst", 0.0)):
                row = await run_setup(
                    f"{name}, {mode}", nodes, args.subscribers, args.rooms, args.mutations, rate
                )
                rows.append(row)
                print(_format(row), flush=True)
    return rows


def _format(row: Row) -> str:
    return (
        f"{row.setup:42} subs={row.subscribers:5} received={row.received}/{row.expected} "
        f"{row.deliveries_per_s:9.1f} deliveries/s  p50={row.p50_ms:7.2f} ms  p99={row.p99_ms:7.2f} ms  "
        f"max={row.max_ms:7.2f} ms"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--mutations", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="mutations per second")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault(TEST_DATABASE_ENV, "postgresql://postgres@127.0.0.1:5432/test")
    rows = asyncio.run(main_async(args))
    single, _, scaled, _ = rows
    ratio = scaled.p99_ms / single.p99_ms if single.p99_ms else float("inf")
    print(f"cross-replica p99 / single-process p99 at {args.rate:g} mutations/s = {ratio:.2f} (target <= 2)")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))


if __name__ == "__main__":
    main()
