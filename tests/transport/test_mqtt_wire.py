"""MQTT over WebSocket at the byte level (a raw client): subprotocols, packets split across frames, keep-alive,
and hostile input: each bad connection is closed alone, with its named close code, and nobody else notices."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from chatserver.transport.mqtt.codec import encode, encode_remaining_length
from chatserver.transport.mqtt.packets import (
    SUBACK_FAILURE,
    Acknowledgement,
    ConnAck,
    Connect,
    ConnectCode,
    Disconnect,
    PacketType,
    PingReq,
    PingResp,
    Publish,
    SubAck,
    Subscribe,
    UnsubAck,
    Unsubscribe,
    Will,
)
from chatserver.transport.mqtt.session import (
    CLOSE_NORMAL,
    CLOSE_POLICY_VIOLATION,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_TIMEOUT,
    CLOSE_TOO_BIG,
    CLOSE_UNSUPPORTED_DATA,
    MAX_INCOMING_PACKET_BYTES,
)
from tests.helpers import CREATE_AUDIO_SEGMENT, Account, GraphQL, create_room_on_server, server_with_accounts
from tests.realtime import live
from tests.server import RunningServer, run_server
from tests.transport.mqtt_clients import MqttConnection, RawMqtt, handshake

Walkie = tuple[RunningServer, list[Account], str]


@pytest.fixture(scope="module")
def walkie(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walkie]:
    with server_with_accounts(tmp_path_factory.mktemp("mqtt-wire") / "data", "alice", "bob") as (
        server,
        accounts,
    ):
        yield server, accounts, create_room_on_server(server, "wire")


async def _fresh(walkie: Walkie, subprotocol: str = "mqtt") -> tuple[RawMqtt, MqttConnection]:
    server, (alice, _), room = walkie
    connection = await asyncio.to_thread(handshake, GraphQL.walkie_talkie(server, alice), room)
    return await RawMqtt.open(f"{server.ws_url}{connection.path}", subprotocol), connection


async def _segment(walkie: Walkie, data: str) -> dict[str, object]:
    server, (_, bob), room = walkie
    caller = GraphQL.walkie_talkie(server, bob)
    body = await asyncio.to_thread(caller.data, CREATE_AUDIO_SEGMENT, {"roomId": room, "data": data})
    return body["createAudioSegment"]


@pytest.mark.parametrize(("subprotocol", "level"), [("mqtt", 4), ("mqttv3.1", 3)])
async def test_mqtt_wire_echoes_the_subprotocol_and_delivers_publish_frames(
    walkie: Walkie, subprotocol: str, level: int
) -> None:
    client, connection = await _fresh(walkie, subprotocol)
    try:
        assert client.ws.subprotocol == subprotocol
        assert await client.connect(connection.client, level=level) == ConnAck(ConnectCode.ACCEPTED)
        assert await client.subscribe(*connection.topics, packet_id=9) == SubAck(9, (0,))
        created = await _segment(walkie, f"over MQTT {level}")
        publish = await client.receive()
        assert isinstance(publish, Publish)
        assert (publish.topic, publish.qos, publish.retain) == (connection.topics[0], 0, False)
        assert json.loads(publish.payload) == {"data": {"onCreateAudioSegment": created}}
        await client.send(PingReq())
        assert await client.receive() == PingResp()
        await client.send(Disconnect())
        assert await client.closed() == CLOSE_NORMAL
    finally:
        await client.close()


async def test_mqtt_wire_refuses_an_upgrade_without_an_mqtt_subprotocol(walkie: Walkie) -> None:
    server, _, _ = walkie
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(f"{server.ws_url}/mqtt?token=x", subprotocols=["graphql-ws"])
    assert refused.value.response.status_code == 400
    assert b"mqttv3.1" in refused.value.response.body


async def test_mqtt_wire_reads_packets_across_and_within_frames(walkie: Walkie) -> None:
    client, connection = await _fresh(walkie)
    try:
        wire = encode(Connect(connection.client))
        await client.send(wire[:3])
        await client.send(wire[3:])
        assert await client.receive() == ConnAck(ConnectCode.ACCEPTED)
        both = encode(Subscribe(1, ((connection.topics[0], 1),))) + encode(PingReq())
        await client.send(both)
        assert await client.receive() == SubAck(1, (0,))  # QoS 1 asked, QoS 0 granted
        assert await client.receive() == PingResp()
        engine = live.services(walkie[0]).realtime
        before = engine.hub.size
        await client.send(Unsubscribe(2, connection.topics))
        assert await client.receive() == UnsubAck(2)
        assert engine.hub.size == before - 1
    finally:
        await client.close()


async def test_mqtt_wire_closes_a_connection_that_goes_quiet_past_its_keepalive(walkie: Walkie) -> None:
    client, connection = await _fresh(walkie)
    try:
        assert await client.connect(connection.client, keep_alive=1) == ConnAck(ConnectCode.ACCEPTED)
        assert await client.closed() == CLOSE_TIMEOUT  # nothing sent for 1.5 s
    finally:
        await client.close()


async def test_mqtt_wire_refuses_connects_it_cannot_accept(walkie: Walkie) -> None:
    server, _, _ = walkie
    cases = [
        (Connect("x", protocol_level=5), ConnectCode.UNACCEPTABLE_PROTOCOL_VERSION),
        (Connect("x", will=Will("t", b"bye")), ConnectCode.NOT_AUTHORIZED),
    ]
    for connect, code in cases:
        client, connection = await _fresh(walkie)
        try:
            await client.send(
                Connect(connection.client, connect.protocol_name, connect.protocol_level, will=connect.will)
            )
            assert await client.receive() == ConnAck(code)
            assert await client.closed() == CLOSE_POLICY_VIOLATION
        finally:
            await client.close()
    for url in (f"{server.ws_url}/mqtt", f"{server.ws_url}/mqtt?token=forged.token"):
        client = await RawMqtt.open(url)
        try:
            assert await client.connect("anyone") == ConnAck(ConnectCode.NOT_AUTHORIZED)
            assert await client.closed() == CLOSE_POLICY_VIOLATION
        finally:
            await client.close()


HOSTILE = {
    "garbage": (False, b"\xff\xfe\xfd\xfc", CLOSE_PROTOCOL_ERROR),
    "packet before CONNECT": (False, encode(Subscribe(1, (("t", 0),))), CLOSE_PROTOCOL_ERROR),
    "PINGREQ before CONNECT": (False, encode(PingReq()), CLOSE_PROTOCOL_ERROR),
    "a second CONNECT": (True, encode(Connect("again")), CLOSE_PROTOCOL_ERROR),
    "a PUBACK the server never asked for": (
        True,
        encode(Acknowledgement(PacketType.PUBACK, 1)),
        CLOSE_PROTOCOL_ERROR,
    ),
    "a CONNACK from a client": (True, encode(ConnAck(0)), CLOSE_PROTOCOL_ERROR),
    "a PUBLISH": (True, encode(Publish("chatserver/x", b"{}")), CLOSE_POLICY_VIOLATION),
    "a QoS 1 PUBLISH": (
        True,
        encode(Publish("chatserver/x", b"{}", qos=1, packet_id=3)),
        CLOSE_POLICY_VIOLATION,
    ),
    "an oversized remaining length": (
        True,
        b"\x82" + encode_remaining_length(MAX_INCOMING_PACKET_BYTES + 1),
        CLOSE_TOO_BIG,
    ),
    "a five-byte remaining length": (True, b"\x82\xff\xff\xff\xff\x7f", CLOSE_PROTOCOL_ERROR),
    "a SUBSCRIBE with QoS 3": (True, b"\x82\x06\x00\x01\x00\x01t\x03", CLOSE_PROTOCOL_ERROR),
    "a topic that is not UTF-8": (True, b"\x82\x06\x00\x01\x00\x01\xc3\x00", CLOSE_PROTOCOL_ERROR),
}


@pytest.mark.parametrize(("connected", "wire", "code"), list(HOSTILE.values()), ids=list(HOSTILE))
async def test_mqtt_wire_hostile_input_closes_that_connection_only(
    walkie: Walkie, connected: bool, wire: bytes, code: int
) -> None:
    bystander, bystander_connection = await _fresh(walkie)
    client, connection = await _fresh(walkie)
    try:
        await bystander.connect(bystander_connection.client)
        await bystander.subscribe(*bystander_connection.topics)
        if connected:
            assert await client.connect(connection.client) == ConnAck(ConnectCode.ACCEPTED)
        await client.send(wire)
        assert await client.closed() == code
        created = await _segment(walkie, "still here")
        publish = await bystander.receive()
        assert isinstance(publish, Publish)
        assert json.loads(publish.payload)["data"]["onCreateAudioSegment"] == created
    finally:
        await client.close()
        await bystander.close()


async def test_mqtt_wire_text_frame_closes_the_connection(walkie: Walkie) -> None:
    client, connection = await _fresh(walkie)
    try:
        await client.connect(connection.client)
        await client.ws.send('{"type":"connection_init"}')
        assert await client.closed() == CLOSE_UNSUPPORTED_DATA
    finally:
        await client.close()


async def test_mqtt_wire_refused_topic_on_311_gets_the_failure_code(walkie: Walkie) -> None:
    client, connection = await _fresh(walkie)
    try:
        await client.connect(connection.client)
        reply = await client.subscribe(connection.topics[0] + "x", "#", connection.topics[0])
        assert reply == SubAck(1, (SUBACK_FAILURE, SUBACK_FAILURE, 0))
    finally:
        await client.close()


async def test_mqtt_wire_closes_a_connection_without_connect_in_time(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", connection_init_timeout=1) as server:
        client = await RawMqtt.open(f"{server.ws_url}/mqtt?token=unused")
        try:
            assert await client.closed() == CLOSE_TIMEOUT
        finally:
            await client.close()
