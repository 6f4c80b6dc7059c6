"""Both seed apps' operations, sent verbatim over HTTP with the tokens each app really sends."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.helpers import (
    CREATE_AUDIO_SEGMENT,
    CREATE_AUDIO_SEGMENT_APOLLO,
    CREATE_MESSAGE,
    CREATE_ROOM,
    GET_ROOMS,
    GET_ROOMS_APOLLO,
    ISO_MILLIS,
    LIST_MESSAGES_FOR_ROOM,
    LIST_ROOMS,
    UPDATE_MESSAGE,
    UUID,
    Account,
    GraphQL,
    create_room_on_server,
    server_with_accounts,
)
from tests.server import RunningServer

CLIP = "data:audio/wav;base64," + "UklGRiQAAABXQVZFZm10IBAAAAABAAEA" * 900  # about 29 KB, as the app sends


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, list[Account]]]:
    with server_with_accounts(tmp_path_factory.mktemp("seed") / "data", "alice", "bob") as world:
        yield world


@pytest.fixture
def chat(world: tuple[RunningServer, list[Account]]) -> GraphQL:
    server, (alice, _) = world
    return GraphQL.chat_app(server, alice)


def test_chat_create_room_returns_server_set_fields(
    chat: GraphQL, world: tuple[RunningServer, list[Account]]
) -> None:
    room = chat.data(CREATE_ROOM, {"input": {"name": "General"}})["createRoom"]
    assert UUID.match(room["id"])
    assert room["name"] == "General"
    assert room["messages"] == {"items": [], "nextToken": None}
    assert ISO_MILLIS.match(room["createdAt"]) and ISO_MILLIS.match(room["updatedAt"])


def test_chat_list_rooms_shows_created_room_with_its_messages(chat: GraphQL) -> None:
    room = chat.create_room("Listed")
    message = chat.create_message(room["id"], "hello")
    rooms = chat.data(LIST_ROOMS)["listRooms"]
    listed = next(r for r in rooms["items"] if r["id"] == room["id"])
    assert listed["name"] == "Listed"
    assert listed["createdAt"] == room["createdAt"]
    assert listed["messages"]["items"] == [
        {
            "id": message["id"],
            "owner": "alice",
            "createdAt": message["createdAt"],
            "updatedAt": message["updatedAt"],
            "roomId": room["id"],
        }
    ]
    assert rooms["nextToken"] is None


def test_chat_create_message_sets_id_owner_and_times(chat: GraphQL) -> None:
    room = chat.create_room()
    variables = {"input": {"content": {"text": "hi there"}, "roomId": room["id"], "id": "client-chosen"}}
    message = chat.data(CREATE_MESSAGE, variables)["createMessage"]
    assert UUID.match(message["id"]) and message["id"] != "client-chosen"
    assert message["content"] == {"text": "hi there", "imageId": None}
    assert message["owner"] == "alice"
    assert message["roomId"] == room["id"]
    assert ISO_MILLIS.match(message["createdAt"])
    assert message["updatedAt"] == message["createdAt"]


def test_chat_create_message_ids_are_unique(chat: GraphQL) -> None:
    room = chat.create_room()
    ids = {chat.create_message(room["id"], f"m{i}")["id"] for i in range(5)}
    assert len(ids) == 5


def test_chat_list_messages_desc_is_newest_first(chat: GraphQL) -> None:
    room = chat.create_room()
    sent = [chat.create_message(room["id"], f"message {i}") for i in range(4)]
    body = chat.data(LIST_MESSAGES_FOR_ROOM, {"roomId": room["id"], "sortDirection": "DESC"})
    listed = body["listMessagesForRoom"]
    assert [m["id"] for m in listed["items"]] == [m["id"] for m in reversed(sent)]
    assert listed["items"][0] == sent[-1]
    assert listed["nextToken"] is None


def test_chat_list_messages_default_is_oldest_first(chat: GraphQL) -> None:
    room = chat.create_room()
    sent = [chat.create_message(room["id"], f"message {i}") for i in range(3)]
    listed = chat.data(LIST_MESSAGES_FOR_ROOM, {"roomId": room["id"]})["listMessagesForRoom"]["items"]
    assert [m["id"] for m in listed] == [m["id"] for m in sent]


def test_chat_update_message_changes_content_and_updated_at(chat: GraphQL) -> None:
    room = chat.create_room()
    original = chat.create_message(room["id"], "draft")
    time.sleep(0.005)  # so the millisecond timestamp moves on
    variables = {"input": {"id": original["id"], "roomId": room["id"], "content": {"text": "final"}}}
    updated = chat.data(UPDATE_MESSAGE, variables)["updateMessage"]
    assert updated["id"] == original["id"]
    assert updated["content"] == {"text": "final", "imageId": None}
    assert updated["owner"] == "alice"
    assert updated["createdAt"] == original["createdAt"]
    assert ISO_MILLIS.match(updated["updatedAt"]) and updated["updatedAt"] > original["updatedAt"]
    assert chat.messages(room["id"]) == [updated]


def test_chat_accepts_bearer_prefixed_access_token(world: tuple[RunningServer, list[Account]]) -> None:
    server, (alice, _) = world
    client = GraphQL(server.url, f"Bearer {alice.tokens.access_token}")
    assert client.data(LIST_ROOMS)["listRooms"]["items"] is not None


def test_walkie_talkie_get_rooms_with_id_token(world: tuple[RunningServer, list[Account]]) -> None:
    server, (_, bob) = world
    room_id = create_room_on_server(server, "seeded")
    client = GraphQL.walkie_talkie(server, bob)
    assert {"id": room_id} in client.data(GET_ROOMS)["rooms"]
    assert {"id": room_id, "__typename": "Room"} in client.data(GET_ROOMS_APOLLO)["rooms"]


@pytest.mark.parametrize("document", [CREATE_AUDIO_SEGMENT, CREATE_AUDIO_SEGMENT_APOLLO])
def test_walkie_talkie_create_audio_segment(
    world: tuple[RunningServer, list[Account]], document: str
) -> None:
    server, (_, bob) = world
    room_id = create_room_on_server(server, "talk")
    client = GraphQL.walkie_talkie(server, bob)
    before = int(time.time() * 1000)
    segment = client.data(document, {"roomId": room_id, "data": CLIP})["createAudioSegment"]
    after = int(time.time() * 1000)
    assert segment["data"] == CLIP
    assert segment["roomId"] == room_id
    assert segment["userId"] == bob.sub
    assert segment["timestamp"].isdigit() and before <= int(segment["timestamp"]) <= after
    if "__typename" in document:
        assert segment["__typename"] == "AudioSegment"


def test_walkie_talkie_id_token_and_chat_access_token_are_the_same_user(
    world: tuple[RunningServer, list[Account]],
) -> None:
    server, (alice, _) = world
    room = GraphQL.walkie_talkie(server, alice).create_room("via id token")
    message = GraphQL.walkie_talkie(server, alice).create_message(room["id"], "x")
    assert message["owner"] == "alice"
    assert GraphQL.chat_app(server, alice).messages(room["id"]) == [message]
