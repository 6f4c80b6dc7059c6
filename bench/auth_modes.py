"""Verification cost per request in each auth mode (issue 11): one small read, sent with each kind of credential.

    python -m bench.auth_modes                # 5 s per line
    python -m bench.auth_modes --duration 3

Two chatserver processes on 127.0.0.1: an external OIDC issuer (a second chatserver with its own keys) and the
server under test, with API_KEY and OPENID_CONNECT enabled beside its own pool, pinned to CPU 0; `wrk` pinned to CPU 1.
The read is `getRoom(id) { id name }`, small enough that authentication is a visible share of each request. Lines, at
concurrency 32:

- user pool, the only mode: the server started with defaults (no issuer to tell apart);
- user pool / API key / OIDC: the same read with an access token of the built-in pool, an `x-api-key`, an access
  token of the external issuer, all against the server with the three modes enabled.

Then, in-process, the CPU time of the verification alone: `CredentialResolver.resolve_headers` called 20,000 times per
credential kind on the server's event loop (caches warm, as for a client sending the same credential again).

Verified tokens are cached by their text (signature checked once), an API key costs one HMAC and a dict lookup; what
differs per line is the mode decision (reading the JWT's `iss` when two JWT issuers are enabled) and the cache paths.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.http_mutations import WRK_SCRIPT, Line, free_port, process, wrk  # noqa: E402

PASSWORD = "Bench-Passw0rd!"
CONCURRENCY = 32
READ = "query GetRoom($id: ID!) { getRoom(id: $id) { id name } }"


def _server_env(data: Path, port: int, **extra: str) -> dict[str, str]:
    return {
        "CHATSERVER_DATA_DIR": str(data),
        "CHATSERVER_HOST": "127.0.0.1",
        "CHATSERVER_PORT": str(port),
        "CHATSERVER_AUTO_CONFIRM": "true",
        "CHATSERVER_LOG_LEVEL": "warning",
        **extra,
    }


def _tokens(url: str, username: str) -> dict[str, str]:
    user = {
        "username": username,
        "password": PASSWORD,
        "email": f"{username}@example.com",
        "givenName": "Bench",
        "familyName": "Mark",
    }
    httpx.post(f"{url}/auth/signup", json=user, timeout=30).raise_for_status()
    response = httpx.post(f"{url}/auth/signin", json={"username": username, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return response.json()


def _room(url: str, token: str) -> str:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": 'mutation { createRoom(input: {name: "bench"}) { id } }'},
        headers={"Authorization": token},
        timeout=30,
    )
    return response.json()["data"]["createRoom"]["id"]


def run(duration: int) -> tuple[list[Line], list[tuple[str, float]]]:
    lines: list[Line] = []
    costs: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-auth-") as scratch:
        work = Path(scratch)
        script = work / "read.lua"
        script.write_text(WRK_SCRIPT)

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "chatserver", "serve"]
        with process(command, _server_env(work / "plain", port), url, work / "plain.log") as pid:
            token = _tokens(url, "plain")["accessToken"]
            body = json.dumps({"query": READ, "variables": {"id": _room(url, token)}})
            wrk("warm-up", url, body, token, CONCURRENCY, 2, script, pid)  # discarded: caches, allocator
            lines.append(
                wrk("user pool, the only mode", url, body, token, CONCURRENCY, duration, script, pid)
            )

        issuer_port = free_port()
        issuer_url = f"http://127.0.0.1:{issuer_port}"
        issuer_env = _server_env(work / "issuer", issuer_port, CHATSERVER_CLIENT_ID="bench-external")
        with process(command, issuer_env, issuer_url, work / "issuer.log"):
            issuer = httpx.get(f"{issuer_url}/.well-known/openid-configuration", timeout=10).json()["issuer"]
            external = _tokens(issuer_url, "external")["accessToken"]
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            env = _server_env(
                work / "modes",
                port,
                CHATSERVER_ADDITIONAL_AUTH_MODES="API_KEY,OPENID_CONNECT",
                CHATSERVER_OIDC_ISSUER=issuer,
                CHATSERVER_OIDC_CLIENT_ID="bench-external",
            )
            with process(command, env, url, work / "modes.log") as pid:
                created = subprocess.run(
                    [sys.executable, "-m", "chatserver", "api-key", "create", "--description", "bench"],
                    env={**env},
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                )
                api_key = created.stdout.strip()
                token = _tokens(url, "local")["accessToken"]
                body = json.dumps({"query": READ, "variables": {"id": _room(url, token)}})
                wrk("warm-up", url, body, token, CONCURRENCY, 2, script, pid)  # discarded
                for name, credential in (
                    ("user pool (3 modes on)", token),
                    ("API key", api_key),
                    ("OIDC token", external),
                ):
                    lines.append(wrk(name, url, body, credential, CONCURRENCY, duration, script, pid))
            costs = micro(work, issuer_url, issuer, external)
    return lines, costs


MICRO_CALLS = 20_000


def micro(work: Path, issuer_url: str, issuer: str, external: str) -> list[tuple[str, float]]:
    """CPU microseconds per `CredentialResolver.resolve_headers` call (the whole verification a request pays), in-process
    on the server's own event loop, each credential already seen once (the steady state: caches warm)."""
    import time

    from tests.helpers import on_server_loop
    from tests.server import run_server

    results: list[tuple[str, float]] = []
    with run_server(
        work / "micro",
        auto_confirm=True,
        additional_auth_modes=("API_KEY", "OPENID_CONNECT"),
        oidc_issuer=issuer,
        oidc_client_id="bench-external",
    ) as server:
        services = server.app.state.services
        local = _tokens(server.url, "micro")["accessToken"]
        key = on_server_loop(server, services.api_keys.create()).key

        async def per_call(headers: dict[str, str]) -> float:
            await services.credentials.resolve_headers(headers)
            started = (
                time.thread_time()
            )  # CPU time of the loop thread: other work on the machine does not count
            for _ in range(MICRO_CALLS):
                await services.credentials.resolve_headers(headers)
            return (time.thread_time() - started) / MICRO_CALLS * 1e6

        for name, headers in (
            ("user pool token", {"authorization": local}),
            ("API key", {"x-api-key": key}),
            ("OIDC token", {"authorization": external}),
        ):
            results.append((name, on_server_loop(server, per_call(headers), timeout=120)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per line")
    args = parser.parse_args()
    lines, costs = run(args.duration)
    print(
        f"{'line':<28} {'conc':>4} {'req/s':>9} {'req/CPU-s':>10} {'p50 ms':>7} {'p99 ms':>7} {'bad':>5} "
        f"{'server':>7} {'wrk':>6}"
    )
    for line in lines:
        per_cpu = line.requests_per_s / line.server_cpu if line.server_cpu else 0.0
        print(
            f"{line.name:<28} {line.concurrency:>4} {line.requests_per_s:>9.0f} {per_cpu:>10.0f} "
            f"{line.p50_ms:>7.2f} {line.p99_ms:>7.2f} {line.bad:>5} {line.server_cpu:>6.0%} {line.client_cpu:>6.0%}"
        )
    print("(server and wrk: CPU share of one core each over the line; req/CPU-s = req/s / server share)")
    print(f"verification alone (CPU time), {MICRO_CALLS} calls each, warm caches:")
    for name, microseconds in costs:
        print(f"  {name:<18} {microseconds:6.1f} us per request")


if __name__ == "__main__":
    main()
