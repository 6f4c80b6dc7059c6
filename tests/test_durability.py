"""`kill -9` during a createMessage load: every acknowledged message is there after a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.helpers import CREATE_MESSAGE, HTTP, signin, signup
from tests.server import free_port

WORKERS = 8
KILL_AFTER_ACKS = 300  # the server is killed once this many mutations were acknowledged
MAX_REQUESTS_PER_WORKER = 2000  # bound on the load if the kill never comes
PAGE = """
query Page($roomId: ID!, $nextToken: String) {
  listMessagesForRoom(roomId: $roomId, limit: 1000, nextToken: $nextToken) { items { id content { text } } nextToken }
}
"""


@contextmanager
def server_process(data_dir: Path, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`python -m chatserver serve` on a free loopback port; killed (not stopped) if still running at exit."""
    port = free_port()
    env = {
        **os.environ,
        "CHATSERVER_DATA_DIR": str(data_dir),
        "CHATSERVER_HOST": "127.0.0.1",
        "CHATSERVER_PORT": str(port),
        "CHATSERVER_AUTO_CONFIRM": "true",
        "CHATSERVER_LOG_LEVEL": "warning",
    }
    env.pop("CHATSERVER_DATABASE_URL", None)
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "chatserver", "serve"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, url, log)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(f"{url}/graphql", headers={"Accept": "text/html"}, **HTTP)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"server did not start:\n{log.read_text()}")


class Load:
    """WORKERS threads sending createMessage one after another, remembering what was acknowledged."""

    def __init__(self, url: str, token: str, room_id: str) -> None:
        self._url, self._token, self._room_id = url, token, room_id
        self.acknowledged: dict[str, str] = {}  # message id -> text
        self.enough = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._work, args=(n,)) for n in range(WORKERS)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=60)

    def _work(self, worker: int) -> None:
        headers = {"Authorization": self._token}
        with httpx.Client(**HTTP) as client:  # type: ignore[arg-type]
            for n in range(MAX_REQUESTS_PER_WORKER):
                text = f"worker {worker} message {n}"
                variables = {"input": {"roomId": self._room_id, "content": {"text": text}}}
                try:
                    response = client.post(
                        f"{self._url}/graphql",
                        json={"query": CREATE_MESSAGE, "variables": variables},
                        headers=headers,
                    )
                except httpx.TransportError:
                    return  # the server is gone: this request was never acknowledged
                if response.status_code != 200:
                    return
                message = response.json()["data"]["createMessage"]
                with self._lock:
                    self.acknowledged[message["id"]] = text
                    if len(self.acknowledged) >= KILL_AFTER_ACKS:
                        self.enough.set()


def _all_messages(url: str, token: str, room_id: str) -> dict[str, str]:
    found: dict[str, str] = {}
    next_token = None
    while True:
        body = httpx.post(
            f"{url}/graphql",
            json={"query": PAGE, "variables": {"roomId": room_id, "nextToken": next_token}},
            headers={"Authorization": token},
            **HTTP,
        ).json()
        page = body["data"]["listMessagesForRoom"]
        found.update({m["id"]: m["content"]["text"] for m in page["items"]})
        next_token = page["nextToken"]
        if next_token is None:
            return found


def test_acknowledged_messages_survive_sigkill(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "server.log"
    with server_process(data_dir, log) as (process, url):
        assert signup(url, "writer").status_code == 200
        token = signin(url, "writer").access_token
        room = httpx.post(
            f"{url}/graphql",
            json={"query": 'mutation { createRoom(input: {name: "durable"}) { id } }'},
            headers={"Authorization": token},
            **HTTP,
        ).json()
        room_id = room["data"]["createRoom"]["id"]
        load = Load(url, token, room_id)
        load.start()
        load.enough.wait(timeout=120)
        os.kill(process.pid, signal.SIGKILL)
        load.join()
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL
    acknowledged = dict(load.acknowledged)
    assert len(acknowledged) >= KILL_AFTER_ACKS

    with server_process(data_dir, log) as (_, url):
        token = signin(url, "writer").access_token  # the account, too, survived
        stored = _all_messages(url, token, room_id)
    missing = {mid: text for mid, text in acknowledged.items() if stored.get(mid) != text}
    assert not missing, f"{len(missing)} acknowledged messages lost, e.g. {list(missing.items())[:3]}"
