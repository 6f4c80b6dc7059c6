"""Walkie-talkie clips: at most 240 KB, only into existing rooms, never stored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import (
    CREATE_AUDIO_SEGMENT_APOLLO,
    Account,
    GraphQL,
    create_room_on_server,
    server_with_accounts,
)
from tests.server import RunningServer

LIMIT = 240 * 1024


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, GraphQL, str]]:
    data_dir = tmp_path_factory.mktemp("audio") / "data"
    with server_with_accounts(data_dir, "talker") as (server, accounts):
        talker: Account = accounts[0]
        yield server, GraphQL.walkie_talkie(server, talker), create_room_on_server(server, "channel 1")


def _clip(size: int) -> str:
    prefix = "data:audio/wav;base64,"
    return prefix + "A" * (size - len(prefix))


def test_clip_at_the_limit_is_relayed(world: tuple[RunningServer, GraphQL, str]) -> None:
    _, client, room_id = world
    clip = _clip(LIMIT)
    segment = client.data(CREATE_AUDIO_SEGMENT_APOLLO, {"roomId": room_id, "data": clip})[
        "createAudioSegment"
    ]
    assert segment["data"] == clip


def test_clip_over_240_kb_is_validation_error(world: tuple[RunningServer, GraphQL, str]) -> None:
    _, client, room_id = world
    body = client.execute(CREATE_AUDIO_SEGMENT_APOLLO, {"roomId": room_id, "data": _clip(LIMIT + 1)})
    assert body["data"] == {"createAudioSegment": None}
    (error,) = body["errors"]
    assert error["errorType"] == "ValidationException"
    assert "240 KB" in error["message"]


def test_clip_for_unknown_room_is_not_found(world: tuple[RunningServer, GraphQL, str]) -> None:
    _, client, _ = world
    error = client.error(CREATE_AUDIO_SEGMENT_APOLLO, {"roomId": "no-such-room", "data": _clip(100)})
    assert error["errorType"] == "NotFound"


def test_clips_are_not_stored_as_messages(world: tuple[RunningServer, GraphQL, str]) -> None:
    _, client, room_id = world
    client.data(CREATE_AUDIO_SEGMENT_APOLLO, {"roomId": room_id, "data": _clip(1000)})
    assert client.messages(room_id) == []
