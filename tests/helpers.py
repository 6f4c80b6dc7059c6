"""Client-side helpers shared by end-to-end tests: real sign-up and sign-in, GraphQL over HTTP, seed documents.

Everything goes through the real server's HTTP endpoints; the only shortcut is `on_server_loop`, which runs a
coroutine of the running server (e.g. `services.accounts.add_to_group`) on its own event loop, as the CLI would.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Coroutine, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.server import RunningServer, run_server

T = TypeVar("T")

PASSWORD = "Correct-Horse-9!"
AMZ_USER_AGENT = "aws-amplify/4.3.46 js"
ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIMEOUT = 30.0
# Plain HTTP on loopback: skipping the TLS context keeps a one-shot request under a millisecond of client setup.
HTTP = {"timeout": TIMEOUT, "verify": False}


# --- accounts -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tokens:
    id_token: str
    access_token: str
    refresh_token: str | None


@dataclass(frozen=True, slots=True)
class Account:
    """A signed-up, signed-in user of a running server."""

    username: str
    sub: str
    email: str
    tokens: Tokens


def signup(
    base_url: str,
    username: str,
    *,
    password: str = PASSWORD,
    email: str | None = None,
    given_name: str | None = "Test",
    family_name: str | None = "User",
) -> httpx.Response:
    body = {
        "username": username,
        "password": password,
        "email": email or f"{username}@example.com",
        "givenName": given_name,
        "familyName": family_name,
    }
    return httpx.post(f"{base_url}/auth/signup", json=body, **HTTP)


def signin(base_url: str, username: str, password: str = PASSWORD) -> Tokens:
    response = httpx.post(
        f"{base_url}/auth/signin", json={"username": username, "password": password}, **HTTP
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Tokens(body["idToken"], body["accessToken"], body.get("refreshToken"))


def create_account(server: RunningServer, username: str, *, groups: Iterable[str] = ()) -> Account:
    """Sign up (the server auto-confirms), join `groups` as the CLI would, then sign in."""
    email = f"{username}@example.com"
    response = signup(server.url, username, email=email)
    assert response.status_code == 200, response.text
    sub = response.json()["userSub"]
    for group in groups:
        on_server_loop(server, server.app.state.services.accounts.add_to_group(username, group))
    return Account(username=username, sub=sub, email=email, tokens=signin(server.url, username))


def create_accounts(server: RunningServer, *specs: str | tuple[str, Iterable[str]]) -> list[Account]:
    """Several accounts at once (password hashing is slow): `"alice"` or `("root", ["admin"])`."""
    pairs = [(s, ()) if isinstance(s, str) else s for s in specs]
    with ThreadPoolExecutor(max_workers=len(pairs)) as pool:
        futures = [pool.submit(create_account, server, name, groups=groups) for name, groups in pairs]
        return [f.result() for f in futures]


def on_server_loop(server: RunningServer, coroutine: Coroutine[Any, Any, T], timeout: float = TIMEOUT) -> T:
    """Run one of the server's own coroutines on the server's event loop and wait for its result."""
    loop = server._server.servers[0].get_loop()
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)


# --- GraphQL over HTTP ----------------------------------------------------------------------------------------


class GraphQL:
    """One caller of `POST /graphql`: the chat app (access token) or the walkie-talkie app (ID token)."""

    def __init__(
        self, base_url: str, authorization: str | None, headers: dict[str, str] | None = None
    ) -> None:
        self.url = f"{base_url}/graphql"
        self.headers = dict(headers or {})
        if authorization is not None:
            self.headers["Authorization"] = authorization

    @classmethod
    def chat_app(cls, server: RunningServer, account: Account) -> GraphQL:
        """As Amplify JS sends it: the raw access token, plus `x-amz-user-agent`."""
        return cls(server.url, account.tokens.access_token, {"x-amz-user-agent": AMZ_USER_AGENT})

    @classmethod
    def walkie_talkie(cls, server: RunningServer, account: Account) -> GraphQL:
        """As AWSAppSyncClient sends it: the raw ID token."""
        return cls(server.url, account.tokens.id_token)

    def post(
        self, query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
    ) -> httpx.Response:
        body: dict[str, Any] = {"query": query, "variables": variables}
        if operation_name is not None:
            body["operationName"] = operation_name
        response = httpx.post(self.url, json=body, headers=self.headers, **HTTP)
        assert_no_stack_trace(response.text)
        return response

    def execute(
        self, query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
    ) -> dict[str, Any]:
        """The response body of a request that reached execution (HTTP 200)."""
        response = self.post(query, variables, operation_name)
        assert response.status_code == 200, response.text
        return response.json()

    def data(
        self, query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
    ) -> dict[str, Any]:
        """`data` of a response that must carry no errors."""
        body = self.execute(query, variables, operation_name)
        assert "errors" not in body, body
        return body["data"]

    def error(
        self, query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
    ) -> dict[str, Any]:
        """The one error of a response that must carry exactly one."""
        body = self.execute(query, variables, operation_name)
        assert len(body.get("errors") or []) == 1, body
        return body["errors"][0]

    # Small conveniences over the seed documents.

    def create_room(self, name: str = "room") -> dict[str, Any]:
        return self.data(CREATE_ROOM, {"input": {"name": name}})["createRoom"]

    def create_message(self, room_id: str, text: str) -> dict[str, Any]:
        variables = {"input": {"content": {"text": text}, "roomId": room_id}}
        return self.data(CREATE_MESSAGE, variables)["createMessage"]

    def messages(self, room_id: str, direction: str = "DESC") -> list[dict[str, Any]]:
        variables = {"roomId": room_id, "sortDirection": direction}
        return self.data(LIST_MESSAGES_FOR_ROOM, variables)["listMessagesForRoom"]["items"]


def assert_no_stack_trace(text: str) -> None:
    assert "Traceback" not in text, text
    assert 'File "' not in text, text


def create_room_on_server(server: RunningServer, name: str, owner: str | None = None) -> str:
    """A seeded room, as `chatserver room create` makes it (the walkie-talkie app cannot create rooms)."""
    room_id = str(uuid.uuid4())
    on_server_loop(server, server.app.state.services.rooms.create(room_id=room_id, name=name, owner=owner))
    return room_id


@contextmanager
def server_with_accounts(
    data_dir: Path, *specs: str | tuple[str, Iterable[str]], **settings: object
) -> Iterator[tuple[RunningServer, list[Account]]]:
    """A server (auto-confirming sign-ups) and accounts on it, for module-scoped fixtures."""
    with run_server(data_dir, auto_confirm=True, **settings) as server:
        yield server, create_accounts(server, *specs)


# --- seed documents, verbatim from SEED_CLIENTS.md --------------------------------------------------------------

LIST_ROOMS = """
  query ListRooms($limit: Int) {
    listRooms(limit: $limit) {
      items {
        id
        name
        messages {
          items {
            id
            owner
            createdAt
            updatedAt
            roomId
          }
          nextToken
        }
        createdAt
        updatedAt
      }
      nextToken
    }
  }
"""

LIST_MESSAGES_FOR_ROOM = """
  query ListMessagesForRoom($roomId: ID!, $sortDirection: ModelSortDirection) {
    listMessagesForRoom(roomId: $roomId, sortDirection: $sortDirection) {
      items {
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
      nextToken
    }
  }
"""

CREATE_MESSAGE = """
  mutation CreateMessage($input: MessageInput!) {
    createMessage(input: $input) {
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

UPDATE_MESSAGE = """
  mutation UpdateMessage($input: MessageInput!) {
    updateMessage(input: $input) {
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

CREATE_ROOM = """
  mutation CreateRoom($input: RoomInput!) {
    createRoom(input: $input) {
      id
      name
      messages {
        items {
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
        nextToken
      }
      createdAt
      updatedAt
    }
  }
"""

ON_CREATE_ROOM = """
  subscription OnCreateRoom {
    onCreateRoom {
      id
      name
      messages {
        items {
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
        nextToken
      }
      createdAt
      updatedAt
    }
  }
"""

ON_CREATE_MESSAGE_BY_ROOM_ID = """
  subscription OnCreateMessageByRoomId($roomId: ID) {
    onCreateMessageByRoomId(roomId: $roomId) {
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

ON_UPDATE_MESSAGE = """
  subscription OnUpdateMessage($roomId: ID) {
    onUpdateMessage(roomId: $roomId) {
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

# Walkie-talkie app: as written in its components, and as Apollo sends them (`__typename` in every selection set).

GET_ROOMS = """query GetRooms {
  rooms {
    id
  }
}
"""

ON_CREATE_AUDIO_SEGMENT = """subscription OnCreateAudioSegment($roomId: ID!) {
  onCreateAudioSegment(roomId: $roomId) {
    roomId
    data
    timestamp
    userId
  }
}
"""

CREATE_AUDIO_SEGMENT = """mutation CreateAudioSegment($roomId: ID!, $data: String!) {
  createAudioSegment(roomId: $roomId, data: $data) {
    data
    roomId
    timestamp
    userId
  }
}
"""

GET_ROOMS_APOLLO = """query GetRooms {
  rooms {
    id
    __typename
  }
}
"""

ON_CREATE_AUDIO_SEGMENT_APOLLO = """subscription OnCreateAudioSegment($roomId: ID!) {
  onCreateAudioSegment(roomId: $roomId) {
    roomId
    data
    timestamp
    userId
    __typename
  }
}
"""

CREATE_AUDIO_SEGMENT_APOLLO = """mutation CreateAudioSegment($roomId: ID!, $data: String!) {
  createAudioSegment(roomId: $roomId, data: $data) {
    data
    roomId
    timestamp
    userId
    __typename
  }
}
"""
