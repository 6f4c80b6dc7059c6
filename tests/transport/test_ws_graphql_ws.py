"""Legacy graphql-ws (subscriptions-transport-ws) end to end: gql's legacy transport and raw frames."""

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
    data = Path(tmp_path_factory.mktemp("legacy")) / "data"
    with run_server(data, auto_confirm=True) as running:
        yield running


@pytest.fixture(scope="module")
def alice(server: RunningServer) -> dict[str, str]:
    return live.sign_up(server, "alice")


async def test_ws_graphql_ws_gql_legacy_transport_seed_subscription(
    server: RunningServer, alice: dict[str, str]
) -> None:
    token = alice["accessToken"]
    room = await live.create_room(server, token, "legacy")
    transport = WebsocketsTransport(
        url=f"{server.ws_url}/graphql",
        init_payload={"authToken": token},
        subprotocols=[WebsocketsTransport.APOLLO_SUBPROTOCOL],
    )
    async with Client(transport=transport) as session:
        assert transport.subprotocol == "graphql-ws"
        received: list[dict] = []

        async def listen() -> None:
            async for result in session.subscribe(
                gql(seed.ON_CREATE_AUDIO_SEGMENT), variable_values={"roomId": room}
            ):
                received.append(result)
                return

        before = live.services(server).realtime.metrics.subscriptions
        listener = asyncio.create_task(listen())
        await live.wait_for_subscriptions(server, before + 1)
        sent = await session.execute(
            gql(seed.CREATE_AUDIO_SEGMENT),
            variable_values={"roomId": room, "data": "data:audio/wav;base64,AAAA"},
        )
        await asyncio.wait_for(listener, 10)
    assert received == [{"onCreateAudioSegment": sent["createAudioSegment"]}]


async def test_ws_graphql_ws_raw_frames(server: RunningServer, alice: dict[str, str]) -> None:
    token = alice["accessToken"]
    async with websockets.connect(f"{server.ws_url}/graphql", subprotocols=["graphql-ws"]) as ws:
        assert ws.subprotocol == "graphql-ws"
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": token}}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        assert json.loads(await ws.recv()) == {"type": "ka"}
        start = {"type": "start", "id": "1", "payload": {"query": seed.ON_CREATE_ROOM}}
        await ws.send(json.dumps(start))
        await live.create_room(server, token, "legacy-room")
        frame = json.loads(await ws.recv())
        assert frame["type"] == "data" and frame["id"] == "1"
        assert frame["payload"]["data"]["onCreateRoom"]["name"] == "legacy-room"
        await ws.send(json.dumps({"type": "stop", "id": "1"}))
        assert json.loads(await ws.recv()) == {"type": "complete", "id": "1"}
        bad = {"type": "start", "id": "2", "payload": {"query": "subscription { nope }"}}
        await ws.send(json.dumps(bad))
        frame = json.loads(await ws.recv())
        assert frame["type"] == "error" and frame["id"] == "2"
        await ws.send(json.dumps({"type": "mystery"}))
        assert json.loads(await ws.recv())["type"] == "error"
        await ws.send(json.dumps({"type": "connection_terminate"}))
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
        assert ws.close_code == 1000


async def test_ws_graphql_ws_bad_token_gets_connection_error(server: RunningServer) -> None:
    async with websockets.connect(f"{server.ws_url}/graphql", subprotocols=["graphql-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authToken": "x"}}))
        frame = json.loads(await ws.recv())
        assert frame["type"] == "connection_error"
        assert frame["payload"]["message"] == "Unable to parse JWT token."
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
        assert ws.close_code == 4401


async def test_ws_graphql_ws_stopped_mutation_still_commits_and_publishes(
    server: RunningServer, alice: dict[str, str]
) -> None:
    token = alice["accessToken"]
    async with websockets.connect(f"{server.ws_url}/graphql", subprotocols=["graphql-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": token}}))
        assert await live.recv_json(ws) == {"type": "connection_ack"}
        watch = {"type": "start", "id": "rooms", "payload": {"query": seed.ON_CREATE_ROOM}}
        create = {"query": seed.CREATE_ROOM, "variables": {"input": {"name": "stopped-legacy"}}}
        await ws.send(json.dumps(watch))
        await ws.send(json.dumps({"type": "start", "id": "m", "payload": create}))
        await ws.send(json.dumps({"type": "stop", "id": "m"}))
        frames = [await live.recv_json(ws), await live.recv_json(ws)]
        assert {"type": "complete", "id": "m"} in frames
        (published,) = [f for f in frames if f["id"] == "rooms"]
        assert published["payload"]["data"]["onCreateRoom"]["name"] == "stopped-legacy"
        await ws.send(json.dumps({"type": "connection_terminate"}))
        with pytest.raises(websockets.ConnectionClosed):
            await live.recv_json(ws)  # the stopped mutation's result never comes
        assert ws.close_code == 1000
