"""AppSync subscription semantics end to end, through real mutations over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import helpers as seed
from tests.realtime import live
from tests.server import RunningServer, run_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data = Path(tmp_path_factory.mktemp("semantics")) / "data"
    with run_server(data, auto_confirm=True) as running:
        yield running


@pytest.fixture(scope="module")
def alice(server: RunningServer) -> dict[str, str]:
    return live.sign_up(server, "alice")


def _auth(server: RunningServer, token: str) -> dict[str, str]:
    return {"Authorization": token, "host": live.host_of(server)}


async def test_ws_semantics_payload_is_the_mutations_selection(
    server: RunningServer, alice: dict[str, str]
) -> None:
    token = alice["accessToken"]
    auth = _auth(server, token)
    room = await live.create_room(server, token, "sem")
    ws = await live.appsync_connect(server, token)
    try:
        # filtered on roomId, with aliases and __typename on the subscription side
        query = """subscription S($roomId: ID) {
            mine: onCreateMessageByRoomId(roomId: $roomId) {
              __typename key: id owner body: content { text }
            }
        }"""
        assert (await live.appsync_start(ws, "f", query, {"roomId": room}, auth))["type"] == "start_ack"
        # unfiltered (variable omitted) and selecting a field no mutation below selects
        wide = "subscription { onCreateMessageByRoomId { id createdAt } }"
        assert (await live.appsync_start(ws, "w", wide, None, auth))["type"] == "start_ack"

        # 1. The mutation selects no roomId: the filtered subscription gets nothing, the other one
        #    gets id, and null plus an error for the non-null createdAt it did not select.
        narrow = """mutation M($input: MessageInput!) { createMessage(input: $input) { id } }"""
        first = await live.graphql(
            server, token, narrow, {"input": {"roomId": room, "content": {"text": "a"}}}
        )
        frame = await live.recv_json(ws)
        assert frame["id"] == "w"
        assert frame["payload"]["data"] == {"onCreateMessageByRoomId": None}
        assert frame["payload"]["errors"][0]["path"] == ["onCreateMessageByRoomId", "createdAt"]
        assert first["data"]["createMessage"]["id"]

        # 2. Aliases on the mutation side do not matter: the payload is keyed by field names.
        aliased = """mutation M($input: MessageInput!) {
            made: createMessage(input: $input) { ident: id who: owner room: roomId content { t: text } }
        }"""
        second = await live.graphql(
            server, token, aliased, {"input": {"roomId": room, "content": {"text": "b"}}}
        )
        made = second["data"]["made"]
        frames = {f["id"]: f for f in [await live.recv_json(ws), await live.recv_json(ws)]}
        assert frames["f"]["payload"] == {
            "data": {
                "mine": {
                    "__typename": "Message",
                    "key": made["ident"],
                    "owner": "alice",
                    "body": {"text": "b"},
                }
            }
        }
        assert frames["w"]["payload"]["data"] is not None or frames["w"]["payload"]["errors"]
    finally:
        await ws.close()


async def test_ws_semantics_explicit_null_matches_only_null(
    server: RunningServer, alice: dict[str, str]
) -> None:
    token = alice["accessToken"]
    auth = _auth(server, token)
    room = await live.create_room(server, token, "nulls")
    ws = await live.appsync_connect(server, token)
    try:
        query = "subscription S($roomId: ID) { onCreateMessageByRoomId(roomId: $roomId) { id } }"
        ack = await live.appsync_start(ws, "null", query, {"roomId": None}, auth)
        assert ack["type"] == "start_ack"
        ack = await live.appsync_start(ws, "room", query, {"roomId": room}, auth)
        assert ack["type"] == "start_ack"
        await live.graphql(
            server, token, seed.CREATE_MESSAGE, {"input": {"roomId": room, "content": {"text": "x"}}}
        )
        frame = await live.recv_json(ws)
        assert frame["id"] == "room"  # a real roomId never equals an explicit null
        await ws.send('{"type":"stop","id":"room"}')
        assert await live.recv_json(ws) == {"type": "complete", "id": "room"}
    finally:
        await ws.close()


async def test_ws_semantics_other_rooms_are_not_delivered(
    server: RunningServer, alice: dict[str, str]
) -> None:
    token = alice["accessToken"]
    auth = _auth(server, token)
    room_a = await live.create_room(server, token, "a")
    room_b = await live.create_room(server, token, "b")
    ws = await live.appsync_connect(server, token)
    try:
        ack = await live.appsync_start(ws, "a", seed.ON_CREATE_AUDIO_SEGMENT, {"roomId": room_a}, auth)
        assert ack["type"] == "start_ack"
        for room, data in ((room_b, "for-b"), (room_a, "for-a")):
            await live.graphql(server, token, seed.CREATE_AUDIO_SEGMENT, {"roomId": room, "data": data})
        frame = await live.recv_json(ws)
        assert frame["payload"]["data"]["onCreateAudioSegment"]["data"] == "for-a"
    finally:
        await ws.close()
