"""GET /graphql (queries and the playground), CORS for browser apps, and introspection switched off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import (
    HTTP,
    LIST_MESSAGES_FOR_ROOM,
    Account,
    GraphQL,
    assert_no_stack_trace,
    server_with_accounts,
)
from tests.server import RunningServer

World = tuple[RunningServer, Account, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with server_with_accounts(tmp_path_factory.mktemp("get") / "data", "alice") as (server, (alice,)):
        client = GraphQL.chat_app(server, alice)
        room_id = client.create_room("readable")["id"]
        client.create_message(room_id, "hello over GET")
        yield server, alice, room_id


def _get(world: World, params: dict[str, str], **headers: str) -> httpx.Response:
    server, alice, _ = world
    response = httpx.get(
        f"{server.url}/graphql",
        params=params,
        headers={"Authorization": alice.tokens.access_token, **headers},
        **HTTP,
    )
    assert_no_stack_trace(response.text)
    return response


def test_get_runs_a_query(world: World) -> None:
    _, _, room_id = world
    params = {
        "query": LIST_MESSAGES_FOR_ROOM,
        "variables": json.dumps({"roomId": room_id, "sortDirection": "DESC"}),
    }
    response = _get(world, params)
    assert response.status_code == 200
    items = response.json()["data"]["listMessagesForRoom"]["items"]
    assert [m["content"]["text"] for m in items] == ["hello over GET"]


def test_get_with_operation_name(world: World) -> None:
    response = _get(
        world, {"query": "query A { rooms { id } } query B { me { username } }", "operationName": "B"}
    )
    assert response.json() == {"data": {"me": {"username": "alice"}}}


def test_get_refuses_a_mutation_and_writes_nothing(world: World) -> None:
    server, alice, room_id = world
    mutation = (
        f'mutation {{ createMessage(input: {{roomId: "{room_id}", content: {{text: "via GET"}}}}) {{ id }} }}'
    )
    response = _get(world, {"query": mutation})
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorType"] == "MalformedHttpRequestException"
    assert len(GraphQL.chat_app(server, alice).messages(room_id)) == 1


def test_get_with_bad_variables_is_400(world: World) -> None:
    response = _get(world, {"query": LIST_MESSAGES_FOR_ROOM, "variables": "{not json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorType"] == "MalformedHttpRequestException"


def test_get_query_needs_a_token(world: World) -> None:
    server, _, _ = world
    response = httpx.get(f"{server.url}/graphql", params={"query": "{ rooms { id } }"}, **HTTP)
    assert response.status_code == 401
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"


def test_browser_gets_the_playground_without_a_token(world: World) -> None:
    server, _, _ = world
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = httpx.get(f"{server.url}/graphql", headers={"Accept": accept}, **HTTP)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text.lower()
    assert "graphiql" in page
    assert "graphql-transport-ws" in page or "subscription" in page


def test_cors_preflight_from_the_chat_app(world: World) -> None:
    server, _, _ = world
    headers = {
        "Origin": "http://localhost:3000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-amz-user-agent",
    }
    response = httpx.options(f"{server.url}/graphql", headers=headers, **HTTP)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "x-amz-user-agent", "x-api-key", "x-amz-date"} <= allowed
    assert "POST" in response.headers["access-control-allow-methods"]


def test_cors_actual_request_carries_allow_origin(world: World) -> None:
    server, alice, _ = world
    headers = {"Origin": "http://localhost:3000", "Authorization": alice.tokens.access_token}
    response = httpx.post(
        f"{server.url}/graphql", json={"query": "{ rooms { id } }"}, headers=headers, **HTTP
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_cors_refuses_other_origins(world: World) -> None:
    server, _, _ = world
    headers = {
        "Origin": "http://evil.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    response = httpx.options(f"{server.url}/graphql", headers=headers, **HTTP)
    assert response.headers.get("access-control-allow-origin") != "http://evil.example"


def test_introspection_on_by_default(world: World) -> None:
    server, alice, _ = world
    body = GraphQL.chat_app(server, alice).data("{ __schema { queryType { name } } }")
    assert body == {"__schema": {"queryType": {"name": "Query"}}}


def test_introspection_off_refuses_schema_and_type(tmp_path: Path) -> None:
    with server_with_accounts(tmp_path / "data", "alice", introspection=False) as (server, (alice,)):
        client = GraphQL.chat_app(server, alice)
        for query in ("{ __schema { types { name } } }", '{ __type(name: "Room") { name } }'):
            body = client.execute(query)
            assert body["data"] is None
            assert "introspection" in body["errors"][0]["message"].lower()
        assert client.data("{ rooms { id __typename } }") == {"rooms": []}
