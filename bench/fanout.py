"""Fan-out bench for real-time subscriptions (issue 3): chatserver against a bare uvicorn WebSocket reference.

    python -m bench.fanout                  # the full run (a few minutes), prints a table
    python -m bench.fanout --quick          # N = 1 and 100 only
    python -m bench.fanout --json out.json  # also write every figure
    python -m bench.fanout --filters        # N = 1000: no filter, the roomId argument, `filter` (issue 10)

For each server (a real `python -m chatserver serve` process, then bench/reference_ws.py), and each N, a fresh
server process is pinned to CPU 0 and N AppSync-protocol subscribers are opened from one client process pinned
to CPU 1 (bench/loadworker.py, raw-frame client bench/rawws.py). The publisher (this process) sends
`createAudioSegment` mutations over HTTP with its send time and a sequence number embedded in `data`; every
delivery's publish-to-receive latency is recorded by the clients.

Scenarios per N: server RSS with N idle subscribed connections; `single`: isolated publishes of a small clip, one
at a time, each waiting for all N deliveries (latency of one publish to N); `burst small` / `burst 30KB`: M
publishes back to back, 4 in flight (deliveries/s); and for N = 1000 `4/s 30KB`: 4 publishes/s of 30 KB clips for
10 s. Also N = 1000 spread over 100 rooms. Everything runs on 127.0.0.1, bounded in count and time.

Columns: deliv/s counts from the first publish sent to the last delivery received; latencies are publish (mutation
sent) to receive, across all subscribers; `lost` = deliveries missing when the bench stops waiting; `order` = events
seen out of publish order (sequential scenarios only); `cpu us/d` = server CPU time (all threads) per delivery, which
does not depend on what else runs on the machine; `starved` = share of the scenario's wall time the server's threads
were runnable but waiting for their CPU (other processes on it): when it is high, wall-clock figures are unreliable;
`cli us/d` = the client process's CPU per delivery (on loopback it pays the kernel's receive path, ACKs included);
`srv %` / `cli %` = server / client CPU time over the scenario's wall time (100 = one core busy): a line whose client
is near 100 % measures the client, not the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):  # run as `python bench/fanout.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadworker import WorkerSpec, run
from bench.rawhttp import HttpConnection
from bench.rawws import marker

HOST = "127.0.0.1"
PASSWORD = "Bench-Horse-9!"
SERVER_CPUS = frozenset({0})
CLIENT_CPUS = frozenset({1})
WORKERS = 1  # client processes: all share CLIENT_CPUS, so more of them only add context switches
IN_FLIGHT = 4
SMALL = 64  # bytes of `data` in a small clip
CLIP = 30_000  # bytes of `data` in a walkie-talkie clip
SINGLE_PUBLISHES = 20
STEADY_RATE = 4.0
STEADY_SECONDS = 10.0
DRAIN_STALL_SECONDS = 3.0  # a burst is over when no delivery arrived for this long
SCENARIO_CAP_SECONDS = 120.0
CLIENT_BOUND_PCT = 90  # a client busier than this share of its core may be what limits deliveries/s
IDLE_KB_TARGET = 32  # issue 12: memory per idle subscribed connection

# Walkie-talkie documents, verbatim from SEED_CLIENTS.md (kept once, in the tests' helpers).
from tests.helpers import CREATE_AUDIO_SEGMENT, ON_CREATE_AUDIO_SEGMENT  # noqa: E402

CREATE_ROOM = "mutation CreateRoom($input: RoomInput!) { createRoom(input: $input) { id } }"


# --- servers ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def pin(cpus: frozenset[int]) -> None:
    """Pin the calling process to `cpus` (when the machine has them)."""
    if (os.cpu_count() or 1) >= 2:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, cpus)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class Server:
    kind: str  # "chatserver" | "reference"
    process: subprocess.Popen[bytes]
    port: int
    token: str = "reference"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def rss_kb(self) -> int:
        return rss_kb(self.process.pid)

    def runqueue_wait_seconds(self) -> float:
        """Time the server's threads spent runnable but waiting for a CPU (taken by other processes)."""
        total = 0
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            with contextlib.suppress(OSError, IndexError, ValueError):
                total += int((task / "schedstat").read_text().split()[1])
        return total / 1e9

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process (all threads) so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def start_server(kind: str) -> Iterator[Server]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"fanout-{kind}-") as data_dir:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if kind == "chatserver":
            command = [sys.executable, "-m", "chatserver", "serve"]
            env |= {
                "CHATSERVER_DATA_DIR": data_dir,
                "CHATSERVER_PORT": str(port),
                "CHATSERVER_HOST": HOST,
                "CHATSERVER_AUTO_CONFIRM": "true",
                "CHATSERVER_LOG_LEVEL": "warning",
            }
        else:
            command = [sys.executable, "-m", "bench.reference_ws", "--port", str(port)]
        with Path(data_dir, "server.log").open("wb") as log_file:
            process = subprocess.Popen(
                command,
                env=env,
                cwd=Path(__file__).resolve().parent.parent,
                preexec_fn=lambda: pin(SERVER_CPUS),
                stdout=subprocess.DEVNULL,
                stderr=log_file,
            )
        server = Server(kind, process, port)
        try:
            _wait_listening(server)
            if kind == "chatserver":
                server.token = _sign_in(server.url)
            yield server
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log = Path(data_dir, "server.log").read_text(errors="replace")
            if "Traceback" in log:
                print(f"[{kind} server log]\n{log[-3000:]}", file=sys.stderr)


def _wait_listening(server: Server) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.kind} server exited with {server.process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, server.port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{server.kind} server did not start")


def _sign_in(url: str) -> str:
    body = {
        "username": "bench",
        "password": PASSWORD,
        "email": "bench@example.com",
        "givenName": "Bench",
        "familyName": "Mark",
    }
    response = httpx.post(f"{url}/auth/signup", json=body, timeout=30)
    response.raise_for_status()
    response = httpx.post(f"{url}/auth/signin", json={"username": "bench", "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return response.json()["accessToken"]


def create_rooms(server: Server, count: int) -> list[str]:
    if server.kind != "chatserver":
        return [str(uuid.uuid4()) for _ in range(count)]
    rooms = []
    with httpx.Client(timeout=30, headers={"Authorization": server.token}) as client:
        for i in range(count):
            body = {"query": CREATE_ROOM, "variables": {"input": {"name": f"bench {i}"}}}
            rooms.append(client.post(f"{server.url}/graphql", json=body).json()["data"]["createRoom"]["id"])
    return rooms


# --- client processes ---------------------------------------------------------------------------------------


class Clients:
    """N subscribers spread over WORKERS processes; rooms[i] is the room of connection i."""

    subscription: tuple[str, Sequence[dict[str, Any]]] | None = None  # (document, variables per connection)

    def __init__(self, server: Server, rooms: Sequence[str], protocol: str = "appsync") -> None:
        self.rooms = list(rooms)
        self.pipes: list[Connection] = []
        self.processes: list[multiprocessing.Process] = []
        workers = min(WORKERS, len(rooms))
        context = multiprocessing.get_context("spawn")
        for w in range(workers):
            share = tuple(self.rooms[w::workers])
            spec = WorkerSpec(
                HOST,
                server.port,
                "/graphql/realtime",
                server.token,
                ON_CREATE_AUDIO_SEGMENT,
                share,
                CLIENT_CPUS,
                w * 100_000,
                protocol,
            )
            if self.subscription is not None:  # the filter bench: its document, variables per connection
                query, variables = self.subscription
                spec = replace(spec, query=query, variables=tuple(variables[w::workers]))
            ours, theirs = context.Pipe()
            process = context.Process(target=run, args=(spec, theirs), daemon=True)
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)
        for pipe in self.pipes:
            if not pipe.poll(SCENARIO_CAP_SECONDS):
                raise RuntimeError("a client process did not connect in time")
            status, detail = pipe.recv()
            if status != "ready":
                raise RuntimeError(f"a client process failed: {detail}")

    def ask(self, command: str) -> list[Any]:
        for pipe in self.pipes:
            pipe.send((command, None))
        return [pipe.recv() for pipe in self.pipes]

    def count(self) -> int:
        return sum(self.ask("count"))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ask("close")
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()


# --- publishing ---------------------------------------------------------------------------------------------


@dataclass
class Published:
    first_ns: int = 0
    per_room: dict[str, int] = field(default_factory=dict)
    errors: int = 0


def _body(room_id: str, seq: int, size: int) -> tuple[int, bytes]:
    send_ns = time.monotonic_ns()
    head = "data:audio/wav;base64," + marker(send_ns, seq)
    data = head + "A" * max(0, size - len(head))
    request = {"query": CREATE_AUDIO_SEGMENT, "variables": {"roomId": room_id, "data": data}}
    return send_ns, json.dumps(request).encode()


class Publisher:
    """IN_FLIGHT keep-alive HTTP connections to the server; each publish takes a free one."""

    def __init__(
        self, server: Server, make_body: Callable[[str, int, int], tuple[int, bytes]] | None = None
    ) -> None:
        self.server = server
        self.make_body = make_body or _body  # (room, seq, size) -> (send time, request body)
        self.idle: asyncio.Queue[HttpConnection] = asyncio.Queue()
        self.connections: list[HttpConnection] = []

    async def __aenter__(self) -> Publisher:
        for _ in range(IN_FLIGHT):
            connection = await HttpConnection.open(HOST, self.server.port)
            self.connections.append(connection)
            self.idle.put_nowait(connection)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for connection in self.connections:
            await connection.close()

    async def _replace(self, connection: HttpConnection) -> HttpConnection:
        await connection.close()
        fresh = await HttpConnection.open(HOST, self.server.port)
        self.connections[self.connections.index(connection)] = fresh
        return fresh

    async def publish(self, room_id: str, seq: int, size: int, published: Published) -> None:
        connection = await self.idle.get()
        try:
            if connection.reader.at_eof():  # the server closed it while idle (keep-alive timeout)
                connection = await self._replace(connection)
            send_ns, body = self.make_body(room_id, seq, size)
            if not published.first_ns:
                published.first_ns = send_ns
            status, answer = await connection.post_json(
                "/graphql", body, {"Authorization": self.server.token}
            )
        except (asyncio.IncompleteReadError, ConnectionError):
            published.errors += 1
            connection = await self._replace(connection)
            return
        finally:
            self.idle.put_nowait(connection)
        if status != 200 or not isinstance(answer, dict) or "errors" in answer:
            published.errors += 1
            return
        published.per_room[room_id] = published.per_room.get(room_id, 0) + 1


async def burst(server: Server, clients: Clients, rooms: Sequence[str], count: int, size: int) -> Published:
    """`count` publishes, IN_FLIGHT at a time, rooms in rotation; then wait until deliveries stop."""
    published = Published()
    async with Publisher(server) as publisher:
        await asyncio.gather(
            *(publisher.publish(rooms[seq % len(rooms)], seq, size, published) for seq in range(count))
        )
    await _drain(clients, _expected(clients, published))
    return published


async def single(server: Server, clients: Clients, rooms: Sequence[str], count: int, size: int) -> Published:
    """Isolated publishes: each waits until all its deliveries arrived (or stalled) before the next."""
    published = Published()
    async with Publisher(server) as publisher:
        for seq in range(count):
            await publisher.publish(rooms[seq % len(rooms)], seq, size, published)
            await _drain(clients, _expected(clients, published), poll=0.002)
            await asyncio.sleep(0.02)
    return published


async def steady(
    server: Server, clients: Clients, rooms: Sequence[str], rate: float, seconds: float, size: int
) -> Published:
    """Publishes at a fixed rate (each in its own task, so a slow answer does not delay the schedule)."""
    published = Published()
    async with Publisher(server) as publisher:
        start = time.monotonic()
        tasks = []
        for seq in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, start + seq / rate - time.monotonic()))
            tasks.append(
                asyncio.create_task(publisher.publish(rooms[seq % len(rooms)], seq, size, published))
            )
        await asyncio.gather(*tasks)
    await _drain(clients, _expected(clients, published))
    return published


def _expected(clients: Clients, published: Published) -> int:
    return sum(published.per_room.get(room, 0) for room in clients.rooms)


async def _drain(clients: Clients, expected: int, poll: float = 0.05) -> None:
    last, last_change = -1, time.monotonic()
    deadline = time.monotonic() + SCENARIO_CAP_SECONDS
    while time.monotonic() < deadline:
        count = clients.count()
        if count >= expected:
            return
        if count != last:
            last, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > DRAIN_STALL_SECONDS:
            return
        await asyncio.sleep(poll)


# --- results ------------------------------------------------------------------------------------------------


@dataclass
class Row:
    server: str
    scenario: str
    subscribers: int
    rooms: int
    payload: int
    publishes: int
    deliveries: int = 0
    per_second: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    lost: int = 0
    disorder: int | None = None
    publish_errors: int = 0
    closed_by_server: int = 0
    idle_rss_mb: float | None = None
    kb_per_connection: float | None = None
    cpu_us_per_delivery: float | None = None  # server CPU time spent per delivery (robust to other load)
    starved_pct: float | None = None  # share of the scenario's wall time the server waited for its CPU
    client_cpu_us_per_delivery: float | None = None  # the load clients' CPU time per delivery
    server_busy_pct: float | None = None  # server CPU time / wall time of the scenario (100 = one core)
    client_busy_pct: float | None = None  # the same for the load clients: near 100 they are the bottleneck


def measure(clients: Clients, published: Published, row: Row, *, ordered: bool) -> Row:
    reports = clients.ask("report")
    latencies = array("q")
    lost = 0
    for report in reports:
        latencies.frombytes(report["latencies"])
        for room, received in zip(report["rooms"], report["per_connection"], strict=True):
            lost += max(0, published.per_room.get(room, 0) - received)
    values = sorted(latencies)
    row.deliveries = len(values)
    row.lost = lost
    row.publish_errors = published.errors
    row.closed_by_server = sum(r["closed_by_server"] for r in reports)
    row.disorder = sum(r["disorder"] for r in reports) if ordered else None
    client_cpu = sum(r.get("cpu_seconds", 0.0) for r in reports)
    if values:
        row.client_cpu_us_per_delivery = client_cpu * 1e6 / len(values)
    wall = max((r.get("wall_seconds", 0.0) for r in reports), default=0.0)
    if wall > 0:
        row.client_busy_pct = 100 * client_cpu / wall
    last_ns = max((r["last_ns"] for r in reports), default=0)
    if values and last_ns > published.first_ns:
        row.per_second = len(values) / ((last_ns - published.first_ns) / 1e9)
        row.p50_ms = values[len(values) // 2] / 1e6
        row.p99_ms = values[min(len(values) - 1, int(len(values) * 0.99))] / 1e6
        row.max_ms = values[-1] / 1e6
    return row


async def run_group(
    kind: str, subscribers: int, room_count: int, *, steady_run: bool, profile: Path | None = None
) -> list[Row]:
    """One fresh server process, `subscribers` connections over `room_count` rooms, every scenario on them.

    With `profile`, each scenario of the server is sampled by py-spy into `profile`/<server>-<N>-<scenario>.txt
    (collapsed stacks)."""
    rows: list[Row] = []
    # "mqtt": chatserver again, its subscribers on aws-appsync 1.x's MQTT instead of the AppSync protocol.
    with start_server("chatserver" if kind == "mqtt" else kind) as server:
        rooms = create_rooms(server, room_count)
        placement = [rooms[i % room_count] for i in range(subscribers)]
        await asyncio.sleep(0.5)
        before = server.rss_kb()
        clients = Clients(server, placement, "mqtt" if kind == "mqtt" else "appsync")
        try:
            await asyncio.sleep(1.0)
            after = server.rss_kb()
            idle = Row(kind, "idle", subscribers, room_count, 0, 0)
            idle.idle_rss_mb = after / 1024
            idle.kb_per_connection = (after - before) / subscribers
            rows.append(idle)

            plans: list[tuple[str, int, Any]] = [
                ("single", SMALL, lambda: single(server, clients, rooms, SINGLE_PUBLISHES, SMALL)),
                (
                    "burst",
                    SMALL,
                    lambda: burst(server, clients, rooms, _small_count(subscribers, room_count), SMALL),
                ),
                (
                    "burst",
                    CLIP,
                    lambda: burst(server, clients, rooms, _clip_count(subscribers, room_count), CLIP),
                ),
            ]
            if steady_run:
                plans.append(
                    ("4/s", CLIP, lambda: steady(server, clients, rooms, STEADY_RATE, STEADY_SECONDS, CLIP))
                )
            for scenario, size, go in plans:
                clients.ask("reset")
                name = f"{kind}-{subscribers}x{room_count}-{scenario.replace('/', 'per')}-{size}"
                cpu_before, waited_before, began = (
                    server.cpu_seconds(),
                    server.runqueue_wait_seconds(),
                    time.monotonic(),
                )
                with sampled(server, profile / f"{name}.txt" if profile else None):
                    published = await go()
                cpu = server.cpu_seconds() - cpu_before
                wall = time.monotonic() - began
                starved = (server.runqueue_wait_seconds() - waited_before) / wall
                count = sum(published.per_room.values()) + published.errors
                row = Row(kind, scenario, subscribers, room_count, size, count)
                rows.append(measure(clients, published, row, ordered=scenario != "burst"))
                row.starved_pct = 100 * starved
                row.server_busy_pct = 100 * cpu / wall
                if row.deliveries:
                    row.cpu_us_per_delivery = cpu * 1e6 / row.deliveries
                print(_format(rows[-1]), file=sys.stderr, flush=True)
        finally:
            clients.close()
    return rows


@contextlib.contextmanager
def sampled(server: Server, output: Path | None) -> Iterator[None]:
    """py-spy sampling the server process (on the client CPU) while the block runs."""
    if output is None:
        yield
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    command = ["py-spy", "record", "--pid", str(server.process.pid), "--rate", "250", "--format", "raw"]
    spy = subprocess.Popen(
        [*command, "--output", str(output), "--nonblocking"],
        preexec_fn=lambda: pin(CLIENT_CPUS),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()


def _small_count(subscribers: int, rooms: int) -> int:
    per_publish = max(1, subscribers // rooms)
    return max(40, min(2000, 100_000 // per_publish))


def _clip_count(subscribers: int, rooms: int) -> int:
    per_publish = max(1, subscribers // rooms)
    return max(4, min(200, 20_000 // per_publish))


HEADER = (
    f"{'server':<10} {'scenario':<8} {'N':>5} {'rooms':>5} {'payload':>7} {'pubs':>5} {'deliv':>7} "
    f"{'deliv/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'lost':>5} {'order':>5} {'RSS MB':>7} {'KB/conn':>7} "
    f"{'cpu us/d':>8} {'starved':>7} {'cli us/d':>8} {'srv %':>5} {'cli %':>5}"
)


def _format(row: Row) -> str:
    if row.scenario == "idle":
        return (
            f"{row.server:<10} {'idle':<8} {row.subscribers:>5} {row.rooms:>5} {'':>7} {'':>5} {'':>7} {'':>9} "
            f"{'':>8} {'':>8} {'':>8} {'':>5} {'':>5} {row.idle_rss_mb:>7.1f} {row.kb_per_connection:>7.1f}"
        )
    payload = "30KB" if row.payload >= CLIP else f"{row.payload}B"
    order = "-" if row.disorder is None else str(row.disorder)
    extra = ""
    if row.publish_errors or row.closed_by_server:
        extra = f"  (publish errors {row.publish_errors}, closed by server {row.closed_by_server})"
    return (
        f"{row.server:<10} {row.scenario:<8} {row.subscribers:>5} {row.rooms:>5} {payload:>7} {row.publishes:>5} "
        f"{row.deliveries:>7} {row.per_second:>9.0f} {row.p50_ms:>8.2f} {row.p99_ms:>8.2f} {row.max_ms:>8.2f} "
        f"{row.lost:>5} {order:>5} {'':>7} {'':>7} {row.cpu_us_per_delivery or 0:>8.1f} {row.starved_pct or 0:>6.0f}% "
        f"{row.client_cpu_us_per_delivery or 0:>8.1f} {row.server_busy_pct or 0:>5.0f} {row.client_busy_pct or 0:>5.0f}"
        f"{extra}"
    )


def _find(
    rows: Sequence[Row], server: str, scenario: str, n: int, rooms: int = 1, payload: int | None = None
) -> Row | None:
    for row in rows:
        if (row.server, row.scenario, row.subscribers, row.rooms) == (server, scenario, n, rooms) and (
            payload is None or row.payload == payload
        ):
            return row
    return None


def targets(rows: Sequence[Row]) -> list[str]:
    """The issue's performance targets, checked against this run."""
    lines = []
    for n in (1000, 5000):
        for payload in (SMALL, CLIP):
            ours, ref = (
                _find(rows, "chatserver", "burst", n, payload=payload),
                _find(rows, "reference", "burst", n, payload=payload),
            )
            if not (ours and ref and ref.per_second):
                continue
            ratio = ours.per_second / ref.per_second
            verdict = "MET" if ratio >= 1.0 else "MISSED"
            label = "30KB" if payload == CLIP else "small"
            lines.append(
                f"fan-out N={n} {label}: {ours.per_second:.0f}/s vs reference {ref.per_second:.0f}/s = {ratio:.2f}x "
                f"(target >= 1.0x) {verdict}"
            )
            if ours.cpu_us_per_delivery and ref.cpu_us_per_delivery:
                cpu_ratio = ref.cpu_us_per_delivery / ours.cpu_us_per_delivery
                lines.append(
                    f"  per server CPU-second: {1e6 / ours.cpu_us_per_delivery:.0f}/s vs reference "
                    f"{1e6 / ref.cpu_us_per_delivery:.0f}/s = {cpu_ratio:.2f}x; server CPU "
                    f"{ours.cpu_us_per_delivery:.1f} vs {ref.cpu_us_per_delivery:.1f} us/d, client CPU "
                    f"{ours.client_cpu_us_per_delivery or 0:.1f} vs {ref.client_cpu_us_per_delivery or 0:.1f} us/d"
                )
            bound = [r.server for r in (ours, ref) if (r.client_busy_pct or 0) >= CLIENT_BOUND_PCT]
            if bound:
                lines.append(
                    f"  client-bound ({', '.join(bound)}: client >= {CLIENT_BOUND_PCT}% of its core): the ratio means little"
                )
    ours, ref = _find(rows, "chatserver", "single", 1000), _find(rows, "reference", "single", 1000)
    if ours and ref and ref.p99_ms:
        for label, a, b in (("p99", ours.p99_ms, ref.p99_ms), ("last-subscriber", ours.max_ms, ref.max_ms)):
            verdict = "MET" if a <= 2 * b else "MISSED"
            lines.append(
                f"one publish to 1000, {label}: {a:.1f} ms vs reference {b:.1f} ms = {a / b:.2f}x (target <= 2x) {verdict}"
            )
    for payload in (SMALL, CLIP):  # aws-appsync 1.x over MQTT against the AppSync protocol, same server
        mqtt, appsync = (
            _find(rows, "mqtt", "burst", 1000, payload=payload),
            _find(rows, "chatserver", "burst", 1000, payload=payload),
        )
        if mqtt and appsync and appsync.per_second:
            ratio = mqtt.per_second / appsync.per_second
            verdict = "MET" if ratio >= 0.9 else "MISSED"
            lines.append(
                f"MQTT N=1000 burst {'30KB' if payload == CLIP else 'small'}: {mqtt.per_second:.0f}/s (p99 "
                f"{mqtt.p99_ms:.1f} ms) vs AppSync protocol {appsync.per_second:.0f}/s (p99 {appsync.p99_ms:.1f} ms)"
                f" = {ratio:.2f}x (target >= 0.9x) {verdict}"
            )
            if mqtt.cpu_us_per_delivery and appsync.cpu_us_per_delivery:
                lines.append(
                    f"  per server CPU-second: {1e6 / mqtt.cpu_us_per_delivery:.0f}/s vs "
                    f"{1e6 / appsync.cpu_us_per_delivery:.0f}/s = "
                    f"{appsync.cpu_us_per_delivery / mqtt.cpu_us_per_delivery:.2f}x"
                )
    lines.extend(filter_targets(rows))
    steady_row = _find(rows, "chatserver", "4/s", 1000)
    if steady_row:
        verdict = "MET" if steady_row.p99_ms < 100 and steady_row.lost == 0 else "MISSED"
        lines.append(
            f"1000 subs at 4/s 30KB: p99 {steady_row.p99_ms:.1f} ms, lost {steady_row.lost} (target < 100 ms, no loss) {verdict}"
        )
    for n in (1000, 5000):
        ours, ref = _find(rows, "chatserver", "idle", n), _find(rows, "reference", "idle", n)
        if ours and ref and ref.kb_per_connection:
            ratio = ours.kb_per_connection / ref.kb_per_connection
            verdict = "MET" if ours.kb_per_connection <= IDLE_KB_TARGET else "MISSED"
            lines.append(
                f"memory per idle subscribed connection N={n}: {ours.kb_per_connection:.1f} KB vs reference "
                f"{ref.kb_per_connection:.1f} KB = {ratio:.2f}x (target <= {IDLE_KB_TARGET} KB) {verdict}"
            )
    return lines


# --- subscription filters (issue 10): the same fan-out with no filter, the seed's argument, and a `filter` ------

FILTER_SUBSCRIPTION = """subscription OnCreateMessageByRoomId($roomId: ID, $filter: ModelSubscriptionMessageFilterInput) {
  onCreateMessageByRoomId(roomId: $roomId, filter: $filter) { content { text } roomId owner createdAt }
}"""
MESSAGE_MUTATION = (
    "mutation CreateMessage($input: MessageInput!) { createMessage(input: $input) { content { text } roomId owner "
    "createdAt } }"
)
FILTER_MODES = ("nofilter", "roomId", "filter3", "shared3")
FILTER_PUBLISHES = 100


def filter_variables(mode: str, room: str, index: int) -> dict[str, Any]:
    """`nofilter`: every message; `roomId`: the seed's argument; `filter3`: the argument and three rules, the
    owner rule unique to each subscriber (so every subscriber's filter is checked on its own), and holding for
    every other subscriber only; `shared3`: the same, with one filter for the matching half and one for the
    others (subscribers with equal filters share one check)."""
    if mode == "nofilter":
        return {}
    if mode == "roomId":
        return {"roomId": room}
    nobody = "nobody" if mode == "shared3" else f"nobody-{index}"
    owner = {"ne": nobody} if index % 2 == 0 else {"eq": nobody}
    rules = {"owner": owner, "content": {"text": {"beginsWith": "data:"}}, "createdAt": {"gt": "2000"}}
    return {"roomId": room, "filter": rules}


def _message_body(room_id: str, seq: int, size: int) -> tuple[int, bytes]:
    send_ns = time.monotonic_ns()
    head = "data:audio/wav;base64," + marker(send_ns, seq)  # where the subscribers look for the marker
    text = head + "A" * max(0, size - len(head))
    request = {
        "query": MESSAGE_MUTATION,
        "variables": {"input": {"roomId": room_id, "content": {"text": text}}},
    }
    return send_ns, json.dumps(request).encode()


class FilterClients(Clients):
    """Clients subscribed with FILTER_SUBSCRIPTION, each with its own variables."""

    def __init__(self, server: Server, rooms: Sequence[str], variables: Sequence[dict[str, Any]]) -> None:
        self.subscription = (FILTER_SUBSCRIPTION, variables)
        super().__init__(server, rooms)

    def per_connection(self) -> list[int]:
        """Deliveries per connection, in connection order."""
        received = [0] * len(self.rooms)
        workers = len(self.pipes)
        for w, report in enumerate(self.ask("report")):
            for j, count in enumerate(report["per_connection"]):
                received[w + j * workers] = count
        return received


async def _publish_messages(server: Server, room: str, publishes: int) -> Published:
    published = Published()
    async with Publisher(server, _message_body) as publisher:
        await asyncio.gather(*(publisher.publish(room, seq, SMALL, published) for seq in range(publishes)))
    return published


async def run_filter_groups(subscribers: int = 1000, publishes: int = FILTER_PUBLISHES) -> list[Row]:
    """One server; first the publishes alone (no subscriber: the mutations' own CPU), then for each mode
    `subscribers` connections in one room and the same `publishes` createMessage calls, 4 in flight."""
    rows: list[Row] = []
    with start_server("chatserver") as server:
        (room,) = create_rooms(server, 1)
        await _publish_messages(server, room, 10)  # warm up
        cpu_before = server.cpu_seconds()
        await _publish_messages(server, room, publishes)
        alone = Row("filters", "nosubs", 0, 1, SMALL, publishes)
        alone.cpu_us_per_delivery = (server.cpu_seconds() - cpu_before) * 1e6 / publishes  # per publish here
        rows.append(alone)
        print(
            f"filters    nosubs: {alone.cpu_us_per_delivery:.0f} us server CPU per createMessage",
            file=sys.stderr,
        )
        for mode in FILTER_MODES:
            variables = [filter_variables(mode, room, i) for i in range(subscribers)]
            matches = [mode not in ("filter3", "shared3") or i % 2 == 0 for i in range(subscribers)]
            clients = FilterClients(server, [room] * subscribers, variables)
            try:
                await asyncio.sleep(0.5)
                clients.ask("reset")
                cpu_before, waited_before, began = (
                    server.cpu_seconds(),
                    server.runqueue_wait_seconds(),
                    time.monotonic(),
                )
                published = await _publish_messages(server, room, publishes)
                sent = published.per_room.get(room, 0)
                await _drain(clients, sent * sum(matches))
                cpu = server.cpu_seconds() - cpu_before
                starved = (server.runqueue_wait_seconds() - waited_before) / (time.monotonic() - began)
                row = measure(
                    clients, published, Row("filters", mode, subscribers, 1, SMALL, publishes), ordered=False
                )
                got = clients.per_connection()
                row.lost = sum(max(0, sent - n) for n, wanted in zip(got, matches, strict=True) if wanted)
                unwanted = sum(n for n, wanted in zip(got, matches, strict=True) if not wanted)
                row.starved_pct = 100 * starved
                if row.deliveries:
                    row.cpu_us_per_delivery = cpu * 1e6 / row.deliveries
                rows.append(row)
                print(
                    _format(row) + (f"  ({unwanted} filtered-out deliveries!)" if unwanted else ""),
                    file=sys.stderr,
                )
            finally:
                clients.close()
    return rows


def filter_targets(rows: Sequence[Row]) -> list[str]:
    """Cost per delivered frame of the filtered run against the unfiltered ones (target <= 1.2x): all the
    server's CPU, and the fan-out's alone (less the CPU the same createMessage calls take with no subscriber,
    which the filtered run spreads over half the frames)."""
    found = {row.scenario: row for row in rows if row.server == "filters"}
    filtered, alone = found.get("filter3"), found.get("nosubs")
    per_publish = alone.cpu_us_per_delivery if alone and alone.cpu_us_per_delivery else 0.0

    def fan_out(row: Row) -> float:
        return (row.cpu_us_per_delivery or 0.0) - per_publish * row.publishes / max(1, row.deliveries)

    lines = []
    for base in ("nofilter", "roomId"):
        other = found.get(base)
        if not (filtered and other and filtered.cpu_us_per_delivery and other.cpu_us_per_delivery):
            continue
        ratio = filtered.cpu_us_per_delivery / other.cpu_us_per_delivery
        net = fan_out(filtered) / fan_out(other) if fan_out(other) > 0 else float("nan")
        verdict = ("MET" if ratio <= 1.2 else "MISSED") if base == "nofilter" else "(for reference)"
        lines.append(
            f"filter N={filtered.subscribers}, 3 rules, half match, vs {base}: server CPU per delivered frame "
            f"{filtered.cpu_us_per_delivery:.1f} us vs {other.cpu_us_per_delivery:.1f} us = {ratio:.2f}x "
            f"(target <= 1.2x) {verdict}; fan-out alone {fan_out(filtered):.1f} vs {fan_out(other):.1f} us = {net:.2f}x"
        )
    shared, unfiltered = found.get("shared3"), found.get("nofilter")
    if shared and unfiltered and shared.cpu_us_per_delivery and unfiltered.cpu_us_per_delivery:
        lines.append(
            f"  shared3 (two distinct filters): {shared.cpu_us_per_delivery:.1f} us per delivered frame = "
            f"{shared.cpu_us_per_delivery / unfiltered.cpu_us_per_delivery:.2f}x nofilter"
        )
    for row in (found.get(mode) for mode in FILTER_MODES):
        client = getattr(row, "client_cpu_us_per_delivery", None)
        if row is not None and client:
            lines.append(f"  {row.scenario}: client CPU {client:.1f} us per delivered frame")
    if per_publish:
        lines.append(f"  createMessage alone: {per_publish:.0f} us server CPU per call")
    return lines


async def main_async(args: argparse.Namespace) -> list[Row]:
    if args.filters:
        return await run_filter_groups()
    sizes = [1, 100] if args.quick else [1, 100, 1000, 5000]
    if args.n:
        sizes = args.n
    groups = [(n, args.rooms if args.n else 1) for n in sizes]
    if not args.quick and not args.n:
        groups.append((1000, 100))
    rows: list[Row] = []
    print(HEADER, file=sys.stderr)
    for n, room_count in groups:
        for kind in args.servers:
            try:
                steady_run = n == 1000 and room_count == 1 and kind != "mqtt"
                rows.extend(await run_group(kind, n, room_count, steady_run=steady_run, profile=args.profile))
            except Exception as error:  # e.g. 5000 connections did not hold: report and go on
                print(f"{kind} N={n} rooms={room_count}: FAILED {error!r}", file=sys.stderr, flush=True)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Fan-out bench: chatserver vs a bare uvicorn WebSocket loop."
    )
    parser.add_argument("--quick", action="store_true", help="N = 1 and 100 only")
    parser.add_argument("--n", type=int, action="append", help="only these subscriber counts (repeatable)")
    parser.add_argument(
        "--servers",
        nargs="+",
        default=["chatserver", "mqtt", "reference"],
        choices=["chatserver", "mqtt", "reference"],
        help="mqtt: chatserver with aws-appsync 1.x (MQTT) subscribers instead of AppSync-protocol ones",
    )
    parser.add_argument("--json", type=Path, help="write every row to this file")
    parser.add_argument(
        "--filters",
        action="store_true",
        help="only the subscription-filter runs: N = 1000 with no filter, the roomId argument, a 3-rule filter",
    )
    parser.add_argument("--profile", type=Path, help="sample the servers with py-spy into this directory")
    parser.add_argument(
        "--rooms", type=int, default=1, help="with --n: spread the subscribers over this many rooms"
    )
    args = parser.parse_args(argv)
    if (os.cpu_count() or 1) < 2:
        print("note: fewer than 2 CPUs; server and clients share a core", file=sys.stderr)
    pin(CLIENT_CPUS)
    rows = asyncio.run(main_async(args))
    print()
    print(HEADER)
    for row in rows:
        print(_format(row))
    print()
    for line in targets(rows):
        print(line)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))


if __name__ == "__main__":
    main()
