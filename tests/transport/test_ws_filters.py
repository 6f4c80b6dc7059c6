"""Amplify's `filter` subscription argument end to end: over the three WebSocket protocols, through the in-memory
and the Redis broker, with AppSync's rules (unselected fields never match) and limits (refused at start)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Account, GraphQL, server_with_accounts
from tests.realtime.brokers import BROKER_KINDS, redis_url, unique_prefix
from tests.realtime.protocols import PROTOCOLS, LiveSocket
from tests.server import RunningServer

FILTERED_MESSAGES = """
  subscription OnCreateMessageByRoomId($roomId: ID, $filter: ModelSubscriptionMessageFilterInput) {
    onCreateMessageByRoomId(roomId: $roomId, filter: $filter) {
      id
      content {
        text
        imageId
      }
      owner
      createdAt
      updatedAt
      roomId
    }
  }
"""

CREATE_MESSAGE_WITHOUT_OWNER = """
  mutation CreateMessage($input: MessageInput!) {
    createMessage(input: $input) { id content { text } roomId }
  }
"""

FILTERED_ROOMS = """
  subscription OnCreateRoom($filter: ModelSubscriptionRoomFilterInput) {
    onCreateRoom(filter: $filter) { id name owner }
  }
"""

# Three rules, all on the published payload: not from mallory, mentions "urgent", created this millennium.
THREE_RULES = {
    "owner": {"ne": "mallory"},
    "content": {"text": {"contains": "urgent"}},
    "createdAt": {"ge": "2000-01-01T00:00:00.000Z"},
}


@dataclass(frozen=True, slots=True)
class World:
    server: RunningServer
    alice: Account
    mallory: Account

    def chat(self, account: Account) -> GraphQL:
        return GraphQL.chat_app(self.server, account)


@pytest.fixture(scope="module", params=BROKER_KINDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings: dict[str, Any] = {}
    if request.param == "redis":
        settings = {"broker_url": redis_url(), "broker_prefix": unique_prefix()}
    data = Path(tmp_path_factory.mktemp(f"filters-{request.param}")) / "data"
    with server_with_accounts(data, "alice", "mallory", **settings) as (server, (alice, mallory)):
        yield World(server, alice, mallory)


def _message(world: World, account: Account, room: str, text: str) -> dict[str, Any]:
    return world.chat(account).create_message(room, text)


@pytest.mark.parametrize("kind", PROTOCOLS)
async def test_ws_filter_delivers_only_matching_messages(world: World, kind: str) -> None:
    room = world.chat(world.alice).create_room(f"filters {kind}")["id"]
    socket = await LiveSocket.connect(kind, world.server, world.alice.tokens.access_token)
    try:
        assert await socket.start("f", FILTERED_MESSAGES, {"roomId": room, "filter": THREE_RULES}) is None
        _message(world, world.alice, room, "all calm")  # no "urgent"
        _message(world, world.mallory, room, "urgent, says mallory")  # from mallory
        first = _message(world, world.alice, room, "urgent: the kettle")
        second = _message(world, world.alice, room, "still urgent")
        # Delivery keeps commit order, so the two refused messages would have come first.
        assert await socket.next_data("onCreateMessageByRoomId") == first
        assert await socket.next_data("onCreateMessageByRoomId") == second
    finally:
        await socket.close()


@pytest.mark.parametrize("kind", PROTOCOLS)
async def test_ws_filter_over_the_limit_is_refused_at_start(world: World, kind: str) -> None:
    socket = await LiveSocket.connect(kind, world.server, world.alice.tokens.access_token)
    try:
        six = {"owner": {"in": ["a", "b", "c", "d", "e", "f"]}}
        frame = await socket.start("big", FILTERED_MESSAGES, {"filter": six})
        assert frame is not None and frame["type"] == "error", frame
        assert frame["id"] == "big"
        (message,) = socket.error_messages(frame)
        assert "`owner.in` has 6 values" in message and "at most 5 values" in message
        if kind == "appsync":
            assert frame["payload"]["errors"][0]["errorType"] == "BadRequestException"
        deep: dict[str, Any] = {"owner": {"eq": "alice"}}
        for _ in range(5):
            deep = {"or": [deep]}
        frame = await socket.start("deep", FILTERED_MESSAGES, {"filter": deep})
        assert frame is not None and "more than 5 levels deep" in socket.error_messages(frame)[0]
        # The connection is unharmed: a filter within the limits starts and delivers.
        room = world.chat(world.alice).create_room("after refusal")["id"]
        assert (
            await socket.start(
                "ok", FILTERED_MESSAGES, {"roomId": room, "filter": {"owner": {"eq": "alice"}}}
            )
            is None
        )
        sent = _message(world, world.alice, room, "hello")
        assert await socket.next_data("onCreateMessageByRoomId") == sent
    finally:
        await socket.close()


async def test_ws_filter_on_a_field_the_mutation_did_not_select_never_matches(world: World) -> None:
    room = world.chat(world.alice).create_room("unselected")["id"]
    socket = await LiveSocket.connect("appsync", world.server, world.alice.tokens.access_token)
    try:
        by_owner = {"roomId": room, "filter": {"owner": {"ne": "mallory"}}}
        assert await socket.start("filtered", FILTERED_MESSAGES, by_owner) is None
        assert await socket.start("plain", FILTERED_MESSAGES, {"roomId": room}) is None
        variables = {"input": {"content": {"text": "no owner selected"}, "roomId": room}}
        world.chat(world.alice).data(CREATE_MESSAGE_WITHOUT_OWNER, variables)
        frame = await socket.next()
        assert frame["id"] == "plain"  # owner is non-null and unselected: null bubbles up, with its error
        assert frame["payload"]["data"] == {"onCreateMessageByRoomId": None}
        assert frame["payload"]["errors"][0]["path"] == ["onCreateMessageByRoomId", "owner"]
        sent = _message(world, world.alice, room, "owner selected")
        received = {(await socket.next())["id"] for _ in range(2)}
        assert received == {"filtered", "plain"}
        assert sent["owner"] == "alice"
    finally:
        await socket.close()


async def test_ws_filter_on_rooms_and_with_or(world: World) -> None:
    socket = await LiveSocket.connect("graphql-transport-ws", world.server, world.alice.tokens.access_token)
    try:
        either = {"or": [{"name": {"beginsWith": "ops-"}}, {"name": {"eq": "general"}}]}
        assert await socket.start("rooms", FILTERED_ROOMS, {"filter": either}) is None
        world.chat(world.alice).create_room("random")
        ops = world.chat(world.alice).create_room("ops-pager")
        general = world.chat(world.mallory).create_room("general")
        assert (await socket.next_data("onCreateRoom"))["id"] == ops["id"]
        assert (await socket.next_data("onCreateRoom"))["id"] == general["id"]
    finally:
        await socket.close()


async def test_ws_filter_of_the_wrong_shape_is_a_validation_error(world: World) -> None:
    socket = await LiveSocket.connect("appsync", world.server, world.alice.tokens.access_token)
    try:
        frame = await socket.start("bad", FILTERED_MESSAGES, {"filter": {"owner": {"startsWith": "a"}}})
        assert frame is not None and frame["id"] == "bad"
        assert "startsWith" in socket.error_messages(frame)[0]
        frame = await socket.start("worse", FILTERED_MESSAGES, {"filter": "owner = alice"})
        assert frame is not None and frame["type"] == "error"
    finally:
        await socket.close()
