"""The walkie-talkie seed's own client library, aws-appsync 1.8.1 (Apollo 2, Paho over MQTT 3.1 on WebSocket),
configured as the seed's appsyncClient.ts but pointed at chatserver: it lists rooms, subscribes, hears the clips
another user records, and disconnects when it unsubscribes.

The script is tests/node_appsync/walkie_talkie.mjs; its packages are pinned by tests/node_appsync/package-lock.json.
"""

from __future__ import annotations

import base64
import io
import math
import struct
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import (
    CREATE_AUDIO_SEGMENT_APOLLO,
    Account,
    GraphQL,
    create_room_on_server,
    server_with_accounts,
)
from tests.node_clients import NodeScript, node_package
from tests.server import RunningServer

WAIT_SECONDS = 30.0


def _clip(tone_hz: float) -> str:
    """A 250 ms 16-bit mono WAV as the seed's recorder sends it: a data URI."""
    rate = 16_000
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * tone_hz * n / rate))) for n in range(rate // 4)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return "data:audio/wav;base64," + base64.b64encode(buffer.getvalue()).decode()


def _until(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def node_appsync() -> Path:
    return node_package("node_appsync")


@pytest.fixture(scope="module")
def walkie(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, list[Account]]]:
    with server_with_accounts(tmp_path_factory.mktemp("appsync-1x") / "data", "alice", "bob") as started:
        yield started


def test_mqtt_aws_appsync_1x_client_relays_audio_segments(
    walkie: tuple[RunningServer, list[Account]], node_appsync: Path
) -> None:
    server, (alice, bob) = walkie
    room = create_room_on_server(server, "push-to-talk")
    engine = server.app.state.services.realtime
    config = {"url": f"{server.url}/graphql", "roomId": room, "count": 2, "lingerMs": 20_000}
    client = NodeScript(
        node_appsync, "walkie_talkie.mjs", config, {"CHATSERVER_TOKEN": alice.tokens.id_token}
    )
    try:
        rooms = client.expect("rooms")["rooms"]
        assert {"id": room, "__typename": "Room"} in rooms
        client.expect("subscribed")
        client.expect("connected")
        _until(lambda: engine.hub.size == 1, "the MQTT subscription to register")
        connections = engine.connection_count

        bob_talks = GraphQL.walkie_talkie(server, bob)
        clips = [_clip(440.0), _clip(660.0)]
        sent = [
            bob_talks.data(CREATE_AUDIO_SEGMENT_APOLLO, {"roomId": room, "data": c})["createAudioSegment"]
            for c in clips
        ]

        for created in sent:
            segment = client.expect("data")["data"]["onCreateAudioSegment"]
            assert segment == {**created, "__typename": "AudioSegment"}
            assert segment["userId"] == bob.sub
        assert [s["data"] for s in sent] == clips

        client.expect("unsubscribed")
        # Paho DISCONNECTs the connection of the last observer: the server drops it while the client lives on.
        _until(lambda: engine.connection_count == connections - 1, "the MQTT connection to end")
        assert engine.hub.size == 0
        assert client.running  # it was the DISCONNECT, not the end of the process
    finally:
        client.stop()
