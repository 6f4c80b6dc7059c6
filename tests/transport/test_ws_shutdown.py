"""Graceful shutdown: every WebSocket is closed with 1001 after its queued frames are sent."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import uvicorn
import websockets

from chatserver.app import create_app
from chatserver.config import Settings
from chatserver.transport.websocket import draining_server_class
from tests.realtime import live
from tests.server import RunningServer, free_port


async def test_ws_shutdown_closes_sockets_with_1001(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", port=port, auto_confirm=True)
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        ws_per_message_deflate=False,
    )
    server = draining_server_class()(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive()
        await asyncio.sleep(0.01)
    running = RunningServer(settings, server)
    try:
        tokens = await asyncio.to_thread(live.sign_up, running, "alice")
        appsync = await live.appsync_connect(running, tokens["accessToken"])
        gtws = await websockets.connect(f"{running.ws_url}/graphql", subprotocols=["graphql-transport-ws"])
        await gtws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": tokens["accessToken"]}})
        )
        assert json.loads(await gtws.recv()) == {"type": "connection_ack"}
        server.should_exit = True
        for ws in (appsync, gtws):
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 15)
            except websockets.ConnectionClosed:
                pass
            assert ws.close_code == 1001
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 15)


async def test_ws_max_connection_age_closes_with_1001_after_keepalives(tmp_path: Path) -> None:
    from tests.server import run_server

    with run_server(tmp_path / "data", auto_confirm=True, max_connection_age=2, ka_interval=1) as running:
        tokens = await asyncio.to_thread(live.sign_up, running, "alice")
        ws = await live.appsync_connect(running, tokens["accessToken"])
        frames = []
        try:
            while True:
                frames.append(json.loads(await asyncio.wait_for(ws.recv(), 15)))
        except websockets.ConnectionClosed:
            pass
        assert ws.close_code == 1001
        assert frames and all(frame == {"type": "ka"} for frame in frames)
