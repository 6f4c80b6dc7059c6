"""graphql-transport-ws end to end: gql's WebsocketsTransport, and raw frames for every close code."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from tests import helpers as seed
from tests.realtime import live
from tests.server import RunningServer, run_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = Path(tmp_path_factory.mktemp("gtws")) / "data"
    with run_server(data, auto_confirm=True, connection_init_timeout=1) as running:
        yield running


@pytest.fixture(scope="module")
def alice(server: RunningServer) -> dict[str, str]:
    return live.sign_up(server, "alice")


async def _connect(server: RunningServer, token: str | None = None) -> websockets.ClientConnection:
    ws = await websockets.connect(f"{server.ws_url}/graphql", subprotocols=["graphql-transport-ws"])
    assert ws.subprotocol == "graphql-transport-ws"
    if token is not None:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": token}}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
    return ws


async def _closed_with(ws: websockets.ClientConnection) -> int | None:
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    return ws.close_code


async def test_ws_graphql_transport_ws_gql_subscription_and_mutation(
    server: RunningServer, alice: dict[str, str]
) -> None:
    token = alice["accessToken"]
    room = await live.create_room(server, token, "gtws")
    transport = WebsocketsTransport(url=f"{server.ws_url}/graphql", init_payload={"Authorization": token})
    async with Client(transport=transport) as session:
        assert transport.subprotocol == "graphql-transport-ws"
        received: list[dict] = []

        async def listen() -> None:
            async for result in session.subscribe(
                gql(seed.ON_CREATE_MESSAGE_BY_ROOM_ID), variable_values={"roomId": room}
            ):
                received.append(result)
                return

        before = live.services(server).realtime.metrics.subscriptions
        listener = asyncio.create_task(listen())
        await live.wait_for_subscriptions(server, before + 1)
        # the mutation goes over the same socket
        created = await session.execute(
            gql(seed.CREATE_MESSAGE),
            variable_values={"input": {"roomId": room, "content": {"text": "over ws"}}},
        )
        await asyncio.wait_for(listener, 10)
        rooms = await session.execute(gql("query { listRooms { items { id } } }"))
    assert received == [{"onCreateMessageByRoomId": created["createMessage"]}]
    assert room in {item["id"] for item in rooms["listRooms"]["items"]}


@pytest.mark.parametrize("key", ["Authorization", "authorization", "authToken", "headers"])
async def test_ws_graphql_transport_ws_token_locations(
    server: RunningServer, alice: dict[str, str], key: str
) -> None:
    token = alice["idToken"]
    payload = {"headers": {"Authorization": token}} if key == "headers" else {key: token}
    async with websockets.connect(f"{server.ws_url}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await ws.recv()) == {"type": "pong"}


async def test_ws_graphql_transport_ws_bad_token_is_4403(server: RunningServer) -> None:
    ws = await _connect(server)
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": "nope"}}))
    assert await _closed_with(ws) == 4403


async def test_ws_graphql_transport_ws_subscribe_before_ack_is_4401(server: RunningServer) -> None:
    ws = await _connect(server)
    await ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": seed.ON_CREATE_ROOM}}))
    assert await _closed_with(ws) == 4401


async def test_ws_graphql_transport_ws_init_timeout_is_4408(server: RunningServer) -> None:
    ws = await _connect(server)  # this server allows 1 s for connection_init
    assert await _closed_with(ws) == 4408


async def test_ws_graphql_transport_ws_second_init_is_4429(
    server: RunningServer, alice: dict[str, str]
) -> None:
    ws = await _connect(server, alice["accessToken"])
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert await _closed_with(ws) == 4429


async def test_ws_graphql_transport_ws_duplicate_id_is_4409(
    server: RunningServer, alice: dict[str, str]
) -> None:
    ws = await _connect(server, alice["accessToken"])
    message = {"type": "subscribe", "id": "same", "payload": {"query": seed.ON_CREATE_ROOM}}
    await ws.send(json.dumps(message))
    await ws.send(json.dumps(message))
    assert await _closed_with(ws) == 4409


@pytest.mark.parametrize(
    "frame", ["{oops", b"\x00binary", json.dumps({"type": "whatever"}), json.dumps([1, 2])]
)
async def test_ws_graphql_transport_ws_invalid_message_is_4400(
    server: RunningServer, alice: dict[str, str], frame: str | bytes
) -> None:
    ws = await _connect(server, alice["accessToken"])
    await ws.send(frame)
    assert await _closed_with(ws) == 4400


async def test_ws_graphql_transport_ws_errors_and_complete(
    server: RunningServer, alice: dict[str, str]
) -> None:
    token = alice["accessToken"]
    ws = await _connect(server, token)
    try:
        bad = {"query": "subscription { onCreateRoom { nope } }"}
        await ws.send(json.dumps({"type": "subscribe", "id": "bad", "payload": bad}))
        frame = json.loads(await ws.recv())
        assert frame["type"] == "error" and frame["id"] == "bad"
        assert isinstance(frame["payload"], list) and "nope" in frame["payload"][0]["message"]
        good = {"query": seed.ON_CREATE_ROOM}
        await ws.send(json.dumps({"type": "subscribe", "id": "s", "payload": good}))
        await ws.send(json.dumps({"type": "subscribe", "id": "t", "payload": good}))
        await ws.send(json.dumps({"type": "complete", "id": "s"}))
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await ws.recv()) == {"type": "pong"}  # all four were handled in order
        await live.create_room(server, token, "once")
        frame = json.loads(await ws.recv())
        assert frame["id"] == "t" and frame["type"] == "next"
        assert frame["payload"]["data"]["onCreateRoom"]["name"] == "once"
    finally:
        await ws.close()


async def test_ws_graphql_transport_ws_signout_closes_with_4401(server: RunningServer) -> None:
    dave = live.sign_up(server, "dave")
    ws = await _connect(server, dave["accessToken"])
    import httpx

    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post("/auth/signout", headers={"Authorization": dave["accessToken"]})
        assert response.status_code == 200
    assert await _closed_with(ws) == 4401


async def _watch_rooms(server: RunningServer, token: str) -> websockets.ClientConnection:
    """A second connection subscribed to onCreateRoom: what every other client would see published."""
    watcher = await _connect(server, token)
    before = live.services(server).realtime.metrics.subscriptions
    subscribe = {"type": "subscribe", "id": "rooms", "payload": {"query": seed.ON_CREATE_ROOM}}
    await watcher.send(json.dumps(subscribe))
    await live.wait_for_subscriptions(server, before + 1)
    return watcher


async def _published_names(watcher: websockets.ClientConnection, count: int) -> set[str]:
    names = set()
    for _ in range(count):
        frame = json.loads(await asyncio.wait_for(watcher.recv(), 10))
        assert frame["id"] == "rooms" and frame["type"] == "next", frame
        names.add(frame["payload"]["data"]["onCreateRoom"]["name"])
    return names


def _create_room(op_id: str, name: str) -> str:
    payload = {"query": seed.CREATE_ROOM, "variables": {"input": {"name": name}}}
    return json.dumps({"type": "subscribe", "id": op_id, "payload": payload})


@pytest.mark.parametrize("how", ["complete", "close"])
async def test_ws_graphql_transport_ws_stopped_mutation_still_commits_and_publishes(
    server: RunningServer, alice: dict[str, str], how: str
) -> None:
    token = alice["accessToken"]
    watcher = await _watch_rooms(server, token)
    name = f"stopped-by-{how}"
    try:
        ws = await _connect(server, token)
        await ws.send(_create_room("m", name))
        if how == "complete":
            await ws.send(json.dumps({"type": "complete", "id": "m"}))
        else:
            await ws.close()
        assert await _published_names(watcher, 1) == {name}
        if how == "complete":  # the client stopped it: its result is not sent
            await ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "pong"}
            await ws.close()
    finally:
        await watcher.close()
    listed = await live.graphql(server, token, "query { listRooms { items { name } } }")
    assert name in {item["name"] for item in listed["data"]["listRooms"]["items"]}


async def test_ws_graphql_transport_ws_reused_id_gets_only_the_newer_result(
    server: RunningServer, alice: dict[str, str]
) -> None:
    token = alice["accessToken"]
    watcher = await _watch_rooms(server, token)
    ws = await _connect(server, token)
    try:
        await ws.send(_create_room("same", "first-of-same"))
        await ws.send(json.dumps({"type": "complete", "id": "same"}))
        await ws.send(_create_room("same", "second-of-same"))
        result = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert result["id"] == "same" and result["type"] == "next", result
        assert result["payload"]["data"]["createRoom"]["name"] == "second-of-same"
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"id": "same", "type": "complete"}
        assert await _published_names(watcher, 2) == {"first-of-same", "second-of-same"}
        # The stopped one finished too (it was published) and sent nothing; "same" can be stopped again.
        await ws.send(_create_room("same", "third-of-same"))
        await ws.send(json.dumps({"type": "complete", "id": "same"}))
        assert await _published_names(watcher, 1) == {"third-of-same"}
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "pong"}
    finally:
        await ws.close()
        await watcher.close()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (json.dumps({"type": "ü" * 100}), 4400),  # "unknown type" echoes the type: 200+ bytes of UTF-8
        (json.dumps({"type": "subscribe", "id": "€" * 60, "payload": {"query": seed.ON_CREATE_ROOM}}), 4409),
    ],
)
async def test_ws_graphql_transport_ws_long_close_reason_fits_the_close_frame(
    server: RunningServer, alice: dict[str, str], frame: str, code: int
) -> None:
    ws = await _connect(server, alice["accessToken"])
    await ws.send(frame)
    if code == 4409:
        await ws.send(frame)
    assert await _closed_with(ws) == code
    assert ws.close_reason is not None
    assert 0 < len(ws.close_reason.encode()) <= 123
