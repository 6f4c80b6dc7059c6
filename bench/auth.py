"""Sign-in bench (issue 13): what SRP costs the server, and whether it disturbs real-time fan-out.

    python -m bench.auth                  # about a minute (more on a busy machine)
    python -m bench.auth --seconds 3      # shorter throughput phases
    python -m bench.auth --json out.json  # also write every figure

A real `python -m chatserver serve` process pinned to CPU 0 (bench/fanout.py's start_server); load from processes
pinned to CPU 1. Sign-in load is a separate process (SrpClient: pycognito's math on GMP, bench/srp_client.py) with a
few keep-alive connections (bench/rawhttp.py), over the Cognito API at `POST /`. Needs the test extra (pycognito).

1. Sign-ins per second on the server's one core, IN_FLIGHT at a time for `--seconds` each: USER_SRP_AUTH
   (InitiateAuth + RespondToAuthChallenge), USER_PASSWORD_AUTH (one InitiateAuth), and the `/auth/signin` form.
   Printed beside each: the server's CPU ms per sign-in (and so sign-ins per second of server CPU, which other
   processes on the machine do not change), the load process's CPU share of its core (it must stay well
   under 100 % for the figure to be the server's) and `starved`, the time the server's threads waited for a CPU taken
   by other processes (a busy machine), summed over its threads, as a share of wall time (so it can pass 100 %).
2. Fan-out p99: 1000 AppSync real-time subscribers in one room (bench/fanout.py's Clients, 4 processes), isolated
   small publishes each waiting for its 1000 deliveries (fanout.single), measured quiet and while 20 SRP sign-ins/s
   run, in alternating rounds in one run. Target: the loaded p99 (over the deliveries of all its rounds) at most 1.2x
   the quiet one; the median of the rounds' p99s is printed beside it (less sensitive to one stall of a busy machine).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import statistics
import sys
import time
from array import array
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):  # run as `python bench/auth.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fanout import (
    CLIENT_CPUS,
    HOST,
    PASSWORD,
    SMALL,
    Clients,
    Published,
    Row,
    Server,
    create_rooms,
    measure,
    pin,
    single,
    start_server,
)
from bench.rawhttp import HttpConnection
from bench.srp_client import SrpClient

POOL_ID = "local_chatserver"  # the server's defaults: start_server sets neither
CLIENT_ID = "chatserver"
COGNITO_JSON = "application/x-amz-json-1.1"
USERS = 16
IN_FLIGHT = 4  # sign-ins at once when measuring throughput
CONNECTIONS = 8  # keep-alive connections of the load process (a paced load may need more than IN_FLIGHT)
THROUGHPUT_SECONDS = 4.0
LOADED_RATE = 20.0
SUBSCRIBERS = 1000
ROUNDS = 4
PUBLISHES_PER_ROUND = 20
QUIET, LOADED = "quiet", f"{LOADED_RATE:.0f} SRP/s"
WARM_SECONDS = 1.0  # the sign-in load runs this long before a loaded round is measured
TARGET_RATIO = 1.2
WAIT_SECONDS = 60.0  # bound on any answer from a load process
FORMS = ("srp", "password", "form")
FORM_NAMES = {"srp": "USER_SRP_AUTH", "password": "USER_PASSWORD_AUTH", "form": "/auth/signin"}


# --- one sign-in, three wire forms -----------------------------------------------------------------------------


class SignInFailed(RuntimeError):
    pass


async def _cognito(connection: HttpConnection, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    headers = {"X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}"}
    status, answer = await connection.post_json("/", json.dumps(body).encode(), headers, COGNITO_JSON)
    if status != 200:
        raise SignInFailed(f"{operation}: {status} {answer}")
    return answer


async def sign_in_srp(connection: HttpConnection, srp: SrpClient, username: str) -> None:
    parameters = {"USERNAME": username, "SRP_A": srp.start()}
    body = {"AuthFlow": "USER_SRP_AUTH", "ClientId": CLIENT_ID, "AuthParameters": parameters}
    challenge = await _cognito(connection, "InitiateAuth", body)
    if challenge.get("ChallengeName") != "PASSWORD_VERIFIER":
        raise SignInFailed(f"InitiateAuth: {challenge}")
    responses = srp.answer(challenge["ChallengeParameters"], username)
    answer = {"ChallengeName": "PASSWORD_VERIFIER", "ClientId": CLIENT_ID, "ChallengeResponses": responses}
    if "AccessToken" not in (await _cognito(connection, "RespondToAuthChallenge", answer)).get(
        "AuthenticationResult", {}
    ):
        raise SignInFailed("RespondToAuthChallenge: no tokens")


async def sign_in_password(connection: HttpConnection, username: str) -> None:
    parameters = {"USERNAME": username, "PASSWORD": PASSWORD}
    body = {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": CLIENT_ID, "AuthParameters": parameters}
    if "AccessToken" not in (await _cognito(connection, "InitiateAuth", body)).get(
        "AuthenticationResult", {}
    ):
        raise SignInFailed("InitiateAuth: no tokens")


async def sign_in_form(connection: HttpConnection, username: str) -> None:
    body = json.dumps({"username": username, "password": PASSWORD}).encode()
    status, answer = await connection.post_json("/auth/signin", body, {})
    if status != 200 or "accessToken" not in answer:
        raise SignInFailed(f"/auth/signin: {status} {answer}")


# --- the sign-in load process ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadSpec:
    form: str  # one of FORMS
    rate: float | None  # sign-ins per second; None: as fast as IN_FLIGHT connections allow
    seconds: float | None  # None: until "stop" arrives on the pipe


@dataclass
class LoadResult:
    ok: int = 0
    failed: int = 0
    first_error: str = ""
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0  # the load process's own CPU time (all threads)
    latencies_ms: list[float] = field(default_factory=list)


def load_process(port: int, users: tuple[str, ...], pipe: Connection) -> None:
    """Process entry point: say "ready", then run each LoadSpec that arrives and answer its LoadResult; None ends."""
    pin(CLIENT_CPUS)
    clients = {user: SrpClient(POOL_ID, PASSWORD) for user in users}
    pipe.send("ready")
    while (spec := pipe.recv()) is not None:
        pipe.send(asyncio.run(_load(port, users, clients, spec, pipe)))


async def _load(
    port: int, users: tuple[str, ...], clients: dict[str, SrpClient], spec: LoadSpec, pipe: Connection
) -> LoadResult:
    connections: asyncio.Queue[HttpConnection] = asyncio.Queue()
    opened = [await HttpConnection.open(HOST, port) for _ in range(CONNECTIONS)]
    for connection in opened:
        connections.put_nowait(connection)
    result = LoadResult()

    async def one(seq: int) -> None:
        user = users[seq % len(users)]
        connection = await connections.get()
        began = time.perf_counter()
        try:
            if spec.form == "srp":
                await sign_in_srp(connection, clients[user], user)
            elif spec.form == "password":
                await sign_in_password(connection, user)
            else:
                await sign_in_form(connection, user)
            result.ok += 1
            result.latencies_ms.append((time.perf_counter() - began) * 1000)
        except (SignInFailed, OSError, asyncio.IncompleteReadError) as error:
            result.failed += 1
            result.first_error = result.first_error or repr(error)
        finally:
            connections.put_nowait(connection)

    start, cpu_start = time.monotonic(), time.process_time()

    def over(seq: int) -> bool:
        if spec.seconds is not None:
            return time.monotonic() - start >= spec.seconds
        return seq % 5 == 0 and pipe.poll() and pipe.recv() == "stop"  # polled every few sign-ins

    if spec.rate is None:

        async def worker(first: int) -> None:
            seq = first
            while not over(seq):
                await one(seq)
                seq += IN_FLIGHT

        await asyncio.gather(*(worker(i) for i in range(IN_FLIGHT)))
    else:
        tasks, seq = [], 0
        while not over(seq):
            await asyncio.sleep(max(0.0, start + seq / spec.rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(seq)))
            seq += 1
        await asyncio.gather(*tasks)
    result.wall_seconds = time.monotonic() - start
    result.cpu_seconds = time.process_time() - cpu_start
    for connection in opened:
        await connection.close()
    return result


class SignInLoad:
    """The sign-in load process (started once: its imports take seconds on a busy machine)."""

    def __init__(self, port: int, users: tuple[str, ...]) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, theirs = context.Pipe()
        self._process = context.Process(target=load_process, args=(port, users, theirs), daemon=True)
        self._process.start()
        if not self._pipe.poll(WAIT_SECONDS) or self._pipe.recv() != "ready":
            raise RuntimeError("the sign-in load process did not start")

    def _result(self, spec: LoadSpec) -> LoadResult:
        if not self._pipe.poll(WAIT_SECONDS + (spec.seconds or 0)):
            raise RuntimeError("the sign-in load process did not report")
        return self._pipe.recv()

    def run(self, spec: LoadSpec) -> LoadResult:
        """A load of fixed duration, waited for."""
        self._pipe.send(spec)
        return self._result(spec)

    @contextlib.contextmanager
    def running(self, spec: LoadSpec) -> Iterator[Callable[[], LoadResult]]:
        """An open-ended load running meanwhile; the yielded function stops it and returns its result."""
        self._pipe.send(spec)
        stopped: list[LoadResult] = []

        def stop() -> LoadResult:
            if not stopped:
                self._pipe.send("stop")
                stopped.append(self._result(spec))
            return stopped[0]

        try:
            yield stop
        finally:
            stop()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._pipe.send(None)
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


# --- phases ----------------------------------------------------------------------------------------------------


def create_users(server: Server) -> tuple[str, ...]:
    """USERS accounts through the /auth form (auto-confirmed; sign-up stores the SRP verifier)."""

    def one(name: str) -> str:
        body = {"username": name, "password": PASSWORD, "email": f"{name}@example.com"}
        response = httpx.post(
            f"{server.url}/auth/signup", json={**body, "givenName": "Bench", "familyName": "User"}, timeout=60
        )
        response.raise_for_status()
        return name

    with ThreadPoolExecutor(max_workers=4) as pool:
        return tuple(pool.map(one, [f"signin{i}" for i in range(USERS)]))


@dataclass
class Throughput:
    form: str
    sign_ins: int
    failed: int
    per_second: float
    p50_ms: float
    server_cpu_ms: float  # per sign-in
    client_cpu_pct: float  # the load process's share of its core
    starved_pct: float
    first_error: str = ""


def throughput(server: Server, load: SignInLoad, form: str, seconds: float) -> Throughput:
    cpu, waited, began = server.cpu_seconds(), server.runqueue_wait_seconds(), time.monotonic()
    result = load.run(LoadSpec(form, rate=None, seconds=seconds))
    wall = time.monotonic() - began
    cpu = server.cpu_seconds() - cpu
    starved = (server.runqueue_wait_seconds() - waited) / wall
    return Throughput(
        form=FORM_NAMES[form],
        sign_ins=result.ok,
        failed=result.failed,
        per_second=result.ok / result.wall_seconds,
        p50_ms=statistics.median(result.latencies_ms) if result.latencies_ms else 0.0,
        server_cpu_ms=cpu * 1000 / max(1, result.ok),
        client_cpu_pct=100 * result.cpu_seconds / result.wall_seconds,
        starved_pct=100 * starved,
        first_error=result.first_error,
    )


@dataclass
class FanoutRound:
    condition: str  # QUIET | LOADED
    round: int
    row: Row
    sign_ins_per_second: float = 0.0
    sign_in_failures: int = 0
    client_cpu_pct: float = 0.0


async def fanout_rounds(
    server: Server, load: SignInLoad, rounds: int
) -> tuple[list[FanoutRound], dict[str, float]]:
    """Alternating quiet and loaded rounds; returns each round and the p99 over every round of each condition."""
    rooms = create_rooms(server, 1)
    clients = Clients(server, rooms * SUBSCRIBERS)
    results: list[FanoutRound] = []
    pooled = {QUIET: array("q"), LOADED: array("q")}

    def single_round() -> Awaitable[Published]:
        return single(server, clients, rooms, PUBLISHES_PER_ROUND, SMALL)

    try:
        await asyncio.sleep(1.0)
        print(f"{SUBSCRIBERS} subscribers connected", file=sys.stderr, flush=True)
        for number in range(1, rounds + 1):
            quiet = await _measured(server, clients, QUIET, number, single_round, pooled[QUIET])
            print(_format_round(quiet), file=sys.stderr, flush=True)
            results.append(quiet)

            with load.running(LoadSpec("srp", rate=LOADED_RATE, seconds=None)) as stop:
                await asyncio.sleep(WARM_SECONDS)
                loaded = await _measured(server, clients, LOADED, number, single_round, pooled[LOADED])
                sign_ins = stop()
            loaded.sign_ins_per_second = sign_ins.ok / sign_ins.wall_seconds
            loaded.sign_in_failures = sign_ins.failed
            loaded.client_cpu_pct = 100 * sign_ins.cpu_seconds / sign_ins.wall_seconds
            print(_format_round(loaded), file=sys.stderr, flush=True)
            results.append(loaded)
    finally:
        clients.close()
    return results, {condition: _p99_ms(latencies) for condition, latencies in pooled.items()}


async def _measured(
    server: Server,
    clients: Clients,
    condition: str,
    number: int,
    go: Callable[[], Awaitable[Published]],
    pool: array[int],
) -> FanoutRound:
    clients.ask("reset")
    waited, began = server.runqueue_wait_seconds(), time.monotonic()
    published = await go()
    publishes = sum(published.per_room.values()) + published.errors
    row = measure(
        clients, published, Row("chatserver", condition, SUBSCRIBERS, 1, SMALL, publishes), ordered=True
    )
    row.starved_pct = 100 * (server.runqueue_wait_seconds() - waited) / (time.monotonic() - began)
    for report in clients.ask("report"):  # the same latencies measure() read, kept for the pooled p99
        pool.frombytes(report["latencies"])
    return FanoutRound(condition, number, row)


def _p99_ms(latencies: array[int]) -> float:
    values = sorted(latencies)
    return values[min(len(values) - 1, int(len(values) * 0.99))] / 1e6 if values else 0.0


# --- output ----------------------------------------------------------------------------------------------------


def _format_throughput(t: Throughput) -> str:
    line = (
        f"{t.form:<20} {t.per_second:>9.1f} {1000 / t.server_cpu_ms if t.server_cpu_ms else 0:>9.1f}"
        f" {t.sign_ins:>6} {t.failed:>6} {t.p50_ms:>8.1f} {t.server_cpu_ms:>10.1f}"
        f" {t.client_cpu_pct:>9.0f}% {t.starved_pct:>7.0f}%"
    )
    return line + (f"  first failure: {t.first_error[:200]}" if t.first_error else "")


THROUGHPUT_HEADER = (
    f"{'sign-in':<20} {'per s':>9} {'per CPU-s':>9} {'ok':>6} {'failed':>6} {'p50 ms':>8} {'srv ms/op':>10} {'load CPU':>10}"
    f" {'starved':>8}"
)
ROUND_HEADER = (
    f"{'fan-out to 1000':<16} {'round':>5} {'pubs':>5} {'deliv':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    f" {'lost':>5} {'sign-ins/s':>10} {'load CPU':>9} {'starved':>8}"
)


def _format_round(r: FanoutRound) -> str:
    row = r.row
    load = (
        f"{r.sign_ins_per_second:>10.1f} {r.client_cpu_pct:>8.0f}%"
        if r.condition != QUIET
        else f"{'':>10} {'':>9}"
    )
    failures = f"  ({r.sign_in_failures} sign-ins failed)" if r.sign_in_failures else ""
    return (
        f"{r.condition:<16} {r.round:>5} {row.publishes:>5} {row.deliveries:>7} {row.p50_ms:>8.2f} {row.p99_ms:>8.2f}"
        f" {row.max_ms:>8.2f} {row.lost:>5} {load} {row.starved_pct or 0:>7.0f}%{failures}"
    )


def verdict(rounds: list[FanoutRound], pooled: dict[str, float]) -> list[str]:
    quiet, loaded = pooled[QUIET], pooled[LOADED]
    ratio = loaded / quiet if quiet else float("inf")
    met = "MET" if ratio <= TARGET_RATIO else "MISSED"
    median_quiet = statistics.median(r.row.p99_ms for r in rounds if r.condition == QUIET)
    median_loaded = statistics.median(r.row.p99_ms for r in rounds if r.condition == LOADED)
    return [
        f"fan-out to {SUBSCRIBERS}, p99 over all rounds: {loaded:.1f} ms with {LOADED_RATE:.0f} SRP sign-ins/s vs"
        f" {quiet:.1f} ms quiet = {ratio:.2f}x (target <= {TARGET_RATIO}x) {met}",
        f"  median of the rounds' p99: {median_loaded:.1f} ms loaded vs {median_quiet:.1f} ms quiet"
        f" = {median_loaded / median_quiet if median_quiet else float('inf'):.2f}x",
    ]


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    began = time.monotonic()
    with start_server("chatserver") as server:
        load = SignInLoad(server.port, create_users(server))
        try:
            print(f"[{time.monotonic() - began:.0f} s] server and sign-in load up", file=sys.stderr)
            print(THROUGHPUT_HEADER, file=sys.stderr)
            rates = []
            for form in FORMS:
                rates.append(throughput(server, load, form, args.seconds))
                print(_format_throughput(rates[-1]), file=sys.stderr, flush=True)
            print(f"[{time.monotonic() - began:.0f} s] {ROUND_HEADER}", file=sys.stderr)
            rounds, pooled = await fanout_rounds(server, load, args.rounds)
        finally:
            load.close()
    return {"throughput": rates, "rounds": rounds, "pooled_p99_ms": pooled}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Sign-in bench: SRP cost and its effect on fan-out latency.")
    parser.add_argument("--seconds", type=float, default=THROUGHPUT_SECONDS, help="per throughput line")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="quiet/loaded fan-out round pairs")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args(argv)
    pin(CLIENT_CPUS)
    began = time.monotonic()
    figures = asyncio.run(main_async(args))
    print()
    print(THROUGHPUT_HEADER)
    for line in figures["throughput"]:
        print(_format_throughput(line))
    print()
    print(ROUND_HEADER)
    for line in figures["rounds"]:
        print(_format_round(line))
    print()
    for line in verdict(figures["rounds"], figures["pooled_p99_ms"]):
        print(line)
    print(f"(run took {time.monotonic() - began:.0f} s)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        written = {k: [asdict(v) for v in figures[k]] for k in ("throughput", "rounds")}
        args.json.write_text(json.dumps({**written, "pooled_p99_ms": figures["pooled_p99_ms"]}, indent=1))


if __name__ == "__main__":
    main()
