"""Lists page by `limit` and opaque `nextToken`s bound to their query, over the `messages-by-room-id` order."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from chatserver.persistence.tables import messages
from tests.helpers import GraphQL, on_server_loop, server_with_accounts
from tests.server import RunningServer

PAGE = """
query Page($roomId: ID!, $sortDirection: ModelSortDirection, $limit: Int, $nextToken: String) {
  listMessagesForRoom(roomId: $roomId, sortDirection: $sortDirection, limit: $limit, nextToken: $nextToken) {
    items { id createdAt }
    nextToken
  }
}
"""
ROOM_PAGE = """
query RoomPage($id: ID!, $limit: Int, $nextToken: String) {
  getRoom(id: $id) {
    id
    messages(sortDirection: DESC, limit: $limit, nextToken: $nextToken) { items { id } nextToken }
  }
}
"""
ROOMS_PAGE = """
query Rooms($limit: Int, $nextToken: String) { listRooms(limit: $limit, nextToken: $nextToken) { items { id } nextToken } }
"""
SEEDED = 150
DISTINCT_TIMES = 20  # so most messages share their createdAt with others: ties are broken by id


@dataclass(frozen=True, slots=True)
class World:
    server: RunningServer
    client: GraphQL
    room_id: str  # SEEDED messages with many equal createdAt values
    other_room_id: str
    expected_asc: list[str]  # message ids in (createdAt, id) order


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("pages") / "data"
    with server_with_accounts(data_dir, "alice") as (server, (alice,)):
        client = GraphQL.chat_app(server, alice)
        room_id = client.create_room("busy")["id"]
        other_room_id = client.create_room("other")["id"]
        client.create_message(other_room_id, "elsewhere")
        rows = [
            {
                "id": str(uuid.uuid4()),
                "room_id": room_id,
                "owner": "alice",
                "text": f"seeded {i}",
                "image_id": None,
                "created_at": f"2024-01-01T00:00:{i % DISTINCT_TIMES:02d}.000Z",
                "updated_at": f"2024-01-01T00:00:{i % DISTINCT_TIMES:02d}.000Z",
            }
            for i in range(SEEDED)
        ]
        on_server_loop(server, _insert(server.app.state.services.engine, rows))
        expected = [r["id"] for r in sorted(rows, key=lambda r: (r["created_at"], r["id"]))]
        yield World(server, client, room_id, other_room_id, expected)


async def _insert(engine: AsyncEngine, rows: list[dict]) -> None:
    async with engine.begin() as conn:
        await conn.execute(messages.insert(), rows)


def _page(world: World, **variables: object) -> dict:
    variables.setdefault("roomId", world.room_id)
    return world.client.data(PAGE, variables)["listMessagesForRoom"]


def _all_pages(world: World, direction: str, limit: int) -> list[str]:
    ids: list[str] = []
    token = None
    for _ in range(SEEDED + 1):
        page = _page(world, sortDirection=direction, limit=limit, nextToken=token)
        ids.extend(m["id"] for m in page["items"])
        token = page["nextToken"]
        if token is None:
            return ids
    raise AssertionError("pagination never ended")


def test_default_limit_is_100(world: World) -> None:
    first = _page(world)
    assert [m["id"] for m in first["items"]] == world.expected_asc[:100]
    assert first["nextToken"] is not None
    rest = _page(world, nextToken=first["nextToken"])
    assert [m["id"] for m in rest["items"]] == world.expected_asc[100:]
    assert rest["nextToken"] is None


@pytest.mark.parametrize("limit", [3, 50, 149])
def test_ascending_pages_cover_every_message_once_in_order(world: World, limit: int) -> None:
    assert _all_pages(world, "ASC", limit) == world.expected_asc


@pytest.mark.parametrize("limit", [3, 50, 149])
def test_descending_pages_cover_every_message_once_newest_first(world: World, limit: int) -> None:
    assert _all_pages(world, "DESC", limit) == world.expected_asc[::-1]


def test_exact_last_page_has_null_next_token(world: World) -> None:
    page = _page(world, limit=SEEDED)
    assert len(page["items"]) == SEEDED
    assert page["nextToken"] is None


def test_limit_1000_is_allowed(world: World) -> None:
    page = _page(world, limit=1000)
    assert len(page["items"]) == SEEDED
    assert page["nextToken"] is None


@pytest.mark.parametrize("limit", [0, -1, 1001])
def test_limit_out_of_range_is_validation_error(world: World, limit: int) -> None:
    error = world.client.error(PAGE, {"roomId": world.room_id, "limit": limit})
    assert error["errorType"] == "ValidationException"
    assert error["path"] == ["listMessagesForRoom"]


def test_token_from_one_room_is_refused_for_another(world: World) -> None:
    token = _page(world, limit=5)["nextToken"]
    body = world.client.execute(PAGE, {"roomId": world.other_room_id, "limit": 5, "nextToken": token})
    assert body["data"] == {"listMessagesForRoom": None}
    assert body["errors"][0]["errorType"] == "InvalidNextToken"


def test_token_from_ascending_is_refused_for_descending(world: World) -> None:
    token = _page(world, limit=5, sortDirection="ASC")["nextToken"]
    error = world.client.error(
        PAGE, {"roomId": world.room_id, "limit": 5, "sortDirection": "DESC", "nextToken": token}
    )
    assert error["errorType"] == "InvalidNextToken"


def _tampered(token: str) -> list[str]:
    body, signature = token.split(".")
    flip = {"A": "B"}.get(body[3], "A")
    return [
        body[:3] + flip + body[4:] + "." + signature,
        body + "." + signature[::-1],
        body,
        token + "x",
        "garbage",
        "",
        "a.b",
        "x" * 5000,
    ]


def test_tampered_tokens_are_invalid_next_token(world: World) -> None:
    token = _page(world, limit=5)["nextToken"]
    for bad in _tampered(token):
        error = world.client.error(PAGE, {"roomId": world.room_id, "limit": 5, "nextToken": bad})
        assert error["errorType"] == "InvalidNextToken", bad


def test_room_messages_nested_connection_pages_desc(world: World) -> None:
    ids: list[str] = []
    token = None
    while True:
        room = world.client.data(ROOM_PAGE, {"id": world.room_id, "limit": 40, "nextToken": token})["getRoom"]
        assert room["id"] == world.room_id
        ids.extend(m["id"] for m in room["messages"]["items"])
        token = room["messages"]["nextToken"]
        if token is None:
            break
    assert ids == world.expected_asc[::-1]


def test_list_rooms_pages(world: World) -> None:
    everything = world.client.data(ROOMS_PAGE, {"limit": 1000})["listRooms"]
    paged: list[str] = []
    token = None
    while True:
        page = world.client.data(ROOMS_PAGE, {"limit": 1, "nextToken": token})["listRooms"]
        paged.extend(r["id"] for r in page["items"])
        token = page["nextToken"]
        if token is None:
            break
    assert paged == [r["id"] for r in everything["items"]]
    assert {world.room_id, world.other_room_id} <= set(paged)


def test_list_rooms_refuses_message_token(world: World) -> None:
    token = _page(world, limit=5)["nextToken"]
    assert world.client.error(ROOMS_PAGE, {"nextToken": token})["errorType"] == "InvalidNextToken"
