"""A linked mutation's result reaches the real-time side as the mutating client selected it, aliases removed.

The executor's publisher is the real-time engine, so the payload is observed where users see it: on an AppSync
real-time WebSocket subscriber (`start_ack` tells us the subscription is registered before the mutation runs).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from chatserver.app import open_services
from chatserver.config import Settings
from chatserver.execution.executor import Executor
from chatserver.realtime.publisher import RecordingPublisher
from tests.helpers import HTTP, PASSWORD, Account, GraphQL, server_with_accounts
from tests.server import RunningServer

World = tuple[RunningServer, Account]

ALIASED_MUTATION = """
mutation Send($input: MessageInput!) {
  sent: createMessage(input: $input) {
    messageId: id
    ...Body
    when: createdAt
  }
}
fragment Body on Message {
  content { words: text }
  owner
  ... on Message { roomId }
}
"""
SUBSCRIPTION = """
subscription Watch($roomId: ID) {
  onCreateMessageByRoomId(roomId: $roomId) { id content { text imageId } owner createdAt roomId }
}
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with server_with_accounts(tmp_path_factory.mktemp("publish") / "data", "alice") as (server, (alice,)):
        yield server, alice


@asynccontextmanager
async def subscriber(server: RunningServer, token: str, variables: dict[str, Any]) -> AsyncIterator[Any]:
    host = server.url.split("://", 1)[1]
    header = base64.b64encode(json.dumps({"Authorization": token, "host": host}).encode()).decode()
    url = f"{server.ws_url}/graphql/realtime?header={header}&payload=e30="
    async with websockets.connect(url, subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init"}))
        assert (await _next(ws))["type"] == "connection_ack"
        start = {
            "id": "sub-1",
            "type": "start",
            "payload": {
                "data": json.dumps({"query": SUBSCRIPTION, "variables": variables}),
                "extensions": {"authorization": {"Authorization": token, "host": host}},
            },
        }
        await ws.send(json.dumps(start))
        assert (await _next(ws))["type"] == "start_ack"
        yield ws


async def _next(ws: Any) -> dict[str, Any]:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame.get("type") != "ka":
            return frame


async def _post(server: RunningServer, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(**HTTP) as client:  # type: ignore[arg-type]
        response = await client.post(
            f"{server.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": token},
        )
    assert response.status_code == 200, response.text
    return response.json()


async def test_published_payload_is_the_selection_without_aliases(world: World) -> None:
    server, alice = world
    room_id = GraphQL.chat_app(server, alice).create_room("published")["id"]
    token = alice.tokens.access_token
    async with subscriber(server, token, {"roomId": room_id}) as ws:
        variables = {"input": {"roomId": room_id, "content": {"text": "aliased"}}}
        body = await _post(server, token, ALIASED_MUTATION, variables)
        sent = body["data"]["sent"]
        assert set(sent) == {"messageId", "content", "owner", "roomId", "when"}
        event = await _next(ws)
    assert event["type"] == "data" and event["id"] == "sub-1"
    assert event["payload"]["data"] == {
        "onCreateMessageByRoomId": {
            "id": sent["messageId"],
            "content": {"text": "aliased", "imageId": None},  # imageId was not selected by the mutation
            "owner": "alice",
            "createdAt": sent["when"],
            "roomId": room_id,
        }
    }


async def test_failed_mutation_publishes_nothing(world: World) -> None:
    server, alice = world
    room_id = GraphQL.chat_app(server, alice).create_room("failures")["id"]
    token = alice.tokens.access_token
    async with subscriber(server, token, {}) as ws:
        bad = {"input": {"roomId": "no-such-room", "content": {"text": "lost"}}}
        assert (await _post(server, token, ALIASED_MUTATION, bad))["data"] == {"sent": None}
        empty = {"input": {"roomId": room_id, "content": {"text": ""}}}
        assert (await _post(server, token, ALIASED_MUTATION, empty))["data"] == {"sent": None}
        good = {"input": {"roomId": room_id, "content": {"text": "delivered"}}}
        sent = (await _post(server, token, ALIASED_MUTATION, good))["data"]["sent"]
        event = await _next(ws)
    assert event["payload"]["data"]["onCreateMessageByRoomId"]["id"] == sent["messageId"]


async def test_publisher_receives_field_names_only_selected_fields(tmp_path: Path, database_url: str) -> None:
    """In process, with the publish interface itself recording: absent fields are absent, not null."""
    settings = Settings(data_dir=tmp_path / "data", auto_confirm=True, database_url=database_url)
    async with open_services(settings) as services:
        await services.accounts.create_user("alice", PASSWORD, "alice@example.com", confirmed=True)
        identity = services.verifier.verify(await services.accounts.mint_access_token("alice"))
        recording = RecordingPublisher()
        executor = Executor(services.schema, services, recording)
        room = await executor.execute(
            'mutation { createRoom(input: {name: "r"}) { id } }', None, None, identity
        )
        room_id = room["data"]["createRoom"]["id"]
        variables = {"input": {"roomId": room_id, "content": {"text": "hi"}}}
        result = await executor.execute(ALIASED_MUTATION, variables, "Send", identity)
        await executor.execute("{ rooms { id } }", None, None, identity)  # queries publish nothing
    sent = result["data"]["sent"]
    assert recording.published == [
        ("createRoom", {"id": room_id}),
        (
            "createMessage",
            {
                "id": sent["messageId"],
                "content": {"text": "hi"},
                "owner": "alice",
                "roomId": room_id,
                "createdAt": sent["when"],
            },
        ),
    ]
