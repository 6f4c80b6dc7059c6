"""Bench: presigned upload and download of 1 MiB images over real HTTP, concurrency 8.

Starts `python -m chatserver serve` on a free loopback port with a temporary data directory, then prints throughput,
p50/p99 latency per request, and the server's RSS before, at peak, and after (flat: bodies are streamed, never held
whole in memory).

    python bench/files.py [--count 200] [--concurrency 8] [--size 1048576]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PASSWORD = "Bench-Passw0rd"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CHATSERVER_DATA_DIR": str(data_dir),
        "CHATSERVER_PORT": str(port),
        "CHATSERVER_HOST": "127.0.0.1",
        "CHATSERVER_AUTO_CONFIRM": "true",
        "CHATSERVER_LOG_LEVEL": "warning",
    }
    return subprocess.Popen([sys.executable, "-m", "chatserver", "serve"], env=env)


async def wait_ready(client: httpx.AsyncClient, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited during start-up")
        try:
            if (await client.get("/.well-known/openid-configuration")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("the server did not start within 30 s")


async def gql(client: httpx.AsyncClient, token: str, query: str, **variables: object) -> dict:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": token}
    )
    body = response.json()
    if body.get("errors"):
        raise SystemExit(f"GraphQL error: {body['errors']}")
    return body["data"]


def summary(name: str, latencies: list[float], total_bytes: int, elapsed: float) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{name:9} {len(latencies)} x {total_bytes // len(latencies) / 1048576:.1f} MiB: "
        f"{total_bytes / 1048576 / elapsed:7.1f} MB/s, p50 {statistics.median(ordered) * 1000:6.1f} ms, "
        f"p99 {p99 * 1000:6.1f} ms"
    )


async def run(count: int, concurrency: int, size: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-files-") as tmp:
        port = free_port()
        process = start_server(Path(tmp), port)
        try:
            await bench(process, f"http://127.0.0.1:{port}", count, concurrency, size)
        finally:
            process.terminate()
            process.wait(timeout=15)


async def bench(process: subprocess.Popen[bytes], url: str, count: int, concurrency: int, size: int) -> None:
    limits = httpx.Limits(max_connections=concurrency * 2)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        await wait_ready(client, process)
        user = {"username": "bench", "password": PASSWORD, "email": "bench@example.com"}
        await client.post("/auth/signup", json={**user, "givenName": "B", "familyName": "B"})
        signin = await client.post("/auth/signin", json={k: user[k] for k in ("username", "password")})
        if signin.status_code != 200:
            raise SystemExit(f"sign-in failed: {signin.text}")
        token = signin.json()["accessToken"]
        room = (
            await gql(
                client, token, "mutation($i: RoomInput!) { createRoom(input: $i) { id } }", i={"name": "b"}
            )
        )["createRoom"]["id"]
        body = PNG_MAGIC + os.urandom(size - len(PNG_MAGIC))
        peak = [0.0]
        gate = asyncio.Semaphore(concurrency)

        async def target() -> dict:
            async with gate:
                return (
                    await gql(
                        client,
                        token,
                        "mutation($i: UploadInput!) { createUploadUrl(input: $i) { imageId uploadUrl } }",
                        i={"filename": "b.png", "contentType": "image/png", "size": size},
                    )
                )["createUploadUrl"]

        async def upload(upload_url: str) -> float:
            async with gate:
                started = time.perf_counter()
                response = await client.put(upload_url, content=body, headers={"Content-Type": "image/png"})
                assert response.status_code == 200, response.text
                return time.perf_counter() - started

        async def post(image_id: str) -> None:
            async with gate:
                await gql(
                    client,
                    token,
                    "mutation($i: MessageInput!) { createMessage(input: $i) { id } }",
                    i={"roomId": room, "content": {"imageId": image_id}},
                )

        async def download(image_url: str) -> float:
            async with gate:
                started = time.perf_counter()
                received = 0
                async with client.stream("GET", image_url) as response:
                    assert response.status_code == 200
                    async for chunk in response.aiter_bytes():
                        received += len(chunk)
                assert received == size
                return time.perf_counter() - started

        async def sample_rss() -> None:
            while True:
                peak[0] = max(peak[0], rss_mib(process.pid))
                await asyncio.sleep(0.05)

        async def flow(n: int) -> list[float]:
            """createUploadUrl (untimed), PUT (timed), createMessage (untimed)."""
            targets = await asyncio.gather(*(target() for _ in range(n)))
            started = time.perf_counter()
            latencies = await asyncio.gather(*(upload(t["uploadUrl"]) for t in targets))
            elapsed[0] = time.perf_counter() - started
            await asyncio.gather(*(post(t["imageId"]) for t in targets))
            return list(latencies)

        elapsed = [0.0]
        warm = await flow(concurrency)  # warm-up: code paths, pools, caches
        listed = await gql(
            client,
            token,
            "query($r: ID!) { listMessagesForRoom(roomId: $r) { items { content { imageUrl } } } }",
            r=room,
        )
        for m in listed["listMessagesForRoom"]["items"]:
            await download(m["content"]["imageUrl"])
        del warm
        before = rss_mib(process.pid)
        sampler = asyncio.create_task(sample_rss())
        try:
            up = await flow(count)
            up_elapsed = elapsed[0]
            listed = await gql(
                client,
                token,
                "query($r: ID!) { listMessagesForRoom(roomId: $r, limit: 1000) { items { content { imageUrl } } } }",
                r=room,
            )
            urls = [m["content"]["imageUrl"] for m in listed["listMessagesForRoom"]["items"]][concurrency:]
            started = time.perf_counter()
            down = await asyncio.gather(*(download(u) for u in urls))
            down_elapsed = time.perf_counter() - started
        finally:
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)
        after = rss_mib(process.pid)
        print(f"concurrency {concurrency}, server pid {process.pid}")
        print(summary("upload", up, size * len(up), up_elapsed))
        print(summary("download", down, size * len(down), down_elapsed))
        print(
            f"server RSS: {before:.1f} MiB before, {peak[0]:.1f} MiB peak, {after:.1f} MiB after "
            f"({count * 2} requests moving {count * 2 * size / 1048576:.0f} MiB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--size", type=int, default=1024 * 1024)
    args = parser.parse_args()
    asyncio.run(run(args.count, args.concurrency, args.size))


if __name__ == "__main__":
    main()
