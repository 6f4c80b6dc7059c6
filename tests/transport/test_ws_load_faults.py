"""Slow consumers and floods: the offender is dropped or refused, everyone else is unaffected."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from tests import helpers as seed
from tests.realtime import live
from tests.server import RunningServer, run_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = Path(tmp_path_factory.mktemp("faults")) / "data"
    with run_server(data, auto_confirm=True, max_outgoing_bytes=512 * 1024) as running:
        yield running


@pytest.fixture(scope="module")
def alice(server: RunningServer) -> dict[str, str]:
    return live.sign_up(server, "alice")


async def test_ws_slow_consumer_is_disconnected_while_others_keep_receiving(
    server: RunningServer, alice: dict[str, str]
) -> None:
    token = alice["accessToken"]
    auth = {"Authorization": token, "host": live.host_of(server)}
    room = await live.create_room(server, token, "slow")
    engine = live.services(server).realtime
    fast = await live.appsync_connect(server, token, max_size=None)
    slow = await live.appsync_connect(server, token, max_size=None, max_queue=1)
    try:
        for ws, sub_id in ((fast, "fast"), (slow, "slow")):
            ack = await live.appsync_start(ws, sub_id, seed.ON_CREATE_AUDIO_SEGMENT, {"roomId": room}, auth)
            assert ack["type"] == "start_ack"
        clip = "A" * 200_000
        received = 0
        for n in range(400):
            payload = {"roomId": room, "data": f"{n}:{clip}", "timestamp": str(n), "userId": "u"}
            live.run_on_server_loop(server, engine.publish("createAudioSegment", payload))
            frame = await live.recv_json(fast)  # the fast reader keeps up, frame by frame
            assert frame["payload"]["data"]["onCreateAudioSegment"]["timestamp"] == str(n)
            received += 1
            if engine.metrics.slow_consumer_disconnects:
                break
        assert engine.metrics.slow_consumer_disconnects == 1
        # the fast subscriber is still served
        payload = {"roomId": room, "data": "after", "timestamp": "last", "userId": "u"}
        live.run_on_server_loop(server, engine.publish("createAudioSegment", payload))
        frame = await live.recv_json(fast)
        assert frame["payload"]["data"]["onCreateAudioSegment"]["data"] == "after"
        # the slow one, reading again, finds its connection closed after what was already in flight
        with pytest.raises(websockets.ConnectionClosed):
            for _ in range(received + 2):
                await asyncio.wait_for(slow.recv(), 15)
    finally:
        await fast.close()
        await slow.close()


async def test_ws_start_flood_is_rate_limited_and_others_unaffected(
    server: RunningServer, alice: dict[str, str]
) -> None:
    token = alice["accessToken"]
    auth = {"Authorization": token, "host": live.host_of(server)}
    other = await live.appsync_connect(server, token)
    flooder = await live.appsync_connect(server, token)
    try:
        ack = await live.appsync_start(other, "o", seed.ON_CREATE_ROOM, None, auth)
        assert ack["type"] == "start_ack"
        data = json.dumps({"query": seed.ON_CREATE_ROOM, "variables": {}})
        for n in range(300):
            start = {
                "id": str(n),
                "type": "start",
                "payload": {"data": data, "extensions": {"authorization": auth}},
            }
            await flooder.send(json.dumps(start))
            await flooder.send(json.dumps({"type": "stop", "id": str(n)}))
        limited = 0
        for _ in range(600):
            frame = await live.recv_json(flooder)
            if frame["type"] == "error":
                assert frame == {
                    "type": "error",
                    "payload": {
                        "errors": [{"errorType": "LimitExceededError", "message": "Rate limit exceeded"}]
                    },
                }
                limited += 1
        assert limited > 0
        await live.create_room(server, token, "still-fine")
        frame = await live.recv_json(other)
        assert frame["id"] == "o" and frame["payload"]["data"]["onCreateRoom"]["name"] == "still-fine"
    finally:
        await other.close()
        await flooder.close()


@pytest.mark.parametrize(
    "frame",
    [
        "[" * 100_000 + "]" * 100_000,  # deeper than the JSON decoder can recurse
        '{"id":"1","type":"subscribe","payload":{"query":"mutation { createRoom(input: {name: \\"x\\"}) '
        '{ id } }","variables":{"v":"\\ud800"}}}',  # an unpaired surrogate
    ],
    ids=["deep-nesting", "lone-surrogate"],
)
async def test_ws_hostile_json_is_refused_with_4400_and_others_unaffected(
    server: RunningServer, alice: dict[str, str], frame: str
) -> None:
    url = server.ws_url + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as bystander:
        await bystander.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": alice["accessToken"]}})
        )
        assert json.loads(await bystander.recv())["type"] == "connection_ack"
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as hostile:
            await hostile.send(
                json.dumps({"type": "connection_init", "payload": {"Authorization": alice["accessToken"]}})
            )
            assert json.loads(await hostile.recv())["type"] == "connection_ack"
            await hostile.send(frame)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(hostile.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
        await bystander.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(bystander.recv(), 10))["type"] == "pong"
