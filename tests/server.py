"""A real chatserver on a loopback port, in a background thread with its own event loop."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from chatserver.app import create_app
from chatserver.config import Settings
from chatserver.transport.ws_frames import FramingWebSocketProtocol
from tests.databases import fresh_database_url

TEST_BROKER_ENV = "CHATSERVER_TEST_BROKER_URL"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningServer:
    def __init__(self, settings: Settings, server: uvicorn.Server) -> None:
        self.settings = settings
        self._server = server

    @property
    def url(self) -> str:
        return self.settings.resolved_public_url

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1)

    @property
    def app(self):  # the Starlette app, for reaching services in tests
        return self._server.config.app


@contextmanager
def run_server(data_dir: Path, **overrides: object) -> Iterator[RunningServer]:
    """Start the real server on 127.0.0.1:<free port> and stop it afterwards.

    Without a `database_url` override the server gets a fresh database of its own: a SQLite file in `data_dir`,
    or a new PostgreSQL database when CHATSERVER_TEST_DATABASE_URL is set (see tests/databases.py). Without a
    `broker_url` override it uses the in-memory broker, or Redis with a prefix of its own when
    CHATSERVER_TEST_BROKER_URL is set.
    """
    if "database_url" in overrides:
        with _serve(data_dir, overrides) as running:
            yield running
        return
    with (
        fresh_database_url() as database_url,
        _serve(data_dir, {**overrides, "database_url": database_url}) as running,
    ):
        yield running


@contextmanager
def _serve(data_dir: Path, overrides: dict[str, object]) -> Iterator[RunningServer]:
    port = free_port()
    broker = os.environ.get(TEST_BROKER_ENV, "").strip()
    if broker and "broker_url" not in overrides:  # the whole suite on Redis: one switch, a prefix per server
        overrides = {
            **overrides,
            "broker_url": broker,
            "broker_prefix": f"chatserver-test:{uuid.uuid4().hex}",
        }
    settings = Settings(data_dir=data_dir, port=port, host="127.0.0.1", **overrides)  # type: ignore[arg-type]
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        ws=FramingWebSocketProtocol,
        ws_per_message_deflate=False,
        ws_max_size=settings.max_body_bytes,
        ssl_certfile=settings.tls_certfile or None,
        ssl_keyfile=settings.tls_keyfile or None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"chatserver-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield RunningServer(settings, server)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
