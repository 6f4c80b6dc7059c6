"""A request may read at most CHATSERVER_MAX_LIST_ITEMS list items; nested lists count for every parent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import LIST_ROOMS, GraphQL, server_with_accounts
from tests.server import RunningServer

BUDGET = 950


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, GraphQL]]:
    data_dir = tmp_path_factory.mktemp("budget") / "data"
    with server_with_accounts(data_dir, "alice", max_list_items=BUDGET) as (server, accounts):
        client = GraphQL.chat_app(server, accounts[0])
        for index in range(9):
            room = client.create_room(f"room {index}")
            client.create_message(room["id"], "hello")
        yield server, client


def test_seed_list_rooms_within_the_budget_works(chat: tuple[RunningServer, GraphQL]) -> None:
    _, client = chat
    # listRooms(limit: 9) charges 9, then 9 rooms x messages(default limit 100) charge 900: 909 <= 950
    rooms = client.data(LIST_ROOMS, {"limit": 9})["listRooms"]["items"]
    assert len(rooms) == 9
    assert all(len(room["messages"]["items"]) == 1 for room in rooms)


def test_nested_lists_over_the_budget_are_refused(chat: tuple[RunningServer, GraphQL]) -> None:
    _, client = chat
    # the default listRooms limit (100) plus 9 rooms x 100 messages = 1000 > 950
    body = client.execute(LIST_ROOMS, {})
    assert body["data"]["listRooms"]["items"] is not None
    errors = body["errors"]
    assert errors and all(e["errorType"] == "ResolverExecutionLimitReached" for e in errors)
    assert "nextToken" in errors[0]["message"]


def test_one_list_over_the_budget_is_refused_before_reading(chat: tuple[RunningServer, GraphQL]) -> None:
    _, client = chat
    body = client.execute(
        "query { listRooms(limit: 950) { items { id } } listUsers(limit: 1) { items { id } } }", {}
    )
    assert body["data"]["listRooms"]["items"]
    assert body["data"]["listUsers"] is None
    assert body["errors"][0]["path"] == ["listUsers"]
    assert body["errors"][0]["errorType"] == "ResolverExecutionLimitReached"
