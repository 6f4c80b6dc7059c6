"""Walkie-talkie clips: at most 240 KB, only into existing rooms, never stored."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from chatserver.schema.audio import FRAME_ENVELOPE_BYTES
from tests import helpers as seed
from tests.helpers import (
    CREATE_AUDIO_SEGMENT_APOLLO,
    Account,
    GraphQL,
    create_room_on_server,
    server_with_accounts,
)
from tests.realtime import live
from tests.server import RunningServer

LIMIT = 240 * 1024
LARGEST_CLIP = LIMIT - FRAME_ENVELOPE_BYTES
World = tuple[RunningServer, GraphQL, str, Account]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("audio") / "data"
    with server_with_accounts(data_dir, "talker") as (server, accounts):
        talker: Account = accounts[0]
        room_id = create_room_on_server(server, "channel 1")
        yield server, GraphQL.walkie_talkie(server, talker), room_id, talker


def _clip(size: int) -> str:
    prefix = "data:audio/wav;base64,"
    return prefix + "A" * (size - len(prefix))


def test_largest_accepted_clip_reaches_subscribers(world: World) -> None:
    """A clip the mutation accepts is never silently dropped by the 240 KB subscription limit."""
    server, client, room_id, talker = world
    clip = _clip(LARGEST_CLIP)

    async def subscribe_then_send() -> dict[str, Any]:
        ws = await live.appsync_connect(server, talker.tokens.id_token)
        try:
            auth = {"Authorization": talker.tokens.id_token, "host": live.host_of(server)}
            ack = await live.appsync_start(
                ws, "clip", seed.ON_CREATE_AUDIO_SEGMENT, {"roomId": room_id}, auth
            )
            assert ack["type"] == "start_ack", ack
            segment = await asyncio.to_thread(
                client.data, CREATE_AUDIO_SEGMENT_APOLLO, {"roomId": room_id, "data": clip}
            )
            assert segment["createAudioSegment"]["data"] == clip
            return await live.recv_json(ws)
        finally:
            await ws.close()

    frame = asyncio.run(subscribe_then_send())
    assert frame["type"] == "data"
    assert frame["payload"]["data"]["onCreateAudioSegment"]["data"] == clip
    assert len(json.dumps(frame["payload"]).encode()) <= LIMIT


@pytest.mark.parametrize("size", [LARGEST_CLIP + 1, LIMIT, LIMIT + 1])
def test_clip_that_could_not_be_delivered_is_validation_error(world: World, size: int) -> None:
    _, client, room_id, _ = world
    body = client.execute(CREATE_AUDIO_SEGMENT_APOLLO, {"roomId": room_id, "data": _clip(size)})
    assert body["data"] == {"createAudioSegment": None}
    (error,) = body["errors"]
    assert error["errorType"] == "ValidationException"
    assert "240 KB" in error["message"]


def test_escaped_clip_is_measured_as_sent(world: World) -> None:
    """Quotes double in JSON: 100 KB of them make a 200 KB+ frame, which still fits; 130 KB do not."""
    _, client, room_id, _ = world
    fits = client.execute(CREATE_AUDIO_SEGMENT_APOLLO, {"roomId": room_id, "data": '"' * (100 * 1024)})
    assert "errors" not in fits
    too_big = client.execute(CREATE_AUDIO_SEGMENT_APOLLO, {"roomId": room_id, "data": '"' * (130 * 1024)})
    assert too_big["errors"][0]["errorType"] == "ValidationException"


def test_clip_for_unknown_room_is_not_found(world: World) -> None:
    _, client, _, _ = world
    error = client.error(CREATE_AUDIO_SEGMENT_APOLLO, {"roomId": "no-such-room", "data": _clip(100)})
    assert error["errorType"] == "NotFound"


def test_clips_are_not_stored_as_messages(world: World) -> None:
    _, client, room_id, _ = world
    client.data(CREATE_AUDIO_SEGMENT_APOLLO, {"roomId": room_id, "data": _clip(1000)})
    assert client.messages(room_id) == []
