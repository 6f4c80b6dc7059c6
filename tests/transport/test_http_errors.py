"""Bad requests over HTTP get AppSync's status codes and error shapes, never a 500 or a stack trace, and write nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from chatserver.auth.tokens import TokenIssuer, TokenSubject
from tests.helpers import (
    CREATE_MESSAGE,
    HTTP,
    LIST_MESSAGES_FOR_ROOM,
    Account,
    GraphQL,
    assert_no_stack_trace,
    server_with_accounts,
)
from tests.server import RunningServer

MISSING_BODY = {"errors": [{"errorType": "UnauthorizedException", "message": "Missing authorization header"}]}


@dataclass(frozen=True, slots=True)
class World:
    server: RunningServer
    alice: Account
    client: GraphQL
    room_id: str

    @property
    def url(self) -> str:
        return f"{self.server.url}/graphql"

    def raw(
        self, content: bytes | str, content_type: str = "application/json", **headers: str
    ) -> httpx.Response:
        headers = {"Authorization": self.alice.tokens.access_token, "content-type": content_type, **headers}
        response = httpx.post(self.url, content=content, headers=headers, **HTTP)
        assert_no_stack_trace(response.text)
        return response

    def listed(self) -> list[dict[str, Any]]:
        return self.client.messages(self.room_id)


@pytest.fixture(scope="module")
def module_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with server_with_accounts(tmp_path_factory.mktemp("errors") / "data", "alice") as (server, (alice,)):
        client = GraphQL.chat_app(server, alice)
        room_id = client.create_room("quiet")["id"]
        client.create_message(room_id, "the only message")
        yield World(server, alice, client, room_id)


@pytest.fixture
def world(module_world: World) -> Iterator[World]:
    """The module's world; after each test, the room still holds exactly its one message."""
    before = module_world.listed()
    yield module_world
    assert module_world.listed() == before


def _create_message_body(world: World, text: str = "should not be written") -> dict[str, Any]:
    return {
        "query": CREATE_MESSAGE,
        "variables": {"input": {"content": {"text": text}, "roomId": world.room_id}},
    }


# --- authorization header ---


def test_missing_token_is_401_with_appsync_body(world: World) -> None:
    response = httpx.post(world.url, json=_create_message_body(world), **HTTP)
    assert response.status_code == 401
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert response.json() == MISSING_BODY


@pytest.mark.parametrize("header", ["", "Bearer"])
def test_empty_token_is_missing(world: World, header: str) -> None:
    response = httpx.post(
        world.url, json=_create_message_body(world), headers={"Authorization": header}, **HTTP
    )
    assert response.status_code == 401
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("garbage", "Unable to parse JWT token."),
        ("a.b.c", "Unable to parse JWT token."),
        ("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "Valid authorization header not provided."),
    ],
)
def test_bad_token_is_401(world: World, token: str, message: str) -> None:
    response = httpx.post(
        world.url, json=_create_message_body(world), headers={"Authorization": token}, **HTTP
    )
    assert response.status_code == 401
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert response.json() == {"errors": [{"errorType": "UnauthorizedException", "message": message}]}


def test_tampered_signature_is_401(world: World) -> None:
    head, claims, signature = world.alice.tokens.access_token.split(".")
    forged = f"{head}.{claims}.{signature[:-4]}AAAA"
    response = httpx.post(
        world.url, json=_create_message_body(world), headers={"Authorization": forged}, **HTTP
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "Valid authorization header not provided."


def test_expired_token_is_401_token_has_expired(world: World) -> None:
    services = world.server.app.state.services
    settings = services.settings
    issuer = TokenIssuer(
        services.keys,
        issuer=settings.issuer,
        client_id=settings.client_id,
        id_token_ttl=60,
        access_token_ttl=60,
    )
    an_hour_ago = int(time.time()) - 3600
    subject = TokenSubject(
        sub=world.alice.sub, username="alice", email=world.alice.email, email_verified=True
    )
    tokens = issuer.issue(subject, auth_time=an_hour_ago, origin_jti="expired-session", now=an_hour_ago)
    for token in (tokens.access_token, tokens.id_token, f"Bearer {tokens.access_token}"):
        response = httpx.post(
            world.url, json=_create_message_body(world), headers={"Authorization": token}, **HTTP
        )
        assert response.status_code == 401
        assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"
        assert response.json() == {
            "errors": [{"errorType": "UnauthorizedException", "message": "Token has expired."}]
        }


def test_bearer_prefix_is_accepted(world: World) -> None:
    client = GraphQL(world.server.url, f"Bearer {world.alice.tokens.id_token}")
    assert len(client.messages(world.room_id)) == 1


# --- bodies ---


def test_empty_body_is_400_malformed(world: World) -> None:
    response = world.raw(b"")
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"errorType": "MalformedHttpRequestException", "message": "Request body is empty."}]
    }


@pytest.mark.parametrize(
    "body",
    [
        b"meow",
        b"{}",
        b"[]",
        b"null",
        b"42",
        b'"query"',
        b'{"query": 5}',
        b'{"query": ""}',
        b"\xff\xfe{",
        b"{" * 10000,
    ],
    ids=[
        "meow",
        "empty-object",
        "array",
        "null",
        "number",
        "string",
        "query-number",
        "query-empty",
        "bad-utf8",
        "deep",
    ],
)
def test_unparsable_body_is_400_malformed(world: World, body: bytes) -> None:
    response = world.raw(body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorType"] == "MalformedHttpRequestException"


def test_deeply_nested_json_is_400_malformed(world: World) -> None:
    response = world.raw(b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorType"] == "MalformedHttpRequestException"


def test_unpaired_surrogate_in_variables_is_400_malformed(world: World) -> None:
    # json.dumps escapes the lone surrogate as \ud800: valid JSON text, but no UTF-8 string.
    response = world.raw(json.dumps(_create_message_body(world, "bad \ud800 text")))
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorType"] == "MalformedHttpRequestException"


def test_surrogate_pair_in_variables_is_a_character(world: World) -> None:
    room_id = world.client.create_room("emoji")["id"]
    response = world.raw(
        json.dumps(
            {
                "query": CREATE_MESSAGE,
                "variables": {"input": {"content": {"text": "\U0001f600"}, "roomId": room_id}},
            }
        )
    )
    assert response.json()["data"]["createMessage"]["content"]["text"] == "\U0001f600"


def test_unpaired_surrogate_in_query_literal_is_an_error(world: World) -> None:
    literal = '{roomId: "ROOM", content: {text: "\\ud800"}}'.replace("ROOM", world.room_id)
    query = f"mutation {{ createMessage(input: {literal}) {{ id }} }}"
    body = world.client.execute(query)
    assert body["errors"] and body["errors"][0]["errorType"] != "InternalFailure"


@pytest.mark.parametrize(
    "payload",
    [
        {"query": CREATE_MESSAGE, "variables": [1, 2]},
        {"query": CREATE_MESSAGE, "variables": "{}"},
        {"query": LIST_MESSAGES_FOR_ROOM, "operationName": 7},
    ],
)
def test_wrong_envelope_types_are_400_malformed(world: World, payload: dict[str, Any]) -> None:
    response = world.raw(json.dumps(payload))
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorType"] == "MalformedHttpRequestException"


def test_json_sent_as_application_graphql_is_parsed(world: World) -> None:
    body = json.dumps({"query": LIST_MESSAGES_FOR_ROOM, "variables": {"roomId": world.room_id}})
    response = world.raw(body, "application/graphql")
    assert response.status_code == 200
    assert len(response.json()["data"]["listMessagesForRoom"]["items"]) == 1


def test_variables_null_is_accepted(world: World) -> None:
    response = world.raw(json.dumps({"query": "{ rooms { id } }", "variables": None}))
    assert response.status_code == 200
    assert world.room_id in {r["id"] for r in response.json()["data"]["rooms"]}


def test_body_over_1_mib_is_413(world: World) -> None:
    payload = _create_message_body(world, "x" * (1024 * 1024))
    response = world.raw(json.dumps(payload))
    assert response.status_code == 413
    assert response.json()["errors"][0]["errorType"] == "PayloadTooLargeException"


def test_body_over_1_mib_without_content_length_is_413(world: World) -> None:
    chunk = json.dumps(_create_message_body(world, "y" * 1000)).encode()

    def chunks() -> Iterator[bytes]:
        yield chunk[:-2]
        for _ in range(1100):
            yield b" " * 1000
        yield chunk[-2:]

    headers = {"Authorization": world.alice.tokens.access_token, "content-type": "application/json"}
    response = httpx.post(world.url, content=chunks(), headers=headers, **HTTP)
    assert response.status_code == 413
    assert response.json()["errors"][0]["errorType"] == "PayloadTooLargeException"


# --- documents that parse as JSON but not as GraphQL, or break the rules ---


def _errors(world: World, query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    body = world.client.execute(query, variables)
    assert body.get("errors"), body
    return body["errors"]


def test_graphql_syntax_error_is_200_with_error(world: World) -> None:
    (error,) = _errors(world, "mutation { createMessage(input: ")
    assert "Syntax Error" in error["message"]
    assert error["locations"]


@pytest.mark.parametrize(
    "variables",
    [
        {"input": {"content": {"text": 5}, "roomId": "r"}},
        {"input": {"content": "text", "roomId": "r"}},
        {"input": {"content": {"text": "x"}}},
        {"input": {"content": {"text": "x"}, "roomId": "r", "colour": "red"}},
        {"input": None},
        {},
    ],
    ids=["int-text", "string-content", "missing-room", "unknown-input-field", "null-input", "no-input"],
)
def test_wrong_variable_types_are_200_with_errors(world: World, variables: dict[str, Any]) -> None:
    errors = _errors(world, CREATE_MESSAGE, variables)
    assert all(e["message"] for e in errors)


def test_unknown_field_is_200_validation_error(world: World) -> None:
    (error,) = _errors(world, "{ listRooms { items { id colour } } }")
    assert "colour" in error["message"]
    assert error["locations"] == [{"line": 1, "column": 26, "sourceName": None}]


def test_unknown_operation_name_is_error(world: World) -> None:
    body = world.client.execute("query A { rooms { id } } query B { rooms { id } }", None, "C")
    assert body["data"] is None
    assert "C" in body["errors"][0]["message"]


def test_two_operations_without_name_is_error(world: World) -> None:
    body = world.client.execute("query A { rooms { id } } query B { rooms { id } }")
    assert body["data"] is None and body["errors"]


def test_operation_name_picks_operation(world: World) -> None:
    body = world.client.data("query A { rooms { id } } query B { me { username } }", None, "B")
    assert body == {"me": {"username": "alice"}}


def _deep_query(depth: int) -> str:
    """A valid query of exactly `depth` levels: `__type` > `ofType` x (depth - 2) > `name`."""
    inner = "name"
    for _ in range(depth - 2):
        inner = f"ofType {{ {inner} }}"
    return f'{{ __type(name: "Room") {{ {inner} }} }}'


def test_query_deeper_than_20_is_rejected(world: World) -> None:
    (error,) = _errors(world, _deep_query(21))
    assert error["errorType"] == "QueryDepthLimitReached"
    assert world.client.data(_deep_query(20)) == {"__type": {"ofType": None}}


def test_deep_query_through_fragments_is_rejected(world: World) -> None:
    query = (
        'query { __type(name: "Room") { ...F0 } } '
        + " ".join(f"fragment F{i} on __Type {{ ofType {{ ...F{i + 1} }} }}" for i in range(25))
        + " fragment F25 on __Type { name }"
    )
    (error,) = _errors(world, query)
    assert error["errorType"] == "QueryDepthLimitReached"


def test_too_many_aliases_is_rejected(world: World) -> None:
    query = "{ " + " ".join(f"a{i}: rooms {{ id }}" for i in range(31)) + " }"
    (error,) = _errors(world, query)
    assert error["errorType"] == "QueryComplexityLimitReached"
    assert world.client.data("{ " + " ".join(f"a{i}: me {{ username }}" for i in range(30)) + " }")


def test_too_many_aliased_mutations_write_nothing(world: World) -> None:
    fields = " ".join(
        f'm{i}: createMessage(input: {{roomId: "{world.room_id}", content: {{text: "flood"}}}}) {{ id }}'
        for i in range(40)
    )
    (error,) = _errors(world, f"mutation {{ {fields} }}")
    assert error["errorType"] == "QueryComplexityLimitReached"


def test_too_many_tokens_is_rejected(world: World) -> None:
    query = "{ rooms { " + " ".join(["id"] * 6000) + " } }"
    (error,) = _errors(world, query)
    assert error["errorType"] == "QueryComplexityLimitReached"


def test_subscription_over_http_is_answered_with_the_mqtt_handshake_not_executed(world: World) -> None:
    body = world.client.execute("subscription { onCreateRoom { id } }")  # aws-appsync 1.x (issue 9)
    assert "errors" not in body
    assert body["data"] == {"onCreateRoom": None}
    assert body["extensions"]["subscription"]["newSubscriptions"]["onCreateRoom"]["topic"]


def test_declared_but_unsent_variable_is_an_omitted_argument(world: World) -> None:
    query = """
    query Q($roomId: ID!, $sortDirection: ModelSortDirection, $limit: Int, $nextToken: String) {
      listMessagesForRoom(roomId: $roomId, sortDirection: $sortDirection, limit: $limit, nextToken: $nextToken) {
        items { id } nextToken
      }
    }"""
    page = world.client.data(query, {"roomId": world.room_id})["listMessagesForRoom"]
    assert len(page["items"]) == 1 and page["nextToken"] is None


def test_unexpected_errors_do_not_leak_details(world: World) -> None:
    # Every response of this module is checked for stack traces; here a handful of odd but valid inputs.
    for variables in ({"roomId": "\u0000"}, {"roomId": "x" * 10000}, {"roomId": "' OR 1=1 --"}):
        body = world.client.execute(LIST_MESSAGES_FOR_ROOM, variables)
        assert body["data"]["listMessagesForRoom"]["items"] == []
