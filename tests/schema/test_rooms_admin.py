"""`deleteRoom` is for members of `admin` only (`@aws_cognito_user_pools(cognito_groups: ["admin"])`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import LIST_ROOMS, Account, GraphQL, server_with_accounts
from tests.server import RunningServer

DELETE_ROOM = "mutation DeleteRoom($id: ID!) { deleteRoom(id: $id) { id name } }"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, list[Account]]]:
    data_dir = tmp_path_factory.mktemp("rooms") / "data"
    with server_with_accounts(data_dir, "alice", ("root", ["admin"])) as world:
        yield world


def _room_ids(client: GraphQL) -> set[str]:
    return {r["id"] for r in client.data(LIST_ROOMS, {"limit": 1000})["listRooms"]["items"]}


def test_delete_room_by_non_admin_is_unauthorized_field_error(
    world: tuple[RunningServer, list[Account]],
) -> None:
    server, (alice, _) = world
    client = GraphQL.chat_app(server, alice)
    room = client.create_room("own room")
    response = client.post(DELETE_ROOM, {"id": room["id"]})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"deleteRoom": None}
    (error,) = body["errors"]
    assert error["errorType"] == "Unauthorized"
    assert error["message"] == "Not Authorized to access deleteRoom on type Mutation"
    assert error["path"] == ["deleteRoom"]
    assert room["id"] in _room_ids(client)


def test_delete_room_by_admin(world: tuple[RunningServer, list[Account]]) -> None:
    server, (alice, root) = world
    room = GraphQL.chat_app(server, alice).create_room("doomed")
    admin = GraphQL.chat_app(server, root)
    assert admin.data(DELETE_ROOM, {"id": room["id"]})["deleteRoom"] == {"id": room["id"], "name": "doomed"}
    assert room["id"] not in _room_ids(admin)


def test_delete_room_by_admin_with_id_token(world: tuple[RunningServer, list[Account]]) -> None:
    server, (alice, root) = world
    room = GraphQL.chat_app(server, alice).create_room("doomed too")
    admin = GraphQL.walkie_talkie(server, root)
    assert admin.data(DELETE_ROOM, {"id": room["id"]})["deleteRoom"]["id"] == room["id"]


def test_delete_unknown_room_by_admin_is_not_found(world: tuple[RunningServer, list[Account]]) -> None:
    server, (_, root) = world
    error = GraphQL.chat_app(server, root).error(DELETE_ROOM, {"id": "no-such-room"})
    assert error["errorType"] == "NotFound"


def test_create_room_owner_is_the_username(world: tuple[RunningServer, list[Account]]) -> None:
    server, (alice, _) = world
    client = GraphQL.chat_app(server, alice)
    room = client.data('mutation { createRoom(input: {name: "mine"}) { id owner __typename } }')
    assert room["createRoom"]["owner"] == "alice"
    assert room["createRoom"]["__typename"] == "Room"


def test_create_room_with_blank_name_is_validation_error(world: tuple[RunningServer, list[Account]]) -> None:
    server, (alice, _) = world
    client = GraphQL.chat_app(server, alice)
    before = _room_ids(client)
    error = client.error('mutation { createRoom(input: {name: "   "}) { id } }')
    assert error["errorType"] == "ValidationException"
    assert _room_ids(client) == before
