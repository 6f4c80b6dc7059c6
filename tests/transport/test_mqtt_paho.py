"""paho-mqtt (websockets transport) against /mqtt: delivery, and every way a connection is refused or ended."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest

from tests.helpers import (
    CREATE_AUDIO_SEGMENT,
    HTTP,
    Account,
    GraphQL,
    create_room_on_server,
    server_with_accounts,
)
from tests.realtime import live
from tests.server import RunningServer
from tests.transport.mqtt_clients import MqttConnection, Paho, RawMqtt, handshake

GRANTED = "Granted QoS 0"
REFUSED = "Unspecified error"  # paho's name for the SUBACK failure code 0x80

Walkie = tuple[RunningServer, dict[str, Account]]


@pytest.fixture(scope="module")
def walkie(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walkie]:
    data = tmp_path_factory.mktemp("mqtt-paho") / "data"
    with server_with_accounts(data, "alice", "bob", "carol", max_outgoing_bytes=512 * 1024) as (
        server,
        accounts,
    ):
        yield server, {a.username: a for a in accounts}


@pytest.fixture
def clients() -> Iterator[list[Paho]]:
    started: list[Paho] = []
    yield started
    for client in started:
        client.close()


def _connect(clients: list[Paho], connection: MqttConnection, **options: Any) -> Paho:
    client = Paho(connection, **options)
    clients.append(client)
    return client


def _segment(server: RunningServer, account: Account, room: str, data: str) -> dict[str, Any]:
    variables = {"roomId": room, "data": data}
    return GraphQL.walkie_talkie(server, account).data(CREATE_AUDIO_SEGMENT, variables)["createAudioSegment"]


def _delivered(client: Paho) -> dict[str, Any]:
    _, topic, payload = client.expect("message")
    return {"topic": topic, **json.loads(payload)}


def test_mqtt_paho_receives_what_another_client_creates(walkie: Walkie, clients: list[Paho]) -> None:
    server, users = walkie
    room = create_room_on_server(server, "paho")
    connection = handshake(GraphQL.walkie_talkie(server, users["alice"]), room)
    alice = _connect(clients, connection)
    assert alice.expect("connack")[1] == "Success"
    assert alice.subscribe(*connection.topics) == [GRANTED]

    created = _segment(server, users["bob"], room, "data:audio/wav;base64,UklGRg==")

    assert _delivered(alice) == {"topic": connection.topics[0], "data": {"onCreateAudioSegment": created}}
    assert created["userId"] == users["bob"].sub


def test_mqtt_paho_wrong_client_id_is_rejected(walkie: Walkie, clients: list[Paho]) -> None:
    server, users = walkie
    connection = handshake(GraphQL.walkie_talkie(server, users["alice"]), create_room_on_server(server, "id"))
    intruder = _connect(clients, connection, client_id="someone-else")
    assert intruder.expect("connack")[1] == "Client identifier not valid"
    intruder.expect("gone")


def test_mqtt_paho_topics_not_handed_out_get_the_failure_code(walkie: Walkie, clients: list[Paho]) -> None:
    server, users = walkie
    mine, theirs = create_room_on_server(server, "mine"), create_room_on_server(server, "theirs")
    connection = handshake(GraphQL.walkie_talkie(server, users["alice"]), mine)
    bobs = handshake(GraphQL.walkie_talkie(server, users["bob"]), theirs)
    alice = _connect(clients, connection)
    alice.expect("connack")
    wildcards = ("#", "chatserver/onCreateAudioSegment/+")
    codes = alice.subscribe(connection.topics[0], bobs.topics[0], *wildcards)
    assert codes == [GRANTED, REFUSED, REFUSED, REFUSED]

    _segment(server, users["bob"], theirs, "not for alice")
    created = _segment(server, users["bob"], mine, "for alice")

    # Deliveries to one connection keep commit order: had bob's room reached alice, it would come first.
    assert _delivered(alice)["data"]["onCreateAudioSegment"] == created


def test_mqtt_paho_31_grants_a_foreign_topic_but_delivers_nothing_on_it(
    walkie: Walkie, clients: list[Paho]
) -> None:
    server, users = walkie
    mine, theirs = create_room_on_server(server, "mine31"), create_room_on_server(server, "theirs31")
    connection = handshake(GraphQL.walkie_talkie(server, users["alice"]), mine)
    bobs = handshake(GraphQL.walkie_talkie(server, users["bob"]), theirs)
    alice = _connect(clients, connection, protocol=mqtt.MQTTv31)
    alice.expect("connack")
    assert alice.subscribe(connection.topics[0], bobs.topics[0]) == [
        GRANTED,
        GRANTED,
    ]  # 3.1 has no failure code

    _segment(server, users["bob"], theirs, "not for alice")
    created = _segment(server, users["bob"], mine, "for alice")

    delivered = _delivered(alice)
    assert delivered["topic"] == connection.topics[0]
    assert delivered["data"]["onCreateAudioSegment"] == created


def test_mqtt_paho_publish_attempt_closes_that_connection_and_reaches_nobody(
    walkie: Walkie, clients: list[Paho]
) -> None:
    server, users = walkie
    room = create_room_on_server(server, "publish")
    caller = GraphQL.walkie_talkie(server, users["alice"])
    publisher_connection, observer_connection = handshake(caller, room), handshake(caller, room)
    observer = _connect(clients, observer_connection)
    observer.expect("connack")
    observer.subscribe(*observer_connection.topics)
    publisher = _connect(clients, publisher_connection)
    publisher.expect("connack")
    publisher.subscribe(*publisher_connection.topics)

    fake = {"data": {"onCreateAudioSegment": {"roomId": room, "data": "forged"}}}
    publisher.client.publish(publisher_connection.topics[0], json.dumps(fake))

    publisher.expect("gone")
    created = _segment(server, users["bob"], room, "real")
    assert _delivered(observer)["data"]["onCreateAudioSegment"] == created  # the forged one never arrived


def test_mqtt_paho_expired_url_is_not_authorized(
    tmp_path_factory: pytest.TempPathFactory, clients: list[Paho]
) -> None:
    data = tmp_path_factory.mktemp("mqtt-expired") / "data"
    with server_with_accounts(data, "dave", mqtt_url_ttl=0) as (server, (dave,)):
        connection = handshake(GraphQL.walkie_talkie(server, dave), create_room_on_server(server, "late"))
        late = _connect(clients, connection)
        assert late.expect("connack")[1] == "Not authorized"
        late.expect("gone")


def test_mqtt_paho_tampered_url_is_not_authorized(walkie: Walkie, clients: list[Paho]) -> None:
    server, users = walkie
    connection = handshake(GraphQL.walkie_talkie(server, users["alice"]), create_room_on_server(server, "t"))
    body, _, _ = connection.url.partition("?token=")[2].partition(".")
    forged_body = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    forged = MqttConnection(connection.client, connection.url.replace(body, forged_body), connection.topics)
    assert forged.url != connection.url
    intruder = _connect(clients, forged)
    assert intruder.expect("connack")[1] == "Not authorized"


async def test_mqtt_paho_stalled_reader_is_dropped_and_the_others_keep_receiving(
    walkie: Walkie, clients: list[Paho]
) -> None:
    server, users = walkie
    room = create_room_on_server(server, "stall")
    caller = GraphQL.walkie_talkie(server, users["alice"])
    fast_connection, slow_connection = handshake(caller, room), handshake(caller, room)
    fast = _connect(clients, fast_connection)
    fast.expect("connack")
    fast.subscribe(*fast_connection.topics)
    # A reader that stops reading: websockets buffers one frame, then TCP backpressure stalls the server's sends.
    slow = await RawMqtt.open(f"{server.ws_url}{slow_connection.path}", max_queue=1, max_size=None)
    await slow.connect(slow_connection.client)
    await slow.subscribe(*slow_connection.topics)
    engine = live.services(server).realtime
    before = engine.metrics.slow_consumer_disconnects
    clip = "A" * 200_000
    for n in range(400):
        payload = {"roomId": room, "data": f"{n}:{clip}", "timestamp": str(n), "userId": "u"}
        live.run_on_server_loop(server, engine.publish("createAudioSegment", payload))
        assert _delivered(fast)["data"]["onCreateAudioSegment"]["timestamp"] == str(n)
        if engine.metrics.slow_consumer_disconnects > before:
            break
    assert engine.metrics.slow_consumer_disconnects == before + 1
    created = _segment(server, users["bob"], room, "after the stall")
    assert _delivered(fast)["data"]["onCreateAudioSegment"] == created
    assert await slow.closed() in (1013, 1006)  # 1006 when the close frame itself could not get through


async def test_mqtt_paho_global_signout_closes_the_connection_and_revokes_every_url(
    walkie: Walkie, clients: list[Paho]
) -> None:
    server, users = walkie
    carol = users["carol"]
    room = create_room_on_server(server, "signout")
    caller = GraphQL.walkie_talkie(server, carol)
    used, unused = handshake(caller, room), handshake(caller, room)
    live_connection = await RawMqtt.open(f"{server.ws_url}{used.path}")
    await live_connection.connect(used.client)
    await live_connection.subscribe(*used.topics)

    headers = {"Authorization": carol.tokens.access_token}
    response = await asyncio.to_thread(httpx.post, f"{server.url}/auth/signout", headers=headers, **HTTP)
    assert response.status_code == 200, response.text

    assert await live_connection.closed() == 4401
    for connection in (used, unused):
        again = _connect(clients, connection)
        assert again.expect("connack")[1] == "Not authorized"
