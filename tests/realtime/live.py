"""Helpers for end-to-end WebSocket tests against a real server (tests/server.py)."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import websockets

from tests.server import RunningServer

PASSWORD = "Sup3r-secret!"

# The seed apps' documents, verbatim from shared/SEED_CLIENTS.md, live in tests/helpers.py.
from tests.helpers import CREATE_ROOM  # noqa: E402


def sign_up(server: RunningServer, username: str) -> dict[str, str]:
    """Create a confirmed user (the test server auto-confirms) and return its tokens."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        response = client.post(
            "/auth/signup",
            json={
                "username": username,
                "password": PASSWORD,
                "email": f"{username}@example.com",
                "givenName": username.title(),
                "familyName": "Tester",
            },
        )
        assert response.status_code == 200, response.text
        response = client.post("/auth/signin", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return response.json()


async def graphql(
    server: RunningServer, token: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": token},
        )
    assert response.status_code == 200, response.text
    return response.json()


async def create_room(server: RunningServer, token: str, name: str = "lobby") -> str:
    result = await graphql(server, token, CREATE_ROOM, {"input": {"name": name}})
    assert not result.get("errors"), result
    return result["data"]["createRoom"]["id"]


def header_b64(token: str, host: str, *, urlsafe: bool = False, padded: bool = True) -> str:
    raw = json.dumps({"Authorization": token, "host": host}).encode()
    text = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(raw).decode()
    return text if padded else text.rstrip("=")


def host_of(server: RunningServer) -> str:
    return server.url.split("://", 1)[1]


async def recv_json(ws: websockets.ClientConnection, wait: float = 10) -> dict[str, Any]:
    """Next frame that is not a keep-alive."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), wait))
        if frame.get("type") != "ka":
            return frame


async def appsync_connect(server: RunningServer, token: str, **kwargs: Any) -> websockets.ClientConnection:
    """The Amplify v4 handshake: standard base64 header in the query string, not URL-encoded."""
    url = f"{server.ws_url}/graphql/realtime?header={header_b64(token, host_of(server))}&payload=e30="
    ws = await websockets.connect(url, subprotocols=["graphql-ws"], **kwargs)
    await ws.send(json.dumps({"type": "connection_init"}))
    ack = await recv_json(ws)
    assert ack["type"] == "connection_ack", ack
    return ws


async def appsync_start(
    ws: websockets.ClientConnection,
    sub_id: str,
    query: str,
    variables: dict[str, Any] | None,
    authorization: dict[str, Any],
) -> dict[str, Any]:
    await ws.send(
        json.dumps(
            {
                "id": sub_id,
                "type": "start",
                "payload": {
                    "data": json.dumps({"query": query, "variables": variables or {}}),
                    "extensions": {"authorization": authorization},
                },
            }
        )
    )
    return await recv_json(ws)


def run_on_server_loop(server: RunningServer, coro: Any, timeout: float = 30) -> Any:
    """Run a coroutine on the server's event loop (its engine lives there) and return the result."""
    loop = server.app.state.services.realtime.loop
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)


def services(server: RunningServer) -> Any:
    return server.app.state.services


async def wait_for_subscriptions(server: RunningServer, count: int) -> None:
    """Until the server's engine holds at least `count` subscriptions (a gql subscribe has no ack hook)."""
    metrics = services(server).realtime.metrics
    for _ in range(1000):
        if metrics.subscriptions >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{metrics.subscriptions} subscriptions, expected {count}")
