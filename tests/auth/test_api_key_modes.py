"""API_KEY end to end: keys over HTTP (`x-api-key`), in the AppSync real-time header object, and in the
connection_init payloads of graphql-transport-ws and legacy graphql-ws; what API-key callers may and may not use;
expired and deleted keys refused everywhere, live sockets included."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests import helpers as seed
from tests.helpers import HTTP, GraphQL, create_account, on_server_loop
from tests.realtime import live
from tests.server import RunningServer, run_server

DAY = 86_400


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = Path(tmp_path_factory.mktemp("api-keys")) / "data"
    with run_server(
        data, auto_confirm=True, additional_auth_modes=("API_KEY",), api_key_refresh_interval=1
    ) as running:
        yield running


@pytest.fixture(scope="module")
def owner(server: RunningServer) -> GraphQL:
    return GraphQL.chat_app(server, create_account(server, "keyowner"))


@pytest.fixture(scope="module")
def room(owner: GraphQL) -> str:
    return owner.create_room("public room")["id"]


def new_key(server: RunningServer, **kwargs: Any) -> Any:
    return on_server_loop(server, server.app.state.services.api_keys.create(**kwargs))


def by_key(server: RunningServer, key: str) -> GraphQL:
    return GraphQL(server.url, None, {"x-api-key": key})


def _appsync_header(server: RunningServer, key: str) -> dict[str, str]:
    return {"host": live.host_of(server), "x-api-key": key, "x-amz-date": "20261201T120000Z"}


def _appsync_url(server: RunningServer, header: dict[str, str]) -> str:
    encoded = base64.b64encode(json.dumps(header).encode()).decode()
    return f"{server.ws_url}/graphql/realtime?header={encoded}&payload=e30="


# --- HTTP


def test_api_key_http_reads_rooms_and_messages(server: RunningServer, owner: GraphQL, room: str) -> None:
    posted = owner.create_message(room, "for everyone")
    reader = by_key(server, new_key(server).key)
    rooms = reader.data(seed.LIST_ROOMS)["listRooms"]["items"]
    assert room in [r["id"] for r in rooms]
    assert [m["id"] for m in reader.messages(room)] == [posted["id"]]
    assert reader.data("query G($id: ID!) { getRoom(id: $id) { name } }", {"id": room}) == {
        "getRoom": {"name": "public room"}
    }


@pytest.mark.parametrize(
    ("query", "variables", "field", "type_name"),
    [
        (
            seed.CREATE_MESSAGE,
            {"input": {"content": {"text": "anon"}, "roomId": "ROOM"}},
            "createMessage",
            "Mutation",
        ),
        (seed.CREATE_ROOM, {"input": {"name": "anon room"}}, "createRoom", "Mutation"),
        ("query { me { id } }", None, "me", "Query"),
        ("query { listUsers { items { email } } }", None, "listUsers", "Query"),
    ],
)
def test_api_key_http_is_refused_what_records_or_reveals_a_user(
    server: RunningServer, owner: GraphQL, room: str, query: str, variables: Any, field: str, type_name: str
) -> None:
    if variables and "input" in variables and "roomId" in variables["input"]:
        variables["input"]["roomId"] = room
    before = owner.messages(room)
    rooms_before = owner.data(seed.LIST_ROOMS)
    body = by_key(server, new_key(server).key).execute(query, variables)
    assert body["data"] == {field: None}
    assert body["errors"][0]["errorType"] == "Unauthorized"
    assert body["errors"][0]["message"] == f"Not Authorized to access {field} on type {type_name}"
    assert owner.messages(room) == before
    assert owner.data(seed.LIST_ROOMS) == rooms_before


def test_api_key_user_pool_caller_still_gets_every_field(
    server: RunningServer, owner: GraphQL, room: str
) -> None:
    assert owner.data("query { me { username } }") == {"me": {"username": "keyowner"}}
    assert owner.create_message(room, "still mine")["owner"] == "keyowner"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("da2-" + "a" * 26, "You are not authorized to make this call."),  # well formed, unknown
        ("da2-short", "You are not authorized to make this call."),
        ("DA2-" + "A" * 26, "You are not authorized to make this call."),
        ("da2-" + "é" * 26, "You are not authorized to make this call."),
        ("x" * 8000, "You are not authorized to make this call."),
    ],
)
def test_api_key_http_malformed_or_unknown_keys_get_401(
    server: RunningServer, key: str, message: str
) -> None:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": seed.LIST_ROOMS},
        headers={"x-api-key": key.encode("utf-8")},
        **HTTP,
    )
    assert response.status_code == 401
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert response.json()["errors"] == [{"errorType": "UnauthorizedException", "message": message}]


def test_api_key_oversized_header_is_refused_before_anything_runs(server: RunningServer) -> None:
    response = httpx.post(
        f"{server.url}/graphql", json={"query": seed.LIST_ROOMS}, headers={"x-api-key": "k" * 200_000}, **HTTP
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "You are not authorized to make this call."
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": seed.LIST_ROOMS},
        headers={"Authorization": "eyJ" + "a" * 200_000},
        **HTTP,
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "Unable to parse JWT token."


def test_api_key_expired_and_deleted_keys_are_refused(server: RunningServer) -> None:
    expired = new_key(server, expires_in_days=7, now=int(time.time()) - 8 * DAY)
    response = by_key(server, expired.key).post(seed.LIST_ROOMS)
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "API key has expired."

    doomed = new_key(server)
    assert by_key(server, doomed.key).data(seed.LIST_ROOMS)
    on_server_loop(server, server.app.state.services.api_keys.delete(doomed.record.id))
    response = by_key(server, doomed.key).post(seed.LIST_ROOMS)
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "You are not authorized to make this call."


# --- AppSync real-time


async def test_api_key_appsync_realtime_subscription_receives_messages(
    server: RunningServer, owner: GraphQL, room: str
) -> None:
    key = new_key(server).key
    header = _appsync_header(server, key)
    async with websockets.connect(_appsync_url(server, header), subprotocols=["graphql-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert (await live.recv_json(ws))["type"] == "connection_ack"
        ack = await live.appsync_start(ws, "s1", seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": room}, header)
        assert ack == {"type": "start_ack", "id": "s1"}
        posted = owner.create_message(room, "to the kiosk")
        frame = await live.recv_json(ws)
        assert frame["payload"]["data"]["onCreateMessageByRoomId"] == posted


async def test_api_key_appsync_realtime_plain_upgrade_header(server: RunningServer) -> None:
    key = new_key(server).key
    async with websockets.connect(
        f"{server.ws_url}/graphql/realtime",
        subprotocols=["graphql-ws"],
        additional_headers={"x-api-key": key},
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert (await live.recv_json(ws))["type"] == "connection_ack"


async def test_api_key_appsync_realtime_refuses_audio_by_directive(server: RunningServer, room: str) -> None:
    header = _appsync_header(server, new_key(server).key)
    async with websockets.connect(_appsync_url(server, header), subprotocols=["graphql-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert (await live.recv_json(ws))["type"] == "connection_ack"
        frame = await live.appsync_start(ws, "a1", seed.ON_CREATE_AUDIO_SEGMENT, {"roomId": room}, header)
        assert frame == {
            "type": "error",
            "id": "a1",
            "payload": {
                "errors": [
                    {
                        "errorType": "Unauthorized",
                        "message": "Not Authorized to access onCreateAudioSegment on type Subscription",
                    }
                ]
            },
        }
        # the connection is still usable
        ack = await live.appsync_start(ws, "r1", seed.ON_CREATE_ROOM, None, header)
        assert ack == {"type": "start_ack", "id": "r1"}


@pytest.mark.parametrize("case", ["unknown", "expired", "malformed"])
async def test_api_key_appsync_realtime_bad_key_gets_connection_error(
    server: RunningServer, case: str
) -> None:
    key = {
        "unknown": "da2-" + "z" * 26,
        "expired": new_key(server, expires_in_days=1, now=int(time.time()) - 2 * DAY).key,
        "malformed": "not-a-key",
    }[case]
    async with websockets.connect(
        _appsync_url(server, _appsync_header(server, key)), subprotocols=["graphql-ws"]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        frame = await live.recv_json(ws)
        assert frame["type"] == "connection_error"
        error = frame["payload"]["errors"][0]
        assert error["errorType"] == "UnauthorizedException" and error["errorCode"] == 401
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await live.recv_json(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_api_key_deleted_key_closes_its_live_sockets_only(
    server: RunningServer, owner: GraphQL, room: str
) -> None:
    doomed, kept = new_key(server), new_key(server)
    doomed_header, kept_header = _appsync_header(server, doomed.key), _appsync_header(server, kept.key)
    async with (
        websockets.connect(_appsync_url(server, doomed_header), subprotocols=["graphql-ws"]) as ws,
        websockets.connect(f"{server.ws_url}/graphql", subprotocols=["graphql-transport-ws"]) as gtws,
        websockets.connect(_appsync_url(server, kept_header), subprotocols=["graphql-ws"]) as other,
    ):
        for socket, header in ((ws, doomed_header), (other, kept_header)):
            await socket.send(json.dumps({"type": "connection_init"}))
            assert (await live.recv_json(socket))["type"] == "connection_ack"
            ack = await live.appsync_start(
                socket, "s", seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": room}, header
            )
            assert ack["type"] == "start_ack"
        await gtws.send(json.dumps({"type": "connection_init", "payload": {"x-api-key": doomed.key}}))
        assert await live.recv_json(gtws) == {"type": "connection_ack"}

        await asyncio_to_thread(
            on_server_loop, server, server.app.state.services.api_keys.delete(doomed.record.id)
        )

        for socket in (ws, gtws):
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await live.recv_json(socket, wait=15)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        posted = await asyncio_to_thread(owner.create_message, room, "after the deletion")
        frame = await live.recv_json(other)
        assert frame["payload"]["data"]["onCreateMessageByRoomId"] == posted


async def asyncio_to_thread(function: Any, *args: Any) -> Any:
    import asyncio

    return await asyncio.to_thread(function, *args)


# --- the MQTT handshake (aws-appsync 1.x): a subscription POSTed to /graphql


def test_api_key_mqtt_handshake_grants_what_the_key_may_use(server: RunningServer, room: str) -> None:
    reader = by_key(server, new_key(server).key)
    granted = reader.execute(seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": room})
    connections = granted["extensions"]["subscription"]["mqttConnections"]
    assert connections and connections[0]["url"].startswith(server.ws_url)
    refused = reader.execute(seed.ON_CREATE_AUDIO_SEGMENT, {"roomId": room})
    assert "extensions" not in refused
    assert refused["errors"][0]["errorType"] == "Unauthorized"
    assert (
        refused["errors"][0]["message"]
        == "Not Authorized to access onCreateAudioSegment on type Subscription"
    )


# --- graphql-transport-ws and legacy graphql-ws


@pytest.mark.parametrize(
    "payload_of",
    [
        lambda key: {"x-api-key": key},
        lambda key: {"headers": {"X-Api-Key": key}},
    ],
)
async def test_api_key_graphql_transport_ws_subscribes_and_is_refused_mutations(
    server: RunningServer, owner: GraphQL, room: str, payload_of: Any
) -> None:
    key = new_key(server).key
    async with websockets.connect(f"{server.ws_url}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload_of(key)}))
        assert await live.recv_json(ws) == {"type": "connection_ack"}
        mutation = {
            "query": seed.CREATE_MESSAGE,
            "variables": {"input": {"roomId": room, "content": {"text": "anon"}}},
        }
        await ws.send(json.dumps({"id": "m", "type": "subscribe", "payload": mutation}))
        result = await live.recv_json(ws)
        assert result["payload"]["data"] == {"createMessage": None}
        assert result["payload"]["errors"][0]["errorType"] == "Unauthorized"
        assert await live.recv_json(ws) == {"id": "m", "type": "complete"}
        payload = {"query": seed.ON_CREATE_MESSAGE_BY_ROOM_ID, "variables": {"roomId": room}}
        await ws.send(json.dumps({"id": "s", "type": "subscribe", "payload": payload}))
        await live.wait_for_subscriptions(server, 1)
        posted = await asyncio_to_thread(owner.create_message, room, "to gtws")
        frame = await live.recv_json(ws)
        assert frame == {"id": "s", "type": "next", "payload": {"data": {"onCreateMessageByRoomId": posted}}}


@pytest.mark.parametrize("key", ["da2-" + "q" * 26, "", "da2-" + "0" * 300])
async def test_api_key_graphql_transport_ws_bad_key_is_closed_forbidden(
    server: RunningServer, key: str
) -> None:
    async with websockets.connect(f"{server.ws_url}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"x-api-key": key}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await live.recv_json(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_api_key_legacy_graphql_ws_connection_init(server: RunningServer, room: str) -> None:
    async with websockets.connect(f"{server.ws_url}/graphql", subprotocols=["graphql-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"x-api-key": new_key(server).key}}))
        assert await live.recv_json(ws) == {"type": "connection_ack"}
        query = {"query": seed.LIST_MESSAGES_FOR_ROOM, "variables": {"roomId": room}}
        await ws.send(json.dumps({"id": "q", "type": "start", "payload": query}))
        frame = await live.recv_json(ws)
        assert frame["type"] == "data" and "errors" not in frame["payload"]
    async with websockets.connect(f"{server.ws_url}/graphql", subprotocols=["graphql-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"x-api-key": "da2-" + "n" * 26}}))
        assert (await live.recv_json(ws))["type"] == "connection_error"


def test_api_key_is_ignored_when_the_mode_is_not_enabled(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", auto_confirm=True) as plain:
        account = create_account(plain, "nokeys")
        response = httpx.post(
            f"{plain.url}/graphql",
            json={"query": seed.LIST_ROOMS},
            headers={"x-api-key": "da2-" + "a" * 26, "Authorization": account.tokens.access_token},
            **HTTP,
        )
        assert response.status_code == 200 and "errors" not in response.json()
        response = httpx.post(
            f"{plain.url}/graphql",
            json={"query": seed.LIST_ROOMS},
            headers={"x-api-key": "da2-" + "a" * 26},
            **HTTP,
        )
        assert response.status_code == 401
        assert response.json()["errors"][0]["message"] == "Missing authorization header"


async def test_api_key_expiring_while_connected_closes_the_socket(server: RunningServer, room: str) -> None:
    short = new_key(
        server, expires_in_days=1, now=int(time.time()) - DAY + 8
    )  # 8 s left: room for a busy CI machine to connect first
    header = _appsync_header(server, short.key)
    async with websockets.connect(_appsync_url(server, header), subprotocols=["graphql-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert (await live.recv_json(ws))["type"] == "connection_ack"
        ack = await live.appsync_start(ws, "s", seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": room}, header)
        assert ack["type"] == "start_ack"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await live.recv_json(ws, wait=20)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    response = by_key(server, short.key).post(seed.LIST_ROOMS)
    assert response.status_code == 401
