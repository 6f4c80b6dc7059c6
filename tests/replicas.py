"""Server replicas as real `chatserver serve` processes, and a private redis-server, for scale-out tests and bench."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.server import free_port

START_TIMEOUT = 60.0


class Replica:
    """One `chatserver serve` process; quacks like tests.server.RunningServer for the live helpers."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path
        self.launch: tuple[Path, Path, Mapping[str, str]] | None = None  # start_replica's arguments

    def another(self) -> Replica:
        """A new replica of the same deployment (data directory, database, broker), started and ready."""
        assert self.launch is not None, "not started by start_replica"
        replica = start_replica(*self.launch)
        try:
            replica.wait_ready()
        except BaseException:
            replica.stop()
            raise
        return replica

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"replica on {self.port} exited:\n{self.log()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"replica on {self.port} did not start:\n{self.log()[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=15)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start_replica(data_dir: Path, log_dir: Path, env: Mapping[str, str]) -> Replica:
    port = free_port()
    log_path = log_dir / f"replica-{port}.log"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CHATSERVER_")}
    environ.update(
        {
            "CHATSERVER_HOST": "127.0.0.1",
            "CHATSERVER_PORT": str(port),
            "CHATSERVER_DATA_DIR": str(data_dir),
            "CHATSERVER_AUTO_CONFIRM": "true",
            "CHATSERVER_LOG_LEVEL": "info",
            **env,
        }
    )
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "chatserver", "serve"],
            env=environ,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    replica = Replica(process, port, log_path)
    replica.launch = (data_dir, log_dir, dict(env))
    return replica


@contextmanager
def replicas(count: int, data_dir: Path, log_dir: Path, env: Mapping[str, str]) -> Iterator[list[Replica]]:
    """`count` replicas sharing one data directory (signing key, secrets, files), database and broker."""
    started = [start_replica(data_dir, log_dir, env) for _ in range(count)]
    try:
        for replica in started:
            replica.wait_ready()
        yield started
    finally:
        for replica in started:
            replica.stop()


class RedisServer:
    """A private redis-server on a loopback port, to stop and start again (the outage tests)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start redis-server on this port and wait until *it* answers: a port that some other process took
        meanwhile would otherwise look like a running Redis that `kill` cannot stop."""
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start (is port {self.port} taken?)")
            if _accepts(self.port):
                if self.process.poll() is None:
                    return
                raise RuntimeError(f"port {self.port} answers, but not our redis-server")
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        """Kill it and wait until its port refuses connections."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=15)
        self.process = None
        deadline = time.monotonic() + 10
        while _accepts(self.port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"port {self.port} still answers after redis-server was killed")
            time.sleep(0.05)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
