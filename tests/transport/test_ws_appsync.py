"""AppSync real-time protocol end to end: the exact handshakes of Amplify v4 and amplify-js >= 6.6, gql's
AppSync transport, and every error frame of APPSYNC.md section 1."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from gql import Client, gql
from gql.transport.appsync_auth import AppSyncJWTAuthentication
from gql.transport.appsync_websockets import AppSyncWebsocketsTransport

from tests import helpers as seed
from tests.realtime import live
from tests.server import RunningServer, run_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = Path(tmp_path_factory.mktemp("appsync")) / "data"
    with run_server(data, auto_confirm=True, max_subscriptions_per_connection=3) as running:
        yield running


@pytest.fixture(scope="module")
def alice(server: RunningServer) -> dict[str, str]:
    return live.sign_up(server, "alice")


def _auth(server: RunningServer, token: str) -> dict[str, str]:
    return {"Authorization": token, "host": live.host_of(server)}


def _amplify_v4_header(token: str, host: str) -> str:
    """Standard base64 of the header object, chosen to contain both `+` and `/` (sent unescaped)."""
    for pad in range(64):
        agent = "aws-amplify/4.3.46 js" + " " * pad + "~~~~???"
        raw = json.dumps({"Authorization": token, "host": host, "x-amz-user-agent": agent}).encode()
        encoded = base64.b64encode(raw).decode()
        if "+" in encoded and "/" in encoded:
            return encoded
    raise AssertionError("no header with + and / found")


async def test_ws_appsync_amplify_v4_handshake_with_plus_and_slash(
    server: RunningServer, alice: dict[str, str]
) -> None:
    token = alice["accessToken"]
    room = await live.create_room(server, token, "v4")
    header = _amplify_v4_header(token, live.host_of(server))
    url = f"{server.ws_url}/graphql/realtime?header={header}&payload=e30="
    async with websockets.connect(url, subprotocols=["graphql-ws"]) as ws:
        assert ws.subprotocol == "graphql-ws"
        await ws.send(json.dumps({"type": "connection_init"}))
        assert await live.recv_json(ws) == {
            "type": "connection_ack",
            "payload": {"connectionTimeoutMs": 300000},
        }
        ack = await live.appsync_start(
            ws, "sub-1", seed.ON_CREATE_MESSAGE_BY_ROOM_ID, {"roomId": room}, _auth(server, token)
        )
        assert ack == {"type": "start_ack", "id": "sub-1"}
        created = await live.graphql(
            server, token, seed.CREATE_MESSAGE, {"input": {"roomId": room, "content": {"text": "hi"}}}
        )
        frame = await live.recv_json(ws)
        assert frame["type"] == "data" and frame["id"] == "sub-1"
        assert frame["payload"] == {"data": {"onCreateMessageByRoomId": created["data"]["createMessage"]}}
        assert frame["payload"]["data"]["onCreateMessageByRoomId"]["owner"] == "alice"
        await ws.send(json.dumps({"type": "stop", "id": "sub-1"}))
        assert await live.recv_json(ws) == {"type": "complete", "id": "sub-1"}


async def test_ws_appsync_header_subprotocol_of_amplify_6_6(
    server: RunningServer, alice: dict[str, str]
) -> None:
    token = alice["accessToken"]
    room = await live.create_room(server, token, "v6")
    header = live.header_b64(token, live.host_of(server), urlsafe=True, padded=False)
    async with websockets.connect(
        f"{server.ws_url}/graphql/realtime", subprotocols=["graphql-ws", f"header-{header}"]
    ) as ws:
        assert ws.subprotocol == "graphql-ws"
        await ws.send(json.dumps({"type": "connection_init"}))
        assert (await live.recv_json(ws))["type"] == "connection_ack"
        ack = await live.appsync_start(
            ws, "a", seed.ON_UPDATE_MESSAGE, {"roomId": room}, _auth(server, token)
        )
        assert ack == {"type": "start_ack", "id": "a"}
        created = await live.graphql(
            server, token, seed.CREATE_MESSAGE, {"input": {"roomId": room, "content": {"text": "1"}}}
        )
        message_id = created["data"]["createMessage"]["id"]
        updated = await live.graphql(
            server,
            token,
            seed.UPDATE_MESSAGE,
            {"input": {"id": message_id, "roomId": room, "content": {"text": "2"}}},
        )
        frame = await live.recv_json(ws)
        assert frame["payload"]["data"]["onUpdateMessage"] == updated["data"]["updateMessage"]


async def test_ws_appsync_on_graphql_path_with_header_param_and_upgrade_headers(
    server: RunningServer, alice: dict[str, str]
) -> None:
    token = alice["accessToken"]
    header = live.header_b64(token, live.host_of(server), urlsafe=True, padded=False)
    async with websockets.connect(
        f"{server.ws_url}/graphql?header={header}&payload=e30=", subprotocols=["graphql-ws"]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert (await live.recv_json(ws))["type"] == "connection_ack"
    async with websockets.connect(
        f"{server.ws_url}/graphql/realtime",
        subprotocols=["graphql-ws"],
        additional_headers={"Authorization": f"Bearer {token}"},
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert (await live.recv_json(ws))["type"] == "connection_ack"


async def test_ws_appsync_walkie_talkie_audio_with_gql_transport(
    server: RunningServer, alice: dict[str, str]
) -> None:
    token = alice["idToken"]  # the walkie-talkie app sends ID tokens
    room = await live.create_room(server, alice["accessToken"], "walkie")
    url = f"{server.ws_url}/graphql/realtime"
    auth = AppSyncJWTAuthentication(host=live.host_of(server), jwt=token)
    transport = AppSyncWebsocketsTransport(url=url, auth=auth)
    clip = "data:audio/wav;base64," + "UklGR" * 6000
    async with Client(transport=transport) as session:
        received: list[dict] = []

        async def listen() -> None:
            async for result in session.subscribe(
                gql(seed.ON_CREATE_AUDIO_SEGMENT), variable_values={"roomId": room}
            ):
                received.append(result)
                if len(received) == 2:
                    return

        before = live.services(server).realtime.metrics.subscriptions
        listener = asyncio.create_task(listen())
        await live.wait_for_subscriptions(server, before + 1)
        sent = []
        for n in range(2):
            result = await live.graphql(
                server, token, seed.CREATE_AUDIO_SEGMENT, {"roomId": room, "data": f"{clip}{n}"}
            )
            sent.append(result["data"]["createAudioSegment"])
        await asyncio.wait_for(listener, 20)
    assert [r["onCreateAudioSegment"] for r in received] == sent
    assert received[0]["onCreateAudioSegment"]["userId"] == alice_sub(alice)


def alice_sub(tokens: dict[str, str]) -> str:
    body = tokens["idToken"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["sub"]


async def test_ws_appsync_no_subprotocol_offered_gets_none_in_the_accept(
    server: RunningServer, alice: dict[str, str]
) -> None:
    token = alice["accessToken"]
    header = live.header_b64(token, live.host_of(server))
    # websockets, like browsers, refuses an accept that names a subprotocol it did not offer
    async with websockets.connect(f"{server.ws_url}/graphql/realtime?header={header}&payload=e30=") as ws:
        assert ws.subprotocol is None
        await ws.send(json.dumps({"type": "connection_init"}))
        assert (await live.recv_json(ws))["type"] == "connection_ack"


async def test_ws_appsync_upgrade_without_credentials_is_http_401(server: RunningServer) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(f"{server.ws_url}/graphql/realtime", subprotocols=["graphql-ws"])
    response = refused.value.response
    assert response.status_code == 401
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert json.loads(response.body) == {
        "errors": [{"errorType": "UnauthorizedException", "message": "Missing authorization header"}]
    }


async def test_ws_appsync_bad_token_gets_connection_error_then_close(server: RunningServer) -> None:
    header = live.header_b64("not-a-jwt", live.host_of(server))
    async with websockets.connect(
        f"{server.ws_url}/graphql/realtime?header={header}&payload=e30=", subprotocols=["graphql-ws"]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        frame = await live.recv_json(ws)
        assert frame["type"] == "connection_error"
        (error,) = frame["payload"]["errors"]
        assert error["errorType"] == "UnauthorizedException" and error["errorCode"] == 401
        with pytest.raises(websockets.ConnectionClosed):
            await live.recv_json(ws)
        assert ws.close_code == 4401


async def test_ws_appsync_start_errors(server: RunningServer, alice: dict[str, str]) -> None:
    token = alice["accessToken"]
    auth = _auth(server, token)
    ws = await live.appsync_connect(server, token)
    try:
        # a query is not supported through the realtime channel (no id)
        frame = await live.appsync_start(ws, "q", "query { listRooms { nextToken } }", None, auth)
        assert frame == {
            "type": "error",
            "payload": {
                "errors": [
                    {
                        "errorType": "UnsupportedOperation",
                        "message": "query not supported through the realtime channel",
                    }
                ]
            },
        }
        # validation error, tied to the id
        frame = await live.appsync_start(ws, "v", "subscription { onCreateRoom { nope } }", None, auth)
        assert frame["type"] == "error" and frame["id"] == "v"
        assert "nope" in frame["payload"]["errors"][0]["message"]
        # bad per-start authorization
        frame = await live.appsync_start(
            ws, "u", seed.ON_CREATE_ROOM, None, {"Authorization": "garbage", "host": "x"}
        )
        assert frame["id"] == "u"
        assert frame["payload"]["errors"][0]["errorType"] == "UnauthorizedException"
        # duplicate id
        assert (await live.appsync_start(ws, "d", seed.ON_CREATE_ROOM, None, auth))["type"] == "start_ack"
        frame = await live.appsync_start(ws, "d", seed.ON_CREATE_ROOM, None, auth)
        assert frame["type"] == "error" and frame["id"] == "d"
        # the limit is 3 in this server
        for sub_id in ("e", "f"):
            ack = await live.appsync_start(ws, sub_id, seed.ON_CREATE_ROOM, None, auth)
            assert ack["type"] == "start_ack"
        frame = await live.appsync_start(ws, "g", seed.ON_CREATE_ROOM, None, auth)
        assert frame == {
            "type": "error",
            "id": "g",
            "payload": {
                "errors": [
                    {
                        "errorType": "MaxSubscriptionsReachedError",
                        "message": "Max number of 3 subscriptions reached",
                    }
                ]
            },
        }
        # unknown type and malformed frames: an error frame, the connection lives on
        await ws.send(json.dumps({"type": "bogus"}))
        frame = await live.recv_json(ws)
        assert frame["payload"]["errors"][0]["errorType"] == "UnsupportedOperation"
        await ws.send("{not json")
        assert (await live.recv_json(ws))["type"] == "error"
        await ws.send(b"\x00\x01binary")
        assert (await live.recv_json(ws))["type"] == "error"
        await ws.send(json.dumps({"type": "stop", "id": "unknown"}))
        assert await live.recv_json(ws) == {"type": "complete", "id": "unknown"}
        # still working: the three subscriptions receive a new room
        await live.create_room(server, token, "after-errors")
        ids = {(await live.recv_json(ws))["id"] for _ in range(3)}
        assert ids == {"d", "e", "f"}
    finally:
        await ws.close()


async def test_ws_appsync_field_auth_rule_checked_at_start(
    server: RunningServer, alice: dict[str, str]
) -> None:
    # No subscription field of the product schema carries a group rule; install one on the
    # server's session context to check that start enforces @aws_cognito_user_pools rules.
    state = server.app.state
    token = alice["accessToken"]
    ws = await live.appsync_connect(server, token)  # builds the context on first use
    original = state.realtime_context
    try:
        from dataclasses import replace

        state.realtime_context = replace(
            original,
            group_rules=lambda t, f: ["admin"] if (t, f) == ("Subscription", "onDeleteRoom") else None,
        )
        await ws.close()
        ws = await live.appsync_connect(server, token)
        query = "subscription { onDeleteRoom { id } }"
        frame = await live.appsync_start(ws, "x", query, None, _auth(server, token))
        assert frame == {
            "type": "error",
            "id": "x",
            "payload": {
                "errors": [
                    {
                        "errorType": "Unauthorized",
                        "message": "Not Authorized to access onDeleteRoom on type Subscription",
                    }
                ]
            },
        }
    finally:
        state.realtime_context = original
        await ws.close()


async def test_ws_appsync_signout_closes_the_users_sockets(server: RunningServer) -> None:
    bob = live.sign_up(server, "bob")
    carol = live.sign_up(server, "carol")
    bob_ws = await live.appsync_connect(server, bob["accessToken"])
    carol_ws = await live.appsync_connect(server, carol["accessToken"])
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            response = await client.post("/auth/signout", headers={"Authorization": bob["accessToken"]})
            assert response.status_code == 200, response.text
        with pytest.raises(websockets.ConnectionClosed):
            await live.recv_json(bob_ws)
        assert bob_ws.close_code == 4401
        await carol_ws.ping()
        assert carol_ws.close_code is None
    finally:
        await bob_ws.close()
        await carol_ws.close()
