"""Scale-out end to end: three `chatserver serve` processes sharing one PostgreSQL database, one Redis and one data
directory (signing key, URL and code secrets, files), as `docker compose --profile scale` runs them behind nginx;
and the Redis outage: mutations still commit, /readyz says the broker is down, delivery resumes by itself."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from chatserver.transport.mqtt.packets import ConnAck, ConnectCode, Publish, SubAck
from tests import helpers as seed
from tests.cognito.clients import Endpoint, SrpClient
from tests.databases import fresh_database_url, on_postgresql
from tests.realtime import live
from tests.realtime.brokers import redis_url, unique_prefix
from tests.replicas import RedisServer, Replica, replicas
from tests.server import run_server
from tests.transport.mqtt_clients import RawMqtt, handshake

PUBLIC_URL = "http://localhost:8000"  # what the load balancer serves: every replica issues tokens for it

needs_cluster = pytest.mark.skipif(
    not (on_postgresql() and redis_url()),
    reason="set CHATSERVER_TEST_DATABASE_URL and CHATSERVER_TEST_REDIS_URL to run the multi-replica tests",
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Replica]]:
    root = Path(tmp_path_factory.mktemp("cluster"))
    with fresh_database_url() as database_url:
        env = {
            "CHATSERVER_DATABASE_URL": database_url,
            "CHATSERVER_BROKER_URL": redis_url(),
            "CHATSERVER_BROKER_PREFIX": unique_prefix(),
            "CHATSERVER_PUBLIC_URL": PUBLIC_URL,
        }
        with replicas(3, root / "data", root, env) as started:
            yield started


def _signup(replica: Replica, username: str) -> None:
    body = {
        "username": username,
        "password": live.PASSWORD,
        "email": f"{username}@example.com",
        "givenName": username.title(),
        "familyName": "Replica",
    }
    response = httpx.post(f"{replica.url}/auth/signup", json=body, timeout=30)
    assert response.status_code == 200, response.text


def _signin(replica: Replica, username: str) -> dict[str, str]:
    body = {"username": username, "password": live.PASSWORD}
    response = httpx.post(f"{replica.url}/auth/signin", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _gauge(replica: Replica, name: str) -> float:
    text = httpx.get(f"{replica.url}/metrics", timeout=10).text
    match = re.search(rf"^{name} (\S+)$", text, re.M)
    assert match, name
    return float(match.group(1))


async def _until_subscriptions(replica: Replica, count: int) -> None:
    for _ in range(500):
        if await asyncio.to_thread(_gauge, replica, "chatserver_live_subscriptions") >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{replica.url} never had {count} subscriptions")


async def _subscribe_all_protocols(replica: Replica, token: str, room: str) -> list[Any]:
    """One socket per protocol on `replica`, each subscribed to the room's new messages."""
    variables = {"roomId": room}
    appsync = await live.appsync_connect(replica, token)
    ack = await live.appsync_start(
        appsync,
        "a",
        seed.ON_CREATE_MESSAGE_BY_ROOM_ID,
        variables,
        {"Authorization": token, "host": live.host_of(replica)},
    )
    assert ack["type"] == "start_ack", ack
    transport_ws = await websockets.connect(
        f"{replica.ws_url}/graphql", subprotocols=["graphql-transport-ws"]
    )
    await transport_ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": token}}))
    assert json.loads(await transport_ws.recv())["type"] == "connection_ack"
    start = {"query": seed.ON_CREATE_MESSAGE_BY_ROOM_ID, "variables": variables}
    await transport_ws.send(json.dumps({"type": "subscribe", "id": "t", "payload": start}))
    legacy = await websockets.connect(f"{replica.ws_url}/graphql", subprotocols=["graphql-ws"])
    await legacy.send(json.dumps({"type": "connection_init", "payload": {"Authorization": token}}))
    assert json.loads(await legacy.recv())["type"] == "connection_ack"
    await legacy.send(json.dumps({"type": "start", "id": "l", "payload": start}))
    return [appsync, transport_ws, legacy]


async def _next_message(ws: Any) -> dict[str, Any]:
    frame = await live.recv_json(ws, wait=15)
    assert frame["type"] in {"data", "next"}, frame
    return frame["payload"]["data"]["onCreateMessageByRoomId"]


async def _send_message(replica: Replica, token: str, room: str, text: str) -> dict[str, Any]:
    variables = {"input": {"roomId": room, "content": {"text": text}}}
    result = await live.graphql(replica, token, seed.CREATE_MESSAGE, variables)
    assert not result.get("errors"), result
    return result["data"]["createMessage"]


@needs_cluster
async def test_cluster_subscriber_on_one_replica_receives_writes_through_another(
    cluster: list[Replica],
) -> None:
    a, b, c = cluster
    _signup(a, "carol")
    token = _signin(c, "carol")["accessToken"]  # signed up on A, signed in on C
    room = await live.create_room(b, token, "cluster")
    sockets = await _subscribe_all_protocols(a, token, room)
    try:
        await _until_subscriptions(a, 3)
        sent = await _send_message(b, token, room, "written through B")
        for ws in sockets:
            assert await _next_message(ws) == sent
        sent = await _send_message(c, token, room, "and through C")
        for ws in sockets:
            assert await _next_message(ws) == sent
        assert await asyncio.to_thread(_gauge, a, "chatserver_deliveries_total") >= 6
        assert await asyncio.to_thread(_gauge, a, "chatserver_publish_to_send_seconds_count") >= 2
    finally:
        for ws in sockets:
            await ws.close()


@needs_cluster
async def test_cluster_global_signout_reaches_every_replica(cluster: list[Replica]) -> None:
    a, b, c = cluster
    _signup(b, "dora")
    token = _signin(a, "dora")["accessToken"]
    ws = await live.appsync_connect(a, token)
    try:
        response = await asyncio.to_thread(
            httpx.post, f"{b.url}/auth/signout", headers={"Authorization": token}, json={}, timeout=30
        )
        assert response.status_code == 200, response.text
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await live.recv_json(ws, wait=15)
        assert ws.close_code == 4401
        refused = await asyncio.to_thread(
            httpx.post, f"{c.url}/graphql", json={"query": "{ __typename }"}, headers={"Authorization": token}
        )
        assert refused.status_code == 401
    finally:
        await ws.close()


@needs_cluster
def test_cluster_srp_handshake_begun_on_one_replica_finishes_on_another_once(cluster: list[Replica]) -> None:
    a, b, c = cluster
    _signup(a, "sam")
    client = SrpClient(Endpoint(b.url), "sam", live.PASSWORD)
    challenge = client.challenge()  # InitiateAuth on B
    responses = client.answer(challenge)
    finished = SrpClient(Endpoint(c.url), "sam", live.PASSWORD).respond(responses)  # answered on C
    assert finished.status_code == 200, finished.text
    token = finished.json()["AuthenticationResult"]["AccessToken"]
    query = {"query": "{ me { username } }"}
    me = httpx.post(f"{a.url}/graphql", json=query, headers={"Authorization": token}, timeout=30)
    assert me.json()["data"]["me"]["username"] == "sam"
    for replica in (a, b, c):  # the claim was used: refused on every replica, the one that took it included
        replayed = SrpClient(Endpoint(replica.url), "sam", live.PASSWORD).respond(responses)
        assert (replayed.status_code, replayed.json()["__type"]) == (400, "NotAuthorizedException")
        assert "already used" in replayed.json()["message"]


@needs_cluster
async def test_cluster_mqtt_subscriber_on_one_replica_receives_writes_through_another(
    cluster: list[Replica],
) -> None:
    """aws-appsync 1.x behind the load balancer: the handshake on C, MQTT on A, the clip written through B, and a
    sign-out on B that closes the MQTT connection on A and voids the URL everywhere."""
    a, b, c = cluster
    _signup(c, "mia")
    tokens = _signin(b, "mia")
    room = await live.create_room(b, tokens["accessToken"], "mqtt-cluster")
    connection = await asyncio.to_thread(handshake, seed.GraphQL(c.url, tokens["idToken"]), room)
    assert connection.url.startswith("ws://localhost:8000/mqtt?token=")  # the public address, any replica
    subscriptions = await asyncio.to_thread(_gauge, a, "chatserver_live_subscriptions")
    client = await RawMqtt.open(connection.ws_url_on(a.ws_url))
    try:
        assert await client.connect(connection.client) == ConnAck(ConnectCode.ACCEPTED)
        assert await client.subscribe(*connection.topics) == SubAck(1, (0,))
        await _until_subscriptions(a, int(subscriptions) + 1)
        variables = {"roomId": room, "data": "data:audio/wav;base64,UklGRg=="}
        writer = seed.GraphQL(b.url, tokens["idToken"])
        created = await asyncio.to_thread(writer.data, seed.CREATE_AUDIO_SEGMENT, variables)
        publish = await client.receive()
        assert isinstance(publish, Publish)
        assert json.loads(publish.payload) == {
            "data": {"onCreateAudioSegment": created["createAudioSegment"]}
        }

        headers = {"Authorization": tokens["accessToken"]}
        response = await asyncio.to_thread(
            httpx.post, f"{b.url}/auth/signout", headers=headers, json={}, timeout=30
        )
        assert response.status_code == 200, response.text
        assert await client.closed() == 4401
        again = await RawMqtt.open(connection.ws_url_on(c.ws_url))
        try:
            assert await again.connect(connection.client) == ConnAck(ConnectCode.NOT_AUTHORIZED)
        finally:
            await again.close()
    finally:
        await client.close()


@needs_cluster
async def test_cluster_killing_one_replica_leaves_the_others_serving(cluster: list[Replica]) -> None:
    a, _, c = cluster
    # The victim is a fourth replica of the deployment: the module's three stay up for the other tests.
    b = await asyncio.to_thread(a.another)
    _signup(a, "erin")
    token = _signin(a, "erin")["accessToken"]
    room = await live.create_room(a, token, "survivors")
    ws = await live.appsync_connect(a, token)
    try:
        ack = await live.appsync_start(
            ws,
            "1",
            seed.ON_CREATE_MESSAGE_BY_ROOM_ID,
            {"roomId": room},
            {"Authorization": token, "host": "x"},
        )
        assert ack["type"] == "start_ack", ack
        through_b = await _send_message(b, token, room, "B is one of us")
        assert await _next_message(ws) == through_b
        b.kill()
        sent = await _send_message(c, token, room, "B is gone")
        assert await _next_message(ws) == sent
        ready = await asyncio.to_thread(httpx.get, f"{a.url}/readyz", timeout=10)
        assert ready.status_code == 200
    finally:
        await ws.close()
        b.stop()


@pytest.mark.skipif(not RedisServer.available(), reason="redis-server is not installed")
async def test_redis_outage_mutations_commit_readyz_reports_and_delivery_resumes(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        with run_server(
            tmp_path / "data", auto_confirm=True, broker_url=redis.url, broker_prefix=unique_prefix()
        ) as server:
            token = live.sign_up(server, "olga")["accessToken"]
            room = await live.create_room(server, token, "outage")
            ws = await live.appsync_connect(server, token)
            auth = {"Authorization": token, "host": live.host_of(server)}
            ack = await live.appsync_start(ws, "1", seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": room}, auth)
            assert ack["type"] == "start_ack", ack
            before = await _send_message(server, token, room, "before")
            assert await _next_message(ws) == before

            redis.kill()
            ready = await _readyz_until(server.url, 503)
            assert ready["down"] == ["broker"] and ready["checks"]["database"] == "ok"
            during = await _send_message(server, token, room, "while Redis is down")  # commits and answers
            listed = await live.graphql(
                server,
                token,
                "query($r: ID!) { listMessagesForRoom(roomId: $r) { items { id } } }",
                {"r": room},
            )
            assert during["id"] in {m["id"] for m in listed["data"]["listMessagesForRoom"]["items"]}

            redis.start()  # same port: the broker reconnects by itself
            await _readyz_until(server.url, 200)
            after = await _send_message(server, token, room, "after")
            assert await _next_message(ws) == after
            await ws.close()
    finally:
        redis.kill()


async def _readyz_until(url: str, status: int) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        while True:
            response = await client.get("/readyz")
            if response.status_code == status:
                return response.json()
            assert time.monotonic() < deadline, f"/readyz never answered {status}: {response.text}"
            await asyncio.sleep(0.1)
