"""The fast path answers exactly as graphql-core does: byte for byte, over HTTP, against the same data.

Two real servers share one database and one data directory (so one page-token secret and one signing key): one runs
cached queries from compiled plans (the default), the other with CHATSERVER_FAST_PATH=false, graphql-core for
everything. Every operation below (the seed documents, error cases, aliases, fragments, `__typename`, `@include` /
`@skip` with variables, variables coercion, list limits, nextToken pagination, unknown fields, refused fields) is
sent to both by the same user, and the response bodies must be the same bytes. The fast server's counters then say
whether its fast path answered: operations marked FAST must have been answered by a plan (so this test cannot pass
by always falling back), the others by graphql-core.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.databases import fresh_database_url
from tests.helpers import (
    CREATE_MESSAGE,
    CREATE_ROOM,
    GET_ROOMS,
    GET_ROOMS_APOLLO,
    HTTP,
    LIST_MESSAGES_FOR_ROOM,
    LIST_ROOMS,
    UPDATE_MESSAGE,
    GraphQL,
    create_accounts,
    on_server_loop,
    signin,
)
from tests.server import RunningServer, run_server

FAST = "fast"  # answered by a compiled plan
CORE = "core"  # answered by graphql-core on both servers (not covered, or an error on the way)
REPLAYED = "replayed"  # a mutation whose resolver ran in the plan, answered by graphql-core from that outcome
GENERATED = frozenset({"id", "createdAt", "updatedAt"})  # what a mutation makes anew on each server

MESSAGE_FIELDS = "id content { text imageId } owner createdAt updatedAt roomId"
PAGE = f"""
query Page($roomId: ID!, $sortDirection: ModelSortDirection, $limit: Int, $nextToken: String) {{
  listMessagesForRoom(roomId: $roomId, sortDirection: $sortDirection, limit: $limit, nextToken: $nextToken) {{
    items {{ {MESSAGE_FIELDS} }}
    nextToken
  }}
}}
"""
BENCH_LIST = f"""
query ListMessagesForRoom($roomId: ID!, $sortDirection: ModelSortDirection, $limit: Int) {{
  listMessagesForRoom(roomId: $roomId, sortDirection: $sortDirection, limit: $limit) {{
    items {{ {MESSAGE_FIELDS} }}
    nextToken
  }}
}}
"""
ALIASES = """
query Aliases($roomId: ID!) {
  newest: listMessagesForRoom(roomId: $roomId, sortDirection: DESC, limit: 2) { page: items { mid: id } more: nextToken }
  oldest: listMessagesForRoom(roomId: $roomId, sortDirection: ASC, limit: 3) {
    items { id body: content { words: text text } }
  }
  everything: rooms { roomId: id title: name }
}
"""
FRAGMENTS = """
query Fragments($roomId: ID!) {
  listMessagesForRoom(roomId: $roomId, limit: 4) {
    ...Page
    items { ... on Message { owner __typename } ...Body }
  }
  room: getRoom(id: $roomId) { ...RoomFields ...RoomFields messages(limit: 2) { items { ...Body } } }
}
fragment Page on MessageConnection { items { id ...Body } nextToken __typename }
fragment Body on Message { content { text ... { imageId } } roomId createdAt }
fragment RoomFields on Room { id name owner __typename }
"""
CONDITIONS = """
query Conditions($roomId: ID!, $withText: Boolean!, $skipOwner: Boolean!, $maybe: Boolean = false) {
  listMessagesForRoom(roomId: $roomId, limit: 3) {
    items {
      id
      content @include(if: $withText) { text }
      owner @skip(if: $skipOwner)
      ... on Message @include(if: $withText) { updatedAt }
      ...Times @skip(if: $skipOwner)
      roomId @include(if: true) @skip(if: false)
      createdAt @include(if: $withText) @skip(if: $skipOwner)
    }
    nextToken @skip(if: true)
  }
  rooms @include(if: $maybe) { id }
}
fragment Times on Message { createdAt updatedAt }
"""
ALL_SKIPPED = "query Nothing($no: Boolean!) { rooms @include(if: $no) { id } me @skip(if: true) { id } }"
USERS = """
query Users($id: ID!, $limit: Int, $nextToken: String) {
  me { id username email givenName familyName createdAt __typename }
  other: getUser(id: $id) { id username email givenName familyName createdAt }
  listUsers(limit: $limit, nextToken: $nextToken) { items { id username email } nextToken }
}
"""
ROOM_PAGE = """
query RoomPage($id: ID!, $limit: Int, $nextToken: String) {
  getRoom(id: $id) { id name messages(sortDirection: DESC, limit: $limit, nextToken: $nextToken) { items { id } nextToken } }
}
"""
DEFAULTS = f"""
query Defaults($roomId: ID!, $sortDirection: ModelSortDirection = ASC, $limit: Int = 3, $nextToken: String = null) {{
  listMessagesForRoom(roomId: $roomId, sortDirection: $sortDirection, limit: $limit, nextToken: $nextToken) {{
    items {{ {MESSAGE_FIELDS} }}
    nextToken
  }}
}}
"""
ROOM_DEFAULT = """
query RoomDefault($roomId: ID! = "no-such-room") {
  listMessagesForRoom(roomId: $roomId, limit: 2) { items { id } nextToken }
}
"""
IMAGES = "query Images($roomId: ID!) { listMessagesForRoom(roomId: $roomId) { items { id content { imageId imageUrl } } } }"
GET_MESSAGE = f"query GetMessage($id: ID!) {{ getMessage(id: $id) {{ {MESSAGE_FIELDS} __typename }} }}"
TWO_OPERATIONS = "query A { rooms { id } } query B { me { username } }"
INTROSPECTION = '{ __type(name: "Room") { name fields { name } } __schema { queryType { name } } }'
TYPENAME_ONLY = "{ __typename rooms { __typename } }"
ALLOWED_AND_REFUSED = """
query Mixed($roomId: ID!) {
  listMessagesForRoom(roomId: $roomId, limit: 2) { items { id owner } }
  me { id username }
  rooms { id }
}
"""
API_KEY = "api-key"  # the caller of the Case: an `x-api-key` instead of a user's token


@dataclass(frozen=True, slots=True)
class World:
    fast: RunningServer
    core: RunningServer
    clients: dict[str, tuple[GraphQL, GraphQL]]  # username -> (fast server's client, core server's client)
    subs: dict[str, str]
    room_id: str  # 12 messages
    empty_room_id: str
    image_room_id: str  # a message whose imageId names no upload
    message_id: str
    write_room_id: str  # where the mutation cases write (so the reads above stay as they are)
    own_message_id: str  # alice's, in write_room_id


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    query: str
    variables: Callable[[World], dict[str, Any] | None] = lambda w: None
    expect: str = FAST
    user: str = "alice"
    operation_name: str | None = None
    creates_messages: bool = False  # a mutation adding one message to write_room_id per server


def _token(world: World, query: str, variables: dict[str, Any], *path: str) -> str:
    """A nextToken read from the fast server (both servers mint the same tokens: one secret)."""
    value: Any = world.clients["alice"][0].data(query, variables)
    for key in path:
        value = value[key]
    assert isinstance(value, str), value
    return value


CASES = [
    # The seed documents (SEED_CLIENTS.md), as the chat app and the walkie-talkie app send them.
    Case("seed ListRooms", LIST_ROOMS, lambda w: {"limit": 10}),
    Case("seed ListRooms, no limit", LIST_ROOMS),
    Case(
        "seed ListMessagesForRoom DESC",
        LIST_MESSAGES_FOR_ROOM,
        lambda w: {"roomId": w.room_id, "sortDirection": "DESC"},
    ),
    Case(
        "seed ListMessagesForRoom ASC",
        LIST_MESSAGES_FOR_ROOM,
        lambda w: {"roomId": w.room_id, "sortDirection": "ASC"},
    ),
    Case(
        "seed ListMessagesForRoom, empty room", LIST_MESSAGES_FOR_ROOM, lambda w: {"roomId": w.empty_room_id}
    ),
    Case(
        "seed ListMessagesForRoom, unknown room", LIST_MESSAGES_FOR_ROOM, lambda w: {"roomId": "no-such-room"}
    ),
    Case(
        "bench ListMessagesForRoom limit 5",
        BENCH_LIST,
        lambda w: {"roomId": w.room_id, "sortDirection": "DESC", "limit": 5},
    ),
    Case("seed GetRooms", GET_ROOMS),
    Case("seed GetRooms (Apollo, __typename)", GET_ROOMS_APOLLO),
    Case("typename only", TYPENAME_ONLY),
    Case("getMessage", GET_MESSAGE, lambda w: {"id": w.message_id}),
    Case("getMessage, unknown id", GET_MESSAGE, lambda w: {"id": "nope"}),
    # Aliases, fragments (named, inline, repeated, nested), fields merged across fragments.
    Case("aliases", ALIASES, lambda w: {"roomId": w.room_id}),
    Case("fragments", FRAGMENTS, lambda w: {"roomId": w.room_id}),
    # @include / @skip, literal and from variables.
    Case(
        "conditions on",
        CONDITIONS,
        lambda w: {"roomId": w.room_id, "withText": True, "skipOwner": False, "maybe": True},
    ),
    Case(
        "conditions off",
        CONDITIONS,
        lambda w: {"roomId": w.room_id, "withText": False, "skipOwner": True, "maybe": False},
    ),
    Case(
        "conditions mixed", CONDITIONS, lambda w: {"roomId": w.room_id, "withText": True, "skipOwner": True}
    ),
    Case("everything skipped", ALL_SKIPPED, lambda w: {"no": False}),
    Case(
        "null for Boolean! is an error",
        CONDITIONS,
        lambda w: {"roomId": w.room_id, "withText": None, "skipOwner": False},
        CORE,
    ),
    Case(
        "@include(if: null) is an error",
        CONDITIONS,
        lambda w: {"roomId": w.room_id, "withText": True, "skipOwner": False, "maybe": None},
        CORE,
    ),
    # Users: resolvers with rules (email for its owner and admins only), as alice and as an admin.
    Case("users as alice", USERS, lambda w: {"id": w.subs["bob"], "limit": 2}),
    Case("users as admin", USERS, lambda w: {"id": w.subs["bob"], "limit": 5}, user="root"),
    Case(
        "listUsers next page",
        USERS,
        lambda w: {
            "id": w.subs["alice"],
            "limit": 1,
            "nextToken": _token(w, USERS, {"id": w.subs["alice"], "limit": 1}, "listUsers", "nextToken"),
        },
    ),
    # Resolvers on list items (imageUrl, nested messages).
    Case("imageUrl resolver on items", IMAGES, lambda w: {"roomId": w.image_room_id}),
    Case("nested page", ROOM_PAGE, lambda w: {"id": w.room_id, "limit": 4}),
    Case(
        "nested next page",
        ROOM_PAGE,
        lambda w: {
            "id": w.room_id,
            "limit": 4,
            "nextToken": _token(
                w, ROOM_PAGE, {"id": w.room_id, "limit": 4}, "getRoom", "messages", "nextToken"
            ),
        },
    ),
    # nextToken pagination, list limits.
    Case("page 1", PAGE, lambda w: {"roomId": w.room_id, "limit": 5}),
    Case(
        "page 2",
        PAGE,
        lambda w: {
            "roomId": w.room_id,
            "limit": 5,
            "nextToken": _token(
                w, PAGE, {"roomId": w.room_id, "limit": 5}, "listMessagesForRoom", "nextToken"
            ),
        },
    ),
    Case("limit 1000", PAGE, lambda w: {"roomId": w.room_id, "limit": 1000}),
    Case("limit 0", PAGE, lambda w: {"roomId": w.room_id, "limit": 0}, CORE),
    Case("limit 1001", PAGE, lambda w: {"roomId": w.room_id, "limit": 1001}, CORE),
    Case("negative limit", PAGE, lambda w: {"roomId": w.room_id, "limit": -3}, CORE),
    Case("tampered nextToken", PAGE, lambda w: {"roomId": w.room_id, "nextToken": "eyJ4IjoxfQ.AAAA"}, CORE),
    Case(
        "nextToken of another room",
        PAGE,
        lambda w: {
            "roomId": w.empty_room_id,
            "nextToken": _token(
                w, PAGE, {"roomId": w.room_id, "limit": 5}, "listMessagesForRoom", "nextToken"
            ),
        },
        CORE,
    ),
    Case(
        "nextToken of the other direction",
        PAGE,
        lambda w: {
            "roomId": w.room_id,
            "sortDirection": "DESC",
            "nextToken": _token(
                w,
                PAGE,
                {"roomId": w.room_id, "limit": 5, "sortDirection": "ASC"},
                "listMessagesForRoom",
                "nextToken",
            ),
        },
        CORE,
    ),
    Case(
        "read budget exceeded, nested lists",
        "{ rooms { id messages(limit: 1000) { items { id } } } }",
        expect=CORE,
    ),
    Case(
        "one list refused, the other answered",
        "{ listRooms(limit: 950) { items { id } } listUsers(limit: 1051) { items { id } } }",
        expect=CORE,
    ),
    # Variables coercion.
    Case("limit as a string", PAGE, lambda w: {"roomId": w.room_id, "limit": "ten"}, CORE),
    Case("limit as a float", PAGE, lambda w: {"roomId": w.room_id, "limit": 2.5}, CORE),
    Case("missing required variable", PAGE, lambda w: {}, CORE),
    Case("null for ID!", PAGE, lambda w: {"roomId": None}, CORE),
    Case("unknown enum value", PAGE, lambda w: {"roomId": w.room_id, "sortDirection": "SIDEWAYS"}, CORE),
    Case("ID as a number", PAGE, lambda w: {"roomId": 12345, "limit": 2}),
    Case("unused extra variable", PAGE, lambda w: {"roomId": w.room_id, "limit": 2, "extra": {"a": [1]}}),
    Case(
        "nulls for nullable variables",
        PAGE,
        lambda w: {"roomId": w.room_id, "sortDirection": None, "limit": None, "nextToken": None},
    ),
    Case(
        "enum variable ASC, ID as a number", PAGE, lambda w: {"roomId": 7, "sortDirection": "ASC", "limit": 1}
    ),
    Case("variable defaults, omitted", DEFAULTS, lambda w: {"roomId": w.room_id}),
    Case(
        "variable defaults, given",
        DEFAULTS,
        lambda w: {"roomId": w.room_id, "limit": 4, "sortDirection": "DESC"},
    ),
    Case(
        "variable defaults, null overrides", DEFAULTS, lambda w: {"roomId": w.room_id, "sortDirection": None}
    ),
    Case("ID! with a default, omitted", ROOM_DEFAULT, lambda w: {}),
    Case("ID! with a default, given", ROOM_DEFAULT, lambda w: {"roomId": w.room_id}),
    Case("ID! with a default, null", ROOM_DEFAULT, lambda w: {"roomId": None}, CORE),
    Case("enum in lower case", PAGE, lambda w: {"roomId": w.room_id, "sortDirection": "desc"}, CORE),
    Case("enum as a number", PAGE, lambda w: {"roomId": w.room_id, "sortDirection": 1}, CORE),
    Case("limit as a boolean", PAGE, lambda w: {"roomId": w.room_id, "limit": True}, CORE),
    Case("limit beyond 32 bits", PAGE, lambda w: {"roomId": w.room_id, "limit": 2**31}, CORE),
    Case("ID as an object", PAGE, lambda w: {"roomId": {"id": w.room_id}}, CORE),
    Case("ID as a list", PAGE, lambda w: {"roomId": [w.room_id]}, CORE),
    Case(
        "several bad variables", PAGE, lambda w: {"roomId": False, "sortDirection": "UP", "limit": "x"}, CORE
    ),
    Case(
        "literal arguments",
        '{ listMessagesForRoom(roomId: "no-such-room", sortDirection: ASC, limit: 3) { items { id } nextToken } }',
    ),
    # Operations and documents the plans leave to graphql-core, or that never reach execution.
    Case("operation name picks B", TWO_OPERATIONS, operation_name="B"),
    Case("unknown operation name", TWO_OPERATIONS, operation_name="C", expect=CORE),
    Case("two operations, no name", TWO_OPERATIONS, expect=CORE),
    Case("introspection", INTROSPECTION, expect=CORE),
    Case("unknown field", "{ rooms { id color } }", expect=CORE),
    Case("syntax error", "{ rooms { id ", expect=CORE),
    # Mutations: a plan when the operation has one root field. Both servers write, so what each makes anew
    # (ids, timestamps) is compared by shape; everything else byte for byte.
    Case(
        "mutation: seed CreateMessage",
        CREATE_MESSAGE,
        lambda w: {"input": {"roomId": w.write_room_id, "content": {"text": "new ✓"}}},
        creates_messages=True,
    ),
    Case(
        "mutation: aliases, fragments, __typename",
        """mutation Send($input: MessageInput!, $withOwner: Boolean!) {
          sent: createMessage(input: $input) { __typename ...Sent owner @include(if: $withOwner) roomId }
        }
        fragment Sent on Message { id body: content { text ... on MessageContent { imageId } } }""",
        lambda w: {"input": {"roomId": w.write_room_id, "content": {"text": "aliased"}}, "withOwner": True},
        creates_messages=True,
    ),
    Case(
        "mutation: ID as a number is coerced",
        CREATE_MESSAGE,
        lambda w: {"input": {"roomId": w.write_room_id, "content": {"text": "x"}, "id": 7}},
        creates_messages=True,
    ),
    Case(
        "mutation: seed UpdateMessage, own message",
        UPDATE_MESSAGE,
        lambda w: {
            "input": {"id": w.own_message_id, "roomId": w.write_room_id, "content": {"text": "edited"}}
        },
    ),
    Case("mutation: seed CreateRoom", CREATE_ROOM, lambda w: {"input": {"name": "made twice"}}),
    Case(
        "mutation: two root fields (graphql-core runs them in turn)",
        'mutation { a: createRoom(input: {name: "a"}) { name } b: createRoom(input: {name: "b"}) { name } }',
        expect=CORE,
    ),
    Case(
        "mutation: room missing",
        CREATE_MESSAGE,
        lambda w: {"input": {"roomId": "no-such-room", "content": {"text": "x"}}},
        REPLAYED,
    ),
    Case(
        "mutation: empty content",
        CREATE_MESSAGE,
        lambda w: {"input": {"roomId": w.room_id, "content": {"text": ""}}},
        REPLAYED,
    ),
    Case(
        "mutation: not your message",
        UPDATE_MESSAGE,
        lambda w: {"input": {"id": w.message_id, "roomId": w.room_id, "content": {"text": "mine now"}}},
        REPLAYED,
        user="bob",
    ),
    Case(
        "mutation: nulls for the input's optional fields",
        CREATE_MESSAGE,
        lambda w: {
            "input": {"roomId": w.write_room_id, "content": {"text": "nulls", "imageId": None}, "id": None}
        },
        creates_messages=True,
    ),
    Case(
        "mutation: an unknown input field",
        CREATE_MESSAGE,
        lambda w: {"input": {"roomId": w.write_room_id, "content": {"text": "x"}, "colour": "red"}},
        CORE,
    ),
    Case(
        "mutation: a required input field missing",
        CREATE_MESSAGE,
        lambda w: {"input": {"content": {"text": "x"}}},
        CORE,
    ),
    Case(
        "mutation: null for a required input field",
        CREATE_MESSAGE,
        lambda w: {"input": {"roomId": w.write_room_id, "content": None}},
        CORE,
    ),
    Case("mutation: input as a string", CREATE_MESSAGE, lambda w: {"input": "x"}, CORE),
    Case("mutation: input missing", CREATE_MESSAGE, lambda w: {}, CORE),
    Case(
        "mutation: variables that do not coerce",
        CREATE_MESSAGE,
        lambda w: {"input": {"roomId": w.write_room_id, "content": {"text": 5}}},
        CORE,
    ),
    Case(
        "auth-refused field: deleteRoom by a non-admin",
        'mutation { deleteRoom(id: "x") { id } }',
        expect=CORE,
        user="bob",
    ),
    # An API key (mode API_KEY) may read rooms and messages, not users, and may not write (SPEC section 13).
    Case(
        "API key: seed ListMessagesForRoom",
        LIST_MESSAGES_FOR_ROOM,
        lambda w: {"roomId": w.room_id},
        user=API_KEY,
    ),
    Case("API key: seed ListRooms", LIST_ROOMS, user=API_KEY),
    Case("API key: GetRooms (Apollo)", GET_ROOMS_APOLLO, user=API_KEY),
    Case("API key: me is refused", "{ me { id username } }", expect=CORE, user=API_KEY),
    Case(
        "API key: a refused field beside allowed ones",
        ALLOWED_AND_REFUSED,
        lambda w: {"roomId": w.room_id},
        CORE,
        user=API_KEY,
    ),
    Case(
        "API key: createMessage is refused",
        CREATE_MESSAGE,
        lambda w: {"input": {"roomId": w.room_id, "content": {"text": "x"}}},
        CORE,
        user=API_KEY,
    ),
]


def _post(client: GraphQL, case: Case, variables: dict[str, Any] | None) -> httpx.Response:
    body: dict[str, Any] = {"query": case.query, "variables": variables}
    if case.operation_name is not None:
        body["operationName"] = case.operation_name
    return httpx.post(client.url, json=body, headers=client.headers, **HTTP)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("fast-path") / "data"
    with fresh_database_url() as database_url:
        settings: dict[str, Any] = {
            "auto_confirm": True,
            "database_url": database_url,
            "max_list_items": 2000,
            "additional_auth_modes": ("API_KEY",),
        }
        with (
            run_server(data_dir, **settings) as fast,
            run_server(data_dir, fast_path=False, **settings) as core,
        ):
            assert fast.app.state.services.executor.fast_path is not None
            assert core.app.state.services.executor.fast_path is None
            accounts = create_accounts(fast, "alice", "bob", ("root", ["admin"]))
            clients = {
                a.username: (
                    GraphQL.chat_app(fast, a),
                    GraphQL(core.url, signin(core.url, a.username).access_token),
                )
                for a in accounts
            }
            key = on_server_loop(fast, fast.app.state.services.api_keys.create()).key
            clients[API_KEY] = (
                GraphQL(fast.url, None, {"x-api-key": key}),
                GraphQL(core.url, None, {"x-api-key": key}),
            )
            alice = clients["alice"][0]
            room_id = alice.data(CREATE_ROOM, {"input": {"name": "busy"}})["createRoom"]["id"]
            sent = [alice.create_message(room_id, f"message {n} ünïcödé ✓")["id"] for n in range(12)]
            empty_room_id = alice.create_room("empty")["id"]
            image_room_id = alice.create_room("images")["id"]
            write_room_id = alice.create_room("writes")["id"]
            own_message_id = alice.create_message(write_room_id, "to be edited")["id"]
            alice.create_message(image_room_id, "text only")
            messages = fast.app.state.services.messages
            on_server_loop(
                fast,
                messages.create(
                    message_id=str(uuid.uuid4()),
                    room_id=image_room_id,
                    owner="alice",
                    text=None,
                    image_id="img-never-uploaded",
                ),
            )
            yield World(
                fast=fast,
                core=core,
                clients=clients,
                subs={a.username: a.sub for a in accounts},
                room_id=room_id,
                empty_room_id=empty_room_id,
                image_room_id=image_room_id,
                message_id=sent[0],
                write_room_id=write_room_id,
                own_message_id=own_message_id,
            )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fast_path_answers_as_graphql_core(world: World, case: Case) -> None:
    variables = case.variables(world)
    fast_client, core_client = world.clients[case.user]
    counters = world.fast.app.state.services.executor.fast_path.counters
    messages_before = _message_count(world)
    taken_before, replayed_before = counters.taken, counters.replayed
    fast = _post(fast_client, case, variables)
    taken, replayed = counters.taken - taken_before, counters.replayed - replayed_before
    core = _post(core_client, case, variables)
    if case.query.lstrip().startswith("mutation"):
        assert fast.status_code == core.status_code
        assert _ordered(fast.content, generated=True) == _ordered(core.content, generated=True)
    else:
        assert (fast.status_code, fast.content) == (core.status_code, core.content)
    assert fast.headers["content-type"] == core.headers["content-type"]
    if case.expect == FAST:
        assert taken == 1, f"the fast path did not answer: {counters}"
        assert "errors" not in fast.json()
    else:
        assert taken == 0
    assert replayed == (1 if case.expect == REPLAYED else 0), counters
    # Each server ran the mutation once: never twice on the fast one.
    assert _message_count(world) - messages_before == (2 if case.creates_messages else 0)


def _message_count(world: World) -> int:
    page = world.clients["alice"][0].data(PAGE, {"roomId": world.write_room_id, "limit": 1000})
    return len(page["listMessagesForRoom"]["items"])


def _ordered(content: bytes, *, generated: bool) -> Any:
    """A JSON body with its key order kept (pairs), generated values replaced by a placeholder."""

    def pairs(items: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        return [
            (k, "<generated>" if generated and k in GENERATED and isinstance(v, str) else v) for k, v in items
        ]

    return json.loads(content, object_pairs_hook=pairs)


def test_cases_cover_errors_and_answers(world: World) -> None:
    """The list above holds both kinds: answered by plans, and errors (with paths, locations, errorType)."""
    fast_cases = [c for c in CASES if c.expect == FAST]
    core_cases = [c for c in CASES if c.expect == CORE]
    assert len(fast_cases) >= 25 and len(core_cases) >= 20
    shapes = set()
    for case in core_cases:
        body = _post(world.clients[case.user][0], case, case.variables(world)).json()
        for error in body.get("errors") or ():
            shapes.add(
                (error.get("path") is not None, error.get("locations") is not None, error.get("errorType"))
            )
    assert (True, True, "ValidationException") in shapes  # a resolver error: path and locations
    assert any(not path and locations for path, locations, _ in shapes)  # a request error: locations only
