"""Credentials end, subscriptions end: a socket whose token expires is closed (README, Real-time: 4401) on every
protocol, by the engine's one expiry sweep; the client reconnects with a fresh token and carries on."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests import helpers as seed
from tests.helpers import signin
from tests.realtime import live
from tests.realtime.protocols import PROTOCOLS, LiveSocket
from tests.server import RunningServer, run_server

TOKEN_TTL = 6  # seconds: long enough to connect and subscribe on a busy machine, short enough to wait for
CLOSE_WAIT = TOKEN_TTL + 20  # the bound on waiting for the close (documented: within ~2 s of `exp`)

CLOSE_REASONS = {
    "appsync": "UnauthorizedException: Token has expired.",
    "graphql-transport-ws": "Unauthorized: token expired",
    "graphql-ws": "Unauthorized: token expired",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = Path(tmp_path_factory.mktemp("expiry")) / "data"
    with run_server(data, auto_confirm=True, access_token_ttl=TOKEN_TTL, id_token_ttl=TOKEN_TTL) as running:
        yield running


def _expires_at(token: str) -> int:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["exp"]


async def _frames_until_closed(socket: LiveSocket) -> list[dict[str, Any]]:
    frames = []
    with pytest.raises(websockets.ConnectionClosed):
        async with asyncio.timeout(CLOSE_WAIT):
            while True:
                frames.append(json.loads(await socket.ws.recv()))
    return [f for f in frames if f.get("type") != "ka"]


@pytest.mark.parametrize("kind", PROTOCOLS)
async def test_ws_expired_token_closes_the_socket_and_a_fresh_token_resumes(
    server: RunningServer, kind: str
) -> None:
    username = f"expiring-{kind}"
    token = (await asyncio.to_thread(live.sign_up, server, username))["accessToken"]
    room = await live.create_room(server, token, f"expiry {kind}")
    socket = await LiveSocket.connect(kind, server, token)
    assert await socket.start("1", seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": room}) is None

    frames = await _frames_until_closed(socket)
    assert time.time() >= _expires_at(token)  # never before its time
    assert socket.ws.close_code == 4401
    assert socket.ws.close_reason == CLOSE_REASONS[kind]
    if kind == "appsync":
        assert frames[-1] == {
            "type": "connection_error",
            "payload": {
                "errors": [
                    {"errorType": "UnauthorizedException", "message": "Token has expired.", "errorCode": 401}
                ]
            },
        }
    elif kind == "graphql-ws":
        assert frames[-1] == {"type": "connection_error", "payload": {"message": "Token has expired."}}
    else:
        assert frames == []

    fresh = (await asyncio.to_thread(signin, server.url, username, live.PASSWORD)).access_token
    again = await LiveSocket.connect(kind, server, fresh)
    try:
        assert await again.start("1", seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": room}) is None
        variables = {"input": {"roomId": room, "content": {"text": "back again"}}}
        sent = await live.graphql(server, fresh, seed.CREATE_MESSAGE, variables)
        assert await again.next_data("onCreateMessageByRoomId") == sent["data"]["createMessage"]
    finally:
        await again.close()


async def test_ws_expired_token_cannot_connect(server: RunningServer) -> None:
    """Once past `exp`, the same token is refused at connection_init (the sweep is not the only guard)."""
    token = (await asyncio.to_thread(live.sign_up, server, "late-comer"))["accessToken"]
    socket = await LiveSocket.connect("graphql-transport-ws", server, token)
    await _frames_until_closed(socket)  # closed by the sweep once expired
    ws = await websockets.connect(f"{server.ws_url}/graphql", subprotocols=["graphql-transport-ws"])
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": token}}))
    with pytest.raises(websockets.ConnectionClosed):
        await live.recv_json(ws)
    assert ws.close_code == 4403 and "Token has expired" in ws.close_reason
