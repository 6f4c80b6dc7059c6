"""GraphQL-over-HTTP bench (issue 2): chatserver's createMessage and listMessagesForRoom against a bare reference.

    python -m bench.http_mutations                 # 10 s per line, prints a table
    python -m bench.http_mutations --duration 5    # shorter
    python -m bench.http_mutations --json out.json # also write every figure

    python -m bench.http_mutations --fast-path off # chatserver with CHATSERVER_FAST_PATH=false (graphql-core only)

Each server is a real process on 127.0.0.1 pinned to CPU 0 (`taskset`, when there are two CPUs or more); load comes
from `wrk` (Debian package `wrk`) pinned to CPU 1, with a Lua script that POSTs one fixed body and counts responses
carrying GraphQL `errors`. Lines:

- reference (1 insert): bench/reference_app.py, Strawberry + Starlette + uvicorn with ParserCache/ValidationCache,
  one SQLite insert per mutation;
- reference (50 rows): the same app's query selecting 50 of 500 messages of a room (same fields, same nesting as the
  chat app's ListMessagesForRoom) and returning them;
- chatserver createMessage: the chat app's CreateMessage document with an access token (auth, validation, insert,
  publish to the real-time engine);
- chatserver listMessagesForRoom: DESC, limit 50, over a room of 500 messages.

Each at concurrency 1 and 32: requests/s, p50 and p99 latency, the CPU share the server and wrk used (of one core
each; a server line near 100 % is server-bound), and requests per second of server CPU (the figure to compare when
the machine is busy and the server does not get its core). Targets (issue 12), at concurrency 32:
listMessagesForRoom at least 3x the 50-row reference and at least 1,500 requests/s; createMessage at least 1.5x the
insert reference.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Bench-Passw0rd!"
CONCURRENCIES = (1, 32)
SEEDED_MESSAGES = 500
CREATE_TARGET = 1.5  # createMessage / reference (1 insert)
LIST_TARGET = 3.0  # listMessagesForRoom / reference (50 rows)
LIST_TARGET_RPS = 1500

if str(ROOT) not in sys.path:  # run as `python bench/http_mutations.py`
    sys.path.insert(0, str(ROOT))
# The chat app's CreateMessage, verbatim from SEED_CLIENTS.md (kept once, in the tests' helpers).
from tests.helpers import CREATE_MESSAGE  # noqa: E402

LIST_MESSAGES = """
  query ListMessagesForRoom($roomId: ID!, $sortDirection: ModelSortDirection, $limit: Int) {
    listMessagesForRoom(roomId: $roomId, sortDirection: $sortDirection, limit: $limit) {
      items {
        id
        content {
          text
          imageId
        }
        owner
        createdAt
        updatedAt
        roomId
      }
      nextToken
    }
  }
"""
REFERENCE_MUTATION = """
  mutation CreateMessage($roomId: ID!, $text: String!) {
    createMessage(roomId: $roomId, text: $text) {
      id
      roomId
      text
      createdAt
    }
  }
"""

REFERENCE_READ = """
  query ListMessagesForRoom($roomId: ID!, $limit: Int) {
    listMessagesForRoom(roomId: $roomId, limit: $limit) {
      items {
        id
        content {
          text
          imageId
        }
        owner
        createdAt
        updatedAt
        roomId
      }
      nextToken
    }
  }
"""

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth ~= nil and string.sub(auth, 1, 4) == "da2-" then wrk.headers["x-api-key"] = auth
elseif auth ~= nil and auth ~= "" then wrk.headers["Authorization"] = auth end

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("BENCH p50_us=%d p99_us=%d bad=%d\\n",
    latency:percentile(50), latency:percentile(99), total))
end
"""


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    concurrency: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int
    server_cpu: float  # share of one core over the run
    client_cpu: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pinned(cpu: int) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(cpu)]
    return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def process(command: list[str], env: dict[str, str], url: str, log: Path) -> Iterator[int]:
    with log.open("ab") as output:
        proc = subprocess.Popen(
            [*pinned(0), *command],
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{command} exited with {proc.returncode}; see {log}")
            try:
                httpx.get(f"{url}/graphql", headers={"Accept": "text/html"}, timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{command} did not start; see {log}") from None
                time.sleep(0.1)
        yield proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wrk(
    name: str, url: str, body: str, auth: str, concurrency: int, duration: int, script: Path, server: int
) -> Line:
    threads = min(concurrency, 2)
    command = [
        *pinned(1),
        "wrk",
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"{url}/graphql",
    ]
    env = {**os.environ, "BENCH_BODY": body, "BENCH_AUTH": auth}
    server_before, client_before, started = cpu_seconds(server), children_cpu_seconds(), time.monotonic()
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    elapsed = time.monotonic() - started
    server_cpu = (cpu_seconds(server) - server_before) / elapsed
    client_cpu = (children_cpu_seconds() - client_before) / elapsed
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    figures = dict(re.findall(r"(\w+)=(\d+)", re.search(r"BENCH (.*)", output).group(1)))  # type: ignore[union-attr]
    return Line(
        name=name,
        concurrency=concurrency,
        requests_per_s=rps,
        p50_ms=int(figures["p50_us"]) / 1000,
        p99_ms=int(figures["p99_us"]) / 1000,
        requests=requests,
        bad=int(figures["bad"]),
        server_cpu=server_cpu,
        client_cpu=client_cpu,
    )


def gql(url: str, token: str, query: str, variables: dict) -> dict:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": token},
        timeout=30,
    )
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise SystemExit(f"setup request failed: {response.status_code} {body}")
    return body["data"]


def chatserver_lines(work: Path, duration: int, script: Path, fast_path: bool) -> list[Line]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "CHATSERVER_DATA_DIR": str(work / "chatserver-data"),
        "CHATSERVER_HOST": "127.0.0.1",
        "CHATSERVER_PORT": str(port),
        "CHATSERVER_AUTO_CONFIRM": "true",
        "CHATSERVER_LOG_LEVEL": "warning",
        "CHATSERVER_FAST_PATH": "true" if fast_path else "false",
    }
    lines: list[Line] = []
    with process([sys.executable, "-m", "chatserver", "serve"], env, url, work / "chatserver.log") as pid:
        user = {
            "username": "bench",
            "password": PASSWORD,
            "email": "bench@example.com",
            "givenName": "Bench",
            "familyName": "Mark",
        }
        httpx.post(f"{url}/auth/signup", json=user, timeout=30).raise_for_status()
        signin = httpx.post(
            f"{url}/auth/signin", json={"username": "bench", "password": PASSWORD}, timeout=30
        )
        token = signin.json()["accessToken"]
        room_id = gql(url, token, 'mutation { createRoom(input: {name: "bench"}) { id } }', {})["createRoom"][
            "id"
        ]
        listed_room = gql(url, token, 'mutation { createRoom(input: {name: "read"}) { id } }', {})[
            "createRoom"
        ]["id"]
        for n in range(SEEDED_MESSAGES):
            gql(
                url,
                token,
                CREATE_MESSAGE,
                {"input": {"roomId": listed_room, "content": {"text": f"seed {n}"}}},
            )
        create = json.dumps(
            {
                "query": CREATE_MESSAGE,
                "variables": {"input": {"roomId": room_id, "content": {"text": "hello"}}},
            }
        )
        listing = json.dumps(
            {
                "query": LIST_MESSAGES,
                "variables": {"roomId": listed_room, "sortDirection": "DESC", "limit": 50},
            }
        )
        for concurrency in CONCURRENCIES:
            lines.append(
                wrk("chatserver createMessage", url, create, token, concurrency, duration, script, pid)
            )
        for concurrency in CONCURRENCIES:
            lines.append(
                wrk("chatserver listMessagesForRoom", url, listing, token, concurrency, duration, script, pid)
            )
    return lines


def reference_lines(work: Path, duration: int, script: Path) -> list[Line]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "bench.reference_app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    insert = json.dumps({"query": REFERENCE_MUTATION, "variables": {"roomId": "bench", "text": "hello"}})
    read = json.dumps({"query": REFERENCE_READ, "variables": {"roomId": "bench-read", "limit": 50}})
    with process(command, {"REFERENCE_DB": str(work / "reference.db")}, url, work / "reference.log") as pid:
        lines = [
            wrk("reference (1 insert)", url, insert, "", c, duration, script, pid) for c in CONCURRENCIES
        ]
        lines += [wrk("reference (50 rows)", url, read, "", c, duration, script, pid) for c in CONCURRENCIES]
        return lines


def print_table(lines: list[Line]) -> None:
    print(
        f"{'line':34} {'conc':>4} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'bad':>5}"
        f" {'server cpu':>10} {'wrk cpu':>8} {'req/cpu-s':>9}"
    )
    for line in lines:
        print(
            f"{line.name:34} {line.concurrency:>4} {line.requests_per_s:>9.0f} {line.p50_ms:>8.2f} "
            f"{line.p99_ms:>8.2f} {line.requests:>9} {line.bad:>5} {line.server_cpu:>10.0%} {line.client_cpu:>8.0%}"
            f" {line.requests_per_s / max(line.server_cpu, 0.01):>9.0f}"
        )

    def rps(name: str, concurrency: int) -> float:
        return next(x.requests_per_s for x in lines if x.name == name and x.concurrency == concurrency)

    print()
    for concurrency in CONCURRENCIES:
        create = rps("chatserver createMessage", concurrency) / rps("reference (1 insert)", concurrency)
        listing = rps("chatserver listMessagesForRoom", concurrency)
        read = listing / rps("reference (50 rows)", concurrency)
        print(
            f"c={concurrency}: createMessage {create:.2f}x the insert reference (target {CREATE_TARGET}x: "
            f"{_verdict(create >= CREATE_TARGET)}); listMessagesForRoom {read:.2f}x the 50-row reference "
            f"(target {LIST_TARGET}x: {_verdict(read >= LIST_TARGET)}) at {listing:.0f} requests/s "
            f"(target {LIST_TARGET_RPS}: {_verdict(listing >= LIST_TARGET_RPS)})"
        )


def _verdict(met: bool) -> str:
    return "meets" if met else "misses"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per line (default 10)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--fast-path",
        choices=("on", "off"),
        default="on",
        help="chatserver's CHATSERVER_FAST_PATH (default on)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        work = Path(tmp)
        script = work / "post.lua"
        script.write_text(WRK_SCRIPT)
        lines = reference_lines(work, args.duration, script) + chatserver_lines(
            work, args.duration, script, args.fast_path == "on"
        )
    print_table(lines)
    if args.json:
        args.json.write_text(json.dumps([asdict(x) for x in lines], indent=2))


if __name__ == "__main__":
    main()
