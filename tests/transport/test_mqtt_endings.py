"""MQTT connections end as the other protocols' subscriptions do (README, aws-appsync 1.x): when the token the
handshake was made with expires (closed with 4401 by the engine's expiry sweep, a later CONNECT refused), and
when the server ends the connection's last subscription (deleteRoom: closed with 4410, so paho and aws-appsync
1.x see the connection lost); connections on other rooms carry on."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chatserver.transport.mqtt.packets import ConnAck, ConnectCode, SubAck
from chatserver.transport.mqtt.session import (
    CLOSE_POLICY_VIOLATION,
    CLOSE_SUBSCRIPTIONS_ENDED,
    CLOSE_UNAUTHORIZED,
)
from chatserver.transport.websocket import realtime_context
from tests.helpers import (
    CREATE_AUDIO_SEGMENT,
    Account,
    GraphQL,
    create_account,
    create_room_on_server,
    on_server_loop,
    server_with_accounts,
)
from tests.server import RunningServer, run_server
from tests.transport.mqtt_clients import MqttConnection, Paho, RawMqtt, handshake

TOKEN_TTL = 6  # seconds: long enough to hand shake and subscribe on a busy machine, short enough to wait for

STAFF = "staff"

Walkie = tuple[RunningServer, dict[str, Account]]


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = Path(tmp_path_factory.mktemp("mqtt-expiry")) / "data"
    with run_server(data, auto_confirm=True, access_token_ttl=TOKEN_TTL, id_token_ttl=TOKEN_TTL) as server:
        yield server


@pytest.fixture(scope="module")
def walkie(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walkie]:
    data = Path(tmp_path_factory.mktemp("mqtt-endings")) / "data"
    with server_with_accounts(data, "alice", "bob", ("root", ["admin"])) as (server, accounts):
        yield server, {a.username: a for a in accounts}


@pytest.fixture
def clients() -> Iterator[list[Paho]]:
    started: list[Paho] = []
    yield started
    for client in started:
        client.close()


def _expires_at(token: str) -> int:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["exp"]


async def _listening(server: RunningServer, connection: MqttConnection) -> RawMqtt:
    raw = await RawMqtt.open(f"{server.ws_url}{connection.path}")
    assert await raw.connect(connection.client) == ConnAck(ConnectCode.ACCEPTED)
    assert await raw.subscribe(*connection.topics) == SubAck(1, (0,))
    return raw


def _paho_listening(clients: list[Paho], connection: MqttConnection) -> Paho:
    client = Paho(connection)
    clients.append(client)
    assert client.expect("connack")[1] == "Success"
    assert client.subscribe(*connection.topics) == ["Granted QoS 0"]
    return client


def _handshake(caller: GraphQL, query: str) -> MqttConnection:
    """The one MQTT connection a handshake of a subscription without variables hands out."""
    body = caller.execute(query)
    assert "errors" not in body, body
    (connection,) = body["extensions"]["subscription"]["mqttConnections"]
    return MqttConnection(connection["client"], connection["url"], tuple(connection["topics"]))


def _segment(server: RunningServer, account: Account, room: str, data: str) -> dict[str, Any]:
    variables = {"roomId": room, "data": data}
    return GraphQL.walkie_talkie(server, account).data(CREATE_AUDIO_SEGMENT, variables)["createAudioSegment"]


def _delivered(client: Paho) -> dict[str, Any]:
    _, _topic, payload = client.expect("message")
    return json.loads(payload)["data"]["onCreateAudioSegment"]


async def test_mqtt_expired_token_closes_the_connection_and_a_fresh_one_resumes(
    short_lived: RunningServer, clients: list[Paho]
) -> None:
    server = short_lived
    eve = await asyncio.to_thread(create_account, server, "eve")
    room = create_room_on_server(server, "expiring")
    caller = GraphQL.walkie_talkie(server, eve)
    raw_connection, paho_connection = await asyncio.gather(
        asyncio.to_thread(handshake, caller, room), asyncio.to_thread(handshake, caller, room)
    )
    raw = await _listening(server, raw_connection)
    paho = await asyncio.to_thread(_paho_listening, clients, paho_connection)
    try:
        assert await raw.closed() == CLOSE_UNAUTHORIZED
        assert raw.ws.close_reason == "Unauthorized: token expired"
        assert time.time() >= _expires_at(eve.tokens.id_token)  # never before its time
        assert (await asyncio.to_thread(paho.expect, "gone"))[0] == "gone"  # paho sees the connection lost
    finally:
        await raw.close()

    # The URL is still within its own lifetime, but the token behind it is not: CONNECT is refused.
    again = await RawMqtt.open(f"{server.ws_url}{raw_connection.path}")
    assert await again.connect(raw_connection.client) == ConnAck(ConnectCode.NOT_AUTHORIZED)
    assert await again.closed() == CLOSE_POLICY_VIOLATION

    # A fresh sign-in hands shake again and receives.
    fresh = await asyncio.to_thread(create_account, server, "eve-again")
    connection = await asyncio.to_thread(handshake, GraphQL.walkie_talkie(server, fresh), room)
    resumed = await asyncio.to_thread(_paho_listening, clients, connection)
    created = await asyncio.to_thread(_segment, server, fresh, room, "after the expiry")
    assert await asyncio.to_thread(_delivered, resumed) == created


async def test_mqtt_delete_room_closes_the_connections_listening_to_it_only(
    walkie: Walkie, clients: list[Paho]
) -> None:
    server, users = walkie
    doomed, kept = create_room_on_server(server, "doomed"), create_room_on_server(server, "kept")
    caller = GraphQL.walkie_talkie(server, users["alice"])
    raw_connection, paho_connection, kept_connection = await asyncio.gather(
        asyncio.to_thread(handshake, caller, doomed),
        asyncio.to_thread(handshake, caller, doomed),
        asyncio.to_thread(handshake, caller, kept),
    )
    raw = await _listening(server, raw_connection)
    paho = await asyncio.to_thread(_paho_listening, clients, paho_connection)
    bystander = await asyncio.to_thread(_paho_listening, clients, kept_connection)
    subscriptions = server.app.state.services.realtime.metrics.subscriptions
    try:
        admin = GraphQL.chat_app(server, users["root"])
        deleted = await asyncio.to_thread(
            admin.data, "mutation($id: ID!) { deleteRoom(id: $id) { id } }", {"id": doomed}
        )
        assert deleted == {"deleteRoom": {"id": doomed}}
        assert await raw.closed() == CLOSE_SUBSCRIPTIONS_ENDED
        assert raw.ws.close_reason == "Subscription ended by the server"
        assert (await asyncio.to_thread(paho.expect, "gone"))[0] == "gone"
    finally:
        await raw.close()

    created = await asyncio.to_thread(_segment, server, users["bob"], kept, "the other room goes on")
    assert await asyncio.to_thread(_delivered, bystander) == created
    assert server.app.state.services.realtime.metrics.subscriptions == subscriptions - 2


@pytest.fixture
def staff_only_rooms(walkie: Walkie) -> Iterator[None]:
    """onCreateRoom needs the `staff` group (the product schema has no group-only subscription field)."""
    state = walkie[0].app.state
    original = getattr(state, "realtime_context", None)
    base = original or realtime_context(state.services)
    state.realtime_context = replace(
        base, group_rules=lambda t, f: [STAFF] if (t, f) == ("Subscription", "onCreateRoom") else None
    )
    yield
    state.realtime_context = original


async def test_mqtt_group_removal_closes_the_connection_that_needed_the_group(
    walkie: Walkie, staff_only_rooms: None
) -> None:
    server, users = walkie
    # One after the other: two first joins of a new group at once race on creating it (persistence/accounts.py).
    member = await asyncio.to_thread(create_account, server, "staffer", groups=[STAFF])
    colleague = await asyncio.to_thread(create_account, server, "colleague", groups=[STAFF])
    rooms = "subscription { onCreateRoom { id } }"
    mine, theirs = await asyncio.gather(
        asyncio.to_thread(_handshake, GraphQL.walkie_talkie(server, member), rooms),
        asyncio.to_thread(_handshake, GraphQL.walkie_talkie(server, colleague), rooms),
    )
    raw, other = await _listening(server, mine), await _listening(server, theirs)
    try:
        removed = on_server_loop(server, server.app.state.services.groups.remove(member.username, STAFF))
        assert removed is True
        assert await raw.closed() == CLOSE_SUBSCRIPTIONS_ENDED

        created = await asyncio.to_thread(GraphQL.chat_app(server, users["root"]).create_room, "for staff")
        delivered = await other.receive()  # still staff: unaffected
        assert json.loads(delivered.payload)["data"]["onCreateRoom"] == {"id": created["id"]}
        # The member's token still claims the group, but a new handshake with it is refused now.
        refused = await asyncio.to_thread(GraphQL.walkie_talkie(server, member).execute, rooms)
        assert [e["message"] for e in refused["errors"]] == [
            "Not Authorized to access onCreateRoom on type Subscription"
        ]
    finally:
        await raw.close()
        await other.close()
